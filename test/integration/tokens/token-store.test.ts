import { GetSecretValueCommand, SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  accessTokenSecretId,
  type ConnectionSecret,
  connectionSecretId,
  toConnection,
} from '../../../lib/config';
import { startZohoSimulator, type ZohoSimulator } from '../../../lib/local/zoho-simulator';
import {
  createConnectionStore,
  createRefreshLease,
  createRefreshStopStore,
  REFRESH_WINDOW_MS,
  TokenRefreshError,
} from '../../../lib/tokens';
import { createAccountsClient, isZohoApiError, type ZohoApiError } from '../../../lib/zoho';
import { createTestEnvironment, type TestEnvironment } from '../../helpers/local-environment';
import {
  accountsStats,
  type ManualClock,
  manualClock,
  newConnectionId,
  registerConnection,
  storeAccessToken,
  tokenStoreFor,
} from '../../helpers/token-fixtures';

const ORG_ID = '60020000001';
const HOUR_MS = 3_600_000;
const MINUTE_MS = 60_000;

/** Rejects with the error `promise` rejects with, or fails the test if it resolves. */
const rejectionOf = async (promise: Promise<unknown>): Promise<unknown> => {
  try {
    await promise;
  } catch (error) {
    return error;
  }
  throw new Error('expected a rejection');
};

