import { createHash } from 'node:crypto';
import { type DynamoDBClient, GetItemCommand, PutItemCommand } from '@aws-sdk/client-dynamodb';
import { tableKeys, toKeyAttributes, ttlAttribute } from '../aws';
import type { Logger } from '../observability';

/**
 * SHA-256 of an access token: what the table holds about a rejected token. The hash of a
 * high-entropy token reveals nothing about it, and the token itself never leaves the secret.
 */
export const accessTokenFingerprint = (accessToken: string): string =>
  createHash('sha256').update(accessToken).digest('hex');

export interface TokenRejectionsDeps {
  readonly dynamodb: DynamoDBClient;
  readonly tableName: string;
  readonly now: () => number;
  readonly logger: Logger;
  /**
   * How long this container trusts its last read of a connection's rejection marker. Each
   * read is one strongly consistent GetItem (1 read unit, about $0.25 per million on demand).
   * Any trust lets a container that read just before the marker was written make calls with
   * the dead token, one 401 each, so the default reads before every call. @default 0
   */
  readonly checkEveryMs?: number;
}

/**
 * Shares "Zoho rejected this access token" (code 57 / INVALID_TOKEN, HTTP 401) between
 * containers, so that one forced expiry costs about the calls already in flight instead of one
 * 401 per container: one item per connection (`tableKeys.rejectedAccessToken`) with the
 * fingerprint of the last rejected token, expiring after the token's lifetime.
 */
export interface TokenRejections {
  /** Records that Zoho rejected `accessToken` (its fingerprint; never the token). */
  record(connectionId: string, accessToken: string): Promise<void>;
  /**
   * Whether `accessToken` is known to be rejected, from this container's memory or a read of
   * the connection's marker at most every `checkEveryMs`. Never throws: an unreadable marker
   * only means the call finds out from Zoho.
   */
  isRejected(connectionId: string, accessToken: string): Promise<boolean>;
}

/** Zoho access tokens live an hour; the marker is useless after that. */
const MARKER_LIFETIME_MS = 2 * 3_600_000;

export const createTokenRejections = (deps: TokenRejectionsDeps): TokenRejections => {
  const checkEveryMs = deps.checkEveryMs ?? 0;
  /** Fingerprints this container knows to be rejected (few: one per forced expiry). */
  const known = new Set<string>();
  /** connectionId -> when its marker was last read, and the read under way. */
  const lastRead = new Map<string, { atMs: number; read: Promise<void> }>();

  const remember = (fingerprint: string) => {
    if (known.size > 1_000) known.clear();
    known.add(fingerprint);
  };

  const readMarker = async (connectionId: string): Promise<void> => {
    try {
      const result = await deps.dynamodb.send(
        new GetItemCommand({
          TableName: deps.tableName,
          Key: toKeyAttributes(tableKeys.rejectedAccessToken(connectionId)),
          ConsistentRead: true,
          ProjectionExpression: 'fingerprint',
        }),
      );
      const fingerprint = result.Item?.fingerprint?.S;
      if (fingerprint !== undefined) remember(fingerprint);
    } catch (error) {
      deps.logger.warn('rejected-token marker not read', {
        connection_id: connectionId,
        error: error instanceof Error ? error.name : String(error),
      });
    }
  };

  return {
    async record(connectionId, accessToken) {
      const fingerprint = accessTokenFingerprint(accessToken);
      // Already known: recorded by this container's other call, or read from the marker.
      if (known.has(fingerprint)) return;
      remember(fingerprint);
      const nowMs = deps.now();
      try {
        await deps.dynamodb.send(
          new PutItemCommand({
            TableName: deps.tableName,
            Item: {
              ...toKeyAttributes(tableKeys.rejectedAccessToken(connectionId)),
              fingerprint: { S: fingerprint },
              rejectedAtMs: { N: String(nowMs) },
              ttl: ttlAttribute(nowMs + MARKER_LIFETIME_MS),
            },
          }),
        );
      } catch (error) {
        // The other containers then learn it from Zoho: more 401s, nothing worse.
        deps.logger.warn('rejected-token marker not written', {
          connection_id: connectionId,
          error: error instanceof Error ? error.name : String(error),
        });
      }
    },

    async isRejected(connectionId, accessToken) {
      const fingerprint = accessTokenFingerprint(accessToken);
      if (known.has(fingerprint)) return true;
      const nowMs = deps.now();
      const last = lastRead.get(connectionId);
      if (last === undefined || nowMs - last.atMs >= checkEveryMs) {
        const read = readMarker(connectionId);
        lastRead.set(connectionId, { atMs: nowMs, read });
        await read;
      } else {
        // Concurrent callers share the read under way.
        await last.read;
      }
      return known.has(fingerprint);
    },
  };
};
