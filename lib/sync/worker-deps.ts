import { randomUUID } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';
import { createAlertPublisher } from '../alerts/alert-publisher';
import { type AwsClients, sendQueueMessage } from '../aws';
import type { Config } from '../config';
import type { RequestLimiter } from '../limits/request-limiter';
import { type Logger, logger as sharedLogger } from '../observability';
import { createConnectionStore } from '../tokens/connection-store';
import { createTokenStore, DEFAULT_LEASE_MS } from '../tokens/token-store';
import { createAccountsClient, createBooksClient, createCrmClient } from '../zoho';
import type { HandleSyncMessageDeps } from './handle-sync-message';
import { createMappingStore } from './mapping-store';

export interface RuntimeDeps {
  readonly config: Config;
  readonly clients: AwsClients;
  readonly limiter: RequestLimiter;
  readonly fetch?: typeof fetch;
  readonly now?: () => number;
  readonly newId?: () => string;
  readonly logger?: Logger;
  /** Pauses of a worker waiting for another worker's token refresh. */
  readonly sleep?: (ms: number) => Promise<void>;
  readonly random?: () => number;
}

/**
 * Assembles the worker's collaborators once per container (Lambda) or process (local mode).
 * Clients, caches and config live as long as the container; nothing here is per message.
 */
export const createSyncWorkerDeps = (runtime: RuntimeDeps): HandleSyncMessageDeps => {
  const { config, clients } = runtime;
  const now = runtime.now ?? Date.now;
  const logger = runtime.logger ?? sharedLogger;
  const newId = runtime.newId ?? randomUUID;
  const http = { fetch: runtime.fetch ?? fetch, timeoutMs: config.zohoTimeoutMs };
  return {
    connections: createConnectionStore({
      secretsManager: clients.secretsManager,
      secretPrefix: config.secretPrefix,
      cacheTtlMs: config.cacheTtlSeconds * 1000,
      now,
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
    limiter: runtime.limiter,
    crm: createCrmClient(http),
    books: createBooksClient(http),
    mappings: createMappingStore({ dynamodb: clients.dynamodb, tableName: config.tableName }),
    alerts: createAlertPublisher({ sns: clients.sns, topicArn: config.alertTopicArn, logger }),
    secretPrefix: config.secretPrefix,
    maxBackoffAttempts: config.maxBackoffAttempts,
    backoffBaseSeconds: config.backoffBaseSeconds,
    backoffMaxSeconds: config.backoffMaxSeconds,
    now,
    logger,
    requeue: (message, delaySeconds) =>
      sendQueueMessage(clients.sqs, config.syncQueueUrl, {
        id: message.messageId,
        body: JSON.stringify(message),
        connectionId: message.connectionId,
        delaySeconds,
      }),
    deadLetter: async (message, failure) => {
      if (config.deadLetterQueueUrl === undefined) {
        throw new Error('cannot dead-letter: no dead-letter queue configured');
      }
      const body = typeof message === 'string' ? message : JSON.stringify(message);
      await sendQueueMessage(clients.sqs, config.deadLetterQueueUrl, {
        id: typeof message === 'string' ? newId() : message.messageId,
        body,
        connectionId: typeof message === 'string' ? 'unknown' : message.connectionId,
      });
      logger.debug('message dead-lettered', { entry_id: failure.entryId });
    },
  };
};
