import { createAlertGate, createAlertPublisher } from '../alerts';
import { type AwsClients, sendQueueMessage } from '../aws';
import { createConfiguredBreaker } from '../breaker';
import type { Config } from '../config';
import { createRequestLimiter } from '../limits/create-request-limiter';
import type { RequestLimiter } from '../limits/request-limiter';
import {
  createPowertoolsMetricsRecorder,
  type Logger,
  type MetricsRecorder,
} from '../observability';
import { createParkedWorkStore, SCHEDULED_SHELF } from '../parking/parked-work-store';
import { createConnectionAccess } from '../tokens/connection-access';
import { createBooksClient, createCrmClient } from '../zoho';
import type { HandleSyncMessageDeps } from './handle-sync-message';
import { createMappingStore } from './mapping-store';

export interface RuntimeDeps {
  readonly config: Config;
  readonly clients: AwsClients;
  /** @default the shared DynamoDB request budget of lib/limits ({@link createRequestLimiter}) */
  readonly limiter?: RequestLimiter;
  readonly fetch?: typeof fetch;
  readonly now?: () => number;
  readonly newId?: () => string;
  readonly logger?: Logger;
  /** Pauses of a worker waiting for another worker's token refresh. */
  readonly sleep?: (ms: number) => Promise<void>;
  readonly random?: () => number;
  /**
   * Metrics of failures, dead-lettering, the circuit breaker and alerts.
   * @default Powertools Metrics in namespace ZohoSync
   */
  readonly metrics?: MetricsRecorder;
}

/**
 * Assembles the worker's collaborators once per container (Lambda) or process (local mode).
 * Clients, caches and config live as long as the container; nothing here is per message.
 */
export const createSyncWorkerDeps = (runtime: RuntimeDeps): HandleSyncMessageDeps => {
  const { config, clients } = runtime;
  const { connections, tokens, http, now, newId, logger } = createConnectionAccess(runtime);
  const metrics = runtime.metrics ?? createPowertoolsMetricsRecorder();
  const alerts = createAlertPublisher({
    sns: clients.sns,
    topicArn: config.alertTopicArn,
    logger,
    metrics,
  });
  const parked = createParkedWorkStore({ dynamodb: clients.dynamodb, tableName: config.tableName });
  const limiter =
    runtime.limiter ??
    createRequestLimiter({
      dynamodb: clients.dynamodb,
      tableName: config.tableName,
      now,
      newId,
      logger,
      alerts,
      metrics,
      secretPrefix: config.secretPrefix,
      // An in-flight lease must outlast the slowest Zoho call.
      leaseMs: Math.max(30_000, 3 * config.zohoTimeoutMs),
      clockSkewMs: config.budgetClockSkewMs,
    });
  return {
    connections,
    tokens,
    limiter,
    crm: createCrmClient(http),
    books: createBooksClient(http),
    mappings: createMappingStore({ dynamodb: clients.dynamodb, tableName: config.tableName }),
    // A record's lease must outlast the slowest sync of one record (a few Zoho calls).
    recordLeaseMs: Math.max(30_000, 3 * config.zohoTimeoutMs),
    alertGate: createAlertGate({
      dynamodb: clients.dynamodb,
      tableName: config.tableName,
      publisher: alerts,
      now,
      windowMs: config.alertDedupeWindowSeconds * 1000,
      stormThreshold: config.alertStormThreshold,
      metrics,
      logger,
    }),
    breaker: createConfiguredBreaker({ config, clients, alerts, metrics, logger, now }),
    metrics,
    secretPrefix: config.secretPrefix,
    maxBackoffAttempts: config.maxBackoffAttempts,
    backoffBaseSeconds: config.backoffBaseSeconds,
    backoffMaxSeconds: config.backoffMaxSeconds,
    maxDeferralAgeMs: config.maxDeferralAgeHours * 3_600_000,
    // A Zoho call may take the whole Zoho timeout; the deferral after it one AWS call.
    callReserveMs: config.zohoTimeoutMs + 5_000,
    now,
    logger,
    requeue: (message, delaySeconds) =>
      sendQueueMessage(clients.sqs, config.syncQueueUrl, {
        id: message.messageId,
        body: JSON.stringify(message),
        connectionId: message.connectionId,
        delaySeconds,
      }),
    park: (message, releaseAtMs) =>
      parked
        .park(SCHEDULED_SHELF, {
          messageId: message.messageId,
          connectionId: message.connectionId,
          body: JSON.stringify(message),
          atMs: releaseAtMs,
        })
        .then(() => undefined),
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
