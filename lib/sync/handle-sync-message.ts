import {
  type AlertContext,
  type AlertGate,
  alertCode,
  renderAdminAlert,
  renderStormAlert,
} from '../alerts';
import { MAX_SQS_DELAY_SECONDS } from '../aws';
import {
  type Admission,
  type BreakerMessage,
  type ConnectionBreaker,
  connectionFingerprint,
  type ProbeVerdict,
} from '../breaker';
import { type Connection, connectionSecretId } from '../config';
import { crashPoint } from '../crash-point';
import { isZohoSyncError } from '../errors';
import { describeFailure, type FailureDescription } from '../failures/describe-failure';
import { InvalidSyncMessageError } from '../failures/errors';
import { isBudgetExhaustedError } from '../limits/errors';
import { withShare } from '../limits/request-limiter';
import { METRICS, type MetricsRecorder } from '../observability';
import type { ConnectionStore } from '../tokens/connection-store';
import { type DeferralCause, deferralCauseOf, expiredDeferral } from './deferral-age';
import { type SyncMessage, syncMessageSchema } from './sync-message';
import {
  type SyncRecordDeps,
  type SyncRecordOptions,
  type SyncResult,
  syncRecord,
} from './sync-record';
import { assertTimeForCall, DEFAULT_CALL_RESERVE_MS } from './zoho-caller';

export interface HandleSyncMessageDeps extends SyncRecordDeps {
  readonly connections: ConnectionStore;
  readonly secretPrefix: string;
  /** Re-sends a message to the sync queue after `delaySeconds` (at most 900, the SQS maximum). */
  readonly requeue: (message: SyncMessage, delaySeconds: number) => Promise<void>;
  /**
   * Stores a message in DynamoDB until `releaseAtMs`, for deferrals longer than SQS can delay
   * (a spent daily quota); the scheduled release-deferred function puts it back on the queue.
   * Without it such messages are re-sent every 15 minutes instead.
   */
  readonly park?: (message: SyncMessage, releaseAtMs: number) => Promise<void>;
  /** Sends a message, with its last error attached, to the dead-letter queue. */
  readonly deadLetter: (
    message: SyncMessage | string,
    failure: FailureDescription,
  ) => Promise<void>;
  /** Publishes record alerts, at most one per (connection, code, record) and window. */
  readonly alertGate: AlertGate;
  /** The connections' circuit breakers: open ones park work instead of calling Zoho. */
  readonly breaker: ConnectionBreaker;
  readonly metrics: MetricsRecorder;
  /** `backoff` failures are retried this many times in all before dead-lettering. */
  readonly maxBackoffAttempts: number;
  /** First backoff delay; each attempt doubles it up to `backoffMaxSeconds`. */
  readonly backoffBaseSeconds: number;
  readonly backoffMaxSeconds: number;
  /**
   * A message deferred for this long since its first deferral is dead-lettered with one alert
   * naming the likely cause. @default 24 hours
   */
  readonly maxDeferralAgeMs?: number;
}

/** What the host tells the worker about the invocation a message runs in. */
export interface SyncInvocation {
  /**
   * Milliseconds left before the host stops the invocation (Lambda's
   * `context.getRemainingTimeInMillis`). Work that could not finish in time is deferred to
   * the next delivery instead of being killed half-way. @default no deadline
   */
  readonly remainingTimeMs?: () => number;
}

export type SyncOutcome =
  | SyncResult
  | { readonly status: 'deferred'; readonly delaySeconds: number }
  | { readonly status: 'retrying'; readonly attempt: number; readonly delaySeconds: number }
  | { readonly status: 'dead-lettered'; readonly entryId: string }
  /**
   * Held back by the connection's open circuit breaker: in the table (parked work) or in the
   * queue with a delay (the message that carries the next probe).
   */
  | { readonly status: 'parked'; readonly heldIn: 'table' | 'queue' };

/** Backoff delays double from `baseSeconds` toward the guide's "retry after about 5 minutes". */
export const backoffDelaySeconds = (attempt: number, baseSeconds = 30, maxSeconds = 300): number =>
  Math.min(maxSeconds, baseSeconds * 2 ** Math.max(0, attempt - 1));

const DEFAULT_DEFER_SECONDS = 60;
const DEFAULT_MAX_DEFERRAL_AGE_MS = 24 * 3_600_000;

/**
 * The worker's outcome handler: runs one sync and acts on its failure in the one place that
 * acts on dispositions. Returning means "done with this delivery" (the message is deleted);
 * throwing hands the delivery back to SQS for redelivery, the safety net for crashes we did
 * not classify (an AWS outage, a bug).
 */
