import type {
  AttributeValue,
  PutItemCommandInput,
  UpdateItemCommandInput,
} from '@aws-sdk/client-dynamodb';
import { TABLE_KEY, type TableKey, toKeyAttributes, ttlAttribute } from '../aws';
import { clampQuotaResetMs } from './budget-calendar';

/**
 * The shape of the one budget item per organization and quota day, and the conditional writes
 * on it. Pure: builds command inputs and reads items; the limiter sends them.
 *
 * Attributes (besides pk/sk/ttl):
 * - `dayUsed`: Books calls counted today (each permit counts once, failures included).
 * - `w<windowStartMs>`: calls granted in that rate-limit window. One attribute per window, so a
 *   new window needs no reset write: `if_not_exists` starts it at 0. Attributes two windows old
 *   are removed by later writes.
 * - `leases`: map of lease id -> lease expiry (epoch ms): the in-flight calls.
 * - `dayCeiling`, `zohoLimit`, `zohoRemaining`, `zohoResetAtMs`, `zohoSeenAtMs`: Zoho's own view
 *   of the daily quota from its `X-Rate-Limit-*` headers (see {@link quotaFeedback}).
 */

export const WINDOW_ATTRIBUTE_PREFIX = 'w';

export const windowAttribute = (windowStartMs: number): string =>
  `${WINDOW_ATTRIBUTE_PREFIX}${windowStartMs}`;

const WINDOW_ATTRIBUTE = /^w(\d+)$/;

/** What a budget item says, read from an UpdateItem/ConditionalCheckFailed answer. */
export interface BudgetState {
  readonly dayUsed: number;
  readonly dayCeiling: number | undefined;
  readonly zohoLimit: number | undefined;
  readonly zohoRemaining: number | undefined;
  readonly zohoResetAtMs: number | undefined;
  /** Calls granted per window start. */
  readonly windows: ReadonlyMap<number, number>;
  /** In-flight leases: id -> expiry. */
  readonly leases: ReadonlyMap<string, number>;
}

const numberOf = (value: AttributeValue | undefined): number | undefined =>
  value?.N === undefined ? undefined : Number(value.N);

export const readBudgetState = (item: Record<string, AttributeValue>): BudgetState => {
  const windows = new Map<number, number>();
  for (const [name, value] of Object.entries(item)) {
    const match = WINDOW_ATTRIBUTE.exec(name);
    const count = numberOf(value);
    if (match?.[1] !== undefined && count !== undefined) windows.set(Number(match[1]), count);
  }
  const leases = new Map<string, number>();
  for (const [leaseId, value] of Object.entries(item.leases?.M ?? {})) {
    const expiresAtMs = numberOf(value);
    if (expiresAtMs !== undefined) leases.set(leaseId, expiresAtMs);
  }
  return {
    dayUsed: numberOf(item.dayUsed) ?? 0,
    dayCeiling: numberOf(item.dayCeiling),
    zohoLimit: numberOf(item.zohoLimit),
    zohoRemaining: numberOf(item.zohoRemaining),
    zohoResetAtMs: numberOf(item.zohoResetAtMs),
    windows,
    leases,
  };
};

/** Zoho's view of the daily quota, carried from a finished call to the next write. */
export interface QuotaFeedback {
  /** The quota day of the call it came from; applied to that day's item only. */
  readonly dayKey: string;
  /** Highest `dayUsed` at which Zoho's count says a call may still go. */
  readonly dayCeiling?: number;
  readonly zohoLimit?: number;
  readonly zohoRemaining?: number;
  readonly zohoResetAtMs?: number;
  readonly observedAtMs: number;
}

/** Everything one acquire write needs to know. */
export interface AcquireWrite {
  readonly tableName: string;
  readonly key: TableKey;
  readonly windowStartMs: number;
  /**
   * Set in the last moments of a window: the next window's start. The call then counts in both
   * windows, so it is within budget whichever of the two Zoho counts it in.
   */
  readonly spillWindowStartMs?: number;
  readonly windowBudget: number;
  readonly dailyLimit: number;
  readonly maxInFlight: number;
  readonly nowMs: number;
  readonly leaseId: string;
  readonly leaseExpiresAtMs: number;
  /**
   * `held`: this container already holds the lease (handed over from its previous call) and
   * only renews it. `new`: the write takes a new slot, so it checks the cap.
   */
  readonly lease: 'held' | 'new';
  /** Expired leases of dead callers to drop while taking a new slot. */
  readonly expiredLeases?: readonly string[];
  /** Window attributes old enough to drop. */
  readonly staleWindows?: readonly number[];
  readonly feedback?: QuotaFeedback;
}

