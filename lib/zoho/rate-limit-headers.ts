/**
 * What Zoho's rate-limit headers said about one response. Every field is optional: Zoho does not
 * document these headers, so the limiter and the daily-quota module must work without them.
 */
export interface RateLimitInfo {
  /** Calls allowed in the window (Books: the daily allowance, e.g. 7500). */
  readonly limit?: number;
  /** Calls left in the window. */
  readonly remaining?: number;
  /**
   * Seconds until the window resets (Books: until the daily counter resets), at most
   * {@link MAX_ZOHO_WAIT_SECONDS}.
   */
  readonly resetSeconds?: number;
  /** The reset as an epoch-ms instant, when Zoho sent the reset header as epoch seconds. */
  readonly resetAtEpochMs?: number;
  /** `Retry-After` in seconds, when Zoho sent the delta-seconds form; at most a day and an hour. */
  readonly retryAfterSeconds?: number;
  /** `Retry-After` as an epoch-ms instant, when Zoho sent the HTTP-date form. */
  readonly retryAfterEpochMs?: number;
}

// Books sends X-Rate-Limit-* (reported since 2019, zoho-books-api.md §3); CRM is reported to
// send X-RATELIMIT-* (zoho-crm-api.md §6). Headers#get is case-insensitive, so listing both
// spellings covers every casing.
const LIMIT_HEADERS = ['x-rate-limit-limit', 'x-ratelimit-limit'] as const;
const REMAINING_HEADERS = ['x-rate-limit-remaining', 'x-ratelimit-remaining'] as const;
const RESET_HEADERS = ['x-rate-limit-reset', 'x-ratelimit-reset'] as const;

/**
 * The longest wait a Zoho header is believed for: its longest limit is the daily quota, which
 * resets at least once in any 24 hours under every reading (midnight in some time zone, or a
 * rolling day), plus an hour of margin. A longer value is a misread or broken header, and
 * believing it would park work for months. The limiter clamps daily resets further, to the next
 * quota day (lib/limits/budget-calendar.ts).
 */
export const MAX_ZOHO_WAIT_SECONDS = 25 * 3600;

/**
 * A reset header this large is an instant (epoch seconds; this is 2001-09-09), not a duration:
 * Zoho does not document the header, so both readings are handled.
 */
const EPOCH_SECONDS_FROM = 1_000_000_000;

const nonNegativeInteger = (value: string | null): number | undefined => {
  if (value === null) return undefined;
  const trimmed = value.trim();
  return /^\d{1,15}$/.test(trimmed) ? Number(trimmed) : undefined;
};

const firstNumber = (headers: Headers, names: readonly string[]): number | undefined => {
  for (const name of names) {
    const value = nonNegativeInteger(headers.get(name));
    if (value !== undefined) return value;
  }
  return undefined;
};

const parseRetryAfter = (
  value: string | null,
): Pick<RateLimitInfo, 'retryAfterSeconds' | 'retryAfterEpochMs'> => {
  if (value === null) return {};
  const seconds = nonNegativeInteger(value);
  if (seconds !== undefined) return { retryAfterSeconds: Math.min(seconds, MAX_ZOHO_WAIT_SECONDS) };
  // Date.parse reads an HTTP-date without needing a clock; turning it into a delay is left to
  // the caller, which has one.
  const epochMs = Date.parse(value);
  return Number.isNaN(epochMs) ? {} : { retryAfterEpochMs: epochMs };
};

/**
 * Reads Books' `X-Rate-Limit-Limit/Remaining/Reset`, CRM's `X-RATELIMIT-LIMIT/REMAINING/RESET`
 * and `Retry-After`. Returns `undefined` when none is present or readable.
 */
export const parseRateLimitHeaders = (headers: Headers): RateLimitInfo | undefined => {
  const limit = firstNumber(headers, LIMIT_HEADERS);
  const remaining = firstNumber(headers, REMAINING_HEADERS);
  const reset = firstNumber(headers, RESET_HEADERS);
  const info: RateLimitInfo = {
    ...(limit === undefined ? {} : { limit }),
    ...(remaining === undefined ? {} : { remaining }),
    ...(reset === undefined
      ? {}
      : reset >= EPOCH_SECONDS_FROM
        ? { resetAtEpochMs: reset * 1000 }
        : { resetSeconds: Math.min(reset, MAX_ZOHO_WAIT_SECONDS) }),
    ...parseRetryAfter(headers.get('retry-after')),
  };
  return Object.keys(info).length === 0 ? undefined : info;
};
