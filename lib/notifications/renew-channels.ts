import { createHash } from 'node:crypto';
import type { Connection } from '../config';
import type { Disposition } from '../errors';
import { describeFailure } from '../failures/describe-failure';
import { METRICS, type MetricsRecorder, redact } from '../observability';
import { SYNCED_CRM_MODULES } from '../sync/crm-modules';
import { callZoho, type ZohoCallerDeps } from '../sync/zoho-caller';
import {
  CRM_MAX_CHANNEL_TOKEN_LENGTH,
  type CrmClient,
  type NotificationSubscription,
} from '../zoho';
import type { NotificationChannelStore } from './channel-store';

const HOUR_MS = 3_600_000;
const DAY_MS = 24 * HOUR_MS;

/**
 * How long each channel is asked to live: a week, Zoho's maximum (zoho-crm-api.md §4), less ten
 * minutes. Zoho measures the week from its own clock and gives a request beyond it only one
 * hour, so asking for exactly a week would turn a little clock skew into a one-hour channel.
 */
export const DEFAULT_CHANNEL_LIFETIME_MS = 7 * DAY_MS - 10 * 60_000;

/**
 * A channel with less than this left is renewed. Two days leave a daily (or twice-daily) schedule
 * several chances before a channel lapses.
 */
export const DEFAULT_RENEW_BEFORE_MS = 2 * DAY_MS;

/** Every synced module, every operation (`{module}.all`, §4). */
export const NOTIFICATION_EVENTS: readonly string[] = SYNCED_CRM_MODULES.map(
  (module) => `${module}.all`,
);

/**
 * Callbacks for changes of *related* records (e.g. the Account when one of its Contacts changes)
 * are turned off: the related record's own fields did not change, so syncing it again would only
 * spend Books calls. Its own edits still notify (zoho-crm-api.md §4, `notify_on_related_action`).
 */
const NOTIFY_ON_RELATED_ACTION = false;

/** The path of the webhook function's Notification API route; the stack routes it there. */
export const NOTIFICATION_ROUTE = '/notifications';

export interface RenewChannelsDeps extends ZohoCallerDeps {
  /** Every connection id (`listConnectionIds` over Secrets Manager in production). */
  readonly listConnectionIds: () => Promise<readonly string[]>;
  /** The connection, or undefined when its secret is gone. */
  readonly getConnection: (connectionId: string) => Promise<Connection | undefined>;
  /**
   * The secret the channel must carry: the connection's newest webhook secret (the next one
   * during a rotation, so the channel moves to it at once), or undefined when it has none.
   */
  readonly getChannelToken: (connectionId: string) => Promise<string | undefined>;
  readonly crm: Pick<CrmClient, 'enableNotifications' | 'getNotifications'>;
  readonly channels: NotificationChannelStore;
  /** The HTTP API's base URL, without a trailing slash; config `ZOHO_SYNC_PUBLIC_BASE_URL`. */
  readonly publicBaseUrl: string;
  readonly now: () => number;
  /** Counts `ChannelRenewalFailed` per connection (an alarm watches it). */
  readonly metrics: MetricsRecorder;
  /** @default DEFAULT_CHANNEL_LIFETIME_MS (a week less ten minutes) */
  readonly channelLifetimeMs?: number;
  /** @default DEFAULT_RENEW_BEFORE_MS (two days) */
  readonly renewBeforeMs?: number;
}

/** Why a channel was (re-)enabled. */
export type RenewalReason =
  /** zoho-sync has no record of a channel for the connection. */
  | 'missing'
  /** Less than `renewBeforeMs` left. */
  | 'expiring'
  /** The webhook secret, the base URL or the events changed since it was enabled. */
  | 'changed'
  /** Zoho no longer lists the channel (or some of its modules) although it should be live. */
  | 'not-at-zoho'
  /** An operator asked for it (`zoho-sync channels renew --force`). */
  | 'requested';

export type ChannelRenewalResult =
  | {
      readonly connectionId: string;
      readonly status: 'fresh';
      readonly channelId: string;
      readonly expiresAtMs: number;
    }
  | {
      readonly connectionId: string;
      readonly status: 'renewed';
      readonly reason: RenewalReason;
      readonly channelId: string;
      readonly expiresAtMs: number;
    }
  | {
      readonly connectionId: string;
      readonly status: 'failed';
      /** The error-table row (or zoho-sync failure id) that describes the failure. */
      readonly entryId: string;
      readonly action: Disposition;
      /** Safe to log: redacted, no token or secret. */
      readonly message: string;
    }
  | {
      readonly connectionId: string;
      readonly status: 'skipped';
      readonly reason: 'no-secret' | 'no-webhook-secret';
    };

