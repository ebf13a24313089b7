import { randomUUID } from 'node:crypto';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import type { ConnectionSecret } from '../../lib/config';
import type { AwsStandInEndpoints } from '../../lib/local/aws-stand-ins';
import { applyLocalEnvironment } from '../../lib/local/local-cli-environment';
import { type LocalMode, startLocalMode } from '../../lib/local/local-mode';
import { type LocalModeOptions, parseLocalOptions } from '../../lib/local/local-options';
import { readLocalState } from '../../lib/local/local-state';
import { crmAccount, startZohoSimulator, type ZohoSimulator } from '../../lib/local/zoho-simulator';
import { channelIdFor } from '../../lib/notifications';

/**
 * Local mode as `npm start -- --zoho <url> --connection alpha.json --connection beta.json` runs
 * it, on the shared stand-ins and a simulator this file owns: two connections, each with a Books
 * organization of its own, the worker and the scheduled functions in child processes.
 */
const CONNECTIONS = [
  {
    connectionId: 'alpha',
    organizationId: '70000000001',
    refreshToken: `1000.${'a'.repeat(32)}.${'1'.repeat(32)}`,
  },
  {
    connectionId: 'beta',
    organizationId: '70000000002',
    refreshToken: `1000.${'b'.repeat(32)}.${'2'.repeat(32)}`,
  },
] as const;
const CLIENT = {
  clientId: '1000.LOCALMODETESTCLIENT',
  clientSecret: 'local-mode-test-client-secret',
};

/** Changed a minute ago with no event at all: only the sweep (24 h look-back) can find it. */
const SWEPT_ACCOUNT_ID = '4876876000000700001';
/** Changed long ago (beyond the look-back) with no event: only a webhook brings it. */
const WEBHOOK_ACCOUNT_IDS = ['4876876000000700002', '4876876000000700003'] as const;
/** Changed after start: the Notification API channels bring it. */
const NOTIFIED_ACCOUNT_ID = '4876876000000700004';
/** Sent while the worker process is dead. */
const WHILE_DEAD_ACCOUNT_ID = '4876876000000700005';

const isoSecondsAgo = (seconds: number) =>
  `${new Date(Date.now() - seconds * 1000).toISOString().slice(0, 19)}+00:00`;

const eventually = async <T>(
  read: () => T | Promise<T>,
  done: (value: T) => boolean,
  what: string,
  timeoutMs = 20_000,
): Promise<T> => {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await read();
    if (done(value)) return value;
    if (Date.now() > deadline)
      throw new Error(`timed out waiting for ${what}: ${JSON.stringify(value)}`);
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
};

const endpointsOf = (env: Record<string, string>): AwsStandInEndpoints => ({
  dynamodb: env.AWS_ENDPOINT_URL_DYNAMODB ?? '',
  sqs: env.AWS_ENDPOINT_URL_SQS ?? '',
  sns: env.AWS_ENDPOINT_URL_SNS ?? '',
  secretsManager: env.AWS_ENDPOINT_URL_SECRETS_MANAGER ?? '',
});

