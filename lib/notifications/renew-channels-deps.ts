import type { AwsClients } from '../aws';
import { type Config, ConfigError, ENV } from '../config';
import {
  createPowertoolsMetricsRecorder,
  type Logger,
  type MetricsRecorder,
} from '../observability';
import { createConnectionAccess } from '../tokens/connection-access';
import { createWebhookSecretStore } from '../tokens/webhook-secret-store';
import { createCrmClient } from '../zoho';
import { createNotificationChannelStore } from './channel-store';
import type { RenewChannelsDeps } from './renew-channels';

export interface RenewChannelsRuntime {
  readonly config: Config;
  readonly clients: AwsClients;
  /** @default config.publicBaseUrl; local mode passes its local API's URL. */
  readonly publicBaseUrl?: string;
  readonly fetch?: typeof fetch;
  readonly now?: () => number;
  readonly newId?: () => string;
  readonly logger?: Logger;
  /** @default Powertools Metrics in namespace ZohoSync */
  readonly metrics?: MetricsRecorder;
}

/**
 * Assembles channel renewal's collaborators once per container.
 * @throws {ConfigError} when no public base URL is configured: without it no notify_url exists.
 */
export const createRenewChannelsDeps = (runtime: RenewChannelsRuntime): RenewChannelsDeps => {
  const { config, clients } = runtime;
  const publicBaseUrl = (runtime.publicBaseUrl ?? config.publicBaseUrl)?.replace(/\/+$/, '');
  if (publicBaseUrl === undefined || publicBaseUrl === '') {
    throw new ConfigError(
      `invalid configuration: ${ENV.publicBaseUrl} is required to renew notification channels`,
    );
  }
  const { connections, tokens, http, now, logger, listConnectionIds } =
    createConnectionAccess(runtime);
  const webhookSecrets = createWebhookSecretStore({
    secretsManager: clients.secretsManager,
    secretPrefix: config.secretPrefix,
    cacheTtlMs: config.cacheTtlSeconds * 1000,
    now,
  });
  return {
    listConnectionIds,
    getConnection: (connectionId) => connections.get(connectionId),
    getChannelToken: async (connectionId) => {
      const secret = await webhookSecrets.get(connectionId);
      return secret?.nextWebhookSecret ?? secret?.webhookSecret;
    },
    tokens,
    crm: createCrmClient(http),
    channels: createNotificationChannelStore({
      dynamodb: clients.dynamodb,
      tableName: config.tableName,
    }),
    publicBaseUrl,
    now,
    logger,
    metrics: runtime.metrics ?? createPowertoolsMetricsRecorder(),
  };
};
