import { type DynamoDBClient, GetItemCommand } from '@aws-sdk/client-dynamodb';
import { tableKeys, toKeyAttributes } from '../aws';
import type { Connection } from '../config';
import { quotaDayAt, requestWindowAt } from './budget-calendar';
import { readBudgetState } from './budget-item';

/** A read-only view of one organization's budget now, for operators (status, doctor). */
export interface BudgetSnapshot {
  readonly quota: {
    /** The quota day, in the connection's quota time zone. */
    readonly day: string;
    readonly used: number;
    readonly limit: number;
    /** Zoho's own remaining count, from its X-Rate-Limit headers, when it sent them. */
    readonly zohoRemaining: number | undefined;
    /** When the day's quota resets (Zoho's reset when it said so, else the day's end). */
    readonly resetsAtMs: number;
    /** The day's quota is used up (our count, or Zoho's). */
    readonly spent: boolean;
  };
  readonly window: {
    readonly startMs: number;
    readonly endMs: number;
    readonly used: number;
    readonly limit: number;
    readonly inFlight: number;
    readonly maxInFlight: number;
  };
}

/** Reads the day's budget item (`tableKeys.dailyQuota`) without changing it. */
export const readBudgetSnapshot = async (
  deps: { readonly dynamodb: DynamoDBClient; readonly tableName: string },
  connection: Connection,
  nowMs: number,
): Promise<BudgetSnapshot> => {
  const day = quotaDayAt(nowMs, connection.quotaTimeZone);
  const window = requestWindowAt(nowMs, connection.rateLimit.windowSeconds);
  const result = await deps.dynamodb.send(
    new GetItemCommand({
      TableName: deps.tableName,
      Key: toKeyAttributes(tableKeys.dailyQuota(connection.booksOrganizationId, day.key)),
      ConsistentRead: true,
    }),
  );
  const state = readBudgetState(result.Item ?? {});
  const zohoReset =
    state.zohoResetAtMs !== undefined && state.zohoResetAtMs > nowMs
      ? state.zohoResetAtMs
      : undefined;
  const zohoSpent =
    zohoReset !== undefined && state.dayCeiling !== undefined && state.dayUsed >= state.dayCeiling;
  return {
    quota: {
      day: day.key,
      used: state.dayUsed,
      limit: connection.dailyLimit,
      zohoRemaining: state.zohoRemaining,
      resetsAtMs: zohoSpent ? (zohoReset ?? day.endMs) : day.endMs,
      spent: state.dayUsed >= connection.dailyLimit || zohoSpent,
    },
    window: {
      startMs: window.startMs,
      endMs: window.endMs,
      used: state.windows.get(window.startMs) ?? 0,
      limit: connection.rateLimit.requests,
      inFlight: [...state.leases.values()].filter((expiresAtMs) => expiresAtMs > nowMs).length,
      maxInFlight: connection.maxConcurrency,
    },
  };
};