export const handleSyncMessage = async (
  containerDeps: HandleSyncMessageDeps,
  rawBody: string,
  /**
   * What the batch already read for this record (see prepareSyncBatch), and the invocation's
   * deadline.
   */
  options: SyncRecordOptions & SyncInvocation = {},
): Promise<SyncOutcome> => {
  // A batch's records run in parallel: each gets its own child logger so the record keys of
  // one never appear on another's log lines.
  let deps: HandleSyncMessageDeps = {
    ...containerDeps,
    logger: containerDeps.logger.createChild(),
    ...(options.remainingTimeMs === undefined
      ? {}
      : {
          remainingTimeMs: options.remainingTimeMs,
          // A worker timeout shorter than two reserves would defer every message for ever; it
          // gets half of its time for the last call instead.
          callReserveMs: Math.min(
            containerDeps.callReserveMs ?? DEFAULT_CALL_RESERVE_MS,
            options.remainingTimeMs() / 2,
          ),
        }),
  };
  const message = parseMessage(rawBody);
  if (message instanceof InvalidSyncMessageError) {
    const failure = describeFailure(message);
    deps.logger.error('sync message rejected: unreadable', { entry_id: failure.entryId });
    await deps.deadLetter(rawBody, failure);
    countDeadLettered(deps, UNKNOWN_CONNECTION, failure);
    await deps.alertGate.publishRecordAlert({
      connectionId: UNKNOWN_CONNECTION,
      code: alertCode(failure),
      subject: 'unreadable-message',
      render: (notes) => renderAdminAlert(failure, { connectionId: UNKNOWN_CONNECTION, notes }),
      renderSummary: (records, window, notes) =>
        renderStormAlert(failure, {
          connectionId: UNKNOWN_CONNECTION,
          records,
          windowStartMs: window.startMs,
          windowEndMs: window.endMs,
          notes,
        }),
    });
    return { status: 'dead-lettered', entryId: failure.entryId };
  }
  // Backfill work takes at most its share of each window's budget (zoho-sync backfill --share).
  if (message.share !== undefined) {
    deps = { ...deps, limiter: withShare(deps.limiter, message.share) };
  }
  deps.logger.appendKeys({
    connection_id: message.connectionId,
    crm_module: message.crmModule,
    crm_record_id: message.crmRecordId,
    message_id: message.messageId,
    correlation_id: message.correlationId,
  });
  let connection: Connection | undefined;
  let probe: Extract<Admission, { kind: 'probe' }> | undefined;
  try {
    assertTimeForCall(deps);
    connection = await deps.connections.get(message.connectionId);
    if (connection === undefined) {
      deps.logger.warn('sync skipped: connection no longer exists');
      return { status: 'skipped', reason: 'connection no longer exists' };
    }
    // Work that cannot reach Books now is deferred before it spends any CRM call; this check
    // needs no I/O, so it runs before the breaker's read.
    deps.limiter.precheck?.(connection);
    // Before any Zoho call: an open circuit breaker holds the work back.
    const admission = await deps.breaker.admit(toBreakerMessage(message, connection));
    if (admission.kind === 'parked') return { status: 'parked', heldIn: 'table' };
    if (admission.kind === 'carried') return { status: 'parked', heldIn: 'queue' };
    if (admission.kind === 'probe') probe = admission;
    const result = await syncRecord(deps, connection, message, {
      ...(options.prefetched === undefined ? {} : { prefetched: options.prefetched }),
      ...(options.prefetch === undefined ? {} : { prefetch: options.prefetch }),
    });
    if (result.status === 'skipped') deps.logger.info('sync skipped', { reason: result.reason });
    if (probe !== undefined) {
      await deps.breaker.settleProbe(
        probe,
        toBreakerMessage(message, connection),
        result.status === 'synced' || result.status === 'deactivated'
          ? { kind: 'healthy' }
          : { kind: 'inconclusive', requeued: false },
      );
    }
    return result;
  } catch (error) {
    if (!isZohoSyncError(error)) throw error;
    const failure = describeFailure(error);
    if (failure.scope === 'connection') {
      return tripBreaker(deps, message, connection, failure, probe);
    }
    const outcome = await actOnFailure(deps, message, failure, deferralCauseOf(error), {
      waitsForSlot: isBudgetExhaustedError(error) && error.budget === 'window',
    });
    if (probe !== undefined) {
      await deps.breaker.settleProbe(
        probe,
        toBreakerMessage(message, connection),
        probeVerdict(failure, outcome),
      );
    }
    return outcome;
  }
};

