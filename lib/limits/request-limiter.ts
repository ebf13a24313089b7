import type { Connection } from '../config';
import type { RateLimitInfo } from '../zoho';

/** What a Zoho response told us, fed back to the limiter when a permit is released. */
export interface CallResult {
  readonly httpStatus?: number;
  readonly rateLimit?: RateLimitInfo;
}

/** Permission for one Zoho Books call; release it exactly once when the call has finished. */
export interface RequestPermit {
  release(result: CallResult): Promise<void>;
}

/**
 * Reserves budget (per-minute window, concurrent-call slot, daily quota) before a Zoho Books
 * call. When no budget is left it throws a `defer` error carrying `retryAfterMs`; it never
 * sleeps. The one implementation lives in lib/limits; nothing else computes rate limits.
 */
export interface RequestLimiter {
  acquire(connection: Connection): Promise<RequestPermit>;
}
