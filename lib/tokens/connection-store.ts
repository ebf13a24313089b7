import {
  GetSecretValueCommand,
  ResourceNotFoundException,
  type SecretsManagerClient,
} from '@aws-sdk/client-secrets-manager';
import {
  ConfigError,
  type Connection,
  connectionSecretId,
  connectionSecretSchema,
  toConnection,
} from '../config';
import { registerSecretValues } from '../observability';

export interface ConnectionStoreDeps {
  readonly secretsManager: SecretsManagerClient;
  readonly secretPrefix: string;
  /** How long a warm container trusts its copy of a connection's credentials. */
  readonly cacheTtlMs: number;
  readonly now: () => number;
}

export interface ConnectionStore {
  /**
   * Returns the connection, or undefined when no secret exists for it. Cached per container
   * (hits and misses) for `cacheTtlMs`, so a warm container does not call Secrets Manager for
   * every message and a flood of webhooks for unknown ids cannot amplify into SM calls.
   * @throws {ConfigError} when the secret exists but is not a valid connection secret.
   */
  get(connectionId: string): Promise<Connection | undefined>;
  /** Drops the cached copy, e.g. after Zoho rejected the credentials. */
  invalidate(connectionId: string): void;
}

interface CacheEntry {
  readonly connection: Connection | undefined;
  readonly expiresAtMs: number;
}

export const createConnectionStore = (deps: ConnectionStoreDeps): ConnectionStore => {
  const cache = new Map<string, CacheEntry>();

  const load = async (connectionId: string): Promise<Connection | undefined> => {
    const secretId = connectionSecretId(deps.secretPrefix, connectionId);
    let secretString: string | undefined;
    try {
      const result = await deps.secretsManager.send(
        new GetSecretValueCommand({ SecretId: secretId }),
      );
      secretString = result.SecretString;
    } catch (error) {
      if (error instanceof ResourceNotFoundException) return undefined;
      throw error;
    }
    let json: unknown;
    try {
      json = JSON.parse(secretString ?? '');
    } catch {
      throw new ConfigError(`secret ${secretId} is not valid JSON`);
    }
    const parsed = connectionSecretSchema.safeParse(json);
    if (!parsed.success) {
      // Name the fields, never echo values: the secret holds credentials.
      const fields = parsed.error.issues.map((issue) => issue.path.join('.') || '(root)');
      throw new ConfigError(`secret ${secretId} is invalid: check ${fields.join(', ')}`);
    }
    const secret = parsed.data;
    registerSecretValues(secret.clientSecret, secret.refreshToken, secret.webhookSecret);
    return toConnection(connectionId, secret);
  };

  return {
    async get(connectionId) {
      const cached = cache.get(connectionId);
      if (cached !== undefined && cached.expiresAtMs > deps.now()) return cached.connection;
      const connection = await load(connectionId);
      cache.set(connectionId, { connection, expiresAtMs: deps.now() + deps.cacheTtlMs });
      return connection;
    },
    invalidate(connectionId) {
      cache.delete(connectionId);
    },
  };
};