/** Alerts about messages whose connection cannot be read are filed under this id. */
const UNKNOWN_CONNECTION = 'unknown';

const toBreakerMessage = (
  message: SyncMessage,
  connection: Connection | undefined,
): BreakerMessage => ({
  connectionId: message.connectionId,
  messageId: message.messageId,
  body: JSON.stringify(message),
  fingerprint: connection === undefined ? undefined : connectionFingerprint(connection),
});

/**
 * What a probe's record-level failure says about the connection. Zoho answering with a
 * record's own error proves the connection works; a deferral, a transient error or a failure
 * of our own (bad CRM data) proves nothing.
 */
const probeVerdict = (failure: FailureDescription, outcome: SyncOutcome): ProbeVerdict => {
  if (failure.action === 'defer' || failure.action === 'backoff' || failure.service === undefined) {
    return {
      kind: 'inconclusive',
      requeued: outcome.status === 'deferred' || outcome.status === 'retrying',
    };
  }
  return { kind: 'healthy' };
};

/**
 * A failure that breaks the whole connection (`scope: 'connection'`): opens (or re-arms) the
 * breaker instead of dead-lettering. The message is held, not failed: the record is fine, the
 * connection is not, and it syncs once an admin has fixed the connection.
 */
const tripBreaker = async (
  deps: HandleSyncMessageDeps,
  message: SyncMessage,
  connection: Connection | undefined,
  failure: FailureDescription,
  probe: Extract<Admission, { kind: 'probe' }> | undefined,
): Promise<SyncOutcome> => {
  deps.logger.error('sync failed: connection broken', {
    entry_id: failure.entryId,
    disposition: failure.action,
    zoho_code: failure.zohoCode,
    http_status: failure.httpStatus,
  });
  const outcome = await deps.breaker.trip(
    toBreakerMessage(message, connection),
    failure,
    alertContextOf(deps, message, message.attempt + 1),
    probe?.state,
  );
  return { status: 'parked', heldIn: outcome.kind === 'parked' ? 'table' : 'queue' };
};

const alertContextOf = (
  deps: HandleSyncMessageDeps,
  message: SyncMessage,
  attempts: number,
): AlertContext => ({
  connectionId: message.connectionId,
  crmModule: message.crmModule,
  crmRecordId: message.crmRecordId,
  correlationId: message.correlationId,
  messageId: message.messageId,
  attempts,
  secretId: connectionSecretId(deps.secretPrefix, message.connectionId),
});

const countDeadLettered = (
  deps: HandleSyncMessageDeps,
  connectionId: string,
  failure: FailureDescription,
) => {
  deps.metrics.count(METRICS.deadLettered, { connection: connectionId });
  deps.metrics.count(METRICS.syncFailures, { code: alertCode(failure) });
};

const parseMessage = (rawBody: string): SyncMessage | InvalidSyncMessageError => {
  let json: unknown;
  try {
    json = JSON.parse(rawBody);
  } catch {
    return new InvalidSyncMessageError('body is not JSON');
  }
  const parsed = syncMessageSchema.safeParse(json);
  if (!parsed.success) {
    return new InvalidSyncMessageError(
      parsed.error.issues.map((issue) => issue.path.join('.') || 'body').join(', '),
    );
  }
  return parsed.data;
};

