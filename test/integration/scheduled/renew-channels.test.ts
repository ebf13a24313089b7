import type { ScheduledEvent } from 'aws-lambda';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ConnectionSecret } from '../../../lib/config';
import { startZohoSimulator, type ZohoSimulator } from '../../../lib/local/zoho-simulator';
import {
  channelIdFor,
  createNotificationChannelStore,
  createRenewChannelsDeps,
  DEFAULT_CHANNEL_LIFETIME_MS,
  NOTIFICATION_EVENTS,
  type NotificationChannelStore,
  renewChannels,
} from '../../../lib/notifications';
import { METRICS, type MetricsRecorder } from '../../../lib/observability';
import { lambdaContext } from '../../helpers/events';
import { createTestEnvironment, type TestEnvironment } from '../../helpers/local-environment';
import { registerConnection } from '../../helpers/token-fixtures';

const ORG_ID = '60012345001';
const PUBLIC_BASE_URL = 'https://hooks.example.test';
const DAY = 24 * 3_600_000;

type RenewHandler = typeof import('../../../functions/renew-channels')['handler'];

const scheduledEvent = (): ScheduledEvent => ({
  version: '0',
  id: 'renew-channels-test',
  'detail-type': 'Scheduled Event',
  source: 'aws.events',
  account: '000000000000',
  time: new Date().toISOString(),
  region: 'us-east-1',
  resources: ['arn:aws:events:us-east-1:000000000000:rule/renew-channels'],
  detail: {},
});

