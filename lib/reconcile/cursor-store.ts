import { type DynamoDBClient, GetItemCommand, PutItemCommand } from '@aws-sdk/client-dynamodb';
import { tableKeys, toKeyAttributes } from '../aws';

/** How far the sweep has read one CRM module of one connection. */
export interface ReconcileCursor {
  /** The latest `Modified_Time` (epoch ms) whose records were all enqueued. */
  readonly modifiedAtMs: number;
  /**
   * Ids enqueued whose `Modified_Time` is exactly `modifiedAtMs`: the next page starts at that
   * second again (CRM times have whole seconds, so a later change in the same second would
   * otherwise be missed), and these are not enqueued twice.
   */
  readonly idsAtCursor: readonly string[];
}

export interface ReconcileCursorStore {
  get(connectionId: string, crmModule: string): Promise<ReconcileCursor | undefined>;
  put(connectionId: string, crmModule: string, cursor: ReconcileCursor): Promise<void>;
}

/** One item per connection and module (`tableKeys.reconcileCursor`), no TTL: it is the state. */
export const createReconcileCursorStore = (deps: {
  readonly dynamodb: DynamoDBClient;
  readonly tableName: string;
  readonly now: () => number;
}): ReconcileCursorStore => ({
  async get(connectionId, crmModule) {
    const result = await deps.dynamodb.send(
      new GetItemCommand({
        TableName: deps.tableName,
        Key: toKeyAttributes(tableKeys.reconcileCursor(connectionId, crmModule)),
        ConsistentRead: true,
      }),
    );
    const item = result.Item;
    if (item?.modifiedAtMs?.N === undefined) return undefined;
    return {
      modifiedAtMs: Number(item.modifiedAtMs.N),
      idsAtCursor: (item.idsAtCursor?.L ?? []).flatMap((value) =>
        value.S === undefined ? [] : [value.S],
      ),
    };
  },
  async put(connectionId, crmModule, cursor) {
    await deps.dynamodb.send(
      new PutItemCommand({
        TableName: deps.tableName,
        Item: {
          ...toKeyAttributes(tableKeys.reconcileCursor(connectionId, crmModule)),
          modifiedAtMs: { N: String(cursor.modifiedAtMs) },
          // For people reading the table; the code reads modifiedAtMs.
          modifiedAt: { S: new Date(cursor.modifiedAtMs).toISOString() },
          idsAtCursor: { L: cursor.idsAtCursor.map((id) => ({ S: id })) },
          updatedAtMs: { N: String(deps.now()) },
        },
      }),
    );
  },
});
