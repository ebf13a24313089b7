import type {
  AttributeValue,
  GetItemCommandInput,
  PutItemCommandInput,
  UpdateItemCommandInput,
} from '@aws-sdk/client-dynamodb';
import { TABLE_KEY, type TableKey, toKeyAttributes } from '../aws';
import { clampQuotaResetMs } from './budget-calendar';

/**
 * The shape of the one budget item per Books organization (`tableKeys.orgBudget`) and the
 * conditional writes on it. Pure: builds command inputs and reads items; the limiter sends them.
 *
 * **Why a sliding log of N call times.** Zoho does not say whether its "100 per minute" is a
 * calendar minute, a fixed window from some other start, or a sliding 60 s (zoho-books-api.md
 * §5). The only budget safe under every reading is "at most N calls in *any* interval of W":
 * every fixed window, at any alignment, is such an interval. A sliding log is the exact form of
 * it: the item holds N slots, each the time of the last call that used it; a call may take a slot
 * only if that time is more than W (plus margins) ago, so two uses of one slot are always W
 * apart, and any interval shorter than W holds at most one use of each of the N slots. Taking a
 * slot is one conditional write whose condition is that slot's old value, so two containers can
 * never take the same slot. GCRA with no burst allowance would also be safe, but it spaces calls
 * W/N apart: a backlog could never use a window's budget as a burst, and every idle moment is
 * lost for good; the log lets a quiet organization send its N calls at once, as Zoho allows.
 *
 * **Margins** (all documented defaults, proven by test/integration/limits/clock-skew.test.ts):
 * - `clockSkewMs` (env ZOHO_SYNC_BUDGET_CLOCK_SKEW_MS, 200): how far any container's clock may be
 *   from Zoho's. Slot times are written by one container and read by another, so a slot is free
 *   only `W + 2 * clockSkewMs` after its time.
 * - `holdMs` (permit-hold margin): a permit must be used (its request sent) within this long of
 *   the grant; an older permit is given back unused and acquired afresh.
 * - `transitMs` (transit-jitter margin): how long after sending Zoho may count a call.
 * A slot is stamped at grant with `grant + holdMs + transitMs`, the latest moment Zoho can count
 * the call. When the call's answer arrives, the release restamps the slot with that moment, which
 * is later than Zoho's count, so the slot frees W after the call really happened. A holder that
 * dies leaves its slot stamped pessimistically: safe, and it frees by itself.
 *
 * Attributes (besides pk/sk):
 * - `slots`: map of slot index ("0" .. "N-1") -> epoch ms. A missing index has never been used.
 * - `leases`: map of lease id -> lease expiry (epoch ms): the in-flight calls (cap: 1070).
 * - `d<yyyy-mm-dd>`: Books calls counted on that quota day (the connection's `quotaTimeZone`;
 *   only the daily quota depends on the zone, never the window).
 * - `blockedUntilMs`: after a 429 code 44, no slot is granted before this instant.
 * - `dayCeiling`, `zohoDay`, `zohoLimit`, `zohoRemaining`, `zohoResetAtMs`, `zohoSeenAtMs`: Zoho's
 *   view of the daily quota of day `zohoDay` from its `X-Rate-Limit-*` headers.
 */

export const DAY_ATTRIBUTE_PREFIX = 'd';

export const dayAttribute = (dayKey: string): string => `${DAY_ATTRIBUTE_PREFIX}${dayKey}`;

const DAY_ATTRIBUTE = /^d(\d{4}-\d{2}-\d{2})$/;

/** What a budget item says. */
export interface BudgetState {
  /** Slot index -> the time it was last stamped; missing slots have never been used. */
  readonly slots: ReadonlyMap<number, number>;
  /** In-flight leases: id -> expiry. */
  readonly leases: ReadonlyMap<string, number>;
  /** Calls per quota day key. */
  readonly days: ReadonlyMap<string, number>;
  readonly blockedUntilMs: number | undefined;
  readonly dayCeiling: number | undefined;
  readonly zohoDay: string | undefined;
  readonly zohoLimit: number | undefined;
  readonly zohoRemaining: number | undefined;
  readonly zohoResetAtMs: number | undefined;
}

export const EMPTY_BUDGET_STATE: BudgetState = {
  slots: new Map(),
  leases: new Map(),
  days: new Map(),
  blockedUntilMs: undefined,
  dayCeiling: undefined,
  zohoDay: undefined,
  zohoLimit: undefined,
  zohoRemaining: undefined,
  zohoResetAtMs: undefined,
};

const numberOf = (value: AttributeValue | undefined): number | undefined =>
  value?.N === undefined ? undefined : Number(value.N);

