import {
  type AttributeValue,
  DeleteItemCommand,
  type DynamoDBClient,
  QueryCommand,
  TransactionCanceledException,
  TransactWriteItemsCommand,
} from '@aws-sdk/client-dynamodb';
import { TABLE_KEY, tableKeys, toKeyAttributes } from '../aws';

export interface BreakerParkingDeps {
  readonly dynamodb: DynamoDBClient;
  readonly tableName: string;
}

/** One message parked while its connection's breaker was open. */
export interface BreakerParkedMessage {
  readonly connectionId: string;
  readonly messageId: string;
  /** The sync message body, exactly as it will be sent back to the sync queue. */
  readonly body: string;
  readonly parkedAtMs: number;
}

/**
 * Work held back while a connection's breaker is open: one item per message under the
 * connection (`tableKeys.breakerParked`), without TTL, because parked work must never vanish.
 * Released (sent back to the sync queue) when the breaker closes.
 */
export interface BreakerParking {
  /**
   * Parks a message, atomically with a check that the breaker is still the same opening: a
   * message can never be parked behind a breaker that has just closed (it would wait forever).
   * @returns false when the breaker closed or re-opened meanwhile (the caller re-decides).
   */
  park(message: BreakerParkedMessage, breakerOpenedAtMs: number): Promise<boolean>;
  /** Parked messages sorted by parking time; with a `limit`, any `limit` of them. */
  list(connectionId: string, limit?: number): Promise<BreakerParkedMessage[]>;
  count(connectionId: string): Promise<number>;
  remove(connectionId: string, messageId: string): Promise<void>;
}

const toParked = (
  connectionId: string,
  item: Record<string, AttributeValue>,
): BreakerParkedMessage | undefined => {
  const body = item.body?.S;
  const messageId = item.messageId?.S;
  if (body === undefined || messageId === undefined) return undefined;
  return { connectionId, messageId, body, parkedAtMs: Number(item.parkedAtMs?.N ?? 0) };
};

export const createBreakerParking = (deps: BreakerParkingDeps): BreakerParking => {
  const prefix = (connectionId: string) => tableKeys.breakerParked(connectionId);

  const query = async (
    connectionId: string,
    select: 'ALL_ATTRIBUTES' | 'COUNT',
    limit: number,
  ): Promise<{ items: Record<string, AttributeValue>[]; count: number }> => {
    const { pk, sk } = prefix(connectionId);
    const items: Record<string, AttributeValue>[] = [];
    let count = 0;
    let startKey: Record<string, AttributeValue> | undefined;
    do {
      const page = await deps.dynamodb.send(
        new QueryCommand({
          TableName: deps.tableName,
          KeyConditionExpression: '#pk = :pk AND begins_with(#sk, :prefix)',
          ExpressionAttributeNames: { '#pk': TABLE_KEY.partition, '#sk': TABLE_KEY.sort },
          ExpressionAttributeValues: { ':pk': { S: pk }, ':prefix': { S: sk } },
          ConsistentRead: true,
          Select: select,
          ExclusiveStartKey: startKey,
        }),
      );
      items.push(...(page.Items ?? []));
      count += page.Count ?? 0;
      startKey = page.LastEvaluatedKey;
    } while (startKey !== undefined && items.length < limit);
    return { items, count };
  };

  return {
    async park(message, breakerOpenedAtMs) {
      try {
        await deps.dynamodb.send(
          new TransactWriteItemsCommand({
            TransactItems: [
              {
                ConditionCheck: {
                  TableName: deps.tableName,
                  Key: toKeyAttributes(tableKeys.circuitBreaker(message.connectionId)),
                  ConditionExpression: 'openedAtMs = :opened',
                  ExpressionAttributeValues: { ':opened': { N: String(breakerOpenedAtMs) } },
                },
              },
              {
                Put: {
                  TableName: deps.tableName,
                  Item: {
                    ...toKeyAttributes(
                      tableKeys.breakerParked(message.connectionId, message.messageId),
                    ),
                    messageId: { S: message.messageId },
                    body: { S: message.body },
                    parkedAtMs: { N: String(message.parkedAtMs) },
                  },
                },
              },
            ],
          }),
        );
        return true;
      } catch (error) {
        const breakerChanged =
          error instanceof TransactionCanceledException &&
          error.CancellationReasons?.[0]?.Code === 'ConditionalCheckFailed';
        if (breakerChanged) return false;
        throw error;
      }
    },

    async list(connectionId, limit = Number.POSITIVE_INFINITY) {
      const { items } = await query(connectionId, 'ALL_ATTRIBUTES', limit);
      return items
        .map((item) => toParked(connectionId, item))
        .filter((parked) => parked !== undefined)
        .sort((a, b) => a.parkedAtMs - b.parkedAtMs)
        .slice(0, limit);
    },

    async count(connectionId) {
      return (await query(connectionId, 'COUNT', Number.POSITIVE_INFINITY)).count;
    },

    async remove(connectionId, messageId) {
      await deps.dynamodb.send(
        new DeleteItemCommand({
          TableName: deps.tableName,
          Key: toKeyAttributes(tableKeys.breakerParked(connectionId, messageId)),
        }),
      );
    },
  };
};
