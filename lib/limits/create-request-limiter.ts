import {
  ConditionalCheckFailedException,
  type DynamoDBClient,
  GetItemCommand,
  PutItemCommand,
  UpdateItemCommand,
} from '@aws-sdk/client-dynamodb';
import type { AlertPublisher } from '../alerts/alert-publisher';
import { tableKeys } from '../aws';
import type { Connection } from '../config';
import {
  type Logger,
  METRIC_DIMENSIONS,
  METRICS,
  type MetricName,
  type MetricsRecorder,
} from '../observability';
import { type QuotaDay, quotaDayAt } from './budget-calendar';
import {
  type AcquireWrite,
  acquireUpdate,
  type BudgetState,
  createBudgetPut,
  EMPTY_BUDGET_STATE,
  explainRefusal,
  isZohoQuotaSpent,
  type QuotaFeedback,
  quotaFeedbackFrom,
  type Restamp,
  readBudgetGet,
  readBudgetState,
  releaseUpdate as releaseUpdateOf,
  type SlotChoice,
  type SlotTiming,
  slotFreeAt,
  viewSlots,
} from './budget-item';
import { BudgetExhaustedError } from './errors';
import { createLocalGate, type LocalGate } from './local-gate';
import { createQuotaAlerts, type QuotaAlerts } from './quota-alerts';
import type {
  AcquireOptions,
  CallResult,
  ReleaseOutcome,
  RequestLimiter,
  RequestPermit,
} from './request-limiter';

/**
 * # The request budget
 *
 * **A sliding log per Books organization** (see budget-item.ts for why, and for the margins):
 * one DynamoDB item `tableKeys.orgBudget(orgId)`, shared by every connection to the organization
 * and independent of any time zone, holds the times of its last N calls (N =
 * `rateLimit.requests`). A call takes a slot whose time is more than a window (plus margins) ago,
 * with one conditional write whose condition is that slot's old value; the same write counts the
 * call in its quota day and takes an in-flight lease (`maxConcurrency`, Zoho's 1070). At most N
 * calls can then reach Zoho in any interval of `windowSeconds`, which is safe whether Zoho's
 * minute is sliding or fixed at any alignment. This container only ever *refuses* on what it
 * knows: every grant is the shared item's.
 *
 * **It knows when the next slot frees.** Every write returns the item (ALL_NEW, or ALL_OLD on a
 * refusal), so the container knows each slot's time. When the next slot frees within
 * `maxShortWaitMs` the call waits for it in memory; otherwise it is refused with the moment a
 * slot frees (one of the busy slots' free times, picked at random so that deferred work comes
 * back spread over the window at the rate slots free, plus a little jitter), and the worker
 * re-sends the message with that delay.
 *
 * **Two writes per call at most, one when busy.** The release restamps the slot with the call's
 * end (so it frees a window after the call really happened, not after the pessimistic grant
 * stamp) and drops the lease. Within a container a local gate lets `containerConcurrency` calls
 * per organization out at a time and hands the lease (with the pending restamp and Zoho's quota
 * feedback) straight to the next waiter, whose acquire write carries them: a busy container
 * writes a release only when its queue runs dry.
 *
 * **Daily quota.** Counted once per permit (failed calls included, as Zoho may count them) under
 * the quota day of the connection's `quotaTimeZone`; Zoho's `X-Rate-Limit-*` headers correct it
 * (see `quotaFeedbackFrom`). When it is spent, work is deferred to the next quota day (or Zoho's
 * reset), which the outcome handler parks because SQS cannot wait that long.
 *
 * Nothing sleeps out a rate limit: a wait is at most `maxShortWaitMs`; longer, and the refusal is
 * a {@link BudgetExhaustedError} with `retryAfterMs`.
 */
