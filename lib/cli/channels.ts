import { describeFailure } from '../failures';
import {
  channelIdFor,
  createNotificationChannelStore,
  createRenewChannelsDeps,
  DEFAULT_RENEW_BEFORE_MS,
  type RenewChannelsSummary,
  renewChannels,
} from '../notifications';
import { logger, noMetrics, redact } from '../observability';
import { callZoho } from '../sync/zoho-caller';
import { createConnectionAccess } from '../tokens';
import { createCrmClient, type NotificationSubscription } from '../zoho';
import { type CliIo, formatDuration, formatTime, painter, UsageError } from './cli-io';
import type { CliTarget } from './cli-target';

export interface ChannelListing {
  readonly connectionId: string;
  /** The channel id zoho-sync uses for the connection (derived from its id). */
  readonly channelId: string;
  /** What zoho-sync recorded when it last enabled the channel. */
  readonly stored: { readonly expiresAtMs: number; readonly renewedAtMs: number } | null;
  /** What Zoho lists for the channel, per module (1 CRM credit); absent when the call failed. */
  readonly atZoho?: readonly {
    readonly module: string;
    readonly expiresAtMs: number | undefined;
    readonly events: readonly string[];
  }[];
  readonly zohoError?: { readonly entryId: string; readonly message: string };
  /** Whether the scheduled renewal would act now (missing, expiring within two days). */
  readonly needsRenewal: boolean;
}

/** `channels list`: zoho-sync's record of each channel next to Zoho's own list. */
export const listChannels = async (
  target: CliTarget,
  connectionIds: readonly string[] | undefined,
  now: () => number = Date.now,
): Promise<ChannelListing[]> => {
  const access = createConnectionAccess({ config: target.config, clients: target.clients, now });
  const store = createNotificationChannelStore({
    dynamodb: target.clients.dynamodb,
    tableName: target.config.tableName,
  });
  const crm = createCrmClient(access.http);
  const ids = connectionIds ?? (await access.listConnectionIds());
  const listings: ChannelListing[] = [];
  for (const connectionId of ids) {
    const channelId = channelIdFor(connectionId);
    const stored = await store.get(connectionId);
    const connection = await access.connections.get(connectionId);
    if (connection === undefined) throw new UsageError(`no connection ${connectionId}`);
    let atZoho: NotificationSubscription[] | undefined;
    let zohoError: ChannelListing['zohoError'];
    try {
      const result = await callZoho(
        { tokens: access.tokens, logger: access.logger },
        connection,
        'crm',
        (zohoTarget) => crm.getNotifications(zohoTarget, { channelId }),
      );
      atZoho = [...result.subscriptions];
    } catch (error) {
      zohoError = {
        entryId: describeFailure(error).entryId,
        message: redact(error instanceof Error ? error.message : String(error)),
      };
    }
    const renewBy = now() + DEFAULT_RENEW_BEFORE_MS;
    listings.push({
      connectionId,
      channelId,
      stored:
        stored === undefined || stored.channelId !== channelId
          ? null
          : { expiresAtMs: stored.expiresAtMs, renewedAtMs: stored.renewedAtMs },
      ...(atZoho === undefined
        ? {}
        : {
            atZoho: atZoho.map((subscription) => ({
              module: subscription.module,
              expiresAtMs: subscription.channelExpiryMs,
              events: subscription.events,
            })),
          }),
      ...(zohoError === undefined ? {} : { zohoError }),
      needsRenewal:
        stored === undefined ||
        stored.expiresAtMs < renewBy ||
        (atZoho !== undefined && atZoho.length === 0),
    });
  }
  return listings;
};

export const renderChannelListings = (
  listings: readonly ChannelListing[],
  io: CliIo,
  nowMs: number,
): string => {
  const paint = painter(io);
  if (listings.length === 0) return 'No connections.';
  return listings
    .map((listing) => {
      const lines = [
        paint('bold', `Connection ${listing.connectionId}: channel ${listing.channelId}`),
      ];
      lines.push(
        listing.stored === null
          ? `  zoho-sync's record: ${paint('yellow', 'none (never enabled)')}`
          : `  zoho-sync's record: expires ${formatTime(listing.stored.expiresAtMs)} (in ${formatDuration(listing.stored.expiresAtMs - nowMs)}), last enabled ${formatTime(listing.stored.renewedAtMs)}`,
      );
      if (listing.zohoError !== undefined) {
        lines.push(
          `  at Zoho: ${paint('red', `could not list (${listing.zohoError.entryId}): ${listing.zohoError.message}`)}`,
        );
      } else if (listing.atZoho !== undefined && listing.atZoho.length === 0) {
        lines.push(`  at Zoho: ${paint('yellow', 'not subscribed')}`);
      } else {
        for (const module of listing.atZoho ?? []) {
          lines.push(
            `  at Zoho: ${module.module.padEnd(13)} ${module.events.join(',') || '-'}  expires ${formatTime(module.expiresAtMs)}`,
          );
        }
      }
      lines.push(
        `  ${listing.needsRenewal ? paint('yellow', 'needs renewal: run "zoho-sync channels renew"') : paint('green', 'fresh')}`,
      );
      return lines.join('\n');
    })
    .join('\n\n');
};

/** `channels renew`: the scheduled renewal, now, for the given connections. */
export const renewChannelsNow = async (
  target: CliTarget,
  connectionIds: readonly string[] | undefined,
  force: boolean,
): Promise<RenewChannelsSummary> => {
  if (target.publicBaseUrl === undefined) {
    throw new UsageError(
      'the public base URL is unknown: pass --public-base-url (or --stack, whose NotificationUrl output names it)',
    );
  }
  const deps = createRenewChannelsDeps({
    config: target.config,
    clients: target.clients,
    publicBaseUrl: target.publicBaseUrl,
    logger,
    metrics: noMetrics,
  });
  return renewChannels(deps, {
    ...(connectionIds === undefined ? {} : { connectionIds }),
    force,
  });
};

export const renderRenewal = (summary: RenewChannelsSummary, io: CliIo): string => {
  const paint = painter(io);
  return summary.results
    .map((result) => {
      switch (result.status) {
        case 'fresh':
          return `${result.connectionId}: ${paint('green', 'fresh')}, channel ${result.channelId} expires ${formatTime(result.expiresAtMs)} (nothing to do; --force enables it again)`;
        case 'renewed':
          return `${result.connectionId}: ${paint('green', 'renewed')} (${result.reason}), channel ${result.channelId} expires ${formatTime(result.expiresAtMs)}`;
        case 'skipped':
          return `${result.connectionId}: ${paint('yellow', 'skipped')}: ${result.reason === 'no-webhook-secret' ? 'no webhook secret' : 'no connection secret'}`;
        default:
          return `${result.connectionId}: ${paint('red', 'FAILED')} (${result.entryId}): ${result.message}`;
      }
    })
    .join('\n');
};
