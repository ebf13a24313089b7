import {
  CreateSecretCommand,
  PutSecretValueCommand,
  ResourceExistsException,
  type SecretsManagerClient,
} from '@aws-sdk/client-secrets-manager';
import { type WebhookSecret, webhookSecretId, webhookSecretSchema } from '../config';
import { registerSecretValues } from '../observability';
import { readJsonSecret } from './read-json-secret';

export interface WebhookSecretDeps {
  readonly secretsManager: SecretsManagerClient;
  readonly secretPrefix: string;
}

/**
 * Reads `<prefix><connectionId>/webhook`; undefined when it does not exist.
 * @throws {ConfigError} when it exists but is not a valid webhook secret (fields named, never values).
 */
export const readWebhookSecret = async (
  deps: WebhookSecretDeps,
  connectionId: string,
): Promise<WebhookSecret | undefined> => {
  const secret = await readJsonSecret(
    deps.secretsManager,
    webhookSecretId(deps.secretPrefix, connectionId),
    webhookSecretSchema,
  );
  if (secret === undefined) return undefined;
  registerSecretValues(secret.webhookSecret, secret.nextWebhookSecret);
  return secret;
};

/**
 * Writes a connection's webhook secret, creating it on first use. With `onlyIfAbsent` an
 * existing secret is left as it is (a rotation in progress is never undone) and `written` is
 * false. The only writer of `<prefix><connectionId>/webhook`.
 */
export const writeWebhookSecret = async (
  deps: WebhookSecretDeps,
  connectionId: string,
  value: WebhookSecret,
  options: { onlyIfAbsent?: boolean } = {},
): Promise<{ secretId: string; created: boolean; written: boolean }> => {
  const secretId = webhookSecretId(deps.secretPrefix, connectionId);
  const SecretString = JSON.stringify(webhookSecretSchema.parse(value));
  try {
    await deps.secretsManager.send(
      new CreateSecretCommand({
        Name: secretId,
        SecretString,
        Description: `zoho-sync webhook secret of connection ${connectionId}; the only secret the webhook function may read`,
      }),
    );
    return { secretId, created: true, written: true };
  } catch (error) {
    if (!(error instanceof ResourceExistsException)) throw error;
  }
  if (options.onlyIfAbsent === true) return { secretId, created: false, written: false };
  await deps.secretsManager.send(new PutSecretValueCommand({ SecretId: secretId, SecretString }));
  return { secretId, created: false, written: true };
};

/**
 * How long the webhook function trusts its copy of a webhook secret. After
 * `webhook-secret rotate --finish`, a warm container keeps accepting the retired secret for at
 * most this long.
 */
export const WEBHOOK_SECRET_CACHE_TTL_MS = 30_000;

/**
 * A token that matches neither cached secret is checked again against Secrets Manager once the
 * copy is this old, so a secret added by `rotate` is accepted within seconds while a flood of
 * wrong tokens costs at most one read per connection and container in this interval.
 * `rotate` waits longer than this before it hands the new secret to Zoho, so no container can
 * refuse it.
 */
export const WEBHOOK_SECRET_RECHECK_AFTER_MS = 2_000;

export interface WebhookSecretStoreDeps extends WebhookSecretDeps {
  /** @default WEBHOOK_SECRET_CACHE_TTL_MS; never longer than that. */
  readonly cacheTtlMs?: number;
  readonly now: () => number;
}

export interface WebhookSecretStore {
  /**
   * The connection's webhook secret, or undefined when it has none. Cached per container (hits
   * and misses); a copy older than `maxAgeMs` (default: the cache TTL) is read again.
   * @throws {ConfigError} when the secret is malformed.
   */
  get(connectionId: string, options?: { maxAgeMs?: number }): Promise<WebhookSecret | undefined>;
}

export const createWebhookSecretStore = (deps: WebhookSecretStoreDeps): WebhookSecretStore => {
  const ttlMs = Math.min(
    deps.cacheTtlMs ?? WEBHOOK_SECRET_CACHE_TTL_MS,
    WEBHOOK_SECRET_CACHE_TTL_MS,
  );
  const cache = new Map<string, { value: WebhookSecret | undefined; readAtMs: number }>();
  return {
    async get(connectionId, options = {}) {
      const maxAgeMs = Math.min(options.maxAgeMs ?? ttlMs, ttlMs);
      const cached = cache.get(connectionId);
      if (cached !== undefined && deps.now() - cached.readAtMs < maxAgeMs) return cached.value;
      const value = await readWebhookSecret(deps, connectionId);
      cache.set(connectionId, { value, readAtMs: deps.now() });
      return value;
    },
  };
};
