import { randomBytes } from 'node:crypto';
import {
  CreateSecretCommand,
  GetSecretValueCommand,
  PutSecretValueCommand,
  ResourceExistsException,
  ResourceNotFoundException,
  type SecretsManagerClient,
} from '@aws-sdk/client-secrets-manager';
import * as z from 'zod';
import {
  ConfigError,
  type ConnectionSecret,
  connectionIdSchema,
  connectionSecretId,
  connectionSecretSchema,
  toConnection,
} from '../config';
import type { AccountsClient } from '../zoho';
import { writeWebhookSecret } from './webhook-secret-store';

/** A new random webhook secret: 32 URL-safe characters, so it also fits a channel `token` (50). */
export const generateWebhookSecret = (): string => randomBytes(24).toString('base64url');

/**
 * Writes (creates or replaces) a connection's credentials, `zoho-sync/<id>`, without any
 * `webhookSecret`: the only writer of that secret (setup, migration, local mode, tests).
 */
export const putCredentialsSecret = async (
  secretsManager: SecretsManagerClient,
  options: { secretPrefix: string; connectionId: string; secret: ConnectionSecret },
): Promise<{ secretId: string; created: boolean }> => {
  const secretId = connectionSecretId(options.secretPrefix, options.connectionId);
  const { webhookSecret: _kept, ...credentials } = options.secret;
  const SecretString = JSON.stringify(credentials);
  try {
    await secretsManager.send(new CreateSecretCommand({ Name: secretId, SecretString }));
    return { secretId, created: true };
  } catch (error) {
    if (!(error instanceof ResourceExistsException)) throw error;
    await secretsManager.send(new PutSecretValueCommand({ SecretId: secretId, SecretString }));
    return { secretId, created: false };
  }
};

/**
 * Writes both parts of a connection as given: the credentials and, when the input carries a
 * `webhookSecret`, the webhook secret `zoho-sync/<id>/webhook` (replacing any, rotation included).
 * Local mode, the benchmark and tests provision connections with it; operators use setup.
 */
export const putConnectionSecret = async (
  secretsManager: SecretsManagerClient,
  options: { secretPrefix: string; connectionId: string; secret: ConnectionSecret },
): Promise<{ secretId: string; created: boolean }> => {
  const { webhookSecret } = options.secret;
  // The webhook secret first: at no moment does a connection lack one.
  if (webhookSecret !== undefined) {
    await writeWebhookSecret(
      { secretsManager, secretPrefix: options.secretPrefix },
      options.connectionId,
      { webhookSecret },
    );
  }
  return putCredentialsSecret(secretsManager, options);
};

/** A grant code stands in for the refresh token when setting up with a fresh self-client code. */
const setupInputSchema = connectionSecretSchema.extend({
  refreshToken: z.string().min(1).optional(),
});

export interface SetupConnectionDeps {
  readonly secretsManager: SecretsManagerClient;
  readonly accounts: AccountsClient;
  readonly secretPrefix: string;
}

/** What setup did to the webhook secret. */
export type WebhookSecretOutcome =
  /** Created from the file's `webhookSecret`. */
  | 'created'
  /** Created with a random secret, because the file has none. */
  | 'generated'
  /** One existed and was kept (it may be mid-rotation); the file's value, if any, is ignored. */
  | 'kept';

export interface SetupResult {
  readonly secretId: string;
  readonly created: boolean;
  readonly webhookSecretId: string;
  readonly webhookSecret: WebhookSecretOutcome;
  /** The secret CRM must present, when setup created it: the operator configures CRM with it. */
  readonly newWebhookSecret?: string;
}

/**
 * Validates a connection and stores its two secrets: the credentials as `zoho-sync/<id>` and
 * the webhook secret as `zoho-sync/<id>/webhook`. An existing webhook secret is never replaced
 * (`webhook-secret rotate` changes it without downtime); a file without `webhookSecret` gets a
 * random one. With `grantCode` (a self client's one-time code,
 * valid about 3 minutes) it first exchanges the code for the refresh token at the connection's
 * accounts server, so the operator never handles the refresh token. Each exchange makes a new
 * refresh token, and Zoho keeps only 20 per user: run it once, not in a loop.
 * @throws {ConfigError} naming the invalid fields (never their values).
 */
