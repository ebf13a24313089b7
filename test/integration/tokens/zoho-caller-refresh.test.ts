import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { toConnection } from '../../../lib/config';
import { startZohoSimulator, type ZohoSimulator } from '../../../lib/local/zoho-simulator';
import { logger } from '../../../lib/observability';
import { callZoho } from '../../../lib/sync/zoho-caller';
import type { TokenStore } from '../../../lib/tokens';
import { createBooksClient, isZohoApiError, type ZohoApiError } from '../../../lib/zoho';
import { createTestEnvironment, type TestEnvironment } from '../../helpers/local-environment';
import {
  accountsStats,
  type ManualClock,
  manualClock,
  newConnectionId,
  registerConnection,
  tokenStoreFor,
} from '../../helpers/token-fixtures';
import { unlimitedLimiter } from '../../helpers/unlimited-limiter';

const ORG_ID = '60020000002';
const NOT_AUTHORIZED = {
  status: 401,
  body: { code: 57, message: 'You are not authorized to perform this operation' },
};

describe('callZoho with the token store', () => {
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

  beforeEach(() => {
    simulator.clearFaults();
  });

  afterAll(async () => {
    await simulator?.stop();
  });

  const listContacts = (tokens: TokenStore, connection: ReturnType<typeof toConnection>) =>
    callZoho({ tokens, limiter: unlimitedLimiter, logger }, connection, 'books', (target) =>
      books.list(target, 'contacts'),
    );

  const booksCalls = (status: number) =>
    simulator
      .stats()
      .requests.filter((entry) => entry.path === '/books/v3/contacts' && entry.status === status)
      .length;

  it('refreshes once and succeeds when Zoho answers 57 mid-run', async () => {
    // Prepare: a working token, then Zoho expires every token behind our back.
    const secret = registerConnection(simulator, { organizationId: ORG_ID });
    const connection = toConnection(newConnectionId('mid-run'), secret);
    const tokens = tokenStoreFor(env, { now: clock.now });
    await listContacts(tokens, connection);
    simulator.resetStats();
    simulator.expireAccessTokens();

    // Act
    const result = await listContacts(tokens, connection);

    // Assess: one 57, one refresh, one successful replay.
    expect(result.records).toStrictEqual([]);
    expect(accountsStats(simulator, secret.clientId).tokenRequests).toBe(1);
    expect(booksCalls(401)).toBe(1);
    expect(booksCalls(200)).toBe(1);
  });

  it('propagates a second 57 right after the refresh instead of looping', async () => {
    const secret = registerConnection(simulator, { organizationId: ORG_ID });
    const connection = toConnection(newConnectionId('twice'), secret);
    const tokens = tokenStoreFor(env, { now: clock.now });
    await tokens.getAccessToken(connection);
    simulator.resetStats();
    simulator.injectFault({ pathPattern: '^/books/v3/contacts$', response: NOT_AUTHORIZED });

    let error: unknown;
    try {
      await listContacts(tokens, connection);
    } catch (caught) {
      error = caught;
    }

    expect(isZohoApiError(error)).toBe(true);
    expect((error as ZohoApiError).zohoCode).toBe(57);
    expect((error as ZohoApiError).disposition).toBe('refresh-token-and-retry');
    expect(accountsStats(simulator, secret.clientId).tokenRequests).toBe(1);
    expect(booksCalls(401)).toBe(2);
  });

  it('calls Books on the api_domain of the token response, not the accounts host', async () => {
    // Prepare: the accounts server answers on 127.0.0.1, the API lives on "another DC" host.
    const apiDomain = simulator.baseUrl.replace('127.0.0.1', 'localhost');
    const secret = registerConnection(simulator, { organizationId: ORG_ID, apiDomain });
    const connection = toConnection(newConnectionId('other-dc'), secret);
    const tokens = tokenStoreFor(env, { now: clock.now });
    simulator.resetStats();

    // Act
    const result = await listContacts(tokens, connection);

    // Assess: a token on 127.0.0.1 would have been refused (57) and refreshed again.
    expect(result.records).toStrictEqual([]);
    expect(connection.accountsUrl).toBe(simulator.baseUrl);
    expect((await tokens.getAccessToken(connection)).apiDomain).toBe(apiDomain);
    expect(accountsStats(simulator, secret.clientId).tokenRequests).toBe(1);
    expect(booksCalls(401)).toBe(0);
    expect(booksCalls(200)).toBe(1);
  });
});
