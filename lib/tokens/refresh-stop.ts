import { createHash } from 'node:crypto';
import {
  DeleteItemCommand,
  type DynamoDBClient,
  GetItemCommand,
  PutItemCommand,
} from '@aws-sdk/client-dynamodb';
import { tableKeys, toKeyAttributes } from '../aws';
import type { Connection } from '../config';
import type { ZohoApiError } from '../zoho';

export interface RefreshStopStoreDeps {
  readonly dynamodb: DynamoDBClient;
  readonly tableName: string;
  readonly now: () => number;
}

/** Why and since when a connection's token refresh is stopped. Holds no credential. */
export interface RefreshStop {
  readonly connectionId: string;
  /** The error-table row of the refusal, e.g. `accounts-invalid-code`. */
  readonly entryId: string;
  readonly zohoCode: string | undefined;
  readonly httpStatus: number | undefined;
  readonly stoppedAtMs: number;
}

/**
 * The record that a connection's credentials were refused for good (`invalid_code`,
 * `invalid_client`, a revoked refresh token): one item per connection
 * (`tableKeys.tokenRefreshStop`), holding a fingerprint of the refused credentials. It applies
 * only while the connection secret still holds those credentials, so an operator who fixes
 * the secret needs no reset: the new credentials have another fingerprint and are tried.
 */
export interface RefreshStopStore {
  /** The stop that applies to these credentials, or undefined when they may be tried. */
  find(connection: Connection): Promise<RefreshStop | undefined>;
  /** Records that `refusal` stopped the refresh with the connection's current credentials. */
  record(connection: Connection, refusal: ZohoApiError): Promise<void>;
  /** Lets the credentials be tried again (e.g. from the circuit breaker's reset). */
  clear(connectionId: string): Promise<void>;
}

/**
 * SHA-256 over the values a refresh uses (accounts server, client id and secret, refresh
 * token). Changing any of them in the secret makes a new fingerprint. The hash of a
 * high-entropy secret reveals nothing about it, so it may sit in DynamoDB.
 */
export const credentialFingerprint = (connection: Connection): string =>
  createHash('sha256')
    .update(
      JSON.stringify([
        connection.accountsUrl,
        connection.clientId,
        connection.clientSecret,
        connection.refreshToken,
      ]),
    )
    .digest('hex');

/** Builds the store. No TTL on purpose: a stop lasts until the secret changes or is cleared. */
export const createRefreshStopStore = (deps: RefreshStopStoreDeps): RefreshStopStore => ({
  async find(connection) {
    const result = await deps.dynamodb.send(
      new GetItemCommand({
        TableName: deps.tableName,
        Key: toKeyAttributes(tableKeys.tokenRefreshStop(connection.connectionId)),
        ConsistentRead: true,
      }),
    );
    const item = result.Item;
    if (item?.fingerprint?.S !== credentialFingerprint(connection)) return undefined;
    return {
      connectionId: connection.connectionId,
      entryId: item.entryId?.S ?? 'accounts-http-401',
      zohoCode: item.zohoCode?.S,
      httpStatus: item.httpStatus?.N === undefined ? undefined : Number(item.httpStatus.N),
      stoppedAtMs: Number(item.stoppedAtMs?.N ?? 0),
    };
  },

  async record(connection, refusal) {
    await deps.dynamodb.send(
      new PutItemCommand({
        TableName: deps.tableName,
        Item: {
          ...toKeyAttributes(tableKeys.tokenRefreshStop(connection.connectionId)),
          fingerprint: { S: credentialFingerprint(connection) },
          entryId: { S: refusal.entry.id },
          stoppedAtMs: { N: String(deps.now()) },
          ...(refusal.zohoCode === undefined ? {} : { zohoCode: { S: String(refusal.zohoCode) } }),
          ...(refusal.httpStatus === undefined
            ? {}
            : { httpStatus: { N: String(refusal.httpStatus) } }),
        },
      }),
    );
  },

  async clear(connectionId) {
    await deps.dynamodb.send(
      new DeleteItemCommand({
        TableName: deps.tableName,
        Key: toKeyAttributes(tableKeys.tokenRefreshStop(connectionId)),
      }),
    );
  },
});
