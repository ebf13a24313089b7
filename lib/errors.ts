/**
 * What the sync does with a failure. The error table (lib/zoho/error-table.ts) decides it for
 * Zoho failures; the worker's outcome handler (lib/sync) is the one place that acts on it.
 * - `refresh-token-and-retry`: single-flight token refresh, then one replay.
 * - `defer`: a delay, not a failure (rate limit, concurrency, daily quota).
 * - `backoff`: transient; retry later with growing delays, bounded attempts, then dead-letter.
 * - `fail-alert`: no retry; dead-letter and alert an admin.
 * - `fail-quiet`: no retry and nothing to tell an admin (e.g. the record no longer exists).
 */
export const Disposition = {
  refreshTokenAndRetry: 'refresh-token-and-retry',
  defer: 'defer',
  backoff: 'backoff',
  failAlert: 'fail-alert',
  failQuiet: 'fail-quiet',
} as const;

export type Disposition = (typeof Disposition)[keyof typeof Disposition];

export interface ZohoSyncErrorOptions extends ErrorOptions {
  readonly disposition: Disposition;
  readonly retryAfterMs?: number;
}

/**
 * Base of every error zoho-sync throws on purpose. Carries safe context only: never a token,
 * secret or whole payload.
 */
export class ZohoSyncError extends Error {
  override readonly name: string = 'ZohoSyncError';
  readonly disposition: Disposition;
  readonly retryAfterMs: number | undefined;

  constructor(message: string, options: ZohoSyncErrorOptions) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.disposition = options.disposition;
    this.retryAfterMs = options.retryAfterMs;
  }
}

export const isZohoSyncError = (error: unknown): error is ZohoSyncError =>
  error instanceof ZohoSyncError;
