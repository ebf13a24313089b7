import { readFile } from 'node:fs/promises';
import * as z from 'zod';
import { ENV } from '../config';
import { standInEnvironment } from './aws-stand-ins';

/** Where `npm start` writes everything a script needs to reach the local stand-ins. */
export const LOCAL_STATE_FILE = '.zoho-sync/local.json';

/** One connection of local mode, as `.zoho-sync/local.json` lists it. */
export interface LocalConnection {
  readonly connectionId: string;
  readonly webhookUrl?: string;
  readonly notificationUrl?: string;
  readonly secretId?: string;
  readonly booksOrganizationId?: string;
}

const localConnectionSchema = z.object({
  connectionId: z.string(),
  webhookUrl: z.string().optional(),
  notificationUrl: z.string().optional(),
  secretId: z.string().optional(),
  booksOrganizationId: z.string().optional(),
});

/**
 * Both shapes local mode has written: the first connection's keys at the top level, and (with
 * several connections) a `connections` list. Either is enough; the list wins when both exist.
 */
const localStateSchema = z
  .object({
    connectionId: z.string().optional(),
    webhookUrl: z.string().optional(),
    notificationUrl: z.string().optional(),
    secretId: z.string().optional(),
    booksOrganizationId: z.string().optional(),
    connections: z.array(localConnectionSchema).optional(),
    endpoints: z.object({
      dynamodb: z.string(),
      sqs: z.string(),
      sns: z.string(),
      secretsManager: z.string(),
    }),
    queues: z.object({ syncQueueUrl: z.string(), deadLetterQueueUrl: z.string() }),
    tables: z.object({ state: z.string() }),
    alertTopicArn: z.string(),
    simulatorStateUrl: z.string().optional(),
  })
  .refine((state) => state.connectionId !== undefined || (state.connections?.length ?? 0) > 0, {
    message: 'no connection',
  });

/** What a running local mode told us about itself. */
export interface LocalState {
  readonly connections: readonly LocalConnection[];
  /** The base URL of the local HTTP API (where `/notifications/<id>` lives). */
  readonly publicBaseUrl: string | undefined;
  readonly secretPrefix: string;
  readonly simulatorStateUrl: string | undefined;
}

const NOTIFICATION_PATH = /\/notifications\/[^/]*$/;
const WEBHOOK_PATH = /\/webhooks\/[^/]*$/;

const publicBaseUrlOf = (connection: LocalConnection | undefined): string | undefined => {
  if (connection?.notificationUrl !== undefined) {
    return connection.notificationUrl.replace(NOTIFICATION_PATH, '');
  }
  return connection?.webhookUrl?.replace(WEBHOOK_PATH, '');
};

const secretPrefixOf = (connection: LocalConnection | undefined): string => {
  const secretId = connection?.secretId;
  if (connection === undefined || secretId === undefined) return 'zoho-sync/';
  return secretId.endsWith(connection.connectionId)
    ? secretId.slice(0, secretId.length - connection.connectionId.length)
    : 'zoho-sync/';
};

/**
 * Points this process at a running `npm start` (local mode): the stand-ins' endpoints for the
 * AWS SDK and the resource names for `loadConfig`, read from {@link LOCAL_STATE_FILE}.
 * @throws Error naming the file when it is missing or not what `npm start` writes.
 */
export const applyLocalEnvironment = async (path = LOCAL_STATE_FILE): Promise<LocalState> => {
  let json: unknown;
  try {
    json = JSON.parse(await readFile(path, 'utf8'));
  } catch {
    throw new Error(`cannot read ${path}: start local mode first (npm start)`);
  }
  const parsed = localStateSchema.safeParse(json);
  if (!parsed.success) throw new Error(`${path} is not a local-mode state file`);
  const state = parsed.data;
  const connections: LocalConnection[] =
    state.connections !== undefined && state.connections.length > 0
      ? state.connections
      : [
          {
            connectionId: state.connectionId ?? '',
            ...(state.webhookUrl === undefined ? {} : { webhookUrl: state.webhookUrl }),
            ...(state.notificationUrl === undefined
              ? {}
              : { notificationUrl: state.notificationUrl }),
            ...(state.secretId === undefined ? {} : { secretId: state.secretId }),
            ...(state.booksOrganizationId === undefined
              ? {}
              : { booksOrganizationId: state.booksOrganizationId }),
          },
        ];
  const secretPrefix = secretPrefixOf(connections[0]);
  Object.assign(process.env, standInEnvironment(state.endpoints), {
    AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: 'true',
    [ENV.tableName]: state.tables.state,
    [ENV.syncQueueUrl]: state.queues.syncQueueUrl,
    [ENV.deadLetterQueueUrl]: state.queues.deadLetterQueueUrl,
    [ENV.alertTopicArn]: state.alertTopicArn,
    [ENV.secretPrefix]: secretPrefix,
  });
  return {
    connections,
    publicBaseUrl: publicBaseUrlOf(connections[0]),
    secretPrefix,
    simulatorStateUrl: state.simulatorStateUrl,
  };
};
