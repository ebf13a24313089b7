import { ENV } from '../config';
import type { FailureDescription } from '../failures/describe-failure';
import { isBudgetExhaustedError } from '../limits/errors';
import { isZohoApiError } from '../zoho';
import type { SyncMessage } from './sync-message';

/** What most likely kept a message waiting, judged from the reason of its last deferral. */
export type DeferralCause = 'daily-limit' | 'shared-rate-limit' | 'other';

const DAILY_ENTRIES = new Set(['books-45', 'crm-limit-exceeded', 'crm-limit-exceeded-400']);
const RATE_ENTRIES = new Set(['books-44', 'books-1070', 'http-429', 'crm-too-many-requests']);

/** Reads the cause from the error that deferred the message (the limiter's or Zoho's). */
export const deferralCauseOf = (error: unknown): DeferralCause => {
  if (isBudgetExhaustedError(error)) {
    return error.budget === 'daily-quota' ? 'daily-limit' : 'shared-rate-limit';
  }
  if (isZohoApiError(error)) {
    if (DAILY_ENTRIES.has(error.entry.id)) return 'daily-limit';
    if (RATE_ENTRIES.has(error.entry.id)) return 'shared-rate-limit';
  }
  return 'other';
};

const LIKELY_CAUSE: Record<DeferralCause, { readonly meaning: string; readonly fix: string }> = {
  'daily-limit': {
    meaning:
      "the Books organization's daily API limit ran out day after day: the plan's daily limit is too small for this many changes, or another integration spends the same organization's daily calls (Zoho counts every app's calls together)",
    fix: "Compare the organization's API usage in Zoho Books with the plan's daily limit: upgrade the plan (and set dailyLimit in the connection secret {secretId}), or cut the other integration's calls. Then redrive this message.",
  },
  'shared-rate-limit': {
    meaning:
      "the Books organization's per-minute or concurrent-call budget kept running out: most likely another integration (or a second zoho-sync) uses the same organization's budget, which Zoho counts for every app together",
    fix: 'Find the other integration calling this Books organization and cut its calls, or give zoho-sync a smaller share (rateLimit.requests, maxConcurrency in the connection secret {secretId}) so both fit. Then redrive this message.',
  },
  other: {
    meaning: 'the reason of its last deferral never went away',
    fix: 'Read the last deferral reason above and the logs for the correlation id; fix what keeps it waiting, then redrive this message.',
  },
};

/**
 * The failure that ends a message's deferrals when it has been deferred for `maxAgeMs` or
 * longer since its first deferral; undefined while it may wait on. Its `action` is
 * `fail-alert`, so the outcome handler dead-letters it with one alert like any other failure.
 */
export const expiredDeferral = (
  message: Pick<SyncMessage, 'firstDeferredAtMs' | 'deferrals'>,
  lastFailure: FailureDescription,
  cause: DeferralCause,
  nowMs: number,
  maxAgeMs: number,
): FailureDescription | undefined => {
  if (message.firstDeferredAtMs === undefined) return undefined;
  const ageMs = nowMs - message.firstDeferredAtMs;
  if (ageMs < maxAgeMs) return undefined;
  const hours = Math.round((ageMs / 3_600_000) * 10) / 10;
  const likely = LIKELY_CAUSE[cause];
  return {
    entryId: 'sync-deferral-expired',
    action: 'fail-alert',
    title: 'Deferred too long',
    meaning: `The message was deferred ${message.deferrals} time(s) over ${hours} h (the limit is ${Math.round(maxAgeMs / 360_000) / 10} h, ${ENV.maxDeferralAgeHours}); last reason: ${lastFailure.title} (${lastFailure.zohoCode ?? lastFailure.httpStatus ?? lastFailure.entryId}). Likely cause: ${likely.meaning}.`,
    fix: likely.fix,
    scope: 'record',
    unknown: false,
  };
};
