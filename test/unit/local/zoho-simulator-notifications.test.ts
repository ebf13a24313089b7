import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { startZohoSimulator, type ZohoSimulator } from '../../../lib/local/zoho-simulator';
import { createHttpTestServer, type HttpTestServer } from '../../helpers/http-test-server';

// 2026-01-05T10:00:00Z
const T0 = Date.UTC(2026, 0, 5, 10, 0, 0);
const HOUR = 3_600_000;
const DAY = 24 * HOUR;
const ACCOUNT_ID = '4150868000000100001';
const CONTACT_ID = '4150868000000100101';

const iso = (ms: number) => `${new Date(ms).toISOString().slice(0, 19)}+00:00`;

interface Harness {
  readonly zoho: ZohoSimulator;
  readonly token: string;
  /** Moves the simulator clock. */
  advance(ms: number): void;
  /** Calls the CRM API with the harness's token. */
  crm(
    method: string,
    path: string,
    options?: { body?: unknown; headers?: Record<string, string>; token?: string },
  ): Promise<Response>;
}

describe('zoho-simulator notifications', () => {
  let receiver: HttpTestServer;
  const running: ZohoSimulator[] = [];

  beforeAll(async () => {
    receiver = await createHttpTestServer();
  });
  afterEach(async () => {
    receiver.reset();
    await Promise.all(running.splice(0).map((zoho) => zoho.stop()));
  });
  afterAll(async () => {
    await receiver.close();
  });

  /** A simulator of its own per test: channels are global to a simulator. */
  const start = async (
    options: { scope?: string; callbackTimeoutMs?: number } = {},
  ): Promise<Harness> => {
    let clock = T0;
    const zoho = await startZohoSimulator({
      now: () => clock,
      ...(options.callbackTimeoutMs === undefined
        ? {}
        : { callbackTimeoutMs: options.callbackTimeoutMs }),
    });
    running.push(zoho);
    zoho.addClient({
      clientId: '1000.WATCHER',
      clientSecret: 'watcher-secret',
      refreshToken: '1000.refresh.watcher',
      ...(options.scope === undefined ? {} : { scope: options.scope }),
    });
    const tokenResponse = await fetch(`${zoho.baseUrl}/oauth/v2/token`, {
      method: 'POST',
      body: new URLSearchParams({
        grant_type: 'refresh_token',
        client_id: '1000.WATCHER',
        client_secret: 'watcher-secret',
        refresh_token: '1000.refresh.watcher',
      }),
    });
    const token = ((await tokenResponse.json()) as { access_token: string }).access_token;
    return {
      zoho,
      token,
      advance: (ms) => {
        clock += ms;
      },
      crm: (method, path, callOptions = {}) =>
        fetch(`${zoho.baseUrl}/crm/v8${path}`, {
          method,
          headers: {
            Authorization: `Zoho-oauthtoken ${callOptions.token ?? token}`,
            ...(callOptions.body === undefined ? {} : { 'Content-Type': 'application/json' }),
            ...callOptions.headers,
          },
          ...(callOptions.body === undefined ? {} : { body: JSON.stringify(callOptions.body) }),
        }),
    };
  };

  const jsonOf = async (response: Response) =>
    (await response.json()) as Record<string, unknown> & { watch: Record<string, unknown>[] };

  const watchItem = (overrides: Record<string, unknown> = {}) => ({
    channel_id: 1000000068001,
    events: ['Accounts.all', 'Contacts.edit'],
    notify_url: `${receiver.url}/notifications/acme?token=s3cret`,
    token: 'verify-me',
    channel_expiry: iso(T0 + 2 * DAY),
    ...overrides,
  });

  describe('enable (POST /actions/watch)', () => {
    it('subscribes and answers 201 with one event per watched module', async () => {
      const { crm, zoho } = await start();

      const response = await crm('POST', '/actions/watch', { body: { watch: [watchItem()] } });

      expect(response.status).toBe(201);
      expect(await response.json()).toStrictEqual({
        watch: [
          {
            status: 'success',
            code: 'SUCCESS',
            message: 'Successfully subscribed for actions-watch of the given module',
            details: {
              events: [
                {
                  channel_expiry: iso(T0 + 2 * DAY),
                  resource_uri: `${zoho.baseUrl}/crm/v8/Accounts`,
                  resource_id: expect.stringMatching(/^\d+$/),
                  resource_name: 'Accounts',
                  channel_id: '1000000068001',
                },
                {
                  channel_expiry: iso(T0 + 2 * DAY),
                  resource_uri: `${zoho.baseUrl}/crm/v8/Contacts`,
                  resource_id: expect.stringMatching(/^\d+$/),
                  resource_name: 'Contacts',
                  channel_id: '1000000068001',
                },
              ],
            },
          },
        ],
      });
      expect(zoho.notificationChannels()).toStrictEqual([
        {
          channelId: '1000000068001',
          events: ['Accounts.all', 'Contacts.edit'],
          notifyUrl: `${receiver.url}/notifications/acme?token=s3cret`,
          token: 'verify-me',
          expiresAtMs: T0 + 2 * DAY,
          returnAffectedFieldValues: false,
          notifyOnRelatedAction: true,
        },
      ]);
    });

    it.each([
      ['omitted', undefined],
      ['more than a week ahead', iso(T0 + 8 * DAY)],
      ['in the past', iso(T0 - HOUR)],
    ])('gives the channel one hour when channel_expiry is %s', async (_case, channelExpiry) => {
      const { crm, zoho } = await start();
      const item = watchItem({ channel_expiry: channelExpiry });

      const response = await crm('POST', '/actions/watch', { body: { watch: [item] } });

      expect(response.status).toBe(201);
      expect(zoho.notificationChannels()[0]?.expiresAtMs).toBe(T0 + HOUR);
    });

    it('accepts exactly one week ahead', async () => {
      const { crm, zoho } = await start();

      await crm('POST', '/actions/watch', {
        body: { watch: [watchItem({ channel_expiry: iso(T0 + 7 * DAY) })] },
      });

      expect(zoho.notificationChannels()[0]?.expiresAtMs).toBe(T0 + 7 * DAY);
    });

    it('answers 202 with per-item errors and applies the good items', async () => {
      const { crm, zoho } = await start();

      const response = await crm('POST', '/actions/watch', {
        body: {
          watch: [
            watchItem({ channel_id: undefined }),
            watchItem({ channel_id: 2, events: undefined }),
            watchItem({ channel_id: 3, notify_url: undefined }),
            watchItem({ channel_id: 4, token: 'x'.repeat(51) }),
            watchItem({ channel_id: 5, events: ['Widgets.all'] }),
            watchItem({ channel_id: 6 }),
          ],
        },
      });

      expect(response.status).toBe(202);
      const items = (await jsonOf(response)).watch;
      expect(items.slice(0, 5)).toStrictEqual([
        {
          code: 'MANDATORY_NOT_FOUND',
          details: { api_name: 'channel_id', json_path: '$.watch[0].channel_id' },
          message: 'required field not found',
          status: 'error',
        },
        {
          code: 'MANDATORY_NOT_FOUND',
          details: { api_name: 'events', json_path: '$.watch[1].events' },
          message: 'required field not found',
          status: 'error',
        },
        {
          code: 'MANDATORY_NOT_FOUND',
          details: { api_name: 'notify_url', json_path: '$.watch[2].notify_url' },
          message: 'required field not found',
          status: 'error',
        },
        {
          code: 'INVALID_DATA',
          details: { api_name: 'token', json_path: '$.watch[3].token', maximum_length: 50 },
          message: 'invalid data',
          status: 'error',
        },
        {
          code: 'INVALID_DATA',
          details: { api_name: 'events', json_path: '$.watch[4].events' },
          message: 'invalid data',
          status: 'error',
        },
      ]);
      expect(items[5]).toMatchObject({ status: 'success', code: 'SUCCESS' });
      expect(zoho.notificationChannels().map((channel) => channel.channelId)).toStrictEqual(['6']);
    });

    it('answers 400 to a body without a watch list', async () => {
      const { crm } = await start();

      const response = await crm('POST', '/actions/watch', { body: { data: [] } });

      expect(response.status).toBe(400);
      expect(await response.json()).toStrictEqual({
        code: 'MANDATORY_NOT_FOUND',
        details: { api_name: 'watch', json_path: '$.watch' },
        message: 'required field not found',
        status: 'error',
      });
    });

    it('replaces the channel when the same channel_id is enabled again', async () => {
      const { crm, zoho } = await start();
      await crm('POST', '/actions/watch', { body: { watch: [watchItem()] } });

      await crm('POST', '/actions/watch', {
        body: {
          watch: [watchItem({ events: ['Deals.all'], channel_expiry: iso(T0 + 5 * DAY) })],
        },
      });

      expect(zoho.notificationChannels()).toMatchObject([
        { channelId: '1000000068001', events: ['Deals.all'], expiresAtMs: T0 + 5 * DAY },
      ]);
    });

    it('needs the ZohoCRM.notifications scope when scopes are enforced', async () => {
      const readOnly = await start({ scope: 'ZohoCRM.modules.ALL' });
      const denied = await readOnly.crm('POST', '/actions/watch', {
        body: { watch: [watchItem()] },
      });
      const allowed = await start({ scope: 'ZohoCRM.modules.ALL,ZohoCRM.notifications.ALL' });
      const granted = await allowed.crm('POST', '/actions/watch', {
        body: { watch: [watchItem()] },
      });

      expect(denied.status).toBe(401);
      expect((await jsonOf(denied)).code).toBe('OAUTH_SCOPE_MISMATCH');
      expect(granted.status).toBe(201);
    });
  });

  describe('list, update and delete', () => {
    it('lists one item per channel and module, filters, and answers 204 when none', async () => {
      const { crm } = await start();
      const none = await crm('GET', '/actions/watch');
      await crm('POST', '/actions/watch', { body: { watch: [watchItem()] } });

      const all = await jsonOf(await crm('GET', '/actions/watch'));
      const contacts = await jsonOf(
        await crm('GET', '/actions/watch?channel_id=1000000068001&module=Contacts'),
      );
      const otherChannel = await crm('GET', '/actions/watch?channel_id=42');

      expect(none.status).toBe(204);
      expect(all.watch.map((item) => [item.resource_name, item.events])).toStrictEqual([
        ['Accounts', ['Accounts.all']],
        ['Contacts', ['Contacts.edit']],
      ]);
      expect(all.info).toStrictEqual({ per_page: 200, page: 1, count: 2, more_records: false });
      expect(contacts.watch).toStrictEqual([
        {
          channel_id: '1000000068001',
          resource_name: 'Contacts',
          resource_uri: expect.stringMatching(/\/crm\/v8\/Contacts$/),
          resource_id: expect.stringMatching(/^\d+$/),
          events: ['Contacts.edit'],
          channel_expiry: iso(T0 + 2 * DAY),
          notify_url: `${receiver.url}/notifications/acme?token=s3cret`,
          token: 'verify-me',
          notify_on_related_action: true,
          return_affected_field_values: false,
        },
      ]);
      expect(otherChannel.status).toBe(204);
    });

    it('forgets a channel once it has expired', async () => {
      const { crm, zoho, advance } = await start();
      await crm('POST', '/actions/watch', { body: { watch: [watchItem()] } });

      advance(2 * DAY - 1);
      const stillThere = zoho.notificationChannels().length;
      advance(1);

      expect(stillThere).toBe(1);
      expect(zoho.notificationChannels()).toStrictEqual([]);
    });

    it('PATCH changes the expiry and keeps the rest; PUT replaces the whole subscription', async () => {
      const { crm, zoho } = await start();
      await crm('POST', '/actions/watch', { body: { watch: [watchItem()] } });

      const patched = await crm('PATCH', '/actions/watch', {
        body: { watch: [{ channel_id: 1000000068001, channel_expiry: iso(T0 + 6 * DAY) }] },
      });
      const afterPatch = zoho.notificationChannels()[0];
      const put = await crm('PUT', '/actions/watch', {
        body: {
          watch: [
            {
              channel_id: '1000000068001',
              events: ['Products.create'],
              notify_url: `${receiver.url}/elsewhere`,
            },
          ],
        },
      });

      expect(patched.status).toBe(200);
      expect((await jsonOf(patched)).watch[0]).toMatchObject({
        status: 'success',
        message: 'Successfully updated the subscribe details',
      });
      expect(afterPatch).toMatchObject({
        events: ['Accounts.all', 'Contacts.edit'],
        token: 'verify-me',
        expiresAtMs: T0 + 6 * DAY,
      });
      expect(put.status).toBe(200);
      expect(zoho.notificationChannels()).toStrictEqual([
        {
          channelId: '1000000068001',
          events: ['Products.create'],
          notifyUrl: `${receiver.url}/elsewhere`,
          expiresAtMs: T0 + HOUR,
          returnAffectedFieldValues: false,
          notifyOnRelatedAction: true,
        },
      ]);
    });

    it('PATCH with _delete_events removes those events', async () => {
      const { crm, zoho } = await start();
      await crm('POST', '/actions/watch', { body: { watch: [watchItem()] } });

      const response = await crm('PATCH', '/actions/watch', {
        body: {
          watch: [{ channel_id: 1000000068001, events: ['Contacts.edit'], _delete_events: true }],
        },
      });

      expect((await jsonOf(response)).watch[0]).toMatchObject({
        message: 'Successfully removed the subscribe details',
      });
      expect(zoho.notificationChannels()[0]?.events).toStrictEqual(['Accounts.all']);
    });

    it('answers NOT_SUBSCRIBED (202) to an update of an unknown channel', async () => {
      const { crm } = await start();

      const response = await crm('PATCH', '/actions/watch', {
        body: { watch: [{ channel_id: 77, channel_expiry: iso(T0 + DAY) }] },
      });

      expect(response.status).toBe(202);
      expect((await jsonOf(response)).watch[0]).toMatchObject({
        code: 'NOT_SUBSCRIBED',
        status: 'error',
      });
    });

    it('deletes by channel_ids and needs the parameter', async () => {
      const { crm, zoho } = await start();
      await crm('POST', '/actions/watch', { body: { watch: [watchItem()] } });

      const missing = await crm('DELETE', '/actions/watch');
      const deleted = await crm('DELETE', '/actions/watch?channel_ids=1000000068001');

      expect(missing.status).toBe(400);
      expect((await jsonOf(missing)).code).toBe('REQUIRED_PARAM_MISSING');
      expect(deleted.status).toBe(200);
      expect((await jsonOf(deleted)).watch).toStrictEqual([
        {
          status: 'success',
          code: 'SUCCESS',
          message: 'Successfully un-subscribed from actions-watch',
          details: { channel_id: '1000000068001' },
        },
      ]);
      expect(zoho.notificationChannels()).toStrictEqual([]);
    });
  });

  describe('callbacks', () => {
    const callbacks = () =>
      receiver.requests.map((request) => ({
        path: request.path,
        query: Object.fromEntries(request.query),
        contentType: request.headers['content-type'],
        body: JSON.parse(request.body) as Record<string, unknown>,
      }));

    it('POSTs the documented JSON to notify_url for an insert, an update and a delete', async () => {
      const { crm, zoho, advance } = await start();
      await crm('POST', '/actions/watch', {
        body: { watch: [watchItem({ return_affected_field_values: true })] },
      });

      zoho.putCrmRecord('Accounts', { id: ACCOUNT_ID, Account_Name: 'Acme' });
      advance(1_000);
      zoho.putCrmRecord('Accounts', { id: ACCOUNT_ID, Account_Name: 'Acme Ltd' });
      zoho.deleteCrmRecord('Accounts', ACCOUNT_ID);
      await zoho.flushNotifications();

      const sent = callbacks();
      expect(sent).toHaveLength(3);
      expect(sent[0]).toStrictEqual({
        path: '/notifications/acme',
        query: { token: 's3cret' },
        contentType: 'application/json',
        body: {
          server_time: T0,
          module: 'Accounts',
          resource_uri: `${zoho.baseUrl}/crm/v8/Accounts`,
          ids: [ACCOUNT_ID],
          operation: 'insert',
          affected_fields: [],
          affected_values: [],
          query_params: { token: 's3cret' },
          channel_id: '1000000068001',
          token: 'verify-me',
        },
      });
      expect(sent[1]?.body).toMatchObject({
        server_time: T0 + 1_000,
        operation: 'update',
        affected_fields: [{ [ACCOUNT_ID]: ['Account_Name'] }],
        affected_values: [{ record_id: ACCOUNT_ID, values: { Account_Name: 'Acme Ltd' } }],
      });
      expect(sent[2]?.body).toMatchObject({ operation: 'delete', ids: [ACCOUNT_ID] });
      expect(zoho.stats().callbacks.map((c) => [c.operation, c.status])).toStrictEqual([
        ['insert', 200],
        ['update', 200],
        ['delete', 200],
      ]);
      expect(zoho.stats().callbacks[0]?.url).toBe(`${receiver.url}/notifications/acme`);
    });

    it('notifies only watched modules and operations, and only while the channel lives', async () => {
      const { crm, zoho, advance } = await start();
      await crm('POST', '/actions/watch', { body: { watch: [watchItem()] } });

      zoho.putCrmRecord('Products', { id: '4150868000000100201', Product_Name: 'Unwatched' });
      zoho.putCrmRecord('Contacts', { id: CONTACT_ID, Last_Name: 'Created, not edited' });
      zoho.putCrmRecord('Contacts', { id: CONTACT_ID, Last_Name: 'Edited' });
      advance(2 * DAY);
      zoho.putCrmRecord('Accounts', { id: ACCOUNT_ID, Account_Name: 'After expiry' });
      await zoho.flushNotifications();

      expect(callbacks().map((c) => [c.body.module, c.body.operation])).toStrictEqual([
        ['Contacts', 'update'],
      ]);
    });

    it('leaves token out of the body when the channel has none', async () => {
      const { crm, zoho } = await start();
      await crm('POST', '/actions/watch', {
        body: { watch: [watchItem({ token: undefined })] },
      });

      zoho.putCrmRecord('Accounts', { id: ACCOUNT_ID, Account_Name: 'No token' });
      await zoho.flushNotifications();

      expect(callbacks()[0]?.body).not.toHaveProperty('token');
      expect(callbacks()[0]?.body.query_params).toStrictEqual({ token: 's3cret' });
    });

    it('never blocks putCrmRecord, and records a callback that timed out', async () => {
      const { crm, zoho } = await start({ callbackTimeoutMs: 100 });
      await crm('POST', '/actions/watch', { body: { watch: [watchItem()] } });
      receiver.respondWith({ hang: true });

      zoho.putCrmRecord('Accounts', { id: ACCOUNT_ID, Account_Name: 'Slow receiver' });
      const storedBeforeAnswer = await crm('GET', `/Accounts/${ACCOUNT_ID}`);
      await zoho.flushNotifications();

      expect(storedBeforeAnswer.status).toBe(200);
      expect(zoho.stats().callbacks).toMatchObject([
        { operation: 'insert', status: 0, error: 'TimeoutError' },
      ]);
    });

    it('records the status of a callback the receiver refused', async () => {
      const { crm, zoho } = await start();
      await crm('POST', '/actions/watch', { body: { watch: [watchItem()] } });
      receiver.respondWith({ status: 401, json: { error: 'unauthorized' } });

      zoho.putCrmRecord('Accounts', { id: ACCOUNT_ID, Account_Name: 'Refused' });
      await zoho.flushNotifications();

      expect(zoho.stats().callbacks.map((c) => c.status)).toStrictEqual([401]);
    });
  });

  describe('Modified_Time and modified-since lists', () => {
    const ids = async (response: Response) =>
      ((await response.json()) as { data: { id: string }[] }).data.map((record) => record.id);

    it('stamps Modified_Time from the clock unless the record carries one', async () => {
      const { zoho, crm, advance } = await start();
      advance(5_500);

      zoho.putCrmRecord('Accounts', { id: ACCOUNT_ID, Account_Name: 'Stamped' });
      zoho.putCrmRecord('Contacts', {
        id: CONTACT_ID,
        Last_Name: 'Pinned',
        Modified_Time: '2024-05-01T09:30:00+05:30',
      });

      const account = (await (await crm('GET', `/Accounts/${ACCOUNT_ID}`)).json()) as {
        data: Record<string, unknown>[];
      };
      const contact = (await (await crm('GET', `/Contacts/${CONTACT_ID}`)).json()) as {
        data: Record<string, unknown>[];
      };
      expect(account.data[0]?.Modified_Time).toBe('2026-01-05T10:00:05+00:00');
      expect(contact.data[0]?.Modified_Time).toBe('2024-05-01T09:30:00+05:30');
    });

    it('sorts by Modified_Time in either order, ties by id', async () => {
      const { zoho, crm } = await start();
      zoho.putCrmRecord('Deals', { id: '3', Modified_Time: iso(T0 + 2_000) });
      zoho.putCrmRecord('Deals', { id: '2', Modified_Time: iso(T0) });
      zoho.putCrmRecord('Deals', { id: '1', Modified_Time: iso(T0 + 2_000) });

      const ascending = await crm(
        'GET',
        '/Deals?fields=Modified_Time&sort_by=Modified_Time&sort_order=asc',
      );
      const descending = await crm('GET', '/Deals?fields=Modified_Time&sort_by=Modified_Time');

      expect(await ids(ascending)).toStrictEqual(['2', '1', '3']);
      expect(await ids(descending)).toStrictEqual(['1', '3', '2']);
    });

    it('returns only records modified after If-Modified-Since, and 304 when there are none', async () => {
      const { zoho, crm } = await start();
      zoho.putCrmRecord('Deals', { id: '11', Modified_Time: iso(T0) });
      zoho.putCrmRecord('Deals', { id: '12', Modified_Time: iso(T0 + 1_000) });
      const path = '/Deals?fields=Modified_Time&sort_by=Modified_Time&sort_order=asc';

      const since = await crm('GET', path, { headers: { 'If-Modified-Since': iso(T0) } });
      const none = await crm('GET', path, {
        headers: { 'If-Modified-Since': iso(T0 + 1_000) },
      });
      const invalid = await crm('GET', path, { headers: { 'If-Modified-Since': 'yesterday' } });

      expect(await ids(since)).toStrictEqual(['12']);
      expect(none.status).toBe(304);
      expect(await none.text()).toBe('');
      expect(invalid.status).toBe(400);
    });

    it('pages a sorted list with more_records', async () => {
      const { zoho, crm } = await start();
      for (let i = 1; i <= 3; i += 1) {
        zoho.putCrmRecord('Products', { id: String(20 + i), Modified_Time: iso(T0 + i * 1_000) });
      }

      const page2 = await crm(
        'GET',
        '/Products?fields=Modified_Time&sort_by=Modified_Time&sort_order=asc&page=2&per_page=2',
      );

      expect(await page2.json()).toStrictEqual({
        data: [{ id: '23', Modified_Time: iso(T0 + 3_000) }],
        info: {
          per_page: 2,
          count: 1,
          page: 2,
          more_records: false,
          sort_by: 'Modified_Time',
          sort_order: 'asc',
        },
      });
    });
  });
});