export interface RenewChannelsSummary {
  readonly results: readonly ChannelRenewalResult[];
  readonly renewed: number;
  readonly fresh: number;
  readonly failed: number;
}

export interface RenewChannelsOptions {
  /** Renew only these connections. @default every connection `listConnectionIds` returns */
  readonly connectionIds?: readonly string[];
  /** Enable the channels again even when they look fresh. @default false */
  readonly force?: boolean;
}

/**
 * The channel id of a connection: a number derived from the connection id (48 bits of its
 * SHA-256), so every run, container and redeploy uses the same one and re-enabling replaces the
 * channel instead of adding a second. Zoho's `channel_id` is a long; 48 bits stay a safe integer.
 */
export const channelIdFor = (connectionId: string): string => {
  const hash = createHash('sha256').update(`zoho-sync:${connectionId}`).digest('hex');
  return String(Number.parseInt(hash.slice(0, 12), 16) + 1);
};

/** What a connection's channel must look like. */
interface DesiredChannel {
  readonly channelId: string;
  readonly events: readonly string[];
  readonly notifyUrl: string;
  readonly token: string | undefined;
  readonly fingerprint: string;
}

/**
 * The notify_url carries the webhook secret as `?token=` (the webhook function accepts it there,
 * and Zoho echoes it in `query_params`, §4). The body `token` carries it too when it fits Zoho's
 * 50 characters, so callbacks are marked as Notification API callbacks.
 */
const desiredChannel = (
  deps: RenewChannelsDeps,
  connection: Connection,
  secret: string,
): DesiredChannel => {
  const notifyUrl = `${deps.publicBaseUrl}${NOTIFICATION_ROUTE}/${encodeURIComponent(
    connection.connectionId,
  )}?token=${encodeURIComponent(secret)}`;
  const token = secret.length <= CRM_MAX_CHANNEL_TOKEN_LENGTH ? secret : undefined;
  const fingerprint = createHash('sha256')
    .update(
      JSON.stringify([NOTIFICATION_EVENTS, notifyUrl, token ?? null, NOTIFY_ON_RELATED_ACTION]),
    )
    .digest('hex');
  return {
    channelId: channelIdFor(connection.connectionId),
    events: NOTIFICATION_EVENTS,
    notifyUrl,
    token,
    fingerprint,
  };
};

/** A module counts as watched when Zoho lists `{module}.all` or its three operations. */
const watchesEverything = (events: readonly string[], module: string): boolean =>
  events.includes(`${module}.all`) ||
  ['create', 'edit', 'delete'].every((operation) => events.includes(`${module}.${operation}`));

/** Why Zoho's own list says the channel needs enabling again, if it does. */
const zohoSideReason = (
  subscriptions: readonly NotificationSubscription[],
  channelId: string,
  renewBy: number,
): RenewalReason | undefined => {
  const ours = subscriptions.filter((subscription) => subscription.channelId === channelId);
  for (const module of SYNCED_CRM_MODULES) {
    const forModule = ours.filter((subscription) => subscription.module === module);
    if (
      !watchesEverything(
        forModule.flatMap((subscription) => subscription.events),
        module,
      )
    ) {
      return 'not-at-zoho';
    }
    const expiries = forModule.map((subscription) => subscription.channelExpiryMs);
    if (expiries.some((ms) => ms !== undefined && ms < renewBy)) {
      return 'expiring';
    }
  }
  return undefined;
};