export const setupConnection = async (
  deps: SetupConnectionDeps,
  input: { connectionId: string; secret: unknown; grantCode?: string },
): Promise<SetupResult> => {
  const connectionId = connectionIdSchema.safeParse(input.connectionId);
  if (!connectionId.success) throw new ConfigError('connection id must match [a-z0-9-]{1,40}');
  const parsed = setupInputSchema.safeParse(input.secret);
  if (!parsed.success) {
    const fields = parsed.error.issues.map((issue) => issue.path.join('.') || '(root)');
    throw new ConfigError(`invalid connection: check ${[...new Set(fields)].join(', ')}`);
  }
  let refreshToken = parsed.data.refreshToken;
  if (input.grantCode !== undefined) {
    const connection = toConnection(connectionId.data, { ...parsed.data, refreshToken: 'pending' });
    const grant = await deps.accounts.exchangeGrantCode({
      accountsUrl: connection.accountsUrl,
      clientId: connection.clientId,
      clientSecret: connection.clientSecret,
      code: input.grantCode,
    });
    refreshToken = grant.refreshToken;
  }
  if (refreshToken === undefined) {
    throw new ConfigError('invalid connection: give refreshToken in the file or a --grant-code');
  }
  // The webhook secret first, so a legacy secret's webhookSecret is copied before the
  // credentials are rewritten without it.
  const legacy = await readLegacyWebhookSecret(deps, connectionId.data);
  const candidate = parsed.data.webhookSecret ?? legacy ?? generateWebhookSecret();
  const webhook = await writeWebhookSecret(
    { secretsManager: deps.secretsManager, secretPrefix: deps.secretPrefix },
    connectionId.data,
    { webhookSecret: candidate },
    { onlyIfAbsent: true },
  );
  const credentials = await putCredentialsSecret(deps.secretsManager, {
    secretPrefix: deps.secretPrefix,
    connectionId: connectionId.data,
    secret: { ...parsed.data, refreshToken },
  });
  const outcome: WebhookSecretOutcome = !webhook.created
    ? 'kept'
    : parsed.data.webhookSecret === undefined && legacy === undefined
      ? 'generated'
      : 'created';
  return {
    ...credentials,
    webhookSecretId: webhook.secretId,
    webhookSecret: outcome,
    ...(outcome === 'generated' ? { newWebhookSecret: candidate } : {}),
  };
};

/** The `webhookSecret` an existing credentials secret still holds (written before the split). */
const readLegacyWebhookSecret = async (
  deps: Pick<SetupConnectionDeps, 'secretsManager' | 'secretPrefix'>,
  connectionId: string,
): Promise<string | undefined> => {
  const existing = await readRawCredentials(deps, connectionId);
  const value = existing?.webhookSecret;
  return typeof value === 'string' && value.length >= 16 ? value : undefined;
};

/** The credentials secret's JSON as stored, or undefined when there is none (or it is not JSON). */
export const readRawCredentials = async (
  deps: Pick<SetupConnectionDeps, 'secretsManager' | 'secretPrefix'>,
  connectionId: string,
): Promise<Record<string, unknown> | undefined> => {
  try {
    const result = await deps.secretsManager.send(
      new GetSecretValueCommand({ SecretId: connectionSecretId(deps.secretPrefix, connectionId) }),
    );
    const json: unknown = JSON.parse(result.SecretString ?? '');
    return typeof json === 'object' && json !== null && !Array.isArray(json)
      ? (json as Record<string, unknown>)
      : undefined;
  } catch (error) {
    if (error instanceof ResourceNotFoundException || error instanceof SyntaxError) {
      return undefined;
    }
    throw error;
  }
};