describe('renew-channels (scheduled)', () => {
  let env: TestEnvironment;
  let zoho: ZohoSimulator;
  let secret: ConnectionSecret;
  let handler: RenewHandler;
  let channels: NotificationChannelStore;
  const run = () => handler(scheduledEvent(), lambdaContext('renew-channels'));

  /** Notification API calls the simulator received since the last resetStats(). */
  const watchCalls = () =>
    zoho
      .stats()
      .requests.filter((request) => request.path === '/crm/v8/actions/watch')
      .map((request) => `${request.method} ${request.status}`);

  beforeAll(async () => {
    env = await createTestEnvironment({
      extraEnv: { ZOHO_SYNC_PUBLIC_BASE_URL: PUBLIC_BASE_URL },
    });
    // The simulator keeps real time: channel_expiry is checked against its clock.
    zoho = await startZohoSimulator();
    zoho.addOrganization({ organizationId: ORG_ID });
    secret = registerConnection(zoho, { organizationId: ORG_ID });
    await env.putConnection('acme', secret);
    channels = createNotificationChannelStore({
      dynamodb: env.clients.dynamodb,
      tableName: env.resources.tableName,
    });
    handler = (await import('../../../functions/renew-channels')).handler;
  });

  afterAll(async () => {
    await zoho?.stop();
  });

  it('enables a channel for every synced module, calling the notifications route, for a week', async () => {
    const before = Date.now();

    const summary = await run();

    const after = Date.now();
    const channelId = channelIdFor('acme');
    expect(summary).toMatchObject({
      renewed: 1,
      fresh: 0,
      failed: 0,
      results: [{ connectionId: 'acme', status: 'renewed', reason: 'missing', channelId }],
    });
    const [channel, ...others] = zoho.notificationChannels();
    expect(others).toStrictEqual([]);
    expect(channel).toMatchObject({
      channelId,
      events: ['Accounts.all', 'Contacts.all', 'Products.all', 'Deals.all', 'Sales_Orders.all'],
      notifyUrl: `${PUBLIC_BASE_URL}/notifications/acme?token=${encodeURIComponent(secret.webhookSecret ?? '')}`,
      token: secret.webhookSecret,
      notifyOnRelatedAction: false,
    });
    // Zoho keeps whole seconds; a week less ten minutes from the run.
    const lowest = Math.floor((before + DEFAULT_CHANNEL_LIFETIME_MS) / 1000) * 1000;
    expect(channel?.expiresAtMs).toBeGreaterThanOrEqual(lowest);
    expect(channel?.expiresAtMs).toBeLessThanOrEqual(after + DEFAULT_CHANNEL_LIFETIME_MS);
    expect(channel?.expiresAtMs).toBeGreaterThan(after + 6.9 * DAY);
    expect(await channels.get('acme')).toMatchObject({
      channelId,
      expiresAtMs: channel?.expiresAtMs,
    });
    expect(NOTIFICATION_EVENTS).toStrictEqual(channel?.events);
  });

  it('leaves a fresh channel alone after checking that Zoho still has it', async () => {
    const stored = await channels.get('acme');
    zoho.resetStats();

    const summary = await run();

    expect(summary.results).toStrictEqual([
      {
        connectionId: 'acme',
        status: 'fresh',
        channelId: channelIdFor('acme'),
        expiresAtMs: stored?.expiresAtMs,
      },
    ]);
    expect(watchCalls()).toStrictEqual(['GET 200']);
  });

  it('renews a channel with less than two days left', async () => {
    const stored = await channels.get('acme');
    if (stored === undefined) throw new Error('the first test stores the channel');
    await channels.put('acme', { ...stored, expiresAtMs: Date.now() + DAY });
    zoho.resetStats();

    const summary = await run();

    expect(summary.results).toMatchObject([
      { connectionId: 'acme', status: 'renewed', reason: 'expiring' },
    ]);
    expect(watchCalls()).toStrictEqual(['POST 201']);
    expect((await channels.get('acme'))?.expiresAtMs).toBeGreaterThan(Date.now() + 6.9 * DAY);
    expect(zoho.notificationChannels()).toHaveLength(1);
  });

  it('enables the channel again when Zoho no longer lists it', async () => {
    const token = await accessToken(zoho, secret);
    const deleted = await fetch(
      `${zoho.baseUrl}/crm/v8/actions/watch?channel_ids=${channelIdFor('acme')}`,
      { method: 'DELETE', headers: { Authorization: `Zoho-oauthtoken ${token}` } },
    );
    expect(deleted.status).toBe(200);
    expect(zoho.notificationChannels()).toStrictEqual([]);

    const summary = await run();

    expect(summary.results).toMatchObject([
      { connectionId: 'acme', status: 'renewed', reason: 'not-at-zoho' },
    ]);
    expect(zoho.notificationChannels().map((channel) => channel.channelId)).toStrictEqual([
      channelIdFor('acme'),
    ]);
  });

  it('keeps going past a failing connection, counting and reporting the failure', async () => {
    // Sorted first, so the good connections come after the failure. Its client is unknown to
    // Zoho: the token refresh answers invalid_client.
    await env.putConnection('aaa-broken', {
      ...registerConnection(zoho, { organizationId: ORG_ID }),
      clientId: '1000.NOT-REGISTERED',
    });
    await env.putConnection('beta', registerConnection(zoho, { organizationId: ORG_ID }));
    const counted: Array<{ name: string; dimensions: unknown }> = [];
    const metrics: MetricsRecorder = {
      count: (name, dimensions) => counted.push({ name, dimensions }),
    };

    const summary = await renewChannels(
      createRenewChannelsDeps({ config: env.config, clients: env.clients, metrics }),
    );

    expect(summary.results.map((result) => [result.connectionId, result.status])).toStrictEqual([
      ['aaa-broken', 'failed'],
      ['acme', 'fresh'],
      ['beta', 'renewed'],
    ]);
    expect(summary.results[0]).toMatchObject({
      entryId: 'accounts-invalid-client',
      action: 'fail-alert',
    });
    expect(summary).toMatchObject({ renewed: 1, fresh: 1, failed: 1 });
    expect(counted).toStrictEqual([
      { name: METRICS.channelRenewalFailed, dimensions: { connection: 'aaa-broken' } },
    ]);
    expect(
      zoho
        .notificationChannels()
        .map((channel) => channel.channelId)
        .sort(),
    ).toStrictEqual([channelIdFor('acme'), channelIdFor('beta')].sort());
  });
});

/** A CRM access token for the connection's client, straight from the simulator. */
const accessToken = async (zoho: ZohoSimulator, secret: ConnectionSecret): Promise<string> => {
  const response = await fetch(`${zoho.baseUrl}/oauth/v2/token`, {
    method: 'POST',
    body: new URLSearchParams({
      grant_type: 'refresh_token',
      client_id: secret.clientId,
      client_secret: secret.clientSecret,
      refresh_token: secret.refreshToken,
    }),
  });
  const body = (await response.json()) as { access_token?: string };
  if (body.access_token === undefined) throw new Error('the simulator issued no token');
  return body.access_token;
};
