import { randomBytes } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';
import type { AccessTokenRecord, ConnectionSecret } from '../../lib/config';
import type { ZohoSimulator } from '../../lib/local/zoho-simulator';
import { logger as sharedLogger } from '../../lib/observability';
import { createTokenStore, type TokenStore, type TokenStoreDeps } from '../../lib/tokens';
import { writeAccessTokenSecret } from '../../lib/tokens/access-token-secret';
import { createAccountsClient } from '../../lib/zoho';
import type { TestEnvironment } from './local-environment';

/** A clock the test moves by hand; shared by the token store and the Zoho simulator. */
export interface ManualClock {
  readonly now: () => number;
  advance(ms: number): void;
}

export const manualClock = (startMs: number): ManualClock => {
  let nowMs = startMs;
  return {
    now: () => nowMs,
    advance: (ms) => {
      nowMs += ms;
    },
  };
};

const hex = (bytes: number): string => randomBytes(bytes).toString('hex');

/** Zoho-shaped credentials, new for every call so tests never share Zoho's per-token limits. */
export const zohoCredentials = () => ({
  clientId: `1000.${hex(15).toUpperCase()}`,
  clientSecret: hex(21),
  refreshToken: `1000.${hex(16)}.${hex(16)}`,
});

let connectionCounter = 0;

/** A connection id no other test of the file uses. */
export const newConnectionId = (label: string): string => {
  connectionCounter += 1;
  return `${label}-${connectionCounter}`;
};

/**
 * A connection secret whose client is registered at the simulator (with the organization).
 * `apiDomain` is what the simulator returns as `api_domain`.
 */
export const registerConnection = (
  simulator: ZohoSimulator,
  options: { organizationId: string; apiDomain?: string },
): ConnectionSecret => {
  const credentials = zohoCredentials();
  simulator.addClient({
    ...credentials,
    ...(options.apiDomain === undefined ? {} : { apiDomain: options.apiDomain }),
  });
  return {
    dataCenter: 'com',
    accountsUrl: simulator.baseUrl,
    ...credentials,
    booksOrganizationId: options.organizationId,
    plan: 'professional',
    webhookSecret: `webhook-${hex(12)}`,
  };
};

export interface TokenStoreOptions extends Partial<Omit<TokenStoreDeps, 'now'>> {
  readonly now: () => number;
}

/**
 * One container's token store against the test's stand-ins and the simulator: real SDK
 * clients, a real accounts client. `sleep` is real by default (waiters wait for other
 * containers' real I/O); tests that only count the waits pass their own.
 */
export const tokenStoreFor = (env: TestEnvironment, options: TokenStoreOptions): TokenStore =>
  createTokenStore({
    secretsManager: env.clients.secretsManager,
    dynamodb: env.clients.dynamodb,
    tableName: env.resources.tableName,
    accounts: createAccountsClient({ fetch, timeoutMs: 5_000 }),
    secretPrefix: env.config.secretPrefix,
    refreshAheadMs: env.config.tokenRefreshAheadSeconds * 1000,
    logger: sharedLogger,
    sleep: (ms) => sleep(ms),
    random: Math.random,
    newId: () => hex(8),
    ...options,
  });

/** Stores an access-token record as if another container had written it. */
export const storeAccessToken = (
  env: TestEnvironment,
  connectionId: string,
  record: AccessTokenRecord,
): Promise<void> =>
  writeAccessTokenSecret(
    { secretsManager: env.clients.secretsManager, secretPrefix: env.config.secretPrefix },
    connectionId,
    record,
  );

/** Accounts-server counters of one client at the simulator. */
export const accountsStats = (simulator: ZohoSimulator, clientId: string) => {
  const stats = simulator.stats().accounts.byClientId[clientId];
  return {
    tokenRequests: stats?.tokenRequests ?? 0,
    accessDenied: stats?.accessDenied ?? 0,
    invalidCode: stats?.invalidCode ?? 0,
    invalidClient: stats?.invalidClient ?? 0,
  };
};
