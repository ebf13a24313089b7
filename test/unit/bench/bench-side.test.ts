import { describe, expect, it } from 'vitest';
import { benchClockSkewMs, slotReuseUtilization } from '../../../lib/bench/bench-side';

const W = 6_000;
const T0 = 1_800_000_000_000;

/** `count` calls at `atMs`, `atMs + stepMs`, ... */
const burst = (atMs: number, count: number, stepMs = 10): number[] =>
  Array.from({ length: count }, (_, index) => atMs + index * stepMs);

describe('slotReuseUtilization', () => {
  it('is 1 when every slot is used again exactly a window later, wherever the run starts', () => {
    const calls = [
      ...burst(T0 + 1_234, 4),
      ...burst(T0 + 1_234 + W, 4),
      ...burst(T0 + 1_234 + 2 * W, 2),
    ];
    expect(slotReuseUtilization(calls, W, 4)).toStrictEqual({ value: 1, reusedSlots: 6 });
  });

  it('falls by the time a freed slot waited for a caller', () => {
    // The second burst comes 1.5 s after its slots freed: each gap is 7.5 s.
    const calls = [...burst(T0, 4), ...burst(T0 + W + 1_500, 4)];
    expect(slotReuseUtilization(calls, W, 4).value).toBeCloseTo(6 / 7.5);
  });

  it('counts a straggler a window late in the mean gap', () => {
    const calls = [...burst(T0, 4), ...burst(T0 + W, 3), T0 + 2 * W + 30];
    // Gaps: 6 s, 6 s, 6 s and 12 s.
    expect(slotReuseUtilization(calls, W, 4).value).toBeCloseTo(6 / 7.5);
  });

  it('has no figure when no slot was used twice', () => {
    expect(slotReuseUtilization(burst(T0, 4), W, 4)).toStrictEqual({
      value: undefined,
      reusedSlots: 0,
    });
  });
});

describe('benchClockSkewMs', () => {
  it("keeps the production margin's share of the window (200 ms of 60 s)", () => {
    expect(benchClockSkewMs(60)).toBe(200);
    expect(benchClockSkewMs(6)).toBe(20);
  });
});
