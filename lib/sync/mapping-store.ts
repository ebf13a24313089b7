import {
  type AttributeValue,
  BatchGetItemCommand,
  type BatchGetItemCommandOutput,
  ConditionalCheckFailedException,
  type DynamoDBClient,
  GetItemCommand,
  PutItemCommand,
  UpdateItemCommand,
} from '@aws-sdk/client-dynamodb';
import { tableKeys, toKeyAttributes } from '../aws';
import type { BooksEntity } from './crm-modules';

export interface RecordMapping {
  readonly booksEntity: BooksEntity;
  /** The Books record; for a CRM Contact kept as a contact person, the Account's Books contact. */
  readonly booksId: string;
  readonly syncedAtMs: number;
  /** The CRM `Modified_Time` (epoch ms) of the read last written to Books. */
  readonly crmModifiedMs?: number;
  /** sha256 of the Books payload last written (see `payloadHash`). */
  readonly payloadHash?: string;
  /** Set when the CRM Contact lives in Books as a contact person of `booksId`. */
  readonly contactPersonId?: string;
  /** Set once the CRM record was deleted and the Books record marked inactive. */
  readonly inactive?: boolean;
}

/** What holding a record's lease gives: the mapping as it stood when the lease was taken. */
export interface RecordLease {
  readonly owner: string;
  readonly mapping: RecordMapping | undefined;
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
  /**
   * Takes the record's short lease (one conditional write on the mapping item), so one worker
   * at a time reads, compares and writes the record. Resolves `busy` with the time the current
   * holder's lease runs out when another worker holds it.
   */
  acquire(
    connectionId: string,
    crmModule: string,
    crmRecordId: string,
    lease: { readonly owner: string; readonly nowMs: number; readonly untilMs: number },
  ): Promise<RecordLease | { readonly busyUntilMs: number }>;
  /**
   * Writes the mapping and gives the lease back in one conditional write.
   * @returns false when the lease was no longer ours (it ran out and another worker took it).
   */
  commit(
    connectionId: string,
    crmModule: string,
    crmRecordId: string,
    owner: string,
    mapping: RecordMapping,
  ): Promise<boolean>;
  /** Gives the lease back without changing the mapping (a failure or a skip). */
  release(
    connectionId: string,
    crmModule: string,
    crmRecordId: string,
    owner: string,
  ): Promise<void>;
  /** Forgets what was last written, so the next sync of the record writes again. */
  invalidate(connectionId: string, crmModule: string, crmRecordId: string): Promise<void>;
  /** The `crmModifiedMs` of each given record that has one (records without are left out). */
  syncedModifiedTimes(
    connectionId: string,
    crmModule: string,
    crmRecordIds: readonly string[],
  ): Promise<ReadonlyMap<string, number>>;
}

type Item = Record<string, AttributeValue>;

const toMapping = (item: Item | undefined): RecordMapping | undefined => {
  if (item?.booksId?.S === undefined || item.booksEntity?.S === undefined) return undefined;
  return {
    booksEntity: item.booksEntity.S as BooksEntity,
    booksId: item.booksId.S,
    syncedAtMs: Number(item.syncedAtMs?.N ?? 0),
    ...(item.crmModifiedMs?.N === undefined ? {} : { crmModifiedMs: Number(item.crmModifiedMs.N) }),
    ...(item.payloadHash?.S === undefined ? {} : { payloadHash: item.payloadHash.S }),
    ...(item.contactPersonId?.S === undefined ? {} : { contactPersonId: item.contactPersonId.S }),
    ...(item.inactive?.BOOL === true ? { inactive: true } : {}),
  };
};

/** SET clauses and values for every mapping attribute; absent optional ones are removed. */
const mappingUpdate = (mapping: RecordMapping) => {
  const set: string[] = ['booksEntity = :entity', 'booksId = :booksId', 'syncedAtMs = :syncedAt'];
  const remove: string[] = [];
  const values: Item = {
    ':entity': { S: mapping.booksEntity },
    ':booksId': { S: mapping.booksId },
    ':syncedAt': { N: String(mapping.syncedAtMs) },
  };
  const optional = (name: string, value: Item[string] | undefined) => {
    if (value === undefined) remove.push(name);
    else {
      set.push(`${name} = :${name}`);
      values[`:${name}`] = value;
    }
  };
  optional(
    'crmModifiedMs',
    mapping.crmModifiedMs === undefined ? undefined : { N: String(mapping.crmModifiedMs) },
  );
  optional(
    'payloadHash',
    mapping.payloadHash === undefined ? undefined : { S: mapping.payloadHash },
  );
  optional(
    'contactPersonId',
    mapping.contactPersonId === undefined ? undefined : { S: mapping.contactPersonId },
  );
  optional('inactive', mapping.inactive === true ? { BOOL: true } : undefined);
  return { set, remove, values };
};

const toItem = (mapping: RecordMapping): Item => {
  const update = mappingUpdate(mapping);
  return Object.fromEntries(
    update.set.map((clause) => {
      const [name = '', placeholder = ''] = clause.split(' = ');
      return [name, update.values[placeholder] as Item[string]];
    }),
  );
};

const isConditionFailure = (error: unknown): boolean =>
  error instanceof ConditionalCheckFailedException ||
  (error instanceof Error && error.name === 'ConditionalCheckFailedException');

