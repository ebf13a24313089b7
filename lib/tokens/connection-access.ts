import { randomUUID } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';
import type { AwsClients } from '../aws';
import type { Config } from '../config';
import { type Logger, logger as sharedLogger } from '../observability';
import { createAccountsClient, type ZohoHttpDeps } from '../zoho';
import { type ConnectionStore, createConnectionStore } from './connection-store';
import { listConnectionIds } from './list-connections';
import { createTokenStore, DEFAULT_LEASE_MS, type TokenStore } from './token-store';

export interface ConnectionAccessRuntime {
  readonly config: Config;
  readonly clients: Pick<AwsClients, 'secretsManager' | 'dynamodb'>;
  /** @default the global fetch */
  readonly fetch?: typeof fetch;
  /** @default Date.now */
  readonly now?: () => number;
  /** @default randomUUID */
  readonly newId?: () => string;
  /** @default the shared zoho-sync logger */
  readonly logger?: Logger;
  /** Pauses of a caller waiting for another container's token refresh. @default timers/promises */
  readonly sleep?: (ms: number) => Promise<void>;
  /** @default Math.random */
  readonly random?: () => number;
}

/** What every function that calls Zoho for a connection needs, built once per container. */
export interface ConnectionAccess {
  readonly connections: ConnectionStore;
  /** Ids of every connection with a secret under the prefix (scheduled sweeps visit them all). */
  readonly listConnectionIds: () => Promise<string[]>;
  readonly tokens: TokenStore;
  /** `fetch` and the Zoho timeout, for the Zoho clients. */
  readonly http: ZohoHttpDeps;
  readonly now: () => number;
  readonly newId: () => string;
  readonly logger: Logger;
}

/**
 * The connection store and the token store with one set of settings, so the worker, channel
 * renewal and the reconciliation sweep share one refresh lease, one refresh budget and one
 * access-token secret per connection.
 */
export const createConnectionAccess = (runtime: ConnectionAccessRuntime): ConnectionAccess => {
  const { config, clients } = runtime;
  const now = runtime.now ?? Date.now;
  const newId = runtime.newId ?? randomUUID;
  const logger = runtime.logger ?? sharedLogger;
  const http: ZohoHttpDeps = { fetch: runtime.fetch ?? fetch, timeoutMs: config.zohoTimeoutMs };
  return {
    connections: createConnectionStore({
      secretsManager: clients.secretsManager,
      secretPrefix: config.secretPrefix,
      cacheTtlMs: config.cacheTtlSeconds * 1000,
      now,
    }),
    listConnectionIds: () =>
      listConnectionIds({
        secretsManager: clients.secretsManager,
        secretPrefix: config.secretPrefix,
      }),
    tokens: createTokenStore({
      secretsManager: clients.secretsManager,
      dynamodb: clients.dynamodb,
      tableName: config.tableName,
      accounts: createAccountsClient(http),
      secretPrefix: config.secretPrefix,
      refreshAheadMs: config.tokenRefreshAheadSeconds * 1000,
      // The lease must outlast one accounts call (at most the Zoho timeout) and a secret write.
      leaseMs: Math.max(DEFAULT_LEASE_MS, 3 * config.zohoTimeoutMs),
      now,
      logger,
      sleep: runtime.sleep ?? ((ms) => sleep(ms)),
      random: runtime.random ?? Math.random,
      newId,
    }),
    http,
    now,
    newId,
    logger,
  };
};
