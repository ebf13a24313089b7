import { mkdtemp, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { inject } from 'vitest';
import type { CliIo } from '../../lib/cli/cli-io';
import { runCli } from '../../lib/cli/program';
import { CONNECTION_ID, ORG_ID, type Pipeline } from './pipeline';

export interface CliRun {
  readonly code: number;
  readonly out: string;
  readonly err: string;
}

/**
 * Writes a local-mode state file (the shape `npm start` writes, with the `connections` list)
 * for a test pipeline, so the CLI's `--local` reaches the test's own stand-in resources.
 */
export const writeLocalState = async (
  pipeline: Pipeline,
  options: { publicBaseUrl?: string; topLevelOnly?: boolean } = {},
): Promise<string> => {
  const env = inject('standInEnv');
  const dir = await mkdtemp(join(tmpdir(), 'zoho-sync-cli-'));
  const stateFile = join(dir, 'local.json');
  const base = options.publicBaseUrl ?? 'http://127.0.0.1:9';
  const connection = {
    connectionId: CONNECTION_ID,
    webhookUrl: `${base}/webhooks/${CONNECTION_ID}`,
    notificationUrl: `${base}/notifications/${CONNECTION_ID}`,
    secretId: `${pipeline.env.config.secretPrefix}${CONNECTION_ID}`,
    booksOrganizationId: ORG_ID,
  };
  const state = {
    ...(options.topLevelOnly === true ? connection : { connections: [connection] }),
    endpoints: {
      dynamodb: env.AWS_ENDPOINT_URL_DYNAMODB,
      sqs: env.AWS_ENDPOINT_URL_SQS,
      sns: env.AWS_ENDPOINT_URL_SNS,
      secretsManager: env.AWS_ENDPOINT_URL_SECRETS_MANAGER,
    },
    queues: {
      syncQueueUrl: pipeline.env.resources.syncQueueUrl,
      deadLetterQueueUrl: pipeline.env.resources.deadLetterQueueUrl,
    },
    tables: { state: pipeline.env.resources.tableName },
    alertTopicArn: pipeline.env.resources.alertTopicArn,
  };
  await writeFile(stateFile, JSON.stringify(state, null, 2));
  return stateFile;
};

/** Runs the real CLI in-process against local mode and captures what it printed. */
export const runLocalCli = async (
  stateFile: string,
  args: readonly string[],
  options: { isTTY?: boolean } = {},
): Promise<CliRun> => {
  let out = '';
  let err = '';
  const io: CliIo = {
    out: (text) => {
      out += `${text}\n`;
    },
    err: (text) => {
      err += `${text}\n`;
    },
    isTTY: options.isTTY ?? false,
  };
  const code = await runCli(['--local', '--state-file', stateFile, ...args], io);
  return { code, out, err };
};