describe('local mode with two --connection files', () => {
  let simulator: ZohoSimulator;
  let local: LocalMode;
  let stateDir: string;

  const contactsOf = (organizationId: string, crmRecordId: string) =>
    simulator.books.contacts(organizationId).filter((contact) => contact.cf_crm_id === crmRecordId);

  const sendWebhook = async (index: number, crmRecordId: string) => {
    const connection = local.state.connections[index];
    if (connection === undefined) throw new Error(`no connection ${index}`);
    return fetch(connection.webhookUrl, {
      method: 'POST',
      headers: {
        [local.state.webhookTokenHeader]: connection.webhookSecret,
        'content-type': 'application/x-www-form-urlencoded',
      },
      body: `module=Accounts&id=${crmRecordId}`,
    });
  };

  // Starting three function processes (each loads its handlers) takes a while on a busy machine.
  beforeAll(async () => {
    simulator = await startZohoSimulator();
    for (const connection of CONNECTIONS) {
      simulator.addClient({ ...CLIENT, refreshToken: connection.refreshToken });
      simulator.addOrganization({ organizationId: connection.organizationId });
    }
    // Before local mode starts, so no channel exists yet to announce these.
    simulator.putCrmRecord(
      'Accounts',
      crmAccount(SWEPT_ACCOUNT_ID, {
        Account_Name: 'Swept Traders',
        Modified_Time: isoSecondsAgo(60),
      }),
    );
    for (const id of [...WEBHOOK_ACCOUNT_IDS, WHILE_DEAD_ACCOUNT_ID]) {
      simulator.putCrmRecord('Accounts', crmAccount(id, { Account_Name: `Webhook ${id}` }));
    }

    stateDir = await mkdtemp(join(tmpdir(), 'zoho-sync-local-mode-'));
    const files: string[] = [];
    for (const connection of CONNECTIONS) {
      const secret: ConnectionSecret & { connectionId: string } = {
        connectionId: connection.connectionId,
        dataCenter: 'com',
        // --zoho replaces it, as for a connection file written for the real Zoho.
        accountsUrl: 'https://accounts.zoho.com',
        ...CLIENT,
        refreshToken: connection.refreshToken,
        booksOrganizationId: connection.organizationId,
        plan: 'professional',
        webhookSecret: `webhook-secret-of-${connection.connectionId}-0001`,
      };
      const path = join(stateDir, `${connection.connectionId}.json`);
      await writeFile(path, JSON.stringify(secret));
      files.push(path);
    }
    const options = parseLocalOptions([
      '--zoho',
      simulator.baseUrl,
      ...files.flatMap((file) => ['--connection', file]),
      '--port',
      '0',
      '--sweep-every',
      '1',
    ]) as LocalModeOptions;
    const prefix = `t${randomUUID().slice(0, 8)}`;
    local = await startLocalMode({
      options,
      stateDir,
      standIns: endpointsOf(inject('standInEnv')),
      resourcePrefix: prefix,
      secretPrefix: `zoho-sync-${prefix}/`,
      // The function processes print to this output; keep their metric lines out of it.
      functionEnv: { POWERTOOLS_METRICS_DISABLED: 'true' },
    });
    console.info(`local mode started in ${local.startedInMs} ms`);
  }, 180_000);

  afterAll(async () => {
    await local?.stop();
    await simulator?.stop();
    if (stateDir !== undefined) await rm(stateDir, { recursive: true, force: true });
  });

  it('lists both connections in local.json, keeping the first one in the top-level keys', async () => {
    const state = await readLocalState(local.stateFile);
    expect(state.connections.map((connection) => connection.connectionId)).toStrictEqual([
      'alpha',
      'beta',
    ]);
    const [alpha, beta] = state.connections;
    expect(alpha).toMatchObject({
      webhookUrl: `${local.api.url}/webhooks/alpha`,
      notificationUrl: `${local.api.url}/notifications/alpha`,
      booksOrganizationId: CONNECTIONS[0].organizationId,
    });
    expect(beta).toMatchObject({
      webhookUrl: `${local.api.url}/webhooks/beta`,
      notificationUrl: `${local.api.url}/notifications/beta`,
      booksOrganizationId: CONNECTIONS[1].organizationId,
    });
    expect(state).toMatchObject({
      connectionId: 'alpha',
      webhookUrl: alpha?.webhookUrl,
      notificationUrl: alpha?.notificationUrl,
      webhookSecret: alpha?.webhookSecret,
      secretId: alpha?.secretId,
      booksOrganizationId: alpha?.booksOrganizationId,
      zohoBaseUrl: simulator.baseUrl,
    });
    // The CLI's --local reader still understands the file.
    await expect(applyLocalEnvironment(local.stateFile)).resolves.toMatchObject({
      connections: [{ connectionId: 'alpha' }, { connectionId: 'beta' }],
      publicBaseUrl: local.api.url,
    });
  });

  it('enables a Notification API channel for each connection, calling the local API', () => {
    const channels = simulator.notificationChannels();
    for (const { connectionId } of CONNECTIONS) {
      const channel = channels.find(
        (candidate) => candidate.channelId === channelIdFor(connectionId),
      );
      expect(channel?.notifyUrl.startsWith(`${local.api.url}/notifications/${connectionId}?`)).toBe(
        true,
      );
      expect(channel?.events).toContain('Accounts.all');
    }
  });

  it('syncs a webhook of each connection into that connection’s Books organization', async () => {
    const answers = await Promise.all([
      sendWebhook(0, WEBHOOK_ACCOUNT_IDS[0]),
      sendWebhook(1, WEBHOOK_ACCOUNT_IDS[1]),
    ]);
    expect(answers.map((answer) => answer.status)).toStrictEqual([202, 202]);
    const [alphaOrg, betaOrg] = [CONNECTIONS[0].organizationId, CONNECTIONS[1].organizationId];
    await eventually(
      () => contactsOf(alphaOrg, WEBHOOK_ACCOUNT_IDS[0]).length,
      (n) => n === 1,
      'alpha',
    );
    await eventually(
      () => contactsOf(betaOrg, WEBHOOK_ACCOUNT_IDS[1]).length,
      (n) => n === 1,
      'beta',
    );
    // Each webhook reached only its own connection's organization.
    expect(contactsOf(betaOrg, WEBHOOK_ACCOUNT_IDS[0])).toHaveLength(0);
    expect(contactsOf(alphaOrg, WEBHOOK_ACCOUNT_IDS[1])).toHaveLength(0);
  });

  it('syncs a CRM edit to both organizations through their channels, with no webhook', async () => {
    simulator.putCrmRecord(
      'Accounts',
      crmAccount(NOTIFIED_ACCOUNT_ID, { Account_Name: 'Notified Ltd' }),
    );
    for (const { organizationId } of CONNECTIONS) {
      const [contact] = await eventually(
        () => contactsOf(organizationId, NOTIFIED_ACCOUNT_ID),
        (contacts) => contacts.length === 1,
        `the notified account in ${organizationId}`,
      );
      expect(contact?.contact_name).toBe('Notified Ltd');
    }
  });

  it('runs the reconcile sweep, which heals a change no event announced', async () => {
    for (const { organizationId } of CONNECTIONS) {
      await eventually(
        () => contactsOf(organizationId, SWEPT_ACCOUNT_ID).length,
        (n) => n === 1,
        `the swept account in ${organizationId}`,
      );
    }
  });

  it('runs the sweep again every --sweep-every seconds, never faster', async () => {
    // Each run lists every module of both connections; count the Contacts list calls.
    const since = Date.now();
    const listCalls = () =>
      simulator
        .stats()
        .requests.filter(
          (request) =>
            request.method === 'GET' &&
            request.path === '/crm/v8/Contacts' &&
            request.atMs >= since,
        );
    const calls = await eventually(listCalls, (found) => found.length >= 6, 'three sweep runs');
    const first = calls[0]?.atMs ?? 0;
    const sixth = calls[5]?.atMs ?? 0;
    // Three runs are at least two intervals (2 x 1 s) apart from first to last.
    expect(sixth - first).toBeGreaterThanOrEqual(1_900);
  });

  it('runs each function in a process of its own, restarts the worker when it dies, and the queue still drains', async () => {
    const { webhook, worker, scheduled } = local.processes;
    const killedPid = worker.pid();
    const pids = [process.pid, webhook.pid(), killedPid, scheduled.pid()];
    expect(new Set(pids).size).toBe(4);
    expect(pids.every((pid) => pid !== undefined)).toBe(true);
    process.kill(killedPid ?? 0, 'SIGKILL');
    // A long poll the dead process left open may still be handed a message, which then comes
    // back only after its visibility timeout, as when Lambda loses a container. Let it lapse (1 s).
    await new Promise((resolve) => setTimeout(resolve, 1_500));

    // The webhook function answers while no worker runs: it has an event loop of its own.
    const answer = await sendWebhook(1, WHILE_DEAD_ACCOUNT_ID);
    expect(answer.status).toBe(202);

    const restartedPid = await worker.readyAfter(killedPid);
    expect(restartedPid).not.toBe(killedPid);
    expect(worker.restarts()).toBeGreaterThanOrEqual(1);
    await eventually(
      () => contactsOf(CONNECTIONS[1].organizationId, WHILE_DEAD_ACCOUNT_ID).length,
      (n) => n === 1,
      'the account sent while the worker was dead',
    );
  });
});
