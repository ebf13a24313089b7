const FIRST_DELAY_MS = 100;
const MAX_DELAY_MS = 1000;

/**
 * The pauses of a worker waiting for another worker's token refresh: 100 ms doubling to 1 s,
 * each cut by up to half at random so that waiting containers do not read the secret in step,
 * and summing to at most `maxWaitMs`. Pure: `random` returns a number in [0, 1).
 */
export const pollDelaysMs = (maxWaitMs: number, random: () => number): number[] => {
  const delays: number[] = [];
  let totalMs = 0;
  for (let step = 0; ; step += 1) {
    const nominalMs = Math.min(MAX_DELAY_MS, FIRST_DELAY_MS * 2 ** step);
    const delayMs = Math.max(1, Math.round(nominalMs * (0.5 + random() / 2)));
    if (totalMs + delayMs > maxWaitMs) return delays;
    delays.push(delayMs);
    totalMs += delayMs;
  }
};
