import { randomUUID } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import type { AwsStandInEndpoints } from '../../lib/local/aws-stand-ins';
import { DEMO_CRM_RECORDS } from '../../lib/local/demo-data';
import { type LocalMode, startLocalMode } from '../../lib/local/local-mode';
import { type LocalModeOptions, parseLocalOptions } from '../../lib/local/local-options';
import { readLocalState } from '../../lib/local/local-state';
import { channelIdFor } from '../../lib/notifications';

/** `npm start -- --connections 2`: two generated demo connections on the embedded simulator. */
const endpointsOf = (env: Record<string, string>): AwsStandInEndpoints => ({
  dynamodb: env.AWS_ENDPOINT_URL_DYNAMODB ?? '',
  sqs: env.AWS_ENDPOINT_URL_SQS ?? '',
  sns: env.AWS_ENDPOINT_URL_SNS ?? '',
  secretsManager: env.AWS_ENDPOINT_URL_SECRETS_MANAGER ?? '',
});

const isRunning = (pid: number | undefined): boolean => {
  if (pid === undefined) return false;
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
};

describe('local mode with --connections 2', () => {
  let local: LocalMode;
  let stateDir: string;

  // Starting three function processes (each loads its handlers) takes a while on a busy machine.
  beforeAll(async () => {
    stateDir = await mkdtemp(join(tmpdir(), 'zoho-sync-local-demo-'));
    const prefix = `t${randomUUID().slice(0, 8)}`;
    local = await startLocalMode({
      options: parseLocalOptions(['--connections', '2', '--port', '0']) as LocalModeOptions,
      stateDir,
      standIns: endpointsOf(inject('standInEnv')),
      resourcePrefix: prefix,
      secretPrefix: `zoho-sync-${prefix}/`,
      functionEnv: { POWERTOOLS_METRICS_DISABLED: 'true' },
    });
  }, 180_000);

  afterAll(async () => {
    await local?.stop();
    if (stateDir !== undefined) await rm(stateDir, { recursive: true, force: true });
  });

  it('generates demo and demo-2, each with a Books organization and a channel of its own', async () => {
    const state = await readLocalState(local.stateFile);
    expect(state.connections.map((connection) => connection.connectionId)).toStrictEqual([
      'demo',
      'demo-2',
    ]);
    const organizations = state.connections.map((connection) => connection.booksOrganizationId);
    expect(new Set(organizations).size).toBe(2);
    expect(state.simulatorStateUrl).toBe(`${local.simulator?.baseUrl}/__simulator/state`);
    const channels = local.simulator?.notificationChannels() ?? [];
    for (const { connectionId } of state.connections) {
      expect(channels.map((channel) => channel.channelId)).toContain(channelIdFor(connectionId));
    }
  });

  it('syncs a webhook sent to the second demo connection into its own organization', async () => {
    const second = local.state.connections[1];
    const accountId = DEMO_CRM_RECORDS.Accounts[0].id;
    const answer = await fetch(second?.webhookUrl ?? '', {
      method: 'POST',
      headers: {
        [local.state.webhookTokenHeader]: second?.webhookSecret ?? '',
        'content-type': 'application/x-www-form-urlencoded',
      },
      body: `module=Accounts&id=${accountId}`,
    });
    expect(answer.status).toBe(202);
    const contacts = () =>
      (local.simulator?.books.contacts(second?.booksOrganizationId ?? '') ?? []).filter(
        (contact) => contact.cf_crm_id === accountId,
      );
    const deadline = Date.now() + 20_000;
    while (contacts().length === 0 && Date.now() < deadline) {
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
    expect(contacts()).toHaveLength(1);
  });

  it('stops every function process it started', async () => {
    const { webhook, worker, scheduled } = local.processes;
    const pids = [webhook.pid(), worker.pid(), scheduled.pid()];
    expect(pids.every(isRunning)).toBe(true);
    await local.stop();
    expect(pids.some(isRunning)).toBe(false);
  });
});