const n = (value: number): AttributeValue => ({ N: String(value) });

const feedbackSets = (
  feedback: QuotaFeedback | undefined,
  values: Record<string, AttributeValue>,
): string[] => {
  if (feedback === undefined) return [];
  const sets: string[] = ['zohoSeenAtMs = :zseen'];
  values[':zseen'] = n(feedback.observedAtMs);
  const fields = [
    ['dayCeiling', ':zceil', feedback.dayCeiling],
    ['zohoLimit', ':zlimit', feedback.zohoLimit],
    ['zohoRemaining', ':zrem', feedback.zohoRemaining],
    ['zohoResetAtMs', ':zreset', feedback.zohoResetAtMs],
  ] as const;
  for (const [attribute, placeholder, value] of fields) {
    if (value === undefined) continue;
    sets.push(`${attribute} = ${placeholder}`);
    values[placeholder] = n(value);
  }
  return sets;
};

/**
 * The one conditional write that reserves a Books call: it counts the call in its window and in
 * the day, and takes (or renews) an in-flight lease, all or nothing. It also carries Zoho's
 * quota feedback from the previous call and tidies old windows, so a call costs one write here
 * and at most one at release.
 *
 * The condition, in words: the day's item exists; the window has room; the day has room by our
 * own limit and by Zoho's remaining count (unless Zoho's reset time has passed); and either the
 * lease is ours already or fewer than `maxInFlight` leases are out.
 */
export const acquireUpdate = (write: AcquireWrite): UpdateItemCommandInput => {
  const names: Record<string, string> = {
    '#pk': TABLE_KEY.partition,
    '#win': windowAttribute(write.windowStartMs),
    '#lease': write.leaseId,
  };
  const values: Record<string, AttributeValue> = {
    ':zero': n(0),
    ':one': n(1),
    ':budget': n(write.windowBudget),
    ':daily': n(write.dailyLimit),
    ':now': n(write.nowMs),
    ':leaseExp': n(write.leaseExpiresAtMs),
  };
  const sets = [
    '#win = if_not_exists(#win, :zero) + :one',
    'dayUsed = dayUsed + :one',
    'leases.#lease = :leaseExp',
    ...feedbackSets(write.feedback, values),
  ];
  const removes: string[] = [];
  const conditions = [
    'attribute_exists(#pk)',
    '(attribute_not_exists(#win) OR #win < :budget)',
    'dayUsed < :daily',
    '(attribute_not_exists(dayCeiling) OR dayUsed < dayCeiling OR zohoResetAtMs <= :now)',
  ];
  if (write.spillWindowStartMs !== undefined) {
    names['#spill'] = windowAttribute(write.spillWindowStartMs);
    sets.push('#spill = if_not_exists(#spill, :zero) + :one');
    conditions.push('(attribute_not_exists(#spill) OR #spill < :budget)');
  }
  if (write.lease === 'held') {
    conditions.push('attribute_exists(leases.#lease)');
  } else {
    const expired = write.expiredLeases ?? [];
    expired.forEach((leaseId, index) => {
      names[`#dead${index}`] = leaseId;
      removes.push(`leases.#dead${index}`);
      // Each dropped lease must still be there, or another caller dropped it first and the
      // size below would count one slot twice.
      conditions.push(`attribute_exists(leases.#dead${index})`);
    });
    values[':maxInFlight'] = n(write.maxInFlight + expired.length);
    conditions.push('size(leases) < :maxInFlight');
  }
  (write.staleWindows ?? []).forEach((startMs, index) => {
    names[`#old${index}`] = windowAttribute(startMs);
    removes.push(`#old${index}`);
  });
  return {
    TableName: write.tableName,
    Key: toKeyAttributes(write.key),
    UpdateExpression: `SET ${sets.join(', ')}${removes.length > 0 ? ` REMOVE ${removes.join(', ')}` : ''}`,
    ConditionExpression: conditions.join(' AND '),
    ExpressionAttributeNames: names,
    ExpressionAttributeValues: values,
    ReturnValues: 'ALL_NEW',
    ReturnValuesOnConditionCheckFailure: 'ALL_OLD',
  };
};

