import { ConfigError } from '../config';

/**
 * Window and day arithmetic of the request budget. Pure: every function takes the instant it
 * reasons about, so tests can pin any moment (a DST change, a half-hour time zone, midnight).
 */

/** One fixed rate-limit window: `[startMs, endMs)`. */
export interface RequestWindow {
  readonly startMs: number;
  readonly endMs: number;
}

/**
 * The fixed window containing `nowMs`. Windows are aligned to whole multiples of
 * `windowSeconds` since the epoch, so with the default 60 s they are calendar minutes, the same
 * in every container without any coordination.
 */
export const requestWindowAt = (nowMs: number, windowSeconds: number): RequestWindow => {
  const windowMs = windowSeconds * 1000;
  const startMs = Math.floor(nowMs / windowMs) * windowMs;
  return { startMs, endMs: startMs + windowMs };
};

/** One quota day in a time zone: its `yyyy-mm-dd` key and the instants it begins and ends. */
export interface QuotaDay {
  readonly key: string;
  readonly startMs: number;
  /** The start of the next quota day: when a spent daily quota is assumed to reset. */
  readonly endMs: number;
}

const dateFormat = (timeZone: string): Intl.DateTimeFormat =>
  new Intl.DateTimeFormat('en-US', {
    timeZone,
    year: 'numeric',
    month: '2-digit',
    day: '2-digit',
  });

/**
 * Checks that `timeZone` is an IANA zone this runtime knows.
 * @throws {ConfigError} naming the zone (the connection's `quotaTimeZone`) otherwise.
 */
export const assertTimeZone = (timeZone: string): void => {
  try {
    dateFormat(timeZone);
  } catch (error) {
    throw new ConfigError(
      `quotaTimeZone "${timeZone}" is not an IANA time zone (e.g. "UTC", "Asia/Kolkata")`,
      { cause: error },
    );
  }
};

interface CivilDate {
  readonly year: number;
  readonly month: number;
  readonly day: number;
}

const civilDateAt = (format: Intl.DateTimeFormat, atMs: number): CivilDate => {
  let year = 0;
  let month = 0;
  let day = 0;
  for (const part of format.formatToParts(atMs)) {
    if (part.type === 'year') year = Number(part.value);
    else if (part.type === 'month') month = Number(part.value);
    else if (part.type === 'day') day = Number(part.value);
  }
  return { year, month, day };
};

/** Days since the epoch of a civil date: comparable, and easy to step by one. */
const dayNumber = (date: CivilDate): number =>
  Date.UTC(date.year, date.month - 1, date.day) / 86_400_000;

const toKey = (date: CivilDate): string =>
  `${String(date.year).padStart(4, '0')}-${String(date.month).padStart(2, '0')}-${String(date.day).padStart(2, '0')}`;

const HOUR_MS = 3_600_000;

/**
 * The first instant whose civil date in the zone is `targetDay` (a day number) or later.
 * Civil dates only move forward, so a binary search over a window wide enough for any UTC
 * offset (-12 h to +14 h) finds it, whatever the DST rules do around midnight (some zones skip
 * from 23:59 to 01:00, Samoa once skipped a whole day). Second precision: zones change offset
 * on whole seconds.
 */
const firstInstantOf = (format: Intl.DateTimeFormat, targetDay: number): number => {
  const utcMidnight = targetDay * 86_400_000;
  let low = utcMidnight - 16 * HOUR_MS; // civil date here is still before targetDay
  let high = utcMidnight + 16 * HOUR_MS; // and here it has reached it
  while (high - low > 1000) {
    const middle = Math.floor((low + high) / 2000) * 1000;
    if (dayNumber(civilDateAt(format, middle)) >= targetDay) high = middle;
    else low = middle;
  }
  return high;
};

/**
 * The quota day containing `nowMs` in `timeZone`.
 *
 * Zoho does not document when the daily API quota resets (UTC midnight, the organization's
 * time zone or a rolling 24 h; zoho-books-api.md §5). zoho-sync assumes midnight in the
 * connection's `quotaTimeZone`, UTC unless configured, and corrects itself from Zoho's
 * `X-Rate-Limit-Reset` header where Zoho sends one.
 * @throws {ConfigError} when the time zone is unknown.
 */
export const quotaDayAt = (nowMs: number, timeZone: string): QuotaDay => {
  assertTimeZone(timeZone);
  const format = dateFormat(timeZone);
  const today = civilDateAt(format, nowMs);
  const todayNumber = dayNumber(today);
  return {
    key: toKey(today),
    startMs: firstInstantOf(format, todayNumber),
    endMs: firstInstantOf(format, todayNumber + 1),
  };
};

/**
 * How far past the next quota day's start a reset named by Zoho is still believed: the clock
 * difference between Zoho and us, and a zone's DST hour.
 */
export const QUOTA_RESET_MARGIN_MS = HOUR_MS;

/**
 * A daily reset instant read from Zoho's headers, clamped: never before `nowMs`, never later
 * than the start of the next quota day (`day.endMs`) plus a margin. If Zoho's day really ends
 * later (it resets at midnight of another time zone than `quotaTimeZone`), the work comes back
 * early, one call is refused and the next header is read within the next quota day: a few
 * calls a day lost, never a day of work held back by a header misread or misconfigured.
 */
export const clampQuotaResetMs = (
  resetAtMs: number,
  nowMs: number,
  day: Pick<QuotaDay, 'endMs'>,
  marginMs: number = QUOTA_RESET_MARGIN_MS,
): number => Math.max(nowMs, Math.min(resetAtMs, day.endMs + marginMs));
