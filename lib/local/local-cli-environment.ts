import { ENV } from '../config';
import { standInEnvironment } from './aws-stand-ins';
import { type LocalConnectionEntry, localStatePath, readLocalStateEntries } from './local-state';

/** Where `npm start` writes everything a script needs to reach the local stand-ins. */
export const LOCAL_STATE_FILE = localStatePath();

/** One connection of local mode, as `.zoho-sync/local.json` lists it. */
export type LocalConnection = LocalConnectionEntry;

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
  // The one reader of the file (lib/local/local-state.ts), with its one schema.
  const state = await readLocalStateEntries(path);
  const { connections } = state;
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
