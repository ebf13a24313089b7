import {
  type AttributeValue,
  BatchWriteItemCommand,
  type DynamoDBClient,
  PutItemCommand,
  QueryCommand,
  TransactionCanceledException,
  TransactWriteItemsCommand,
} from '@aws-sdk/client-dynamodb';
import {
  type ParkingShelf,
  parkingShelfPk,
  TABLE_KEY,
  type TableKey,
  tableKeys,
  toKeyAttributes,
} from '../aws';

/**
 * The one store of parked work: sync messages held in DynamoDB instead of the queue, because
 * they must wait longer than SQS can delay one (a spent daily quota waits for the next quota
 * day) or because their connection's circuit breaker is open. Each message is one item on the
 * shelf of what releases it (`tableKeys.parkedWork`): the scheduled release takes what is due
 * from the `schedule` shelf, a closing breaker empties its connection's shelf. Items have no
 * TTL: parked work must never vanish.
 */
export interface ParkedWorkStoreDeps {
  readonly dynamodb: DynamoDBClient;
  readonly tableName: string;
}

/** A sync message to park, exactly as it goes back onto the sync queue. */
export interface WorkToPark {
  readonly messageId: string;
  readonly connectionId: string;
  /** The message body exactly as it goes back onto the sync queue. */
  readonly body: string;
  /** On the schedule shelf, when it is due back; on a breaker's shelf, when it was parked. */
  readonly atMs: number;
}

/** A parked message as stored. */
export interface ParkedMessage extends WorkToPark {
  readonly key: TableKey;
}

/** A condition on another item that must hold for a message to be parked (checked atomically). */
export interface ParkCondition {
  readonly key: TableKey;
  readonly expression: string;
  readonly values: Record<string, AttributeValue>;
}

export interface ParkedWorkStore {
  /**
   * Parks a message on a shelf. Idempotent: parking the same message for the same time again
   * overwrites the one item. With `onlyIf`, parks only while that condition holds (the breaker
   * is still the same opening), atomically.
   * @returns false when `onlyIf` did not hold (nothing parked).
   */
  park(shelf: ParkingShelf, message: WorkToPark, onlyIf?: ParkCondition): Promise<boolean>;
  /**
   * Parked messages on a shelf, oldest (earliest `atMs`) first, at most `limit`; with
   * `dueByMs`, only those whose time is at or before it.
   */
  list(
    shelf: ParkingShelf,
    options?: { readonly dueByMs?: number; readonly limit?: number },
  ): Promise<ParkedMessage[]>;
  count(shelf: ParkingShelf): Promise<number>;
  /** Removes released messages (after they are back on the queue). */
  remove(messages: readonly ParkedMessage[]): Promise<void>;
}

/** The shelf the scheduled release (`releaseParkedWork`) empties as messages fall due. */
export const SCHEDULED_SHELF: ParkingShelf = { releasedBy: 'schedule' };

/** The shelf of work held while a connection's breaker is open; emptied when it closes. */
export const breakerShelf = (connectionId: string): ParkingShelf => ({
  releasedBy: 'breaker',
  connectionId,
});

/** Sorts after every message id (UUIDs and ids of `[A-Za-z0-9-_]`). */
const AFTER_ANY_ID = '~';
const BATCH_WRITE_LIMIT = 25;
const MAX_UNPROCESSED_ROUNDS = 5;
const PAGE_LIMIT = 100;

const keyOf = (shelf: ParkingShelf, message: WorkToPark): TableKey =>
  tableKeys.parkedWork(shelf, new Date(message.atMs).toISOString(), message.messageId);

const toParked = (item: Record<string, AttributeValue>): ParkedMessage | undefined => {
  const pk = item[TABLE_KEY.partition]?.S;
  const sk = item[TABLE_KEY.sort]?.S;
  const body = item.body?.S;
  if (pk === undefined || sk === undefined || body === undefined) return undefined;
  return {
    messageId: item.messageId?.S ?? sk,
    connectionId: item.connectionId?.S ?? 'unknown',
    body,
    // Items written before the stores merged carry `releaseAtMs`; their sort key starts with it.
    atMs: Number(item.atMs?.N ?? item.releaseAtMs?.N ?? Date.parse(sk.split('#')[0] ?? '')),
    key: { pk, sk },
  };
};

