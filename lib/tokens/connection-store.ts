import type { SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import {
  type Connection,
  connectionSecretId,
  connectionSecretSchema,
  toConnection,
} from '../config';
import { registerSecretValues } from '../observability';
import { readJsonSecret } from './read-json-secret';

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
    const secret = await readJsonSecret(
      deps.secretsManager,
      connectionSecretId(deps.secretPrefix, connectionId),
      connectionSecretSchema,
    );
    if (secret === undefined) return undefined;
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