const actOnFailure = async (
  deps: HandleSyncMessageDeps,
  message: SyncMessage,
  failure: FailureDescription,
  deferralCause: DeferralCause,
  /** A deferral for a window slot: the limiter waits in memory for a slot due within a second. */
  deferral: { readonly waitsForSlot: boolean } = { waitsForSlot: false },
): Promise<SyncOutcome> => {
  const logKeys = {
    entry_id: failure.entryId,
    disposition: failure.action,
    zoho_code: failure.zohoCode,
    http_status: failure.httpStatus,
    unknown_code: failure.unknown,
  };
  if (failure.unknown) {
    // The error table has no row for this code: it was handled by its HTTP status.
    deps.logger.warn('zoho failure not in the error table', logKeys);
  }
  switch (failure.action) {
    case 'defer': {
      // A deferral is a new message (or a parked one) and the original is acknowledged, so no
      // number of deferrals ever counts toward the DLQ's maxReceiveCount.
      const nowMs = deps.now();
      const expired = expiredDeferral(
        message,
        failure,
        deferralCause,
        nowMs,
        deps.maxDeferralAgeMs ?? DEFAULT_MAX_DEFERRAL_AGE_MS,
      );
      if (expired !== undefined) {
        return deadLetterAndAlert(deps, message, expired, {
          ...logKeys,
          entry_id: expired.entryId,
          deferred_entry_id: failure.entryId,
          first_deferred_at_ms: message.firstDeferredAtMs,
        });
      }
      const retryAfterMs = failure.retryAfterMs ?? DEFAULT_DEFER_SECONDS * 1000;
      // SQS delays are whole seconds. A call waiting for a window slot is rounded down: it comes
      // back up to a second early and the limiter waits the rest out in memory (its short wait
      // is a second), so the slot is used the moment it frees; rounded up, the freed slot sat
      // idle for up to a second. Every other wait (a daily reset, Zoho's own answer) is rounded
      // up, never to come back before it is over.
      const delaySeconds = Math.max(
        1,
        deferral.waitsForSlot ? Math.floor(retryAfterMs / 1000) : Math.ceil(retryAfterMs / 1000),
      );
      const deferred = {
        ...message,
        deferrals: message.deferrals + 1,
        firstDeferredAtMs: message.firstDeferredAtMs ?? nowMs,
      };
      deps.metrics.count(METRICS.syncDeferred, { connection: message.connectionId });
      if (delaySeconds > MAX_SQS_DELAY_SECONDS && deps.park !== undefined) {
        await deps.park(deferred, deps.now() + delaySeconds * 1000);
        deps.logger.info('sync deferred: parked', {
          ...logKeys,
          retry_after_ms: delaySeconds * 1000,
        });
        return { status: 'deferred', delaySeconds };
      }
      await deps.requeue(deferred, delaySeconds);
      await crashPoint('after-deferral-resent', message.messageId);
      deps.logger.info('sync deferred', { ...logKeys, retry_after_ms: delaySeconds * 1000 });
      return { status: 'deferred', delaySeconds };
    }
    case 'backoff': {
      const attempt = message.attempt + 1;
      if (attempt < deps.maxBackoffAttempts) {
        const delaySeconds = backoffDelaySeconds(
          attempt,
          deps.backoffBaseSeconds,
          deps.backoffMaxSeconds,
        );
        await deps.requeue(
          { ...message, attempt, lastError: toLastError(deps, failure) },
          delaySeconds,
        );
        deps.logger.warn('sync failed: retrying later', {
          ...logKeys,
          attempt,
          retry_after_ms: delaySeconds * 1000,
        });
        return { status: 'retrying', attempt, delaySeconds };
      }
      return deadLetterAndAlert(deps, { ...message, attempt }, failure, logKeys);
    }
    case 'fail-quiet':
      deps.logger.info('sync ended without a Books write', logKeys);
      return { status: 'skipped', reason: failure.title };
    case 'refresh-token-and-retry':
      // Reaching here means the token was refreshed and the replay was refused again: an
      // alertable failure, not a loop.
      return deadLetterAndAlert(deps, message, failure, logKeys);
    default:
      return deadLetterAndAlert(deps, message, failure, logKeys);
  }
};

const toLastError = (deps: HandleSyncMessageDeps, failure: FailureDescription) => ({
  entryId: failure.entryId,
  action: failure.action,
  httpStatus: failure.httpStatus,
  zohoCode: failure.zohoCode,
  message: failure.title,
  atMs: deps.now(),
});

const deadLetterAndAlert = async (
  deps: HandleSyncMessageDeps,
  message: SyncMessage,
  failure: FailureDescription,
  logKeys: Record<string, unknown>,
): Promise<SyncOutcome> => {
  await deps.deadLetter({ ...message, lastError: toLastError(deps, failure) }, failure);
  countDeadLettered(deps, message.connectionId, failure);
  deps.logger.error('sync failed: dead-lettered', logKeys);
  const context = alertContextOf(deps, message, attemptsOf(message, failure));
  // Never throws: a failed publish is logged and counted, the message stays dead-lettered.
  await deps.alertGate.publishRecordAlert({
    connectionId: message.connectionId,
    code: alertCode(failure),
    subject: `${message.crmModule}/${message.crmRecordId}`,
    render: (notes) => renderAdminAlert(failure, { ...context, notes }),
    renderSummary: (records, window, notes) =>
      renderStormAlert(failure, {
        ...context,
        records,
        windowStartMs: window.startMs,
        windowEndMs: window.endMs,
        notes,
      }),
  });
  return { status: 'dead-lettered', entryId: failure.entryId };
};

/**
 * Tries of the message in all: `attempt` counts failed `backoff` tries (already including this
 * one when backoff ran out); any other failure is one more try.
 */
export const attemptsOf = (
  message: Pick<SyncMessage, 'attempt'>,
  failure: Pick<FailureDescription, 'action'>,
): number => (failure.action === 'backoff' ? message.attempt : message.attempt + 1);