const renewOne = async (
  deps: RenewChannelsDeps,
  connectionId: string,
  force: boolean,
): Promise<ChannelRenewalResult> => {
  const connection = await deps.getConnection(connectionId);
  if (connection === undefined) return { connectionId, status: 'skipped', reason: 'no-secret' };
  const channelToken = await deps.getChannelToken(connectionId);
  if (channelToken === undefined) {
    return { connectionId, status: 'skipped', reason: 'no-webhook-secret' };
  }
  const lifetimeMs = deps.channelLifetimeMs ?? DEFAULT_CHANNEL_LIFETIME_MS;
  const renewBy = deps.now() + (deps.renewBeforeMs ?? DEFAULT_RENEW_BEFORE_MS);
  const desired = desiredChannel(deps, connection, channelToken);
  const stored = await deps.channels.get(connectionId);

  let reason: RenewalReason | undefined;
  if (force) reason = 'requested';
  else if (stored === undefined || stored.channelId !== desired.channelId) reason = 'missing';
  else if (stored.fingerprint !== desired.fingerprint) reason = 'changed';
  else if (stored.expiresAtMs < renewBy) reason = 'expiring';
  else {
    // Our record says the channel is fine; ask Zoho (1 credit) so a channel deleted or dropped
    // on Zoho's side is noticed within one run, not when it would have expired.
    const { subscriptions } = await callZoho(deps, connection, 'crm', (target) =>
      deps.crm.getNotifications(target, { channelId: desired.channelId }),
    );
    reason = zohoSideReason(subscriptions, desired.channelId, renewBy);
    if (reason === undefined) {
      return {
        connectionId,
        status: 'fresh',
        channelId: stored.channelId,
        expiresAtMs: stored.expiresAtMs,
      };
    }
  }

  const requestedExpiryMs = deps.now() + lifetimeMs;
  const { subscriptions } = await callZoho(deps, connection, 'crm', (target) =>
    deps.crm.enableNotifications(target, [
      {
        channelId: desired.channelId,
        events: desired.events,
        notifyUrl: desired.notifyUrl,
        ...(desired.token === undefined ? {} : { token: desired.token }),
        channelExpiryMs: requestedExpiryMs,
        notifyOnRelatedAction: NOTIFY_ON_RELATED_ACTION,
      },
    ]),
  );
  // The channel lives until its first module lapses; Zoho may grant less than asked.
  const granted = subscriptions
    .filter((subscription) => subscription.channelId === desired.channelId)
    .map((subscription) => subscription.channelExpiryMs)
    .filter((ms): ms is number => ms !== undefined);
  const expiresAtMs = granted.length === 0 ? requestedExpiryMs : Math.min(...granted);
  if (expiresAtMs < requestedExpiryMs - HOUR_MS) {
    deps.logger.warn('zoho granted a shorter notification channel than asked', {
      connection_id: connectionId,
      channel_id: desired.channelId,
      requested_expiry_ms: requestedExpiryMs,
      granted_expiry_ms: expiresAtMs,
    });
  }
  await deps.channels.put(connectionId, {
    channelId: desired.channelId,
    expiresAtMs,
    fingerprint: desired.fingerprint,
    renewedAtMs: deps.now(),
  });
  deps.logger.info('notification channel renewed', {
    connection_id: connectionId,
    channel_id: desired.channelId,
    reason,
    expires_at: new Date(expiresAtMs).toISOString(),
  });
  return { connectionId, status: 'renewed', reason, channelId: desired.channelId, expiresAtMs };
};

/**
 * Keeps one Zoho CRM Notification API channel alive per connection, watching every synced
 * module (`Accounts.all`, `Contacts.all`, `Products.all`, `Deals.all`, `Sales_Orders.all`) and
 * calling `<publicBaseUrl>/notifications/<connectionId>?token=<webhookSecret>`. A channel is
 * (re-)enabled when zoho-sync has no record of it, when less than `renewBeforeMs` is left, when
 * the secret or URL changed, or when Zoho no longer lists it; otherwise it is left alone.
 * Zoho channels last at most a week (zoho-crm-api.md §4), so this runs on a schedule.
 *
 * Connections are handled one after another and each failure stays with its connection: it is
 * described by the error table, logged, counted as `ChannelRenewalFailed` (an alarm watches the
 * metric) and reported in the summary, and the next connection is handled as usual. Nothing is
 * retried here: the next scheduled run is the retry, well before the channel lapses.
 * @throws only when the connections cannot be listed at all.
 */
export const renewChannels = async (
  deps: RenewChannelsDeps,
  options: RenewChannelsOptions = {},
): Promise<RenewChannelsSummary> => {
  const connectionIds = options.connectionIds ?? (await deps.listConnectionIds());
  const results: ChannelRenewalResult[] = [];
  for (const connectionId of connectionIds) {
    try {
      results.push(await renewOne(deps, connectionId, options.force === true));
    } catch (error) {
      const failure = describeFailure(error);
      const message = redact(error instanceof Error ? error.message : String(error));
      deps.metrics.count(METRICS.channelRenewalFailed, { connection: connectionId });
      deps.logger.error('notification channel renewal failed', {
        connection_id: connectionId,
        entry_id: failure.entryId,
        disposition: failure.action,
        http_status: failure.httpStatus,
        zoho_code: failure.zohoCode,
        error: message,
      });
      results.push({
        connectionId,
        status: 'failed',
        entryId: failure.entryId,
        action: failure.action,
        message,
      });
    }
  }
  const count = (status: ChannelRenewalResult['status']) =>
    results.filter((result) => result.status === status).length;
  const summary = {
    results,
    renewed: count('renewed'),
    fresh: count('fresh'),
    failed: count('failed'),
  };
  deps.logger.info('notification channel renewal finished', {
    connections: results.length,
    renewed: summary.renewed,
    fresh: summary.fresh,
    failed: summary.failed,
  });
  return summary;
};
