import type { Connection } from '../config';
import type { RateLimitInfo } from '../zoho';

/** What a Zoho response told us, fed back to the limiter when a permit is released. */
export interface CallResult {
  /** Absent when no HTTP answer arrived (timeout, dropped connection). */
  readonly httpStatus?: number;
  /** Zoho's body `code`, when the call failed with one (e.g. 1070 for too many in flight). */
  readonly zohoCode?: number | string;
  readonly rateLimit?: RateLimitInfo;
  /**
   * The call was never made (the work ended before it, or the permit grew too old to use): its
   * slot and daily count are given back to the organization.
   */
  readonly unused?: boolean;
}

/** What the limiter concluded from a finished call. */
export interface ReleaseOutcome {
  /**
   * Set when the call was refused by Zoho for its limits (HTTP 429): how long until the budget
   * frees again (the end of the window it spent, or Zoho's daily reset). The caller defers by
   * this much instead of the error table's generic wait.
   */
  readonly retryAfterMs?: number;
}

/** Permission for one Zoho Books call; release it exactly once when the call has finished. */
export interface RequestPermit {
  /**
   * The request must be sent by then (epoch ms, the limiter's clock): the budget counted the call
   * as reaching Zoho no later than a margin after the grant. Past it, release it `unused` and
   * acquire again.
   */
  readonly usableUntilMs: number;
  /** Never throws: a failed release only leaves a lease to expire. */
  release(result: CallResult): Promise<ReleaseOutcome>;
}

/**
 * Reserves budget (per-minute window, concurrent-call slot, daily quota) before a Zoho Books
 * call. When no budget is left it throws a `defer` error carrying `retryAfterMs`; it never
 * sleeps. The one implementation lives in lib/limits; nothing else computes rate limits.
 */
export interface AcquireOptions {
  /**
   * `precheck` only: the caller asks whether a call could go, and a refusal defers nothing (a
   * batch deciding which records to read along), so it books no turn for a deferral.
   */
  readonly probe?: boolean;
  /**
   * Part of the organization's window budget this call may use, 0..1: it is granted only while
   * fewer than `share * rateLimit.requests` calls are in the current window, so lower-priority
   * work (a backfill) leaves the rest to live changes. @default 1
   */
  readonly share?: number;
}

export interface RequestLimiter {
  acquire(connection: Connection, options?: AcquireOptions): Promise<RequestPermit>;
  /**
   * Throws the same `defer` error `acquire` would when this container already knows, without
   * any I/O, that the budget is spent (the window is full, the day's quota is used up). Called
   * before a sync starts so that work which cannot reach Books now does not spend CRM calls.
   */
  precheck?(connection: Connection, options?: AcquireOptions): void;
}

/** The same limiter, asking for at most `share` of each window's budget on every call. */
export const withShare = (limiter: RequestLimiter, share: number): RequestLimiter => ({
  acquire: (connection) => limiter.acquire(connection, { share }),
  ...(limiter.precheck === undefined
    ? {}
    : {
        precheck: (connection, options) => limiter.precheck?.(connection, { ...options, share }),
      }),
});
