import { readFile } from 'node:fs/promises';
import * as z from 'zod';
import { ENV } from '../config';
import { standInEnvironment } from './aws-stand-ins';

/** Where `npm start` writes everything a script needs to reach the local stand-ins. */
export const LOCAL_STATE_FILE = '.zoho-sync/local.json';

const localStateSchema = z.object({
  connectionId: z.string(),
  endpoints: z.object({
    dynamodb: z.string(),
    sqs: z.string(),
    sns: z.string(),
    secretsManager: z.string(),
  }),
  queues: z.object({ syncQueueUrl: z.string(), deadLetterQueueUrl: z.string() }),
  tables: z.object({ state: z.string() }),
  alertTopicArn: z.string(),
  secretId: z.string(),
});

/**
 * Points this process at a running `npm start` (local mode): the stand-ins' endpoints for the
 * AWS SDK and the resource names for `loadConfig`, read from {@link LOCAL_STATE_FILE}.
 * @throws Error naming the file when it is missing or not what `npm start` writes.
 */
export const applyLocalEnvironment = async (path = LOCAL_STATE_FILE): Promise<void> => {
  let json: unknown;
  try {
    json = JSON.parse(await readFile(path, 'utf8'));
  } catch {
    throw new Error(`cannot read ${path}: start local mode first (npm start)`);
  }
  const parsed = localStateSchema.safeParse(json);
  if (!parsed.success) throw new Error(`${path} is not a local-mode state file`);
  const state = parsed.data;
  const secretPrefix = state.secretId.endsWith(state.connectionId)
    ? state.secretId.slice(0, state.secretId.length - state.connectionId.length)
    : 'zoho-sync/';
  Object.assign(process.env, standInEnvironment(state.endpoints), {
    AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: 'true',
    [ENV.tableName]: state.tables.state,
    [ENV.syncQueueUrl]: state.queues.syncQueueUrl,
    [ENV.deadLetterQueueUrl]: state.queues.deadLetterQueueUrl,
    [ENV.alertTopicArn]: state.alertTopicArn,
    [ENV.secretPrefix]: secretPrefix,
  });
};
