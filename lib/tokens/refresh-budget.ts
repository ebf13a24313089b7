import {
  ConditionalCheckFailedException,
  type DynamoDBClient,
  GetItemCommand,
  UpdateItemCommand,
} from '@aws-sdk/client-dynamodb';
import { TABLE_KEY, tableKeys, toKeyAttributes, ttlAttribute } from '../aws';

/** Zoho counts access-token requests per refresh token over 10 minutes (zoho-oauth.md §5). */
export const REFRESH_WINDOW_MS = 600_000;

/** Zoho allows 10 per window; 8 leaves room for a clock skew and a refresh made by hand. */
export const DEFAULT_MAX_REFRESHES_PER_WINDOW = 8;

export interface RefreshBudgetDeps {
  readonly dynamodb: DynamoDBClient;
  readonly tableName: string;
  readonly now: () => number;
  /** @default DEFAULT_MAX_REFRESHES_PER_WINDOW (8) */
  readonly maxRefreshesPerWindow?: number;
}

/** Whether a refresh may call Zoho now, and if not, how long until one may. */
export type RefreshReservation =
  | { readonly granted: true }
  | {
      readonly granted: false;
      /** `limit`: our own cap is spent; `blocked`: Zoho answered Access Denied. */
      readonly reason: 'limit' | 'blocked';
      readonly retryAfterMs: number;
    };

/**
 * The per-connection count of token refreshes in fixed 10-minute windows
 * (`tableKeys.tokenRefreshWindow`), and the pause after Zoho's "Access Denied".
 */
export interface RefreshBudget {
  /**
   * Counts one refresh if the budget allows it. Call it before every accounts-server refresh,
   * under the refresh lease.
   */
  reserve(connectionId: string): Promise<RefreshReservation>;
  /** Refuses every refresh of the connection until `untilMs` (at most one window ahead). */
  block(connectionId: string, untilMs: number): Promise<void>;
}

interface WindowState {
  readonly refreshes: number;
  readonly blockedUntilMs: number;
}

const windowStartOf = (nowMs: number): number =>
  Math.floor(nowMs / REFRESH_WINDOW_MS) * REFRESH_WINDOW_MS;

/**
 * Builds the budget. Zoho's window rolls, ours are fixed, so a reservation counts the previous
 * window as well as the current one: any 10 minutes overlap at most two fixed windows, so no
 * 10 minutes can hold more than `maxRefreshesPerWindow` refreshes. The previous window no
 * longer changes, which is what makes the read-then-conditional-add safe. The price is
 * caution, not overspending: a full window blocks the whole next one (refreshes are hourly, so
 * that is rarely felt); test/integration/tokens/refresh-budget.test.ts proves the rolling bound.
 *
 * Written by hand on the one table rather than with a rate-limiter library: the count must be
 * shared by every Lambda container, and the few libraries for DynamoDB rate limiting want
 * their own table.
 */
export const createRefreshBudget = (deps: RefreshBudgetDeps): RefreshBudget => {
  const max = deps.maxRefreshesPerWindow ?? DEFAULT_MAX_REFRESHES_PER_WINDOW;

  const readWindow = async (connectionId: string, windowStartMs: number): Promise<WindowState> => {
    const result = await deps.dynamodb.send(
      new GetItemCommand({
        TableName: deps.tableName,
        Key: toKeyAttributes(tableKeys.tokenRefreshWindow(connectionId, windowStartMs)),
        ConsistentRead: true,
      }),
    );
    return {
      refreshes: Number(result.Item?.refreshes?.N ?? 0),
      blockedUntilMs: Number(result.Item?.blockedUntilMs?.N ?? 0),
    };
  };

  // An item must outlive the window after it, where it is read as "previous".
  const ttlOf = (windowStartMs: number) => ttlAttribute(windowStartMs + 3 * REFRESH_WINDOW_MS);

  return {
    async reserve(connectionId) {
      const nowMs = deps.now();
      const startMs = windowStartOf(nowMs);
      const nextWindowMs = startMs + REFRESH_WINDOW_MS - nowMs;
      const [previous, current] = await Promise.all([
        readWindow(connectionId, startMs - REFRESH_WINDOW_MS),
        readWindow(connectionId, startMs),
      ]);
      const blockedUntilMs = Math.max(previous.blockedUntilMs, current.blockedUntilMs);
      if (blockedUntilMs > nowMs) {
        return { granted: false, reason: 'blocked', retryAfterMs: blockedUntilMs - nowMs };
      }
      const allowedInCurrent = max - previous.refreshes;
      if (current.refreshes >= allowedInCurrent) {
        return { granted: false, reason: 'limit', retryAfterMs: nextWindowMs };
      }
      try {
        await deps.dynamodb.send(
          new UpdateItemCommand({
            TableName: deps.tableName,
            Key: toKeyAttributes(tableKeys.tokenRefreshWindow(connectionId, startMs)),
            UpdateExpression: 'ADD refreshes :one SET #ttl = :ttl',
            ConditionExpression:
              '(attribute_not_exists(refreshes) OR refreshes < :allowed) AND ' +
              '(attribute_not_exists(blockedUntilMs) OR blockedUntilMs <= :now)',
            ExpressionAttributeNames: { '#ttl': TABLE_KEY.ttl },
            ExpressionAttributeValues: {
              ':one': { N: '1' },
              ':allowed': { N: String(allowedInCurrent) },
              ':now': { N: String(nowMs) },
              ':ttl': ttlOf(startMs),
            },
          }),
        );
        return { granted: true };
      } catch (error) {
        // Someone counted or blocked between our read and our write: refuse, never overspend.
        if (error instanceof ConditionalCheckFailedException) {
          return { granted: false, reason: 'limit', retryAfterMs: nextWindowMs };
        }
        throw error;
      }
    },

    async block(connectionId, untilMs) {
      const nowMs = deps.now();
      const startMs = windowStartOf(nowMs);
      // Capped at one window so that `reserve`, which reads two windows, always sees it.
      const cappedUntilMs = Math.min(untilMs, nowMs + REFRESH_WINDOW_MS);
      await deps.dynamodb.send(
        new UpdateItemCommand({
          TableName: deps.tableName,
          Key: toKeyAttributes(tableKeys.tokenRefreshWindow(connectionId, startMs)),
          UpdateExpression: 'SET blockedUntilMs = :until, #ttl = :ttl',
          ExpressionAttributeNames: { '#ttl': TABLE_KEY.ttl },
          ExpressionAttributeValues: {
            ':until': { N: String(cappedUntilMs) },
            ':ttl': ttlOf(startMs),
          },
        }),
      );
    },
  };
};
