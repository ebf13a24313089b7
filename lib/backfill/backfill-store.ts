import {
  type AttributeValue,
  type DynamoDBClient,
  GetItemCommand,
  PutItemCommand,
  QueryCommand,
} from '@aws-sdk/client-dynamodb';
import { TABLE_KEY, tableKeys, toKeyAttributes, ttlAttribute } from '../aws';
import type { SyncedCrmModule } from '../sync/crm-modules';

/** How far a backfill has read one CRM module (keyset paging on Modified_Time, as the sweep). */
export interface ModuleCursor {
  readonly modifiedAtMs: number;
  readonly idsAtCursor: readonly string[];
  /** Every page of the module has been read and queued. */
  readonly done: boolean;
}

/** A backfill's checkpoint: enough to carry on after Ctrl-C without redoing anything. */
export interface BackfillCheckpoint {
  /** Outcomes of this run are filed under it; a restart starts a new one. */
  readonly runId: string;
  readonly modules: readonly SyncedCrmModule[];
  readonly sinceMs: number | undefined;
  readonly share: number;
  readonly startedAtMs: number;
  readonly cursors: Readonly<Partial<Record<SyncedCrmModule, ModuleCursor>>>;
  /** Records found in CRM (and queued: a page is queued before the checkpoint moves). */
  readonly found: number;
  /** The time the next queued record is scheduled for (pacing to the share of the budget). */
  readonly nextSlotAtMs: number;
  /** Records already scheduled in the window starting at `nextSlotAtMs`. */
  readonly slotFill: number;
  readonly updatedAtMs: number;
}

export type BackfillOutcome = 'synced' | 'skipped' | 'failed';

export interface OutcomeCounts {
  readonly synced: number;
  readonly skipped: number;
  readonly failed: number;
}

export interface BackfillStore {
  getCheckpoint(connectionId: string, runKey: string): Promise<BackfillCheckpoint | undefined>;
  putCheckpoint(
    connectionId: string,
    runKey: string,
    checkpoint: BackfillCheckpoint,
  ): Promise<void>;
  /** Idempotent: the latest outcome of a record wins (a redriven failure can become synced). */
  recordOutcome(
    connectionId: string,
    runId: string,
    crmModule: string,
    crmRecordId: string,
    outcome: BackfillOutcome,
  ): Promise<void>;
  getOutcome(
    connectionId: string,
    runId: string,
    crmModule: string,
    crmRecordId: string,
  ): Promise<BackfillOutcome | undefined>;
  countOutcomes(connectionId: string, runId: string): Promise<OutcomeCounts>;
}

/** Outcomes and checkpoints are kept this long after their last write, then TTL removes them. */
const KEEP_MS = 30 * 86_400_000;

export const createBackfillStore = (deps: {
  readonly dynamodb: DynamoDBClient;
  readonly tableName: string;
  readonly now: () => number;
}): BackfillStore => ({
  async getCheckpoint(connectionId, runKey) {
    const result = await deps.dynamodb.send(
      new GetItemCommand({
        TableName: deps.tableName,
        Key: toKeyAttributes(tableKeys.backfillCheckpoint(connectionId, runKey)),
        ConsistentRead: true,
      }),
    );
    const json = result.Item?.checkpoint?.S;
    return json === undefined ? undefined : (JSON.parse(json) as BackfillCheckpoint);
  },
  async putCheckpoint(connectionId, runKey, checkpoint) {
    await deps.dynamodb.send(
      new PutItemCommand({
        TableName: deps.tableName,
        Item: {
          ...toKeyAttributes(tableKeys.backfillCheckpoint(connectionId, runKey)),
          checkpoint: { S: JSON.stringify(checkpoint) },
          [TABLE_KEY.ttl]: ttlAttribute(deps.now() + KEEP_MS),
        },
      }),
    );
  },
  async recordOutcome(connectionId, runId, crmModule, crmRecordId, outcome) {
    await deps.dynamodb.send(
      new PutItemCommand({
        TableName: deps.tableName,
        Item: {
          ...toKeyAttributes(
            tableKeys.backfillOutcome(connectionId, runId, crmModule, crmRecordId),
          ),
          outcome: { S: outcome },
          atMs: { N: String(deps.now()) },
          [TABLE_KEY.ttl]: ttlAttribute(deps.now() + KEEP_MS),
        },
      }),
    );
  },
  async getOutcome(connectionId, runId, crmModule, crmRecordId) {
    const result = await deps.dynamodb.send(
      new GetItemCommand({
        TableName: deps.tableName,
        Key: toKeyAttributes(
          tableKeys.backfillOutcome(connectionId, runId, crmModule, crmRecordId),
        ),
        ConsistentRead: true,
      }),
    );
    const outcome = result.Item?.outcome?.S;
    return outcome === 'synced' || outcome === 'skipped' || outcome === 'failed'
      ? outcome
      : undefined;
  },
  async countOutcomes(connectionId, runId) {
    const counts = { synced: 0, skipped: 0, failed: 0 };
    let startKey: Record<string, AttributeValue> | undefined;
    do {
      const page = await deps.dynamodb.send(
        new QueryCommand({
          TableName: deps.tableName,
          KeyConditionExpression: '#pk = :pk',
          ExpressionAttributeNames: { '#pk': TABLE_KEY.partition, '#outcome': 'outcome' },
          ExpressionAttributeValues: {
            ':pk': { S: tableKeys.backfillOutcome(connectionId, runId).pk },
          },
          ProjectionExpression: '#outcome',
          ConsistentRead: true,
          ...(startKey === undefined ? {} : { ExclusiveStartKey: startKey }),
        }),
      );
      for (const item of page.Items ?? []) {
        const outcome = item.outcome?.S;
        if (outcome === 'synced' || outcome === 'skipped' || outcome === 'failed') {
          counts[outcome] += 1;
        }
      }
      startKey = page.LastEvaluatedKey;
    } while (startKey !== undefined);
    return counts;
  },
});
