import { setTimeout as sleep } from 'node:timers/promises';
import type { RequestLimiter } from '../limits';
import type { BooksClient } from '../zoho';
import { isZohoApiError } from '../zoho';

/**
 * The naive baseline's Books client: the same calls, retried after a fixed pause whenever Zoho
 * answers 429, as a client without a budget does ("sleep a second and try again"). Benchmark
 * only: zoho-sync itself never sleeps on a rate limit.
 */
export const withNaiveRetryOn429 = (
  books: BooksClient,
  options: { readonly pauseMs: number; readonly maxAttempts: number },
): BooksClient => {
  const retrying =
    <Args extends unknown[], Result>(call: (...args: Args) => Promise<Result>) =>
    async (...args: Args): Promise<Result> => {
      for (let attempt = 1; ; attempt += 1) {
        try {
          return await call(...args);
        } catch (error) {
          if (
            !isZohoApiError(error) ||
            error.httpStatus !== 429 ||
            attempt >= options.maxAttempts
          ) {
            throw error;
          }
          await sleep(options.pauseMs);
        }
      }
    };
  const wrapped: Record<string, unknown> = {};
  for (const [name, value] of Object.entries(books)) {
    wrapped[name] =
      typeof value === 'function'
        ? retrying((...args: unknown[]) =>
            (value as (...a: unknown[]) => Promise<unknown>).apply(books, args),
          )
        : value;
  }
  return wrapped as unknown as BooksClient;
};

/** The naive baseline's limiter: it lets every call through, as a client without a budget. */
export const naiveNoLimiter: RequestLimiter = {
  acquire: async () => ({ usableUntilMs: Number.POSITIVE_INFINITY, release: async () => ({}) }),
};