/** The first write of a quota day: creates the day's item with this call already counted. */
export interface CreateDayWrite {
  readonly tableName: string;
  readonly key: TableKey;
  readonly windowStartMs: number;
  readonly spillWindowStartMs?: number;
  readonly leaseId: string;
  readonly leaseExpiresAtMs: number;
  readonly expiresAtMs: number;
  readonly timeZone: string;
  readonly dailyLimit: number;
  readonly nowMs: number;
}

export const createDayPut = (write: CreateDayWrite): PutItemCommandInput => ({
  TableName: write.tableName,
  Item: {
    ...toKeyAttributes(write.key),
    dayUsed: n(1),
    [windowAttribute(write.windowStartMs)]: n(1),
    ...(write.spillWindowStartMs === undefined
      ? {}
      : { [windowAttribute(write.spillWindowStartMs)]: n(1) }),
    leases: { M: { [write.leaseId]: n(write.leaseExpiresAtMs) } },
    dailyLimit: n(write.dailyLimit),
    timeZone: { S: write.timeZone },
    createdAtMs: n(write.nowMs),
    [TABLE_KEY.ttl]: ttlAttribute(write.expiresAtMs),
  },
  ConditionExpression: 'attribute_not_exists(#pk)',
  ExpressionAttributeNames: { '#pk': TABLE_KEY.partition },
});

/** What a finished call does to its day's item. */
export interface ReleaseWrite {
  readonly tableName: string;
  readonly key: TableKey;
  /** Gives the in-flight slot back; omitted when the lease moves on to another call. */
  readonly leaseId?: string;
  readonly feedback?: QuotaFeedback;
  /**
   * After a 429: the window in which Zoho refused is spent for everyone, whatever our count
   * says ("lower the effective budget for the rest of the window").
   */
  readonly spendWindow?: { readonly windowStartMs: number; readonly windowBudget: number };
}

/** Returns undefined when there is nothing to write. */
export const releaseUpdate = (write: ReleaseWrite): UpdateItemCommandInput | undefined => {
  const names: Record<string, string> = { '#pk': TABLE_KEY.partition };
  const values: Record<string, AttributeValue> = {};
  const sets = feedbackSets(write.feedback, values);
  const removes: string[] = [];
  if (write.spendWindow !== undefined) {
    names['#spent'] = windowAttribute(write.spendWindow.windowStartMs);
    values[':spentBudget'] = n(write.spendWindow.windowBudget);
    sets.push('#spent = :spentBudget');
  }
  if (write.leaseId !== undefined) {
    names['#lease'] = write.leaseId;
    removes.push('leases.#lease');
  }
  if (sets.length === 0 && removes.length === 0) return undefined;
  return {
    TableName: write.tableName,
    Key: toKeyAttributes(write.key),
    UpdateExpression: [
      sets.length > 0 ? `SET ${sets.join(', ')}` : '',
      removes.length > 0 ? `REMOVE ${removes.join(', ')}` : '',
    ]
      .filter(Boolean)
      .join(' '),
    // Never resurrect a day item that TTL already removed.
    ConditionExpression: 'attribute_exists(#pk)',
    ExpressionAttributeNames: names,
    ...(Object.keys(values).length > 0 ? { ExpressionAttributeValues: values } : {}),
  };
};

/** Why an acquire write was refused, read from the item as it was. */
export type Refusal =
  | { readonly kind: 'no-item' }
  | { readonly kind: 'daily-limit' }
  | { readonly kind: 'zoho-quota'; readonly resetAtMs: number | undefined }
  | {
      readonly kind: 'window';
      /** The start of the full window: the current one, or the next when spilling into it. */
      readonly windowStartMs: number;
    }
  | { readonly kind: 'lease-lost' }
  | {
      readonly kind: 'in-flight';
      /** Leases past their expiry: their holders died; a retry may drop them. */
      readonly expired: readonly string[];
      /** When the earliest live lease expires at the latest. */
      readonly earliestExpiryMs: number;
    };

