import {
  ConditionalCheckFailedException,
  DeleteItemCommand,
  type DynamoDBClient,
  PutItemCommand,
} from '@aws-sdk/client-dynamodb';
import { TABLE_KEY, tableKeys, toKeyAttributes, ttlAttribute } from '../aws';

export interface RefreshLeaseDeps {
  readonly dynamodb: DynamoDBClient;
  readonly tableName: string;
  readonly now: () => number;
}

/**
 * The cross-container lock of a connection's token refresh: one DynamoDB item per connection
 * (`tableKeys.tokenRefreshLease`). Whoever writes it while it is absent or expired refreshes;
 * everyone else reads the access-token secret instead.
 */
export interface RefreshLease {
  /**
   * Takes the lease for `leaseMs` unless another owner holds an unexpired one.
   * @returns true when `ownerId` now holds the lease.
   */
  acquire(connectionId: string, ownerId: string, leaseMs: number): Promise<boolean>;
  /**
   * Gives the lease back so the next refresh need not wait for it to expire.
   * @returns false when `ownerId` no longer held it (it expired and someone else took it).
   */
  release(connectionId: string, ownerId: string): Promise<boolean>;
}

/** Kept a while after expiry so that DynamoDB's TTL sweep, not our code, removes stale leases. */
const LEASE_GARBAGE_AFTER_MS = 3_600_000;

/**
 * Builds the lease on the one table. Expiry is decided by the `leaseExpiresAtMs` attribute in
 * the condition, never by the TTL: DynamoDB deletes expired items up to days late.
 */
export const createRefreshLease = (deps: RefreshLeaseDeps): RefreshLease => ({
  async acquire(connectionId, ownerId, leaseMs) {
    const nowMs = deps.now();
    const expiresAtMs = nowMs + leaseMs;
    try {
      await deps.dynamodb.send(
        new PutItemCommand({
          TableName: deps.tableName,
          Item: {
            ...toKeyAttributes(tableKeys.tokenRefreshLease(connectionId)),
            ownerId: { S: ownerId },
            leaseExpiresAtMs: { N: String(expiresAtMs) },
            [TABLE_KEY.ttl]: ttlAttribute(expiresAtMs + LEASE_GARBAGE_AFTER_MS),
          },
          ConditionExpression: 'attribute_not_exists(#pk) OR #expires <= :now',
          ExpressionAttributeNames: { '#pk': TABLE_KEY.partition, '#expires': 'leaseExpiresAtMs' },
          ExpressionAttributeValues: { ':now': { N: String(nowMs) } },
        }),
      );
      return true;
    } catch (error) {
      // The expected answer when someone else holds the lease: not a failure.
      if (error instanceof ConditionalCheckFailedException) return false;
      throw error;
    }
  },

  async release(connectionId, ownerId) {
    try {
      await deps.dynamodb.send(
        new DeleteItemCommand({
          TableName: deps.tableName,
          Key: toKeyAttributes(tableKeys.tokenRefreshLease(connectionId)),
          ConditionExpression: '#owner = :owner',
          ExpressionAttributeNames: { '#owner': 'ownerId' },
          ExpressionAttributeValues: { ':owner': { S: ownerId } },
        }),
      );
      return true;
    } catch (error) {
      // Our lease expired and another owner took it: theirs is not ours to delete.
      if (error instanceof ConditionalCheckFailedException) return false;
      throw error;
    }
  },
});