const numberMap = (value: AttributeValue | undefined): Map<string, number> => {
  const map = new Map<string, number>();
  for (const [name, entry] of Object.entries(value?.M ?? {})) {
    const number = numberOf(entry);
    if (number !== undefined) map.set(name, number);
  }
  return map;
};

export const readBudgetState = (item: Record<string, AttributeValue>): BudgetState => {
  const days = new Map<string, number>();
  for (const [name, value] of Object.entries(item)) {
    const match = DAY_ATTRIBUTE.exec(name);
    const count = numberOf(value);
    if (match?.[1] !== undefined && count !== undefined) days.set(match[1], count);
  }
  const slots = new Map<number, number>();
  for (const [index, stamp] of numberMap(item.slots)) slots.set(Number(index), stamp);
  return {
    slots,
    leases: numberMap(item.leases),
    days,
    blockedUntilMs: numberOf(item.blockedUntilMs),
    dayCeiling: numberOf(item.dayCeiling),
    zohoDay: item.zohoDay?.S,
    zohoLimit: numberOf(item.zohoLimit),
    zohoRemaining: numberOf(item.zohoRemaining),
    zohoResetAtMs: numberOf(item.zohoResetAtMs),
  };
};

/** The window arithmetic of the sliding log, shared by the limiter and the scale model. */
export interface SlotTiming {
  readonly windowMs: number;
  readonly clockSkewMs: number;
}

/** When a slot stamped `stampMs` may be taken again. */
export const slotFreeAt = (stampMs: number, timing: SlotTiming): number =>
  stampMs + timing.windowMs + 2 * timing.clockSkewMs;

/** A free slot to take, and the value the write's condition expects it to still hold. */
export interface SlotChoice {
  readonly index: number;
  /** Undefined for a never-used slot. */
  readonly oldStamp: number | undefined;
}

/** What the slots of a state say at `nowMs` for a budget of `slotCount`. */
export interface SlotView {
  /** Slots that may be taken now. */
  readonly free: readonly SlotChoice[];
  /** Slots taken within the last window (plus margins): the window's used count. */
  readonly used: number;
  /** When each busy slot frees, earliest first. */
  readonly freeTimes: readonly number[];
}

export const viewSlots = (
  state: BudgetState,
  slotCount: number,
  nowMs: number,
  timing: SlotTiming,
): SlotView => {
  const free: SlotChoice[] = [];
  const freeTimes: number[] = [];
  for (let index = 0; index < slotCount; index += 1) {
    const stamp = state.slots.get(index);
    if (stamp === undefined) {
      free.push({ index, oldStamp: undefined });
      continue;
    }
    const freeAt = slotFreeAt(stamp, timing);
    if (freeAt <= nowMs) free.push({ index, oldStamp: stamp });
    else freeTimes.push(freeAt);
  }
  freeTimes.sort((a, b) => a - b);
  return { free, used: slotCount - free.length, freeTimes };
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
  readonly slot: SlotChoice;
  /** The new stamp of the slot: the latest moment Zoho may count the call. */
  readonly stampMs: number;
  readonly dayKey: string;
  readonly dailyLimit: number;
  readonly maxInFlight: number;
  readonly nowMs: number;
  readonly leaseId: string;
  readonly leaseExpiresAtMs: number;
  /**
   * `held`: this container already holds the lease (handed over from its previous call) and
   * only renews it. `new`: the write takes a new in-flight place, so it checks the cap.
   */
  readonly lease: 'held' | 'new';
  /** Expired leases of dead callers to drop while taking a new place. */
  readonly expiredLeases?: readonly string[];
  /** Day counters old enough to drop. */
  readonly staleDays?: readonly string[];
  /** The previous call of a handed-over lease: its slot restamped with the call's end. */
  readonly restamp?: Restamp;
  readonly feedback?: QuotaFeedback;
}

/** A finished call's slot, restamped from its pessimistic grant stamp to the call's end. */
export interface Restamp {
  readonly index: number;
  readonly grantStampMs: number;
  readonly endMs: number;
}

const n = (value: number): AttributeValue => ({ N: String(value) });

