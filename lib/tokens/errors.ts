import { ZohoSyncError } from '../errors';

/** Why a token refresh was put off. */
export type TokenRefreshDeferReason =
  /** Another worker holds the refresh lease and no new token appeared while we waited. */
  | 'refresh-in-progress'
  /** The connection's refresh budget (about 8 per 10 minutes) is spent. */
  | 'refresh-budget-spent'
  /** Zoho answered "Access Denied" recently; no refresh until its window has passed. */
  | 'refresh-blocked';

const REASON_TEXT: Record<TokenRefreshDeferReason, string> = {
  'refresh-in-progress': 'another worker is refreshing it',
  'refresh-budget-spent': 'the refresh budget of 10 minutes is spent',
  'refresh-blocked': 'Zoho refused token requests (Access Denied) for a while',
};

/**
 * Thrown by the token store when no usable access token exists and none may be fetched now.
 * Its disposition is always `defer`: the work is re-queued after `retryAfterMs`, never failed,
 * because the cause passes by itself. Carries the connection id, never a token.
 */
export class TokenRefreshError extends ZohoSyncError {
  override readonly name = 'TokenRefreshError';
  readonly connectionId: string;
  readonly reason: TokenRefreshDeferReason;

  constructor(connectionId: string, reason: TokenRefreshDeferReason, retryAfterMs: number) {
    super(`access token of connection ${connectionId} not refreshed: ${REASON_TEXT[reason]}`, {
      disposition: 'defer',
      retryAfterMs,
    });
    this.connectionId = connectionId;
    this.reason = reason;
  }
}
