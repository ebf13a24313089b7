import { type DynamoDBClient, GetItemCommand, PutItemCommand } from '@aws-sdk/client-dynamodb';
import { TABLE_KEY, tableKeys, toKeyAttributes, ttlAttribute } from '../aws';

/** What zoho-sync knows about a connection's Notification API channel. */
export interface StoredChannel {
  readonly channelId: string;
  /** The expiry Zoho granted, epoch ms. */
  readonly expiresAtMs: number;
  /**
   * SHA-256 of what the channel was enabled with (events, notify_url, token). It changes when the
   * webhook secret or the public base URL does, and then the channel is enabled again.
   */
  readonly fingerprint: string;
  readonly renewedAtMs: number;
}

export interface NotificationChannelStore {
  get(connectionId: string): Promise<StoredChannel | undefined>;
  put(connectionId: string, channel: StoredChannel): Promise<void>;
}

/** An item outlives its channel by this much, then DynamoDB's TTL removes it. */
const KEEP_AFTER_EXPIRY_MS = 7 * 24 * 3_600_000;

/** One item per connection (`tableKeys.notificationChannel`). */
export const createNotificationChannelStore = (deps: {
  readonly dynamodb: DynamoDBClient;
  readonly tableName: string;
}): NotificationChannelStore => ({
  async get(connectionId) {
    const result = await deps.dynamodb.send(
      new GetItemCommand({
        TableName: deps.tableName,
        Key: toKeyAttributes(tableKeys.notificationChannel(connectionId)),
        ConsistentRead: true,
      }),
    );
    const item = result.Item;
    if (item?.channelId?.S === undefined || item.expiresAtMs?.N === undefined) return undefined;
    return {
      channelId: item.channelId.S,
      expiresAtMs: Number(item.expiresAtMs.N),
      fingerprint: item.fingerprint?.S ?? '',
      renewedAtMs: Number(item.renewedAtMs?.N ?? 0),
    };
  },
  async put(connectionId, channel) {
    await deps.dynamodb.send(
      new PutItemCommand({
        TableName: deps.tableName,
        Item: {
          ...toKeyAttributes(tableKeys.notificationChannel(connectionId)),
          channelId: { S: channel.channelId },
          expiresAtMs: { N: String(channel.expiresAtMs) },
          fingerprint: { S: channel.fingerprint },
          renewedAtMs: { N: String(channel.renewedAtMs) },
          [TABLE_KEY.ttl]: ttlAttribute(channel.expiresAtMs + KEEP_AFTER_EXPIRY_MS),
        },
      }),
    );
  },
});
