import { randomUUID } from 'node:crypto';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { GetSecretValueCommand, SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { type LocalMode, startLocalMode } from '../../lib/local/local-mode';
import { type LocalModeOptions, parseLocalOptions } from '../../lib/local/local-options';
import { crmAccount, startZohoSimulator, type ZohoSimulator } from '../../lib/local/zoho-simulator';
import { channelIdFor } from '../../lib/notifications';
import { runLocalCli } from '../helpers/cli';

/**
 * A webhook secret rotation through local mode (`npm start -- --zoho ... --connection ...`), with
 * the CLI a consultant would run: webhooks signed with the old secret, then with both, then with
 * the new one only, while the Notification API channel moves along; every webhook that was
 * accepted ends as a Books contact, and only the retired secret is refused.
 */
const CONNECTION_ID = 'rotating';
const ORG_ID = '70000000014';
const OLD_SECRET = 'the-old-webhook-secret-of-rotating';
const CLIENT = {
  clientId: '1000.ROTATIONTESTCLIENT',
  clientSecret: 'rotation-test-client-secret',
  refreshToken: `1000.${'c'.repeat(32)}.${'d'.repeat(32)}`,
};
/** Records brought by workflow webhooks (changed long ago: no sweep finds them). */
const WEBHOOK_IDS = {
  oldBefore: '4876876000001400001',
  oldDuring: '4876876000001400002',
  newDuring: '4876876000001400003',
  oldAfter: '4876876000001400004',
  newAfter: '4876876000001400005',
} as const;
/** Records brought by the Notification API channel (the simulator notifies on each edit). */
const NOTIFIED_IDS = {
  before: '4876876000001400011',
  during: '4876876000001400012',
  after: '4876876000001400013',
} as const;

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
    if (Date.now() > deadline) {
      throw new Error(`timed out waiting for ${what}: ${JSON.stringify(value)}`);
    }
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
};

