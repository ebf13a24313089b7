import { type DynamoDBClient, GetItemCommand, PutItemCommand } from '@aws-sdk/client-dynamodb';
import { tableKeys, toKeyAttributes } from '../aws';
import type { BooksEntity } from './crm-modules';

export interface RecordMapping {
  readonly booksEntity: BooksEntity;
  readonly booksId: string;
  readonly syncedAtMs: number;
}

export interface MappingStore {
  get(
    connectionId: string,
    crmModule: string,
    crmRecordId: string,
  ): Promise<RecordMapping | undefined>;
  put(
    connectionId: string,
    crmModule: string,
    crmRecordId: string,
    mapping: RecordMapping,
  ): Promise<void>;
}

/**
 * CRM id <-> Books id, one item per CRM record. Books itself is the source of truth for
 * idempotency (every write is an upsert on the unique `cf_crm_id` custom field), so a crash
 * between the Books write and this put loses nothing: the next attempt upserts the same Books
 * record and writes the mapping then.
 */
export const createMappingStore = (deps: {
  readonly dynamodb: DynamoDBClient;
  readonly tableName: string;
}): MappingStore => ({
  async get(connectionId, crmModule, crmRecordId) {
    const result = await deps.dynamodb.send(
      new GetItemCommand({
        TableName: deps.tableName,
        Key: toKeyAttributes(tableKeys.recordMapping(connectionId, crmModule, crmRecordId)),
        ConsistentRead: true,
      }),
    );
    const item = result.Item;
    if (item?.booksId?.S === undefined || item.booksEntity?.S === undefined) return undefined;
    return {
      booksEntity: item.booksEntity.S as BooksEntity,
      booksId: item.booksId.S,
      syncedAtMs: Number(item.syncedAtMs?.N ?? 0),
    };
  },
  async put(connectionId, crmModule, crmRecordId, mapping) {
    await deps.dynamodb.send(
      new PutItemCommand({
        TableName: deps.tableName,
        Item: {
          ...toKeyAttributes(tableKeys.recordMapping(connectionId, crmModule, crmRecordId)),
          booksEntity: { S: mapping.booksEntity },
          booksId: { S: mapping.booksId },
          syncedAtMs: { N: String(mapping.syncedAtMs) },
        },
      }),
    );
  },
});
