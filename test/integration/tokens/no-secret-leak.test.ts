import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { type AccessTokenRecord, type Connection, toConnection } from '../../../lib/config';
import { describeFailure } from '../../../lib/failures';
import { startZohoSimulator, type ZohoSimulator } from '../../../lib/local/zoho-simulator';
import { logger } from '../../../lib/observability';
import { callZoho } from '../../../lib/sync/zoho-caller';
import { createRefreshLease, type TokenStore } from '../../../lib/tokens';
import { createAccountsClient, createBooksClient } from '../../../lib/zoho';
import { createTestEnvironment, type TestEnvironment } from '../../helpers/local-environment';
import {
  type ManualClock,
  manualClock,
  newConnectionId,
  registerConnection,
  tokenStoreFor,
} from '../../helpers/token-fixtures';
import { unlimitedLimiter } from '../../helpers/unlimited-limiter';

const ORG_ID = '60020000003';

describe('token handling: no token or secret in logs or errors', () => {
  let env: TestEnvironment;
  let simulator: ZohoSimulator;
  let clock: ManualClock;
  const books = createBooksClient({ fetch, timeoutMs: 5_000 });

  beforeAll(async () => {
    env = await createTestEnvironment();
    clock = manualClock(Date.now());
    simulator = await startZohoSimulator({ now: () => clock.now() });
    simulator.addOrganization({ organizationId: ORG_ID });
  });

  afterAll(async () => {
    await simulator?.stop();
  });

  it('never writes a planted token, refresh token or client secret to a log line or an error', async () => {
    // Prepare: capture everything the shared Powertools logger prints (its Console writes to
    // process.stdout / process.stderr), at the most verbose level.
    const output: string[] = [];
    const capture = (chunk: unknown): boolean => {
      output.push(typeof chunk === 'string' ? chunk : Buffer.from(chunk as Uint8Array).toString());
      return true;
    };
    const stdout = vi.spyOn(process.stdout, 'write').mockImplementation(capture);
    const stderr = vi.spyOn(process.stderr, 'write').mockImplementation(capture);
    const previousLevel = logger.getLevelName();
    logger.setLogLevel('DEBUG');

    const planted = new Set<string>();
    const errors: unknown[] = [];
    const plant = (connection: Connection) => {
      planted.add(connection.clientSecret);
      planted.add(connection.refreshToken);
    };
    const keep = (token: AccessTokenRecord) => {
      planted.add(token.accessToken);
      return token;
    };
    const failure = async (promise: Promise<unknown>) => {
      try {
        await promise;
        throw new Error('expected a rejection');
      } catch (error) {
        errors.push(error);
        // As an outcome handler that logs the whole error would.
        logger.error('flow failed', error as Error);
      }
    };
    const newConnection = (label: string) => {
      const secret = registerConnection(simulator, { organizationId: ORG_ID });
      const connection = toConnection(newConnectionId(label), secret);
      plant(connection);
      return connection;
    };
    const listContacts = (tokens: TokenStore, connection: Connection) =>
      callZoho({ tokens, limiter: unlimitedLimiter, logger }, connection, 'books', (target) =>
        books.list(target, 'contacts'),
      );

    try {
      // Act: a refresh, a 57 with a refresh and replay, and a second 57 that fails.
      const working = newConnection('leak-working');
      const tokens = tokenStoreFor(env, { now: clock.now, logger });
      keep(await tokens.getAccessToken(working));
      simulator.expireAccessTokens();
      await listContacts(tokens, working);
      keep(await tokens.getAccessToken(working));
      simulator.injectFault({
        pathPattern: '^/books/v3/contacts$',
        times: 2,
        response: { status: 401, body: { code: 57, message: 'You are not authorized' } },
      });
      await failure(listContacts(tokens, working));
      keep(await tokens.getAccessToken(working));

      // Act: a revoked refresh token, twice.
      const revoked = newConnection('leak-revoked');
      simulator.revokeRefreshToken(revoked.refreshToken);
      await failure(tokens.getAccessToken(revoked));
      await failure(tokens.getAccessToken(revoked));

      // Act: Zoho's Access Denied, then our own pause.
      const throttled = newConnection('leak-throttled');
      const accounts = createAccountsClient({ fetch, timeoutMs: 5_000 });
      for (let mint = 0; mint < 10; mint += 1) {
        planted.add((await accounts.refreshAccessToken(throttled)).accessToken);
      }
      await failure(tokens.getAccessToken(throttled));
      await failure(tokens.getAccessToken(throttled));

      // Act: a lease held by a crashed worker.
      const waiting = newConnection('leak-waiting');
      await createRefreshLease({
        ...env.clients,
        tableName: env.resources.tableName,
        now: clock.now,
      }).acquire(waiting.connectionId, 'crashed', 30_000);
      await failure(
        tokenStoreFor(env, { now: clock.now, logger, sleep: async () => undefined }).getAccessToken(
          waiting,
        ),
      );
    } finally {
      logger.setLogLevel(previousLevel);
      stdout.mockRestore();
      stderr.mockRestore();
    }

    // Assess: the flows ran and logged, and nothing secret is in any line or error.
    const logText = output.join('');
    expect(logText).toContain('access token refreshed');
    expect(logText).toContain('credentials stopped until the secret changes');
    expect(logText).toContain('pausing refreshes');
    expect(logText).toContain('flow failed');
    expect(errors).toHaveLength(6);
    expect(planted.size).toBeGreaterThanOrEqual(8 + 13);
    const errorTexts = errors.map((error) => {
      const { message, stack } = error as Error;
      return [message, stack ?? '', JSON.stringify(describeFailure(error))].join('\n');
    });
    for (const value of planted) {
      expect(logText).not.toContain(value);
      for (const text of errorTexts) expect(text).not.toContain(value);
    }
  });
});
