import { describe, expect, it } from 'vitest';
import { pollDelaysMs } from '../../../lib/tokens/poll-delays';

describe('poll-delays', () => {
  it('doubles from 100 ms to 1 s and stops within the total wait when jitter is off', () => {
    expect(pollDelaysMs(5_000, () => 0.999_999)).toStrictEqual([
      100, 200, 400, 800, 1000, 1000, 1000,
    ]);
  });

  it.each([0, 0.25, 0.5, 0.999_999])('never waits longer than the total (random %s)', (value) => {
    const delays = pollDelaysMs(5_000, () => value);
    expect(delays.reduce((sum, ms) => sum + ms, 0)).toBeLessThanOrEqual(5_000);
    expect(delays.length).toBeGreaterThan(4);
    for (const delay of delays) expect(delay).toBeGreaterThan(0);
  });

  it('halves each pause at most when random is 0', () => {
    expect(pollDelaysMs(1_000, () => 0)).toStrictEqual([50, 100, 200, 400]);
  });

  it('waits not at all when the total is 0', () => {
    expect(pollDelaysMs(0, () => 0.5)).toStrictEqual([]);
  });
});
