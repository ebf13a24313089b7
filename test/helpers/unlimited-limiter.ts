import type { RequestLimiter } from '../../lib/limits';

/** A limiter that never limits: for tests of code paths that are not about budgets. */
export const unlimitedLimiter: RequestLimiter = {
  acquire: async () => ({ usableUntilMs: Number.POSITIVE_INFINITY, release: async () => ({}) }),
};
