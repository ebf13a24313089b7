import {
  CreateSecretCommand,
  PutSecretValueCommand,
  ResourceExistsException,
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

/**
 * Writes (creates or replaces) a connection's secret. The only writer of `zoho-sync/<id>`:
 * the setup command in AWS, local mode and tests all come through here.
 */
export const putConnectionSecret = async (
  secretsManager: SecretsManagerClient,
  options: { secretPrefix: string; connectionId: string; secret: ConnectionSecret },
): Promise<{ secretId: string; created: boolean }> => {
  const secretId = connectionSecretId(options.secretPrefix, options.connectionId);
  const SecretString = JSON.stringify(options.secret);
  try {
    await secretsManager.send(new CreateSecretCommand({ Name: secretId, SecretString }));
    return { secretId, created: true };
  } catch (error) {
    if (!(error instanceof ResourceExistsException)) throw error;
    await secretsManager.send(new PutSecretValueCommand({ SecretId: secretId, SecretString }));
    return { secretId, created: false };
  }
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

/**
 * Validates a connection and stores its secret. With `grantCode` (a self client's one-time code,
 * valid about 3 minutes) it first exchanges the code for the refresh token at the connection's
 * accounts server, so the operator never handles the refresh token. Each exchange makes a new
 * refresh token, and Zoho keeps only 20 per user: run it once, not in a loop.
 * @throws {ConfigError} naming the invalid fields (never their values).
 */
export const setupConnection = async (
  deps: SetupConnectionDeps,
  input: { connectionId: string; secret: unknown; grantCode?: string },
): Promise<{ secretId: string; created: boolean }> => {
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
  return putConnectionSecret(deps.secretsManager, {
    secretPrefix: deps.secretPrefix,
    connectionId: connectionId.data,
    secret: { ...parsed.data, refreshToken },
  });
};
