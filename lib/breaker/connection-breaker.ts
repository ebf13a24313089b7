import type { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import {
  type AlertContext,
  type AlertPublisher,
  alertCode,
  type BreakerCloseReason,
  renderBreakerClosedAlert,
  renderBreakerOpenedAlert,
} from '../alerts';
import { clampDelaySeconds, tableKeys } from '../aws';
import type { FailureDescription } from '../failures/describe-failure';
import { type Logger, METRICS, type MetricsRecorder } from '../observability';
import {
  breakerShelf,
  createParkedWorkStore,
  type ParkedMessage,
} from '../parking/parked-work-store';
import { type BreakerState, createBreakerStore } from './breaker-store';

/** A message to send (back) to the sync queue. */
export interface OutgoingSyncMessage {
  readonly messageId: string;
  readonly connectionId: string;
  readonly body: string;
  readonly delaySeconds: number;
}

export interface ConnectionBreakerDeps {
  readonly dynamodb: DynamoDBClient;
  readonly tableName: string;
  readonly now: () => number;
  /** How long an open breaker waits before letting one probe message through. */
  readonly cooldownMs: number;
  /** Sends messages to the sync queue (in batches). */
  readonly sendToSyncQueue: (messages: readonly OutgoingSyncMessage[]) => Promise<void>;
  readonly alerts: AlertPublisher;
  readonly metrics: MetricsRecorder;
  readonly logger: Logger;
  /**
   * Lets credentials the token store had given up on be tried again (an operator reset).
   * @default nothing to clear
   */
  readonly clearRefreshStop?: (connectionId: string) => Promise<void>;
  /**
   * How long one probe blocks others: longer than one message can take (Lambda timeout).
   * @default DEFAULT_PROBE_LEASE_MS (5 minutes)
   */
  readonly probeLeaseMs?: number;
  /**
   * How long this container trusts that a connection's breaker is closed, to save a DynamoDB
   * read per message. Only "closed" is cached: a stale "closed" costs at most a few calls that
   * fail and get parked; a stale "open" could strand work. @default 5000
   */
  readonly closedCacheMs?: number;
  /**
   * Parked messages sent back per close; the rest stay parked and the closed alert says so.
   * @default 2000
   */
  readonly maxReleasePerClose?: number;
}

/** The message the worker is about to process, as the breaker needs to see it. */
export interface BreakerMessage {
  readonly connectionId: string;
  readonly messageId: string;
  /** Exactly what goes back to the sync queue when the message is parked or carried. */
  readonly body: string;
  /** {@link connectionFingerprint} of the secret it runs with; undefined if unreadable. */
  readonly fingerprint: string | undefined;
}

/** What the worker does with a message, by the state of its connection's breaker. */
export type Admission =
  /** Breaker closed: sync as usual. */
  | { readonly kind: 'closed' }
  /** Half-open: this message is the one probe; report its verdict with `settleProbe`. */
  | { readonly kind: 'probe'; readonly state: BreakerState; readonly secretChanged: boolean }
  /** Open: the message is parked in DynamoDB (done with this delivery). */
  | { readonly kind: 'parked' }
  /** Open and this message carries the next probe: re-sent with a delay (done). */
  | { readonly kind: 'carried'; readonly delaySeconds: number };

export type TripOutcome =
  | { readonly kind: 'opened'; readonly delaySeconds: number }
  | { readonly kind: 'carried'; readonly delaySeconds: number }
  | { readonly kind: 'parked' };

export type ProbeVerdict =
  /** Zoho answered without the connection error: the connection works. */
  | { readonly kind: 'healthy' }
  /**
   * No verdict (deferred, transient error, nothing reached Zoho). `requeued` says whether the
   * probe message is back in the queue (it then carries the next probe).
   */
  | { readonly kind: 'inconclusive'; readonly requeued: boolean };

export type BreakerStatus =
  | { readonly state: 'closed'; readonly parkedMessages: number }
  | {
      readonly state: 'open' | 'half-open';
      readonly openedAtMs: number;
      readonly entryId: string;
      readonly code: string;
      readonly title: string;
      readonly probeAtMs: number;
      readonly probeInFlight: boolean;
      readonly failedProbes: number;
      readonly parkedMessages: number;
    };

export interface ResetResult {
  /** The opening it closed; undefined when the breaker was not open. */
  readonly closed: BreakerState | undefined;
  readonly releasedMessages: number;
  readonly remainingParked: number;
}

/**
 * A connection's circuit breaker: failures that break the whole connection (rows with
 * `scope: 'connection'`: 6024, invalid_client, revoked refresh token, wrong data centre) open
 * it; while open no Zoho call is made for the connection and its work is parked in DynamoDB.
 */
export interface ConnectionBreaker {
  /** Decides, before any Zoho call, whether the message runs, probes, or waits. */
  admit(message: BreakerMessage): Promise<Admission>;
  /**
   * A connection-scope failure of `message` (the probe's, when `probe` is given): opens the
   * breaker (one alert) or re-arms it, and parks or carries the message.
   */
  trip(
    message: BreakerMessage,
    failure: FailureDescription,
    alertContext: AlertContext,
    probe?: BreakerState,
  ): Promise<TripOutcome>;
  /** The probe's result: a healthy one closes the breaker (one alert) and releases the parked work. */
  settleProbe(
    probe: Extract<Admission, { kind: 'probe' }>,
    message: BreakerMessage,
    verdict: ProbeVerdict,
  ): Promise<void>;
  /**
   * Closes the breaker whatever its state (the operator fixed something), lets refused
   * credentials be tried again, and sends the parked work back. Safe to repeat.
   */
  reset(connectionId: string): Promise<ResetResult>;
  status(connectionId: string): Promise<BreakerStatus>;
}

export const DEFAULT_PROBE_LEASE_MS = 5 * 60_000;

const isNewSecret = (message: BreakerMessage, state: BreakerState): boolean =>
  message.fingerprint !== undefined && !state.fingerprints.includes(message.fingerprint);

/**
 * Builds the breaker. The state is one DynamoDB item per connection changed only by
 * conditional writes, so it opens once and closes once however many workers see the failure.
 * While open, the message that opened it keeps cycling through the queue with a delay (the
 * "carrier"); when it comes back after the cool-down it is the half-open probe. A changed
 * connection secret lets the next message probe at once.
 *
 * Written by hand: circuit-breaker libraries (opossum, cockatiel) keep their state in process
 * memory, while ours must be shared by every Lambda container and survive them.
 * @example
 * const admission = await breaker.admit({ connectionId, messageId, body, fingerprint });
 * if (admission.kind === 'parked' || admission.kind === 'carried') return; // done for now
 */
export const createConnectionBreaker = (deps: ConnectionBreakerDeps): ConnectionBreaker => {
  const store = createBreakerStore(deps);
  const parked = createParkedWorkStore(deps);
  const probeLeaseMs = deps.probeLeaseMs ?? DEFAULT_PROBE_LEASE_MS;
  const closedCacheMs = deps.closedCacheMs ?? 5_000;
  const maxRelease = deps.maxReleasePerClose ?? 2000;
  /** connectionId -> until when this container may assume the breaker is closed. */
  const closedUntil = new Map<string, number>();

  const rememberClosed = (connectionId: string) => {
    if (closedCacheMs > 0) closedUntil.set(connectionId, deps.now() + closedCacheMs);
  };

  const carrierDelaySeconds = (probeAtMs: number): number =>
    Math.max(1, clampDelaySeconds((probeAtMs - deps.now()) / 1000));

  const send = (message: BreakerMessage, delaySeconds: number) =>
    deps.sendToSyncQueue([
      {
        messageId: message.messageId,
        connectionId: message.connectionId,
        body: message.body,
        delaySeconds,
      },
    ]);

  /**
   * Parks a message behind the breaker, atomically with a check that the breaker is still the
   * same opening: a message can never be parked behind a breaker that has just closed (it would
   * wait forever). False when it closed or re-opened meanwhile (the caller re-decides).
   */
  const park = (message: BreakerMessage, state: BreakerState): Promise<boolean> =>
    parked.park(
      breakerShelf(message.connectionId),
      {
        connectionId: message.connectionId,
        messageId: message.messageId,
        body: message.body,
        atMs: deps.now(),
      },
      {
        key: tableKeys.circuitBreaker(message.connectionId),
        expression: 'openedAtMs = :opened',
        values: { ':opened': { N: String(state.openedAtMs) } },
      },
    );

  /** Sends parked work back to the sync queue, oldest first, at most `maxRelease`. */
  const releaseParked = async (
    connectionId: string,
  ): Promise<{ released: number; remaining: number }> => {
    const waiting = await parked.list(breakerShelf(connectionId));
    const batch = waiting.slice(0, maxRelease);
    for (let start = 0; start < batch.length; start += 10) {
      const chunk: ParkedMessage[] = batch.slice(start, start + 10);
      // Send first, then delete: a crash in between duplicates a message (syncs are
      // idempotent upserts) instead of losing one.
      await deps.sendToSyncQueue(
        chunk.map((item) => ({
          messageId: item.messageId,
          connectionId,
          body: item.body,
          delaySeconds: 0,
        })),
      );
      await parked.remove(chunk);
    }
    const remaining = waiting.length - batch.length;
    if (remaining > 0) {
      deps.logger.error('circuit breaker closed with work still parked', {
        connection_id: connectionId,
        released: batch.length,
        remaining,
      });
    }
    return { released: batch.length, remaining };
  };

  const announceClosed = async (
    state: BreakerState,
    reason: BreakerCloseReason,
    released: { released: number; remaining: number },
  ) => {
    deps.logger.info('circuit breaker closed', {
      connection_id: state.connectionId,
      reason,
      released_messages: released.released,
    });
    const alert = renderBreakerClosedAlert({
      connectionId: state.connectionId,
      reason,
      code: state.code,
      title: state.title,
      openedAtMs: state.openedAtMs,
      closedAtMs: deps.now(),
      releasedMessages: released.released,
      remainingParked: released.remaining,
    });
    await deps.alerts.publish(alert);
  };

  const openFresh = async (
    message: BreakerMessage,
    failure: FailureDescription,
    alertContext: AlertContext,
  ): Promise<TripOutcome> => {
    for (let round = 0; round < 3; round += 1) {
      const openedAtMs = deps.now();
      const probeAtMs = openedAtMs + deps.cooldownMs;
      const opened = await store.open({
        connectionId: message.connectionId,
        openedAtMs,
        entryId: failure.entryId,
        code: alertCode(failure),
        title: failure.title,
        fingerprint: message.fingerprint,
        probeAtMs,
        carrierMessageId: message.messageId,
      });
      if (opened) {
        deps.metrics.count(METRICS.circuitBreakerOpen, { connection: message.connectionId });
        deps.logger.error('circuit breaker opened', {
          connection_id: message.connectionId,
          entry_id: failure.entryId,
        });
        const delaySeconds = carrierDelaySeconds(probeAtMs);
        await send(message, delaySeconds);
        await deps.alerts.publish(
          renderBreakerOpenedAlert(failure, {
            ...alertContext,
            cooldownSeconds: Math.round(deps.cooldownMs / 1000),
          }),
        );
        return { kind: 'opened', delaySeconds };
      }
      // Another worker opened it first: this message waits with the rest.
      const state = await store.get(message.connectionId);
      if (state !== undefined && (await park(message, state))) {
        deps.logger.info('sync parked: connection breaker open', { entry_id: failure.entryId });
        return { kind: 'parked' };
      }
    }
    // Opened and closed under our feet three times: keep the message, try again later.
    const delaySeconds = carrierDelaySeconds(deps.now() + deps.cooldownMs);
    await send(message, delaySeconds);
    return { kind: 'carried', delaySeconds };
  };

  /** connectionId -> the breaker read under way: a batch's parallel records share one read. */
  const reading = new Map<string, ReturnType<typeof store.get>>();
  const readState = (connectionId: string): ReturnType<typeof store.get> => {
    const pending = reading.get(connectionId);
    if (pending !== undefined) return pending;
    const read = store.get(connectionId).finally(() => reading.delete(connectionId));
    reading.set(connectionId, read);
    return read;
  };

  const admit = async (message: BreakerMessage, round = 0): Promise<Admission> => {
    const { connectionId } = message;
    if ((closedUntil.get(connectionId) ?? 0) > deps.now()) return { kind: 'closed' };
    // A re-decision after a lost race must see the newest state, not a shared older read.
    const state = round === 0 ? await readState(connectionId) : await store.get(connectionId);
    if (state === undefined) {
      rememberClosed(connectionId);
      return { kind: 'closed' };
    }
    closedUntil.delete(connectionId);
    const nowMs = deps.now();
    const secretChanged = isNewSecret(message, state);
    if (secretChanged || nowMs >= state.probeAtMs) {
      const claimed = await store.claimProbe(
        state,
        message.messageId,
        nowMs,
        nowMs + probeLeaseMs,
        secretChanged,
      );
      if (claimed) {
        deps.logger.info('circuit breaker half-open: probing', {
          connection_id: connectionId,
          secret_changed: secretChanged,
        });
        return { kind: 'probe', state, secretChanged };
      }
    } else if (message.messageId === state.carrierMessageId) {
      const delaySeconds = carrierDelaySeconds(state.probeAtMs);
      await send(message, delaySeconds);
      return { kind: 'carried', delaySeconds };
    }
    if (await park(message, state)) {
      deps.logger.info('sync parked: connection breaker open', { entry_id: state.entryId });
      return { kind: 'parked' };
    }
    // It closed (or re-opened) between our read and our write: decide again.
    if (round < 2) return admit(message, round + 1);
    const delaySeconds = carrierDelaySeconds(deps.now() + deps.cooldownMs);
    await send(message, delaySeconds);
    return { kind: 'carried', delaySeconds };
  };

  return {
    admit: (message) => admit(message),

    async trip(message, failure, alertContext, probe) {
      closedUntil.delete(message.connectionId);
      if (probe === undefined) return openFresh(message, failure, alertContext);
      const probeAtMs = deps.now() + deps.cooldownMs;
      const secretChanged = isNewSecret(message, probe);
      const rearmed = await store.rearm(probe, {
        probeAtMs,
        carrierMessageId: message.messageId,
        fingerprint: message.fingerprint,
      });
      if (!rearmed) return openFresh(message, failure, alertContext);
      const delaySeconds = carrierDelaySeconds(probeAtMs);
      await send(message, delaySeconds);
      deps.logger.warn('circuit breaker probe failed; stays open', {
        connection_id: message.connectionId,
        entry_id: failure.entryId,
        secret_changed: secretChanged,
      });
      if (secretChanged) {
        // New information for the admin: the secret was edited, but the fix did not work.
        await deps.alerts.publish(
          renderBreakerOpenedAlert(failure, {
            ...alertContext,
            cooldownSeconds: Math.round(deps.cooldownMs / 1000),
            notes: [
              'The connection secret was changed after the breaker opened, but the new secret fails the same way.',
            ],
          }),
        );
      }
      return { kind: 'carried', delaySeconds };
    },

    async settleProbe(probe, message, verdict) {
      const { state } = probe;
      if (verdict.kind === 'healthy') {
        const closed = await store.close(state.connectionId, state.openedAtMs);
        if (closed === undefined) return; // someone else closed (or re-opened) it
        rememberClosed(state.connectionId);
        const released = await releaseParked(state.connectionId);
        await announceClosed(
          closed,
          probe.secretChanged ? 'secret-changed' : 'probe-succeeded',
          released,
        );
        return;
      }
      // No verdict. Some message must still come back to probe while work is parked: this one
      // if it is back in the queue, else the carrier if this was not it, else a parked one.
      const otherCarrier =
        state.carrierMessageId === message.messageId ? undefined : state.carrierMessageId;
      if (verdict.requeued || otherCarrier !== undefined) {
        await store.releaseProbe(state, verdict.requeued ? message.messageId : otherCarrier);
        return;
      }
      const [next] = await parked.list(breakerShelf(state.connectionId), { limit: 1 });
      await store.releaseProbe(state, next?.messageId);
      if (next === undefined) return;
      await deps.sendToSyncQueue([
        {
          messageId: next.messageId,
          connectionId: next.connectionId,
          body: next.body,
          delaySeconds: 0,
        },
      ]);
      await parked.remove([next]);
    },

    async reset(connectionId) {
      const closed = await store.close(connectionId);
      await deps.clearRefreshStop?.(connectionId);
      const released = await releaseParked(connectionId);
      rememberClosed(connectionId);
      if (closed !== undefined) await announceClosed(closed, 'operator-reset', released);
      return { closed, releasedMessages: released.released, remainingParked: released.remaining };
    },

    async status(connectionId) {
      const [state, parkedMessages] = await Promise.all([
        store.get(connectionId),
        parked.count(breakerShelf(connectionId)),
      ]);
      if (state === undefined) return { state: 'closed', parkedMessages };
      const nowMs = deps.now();
      const probeInFlight = state.probeUntilMs !== undefined && state.probeUntilMs > nowMs;
      return {
        state: probeInFlight || nowMs >= state.probeAtMs ? 'half-open' : 'open',
        openedAtMs: state.openedAtMs,
        entryId: state.entryId,
        code: state.code,
        title: state.title,
        probeAtMs: state.probeAtMs,
        probeInFlight,
        failedProbes: state.failedProbes,
        parkedMessages,
      };
    },
  };
};