/**
 * CRM id <-> Books id, one item per CRM record, which also carries the record's lease
 * (`leaseOwner`, `leaseUntilMs`). Books itself is the source of truth for idempotency (every
 * write is an upsert on the unique `cf_crm_id` custom field, or a search-then-create under the
 * lease), so a crash between the Books write and the commit loses nothing: the next attempt,
 * once the lease has run out, finds the same Books record and writes the mapping then.
 */
export const createMappingStore = (deps: {
  readonly dynamodb: DynamoDBClient;
  readonly tableName: string;
}): MappingStore => {
  const key = (connectionId: string, crmModule: string, crmRecordId: string) =>
    toKeyAttributes(tableKeys.recordMapping(connectionId, crmModule, crmRecordId));
  return {
    async get(connectionId, crmModule, crmRecordId) {
      const result = await deps.dynamodb.send(
        new GetItemCommand({
          TableName: deps.tableName,
          Key: key(connectionId, crmModule, crmRecordId),
          ConsistentRead: true,
        }),
      );
      return toMapping(result.Item);
    },
    async put(connectionId, crmModule, crmRecordId, mapping) {
      await deps.dynamodb.send(
        new PutItemCommand({
          TableName: deps.tableName,
          Item: { ...key(connectionId, crmModule, crmRecordId), ...toItem(mapping) },
        }),
      );
    },
    async acquire(connectionId, crmModule, crmRecordId, lease) {
      try {
        const result = await deps.dynamodb.send(
          new UpdateItemCommand({
            TableName: deps.tableName,
            Key: key(connectionId, crmModule, crmRecordId),
            UpdateExpression: 'SET leaseOwner = :owner, leaseUntilMs = :until',
            ConditionExpression:
              'attribute_not_exists(leaseUntilMs) OR leaseUntilMs < :now OR leaseOwner = :owner',
            ExpressionAttributeValues: {
              ':owner': { S: lease.owner },
              ':until': { N: String(lease.untilMs) },
              ':now': { N: String(lease.nowMs) },
            },
            ReturnValues: 'ALL_NEW',
            ReturnValuesOnConditionCheckFailure: 'ALL_OLD',
          }),
        );
        return { owner: lease.owner, mapping: toMapping(result.Attributes) };
      } catch (error) {
        if (!isConditionFailure(error)) throw error;
        const item = (error as { Item?: Item }).Item;
        return { busyUntilMs: Number(item?.leaseUntilMs?.N ?? lease.untilMs) };
      }
    },
    async commit(connectionId, crmModule, crmRecordId, owner, mapping) {
      const update = mappingUpdate(mapping);
      try {
        await deps.dynamodb.send(
          new UpdateItemCommand({
            TableName: deps.tableName,
            Key: key(connectionId, crmModule, crmRecordId),
            UpdateExpression: `SET ${update.set.join(', ')} REMOVE ${[
              'leaseOwner',
              'leaseUntilMs',
              ...update.remove,
            ].join(', ')}`,
            ConditionExpression: 'leaseOwner = :owner',
            ExpressionAttributeValues: { ...update.values, ':owner': { S: owner } },
          }),
        );
        return true;
      } catch (error) {
        if (isConditionFailure(error)) return false;
        throw error;
      }
    },
    async release(connectionId, crmModule, crmRecordId, owner) {
      try {
        await deps.dynamodb.send(
          new UpdateItemCommand({
            TableName: deps.tableName,
            Key: key(connectionId, crmModule, crmRecordId),
            UpdateExpression: 'REMOVE leaseOwner, leaseUntilMs',
            ConditionExpression: 'leaseOwner = :owner',
            ExpressionAttributeValues: { ':owner': { S: owner } },
          }),
        );
      } catch (error) {
        if (!isConditionFailure(error)) throw error;
      }
    },
    async invalidate(connectionId, crmModule, crmRecordId) {
      await deps.dynamodb.send(
        new UpdateItemCommand({
          TableName: deps.tableName,
          Key: key(connectionId, crmModule, crmRecordId),
          UpdateExpression: 'REMOVE crmModifiedMs, payloadHash',
        }),
      );
    },
    async syncedModifiedTimes(connectionId, crmModule, crmRecordIds) {
      const times = new Map<string, number>();
      const ids = [...new Set(crmRecordIds)];
      // BatchGetItem takes at most 100 keys.
      for (let start = 0; start < ids.length; start += 100) {
        let keys: Item[] | undefined = ids
          .slice(start, start + 100)
          .map((id) => key(connectionId, crmModule, id));
        while (keys !== undefined && keys.length > 0) {
          const result: BatchGetItemCommandOutput = await deps.dynamodb.send(
            new BatchGetItemCommand({
              RequestItems: {
                [deps.tableName]: {
                  Keys: keys,
                  ConsistentRead: true,
                  ProjectionExpression: 'sk, crmModifiedMs',
                },
              },
            }),
          );
          for (const item of result.Responses?.[deps.tableName] ?? []) {
            const id = item.sk?.S?.split('#').at(-1);
            const ms = item.crmModifiedMs?.N;
            if (id !== undefined && ms !== undefined) times.set(id, Number(ms));
          }
          keys = result.UnprocessedKeys?.[deps.tableName]?.Keys as Item[] | undefined;
        }
      }
      return times;
    },
  };
};
