import { randomUUID } from 'node:crypto';
import { type AwsClients, sendQueueMessages } from '../aws';
import type { Config } from '../config';
import { type Logger, logger as sharedLogger } from '../observability';
import { createWebhookSecretStore } from '../tokens/webhook-secret-store';
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
  // Only the webhook secret: this function's role cannot read the connection's credentials.
  const webhookSecrets = createWebhookSecretStore({
    secretsManager: runtime.clients.secretsManager,
    secretPrefix: runtime.config.secretPrefix,
    cacheTtlMs: runtime.config.cacheTtlSeconds * 1000,
    now,
  });
  return {
    getWebhookSecret: (connectionId, options) => webhookSecrets.get(connectionId, options),
    enqueue: (messages) =>
      sendQueueMessages(
        runtime.clients.sqs,
        runtime.config.syncQueueUrl,
        messages.map((message) => ({
          id: message.messageId,
          body: JSON.stringify(message),
          connectionId: message.connectionId,
          // Coalescing: quick edits of one record meet on the queue and are read once.
          delaySeconds: runtime.config.intakeDelaySeconds,
        })),
      ),
    newId: runtime.newId ?? randomUUID,
    now,
    logger: runtime.logger ?? sharedLogger,
  };
};