export const createParkedWorkStore = (deps: ParkedWorkStoreDeps): ParkedWorkStore => {
  const query = async (
    shelf: ParkingShelf,
    select: 'ALL_ATTRIBUTES' | 'COUNT',
    dueByMs: number | undefined,
    limit: number,
  ): Promise<{ items: Record<string, AttributeValue>[]; count: number }> => {
    const upper =
      dueByMs === undefined
        ? undefined
        : tableKeys.parkedWork(shelf, new Date(dueByMs).toISOString(), AFTER_ANY_ID).sk;
    const items: Record<string, AttributeValue>[] = [];
    let count = 0;
    let startKey: Record<string, AttributeValue> | undefined;
    do {
      const page = await deps.dynamodb.send(
        new QueryCommand({
          TableName: deps.tableName,
          KeyConditionExpression: upper === undefined ? '#pk = :pk' : '#pk = :pk AND #sk <= :upper',
          ExpressionAttributeNames:
            upper === undefined
              ? { '#pk': TABLE_KEY.partition }
              : { '#pk': TABLE_KEY.partition, '#sk': TABLE_KEY.sort },
          ExpressionAttributeValues: {
            ':pk': { S: parkingShelfPk(shelf) },
            ...(upper === undefined ? {} : { ':upper': { S: upper } }),
          },
          ConsistentRead: true,
          Select: select,
          ...(select === 'COUNT' ? {} : { Limit: Math.min(PAGE_LIMIT, limit - items.length) }),
          ...(startKey === undefined ? {} : { ExclusiveStartKey: startKey }),
        }),
      );
      items.push(...(page.Items ?? []));
      count += page.Count ?? 0;
      startKey = page.LastEvaluatedKey;
    } while (startKey !== undefined && items.length < limit);
    return { items, count };
  };

  return {
    async park(shelf, message, onlyIf) {
      const item = {
        ...toKeyAttributes(keyOf(shelf, message)),
        messageId: { S: message.messageId },
        connectionId: { S: message.connectionId },
        body: { S: message.body },
        atMs: { N: String(message.atMs) },
      };
      if (onlyIf === undefined) {
        await deps.dynamodb.send(new PutItemCommand({ TableName: deps.tableName, Item: item }));
        return true;
      }
      try {
        await deps.dynamodb.send(
          new TransactWriteItemsCommand({
            TransactItems: [
              {
                ConditionCheck: {
                  TableName: deps.tableName,
                  Key: toKeyAttributes(onlyIf.key),
                  ConditionExpression: onlyIf.expression,
                  ExpressionAttributeValues: onlyIf.values,
                },
              },
              { Put: { TableName: deps.tableName, Item: item } },
            ],
          }),
        );
        return true;
      } catch (error) {
        const conditionFailed =
          error instanceof TransactionCanceledException &&
          error.CancellationReasons?.[0]?.Code === 'ConditionalCheckFailed';
        if (conditionFailed) return false;
        throw error;
      }
    },

    async list(shelf, options = {}) {
      const limit = options.limit ?? Number.POSITIVE_INFINITY;
      const { items } = await query(shelf, 'ALL_ATTRIBUTES', options.dueByMs, limit);
      return items
        .map(toParked)
        .filter((parked) => parked !== undefined)
        .slice(0, limit);
    },

    async count(shelf) {
      return (await query(shelf, 'COUNT', undefined, Number.POSITIVE_INFINITY)).count;
    },

    async remove(messages) {
      for (let start = 0; start < messages.length; start += BATCH_WRITE_LIMIT) {
        let requests = messages.slice(start, start + BATCH_WRITE_LIMIT).map((message) => ({
          DeleteRequest: { Key: toKeyAttributes(message.key) as Record<string, AttributeValue> },
        }));
        for (let round = 0; requests.length > 0; round += 1) {
          if (round >= MAX_UNPROCESSED_ROUNDS) {
            // Left for the next release: it sends them again (a duplicate, never a loss).
            throw new Error(`could not remove ${requests.length} released parked messages`);
          }
          const result = await deps.dynamodb.send(
            new BatchWriteItemCommand({ RequestItems: { [deps.tableName]: requests } }),
          );
          requests = (result.UnprocessedItems?.[deps.tableName] ?? []).flatMap((request) =>
            request.DeleteRequest?.Key === undefined
              ? []
              : [{ DeleteRequest: { Key: request.DeleteRequest.Key } }],
          );
        }
      }
    },
  };
};
