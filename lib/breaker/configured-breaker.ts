import type { AlertPublisher } from '../alerts';
import { type AwsClients, sendQueueMessages } from '../aws';
import type { Config } from '../config';
import type { Logger, MetricsRecorder } from '../observability';
import { createRefreshStopStore } from '../tokens';
import {
  type ConnectionBreaker,
  type ConnectionBreakerDeps,
  createConnectionBreaker,
} from './connection-breaker';

export interface ConfiguredBreakerDeps {
  readonly config: Config;
  readonly clients: AwsClients;
  readonly alerts: AlertPublisher;
  readonly metrics: MetricsRecorder;
  readonly logger: Logger;
  readonly now: () => number;
  /** @default SQS SendMessageBatch to the configured sync queue */
  readonly sendToSyncQueue?: ConnectionBreakerDeps['sendToSyncQueue'];
}

/**
 * The breaker as the worker and the CLI both use it: the one table, the sync queue, the
 * configured cool-down, and a reset that also lets the token store try refused credentials
 * again.
 */
export const createConfiguredBreaker = (deps: ConfiguredBreakerDeps): ConnectionBreaker => {
  const { config, clients } = deps;
  const refreshStops = createRefreshStopStore({
    dynamodb: clients.dynamodb,
    tableName: config.tableName,
    now: deps.now,
  });
  return createConnectionBreaker({
    dynamodb: clients.dynamodb,
    tableName: config.tableName,
    now: deps.now,
    cooldownMs: config.breakerCooldownSeconds * 1000,
    sendToSyncQueue:
      deps.sendToSyncQueue ??
      ((messages) =>
        sendQueueMessages(
          clients.sqs,
          config.syncQueueUrl,
          messages.map((message) => ({ ...message, id: message.messageId })),
        )),
    alerts: deps.alerts,
    metrics: deps.metrics,
    logger: deps.logger,
    clearRefreshStop: (connectionId) => refreshStops.clear(connectionId),
    // Trust "closed" no longer than a connection secret is cached.
    closedCacheMs: Math.min(5_000, config.cacheTtlSeconds * 1000),
  });
};
