import {
  BatchWriteItemCommand,
  type DynamoDBClient,
  PutItemCommand,
  QueryCommand,
} from '@aws-sdk/client-dynamodb';
import { TABLE_KEY, tableKeys, toKeyAttributes } from '../aws';

/**
 * Durable storage for sync messages deferred longer than SQS can delay one (15 minutes): a
 * spent daily quota waits for the next quota day. Each parked message is one item under the
 * partition `PARKED`, sorted by release time (`tableKeys.parkedWork`), so the scheduled release
 * reads "everything due by T" with one query. Items have no TTL: parked work must never vanish.
 */
export interface ParkedWorkStoreDeps {
  readonly dynamodb: DynamoDBClient;
  readonly tableName: string;
}

/** A parked message as stored. */
export interface ParkedMessage {
  readonly messageId: string;
  readonly connectionId: string;
  /** The message body exactly as it goes back onto the sync queue. */
  readonly body: string;
  readonly releaseAtMs: number;
  readonly key: { readonly pk: string; readonly sk: string };
}

export interface ParkedWorkStore {
  /**
   * Stores a message until `releaseAtMs`. Idempotent: parking the same message for the same
   * time again overwrites the one item.
   */
  park(message: Omit<ParkedMessage, 'key'>): Promise<void>;
  /** Parked messages due by `dueByMs`, oldest first, at most `limit`. */
  due(dueByMs: number, limit: number): Promise<ParkedMessage[]>;
  /** Removes released messages (after they are back on the queue). */
  remove(messages: readonly ParkedMessage[]): Promise<void>;
}

const PARKED_PARTITION = tableKeys.parkedWork('', '').pk;

/** Sorts after every message id (UUIDs and ids of `[A-Za-z0-9-_]`). */
const AFTER_ANY_ID = '~';

const BATCH_WRITE_LIMIT = 25;
const MAX_UNPROCESSED_ROUNDS = 5;

export const createParkedWorkStore = (deps: ParkedWorkStoreDeps): ParkedWorkStore => ({
  async park(message) {
    const key = tableKeys.parkedWork(
      new Date(message.releaseAtMs).toISOString(),
      message.messageId,
    );
    await deps.dynamodb.send(
      new PutItemCommand({
        TableName: deps.tableName,
        Item: {
          ...toKeyAttributes(key),
          messageId: { S: message.messageId },
          connectionId: { S: message.connectionId },
          body: { S: message.body },
          releaseAtMs: { N: String(message.releaseAtMs) },
        },
      }),
    );
  },

  async due(dueByMs, limit) {
    const upper = tableKeys.parkedWork(new Date(dueByMs).toISOString(), AFTER_ANY_ID).sk;
    const found: ParkedMessage[] = [];
    let startKey: Record<string, { S: string }> | undefined;
    do {
      const page = await deps.dynamodb.send(
        new QueryCommand({
          TableName: deps.tableName,
          KeyConditionExpression: '#pk = :pk AND #sk <= :upper',
          ExpressionAttributeNames: { '#pk': TABLE_KEY.partition, '#sk': TABLE_KEY.sort },
          ExpressionAttributeValues: { ':pk': { S: PARKED_PARTITION }, ':upper': { S: upper } },
          ConsistentRead: true,
          Limit: Math.min(100, limit - found.length),
          ...(startKey === undefined ? {} : { ExclusiveStartKey: startKey }),
        }),
      );
      for (const item of page.Items ?? []) {
        const pk = item[TABLE_KEY.partition]?.S;
        const sk = item[TABLE_KEY.sort]?.S;
        const body = item.body?.S;
        if (pk === undefined || sk === undefined || body === undefined) continue;
        found.push({
          messageId: item.messageId?.S ?? sk,
          connectionId: item.connectionId?.S ?? 'unknown',
          body,
          releaseAtMs: Number(item.releaseAtMs?.N ?? dueByMs),
          key: { pk, sk },
        });
      }
      startKey = page.LastEvaluatedKey as Record<string, { S: string }> | undefined;
    } while (startKey !== undefined && found.length < limit);
    return found;
  },

  async remove(messages) {
    for (let start = 0; start < messages.length; start += BATCH_WRITE_LIMIT) {
      let requests = messages.slice(start, start + BATCH_WRITE_LIMIT).map((message) => ({
        DeleteRequest: { Key: toKeyAttributes(message.key) },
      }));
      for (let round = 0; requests.length > 0; round += 1) {
        if (round >= MAX_UNPROCESSED_ROUNDS) {
          // Left for the next run: it sends them again (a duplicate, never a loss).
          throw new Error(`could not remove ${requests.length} released parked messages`);
        }
        const result = await deps.dynamodb.send(
          new BatchWriteItemCommand({ RequestItems: { [deps.tableName]: requests } }),
        );
        requests = (result.UnprocessedItems?.[deps.tableName] ?? []).flatMap((request) =>
          request.DeleteRequest?.Key === undefined
            ? []
            : [
                {
                  DeleteRequest: {
                    Key: request.DeleteRequest.Key as Record<string, { S: string }>,
                  },
                },
              ],
        );
      }
    }
  },
});
