import type { RequestLimiter } from './request-limiter';

/** A limiter that never limits: for tests of code paths that are not about budgets. */
export const unlimitedLimiter: RequestLimiter = {
  acquire: async () => ({ release: async () => ({}) }),
};
