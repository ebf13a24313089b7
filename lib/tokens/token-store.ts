import type { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import type { SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import type { AccessTokenRecord, Connection } from '../config';
import { crashPoint } from '../crash-point';
import type { Logger } from '../observability';
import {
  type AccountsClient,
  findErrorEntry,
  getErrorEntry,
  isZohoApiError,
  ZohoApiError,
  type ZohoErrorId,
} from '../zoho';
import { readAccessTokenSecret, writeAccessTokenSecret } from './access-token-secret';
import { TokenRefreshError } from './errors';
import { pollDelaysMs } from './poll-delays';
import { createRefreshBudget, REFRESH_WINDOW_MS } from './refresh-budget';
import { createRefreshLease } from './refresh-lease';
import { createRefreshStopStore, type RefreshStop } from './refresh-stop';
import { createTokenRejections } from './token-rejections';

/** How long a refresher may hold the lease: one accounts call plus one secret write. */
export const DEFAULT_LEASE_MS = 30_000;
/** How long a worker waits for another worker's refresh before deferring its message. */
export const DEFAULT_MAX_WAIT_MS = 5_000;
/**
 * A token with less than this left is not handed out even when no refresh is possible: a Books
 * call and its one replay must finish before it expires.
 */
const MIN_REMAINING_MS = 60_000;

const ACCESS_DENIED_ROW: ZohoErrorId = 'accounts-access-denied';
const TOKEN_ENDPOINT = '/oauth/v2/token';

export interface TokenStoreDeps {
  readonly secretsManager: SecretsManagerClient;
  readonly dynamodb: DynamoDBClient;
  /** The one table; holds the refresh lease, the refresh count and the refresh stop. */
  readonly tableName: string;
  readonly accounts: AccountsClient;
  readonly secretPrefix: string;
  /** Refresh when less than this remains (Zoho tokens live an hour); config 600 s. */
  readonly refreshAheadMs: number;
  readonly now: () => number;
  readonly logger: Logger;
  /** Pauses a worker that waits for another worker's refresh. */
  readonly sleep: (ms: number) => Promise<void>;
  /** A number in [0, 1): jitter of those pauses. */
  readonly random: () => number;
  /** A unique id per refresh attempt: the lease owner. */
  readonly newId: () => string;
  /** @default DEFAULT_LEASE_MS (30 s); must outlast one accounts call plus a secret write. */
  readonly leaseMs?: number;
  /** @default DEFAULT_MAX_WAIT_MS (5 s) */
  readonly maxWaitMs?: number;
  /** @default DEFAULT_MAX_REFRESHES_PER_WINDOW (8 per 10 minutes; Zoho refuses the 11th) */
  readonly maxRefreshesPerWindow?: number;
  /**
   * How long a container trusts its last read of the shared rejected-token marker.
   * @default 250 ms (see `createTokenRejections`)
   */
  readonly rejectionCheckMs?: number;
}

export interface TokenStore {
  /**
   * A valid access token for the connection and the api_domain to use it on, refreshed ahead
   * of expiry. Per-container cache first, then the access-token secret, then a single-flight
   * refresh.
   * @throws {TokenRefreshError} (`defer`) when no usable token exists and none may be fetched
   *   now: another worker is refreshing, the refresh budget is spent, or Zoho said Access Denied.
   * @throws {ZohoApiError} from the accounts server: `fail-alert` with scope `connection` when
   *   the credentials were refused (now or earlier, with the same secret), `defer` for Access
   *   Denied, `backoff` for network errors.
   */
  getAccessToken(connection: Connection): Promise<AccessTokenRecord>;
  /**
   * Called after Zoho rejected `rejected` (code 57 / INVALID_TOKEN): returns a newer token if
   * another caller already replaced it, else refreshes (single-flight), and returns the token to
   * retry with. Never returns `rejected` again.
   * @throws {TokenRefreshError} and {ZohoApiError} as {@link TokenStore.getAccessToken}.
   */
  refreshAfterRejection(
    connection: Connection,
    rejected: AccessTokenRecord,
  ): Promise<AccessTokenRecord>;
  /**
   * Tells every container at once that Zoho rejected `rejected` (its fingerprint in DynamoDB):
   * from then on no container hands it out. Never throws. Called before the rejected call's
   * request slot is freed, so no new call can start with the dead token.
   */
  reportRejected(connection: Connection, rejected: AccessTokenRecord): Promise<void>;
}

/**
 * Builds the token store of one container. A refresh is single-flight twice over: callers in
 * this container share one attempt, and across containers a DynamoDB lease lets one refresher
 * call Zoho while the others wait briefly for the secret it writes. A refresh budget (at most
 * about 8 per 10 minutes, shared by every container) and the pause after "Access Denied" make
 * Zoho's 10-per-10-minutes limit unreachable. Refused credentials stop the connection's
 * refreshes until its secret changes (see `createRefreshStopStore`).
 *
 * Written by hand: middy's secrets-manager middleware and Powertools Parameters cache a secret
 * per container, but neither coordinates a write across containers, which is the hard part.
 * @example
 * const tokens = createTokenStore({ ...clients, tableName, accounts, secretPrefix,
 *   refreshAheadMs: 600_000, now: Date.now, logger, sleep: (ms) => setTimeout(ms),
 *   random: Math.random, newId: randomUUID });
 * const { accessToken, apiDomain } = await tokens.getAccessToken(connection);
 */
export const createTokenStore = (deps: TokenStoreDeps): TokenStore => {
  const leaseMs = deps.leaseMs ?? DEFAULT_LEASE_MS;
  const maxWaitMs = deps.maxWaitMs ?? DEFAULT_MAX_WAIT_MS;
  const secrets = { secretsManager: deps.secretsManager, secretPrefix: deps.secretPrefix };
  const lease = createRefreshLease(deps);
  const budget = createRefreshBudget(deps);
  const stops = createRefreshStopStore(deps);
  const rejections = createTokenRejections({
    ...deps,
    ...(deps.rejectionCheckMs === undefined ? {} : { checkEveryMs: deps.rejectionCheckMs }),
  });
  /** The per-container token cache: a warm container reads Secrets Manager about once an hour. */
  const cache = new Map<string, AccessTokenRecord>();
  /** The refresh this container is running per connection, shared by concurrent callers. */
  const inFlight = new Map<string, Promise<AccessTokenRecord>>();

  const remainingMs = (record: AccessTokenRecord): number => record.expiresAt - deps.now();

  /** Good for the whole refresh-ahead period: nothing to do. */
  const isFresh = (
    record: AccessTokenRecord | undefined,
    rejected: string | undefined,
  ): record is AccessTokenRecord =>
    record !== undefined &&
    record.accessToken !== rejected &&
    remainingMs(record) > deps.refreshAheadMs;

  /** Still good for a call, so better than waiting when no refresh can happen now. */
  const isUsable = (
    record: AccessTokenRecord | undefined,
    rejected: string | undefined,
  ): record is AccessTokenRecord =>
    record !== undefined &&
    record.accessToken !== rejected &&
    remainingMs(record) > MIN_REMAINING_MS;

  const remember = (connectionId: string, record: AccessTokenRecord): AccessTokenRecord => {
    cache.set(connectionId, record);
    return record;
  };

  const stoppedError = (stop: RefreshStop): ZohoApiError =>
    new ZohoApiError({
      service: 'accounts',
      method: 'POST',
      endpoint: TOKEN_ENDPOINT,
      entry: findErrorEntry(stop.entryId) ?? getErrorEntry('accounts-http-401'),
      unknown: false,
      httpStatus: stop.httpStatus,
      zohoCode: stop.zohoCode,
      detail: `refresh stopped since ${new Date(stop.stoppedAtMs).toISOString()}; not retried until the connection secret changes`,
    });

  const throwIfStopped = async (connection: Connection): Promise<void> => {
    const stop = await stops.find(connection);
    if (stop === undefined) return;
    cache.delete(connection.connectionId);
    throw stoppedError(stop);
  };

  /** Records what a refused refresh means for the next attempts; the caller rethrows. */
  const onRefreshRefused = async (connection: Connection, error: unknown): Promise<void> => {
    if (!isZohoApiError(error)) return;
    const keys = {
      connection_id: connection.connectionId,
      entry_id: error.entry.id,
      zoho_code: error.zohoCode,
      http_status: error.httpStatus,
    };
    if (error.entry.id === ACCESS_DENIED_ROW) {
      await budget.block(connection.connectionId, deps.now() + REFRESH_WINDOW_MS);
      deps.logger.warn('token refresh refused: too many requests; pausing refreshes', keys);
    } else if (error.entry.action === 'fail-alert' && error.entry.scope === 'connection') {
      await stops.record(connection, error);
      cache.delete(connection.connectionId);
      deps.logger.error(
        'token refresh refused: credentials stopped until the secret changes',
        keys,
      );
    }
  };

  const refreshUnderLease = async (
    connection: Connection,
    rejected: string | undefined,
  ): Promise<AccessTokenRecord> => {
    const { connectionId } = connection;
    // Someone may have refreshed between our read and our lease.
    const current = await readAccessTokenSecret(secrets, connectionId);
    if (isFresh(current, rejected)) return remember(connectionId, current);
    // The previous lease holder may have just found the credentials refused.
    await throwIfStopped(connection);
    const reservation = await budget.reserve(connectionId);
    if (!reservation.granted) {
      if (isUsable(current, rejected)) return remember(connectionId, current);
      const reason = reservation.reason === 'blocked' ? 'refresh-blocked' : 'refresh-budget-spent';
      deps.logger.warn('token refresh deferred', {
        connection_id: connectionId,
        reason,
        retry_after_ms: reservation.retryAfterMs,
      });
      throw new TokenRefreshError(connectionId, reason, reservation.retryAfterMs);
    }
    // Taken before the call, so the recorded expiry is never later than Zoho's.
    const requestedAtMs = deps.now();
    let record: AccessTokenRecord;
    try {
      const granted = await deps.accounts.refreshAccessToken({
        accountsUrl: connection.accountsUrl,
        clientId: connection.clientId,
        clientSecret: connection.clientSecret,
        refreshToken: connection.refreshToken,
      });
      record = {
        accessToken: granted.accessToken,
        apiDomain: granted.apiDomain,
        expiresAt: requestedAtMs + granted.expiresInSeconds * 1000,
      };
    } catch (error) {
      await onRefreshRefused(connection, error);
      // Access Denied leaves a still-valid token in force (zoho-oauth.md §6).
      if (
        isZohoApiError(error) &&
        error.entry.id === ACCESS_DENIED_ROW &&
        isUsable(current, rejected)
      ) {
        return remember(connectionId, current);
      }
      throw error;
    }
    await crashPoint('during-token-refresh', connectionId);
    await writeAccessTokenSecret(secrets, connectionId, record);
    deps.logger.info('access token refreshed', {
      connection_id: connectionId,
      api_domain: record.apiDomain,
      expires_at: new Date(record.expiresAt).toISOString(),
    });
    return remember(connectionId, record);
  };

  const waitForRefresh = async (
    connection: Connection,
    rejected: string | undefined,
  ): Promise<AccessTokenRecord> => {
    const { connectionId } = connection;
    for (const delayMs of pollDelaysMs(maxWaitMs, deps.random)) {
      await deps.sleep(delayMs);
      const stored = await readAccessTokenSecret(secrets, connectionId);
      if (isFresh(stored, rejected)) return remember(connectionId, stored);
    }
    // By then the holder has released the lease or its lease has expired.
    deps.logger.warn('token refresh deferred', {
      connection_id: connectionId,
      reason: 'refresh-in-progress',
      retry_after_ms: leaseMs,
    });
    throw new TokenRefreshError(connectionId, 'refresh-in-progress', leaseMs);
  };

  const obtain = async (
    connection: Connection,
    rejectedByCaller: string | undefined,
  ): Promise<AccessTokenRecord> => {
    const { connectionId } = connection;
    const stored = await readAccessTokenSecret(secrets, connectionId);
    // Another container may have seen Zoho reject the stored token already.
    const rejected =
      stored !== undefined &&
      stored.accessToken !== rejectedByCaller &&
      (await rejections.isRejected(connectionId, stored.accessToken))
        ? stored.accessToken
        : rejectedByCaller;
    if (isFresh(stored, rejected)) return remember(connectionId, stored);
    // Fail fast on refused credentials, before taking or waiting for the lease.
    await throwIfStopped(connection);
    const ownerId = deps.newId();
    if (!(await lease.acquire(connectionId, ownerId, leaseMs))) {
      // Another worker is refreshing; a token that still works beats waiting for theirs.
      if (isUsable(stored, rejected)) return remember(connectionId, stored);
      return waitForRefresh(connection, rejected);
    }
    try {
      return await refreshUnderLease(connection, rejected);
    } finally {
      await lease.release(connectionId, ownerId);
    }
  };

  /** One attempt per connection at a time in this container; concurrent callers share it. */
  const obtainShared = async (
    connection: Connection,
    rejected: string | undefined,
  ): Promise<AccessTokenRecord> => {
    const { connectionId } = connection;
    const running = inFlight.get(connectionId);
    if (running !== undefined) {
      const record = await running;
      // A joined attempt may have returned the very token this caller saw rejected.
      return isUsable(record, rejected) ? record : obtain(connection, rejected);
    }
    const attempt = obtain(connection, rejected).finally(() => inFlight.delete(connectionId));
    inFlight.set(connectionId, attempt);
    return attempt;
  };

  return {
    async getAccessToken(connection) {
      const cached = cache.get(connection.connectionId);
      if (isFresh(cached, undefined)) {
        // One container's 401 stops every container's use of the token at once.
        if (!(await rejections.isRejected(connection.connectionId, cached.accessToken))) {
          return cached;
        }
        cache.delete(connection.connectionId);
        return obtainShared(connection, cached.accessToken);
      }
      return obtainShared(connection, undefined);
    },
    reportRejected: (connection, rejected) =>
      rejections.record(connection.connectionId, rejected.accessToken),
    async refreshAfterRejection(connection, rejected) {
      await rejections.record(connection.connectionId, rejected.accessToken);
      const cached = cache.get(connection.connectionId);
      if (isFresh(cached, rejected.accessToken)) return cached;
      cache.delete(connection.connectionId);
      return obtainShared(connection, rejected.accessToken);
    },
  };
};
