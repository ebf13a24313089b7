import { createRenewChannelsDeps, renewChannels } from '../notifications';
import type { ChannelRenewalResult } from '../notifications/renew-channels';
import { logger, noMetrics } from '../observability';
import type {
  MigrationResult,
  RotationFinished,
  RotationStarted,
  WebhookSecretRotationDeps,
} from '../webhooks/webhook-secret-rotation';
import { UsageError } from './cli-io';
import type { CliTarget } from './cli-target';

/** The rotation's collaborators on a CLI target: its secrets and its channel renewal. */
export const rotationDeps = (
  target: CliTarget,
): WebhookSecretRotationDeps & { baseUrl: string } => {
  if (target.publicBaseUrl === undefined) {
    throw new UsageError(
      'the public base URL is unknown: pass --public-base-url (or --stack, whose NotificationUrl output names it); a rotation re-registers the notification channel with it',
    );
  }
  const renewDeps = createRenewChannelsDeps({
    config: target.config,
    clients: target.clients,
    publicBaseUrl: target.publicBaseUrl,
    logger,
    metrics: noMetrics,
  });
  return {
    secretsManager: target.clients.secretsManager,
    secretPrefix: target.config.secretPrefix,
    baseUrl: target.publicBaseUrl.replace(/\/+$/, ''),
    renewChannel: async (connectionId) => {
      const summary = await renewChannels(renewDeps, { connectionIds: [connectionId] });
      const [result] = summary.results;
      if (result === undefined)
        throw new Error(`channel renewal returned nothing for ${connectionId}`);
      return result;
    },
  };
};

const describeChannel = (channel: ChannelRenewalResult): string => {
  switch (channel.status) {
    case 'renewed':
      return `re-registered channel ${channel.channelId} with the new secret (token and notify_url)`;
    case 'fresh':
      return `channel ${channel.channelId} already carries the new secret`;
    case 'skipped':
      return `no channel: ${channel.reason}`;
    default:
      return `FAILED (${channel.entryId}): ${channel.message}; run the same command again`;
  }
};

/** `webhook-secret rotate`: the exact CRM settings to change, and what comes next. */
export const renderRotationStarted = (started: RotationStarted, baseUrl: string): string => {
  const id = started.connectionId;
  return [
    `Webhook secret rotation of ${id}: ${started.alreadyStarted ? 'already in progress (same next secret)' : 'started'}. The old and the new secret are both accepted now.`,
    '',
    `1. In Zoho CRM (Setup > Automation > Actions > Webhooks), in every webhook whose URL is ${baseUrl}/webhooks/${id}, set the new secret:`,
    `     header X-Zoho-Sync-Token: ${started.nextWebhookSecret}`,
    `     or the custom URL parameter  token = ${started.nextWebhookSecret}`,
    `2. Notification API: ${describeChannel(started.channel)}.`,
    `3. When every webhook sends the new secret, retire the old one:`,
    `     zoho-sync webhook-secret rotate --connection ${id} --finish`,
  ].join('\n');
};

export const renderRotationFinished = (finished: RotationFinished): string =>
  [
    `Webhook secret rotation of ${finished.connectionId} finished: only the new secret is accepted (warm webhook containers drop the old one within 30 s).`,
    `Notification API: ${describeChannel(finished.channel)}.`,
  ].join('\n');

const MIGRATION_TEXT: Record<MigrationResult['outcome'], string> = {
  migrated: 'webhook secret moved to its own secret and removed from the credentials',
  'removed-from-credentials':
    'webhook secret was already in its own secret; removed the old copy from the credentials',
  'already-split': 'nothing to do (already two secrets)',
  'no-webhook-secret': 'NO webhook secret anywhere: run setup for this connection',
};

export const renderMigration = (results: readonly MigrationResult[], prefix: string): string =>
  results.length === 0
    ? 'No connections.'
    : results
        .map(
          (result) =>
            `${result.connectionId}: ${MIGRATION_TEXT[result.outcome]} (${prefix}${result.connectionId}/webhook)`,
        )
        .join('\n');
