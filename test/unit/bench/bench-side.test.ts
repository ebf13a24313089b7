import { describe, expect, it } from 'vitest';
import { saturatedUtilization } from '../../../lib/bench/bench-side';

const W = 6_000;
const T0 = 1_800_000_000_000; // a multiple of 6 s

describe('saturatedUtilization', () => {
  it('averages every window before the last one against the budget', () => {
    const windows = [
      { startMs: T0, calls: 100 },
      { startMs: T0 + W, calls: 90 },
      { startMs: T0 + 2 * W, calls: 40 },
    ];
    expect(saturatedUtilization(windows, T0 + 20, W, 100)).toStrictEqual({
      value: 0.95,
      windows: 2,
    });
  });

  it('counts a window without calls in the middle of the run as zero', () => {
    const windows = [
      { startMs: T0, calls: 100 },
      { startMs: T0 + 2 * W, calls: 100 },
      { startMs: T0 + 3 * W, calls: 10 },
    ];
    expect(saturatedUtilization(windows, T0, W, 100).value).toBeCloseTo(2 / 3);
  });

  it('ignores windows from before the run and has no figure for a one-window run', () => {
    const windows = [
      { startMs: T0 - W, calls: 100 },
      { startMs: T0, calls: 50 },
    ];
    expect(saturatedUtilization(windows, T0, W, 100)).toStrictEqual({
      value: undefined,
      windows: 0,
    });
  });
});