export interface RequestLimiterDeps {
  readonly dynamodb: DynamoDBClient;
  readonly tableName: string;
  readonly now: () => number;
  /** Lease ids. */
  readonly newId: () => string;
  readonly logger: Logger;
  /** Where the 80%/100% daily-quota alerts go. @default no alerts */
  readonly alerts?: AlertPublisher;
  /** @default no metrics */
  readonly metrics?: MetricsRecorder;
  /** Prefix of connection secret ids, quoted in alerts. @default 'zoho-sync/' */
  readonly secretPrefix?: string;
  /**
   * How long an in-flight lease lasts unless released or renewed. Must outlast the slowest Zoho
   * call (the HTTP timeout, 10 s by default). @default 30_000
   */
  readonly leaseMs?: number;
  /**
   * How far any container's clock may be from Zoho's (env ZOHO_SYNC_BUDGET_CLOCK_SKEW_MS). Lambda
   * clocks are NTP-synchronised to a few milliseconds; the default leaves a wide margin. @default 200
   */
  readonly clockSkewMs?: number;
  /**
   * Permit-hold margin: a permit's request must be sent within this of the grant (a grant whose
   * write came back later than that is given back at once). It costs nothing while calls end
   * normally (the release restamps the slot); it only delays the slot of a holder that died.
   * @default 5_000
   */
  readonly holdMs?: number;
  /** Transit-jitter margin: how long after sending Zoho may count a call. @default 1_000 */
  readonly transitMs?: number;
  /** Longest in-memory wait for a slot or an in-flight place before deferring. @default 1_000 */
  readonly maxShortWaitMs?: number;
  /** Books calls per organization one container makes at a time. @default 1 */
  readonly containerConcurrency?: number;
  /** Longest a record waits in memory for this container's previous call. @default 5_000 */
  readonly maxGateWaitMs?: number;
  /** Retry delay when every in-flight place stays taken. @default 1_000 */
  readonly inFlightRetryMs?: number;
  /** Day counters kept on the item, for reporting. @default 8 */
  readonly daysKept?: number;
  /** @default a timer */
  readonly sleep?: (ms: number) => Promise<void>;
  /** @default Math.random */
  readonly random?: () => number;
}

export const REQUEST_LIMITER_DEFAULTS = {
  secretPrefix: 'zoho-sync/',
  leaseMs: 30_000,
  clockSkewMs: 200,
  holdMs: 5_000,
  transitMs: 1_000,
  maxShortWaitMs: 1_000,
  containerConcurrency: 1,
  maxGateWaitMs: 5_000,
  inFlightRetryMs: 1_000,
  daysKept: 8,
} as const;

/** An in-flight lease as this container holds it between calls. */
interface Lease {
  readonly leaseId: string;
  /** Zoho's quota correction from the call that held it last, not yet written. */
  readonly feedback: QuotaFeedback | undefined;
  /** The slot of the call that held it last, to restamp with that call's end. */
  readonly restamp: Restamp | undefined;
}

/** What this container knows about one organization's budget. */
interface OrgState {
  readonly gate: LocalGate<Lease>;
  /** The item as the last read or write returned it; undefined before the first. */
  state: BudgetState | undefined;
  /** The quota day known to be spent, and until when. */
  daySpent: { readonly dayKey: string; readonly untilMs: number } | undefined;
  /** Quota days computed so far, per time zone (one per day, so the cache stays tiny). */
  readonly days: Map<string, QuotaDay>;
  /** When this container's grants of the last slot period were made: its share of a turn. */
  grantTimes: number[];
  /** When the calls this container deferred are due back, for those not yet due. */
  comeBacks: number[];
}

/** A granted call. */
interface Grant {
  readonly leaseId: string;
  readonly day: QuotaDay;
  readonly slot: SlotChoice;
  readonly stampMs: number;
  readonly grantedAtMs: number;
  /** The day's count right after this call was counted. */
  readonly dayUsed: number;
}

const MAX_WRITE_ATTEMPTS = 8;

/**
 * Deferrals a container books into one turn of the slots, per grant it got in the last slot
 * period. Above 1 because a turn left short leaves slots unused for good, while an overbooked
 * call is only deferred once more.
 */
const TURN_OVERBOOKING = 1.5;

/**
 * The farthest turn a deferral is booked into, counted from the next one. Each container's
 * share is an estimate; booked farther, a call could come back a window after a turn that
 * still had free slots (a straggler that stretches the drain by a window). Booked at most one
 * turn beyond the next, a misjudged call at worst comes back once more.
 */
const MAX_TURNS_AHEAD = 1;

const defaultSleep = (ms: number) =>
  new Promise<void>((resolve) => {
    setTimeout(resolve, ms).unref?.();
  });

