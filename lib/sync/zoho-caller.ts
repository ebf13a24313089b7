import type { AccessTokenRecord, Connection } from '../config';
import { InvocationDeadlineError } from '../failures/errors';
import type { RequestLimiter } from '../limits/request-limiter';
import type { Logger } from '../observability';
import type { TokenStore } from '../tokens/token-store';
import { isZohoApiError, type RateLimitInfo, ZohoApiError } from '../zoho';

export interface ZohoTarget {
  readonly apiDomain: string;
  readonly accessToken: string;
  readonly organizationId: string;
}

export interface ZohoCallerDeps {
  readonly tokens: TokenStore;
  /**
   * The Books request budget; Books calls throw without it. Callers that only read CRM
   * (channel renewal, the reconciliation sweep) leave it out.
   */
  readonly limiter?: RequestLimiter;
  readonly logger: Logger;
  /**
   * Milliseconds the invocation has left (Lambda's `getRemainingTimeInMillis`); absent when
   * nothing stops the caller.
   */
  readonly remainingTimeMs?: () => number;
  /**
   * No Zoho call starts with less time left than this: one Zoho timeout plus the deferral's
   * own writes. @default DEFAULT_CALL_RESERVE_MS
   */
  readonly callReserveMs?: number;
}

/** A Zoho call (10 s timeout) and the SQS send that defers the work (5 s timeout). */
export const DEFAULT_CALL_RESERVE_MS = 15_000;

/**
 * Throws {@link InvocationDeadlineError} (`defer`) when the invocation has too little time left
 * for one more Zoho call and the deferral after it.
 */
export const assertTimeForCall = (
  deps: Pick<ZohoCallerDeps, 'remainingTimeMs' | 'callReserveMs'>,
): void => {
  if (deps.remainingTimeMs === undefined) return;
  const reserveMs = deps.callReserveMs ?? DEFAULT_CALL_RESERVE_MS;
  const remainingMs = deps.remainingTimeMs();
  if (remainingMs < reserveMs) throw new InvocationDeadlineError(remainingMs, reserveMs);
};

export type ZohoService = 'books' | 'crm';

/**
 * Makes one Zoho call for a connection: reserves Books budget first, uses the current access
 * token at its api_domain, feeds the response's rate-limit headers back to the limiter, and on
 * an invalid-token answer (57 / INVALID_TOKEN) refreshes once (single-flight in the token
 * store) and replays once. A second rejection propagates: it is an alertable failure, not a
 * loop. This is the only place a Zoho call is repeated.
 */
export const callZoho = async <T extends { readonly rateLimit?: RateLimitInfo }>(
  deps: ZohoCallerDeps,
  connection: Connection,
  service: ZohoService,
  call: (target: ZohoTarget) => Promise<T>,
): Promise<T> => {
  // Before the token too: a refresh is a Zoho call of its own.
  assertTimeForCall(deps);
  const used: { token?: AccessTokenRecord } = {};
  const currentToken = async () => {
    used.token = await deps.tokens.getAccessToken(connection);
    return used.token;
  };
  try {
    return await attempt(deps, connection, service, currentToken, used, call);
  } catch (error) {
    const rejected = used.token;
    if (
      !isZohoApiError(error) ||
      error.disposition !== 'refresh-token-and-retry' ||
      rejected === undefined
    ) {
      throw error;
    }
    deps.logger.warn('zoho rejected the access token; refreshing once', {
      connection_id: connection.connectionId,
      zoho_code: error.zohoCode,
    });
    const refreshed = await deps.tokens.refreshAfterRejection(connection, rejected);
    return attempt(deps, connection, service, async () => refreshed, {}, call);
  }
};

const targetOf = (connection: Connection, token: AccessTokenRecord): ZohoTarget => ({
  apiDomain: token.apiDomain,
  accessToken: token.accessToken,
  organizationId: connection.booksOrganizationId,
});

const attempt = async <T extends { readonly rateLimit?: RateLimitInfo }>(
  deps: ZohoCallerDeps,
  connection: Connection,
  service: ZohoService,
  getToken: () => Promise<AccessTokenRecord>,
  used: { token?: AccessTokenRecord },
  call: (target: ZohoTarget) => Promise<T>,
): Promise<T> => {
  assertTimeForCall(deps);
  // CRM calls spend CRM credits, a separate pool from the Books budget (reference §5).
  if (service === 'crm') return call(targetOf(connection, await getToken()));
  if (deps.limiter === undefined) throw new Error('a Zoho Books call needs the request limiter');
  const permit = await deps.limiter.acquire(connection);
  let token: AccessTokenRecord;
  try {
    // Taken after the wait for a slot, which another container's 401 may have outlived.
    token = await getToken();
  } catch (error) {
    await permit.release({});
    throw error;
  }
  used.token = token;
  try {
    const result = await call(targetOf(connection, token));
    await permit.release({ httpStatus: 200, rateLimit: result.rateLimit });
    return result;
  } catch (error) {
    if (!isZohoApiError(error)) {
      await permit.release({});
      throw error;
    }
    // Before the slot is freed: no call may start with a token Zoho has just rejected.
    if (error.disposition === 'refresh-token-and-retry') {
      await deps.tokens.reportRejected(connection, token);
    }
    const outcome = await permit.release({
      httpStatus: error.httpStatus,
      zohoCode: error.zohoCode,
      rateLimit: error.rateLimit,
    });
    // After a 429 the limiter knows when the budget frees (the window's end, Zoho's daily
    // reset); that beats the error table's generic wait.
    if (outcome.retryAfterMs !== undefined && error.disposition === 'defer') {
      throw withRetryAfter(error, outcome.retryAfterMs);
    }
    throw error;
  }
};

/** The same Zoho failure, deferred by `retryAfterMs` instead of the error table's wait. */
const withRetryAfter = (error: ZohoApiError, retryAfterMs: number): ZohoApiError =>
  new ZohoApiError({
    service: error.service,
    method: error.method,
    endpoint: error.endpoint,
    entry: error.entry,
    unknown: error.unknown,
    httpStatus: error.httpStatus,
    zohoCode: error.zohoCode,
    zohoMessage: error.zohoMessage,
    rateLimit: error.rateLimit,
    networkFailure: error.networkFailure,
    retryAfterMs,
    cause: error.cause,
  });
