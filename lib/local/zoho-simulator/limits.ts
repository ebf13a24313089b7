/**
 * Zoho Books' limits per organization (reference zoho-books-api.md §5): a request window
 * (100 per minute by default; sliding or fixed at some offset, see `SimulatedMinute`), a daily
 * quota by plan, and a cap on in-flight calls.
 */
import { booksErrors } from './books-errors';
import type { SimResponse } from './http-io';
import type { OrgState } from './state';
import { countWindowCall } from './stats';

const DAY_MS = 86_400_000;

export type LimitRejection = 'daily' | 'window' | 'concurrency';

/** Start of the fixed window containing `nowMs`: `offsetMs + k * windowMs`. */
export const fixedWindowStart = (nowMs: number, windowMs: number, offsetMs: number): number =>
  Math.floor((nowMs - offsetMs) / windowMs) * windowMs + offsetMs;

/**
 * Moves the counters to the window and day containing `nowMs`. A fixed minute keeps one counter
 * per window `[offset + k*W, offset + (k+1)*W)`; a sliding one keeps the call times of the last
 * `W` ms and counts those in `(nowMs - W, nowMs]`. The day is the UTC day: when Zoho resets the
 * daily counter is not documented (reference §5), UTC midnight is our choice.
 */
const roll = (org: OrgState, nowMs: number): void => {
  const limits = org.limits;
  const windowMs = org.windowSeconds * 1000;
  if (org.minute.kind === 'sliding') {
    const recent = limits.recentCalls;
    let expired = 0;
    while (expired < recent.length && (recent[expired] ?? 0) <= nowMs - windowMs) expired += 1;
    if (expired > 0) recent.splice(0, expired);
    limits.windowStartMs = nowMs - windowMs;
    limits.windowCalls = recent.length;
  } else {
    const windowStartMs = fixedWindowStart(nowMs, windowMs, org.minute.offsetMs);
    if (limits.windowStartMs !== windowStartMs) {
      limits.windowStartMs = windowStartMs;
      limits.windowCalls = 0;
    }
  }
  const dayIndex = Math.floor(nowMs / DAY_MS);
  if (limits.dayIndex !== dayIndex) {
    limits.dayIndex = dayIndex;
    limits.dayCalls = 0;
  }
};

/**
 * Which limit (if any) turns this call away. The spent daily quota is checked first (it lasts
 * longest), then the window, then concurrency.
 */
export const checkLimits = (org: OrgState, nowMs: number): LimitRejection | undefined => {
  roll(org, nowMs);
  const limits = org.limits;
  if (limits.dayCalls >= org.dailyLimit) return 'daily';
  if (limits.windowCalls >= org.requestsPerWindow) return 'window';
  if (limits.inFlight >= org.maxConcurrency) return 'concurrency';
  return undefined;
};

export const rejectionResponse = (org: OrgState, rejection: LimitRejection): SimResponse => {
  switch (rejection) {
    case 'daily':
      return booksErrors.dailyLimit(org.dailyLimit);
    case 'window':
      return booksErrors.windowLimit();
    case 'concurrency':
      return booksErrors.concurrencyLimit();
  }
};

/**
 * Starts an admitted call: it is in flight until the returned release runs (once, when the
 * response is sent or the connection closes). A call that `consumesQuota` counts against the
 * window and the day. Calls turned away with 429 never get here, so they consume nothing: Zoho
 * does not document it, but a counted rejection would keep a retrying client locked out.
 */
export const enterCall = (org: OrgState, nowMs: number, consumesQuota: boolean): (() => void) => {
  roll(org, nowMs);
  const limits = org.limits;
  limits.inFlight += 1;
  org.stats.maxInFlightObserved = Math.max(org.stats.maxInFlightObserved, limits.inFlight);
  if (consumesQuota) {
    limits.windowCalls += 1;
    limits.dayCalls += 1;
    if (org.minute.kind === 'sliding') limits.recentCalls.push(nowMs);
    countWindowCall(org, limits.windowStartMs, nowMs, org.minute.kind === 'sliding');
  }
  let released = false;
  return () => {
    if (released) return;
    released = true;
    limits.inFlight -= 1;
  };
};

/**
 * The daily allowance headers Books has sent since December 2019 (reference §3, unconfirmed:
 * reported in Weble/ZohoBooksApi#38): limit, remaining and seconds until the daily reset.
 */
export const rateLimitHeaders = (org: OrgState, nowMs: number): Record<string, string> => {
  roll(org, nowMs);
  const resetMs = (org.limits.dayIndex + 1) * DAY_MS - nowMs;
  return {
    'X-Rate-Limit-Limit': String(org.dailyLimit),
    'X-Rate-Limit-Remaining': String(Math.max(0, org.dailyLimit - org.limits.dayCalls)),
    'X-Rate-Limit-Reset': String(Math.ceil(resetMs / 1000)),
  };
};