/**
 * Builds the request limiter of one container (Lambda) or process (local mode). See the
 * comment on {@link RequestLimiterDeps} for the algorithm.
 * @example
 * const limiter = createRequestLimiter({ dynamodb, tableName, now: Date.now, newId: randomUUID, logger });
 * const permit = await limiter.acquire(connection); // throws BudgetExhaustedError (defer)
 * try { ... } finally { await permit.release({ httpStatus: 200, rateLimit }); }
 */
export const createRequestLimiter = (deps: RequestLimiterDeps): RequestLimiter => {
  const options = {
    secretPrefix: deps.secretPrefix ?? REQUEST_LIMITER_DEFAULTS.secretPrefix,
    leaseMs: deps.leaseMs ?? REQUEST_LIMITER_DEFAULTS.leaseMs,
    clockSkewMs: deps.clockSkewMs ?? REQUEST_LIMITER_DEFAULTS.clockSkewMs,
    holdMs: deps.holdMs ?? REQUEST_LIMITER_DEFAULTS.holdMs,
    transitMs: deps.transitMs ?? REQUEST_LIMITER_DEFAULTS.transitMs,
    maxShortWaitMs: deps.maxShortWaitMs ?? REQUEST_LIMITER_DEFAULTS.maxShortWaitMs,
    containerConcurrency:
      deps.containerConcurrency ?? REQUEST_LIMITER_DEFAULTS.containerConcurrency,
    maxGateWaitMs: deps.maxGateWaitMs ?? REQUEST_LIMITER_DEFAULTS.maxGateWaitMs,
    inFlightRetryMs: deps.inFlightRetryMs ?? REQUEST_LIMITER_DEFAULTS.inFlightRetryMs,
    daysKept: deps.daysKept ?? REQUEST_LIMITER_DEFAULTS.daysKept,
  };
  const sleep = deps.sleep ?? defaultSleep;
  const random = deps.random ?? Math.random;
  const orgs = new Map<string, OrgState>();
  const quotaAlerts: QuotaAlerts | undefined =
    deps.alerts === undefined
      ? undefined
      : createQuotaAlerts({
          dynamodb: deps.dynamodb,
          tableName: deps.tableName,
          alerts: deps.alerts,
          logger: deps.logger,
          secretPrefix: options.secretPrefix,
        });

  const timingOf = (connection: Connection): SlotTiming => ({
    windowMs: connection.rateLimit.windowSeconds * 1000,
    clockSkewMs: options.clockSkewMs,
  });

  const orgOf = (connection: Connection): OrgState => {
    let org = orgs.get(connection.booksOrganizationId);
    if (org === undefined) {
      org = {
        gate: createLocalGate<Lease>(
          Math.max(1, Math.min(options.containerConcurrency, connection.maxConcurrency)),
          options.maxGateWaitMs,
        ),
        state: undefined,
        daySpent: undefined,
        days: new Map(),
        grantTimes: [],
        comeBacks: [],
      };
      orgs.set(connection.booksOrganizationId, org);
    }
    return org;
  };

  const dayOf = (org: OrgState, connection: Connection, nowMs: number): QuotaDay => {
    const cached = org.days.get(connection.quotaTimeZone);
    if (cached !== undefined && nowMs >= cached.startMs && nowMs < cached.endMs) return cached;
    const day = quotaDayAt(nowMs, connection.quotaTimeZone);
    org.days.set(connection.quotaTimeZone, day);
    return day;
  };

  const refuse = (
    connection: Connection,
    budget: BudgetExhaustedError['budget'],
    untilMs: number,
    nowMs: number,
  ) =>
    new BudgetExhaustedError(budget, connection.booksOrganizationId, Math.max(0, untilMs - nowMs));

  const shareOf = (acquireOptions: AcquireOptions | undefined): number => {
    const share = acquireOptions?.share ?? 1;
    return Number.isFinite(share) ? Math.min(1, Math.max(0, share)) : 1;
  };

  /**
   * When the window will have room for a call of `share`: `undefined` if it has room now. With
   * `share` 1 that is the earliest busy slot's free time; with less, enough slots must free that
   * fewer than `share * N` are used.
   */
  const roomAt = (
    connection: Connection,
    state: BudgetState,
    nowMs: number,
    share: number,
  ): { readonly atMs: number | undefined; readonly freeTimes: readonly number[] } => {
    const slotCount = connection.rateLimit.requests;
    const view = viewSlots(state, slotCount, nowMs, timingOf(connection));
    // A share too small for one call still allows one: a share never starves its work.
    const allowed = Math.max(1, Math.floor(share * slotCount));
    if (view.free.length > 0 && view.used < allowed) return { atMs: undefined, freeTimes: [] };
    // Slots that must free first: enough to bring `used` below `allowed` (at least one).
    const mustFree = Math.max(1, view.used - allowed + 1);
    const atMs = view.freeTimes[Math.min(mustFree, view.freeTimes.length) - 1] ?? nowMs;
    return { atMs, freeTimes: view.freeTimes.slice(mustFree - 1) };
  };

  /** How long a slot takes to come round again: a window plus the clock-skew margin. */
  const slotPeriodMs = (connection: Connection): number =>
    connection.rateLimit.windowSeconds * 1000 + 2 * options.clockSkewMs;

  /**
   * The moment a deferred call should come back: one of the slots that free from `roomAtMs` on,
   * at random, so that many deferred calls return spread at the rate slots free instead of all
   * at once, plus up to one slot interval of jitter; and in the *turn* of the slots (each slot
   * comes round once per slot period) that this container's earlier deferrals have not booked.
   *
   * Why turns: with a backlog of several windows every container defers far more calls than the
   * next turn of slots can take. Sent all to the next turn, most would find the slots taken and
   * be deferred again, a second SQS delivery each, and the ones deferred last would come back a
   * whole window late and stretch the drain. No container knows the whole backlog, but each
   * knows its own share of the budget: the grants it got in the last slot period. It books that
   * many (a little more, so that no slot of a turn is left without a caller) of its deferrals
   * per turn, the first ones into the next turn, the following ones into the turn after
   * (never farther: {@link MAX_TURNS_AHEAD}).
   * Across containers that fills each turn about to the budget. A container with no recent
   * grant knows no share and sends its deferrals to the next turn.
   */
  const comeBackAt = (
    connection: Connection,
    org: OrgState,
    freeTimes: readonly number[],
    roomAtMs: number,
    nowMs: number,
    /** False for a probe: the refusal defers nothing, so no turn is booked. */
    book = true,
  ) => {
    const periodMs = slotPeriodMs(connection);
    org.grantTimes = org.grantTimes.filter((atMs) => atMs > nowMs - periodMs);
    org.comeBacks = org.comeBacks.filter((atMs) => atMs > nowMs);
    // Turn j: the slots that free from `roomAtMs + j * periodMs` on, for one period.
    const perTurn = org.grantTimes.length * TURN_OVERBOOKING;
    let turn = 0;
    const booked = (j: number) =>
      org.comeBacks.filter(
        (atMs) => atMs >= roomAtMs + j * periodMs && atMs < roomAtMs + (j + 1) * periodMs,
      ).length;
    while (perTurn > 0 && turn < MAX_TURNS_AHEAD && booked(turn) >= perTurn) turn += 1;
    const pick = freeTimes[Math.floor(random() * freeTimes.length)] ?? roomAtMs;
    const interval =
      (connection.rateLimit.windowSeconds * 1000) / Math.max(1, connection.rateLimit.requests);
    const atMs = Math.max(roomAtMs, pick) + turn * periodMs + random() * interval;
    if (book) org.comeBacks.push(atMs);
    return atMs;
  };

  /** Refuses without I/O what this container already knows cannot go soon. */
  const precheckAt = (
    connection: Connection,
    org: OrgState,
    nowMs: number,
    share: number,
    book = true,
  ): void => {
    // A spent day stays spent until it ends, or until Zoho's reset when Zoho said so.
    if (org.daySpent !== undefined && org.daySpent.untilMs > nowMs) {
      throw refuse(connection, 'daily-quota', org.daySpent.untilMs, nowMs);
    }
    const state = org.state;
    if (state === undefined) return;
    if (
      state.blockedUntilMs !== undefined &&
      state.blockedUntilMs > nowMs + options.maxShortWaitMs
    ) {
      throw refuse(connection, 'window', state.blockedUntilMs, nowMs);
    }
    // Slots other containers hold in flight are stamped pessimistically and will be restamped
    // earlier at their release: only refuse when even the earliest possible restamp is too late.
    const room = roomAt(connection, state, nowMs, share);
    if (room.atMs === undefined) return;
    const optimisticMs = room.atMs - options.holdMs - options.transitMs;
    if (optimisticMs > nowMs + options.maxShortWaitMs) {
      throw refuse(
        connection,
        'window',
        comeBackAt(connection, org, room.freeTimes, optimisticMs, nowMs, book),
        nowMs,
      );
    }
  };

  const count = (name: MetricName, connection: Connection, value = 1) =>
    deps.metrics?.count(name, { [METRIC_DIMENSIONS.connection]: connection.connectionId }, value);

  const checkQuotaAlerts = async (
    connection: Connection,
    day: QuotaDay,
    used: number,
    zoho: { zohoLimit?: number; zohoRemaining?: number; spent?: boolean },
    resumesAtMs: number,
  ): Promise<void> => {
    if (quotaAlerts === undefined) return;
    await quotaAlerts.check({
      connection,
      day,
      used,
      limit: connection.dailyLimit,
      spent: zoho.spent === true,
      ...(zoho.zohoLimit === undefined ? {} : { zohoLimit: zoho.zohoLimit }),
      ...(zoho.zohoRemaining === undefined ? {} : { zohoRemaining: zoho.zohoRemaining }),
      resumesAtMs,
    });
  };

  /** Day counters beyond the newest `daysKept`: dropped by the next acquire. */
  const staleDays = (state: BudgetState, dayKey: string): string[] =>
    [...state.days.keys()]
      .filter((key) => key !== dayKey)
      .sort()
      .reverse()
      .slice(Math.max(0, options.daysKept - 1));

  /** Writes what a finished (or unused) call leaves: lease, restamp, feedback, block. */
  const writeRelease = async (
    connection: Connection,
    org: OrgState,
    write: {
      leaseId?: string;
      restamp?: Restamp;
      feedback?: QuotaFeedback;
      giveBack?: { slot: SlotChoice; stampMs: number; dayKey: string };
      blockUntilMs?: number;
    },
  ): Promise<void> => {
    const input = releaseInput(connection, write);
    if (input === undefined) return;
    try {
      const result = await deps.dynamodb.send(
        new UpdateItemCommand({ ...input, ReturnValues: 'ALL_NEW' }),
      );
      if (result.Attributes !== undefined) org.state = readBudgetState(result.Attributes);
    } catch (error) {
      if (error instanceof ConditionalCheckFailedException && write.restamp !== undefined) {
        // The slot no longer holds our stamp (it cannot have been reused this early, but a
        // budget change can renumber slots): give the lease back without the restamp.
        const { restamp: _restamp, giveBack: _giveBack, ...rest } = write;
        await writeRelease(connection, org, rest);
        return;
      }
      if (error instanceof ConditionalCheckFailedException) return; // the item is gone
      // A lease that cannot be given back expires by itself; a slot not restamped frees later.
      deps.logger.warn('budget release not written; the lease will expire', {
        org_id: connection.booksOrganizationId,
        error: error instanceof Error ? error.message : String(error),
      });
    }
  };

  const releaseInput = (connection: Connection, write: Parameters<typeof writeRelease>[2]) =>
    releaseUpdateOf({
      tableName: deps.tableName,
      key: tableKeys.orgBudget(connection.booksOrganizationId),
      ...write,
    });

  /** Lets the next waiter of this container have the lease, or gives it back. */
  const passOn = async (connection: Connection, org: OrgState, lease: Lease | undefined) => {
    if (org.gate.leave(lease)) return;
    if (lease !== undefined) {
      await writeRelease(connection, org, {
        leaseId: lease.leaseId,
        ...(lease.restamp === undefined ? {} : { restamp: lease.restamp }),
        ...(lease.feedback === undefined ? {} : { feedback: lease.feedback }),
      });
    }
  };

  /** The first look at an organization's item: read it, or create it empty. */
  const load = async (connection: Connection, org: OrgState): Promise<BudgetState> => {
    const key = tableKeys.orgBudget(connection.booksOrganizationId);
    const read = await deps.dynamodb.send(
      new GetItemCommand(readBudgetGet({ tableName: deps.tableName, key })),
    );
    if (read.Item !== undefined) {
      org.state = readBudgetState(read.Item);
      return org.state;
    }
    try {
      await deps.dynamodb.send(
        new PutItemCommand(createBudgetPut({ tableName: deps.tableName, key, nowMs: deps.now() })),
      );
      org.state = EMPTY_BUDGET_STATE;
    } catch (error) {
      if (!(error instanceof ConditionalCheckFailedException)) throw error;
      return load(connection, org); // another container created it first
    }
    return org.state;
  };

  /**
   * The write loop of one acquire. Returns the grant, or throws a refusal. `holder.lease` is the
   * lease the caller holds; it is cleared once the grant carries it or it is found lost.
   */
  const reserve = async (
    connection: Connection,
    org: OrgState,
    holder: { lease: Lease | undefined },
    share: number,
  ): Promise<Grant> => {
    const organizationId = connection.booksOrganizationId;
    const slotCount = connection.rateLimit.requests;
    const timing = timingOf(connection);
    const waitUntilMs = deps.now() + options.maxShortWaitMs;
    let expiredLeases: readonly string[] | undefined;
    for (let attempt = 0; attempt < MAX_WRITE_ATTEMPTS; attempt += 1) {
      const state = org.state ?? (await load(connection, org));
      const nowMs = deps.now();
      const day = dayOf(org, connection, nowMs);
      if (state.blockedUntilMs !== undefined && state.blockedUntilMs > nowMs) {
        if (state.blockedUntilMs > waitUntilMs) {
          throw refuse(connection, 'window', state.blockedUntilMs, nowMs);
        }
        await sleep(state.blockedUntilMs - nowMs);
        continue;
      }
      const room = roomAt(connection, state, nowMs, share);
      if (room.atMs !== undefined) {
        if (room.atMs > waitUntilMs) {
          throw refuse(
            connection,
            'window',
            comeBackAt(connection, org, room.freeTimes, room.atMs, nowMs),
            nowMs,
          );
        }
        // A slot frees within the short wait: wait for it here rather than defer. Waiters of
        // other containers see the same free times, so each waits for one of those within the
        // short wait at random, rather than all for the first (which only one of them can get).
        const soon = room.freeTimes.filter((atMs) => atMs <= waitUntilMs);
        const target = soon[Math.floor(random() * soon.length)] ?? room.atMs;
        await sleep(Math.max(1, target - nowMs + random() * 5));
        attempt -= 1; // a wait is not a write attempt
        continue;
      }
      const free = viewSlots(state, slotCount, nowMs, timing).free;
      // A random free slot: containers working from the same (possibly stale) view rarely
      // pick the same one, so conditional-write conflicts stay rare.
      const slot = free[Math.floor(random() * free.length)] as SlotChoice;
      const lease = holder.lease;
      const leaseId = lease?.leaseId ?? deps.newId();
      const stampMs = nowMs + options.holdMs + options.transitMs;
      const write: AcquireWrite = {
        tableName: deps.tableName,
        key: tableKeys.orgBudget(organizationId),
        slot,
        stampMs,
        dayKey: day.key,
        dailyLimit: connection.dailyLimit,
        maxInFlight: connection.maxConcurrency,
        nowMs,
        leaseId,
        leaseExpiresAtMs: nowMs + options.leaseMs,
        lease: lease === undefined ? 'new' : 'held',
        ...(lease === undefined && expiredLeases !== undefined ? { expiredLeases } : {}),
        staleDays: staleDays(state, day.key),
        ...(lease?.restamp === undefined ? {} : { restamp: lease.restamp }),
        ...(lease?.feedback === undefined ? {} : { feedback: lease.feedback }),
      };
      try {
        const result = await deps.dynamodb.send(new UpdateItemCommand(acquireUpdate(write)));
        const granted = readBudgetState(result.Attributes ?? {});
        org.state = granted;
        holder.lease = undefined; // now carried by the grant
        org.grantTimes.push(nowMs);
        const dayUsed = granted.days.get(day.key) ?? 1;
        learnDay(connection, org, granted, day, nowMs);
        await afterGrant(connection, slot, dayUsed, granted, day);
        return { leaseId, day, slot, stampMs, grantedAtMs: nowMs, dayUsed };
      } catch (error) {
        if (!(error instanceof ConditionalCheckFailedException)) throw error;
        org.state = error.Item === undefined ? undefined : readBudgetState(error.Item);
        const refusal = explainRefusal(error.Item, write);
        switch (refusal.kind) {
          case 'no-item':
            org.state = undefined;
            continue;
          case 'slot-taken':
            if (lease?.restamp !== undefined && org.state !== undefined) {
              const current = org.state.slots.get(lease.restamp.index);
              if (current !== lease.restamp.grantStampMs) {
                holder.lease = { ...lease, restamp: undefined };
              }
            }
            continue;
          case 'daily-limit': {
            org.daySpent = { dayKey: day.key, untilMs: day.endMs };
            await checkQuotaAlerts(
              connection,
              day,
              connection.dailyLimit,
              { spent: true },
              day.endMs,
            );
            throw refuse(connection, 'daily-quota', day.endMs, nowMs);
          }
          case 'zoho-quota': {
            const untilMs = Math.max(refusal.resetAtMs ?? day.endMs, nowMs);
            org.daySpent = { dayKey: day.key, untilMs };
            const used = org.state?.days.get(day.key) ?? 0;
            await checkQuotaAlerts(connection, day, used, { spent: true }, untilMs);
            throw refuse(connection, 'daily-quota', untilMs, nowMs);
          }
          case 'blocked':
            continue; // the loop's head waits or refuses
          case 'lease-lost':
            holder.lease = undefined;
            continue;
          case 'in-flight': {
            if (refusal.expired.length > 0 && expiredLeases === undefined) {
              expiredLeases = refusal.expired;
              deps.logger.info('dropping expired in-flight leases', {
                org_id: organizationId,
                expired_leases: refusal.expired.length,
              });
              continue;
            }
            // In-flight calls end within a Zoho latency: look again for a place once or twice
            // (each look is a write, so not more often), then defer.
            const pauseMs = 250 + random() * 250;
            if (deps.now() + pauseMs > waitUntilMs) {
              throw refuse(connection, 'in-flight', nowMs + options.inFlightRetryMs, nowMs);
            }
            await sleep(pauseMs);
            attempt -= 1;
            continue;
          }
        }
      }
    }
    // Lost every race in a row: the organization is busy; try again shortly.
    throw refuse(connection, 'in-flight', deps.now() + options.inFlightRetryMs, deps.now());
  };

  /** Learns from the item a write returned whether the day is spent. */
  const learnDay = (
    connection: Connection,
    org: OrgState,
    state: BudgetState,
    day: QuotaDay,
    nowMs: number,
  ): void => {
    if ((state.days.get(day.key) ?? 0) >= connection.dailyLimit) {
      org.daySpent = { dayKey: day.key, untilMs: day.endMs };
    } else if (isZohoQuotaSpent(state, day.key, nowMs)) {
      org.daySpent = { dayKey: day.key, untilMs: state.zohoResetAtMs ?? day.endMs };
    }
  };

  const afterGrant = async (
    connection: Connection,
    slot: SlotChoice,
    dayUsed: number,
    state: BudgetState,
    day: QuotaDay,
  ): Promise<void> => {
    if (slot.index === 0) {
      // Each slot is used at most once per window, and under load about once: the grant of
      // slot 0 reports the window's budget, so the dashboard can draw ZohoCalls against
      // ZohoBudget per period.
      count(METRICS.zohoBudget, connection, connection.rateLimit.requests);
    }
    const zoho = {
      ...(state.zohoLimit === undefined ? {} : { zohoLimit: state.zohoLimit }),
      ...(state.zohoRemaining === undefined ? {} : { zohoRemaining: state.zohoRemaining }),
    };
    const percent = Math.round((dayUsed / connection.dailyLimit) * 100);
    count(METRICS.dailyQuotaUsedPercent, connection, Math.min(100, percent));
    await checkQuotaAlerts(connection, day, dayUsed, zoho, day.endMs);
  };

  const makePermit = (connection: Connection, org: OrgState, grant: Grant): RequestPermit => {
    let released = false;
    const restampOf = (endMs: number): Restamp => ({
      index: grant.slot.index,
      grantStampMs: grant.stampMs,
      endMs,
    });
    return {
      usableUntilMs: grant.grantedAtMs + options.holdMs,
      async release(result: CallResult): Promise<ReleaseOutcome> {
        if (released) return {};
        released = true;
        const nowMs = deps.now();
        if (result.unused === true) {
          // Never sent: the slot and the day's count go back; the place is freed.
          await writeRelease(connection, org, {
            leaseId: grant.leaseId,
            giveBack: { slot: grant.slot, stampMs: grant.stampMs, dayKey: grant.day.key },
          });
          org.gate.leave(undefined);
          return {};
        }
        count(METRICS.zohoCalls, connection);
        const feedback = quotaFeedbackFrom({
          rateLimit: result.rateLimit,
          dayKey: grant.day.key,
          dayEndMs: grant.day.endMs,
          dayUsedAtGrant: grant.dayUsed,
          maxInFlight: connection.maxConcurrency,
          nowMs,
        });
        const zohoSpent =
          feedback?.dayCeiling !== undefined && feedback.dayCeiling <= grant.dayUsed;
        if (feedback !== undefined) {
          if (zohoSpent) {
            org.daySpent = {
              dayKey: grant.day.key,
              untilMs: feedback.zohoResetAtMs ?? grant.day.endMs,
            };
          }
          await checkQuotaAlerts(
            connection,
            grant.day,
            grant.dayUsed,
            {
              ...(feedback.zohoLimit === undefined ? {} : { zohoLimit: feedback.zohoLimit }),
              ...(feedback.zohoRemaining === undefined
                ? {}
                : { zohoRemaining: feedback.zohoRemaining }),
              spent: zohoSpent,
            },
            feedback.zohoResetAtMs ?? grant.day.endMs,
          );
        }
        // The answer has arrived, so Zoho counted the call before now: the slot frees a window
        // after now instead of after the pessimistic grant stamp.
        const restamp = restampOf(nowMs);
        if (result.httpStatus !== 429) {
          await passOn(connection, org, { leaseId: grant.leaseId, feedback, restamp });
          return {};
        }
        // Zoho refused although our log had room: another app shares the organization, or Zoho
        // counts differently. Block the window for every container and say when to come back.
        // A refusal for too many calls in flight (1070) blocks nothing.
        count(METRICS.zohoTooManyRequests, connection);
        const concurrency = String(result.zohoCode) === '1070';
        const timing = timingOf(connection);
        const blockUntilMs = concurrency ? undefined : slotFreeAt(nowMs, timing);
        deps.logger.warn('zoho refused a call within our budget', {
          org_id: connection.booksOrganizationId,
          http_status: 429,
          zoho_code: result.zohoCode,
        });
        await writeRelease(connection, org, {
          leaseId: grant.leaseId,
          restamp,
          ...(feedback === undefined ? {} : { feedback }),
          ...(blockUntilMs === undefined ? {} : { blockUntilMs }),
        });
        org.gate.leave(undefined);
        const untilMs = zohoSpent
          ? (feedback?.zohoResetAtMs ?? grant.day.endMs)
          : (blockUntilMs ?? nowMs + options.inFlightRetryMs);
        return { retryAfterMs: untilMs - nowMs };
      },
    };
  };

  return {
    precheck(connection, acquireOptions) {
      precheckAt(
        connection,
        orgOf(connection),
        deps.now(),
        shareOf(acquireOptions),
        acquireOptions?.probe !== true,
      );
    },

    async acquire(connection, acquireOptions) {
      const org = orgOf(connection);
      const share = shareOf(acquireOptions);
      precheckAt(connection, org, deps.now(), share);
      const ticket = await org.gate.enter();
      if (ticket === undefined) {
        // This container's own calls for the organization kept the gate busy too long.
        throw refuse(connection, 'in-flight', deps.now() + options.inFlightRetryMs, deps.now());
      }
      const holder = { lease: ticket.lease };
      let grant: Grant;
      try {
        // Time passed while waiting: what was learned meanwhile may refuse this call.
        precheckAt(connection, org, deps.now(), share);
        grant = await reserve(connection, org, holder, share);
      } catch (error) {
        await passOn(connection, org, holder.lease);
        throw error;
      }
      const permit = makePermit(connection, org, grant);
      if (deps.now() <= permit.usableUntilMs) return permit;
      // The write came back so late (an overloaded container or DynamoDB) that the call could
      // reach Zoho after the time its slot was stamped with: give it back unused and defer.
      await permit.release({ unused: true });
      throw refuse(connection, 'in-flight', deps.now() + options.inFlightRetryMs, deps.now());
    },
  };
};