const feedbackSets = (
  feedback: QuotaFeedback | undefined,
  values: Record<string, AttributeValue>,
): string[] => {
  if (feedback === undefined) return [];
  const sets: string[] = ['zohoSeenAtMs = :zseen', 'zohoDay = :zday'];
  values[':zseen'] = n(feedback.observedAtMs);
  values[':zday'] = { S: feedback.dayKey };
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

const restampParts = (
  restamp: Restamp | undefined,
  names: Record<string, string>,
  values: Record<string, AttributeValue>,
  sets: string[],
  conditions: string[],
): void => {
  if (restamp === undefined || restamp.endMs >= restamp.grantStampMs) return;
  names['#prev'] = String(restamp.index);
  values[':prevGrant'] = n(restamp.grantStampMs);
  values[':prevEnd'] = n(restamp.endMs);
  sets.push('slots.#prev = :prevEnd');
  // Only while the slot still holds our stamp: it frees no earlier than W after it.
  conditions.push('slots.#prev = :prevGrant');
};

/**
 * The one conditional write that reserves a Books call: it takes a free slot of the sliding log
 * (condition: the slot still holds the value we saw), counts the call in its quota day, and takes
 * (or renews) an in-flight lease, all or nothing. It also carries Zoho's quota feedback and the
 * restamp of the previous call of a handed-over lease, so a busy container writes once per call.
 */
export const acquireUpdate = (write: AcquireWrite): UpdateItemCommandInput => {
  const names: Record<string, string> = {
    '#pk': TABLE_KEY.partition,
    '#slot': String(write.slot.index),
    '#day': dayAttribute(write.dayKey),
    '#lease': write.leaseId,
  };
  const values: Record<string, AttributeValue> = {
    ':zero': n(0),
    ':one': n(1),
    ':stamp': n(write.stampMs),
    ':daily': n(write.dailyLimit),
    ':now': n(write.nowMs),
    ':dayKey': { S: write.dayKey },
    ':leaseExp': n(write.leaseExpiresAtMs),
  };
  const sets = [
    'slots.#slot = :stamp',
    '#day = if_not_exists(#day, :zero) + :one',
    'leases.#lease = :leaseExp',
    ...feedbackSets(write.feedback, values),
  ];
  const removes: string[] = [];
  const conditions = [
    'attribute_exists(#pk)',
    write.slot.oldStamp === undefined
      ? 'attribute_not_exists(slots.#slot)'
      : 'slots.#slot = :oldStamp',
    '(attribute_not_exists(#day) OR #day < :daily)',
    '(attribute_not_exists(dayCeiling) OR zohoDay <> :dayKey OR #day < dayCeiling OR zohoResetAtMs <= :now)',
    '(attribute_not_exists(blockedUntilMs) OR blockedUntilMs <= :now)',
  ];
  if (write.slot.oldStamp !== undefined) values[':oldStamp'] = n(write.slot.oldStamp);
  restampParts(write.restamp, names, values, sets, conditions);
  if (write.lease === 'held') {
    conditions.push('attribute_exists(leases.#lease)');
  } else {
    const expired = write.expiredLeases ?? [];
    expired.forEach((leaseId, index) => {
      names[`#dead${index}`] = leaseId;
      removes.push(`leases.#dead${index}`);
      // Each dropped lease must still be there, or another caller dropped it first and the
      // size below would count one place twice.
      conditions.push(`attribute_exists(leases.#dead${index})`);
    });
    values[':maxInFlight'] = n(write.maxInFlight + expired.length);
    conditions.push('size(leases) < :maxInFlight');
  }
  (write.staleDays ?? []).forEach((dayKey, index) => {
    names[`#old${index}`] = dayAttribute(dayKey);
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

/** Creates an organization's budget item, empty, unless it exists. */
export const createBudgetPut = (input: {
  readonly tableName: string;
  readonly key: TableKey;
  readonly nowMs: number;
}): PutItemCommandInput => ({
  TableName: input.tableName,
  Item: {
    ...toKeyAttributes(input.key),
    slots: { M: {} },
    leases: { M: {} },
    createdAtMs: n(input.nowMs),
  },
  ConditionExpression: 'attribute_not_exists(#pk)',
  ExpressionAttributeNames: { '#pk': TABLE_KEY.partition },
});

/** A strongly consistent read of the budget item: a container's first look. */
export const readBudgetGet = (input: {
  readonly tableName: string;
  readonly key: TableKey;
}): GetItemCommandInput => ({
  TableName: input.tableName,
  Key: toKeyAttributes(input.key),
  ConsistentRead: true,
});

/** What a finished (or never made) call does to the budget item. */
export interface ReleaseWrite {
  readonly tableName: string;
  readonly key: TableKey;
  /** Gives the in-flight place back; omitted when the lease moves on to another call. */
  readonly leaseId?: string;
  readonly restamp?: Restamp;
  /**
   * The call was never made: its slot goes back to its old value (and the day's count down),
   * as long as the slot still holds this permit's stamp.
   */
  readonly giveBack?: {
    readonly slot: SlotChoice;
    readonly stampMs: number;
    readonly dayKey: string;
  };
  readonly feedback?: QuotaFeedback;
  /** After a 429 code 44: Zoho's window is spent for everyone until this instant. */
  readonly blockUntilMs?: number;
}

/** Returns undefined when there is nothing to write. */
export const releaseUpdate = (write: ReleaseWrite): UpdateItemCommandInput | undefined => {
  const names: Record<string, string> = { '#pk': TABLE_KEY.partition };
  const values: Record<string, AttributeValue> = {};
  const sets = feedbackSets(write.feedback, values);
  const removes: string[] = [];
  const adds: string[] = [];
  // Never resurrect an item someone deleted.
  const conditions = ['attribute_exists(#pk)'];
  restampParts(write.restamp, names, values, sets, conditions);
  if (write.giveBack !== undefined) {
    const { slot, stampMs, dayKey } = write.giveBack;
    names['#back'] = String(slot.index);
    names['#backDay'] = dayAttribute(dayKey);
    values[':backStamp'] = n(stampMs);
    values[':minusOne'] = n(-1);
    conditions.push('slots.#back = :backStamp');
    if (slot.oldStamp === undefined) removes.push('slots.#back');
    else {
      values[':backOld'] = n(slot.oldStamp);
      sets.push('slots.#back = :backOld');
    }
    adds.push('#backDay :minusOne');
  }
  if (write.blockUntilMs !== undefined) {
    values[':blockUntil'] = n(write.blockUntilMs);
    sets.push('blockedUntilMs = :blockUntil');
  }
  if (write.leaseId !== undefined) {
    names['#lease'] = write.leaseId;
    removes.push('leases.#lease');
  }
  if (sets.length === 0 && removes.length === 0 && adds.length === 0) return undefined;
  return {
    TableName: write.tableName,
    Key: toKeyAttributes(write.key),
    UpdateExpression: [
      sets.length > 0 ? `SET ${sets.join(', ')}` : '',
      removes.length > 0 ? `REMOVE ${removes.join(', ')}` : '',
      adds.length > 0 ? `ADD ${adds.join(', ')}` : '',
    ]
      .filter(Boolean)
      .join(' '),
    ConditionExpression: conditions.join(' AND '),
    ExpressionAttributeNames: names,
    ...(Object.keys(values).length > 0 ? { ExpressionAttributeValues: values } : {}),
  };
};

/** Why an acquire write was refused, read from the item as it was. */
export type Refusal =
  | { readonly kind: 'no-item' }
  | { readonly kind: 'daily-limit' }
  | { readonly kind: 'zoho-quota'; readonly resetAtMs: number | undefined }
  | { readonly kind: 'blocked'; readonly untilMs: number }
  /** Another caller took the slot first (or restamped the previous one): choose again. */
  | { readonly kind: 'slot-taken' }
  | { readonly kind: 'lease-lost' }
  | {
      readonly kind: 'in-flight';
      /** Leases past their expiry: their holders died; a retry may drop them. */
      readonly expired: readonly string[];
    };

/** Explains a refused {@link acquireUpdate} from the item it saw (ALL_OLD). */
export const explainRefusal = (
  item: Record<string, AttributeValue> | undefined,
  write: Pick<
    AcquireWrite,
    'slot' | 'dayKey' | 'dailyLimit' | 'maxInFlight' | 'nowMs' | 'leaseId' | 'lease' | 'restamp'
  >,
): Refusal => {
  if (item === undefined || Object.keys(item).length === 0) return { kind: 'no-item' };
  const state = readBudgetState(item);
  const dayUsed = state.days.get(write.dayKey) ?? 0;
  if (dayUsed >= write.dailyLimit) return { kind: 'daily-limit' };
  if (isZohoQuotaSpent(state, write.dayKey, write.nowMs)) {
    return { kind: 'zoho-quota', resetAtMs: state.zohoResetAtMs };
  }
  if (state.blockedUntilMs !== undefined && state.blockedUntilMs > write.nowMs) {
    return { kind: 'blocked', untilMs: state.blockedUntilMs };
  }
  if (state.slots.get(write.slot.index) !== write.slot.oldStamp) return { kind: 'slot-taken' };
  if (
    write.restamp !== undefined &&
    write.restamp.endMs < write.restamp.grantStampMs &&
    state.slots.get(write.restamp.index) !== write.restamp.grantStampMs
  ) {
    return { kind: 'slot-taken' };
  }
  if (write.lease === 'held') return { kind: 'lease-lost' };
  const expired = [...state.leases].filter(([, expiresAtMs]) => expiresAtMs <= write.nowMs);
  return { kind: 'in-flight', expired: expired.map(([leaseId]) => leaseId) };
};

/** Zoho's remaining count (as a ceiling on the day's count) is spent and its reset is ahead. */
export const isZohoQuotaSpent = (state: BudgetState, dayKey: string, nowMs: number): boolean =>
  state.dayCeiling !== undefined &&
  state.zohoDay === dayKey &&
  (state.days.get(dayKey) ?? 0) >= state.dayCeiling &&
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
