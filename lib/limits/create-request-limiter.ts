import {
  ConditionalCheckFailedException,
  type DynamoDBClient,
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
import { type QuotaDay, quotaDayAt, type RequestWindow, requestWindowAt } from './budget-calendar';
import {
  type AcquireWrite,
  acquireUpdate,
  type BudgetState,
  createDayPut,
  explainRefusal,
  isZohoQuotaSpent,
  type QuotaFeedback,
  quotaFeedbackFrom,
  readBudgetState,
  releaseUpdate,
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
 * **Algorithm: fixed windows aligned to the epoch (calendar minutes by default), counted in
 * DynamoDB, with a guard band before each window's end.** Zoho documents "100 requests per
 * minute per organization" without saying whether the minute is a calendar minute or sliding.
 * - A fixed window is what the words most plainly say, it is what the simulator enforces, and it
 *   lets a backlog use the whole budget (utilization 1.0). A token bucket or a sliding window
 *   that is safe against a fixed-window Zoho must keep its burst small and so gives away part of
 *   every minute, more so because SQS can only delay in whole seconds.
 * - It needs no coordination to agree on windows: every container derives the same window from
 *   its clock, and a window's counter starts at zero by itself (`if_not_exists`), so no write is
 *   ever spent on resetting one.
 * - Its risk is the boundary: a call granted just before a window ends may reach Zoho just after
 *   it. A permit granted in the last `windowGuardMs` of a window therefore counts in that window
 *   and in the next, and a grant whose write came back too late to be sure is dropped unused.
 * - If Zoho really slides, any 60-second span overlaps two fixed windows, so a budget of 50 per
 *   60 s (`rateLimit.requests`) can never exceed 100 in any span; and a 429 spends the rest of
 *   the window for every container (see `release`).
 *
 * **One write per call.** Per organization and quota day there is one item
 * (`tableKeys.dailyQuota`) holding the day's count, a counter per window and the in-flight
 * leases. One conditional UpdateItem counts the call in its window and day and takes an
 * in-flight lease, all or nothing, and carries the previous call's quota correction. Its
 * ALL_NEW answer tells this container when the window or the day is full, so further work is
 * deferred without asking DynamoDB again (`precheck`).
 *
 * **In-flight leases expire.** A lease is an entry `leases.<id> = expiresAtMs`; a container
 * that dies between acquire and release leaves an entry that stops counting at its expiry and is
 * dropped by the next caller that finds the cap reached. Within a container, a local gate lets
 * one call per organization out at a time (`containerConcurrency`) and hands the lease from call
 * to call, so a busy container writes a release only when its queue runs dry.
 *
 * **Deferrals go to the window's end.** Work refused for a full window comes back when it ends;
 * the first arrivals take the new window's budget and the rest are deferred again, mostly without
 * any I/O (`precheck`). That costs SQS deliveries, not DynamoDB writes or Zoho calls: reserving
 * future slots would spread the returns but cost a write per deferral.
 *
 * **Daily quota.** Counted once per permit (failed calls included, as Zoho may count them),
 * per quota day in the connection's `quotaTimeZone`; Zoho's `X-Rate-Limit-*` headers correct it
 * (see `quotaFeedbackFrom`). When it is spent, work is deferred to the next quota day (or Zoho's
 * reset), which the outcome handler parks in DynamoDB because SQS cannot wait that long.
 *
 * Nothing here sleeps: a refusal is a {@link BudgetExhaustedError} with `retryAfterMs`.
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
   * A permit granted this close to a window's end counts in the next window too: it covers the
   * time from the decision to Zoho's count (DynamoDB write, network) and clock skew. @default 250
   */
  readonly windowGuardMs?: number;
  /** Books calls per organization one container makes at a time. @default 1 */
  readonly containerConcurrency?: number;
  /** Longest a record waits in memory for this container's previous call. @default 5_000 */
  readonly maxGateWaitMs?: number;
  /** Retry delay when every in-flight slot is taken. @default 1_000 */
  readonly inFlightRetryMs?: number;
  /** How long a quota day's item is kept after the day, for reporting. @default 7 */
  readonly dayRetentionDays?: number;
}

export const REQUEST_LIMITER_DEFAULTS = {
  secretPrefix: 'zoho-sync/',
  leaseMs: 30_000,
  windowGuardMs: 250,
  containerConcurrency: 1,
  maxGateWaitMs: 5_000,
  inFlightRetryMs: 1_000,
  dayRetentionDays: 7,
} as const;

/** An in-flight lease as this container holds it between calls. */
interface Lease {
  readonly leaseId: string;
  readonly dayKey: string;
  /** Zoho's quota correction from the call that held it last, not yet written. */
  readonly feedback: QuotaFeedback | undefined;
}

/** What this container knows about one organization's budget. */
interface OrgState {
  readonly gate: LocalGate<Lease>;
  /** A window known to be spent: refuse without I/O until it ends. */
  windowSpent: RequestWindow | undefined;
  /** The quota day known to be spent, and until when. */
  daySpent: { readonly dayKey: string; readonly untilMs: number } | undefined;
  /** The item as the last write returned it: for tidying old windows. */
  lastState: BudgetState | undefined;
  /** Quota days computed so far, per time zone (one per day, so the cache stays tiny). */
  readonly days: Map<string, QuotaDay>;
}

/** A granted call. */
interface Grant {
  readonly leaseId: string;
  readonly day: QuotaDay;
  readonly window: RequestWindow;
  /** Counted in the next window too (granted in the guard band before the window's end). */
  readonly spilled: boolean;
  /** `dayUsed` right after this call was counted. */
  readonly dayUsed: number;
}

const MAX_WRITE_ATTEMPTS = 4;

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
    windowGuardMs: deps.windowGuardMs ?? REQUEST_LIMITER_DEFAULTS.windowGuardMs,
    containerConcurrency:
      deps.containerConcurrency ?? REQUEST_LIMITER_DEFAULTS.containerConcurrency,
    maxGateWaitMs: deps.maxGateWaitMs ?? REQUEST_LIMITER_DEFAULTS.maxGateWaitMs,
    inFlightRetryMs: deps.inFlightRetryMs ?? REQUEST_LIMITER_DEFAULTS.inFlightRetryMs,
    dayRetentionDays: deps.dayRetentionDays ?? REQUEST_LIMITER_DEFAULTS.dayRetentionDays,
  };
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

  const orgOf = (connection: Connection, key = connection.booksOrganizationId): OrgState => {
    let org = orgs.get(key);
    if (org === undefined) {
      org = {
        gate: createLocalGate<Lease>(
          Math.max(1, Math.min(options.containerConcurrency, connection.maxConcurrency)),
          options.maxGateWaitMs,
        ),
        windowSpent: undefined,
        daySpent: undefined,
        lastState: undefined,
        days: new Map(),
      };
      orgs.set(key, org);
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

  /** Refuses without I/O what this container already knows cannot go now. */
  const precheckAt = (connection: Connection, org: OrgState, nowMs: number): void => {
    // A spent day stays spent until it ends, or until Zoho's reset when Zoho said so.
    if (org.daySpent !== undefined && org.daySpent.untilMs > nowMs) {
      throw refuse(connection, 'daily-quota', org.daySpent.untilMs, nowMs);
    }
    const window = requestWindowAt(nowMs, connection.rateLimit.windowSeconds);
    if (org.windowSpent?.startMs === window.startMs) {
      throw refuse(connection, 'window', window.endMs, nowMs);
    }
  };

  /**
   * The window a call now may land in at Zoho besides the current one: the next, in the last
   * `windowGuardMs` of a window (the call may arrive after the boundary).
   */
  const spillWindowOf = (window: RequestWindow, nowMs: number): RequestWindow | undefined =>
    nowMs >= window.endMs - options.windowGuardMs
      ? { startMs: window.endMs, endMs: 2 * window.endMs - window.startMs }
      : undefined;

  const count = (name: MetricName, connection: Connection, value = 1) =>
    deps.metrics?.count(name, { [METRIC_DIMENSIONS.connection]: connection.connectionId }, value);

  /** Learns from the item a write returned what later calls can be refused without I/O. */
  const learn = (
    connection: Connection,
    org: OrgState,
    state: BudgetState,
    day: QuotaDay,
    window: RequestWindow,
    nowMs: number,
  ): void => {
    org.lastState = state;
    if ((state.windows.get(window.startMs) ?? 0) >= connection.rateLimit.requests) {
      org.windowSpent = window;
    }
    if (state.dayUsed >= connection.dailyLimit) {
      org.daySpent = { dayKey: day.key, untilMs: day.endMs };
    } else if (isZohoQuotaSpent(state, nowMs)) {
      org.daySpent = { dayKey: day.key, untilMs: state.zohoResetAtMs ?? day.endMs };
    }
  };

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

  /** Old window counters this write may drop: older than the previous window. */
  const staleWindows = (org: OrgState, window: RequestWindow): number[] => {
    const windowMs = window.endMs - window.startMs;
    return [...(org.lastState?.windows.keys() ?? [])].filter(
      (startMs) => startMs < window.startMs - windowMs,
    );
  };

  /** Gives a lease back to its day's item, with any correction it still carries. */
  const writeRelease = async (
    organizationId: string,
    dayKey: string,
    write: {
      leaseId?: string;
      feedback?: QuotaFeedback;
      spendWindow?: { windowStartMs: number; windowBudget: number };
    },
  ): Promise<void> => {
    const input = releaseUpdate({
      tableName: deps.tableName,
      key: tableKeys.dailyQuota(organizationId, dayKey),
      ...(write.leaseId === undefined ? {} : { leaseId: write.leaseId }),
      ...(write.feedback?.dayKey === dayKey ? { feedback: write.feedback } : {}),
      ...(write.spendWindow === undefined ? {} : { spendWindow: write.spendWindow }),
    });
    if (input === undefined) return;
    try {
      await deps.dynamodb.send(new UpdateItemCommand(input));
    } catch (error) {
      if (error instanceof ConditionalCheckFailedException) return; // the day's item is gone
      // A lease that cannot be given back expires by itself; the call itself succeeded.
      deps.logger.warn('budget release not written; the lease will expire', {
        org_id: organizationId,
        error: error instanceof Error ? error.message : String(error),
      });
    }
  };

  /** Lets the next waiter of this container have the lease, or gives it back. */
  const passOn = async (org: OrgState, organizationId: string, lease: Lease | undefined) => {
    if (org.gate.leave(lease)) return;
    if (lease !== undefined) {
      await writeRelease(organizationId, lease.dayKey, {
        leaseId: lease.leaseId,
        ...(lease.feedback === undefined ? {} : { feedback: lease.feedback }),
      });
    }
  };

  /**
   * The write loop of one acquire. Returns the grant, or throws a refusal. `holder.lease` is the
   * lease the caller holds; it is cleared when the lease is found lost or given back.
   */
  const reserve = async (
    connection: Connection,
    org: OrgState,
    holder: { lease: Lease | undefined },
  ): Promise<Grant> => {
    const organizationId = connection.booksOrganizationId;
    let expiredLeases: readonly string[] | undefined;
    for (let attempt = 0; attempt < MAX_WRITE_ATTEMPTS; attempt += 1) {
      const nowMs = deps.now();
      const day = dayOf(org, connection, nowMs);
      const window = requestWindowAt(nowMs, connection.rateLimit.windowSeconds);
      const spill = spillWindowOf(window, nowMs);
      const held = holder.lease;
      if (held !== undefined && held.dayKey !== day.key) {
        // A new quota day has a new item: the old day's lease goes back to the old item.
        await writeRelease(organizationId, held.dayKey, {
          leaseId: held.leaseId,
          ...(held.feedback === undefined ? {} : { feedback: held.feedback }),
        });
        holder.lease = undefined;
      }
      const lease = holder.lease;
      const leaseId = lease?.leaseId ?? deps.newId();
      const write: AcquireWrite = {
        tableName: deps.tableName,
        key: tableKeys.dailyQuota(organizationId, day.key),
        windowStartMs: window.startMs,
        ...(spill === undefined ? {} : { spillWindowStartMs: spill.startMs }),
        windowBudget: connection.rateLimit.requests,
        dailyLimit: connection.dailyLimit,
        maxInFlight: connection.maxConcurrency,
        nowMs,
        leaseId,
        leaseExpiresAtMs: nowMs + options.leaseMs,
        lease: lease === undefined ? 'new' : 'held',
        ...(lease === undefined && expiredLeases !== undefined ? { expiredLeases } : {}),
        staleWindows: staleWindows(org, window),
        ...(lease?.feedback?.dayKey === day.key ? { feedback: lease.feedback } : {}),
      };
      try {
        const result = await deps.dynamodb.send(new UpdateItemCommand(acquireUpdate(write)));
        const state = readBudgetState(result.Attributes ?? {});
        learn(connection, org, state, day, window, nowMs);
        holder.lease = undefined; // now carried by the grant
        await afterGrant(connection, state, day, window);
        return { leaseId, day, window, spilled: spill !== undefined, dayUsed: state.dayUsed };
      } catch (error) {
        if (!(error instanceof ConditionalCheckFailedException)) throw error;
        const refusal = explainRefusal(error.Item, write);
        switch (refusal.kind) {
          case 'no-item': {
            holder.lease = undefined;
            const created = await createDay(connection, org, day, window, spill, leaseId, nowMs);
            if (created !== undefined) return created;
            continue; // another container created it first
          }
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
            const state = readBudgetState(error.Item ?? {});
            await checkQuotaAlerts(connection, day, state.dayUsed, { spent: true }, untilMs);
            throw refuse(connection, 'daily-quota', untilMs, nowMs);
          }
          case 'window': {
            const full = refusal.windowStartMs === window.startMs ? window : (spill ?? window);
            org.windowSpent = full;
            throw refuse(connection, 'window', full.endMs, nowMs);
          }
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
            const untilMs = Math.min(
              nowMs + options.inFlightRetryMs,
              Math.max(nowMs, refusal.earliestExpiryMs),
            );
            throw refuse(connection, 'in-flight', untilMs, nowMs);
          }
        }
      }
    }
    // Lost every race in a row: the organization is busy; try again shortly.
    throw refuse(connection, 'in-flight', deps.now() + options.inFlightRetryMs, deps.now());
  };

  const createDay = async (
    connection: Connection,
    org: OrgState,
    day: QuotaDay,
    window: RequestWindow,
    spill: RequestWindow | undefined,
    leaseId: string,
    nowMs: number,
  ): Promise<Grant | undefined> => {
    try {
      await deps.dynamodb.send(
        new PutItemCommand(
          createDayPut({
            tableName: deps.tableName,
            key: tableKeys.dailyQuota(connection.booksOrganizationId, day.key),
            windowStartMs: window.startMs,
            ...(spill === undefined ? {} : { spillWindowStartMs: spill.startMs }),
            leaseId,
            leaseExpiresAtMs: nowMs + options.leaseMs,
            expiresAtMs: day.endMs + options.dayRetentionDays * 86_400_000,
            timeZone: connection.quotaTimeZone,
            dailyLimit: connection.dailyLimit,
            nowMs,
          }),
        ),
      );
    } catch (error) {
      if (error instanceof ConditionalCheckFailedException) return undefined;
      throw error;
    }
    const state: BudgetState = {
      dayUsed: 1,
      dayCeiling: undefined,
      zohoLimit: undefined,
      zohoRemaining: undefined,
      zohoResetAtMs: undefined,
      windows: new Map([
        [window.startMs, 1],
        ...(spill === undefined ? [] : [[spill.startMs, 1] as const]),
      ]),
      leases: new Map([[leaseId, nowMs + options.leaseMs]]),
    };
    learn(connection, org, state, day, window, nowMs);
    await afterGrant(connection, state, day, window);
    return { leaseId, day, window, spilled: spill !== undefined, dayUsed: 1 };
  };

  const afterGrant = async (
    connection: Connection,
    state: BudgetState,
    day: QuotaDay,
    window: RequestWindow,
  ): Promise<void> => {
    if (state.windows.get(window.startMs) === 1) {
      // Exactly one grant opens each window: it reports the window's budget, so the dashboard
      // can draw ZohoCalls against ZohoBudget per period.
      count(METRICS.zohoBudget, connection, connection.rateLimit.requests);
    }
    const zoho = {
      ...(state.zohoLimit === undefined ? {} : { zohoLimit: state.zohoLimit }),
      ...(state.zohoRemaining === undefined ? {} : { zohoRemaining: state.zohoRemaining }),
    };
    const percent = Math.round((state.dayUsed / connection.dailyLimit) * 100);
    count(METRICS.dailyQuotaUsedPercent, connection, Math.min(100, percent));
    await checkQuotaAlerts(connection, day, state.dayUsed, zoho, day.endMs);
  };

  const makePermit = (connection: Connection, org: OrgState, grant: Grant): RequestPermit => {
    let released = false;
    return {
      async release(result: CallResult): Promise<ReleaseOutcome> {
        if (released) return {};
        released = true;
        const nowMs = deps.now();
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
        if (result.httpStatus !== 429) {
          await passOn(org, connection.booksOrganizationId, {
            leaseId: grant.leaseId,
            dayKey: grant.day.key,
            feedback,
          });
          return {};
        }
        // Zoho refused although our count had room: another app shares the organization, or
        // Zoho counts differently. Spend the rest of this window for every container, and say
        // when to come back. A refusal for too many calls in flight (1070) spends nothing.
        count(METRICS.zohoTooManyRequests, connection);
        const concurrency = String(result.zohoCode) === '1070';
        if (!concurrency) org.windowSpent = grant.window;
        deps.logger.warn('zoho refused a call within our budget', {
          org_id: connection.booksOrganizationId,
          http_status: 429,
          zoho_code: result.zohoCode,
        });
        await writeRelease(connection.booksOrganizationId, grant.day.key, {
          leaseId: grant.leaseId,
          ...(feedback === undefined ? {} : { feedback }),
          ...(concurrency
            ? {}
            : {
                spendWindow: {
                  windowStartMs: grant.window.startMs,
                  windowBudget: connection.rateLimit.requests,
                },
              }),
        });
        org.gate.leave(undefined);
        const untilMs = zohoSpent
          ? (feedback?.zohoResetAtMs ?? grant.day.endMs)
          : concurrency
            ? nowMs + options.inFlightRetryMs
            : Math.max(grant.window.endMs, nowMs);
        return { retryAfterMs: untilMs - nowMs };
      },
    };
  };

  /**
   * MINIMAL SHARE (issue #12, backfill): work with `share` < 1 is counted in the same DynamoDB
   * item but granted against a window budget of `share * requests`, and keeps its own in-memory
   * state, so a window spent for the backfill is never taken as spent for live work. The
   * limiter rewrite of issue #10 replaces this with its own `share` semantics.
   */
  const withShare = (
    connection: Connection,
    acquireOptions: AcquireOptions | undefined,
  ): { connection: Connection; org: OrgState } => {
    const share = acquireOptions?.share;
    if (share === undefined || !Number.isFinite(share) || share >= 1) {
      return { connection, org: orgOf(connection) };
    }
    // A share too small for one call still allows one: a share never starves its work.
    const requests = Math.max(1, Math.floor(Math.max(0, share) * connection.rateLimit.requests));
    const shared: Connection = { ...connection, rateLimit: { ...connection.rateLimit, requests } };
    return {
      connection: shared,
      org: orgOf(shared, `${connection.booksOrganizationId}#share${requests}`),
    };
  };

  return {
    precheck(full, acquireOptions) {
      const { connection, org } = withShare(full, acquireOptions);
      precheckAt(connection, org, deps.now());
    },

    async acquire(full, acquireOptions) {
      const { connection, org } = withShare(full, acquireOptions);
      precheckAt(connection, org, deps.now());
      const ticket = await org.gate.enter();
      if (ticket === undefined) {
        // This container's own calls for the organization kept the gate busy too long.
        throw refuse(connection, 'in-flight', deps.now() + options.inFlightRetryMs, deps.now());
      }
      const holder = { lease: ticket.lease };
      let grant: Grant;
      try {
        // Time passed while waiting: what was learned meanwhile may refuse this call.
        precheckAt(connection, org, deps.now());
        grant = await reserve(connection, org, holder);
      } catch (error) {
        await passOn(org, connection.booksOrganizationId, holder.lease);
        throw error;
      }
      const afterWriteMs = deps.now();
      if (!grant.spilled && afterWriteMs >= grant.window.endMs - options.windowGuardMs / 2) {
        // The write came back so late that the call could reach Zoho in the next window, where
        // it is not counted and which other containers may already have filled. Drop the grant:
        // a wasted slot is cheap, a 429 is not.
        await passOn(org, connection.booksOrganizationId, {
          leaseId: grant.leaseId,
          dayKey: grant.day.key,
          feedback: undefined,
        });
        throw refuse(connection, 'window', grant.window.endMs, afterWriteMs);
      }
      return makePermit(connection, org, grant);
    },
  };
};