describe('webhook secret rotation through local mode', () => {
  let simulator: ZohoSimulator;
  let local: LocalMode;
  let stateDir: string;
  let secretPrefix: string;
  let newSecret: string;
  const accepted: string[] = [];

  const send = async (crmRecordId: string, token: string): Promise<number> => {
    const response = await fetch(`${local.api.url}/webhooks/${CONNECTION_ID}`, {
      method: 'POST',
      headers: {
        'x-zoho-sync-token': token,
        'content-type': 'application/x-www-form-urlencoded',
      },
      body: `module=Accounts&id=${crmRecordId}`,
    });
    if (response.status === 202) accepted.push(crmRecordId);
    return response.status;
  };
  const contactsOf = (crmRecordId: string) =>
    simulator.books.contacts(ORG_ID).filter((contact) => contact.cf_crm_id === crmRecordId);
  const channel = () =>
    simulator
      .notificationChannels()
      .find((candidate) => candidate.channelId === channelIdFor(CONNECTION_ID));
  const cli = (...args: string[]) => runLocalCli(local.stateFile, args);
  const storedWebhookSecret = async () => {
    const env = inject('standInEnv');
    const client = new SecretsManagerClient({
      region: 'us-east-1',
      endpoint: env.AWS_ENDPOINT_URL_SECRETS_MANAGER,
      credentials: { accessKeyId: 'test', secretAccessKey: 'test' },
    });
    const result = await client.send(
      new GetSecretValueCommand({ SecretId: `${secretPrefix}${CONNECTION_ID}/webhook` }),
    );
    client.destroy();
    return JSON.parse(result.SecretString ?? '{}') as Record<string, string>;
  };

  beforeAll(async () => {
    simulator = await startZohoSimulator();
    simulator.addClient(CLIENT);
    simulator.addOrganization({ organizationId: ORG_ID });
    for (const id of Object.values(WEBHOOK_IDS)) {
      simulator.putCrmRecord('Accounts', crmAccount(id, { Account_Name: `Webhook ${id}` }));
    }
    stateDir = await mkdtemp(join(tmpdir(), 'zoho-sync-rotation-'));
    const file = join(stateDir, `${CONNECTION_ID}.json`);
    await writeFile(
      file,
      JSON.stringify({
        connectionId: CONNECTION_ID,
        dataCenter: 'com',
        accountsUrl: 'https://accounts.zoho.com',
        ...CLIENT,
        booksOrganizationId: ORG_ID,
        plan: 'professional',
        webhookSecret: OLD_SECRET,
      }),
    );
    const prefix = `t${randomUUID().slice(0, 8)}`;
    secretPrefix = `zoho-sync-${prefix}/`;
    local = await startLocalMode({
      options: parseLocalOptions([
        '--zoho',
        simulator.baseUrl,
        '--connection',
        file,
        '--port',
        '0',
      ]) as LocalModeOptions,
      stateDir,
      standIns: {
        dynamodb: inject('standInEnv').AWS_ENDPOINT_URL_DYNAMODB ?? '',
        sqs: inject('standInEnv').AWS_ENDPOINT_URL_SQS ?? '',
        sns: inject('standInEnv').AWS_ENDPOINT_URL_SNS ?? '',
        secretsManager: inject('standInEnv').AWS_ENDPOINT_URL_SECRETS_MANAGER ?? '',
      },
      resourcePrefix: prefix,
      secretPrefix,
      // No per-container cache of the webhook secret, so a retired secret is refused at once;
      // the cache's own bound (30 s) is tested with a clock in webhook-secret-store.test.ts.
      functionEnv: { POWERTOOLS_METRICS_DISABLED: 'true', ZOHO_SYNC_CACHE_TTL_SECONDS: '0' },
    });
  });

  afterAll(async () => {
    await local?.stop();
    await simulator?.stop();
    if (stateDir !== undefined) await rm(stateDir, { recursive: true, force: true });
  });

  it('provisions the two secrets apart: credentials without the webhook secret', async () => {
    expect(await storedWebhookSecret()).toStrictEqual({ webhookSecret: OLD_SECRET });
    expect(channel()?.token).toBe(OLD_SECRET);
  });

  it('accepts the old secret before the rotation', async () => {
    expect(await send(WEBHOOK_IDS.oldBefore, OLD_SECRET)).toBe(202);
    simulator.putCrmRecord('Accounts', crmAccount(NOTIFIED_IDS.before, { Account_Name: 'N0' }));
    await eventually(
      () => contactsOf(NOTIFIED_IDS.before).length,
      (n) => n === 1,
      'N0',
    );
  });

  it('rotate: prints the CRM settings, moves the channel to the new secret, accepts both', async () => {
    const rotated = await cli('webhook-secret', 'rotate', '--connection', CONNECTION_ID);
    expect(rotated.err).toBe('');
    expect(rotated.code).toBe(0);
    const header = /header X-Zoho-Sync-Token: (\S+)/.exec(rotated.out);
    newSecret = header?.[1] ?? '';
    expect(newSecret).toMatch(/^[A-Za-z0-9_-]{32}$/);
    expect(rotated.out).toContain(`${local.api.url}/webhooks/${CONNECTION_ID}`);
    expect(rotated.out).toContain(`token = ${newSecret}`);
    expect(rotated.out).toContain(`webhook-secret rotate --connection ${CONNECTION_ID} --finish`);
    expect(rotated.out).toMatch(/re-registered channel/);
    expect(await storedWebhookSecret()).toStrictEqual({
      webhookSecret: OLD_SECRET,
      nextWebhookSecret: newSecret,
    });
    expect(channel()?.token).toBe(newSecret);
    expect(channel()?.notifyUrl).toContain(`token=${encodeURIComponent(newSecret)}`);

    expect(await send(WEBHOOK_IDS.oldDuring, OLD_SECRET)).toBe(202);
    expect(await send(WEBHOOK_IDS.newDuring, newSecret)).toBe(202);
    simulator.putCrmRecord('Accounts', crmAccount(NOTIFIED_IDS.during, { Account_Name: 'N1' }));
    await eventually(
      () => contactsOf(NOTIFIED_IDS.during).length,
      (n) => n === 1,
      'N1',
    );
  });

  it('rotate again during the rotation reuses the same next secret', async () => {
    const again = await cli('webhook-secret', 'rotate', '--connection', CONNECTION_ID);
    expect(again.code).toBe(0);
    expect(again.out).toContain('already in progress');
    expect(again.out).toContain(`X-Zoho-Sync-Token: ${newSecret}`);
  });

  it('rotate --finish: refuses the old secret and accepts the new one only', async () => {
    const finished = await cli(
      'webhook-secret',
      'rotate',
      '--connection',
      CONNECTION_ID,
      '--finish',
    );
    expect(finished.err).toBe('');
    expect(finished.code).toBe(0);
    expect(await storedWebhookSecret()).toStrictEqual({ webhookSecret: newSecret });

    expect(await send(WEBHOOK_IDS.oldAfter, OLD_SECRET)).toBe(401);
    expect(await send(WEBHOOK_IDS.newAfter, newSecret)).toBe(202);
    expect(channel()?.token).toBe(newSecret);
    simulator.putCrmRecord('Accounts', crmAccount(NOTIFIED_IDS.after, { Account_Name: 'N2' }));
    await eventually(
      () => contactsOf(NOTIFIED_IDS.after).length,
      (n) => n === 1,
      'N2',
    );

    const again = await cli('webhook-secret', 'rotate', '--connection', CONNECTION_ID, '--finish');
    expect(again.code).toBe(1);
    expect(again.err).toContain('no webhook secret rotation in progress');
  });

  it('loses nothing it accepted: every accepted webhook is one Books contact', async () => {
    expect(accepted).toStrictEqual([
      WEBHOOK_IDS.oldBefore,
      WEBHOOK_IDS.oldDuring,
      WEBHOOK_IDS.newDuring,
      WEBHOOK_IDS.newAfter,
    ]);
    for (const id of accepted) {
      await eventually(
        () => contactsOf(id).length,
        (n) => n === 1,
        `contact of ${id}`,
      );
    }
    // The refused one changed nothing.
    expect(contactsOf(WEBHOOK_IDS.oldAfter)).toStrictEqual([]);
  });
});