describe('token-store', () => {
  let env: TestEnvironment;
  let simulator: ZohoSimulator;
  let clock: ManualClock;

  beforeAll(async () => {
    env = await createTestEnvironment();
    // Start just after a 10-minute boundary so refresh-window arithmetic is predictable.
    clock = manualClock(Math.ceil(Date.now() / REFRESH_WINDOW_MS) * REFRESH_WINDOW_MS + 1_000);
    simulator = await startZohoSimulator({ now: () => clock.now() });
    simulator.addOrganization({ organizationId: ORG_ID });
  });

  afterAll(async () => {
    await simulator?.stop();
  });

  const newConnection = (label: string) => {
    const connectionId = newConnectionId(label);
    const secret = registerConnection(simulator, { organizationId: ORG_ID });
    return { connectionId, secret, connection: toConnection(connectionId, secret) };
  };

  it('refreshes exactly once when 50 containers find an expired token together', async () => {
    // Prepare: an expired token in the secret, and 50 containers with cold caches.
    const { connectionId, secret, connection } = newConnection('stampede');
    await storeAccessToken(env, connectionId, {
      accessToken: '1000.expiredexpiredexpired.expiredexpiredexpired',
      apiDomain: simulator.baseUrl,
      expiresAt: clock.now() - MINUTE_MS,
    });
    const containers = Array.from({ length: 50 }, () => tokenStoreFor(env, { now: clock.now }));

    // Act
    const tokens = await Promise.all(containers.map((store) => store.getAccessToken(connection)));

    // Assess
    expect(accountsStats(simulator, secret.clientId)).toStrictEqual({
      tokenRequests: 1,
      accessDenied: 0,
      invalidCode: 0,
      invalidClient: 0,
    });
    const distinct = new Set(tokens.map((token) => token.accessToken));
    expect(distinct.size).toBe(1);
    expect(tokens[0]?.expiresAt).toBe(clock.now() + HOUR_MS);
  });

  it('refreshes ahead of expiry once less than refreshAheadMs remains', async () => {
    const { secret, connection } = newConnection('ahead');
    const store = tokenStoreFor(env, { now: clock.now, refreshAheadMs: 10 * MINUTE_MS });
    const first = await store.getAccessToken(connection);

    clock.advance(HOUR_MS - 15 * MINUTE_MS); // 15 minutes left: still fresh
    const stillFirst = await store.getAccessToken(connection);
    expect(stillFirst.accessToken).toBe(first.accessToken);
    expect(accountsStats(simulator, secret.clientId).tokenRequests).toBe(1);

    clock.advance(6 * MINUTE_MS); // 9 minutes left: refreshed ahead, before it expires
    const second = await store.getAccessToken(connection);
    expect(second.accessToken).not.toBe(first.accessToken);
    expect(accountsStats(simulator, secret.clientId).tokenRequests).toBe(2);
  });

  it('keeps using a still-valid token without waiting while another worker holds the lease', async () => {
    const { connectionId, secret, connection } = newConnection('lease-held-valid');
    const first = await tokenStoreFor(env, { now: clock.now }).getAccessToken(connection);
    clock.advance(HOUR_MS - 5 * MINUTE_MS); // due for refresh, but valid for 5 more minutes
    const lease = createRefreshLease({
      ...env.clients,
      tableName: env.resources.tableName,
      now: clock.now,
    });
    expect(await lease.acquire(connectionId, 'other-container', 30_000)).toBe(true);
    const sleeps: number[] = [];

    const token = await tokenStoreFor(env, {
      now: clock.now,
      sleep: async (ms) => {
        sleeps.push(ms);
      },
    }).getAccessToken(connection);

    expect(token.accessToken).toBe(first.accessToken);
    expect(sleeps).toStrictEqual([]);
    expect(accountsStats(simulator, secret.clientId).tokenRequests).toBe(1);
    await lease.release(connectionId, 'other-container');
  });

  it('defers after a bounded wait when another worker holds the lease and never writes a token', async () => {
    // Prepare: a crashed refresher's lease and no token at all.
    const { connectionId, secret, connection } = newConnection('lease-held-expired');
    const lease = createRefreshLease({
      ...env.clients,
      tableName: env.resources.tableName,
      now: clock.now,
    });
    expect(await lease.acquire(connectionId, 'crashed-container', 30_000)).toBe(true);
    const sleeps: number[] = [];
    const store = tokenStoreFor(env, {
      now: clock.now,
      leaseMs: 30_000,
      sleep: async (ms) => {
        sleeps.push(ms);
      },
    });

    // Act
    const error = await rejectionOf(store.getAccessToken(connection));

    // Assess: a defer, after at most 5 s of waiting, without a call to Zoho.
    expect(error).toBeInstanceOf(TokenRefreshError);
    expect(error).toMatchObject({
      disposition: 'defer',
      reason: 'refresh-in-progress',
      retryAfterMs: 30_000,
    });
    expect(sleeps.length).toBeGreaterThan(3);
    expect(sleeps.reduce((sum, ms) => sum + ms, 0)).toBeLessThanOrEqual(5_000);
    expect(accountsStats(simulator, secret.clientId).tokenRequests).toBe(0);

    // Act again once the crashed lease has expired: this worker takes it over.
    clock.advance(30_001);
    const token = await store.getAccessToken(connection);
    expect(token.accessToken).toMatch(/^1000\./);
    expect(accountsStats(simulator, secret.clientId).tokenRequests).toBe(1);
  });

  it('defers the 9th refresh in 10 minutes without calling Zoho', async () => {
    const { secret, connection } = newConnection('budget');
    const store = tokenStoreFor(env, { now: clock.now });
    let token = await store.getAccessToken(connection);
    for (let refresh = 2; refresh <= 8; refresh += 1) {
      token = await store.refreshAfterRejection(connection, token);
    }
    expect(accountsStats(simulator, secret.clientId).tokenRequests).toBe(8);

    const error = await rejectionOf(store.refreshAfterRejection(connection, token));

    expect(error).toBeInstanceOf(TokenRefreshError);
    expect(error).toMatchObject({ disposition: 'defer', reason: 'refresh-budget-spent' });
    expect((error as TokenRefreshError).retryAfterMs).toBeGreaterThan(0);
    expect(accountsStats(simulator, secret.clientId)).toMatchObject({
      tokenRequests: 8,
      accessDenied: 0,
    });
  });

  it('pauses refreshes for 10 minutes after Zoho answers Access Denied', async () => {
    // Prepare: someone outside zoho-sync spent Zoho's 10 tokens of this refresh token.
    const { secret, connection } = newConnection('access-denied');
    const accounts = createAccountsClient({ fetch, timeoutMs: 5_000 });
    for (let mint = 0; mint < 10; mint += 1) {
      await accounts.refreshAccessToken({ ...connection });
    }
    const store = tokenStoreFor(env, { now: clock.now });

    // Act: Zoho refuses the first refresh, and the second is not even tried.
    const refused = await rejectionOf(store.getAccessToken(connection));
    const paused = await rejectionOf(store.getAccessToken(connection));

    // Assess
    expect(isZohoApiError(refused)).toBe(true);
    expect((refused as ZohoApiError).entry.id).toBe('accounts-access-denied');
    expect((refused as ZohoApiError).disposition).toBe('defer');
    expect(paused).toBeInstanceOf(TokenRefreshError);
    expect(paused).toMatchObject({ disposition: 'defer', reason: 'refresh-blocked' });
    expect(accountsStats(simulator, secret.clientId)).toMatchObject({
      tokenRequests: 11,
      accessDenied: 1,
    });

    // After the window Zoho allows tokens again, and so does the store.
    clock.advance(REFRESH_WINDOW_MS + 1);
    const token = await store.getAccessToken(connection);
    expect(token.accessToken).toMatch(/^1000\./);
    expect(accountsStats(simulator, secret.clientId)).toMatchObject({
      tokenRequests: 12,
      accessDenied: 1,
    });
  });

  it.each([
    {
      refusal: 'a revoked refresh token',
      entryId: 'accounts-invalid-code',
      spoil: (secret: ConnectionSecret) => {
        simulator.revokeRefreshToken(secret.refreshToken);
        return secret;
      },
    },
    {
      refusal: 'a wrong client secret',
      entryId: 'accounts-invalid-client',
      spoil: (secret: ConnectionSecret) => ({ ...secret, clientSecret: 'not-the-client-secret' }),
    },
  ])(
    'stops the connection after one refused refresh for $refusal until the secret changes',
    async ({ entryId, spoil }) => {
      // Prepare: the operator's secret, read the way the worker reads it (no cache here).
      const { connectionId, secret: good } = newConnection('stopped');
      const secret = spoil(good);
      await env.putConnection(connectionId, secret);
      const connections = createConnectionStore({
        secretsManager: env.clients.secretsManager,
        secretPrefix: env.config.secretPrefix,
        cacheTtlMs: 0,
        now: clock.now,
      });
      const store = tokenStoreFor(env, { now: clock.now });
      const stops = createRefreshStopStore({
        ...env.clients,
        tableName: env.resources.tableName,
        now: clock.now,
      });
      const connection = await connections.get(connectionId);
      if (connection === undefined) throw new Error('connection secret not stored');

      // Act: two messages in a row.
      const first = await rejectionOf(store.getAccessToken(connection));
      const second = await rejectionOf(store.getAccessToken(connection));

      // Assess: one accounts call, an alert-worthy error both times, and a recorded stop.
      expect(accountsStats(simulator, secret.clientId).tokenRequests).toBe(1);
      for (const error of [first, second]) {
        expect(isZohoApiError(error)).toBe(true);
        const apiError = error as ZohoApiError;
        expect(apiError.disposition).toBe('fail-alert');
        expect(apiError.entry.id).toBe(entryId);
        expect(apiError.entry.scope).toBe('connection');
      }
      expect(await stops.find(connection)).toMatchObject({ connectionId, entryId });

      // Act: the operator stores working credentials (a new refresh token from a new grant).
      const fixed: ConnectionSecret = { ...good, refreshToken: `${good.refreshToken}0` };
      simulator.addClient({
        clientId: fixed.clientId,
        clientSecret: fixed.clientSecret,
        refreshToken: fixed.refreshToken,
      });
      await env.putConnection(connectionId, fixed);
      const fixedConnection = await connections.get(connectionId);
      if (fixedConnection === undefined) throw new Error('connection secret not stored');
      const token = await store.getAccessToken(fixedConnection);

      // Assess: tried again at once, no reset needed.
      expect(token.accessToken).toMatch(/^1000\./);
      expect(accountsStats(simulator, secret.clientId).tokenRequests).toBe(2);
      expect(await stops.find(fixedConnection)).toBeUndefined();
    },
  );

  it('tries the same credentials again after the stop is cleared', async () => {
    const { connectionId, secret, connection } = newConnection('cleared');
    simulator.revokeRefreshToken(secret.refreshToken);
    const store = tokenStoreFor(env, { now: clock.now });
    const stops = createRefreshStopStore({
      ...env.clients,
      tableName: env.resources.tableName,
      now: clock.now,
    });
    await rejectionOf(store.getAccessToken(connection));
    expect(await stops.find(connection)).toBeDefined();

    await stops.clear(connectionId);
    const error = await rejectionOf(store.getAccessToken(connection));

    expect(await stops.find(connection)).toBeDefined();
    expect((error as ZohoApiError).entry.id).toBe('accounts-invalid-code');
    expect(accountsStats(simulator, secret.clientId).tokenRequests).toBe(2);
  });

  it('writes the token to its own secret and leaves the connection secret untouched', async () => {
    const { connectionId, secret, connection } = newConnection('own-secret');
    await env.putConnection(connectionId, secret);

    const token = await tokenStoreFor(env, { now: clock.now }).getAccessToken(connection);

    const read = async (secretId: string) =>
      JSON.parse(
        (await env.clients.secretsManager.send(new GetSecretValueCommand({ SecretId: secretId })))
          .SecretString ?? '',
      ) as unknown;
    // The credentials as setup stored them: the webhook secret lives apart, in .../webhook.
    const { webhookSecret: _apart, ...credentials } = secret;
    expect(await read(connectionSecretId(env.config.secretPrefix, connectionId))).toStrictEqual(
      credentials,
    );
    expect(await read(accessTokenSecretId(env.config.secretPrefix, connectionId))).toStrictEqual(
      token,
    );
  });

  it('serves a warm container from its cache without calling Secrets Manager', async () => {
    const { connection } = newConnection('warm');
    let secretsManagerCalls = 0;
    const countingClient = new SecretsManagerClient({ region: 'us-east-1' });
    countingClient.middlewareStack.add(
      (next) => async (args) => {
        secretsManagerCalls += 1;
        return next(args);
      },
      { step: 'initialize', name: 'countCalls' },
    );
    const store = tokenStoreFor(env, { now: clock.now, secretsManager: countingClient });
    const first = await store.getAccessToken(connection);
    const callsForFirst = secretsManagerCalls;

    clock.advance(30 * MINUTE_MS);
    const again = await store.getAccessToken(connection);

    expect(again).toStrictEqual(first);
    expect(callsForFirst).toBeGreaterThan(0);
    expect(secretsManagerCalls).toBe(callsForFirst);
  });
});
