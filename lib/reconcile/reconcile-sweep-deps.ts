import { type AwsClients, sendQueueMessages } from '../aws';
import type { Config } from '../config';
import type { Logger } from '../observability';
import { createMappingStore } from '../sync/mapping-store';
import { createConnectionAccess } from '../tokens/connection-access';
import { createCrmClient } from '../zoho';
import { createReconcileCursorStore } from './cursor-store';
import type { ReconcileSweepDeps } from './reconcile-sweep';

export interface ReconcileSweepRuntime {
  readonly config: Config;
  readonly clients: AwsClients;
  readonly fetch?: typeof fetch;
  readonly now?: () => number;
  readonly newId?: () => string;
  readonly logger?: Logger;
}

/** Assembles the reconciliation sweep's collaborators once per container. */
export const createReconcileSweepDeps = (runtime: ReconcileSweepRuntime): ReconcileSweepDeps => {
  const { config, clients } = runtime;
  const { connections, tokens, http, now, newId, logger, listConnectionIds } =
    createConnectionAccess(runtime);
  const mappings = createMappingStore({ dynamodb: clients.dynamodb, tableName: config.tableName });
  return {
    listConnectionIds,
    getConnection: (connectionId) => connections.get(connectionId),
    tokens,
    crm: createCrmClient(http),
    cursors: createReconcileCursorStore({
      dynamodb: clients.dynamodb,
      tableName: config.tableName,
      now,
    }),
    enqueue: (messages) =>
      sendQueueMessages(
        clients.sqs,
        config.syncQueueUrl,
        messages.map((message) => ({
          id: message.messageId,
          body: JSON.stringify(message),
          connectionId: message.connectionId,
        })),
      ),
    syncedModifiedTimes: (connectionId, crmModule, crmRecordIds) =>
      mappings.syncedModifiedTimes(connectionId, crmModule, crmRecordIds),
    now,
    newId,
    logger,
    lookbackMs: config.reconcileLookbackHours * 3_600_000,
    maxPages: config.reconcileMaxPages,
  };
};
