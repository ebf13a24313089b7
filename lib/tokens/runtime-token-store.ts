import { setTimeout as sleep } from 'node:timers/promises';
import type { AwsClients } from '../aws';
import type { Config } from '../config';
import type { Logger } from '../observability';
import { createAccountsClient, type ZohoHttpDeps } from '../zoho';
import { createTokenStore, DEFAULT_LEASE_MS, type TokenStore } from './token-store';

export interface RuntimeTokenStoreOptions {
  readonly config: Config;
  readonly clients: Pick<AwsClients, 'secretsManager' | 'dynamodb'>;
  /** `fetch` and the Zoho timeout of the accounts client. */
  readonly http: ZohoHttpDeps;
  readonly now: () => number;
  readonly logger: Logger;
  readonly newId: () => string;
  /** @default node's timers/promises setTimeout */
  readonly sleep?: (ms: number) => Promise<void>;
  /** @default Math.random */
  readonly random?: () => number;
}

/**
 * The token store of a scheduled function (channel renewal, reconciliation sweep), with the same
 * settings the worker uses (lib/sync/worker-deps.ts), so every function shares one refresh lease,
 * one refresh budget and one access-token secret per connection.
 */
export const createRuntimeTokenStore = (options: RuntimeTokenStoreOptions): TokenStore =>
  createTokenStore({
    secretsManager: options.clients.secretsManager,
    dynamodb: options.clients.dynamodb,
    tableName: options.config.tableName,
    accounts: createAccountsClient(options.http),
    secretPrefix: options.config.secretPrefix,
    refreshAheadMs: options.config.tokenRefreshAheadSeconds * 1000,
    // The lease must outlast one accounts call (at most the Zoho timeout) and a secret write.
    leaseMs: Math.max(DEFAULT_LEASE_MS, 3 * options.config.zohoTimeoutMs),
    now: options.now,
    logger: options.logger,
    sleep: options.sleep ?? ((ms) => sleep(ms)),
    random: options.random ?? Math.random,
    newId: options.newId,
  });
