import { BatchProcessor, EventType, processPartialResponse } from '@aws-lambda-powertools/batch';
import type { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import type { SQSBatchResponse, SQSEvent, SQSRecord } from 'aws-lambda';
import { TABLE_KEY } from '../aws';
import { createBackfillStore, withBackfillProgress } from '../backfill';
import type { SqsHandler } from '../local/sqs-poller';
import {
  createSyncWorkerDeps,
  type HandleSyncMessageDeps,
  prepareSyncBatch,
  type RuntimeDeps,
} from '../sync';

/** One simulated Lambda container of the sync worker. */
export interface WorkerContainer {
  /** The SQS handler, as `functions/sync-worker.ts` exports it (minus the logger middleware). */
  readonly handler: SqsHandler;
  readonly deps: HandleSyncMessageDeps;
}

/**
 * Builds what one Lambda container of the sync worker holds: the deps assembled once by
 * `createSyncWorkerDeps` (its own limiter, token cache and clients) and a Powertools
 * BatchProcessor running `prepareSyncBatch`'s handler per record, exactly as `functions/sync-worker.ts`
 * does at module scope. Local mode and tests can run many of them in one process to play many
 * containers; `functions/sync-worker.ts` itself is one module instance per process.
 * `decorate` lets a benchmark swap a collaborator (the naive baseline's Books client).
 */
export const createWorkerContainer = (
  runtime: RuntimeDeps,
  decorate: (deps: HandleSyncMessageDeps) => HandleSyncMessageDeps = (deps) => deps,
): WorkerContainer => {
  const deps = decorate(createSyncWorkerDeps(runtime));
  const track = withBackfillProgress(
    createBackfillStore({
      dynamodb: runtime.clients.dynamodb,
      tableName: runtime.config.tableName,
      now: runtime.now ?? Date.now,
    }),
  );
  const processor = new BatchProcessor(EventType.SQS);
  const handler = (
    event: SQSEvent,
    context: Parameters<SqsHandler>[1],
  ): Promise<SQSBatchResponse> =>
    prepareSyncBatch(deps, event.Records, {
      remainingTimeMs: () => context.getRemainingTimeInMillis(),
    }).then((handle) =>
      processPartialResponse(
        event,
        async (record: SQSRecord) => {
          await track(record.body, () => handle(record.messageId));
        },
        processor,
        { context },
      ),
    );
  return { handler, deps };
};

/** Counts the calls a DynamoDB client sends, with an SDK middleware. */
export interface DynamoDbCallCounter {
  total(): number;
  /** Calls on the request budget's items (lib/limits): day budgets and quota-alert marks. */
  budget(): number;
  byCommand(): Readonly<Record<string, number>>;
}

type KeyedInput = {
  readonly Key?: Record<string, { S?: string }>;
  readonly Item?: Record<string, { S?: string }>;
};

const isBudgetItem = (input: KeyedInput): boolean => {
  const key = input.Key ?? input.Item;
  const pk = key?.[TABLE_KEY.partition]?.S ?? '';
  const sk = key?.[TABLE_KEY.sort]?.S ?? '';
  return pk.startsWith('ORG#') || sk.startsWith('QUOTA-ALERT#');
};

export const countDynamoDbCalls = (client: DynamoDBClient): DynamoDbCallCounter => {
  const counts = new Map<string, number>();
  let budget = 0;
  client.middlewareStack.add(
    (next, context) => async (args) => {
      const name = context.commandName ?? 'unknown';
      counts.set(name, (counts.get(name) ?? 0) + 1);
      if (isBudgetItem(args.input as KeyedInput)) budget += 1;
      return next(args);
    },
    { step: 'initialize', name: 'zohoSyncBenchCallCounter' },
  );
  return {
    total: () => [...counts.values()].reduce((sum, value) => sum + value, 0),
    budget: () => budget,
    byCommand: () => Object.fromEntries(counts),
  };
};
