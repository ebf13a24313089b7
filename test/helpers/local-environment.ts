import { randomUUID } from 'node:crypto';
import { inject } from 'vitest';
import { type AwsClients, createAwsClients } from '../../lib/aws';
import { type Config, type ConnectionSecret, loadConfig } from '../../lib/config';
import {
  functionEnvironment,
  type LocalResources,
  provisionLocalResources,
} from '../../lib/local/aws-stand-ins';
import { putConnectionSecret } from '../../lib/local/provision';

export interface TestEnvironment {
  readonly prefix: string;
  readonly resources: LocalResources;
  readonly clients: AwsClients;
  readonly config: Config;
  /** The environment a deployed function would see (stand-in endpoints + resource names). */
  readonly env: Record<string, string>;
  putConnection(connectionId: string, secret: ConnectionSecret): Promise<void>;
}

/**
 * Provisions an isolated set of resources on the shared stand-ins for one test file, and
 * points process.env at them so handler modules imported afterwards see them.
 */
export const createTestEnvironment = async (
  options: {
    maxReceiveCount?: number;
    visibilityTimeoutSeconds?: number;
    extraEnv?: Record<string, string>;
  } = {},
): Promise<TestEnvironment> => {
  const standInEnv = inject('standInEnv');
  Object.assign(process.env, standInEnv);
  const prefix = `t${randomUUID().slice(0, 8)}`;
  const clients = createAwsClients({ region: 'us-east-1' });
  const resources = await provisionLocalResources(clients, { prefix, ...options });
  const secretPrefix = `zoho-sync-${prefix}/`;
  const env = {
    ...standInEnv,
    ...functionEnvironment(resources),
    ZOHO_SYNC_SECRET_PREFIX: secretPrefix,
    POWERTOOLS_LOG_LEVEL: 'WARN',
    // Tests drain the queue at once; a test of coalescing sets its own delay.
    ZOHO_SYNC_INTAKE_DELAY_SECONDS: '0',
    ...options.extraEnv,
  };
  Object.assign(process.env, env);
  const config = loadConfig(env);
  return {
    prefix,
    resources,
    clients,
    config,
    env,
    putConnection: async (connectionId, secret) => {
      await putConnectionSecret(clients.secretsManager, { secretPrefix, connectionId, secret });
    },
  };
};
