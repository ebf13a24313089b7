import type { Connection } from '../config';
import type { AcquireOptions, RequestLimiter, RequestPermit } from './request-limiter';

/** A limiter that hands out one permit acquired in advance before asking its own limiter. */
export interface ReservedPermitLimiter extends RequestLimiter {
  /** Gives the reserved permit back if no call used it. Never throws. */
  giveBackUnused(): Promise<void>;
}

/**
 * Lets work take its first Books permit before the CRM read that precedes the Books call, so
 * that no CRM call is spent on work that cannot reach Books now: the permit comes from the
 * shared budget (a refusal defers the work before anything is read), and its in-flight place
 * covers the CRM read too, which keeps the organization's CRM reads within `maxConcurrency`
 * (at most CRM's own concurrency limit, 5 on the Free edition, zoho-crm-api.md §6).
 *
 * The first Books call of the work gets the reserved permit, unless it has grown too old to use
 * (`usableUntilMs`): then it is given back and a fresh one acquired. Later calls acquire as usual.
 */
export const reservePermit = (
  limiter: RequestLimiter,
  permit: RequestPermit,
  now: () => number,
): ReservedPermitLimiter => {
  let reserved: RequestPermit | undefined = permit;
  const take = (): RequestPermit | undefined => {
    const taken = reserved;
    reserved = undefined;
    return taken;
  };
  return {
    async acquire(connection: Connection, options?: AcquireOptions) {
      const taken = take();
      if (taken !== undefined && now() <= taken.usableUntilMs) return taken;
      if (taken !== undefined) await taken.release({ unused: true });
      return limiter.acquire(connection, options);
    },
    precheck(connection, options) {
      limiter.precheck?.(connection, options);
    },
    async giveBackUnused() {
      await take()?.release({ unused: true });
    },
  };
};
