import { randomUUID } from 'node:crypto';
import { type AwsClients, sendQueueMessages } from '../aws';
import type { Config } from '../config';
import { type Logger, logger as sharedLogger } from '../observability';
import { createConnectionStore } from '../tokens/connection-store';
import type { IngestWebhookDeps } from './ingest-webhook';

/** Assembles the webhook function's collaborators once per container. */
export const createWebhookDeps = (runtime: {
  readonly config: Config;
  readonly clients: AwsClients;
  readonly now?: () => number;
  readonly newId?: () => string;
  readonly logger?: Logger;
}): IngestWebhookDeps => {
  const now = runtime.now ?? Date.now;
  const connections = createConnectionStore({
    secretsManager: runtime.clients.secretsManager,
    secretPrefix: runtime.config.secretPrefix,
    cacheTtlMs: runtime.config.cacheTtlSeconds * 1000,
    now,
  });
  return {
    getConnection: (connectionId) => connections.get(connectionId),
    enqueue: (messages) =>
      sendQueueMessages(
        runtime.clients.sqs,
        runtime.config.syncQueueUrl,
        messages.map((message) => ({
          id: message.messageId,
          body: JSON.stringify(message),
          connectionId: message.connectionId,
        })),
      ),
    newId: runtime.newId ?? randomUUID,
    now,
    logger: runtime.logger ?? sharedLogger,
  };
};
