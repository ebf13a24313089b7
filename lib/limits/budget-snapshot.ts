import { type DynamoDBClient, GetItemCommand } from '@aws-sdk/client-dynamodb';
import { tableKeys, toKeyAttributes } from '../aws';
import type { Connection } from '../config';
import { quotaDayAt } from './budget-calendar';
import { isZohoQuotaSpent, readBudgetState, viewSlots } from './budget-item';
import { REQUEST_LIMITER_DEFAULTS } from './create-request-limiter';

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
  /** The sliding window that ends now: `[now - windowSeconds, now)`. */
  readonly window: {
    readonly startMs: number;
    readonly endMs: number;
    readonly used: number;
    readonly limit: number;
    readonly inFlight: number;
    readonly maxInFlight: number;
  };
}

/** Reads the organization's budget item (`tableKeys.orgBudget`) without changing it. */
export const readBudgetSnapshot = async (
  deps: { readonly dynamodb: DynamoDBClient; readonly tableName: string },
  connection: Connection,
  nowMs: number,
): Promise<BudgetSnapshot> => {
  const day = quotaDayAt(nowMs, connection.quotaTimeZone);
  const windowMs = connection.rateLimit.windowSeconds * 1000;
  const result = await deps.dynamodb.send(
    new GetItemCommand({
      TableName: deps.tableName,
      Key: toKeyAttributes(tableKeys.orgBudget(connection.booksOrganizationId)),
      ConsistentRead: true,
    }),
  );
  const state = readBudgetState(result.Item ?? {});
  const dayUsed = state.days.get(day.key) ?? 0;
  const zohoSpent = isZohoQuotaSpent(state, day.key, nowMs);
  const zohoReset = zohoSpent ? state.zohoResetAtMs : undefined;
  const slots = viewSlots(state, connection.rateLimit.requests, nowMs, {
    windowMs,
    clockSkewMs: REQUEST_LIMITER_DEFAULTS.clockSkewMs,
  });
  return {
    quota: {
      day: day.key,
      used: dayUsed,
      limit: connection.dailyLimit,
      zohoRemaining: state.zohoRemaining,
      resetsAtMs: zohoSpent ? (zohoReset ?? day.endMs) : day.endMs,
      spent: dayUsed >= connection.dailyLimit || zohoSpent,
    },
    window: {
      startMs: nowMs - windowMs,
      endMs: nowMs,
      used: slots.used,
      limit: connection.rateLimit.requests,
      inFlight: [...state.leases.values()].filter((expiresAtMs) => expiresAtMs > nowMs).length,
      maxInFlight: connection.maxConcurrency,
    },
  };
};
