import { setTimeout as sleep } from 'node:timers/promises';
import { PutSecretValueCommand, type SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { connectionSecretId } from '../config';
import type { ChannelRenewalResult } from '../notifications/renew-channels';
import { listConnectionIds } from '../tokens/list-connections';
import { generateWebhookSecret, readRawCredentials } from '../tokens/setup-connection';
import {
  readWebhookSecret,
  WEBHOOK_SECRET_RECHECK_AFTER_MS,
  writeWebhookSecret,
} from '../tokens/webhook-secret-store';

/**
 * How long `rotate` waits between storing the next secret and giving it to Zoho (channel) and
 * the operator (CRM settings): longer than any webhook container keeps a copy it would not check
 * again on a mismatch, so the first request signed with the new secret is accepted everywhere.
 */
export const NEXT_SECRET_PROPAGATION_MS = WEBHOOK_SECRET_RECHECK_AFTER_MS + 500;

export interface WebhookSecretRotationDeps {
  readonly secretsManager: SecretsManagerClient;
  readonly secretPrefix: string;
  /**
   * Re-registers the connection's Notification API channel with its newest webhook secret (the
   * channel `token` and the notify_url's `?token=` are the secret): channel renewal.
   */
  readonly renewChannel: (connectionId: string) => Promise<ChannelRenewalResult>;
  /** @default generateWebhookSecret (32 random URL-safe characters) */
  readonly generateSecret?: () => string;
  /** @default timers/promises setTimeout */
  readonly sleep?: (ms: number) => Promise<void>;
}

export interface RotationStarted {
  readonly connectionId: string;
  /** The secret to set in Zoho CRM; the old one stays accepted until `--finish`. */
  readonly nextWebhookSecret: string;
  /** A rotation was already in progress: its next secret is reused, not replaced. */
  readonly alreadyStarted: boolean;
  readonly channel: ChannelRenewalResult;
}

export interface RotationFinished {
  readonly connectionId: string;
  readonly channel: ChannelRenewalResult;
}

/** The webhook secret `webhookSecret` a legacy single secret still holds, if it does. */
const legacyWebhookSecret = (raw: Record<string, unknown> | undefined): string | undefined => {
  const value = raw?.webhookSecret;
  return typeof value === 'string' && value.length >= 16 ? value : undefined;
};

export type MigrationOutcome =
  /** Copied into `<id>/webhook` now and removed from the credentials. */
  | 'migrated'
  /** Already in `<id>/webhook` (copied at deploy); now removed from the credentials. */
  | 'removed-from-credentials'
  /** Nothing to do: the credentials hold no webhook secret and `<id>/webhook` exists. */
  | 'already-split'
  /** Neither secret holds a webhook secret: run setup for the connection. */
  | 'no-webhook-secret';

export interface MigrationResult {
  readonly connectionId: string;
  readonly outcome: MigrationOutcome;
}

/**
 * Moves a connection written before the split (one secret with `webhookSecret` inside the
 * credentials) to two: the webhook secret goes to `<prefix><id>/webhook` unless one exists
 * there already (an existing one, e.g. copied at deploy or mid-rotation, wins), then the
 * credentials are rewritten without it, every other key (unknown ones included) kept as is.
 * Safe to run again. In that order, a delivery at any moment finds a webhook secret.
 * @throws Error when the connection has no credentials secret.
 */
export const migrateLegacyWebhookSecret = async (
  deps: Pick<WebhookSecretRotationDeps, 'secretsManager' | 'secretPrefix'>,
  connectionId: string,
): Promise<MigrationResult> => {
  const raw = await readRawCredentials(deps, connectionId);
  if (raw === undefined) throw new Error(`no connection ${connectionId} (no readable secret)`);
  const legacy = legacyWebhookSecret(raw);
  if (legacy === undefined) {
    const split = await readWebhookSecret(deps, connectionId);
    return { connectionId, outcome: split === undefined ? 'no-webhook-secret' : 'already-split' };
  }
  const written = await writeWebhookSecret(
    deps,
    connectionId,
    { webhookSecret: legacy },
    { onlyIfAbsent: true },
  );
  const { webhookSecret: _moved, ...credentials } = raw;
  await deps.secretsManager.send(
    new PutSecretValueCommand({
      SecretId: connectionSecretId(deps.secretPrefix, connectionId),
      SecretString: JSON.stringify(credentials),
    }),
  );
  return { connectionId, outcome: written.created ? 'migrated' : 'removed-from-credentials' };
};

/** {@link migrateLegacyWebhookSecret} for every connection (`webhook-secret migrate --all`). */
export const migrateAllLegacyWebhookSecrets = async (
  deps: Pick<WebhookSecretRotationDeps, 'secretsManager' | 'secretPrefix'>,
): Promise<MigrationResult[]> => {
  const results: MigrationResult[] = [];
  for (const connectionId of await listConnectionIds(deps)) {
    results.push(await migrateLegacyWebhookSecret(deps, connectionId));
  }
  return results;
};

export interface LegacyCopySummary {
  /** Connections whose legacy webhook secret was copied into `<id>/webhook` now. */
  readonly copied: readonly string[];
  /** Connections that already had `<id>/webhook`. */
  readonly alreadySplit: number;
  /** Connections with no webhook secret anywhere (or an unreadable credentials secret). */
  readonly withoutWebhookSecret: readonly string[];
}

/**
 * The deploy-time half of the migration (the custom resource run before the new webhook code
 * serves): copies every legacy `webhookSecret` into a new `<prefix><id>/webhook`, so the first
 * delivery after the deploy finds it. It only creates missing webhook secrets, never replaces
 * one and never touches the credentials (`webhook-secret migrate` removes the legacy copy).
 * @throws when a copy fails, so the deploy stops before the new code serves.
 */
export const copyLegacyWebhookSecrets = async (
  deps: Pick<WebhookSecretRotationDeps, 'secretsManager' | 'secretPrefix'>,
): Promise<LegacyCopySummary> => {
  const copied: string[] = [];
  const withoutWebhookSecret: string[] = [];
  let alreadySplit = 0;
  for (const connectionId of await listConnectionIds(deps)) {
    if ((await readWebhookSecret(deps, connectionId)) !== undefined) {
      alreadySplit += 1;
      continue;
    }
    const legacy = legacyWebhookSecret(await readRawCredentials(deps, connectionId));
    if (legacy === undefined) {
      withoutWebhookSecret.push(connectionId);
      continue;
    }
    const written = await writeWebhookSecret(
      deps,
      connectionId,
      { webhookSecret: legacy },
      { onlyIfAbsent: true },
    );
    if (written.created) copied.push(connectionId);
    else alreadySplit += 1;
  }
  return { copied, alreadySplit, withoutWebhookSecret };
};

/**
 * `webhook-secret rotate`: adds a next webhook secret (both are accepted from now on) and moves
 * the Notification API channel to it. The operator then changes the CRM workflow webhooks to
 * the next secret and runs {@link finishWebhookSecretRotation}. Running it again during a
 * rotation reuses the same next secret (and re-registers the channel), so it is safe to repeat
 * after a failed channel renewal. A legacy single secret is migrated first.
 * @throws Error when the connection has no webhook secret at all.
 */
export const startWebhookSecretRotation = async (
  deps: WebhookSecretRotationDeps,
  connectionId: string,
): Promise<RotationStarted> => {
  let current = await readWebhookSecret(deps, connectionId);
  if (current === undefined) {
    const migrated = await migrateLegacyWebhookSecret(deps, connectionId);
    if (migrated.outcome === 'no-webhook-secret') {
      throw new Error(`connection ${connectionId} has no webhook secret: run setup first`);
    }
    current = await readWebhookSecret(deps, connectionId);
  }
  if (current === undefined) throw new Error(`connection ${connectionId} has no webhook secret`);
  const alreadyStarted = current.nextWebhookSecret !== undefined;
  const nextWebhookSecret =
    current.nextWebhookSecret ?? (deps.generateSecret ?? generateWebhookSecret)();
  if (!alreadyStarted) {
    await writeWebhookSecret(deps, connectionId, {
      webhookSecret: current.webhookSecret,
      nextWebhookSecret,
    });
    await (deps.sleep ?? ((ms) => sleep(ms)))(NEXT_SECRET_PROPAGATION_MS);
  }
  const channel = await deps.renewChannel(connectionId);
  return { connectionId, nextWebhookSecret, alreadyStarted, channel };
};

/**
 * `webhook-secret rotate --finish`: makes the next secret the only one. The channel is checked
 * (and re-registered if needed) first; if that fails, nothing is retired.
 * @throws Error when no rotation is in progress or the channel could not be moved.
 */
export const finishWebhookSecretRotation = async (
  deps: WebhookSecretRotationDeps,
  connectionId: string,
): Promise<RotationFinished> => {
  const current = await readWebhookSecret(deps, connectionId);
  if (current?.nextWebhookSecret === undefined) {
    throw new Error(
      `no webhook secret rotation in progress for connection ${connectionId}: run "webhook-secret rotate --connection ${connectionId}" first`,
    );
  }
  const channel = await deps.renewChannel(connectionId);
  if (channel.status === 'failed') {
    throw new Error(
      `the notification channel of ${connectionId} could not be moved to the new secret (${channel.entryId}: ${channel.message}); both secrets stay accepted, run --finish again`,
    );
  }
  await writeWebhookSecret(deps, connectionId, { webhookSecret: current.nextWebhookSecret });
  return { connectionId, channel };
};