/** Explains a refused {@link acquireUpdate} from the item it saw (ALL_OLD). */
export const explainRefusal = (
  item: Record<string, AttributeValue> | undefined,
  write: Pick<
    AcquireWrite,
    | 'windowStartMs'
    | 'spillWindowStartMs'
    | 'windowBudget'
    | 'dailyLimit'
    | 'maxInFlight'
    | 'nowMs'
    | 'leaseId'
    | 'lease'
  >,
): Refusal => {
  if (item === undefined || Object.keys(item).length === 0) return { kind: 'no-item' };
  const state = readBudgetState(item);
  if (state.dayUsed >= write.dailyLimit) return { kind: 'daily-limit' };
  if (isZohoQuotaSpent(state, write.nowMs)) {
    return { kind: 'zoho-quota', resetAtMs: state.zohoResetAtMs };
  }
  if ((state.windows.get(write.windowStartMs) ?? 0) >= write.windowBudget) {
    return { kind: 'window', windowStartMs: write.windowStartMs };
  }
  if (
    write.spillWindowStartMs !== undefined &&
    (state.windows.get(write.spillWindowStartMs) ?? 0) >= write.windowBudget
  ) {
    return { kind: 'window', windowStartMs: write.spillWindowStartMs };
  }
  if (write.lease === 'held') return { kind: 'lease-lost' };
  const expired = [...state.leases].filter(([, expiresAtMs]) => expiresAtMs <= write.nowMs);
  const live = [...state.leases.values()].filter((expiresAtMs) => expiresAtMs > write.nowMs);
  return {
    kind: 'in-flight',
    expired: expired.map(([leaseId]) => leaseId),
    earliestExpiryMs: live.length > 0 ? Math.min(...live) : write.nowMs,
  };
};

/** Zoho's remaining count (as a ceiling on `dayUsed`) is spent and its reset is still ahead. */
export const isZohoQuotaSpent = (state: BudgetState, nowMs: number): boolean =>
  state.dayCeiling !== undefined &&
  state.dayUsed >= state.dayCeiling &&
  !(state.zohoResetAtMs !== undefined && state.zohoResetAtMs <= nowMs);

/**
 * Turns Zoho's `X-Rate-Limit-Remaining/Reset/Limit` of one call into a correction of the day's
 * item. `remaining` counts every caller of the organization (other integrations too), so it
 * becomes a ceiling on our `dayUsed`: our count when this call was granted, plus what Zoho says
 * is left, minus the calls that may have been granted before this one but not yet have reached
 * Zoho (at most `maxInFlight - 1`). `reset` is seconds until Zoho's daily counter resets.
 * Returns undefined when Zoho sent no remaining count.
 */
export const quotaFeedbackFrom = (input: {
  readonly rateLimit:
    | {
        readonly limit?: number;
        readonly remaining?: number;
        readonly resetSeconds?: number;
        readonly resetAtEpochMs?: number;
      }
    | undefined;
  readonly dayKey: string;
  /** The start of the next quota day: Zoho's reset is clamped to it plus a margin. */
  readonly dayEndMs: number;
  readonly dayUsedAtGrant: number;
  readonly maxInFlight: number;
  readonly nowMs: number;
}): QuotaFeedback | undefined => {
  const remaining = input.rateLimit?.remaining;
  if (remaining === undefined) return undefined;
  const { limit, resetSeconds, resetAtEpochMs } = input.rateLimit ?? {};
  const resetAtMs =
    resetAtEpochMs ?? (resetSeconds === undefined ? undefined : input.nowMs + resetSeconds * 1000);
  return {
    dayKey: input.dayKey,
    dayCeiling: input.dayUsedAtGrant + remaining - (input.maxInFlight - 1),
    zohoRemaining: remaining,
    ...(limit === undefined ? {} : { zohoLimit: limit }),
    ...(resetAtMs === undefined
      ? {}
      : { zohoResetAtMs: clampQuotaResetMs(resetAtMs, input.nowMs, { endMs: input.dayEndMs }) }),
    observedAtMs: input.nowMs,
  };
};
