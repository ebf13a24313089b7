import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import {
  type CrmClient,
  type CrmTarget,
  createCrmClient,
  formatCrmDateTime,
  isZohoApiError,
  parseCrmDateTime,
} from '../../../lib/zoho';
import { createHttpTestServer, type HttpTestServer } from '../../helpers/http-test-server';

const ACCESS_TOKEN = 'crm-test-access-token-0002';
// 2026-01-05T10:00:00Z
const T0 = Date.UTC(2026, 0, 5, 10, 0, 0);

describe('crm-client: modified-since lists and the Notification API', () => {
  let server: HttpTestServer;
  let crm: CrmClient;
  let target: CrmTarget;

  beforeAll(async () => {
    server = await createHttpTestServer();
    crm = createCrmClient({ fetch, timeoutMs: 2_000 });
    target = { apiDomain: server.url, accessToken: ACCESS_TOKEN };
  });
  afterAll(async () => {
    await server.close();
  });
  beforeEach(() => {
    server.reset();
  });

  const thrown = async (promise: Promise<unknown>): Promise<unknown> =>
    promise.then(
      () => {
        throw new Error('expected a rejection');
      },
      (error: unknown) => error,
    );

  describe('date-times', () => {
    it('formats whole seconds with a coloned UTC offset and parses offsets back', () => {
      expect(formatCrmDateTime(T0 + 999)).toBe('2026-01-05T10:00:00+00:00');
      expect(parseCrmDateTime('2026-01-05T15:30:00+05:30')).toBe(T0);
      expect(parseCrmDateTime('not a time')).toBeUndefined();
      expect(parseCrmDateTime(undefined)).toBeUndefined();
    });
  });

  describe('listRecordsModifiedSince', () => {
    it('asks for the oldest changes first with If-Modified-Since and returns the page', async () => {
      server.respondWith({
        json: {
          data: [{ id: '1', Modified_Time: '2026-01-05T10:00:01+00:00' }],
          info: { per_page: 50, count: 1, page: 2, more_records: true },
        },
      });

      const page = await crm.listRecordsModifiedSince(target, 'Sales_Orders', {
        modifiedSinceMs: T0,
        fields: ['Subject'],
        page: 2,
        perPage: 50,
      });

      expect(page).toStrictEqual({
        records: [{ id: '1', Modified_Time: '2026-01-05T10:00:01+00:00' }],
        moreRecords: true,
        rateLimit: undefined,
      });
      const request = server.lastRequest();
      expect(request.path).toBe('/crm/v8/Sales_Orders');
      expect(Object.fromEntries(request.query)).toStrictEqual({
        fields: 'Modified_Time,Subject',
        sort_by: 'Modified_Time',
        sort_order: 'asc',
        page: '2',
        per_page: '50',
      });
      expect(request.headers['if-modified-since']).toBe('2026-01-05T10:00:00+00:00');
      expect(request.headers.authorization).toBe(`Zoho-oauthtoken ${ACCESS_TOKEN}`);
    });

    it.each([
      ['304 Not Modified', 304],
      ['204 No Content', 204],
    ])('returns an empty page for %s', async (_name, status) => {
      server.respondWith({ status });

      const page = await crm.listRecordsModifiedSince(target, 'Deals', { modifiedSinceMs: T0 });

      expect(page.records).toStrictEqual([]);
      expect(page.moreRecords).toBe(false);
    });

    it('refuses a per_page above 200 before calling', async () => {
      await expect(
        crm.listRecordsModifiedSince(target, 'Deals', { modifiedSinceMs: T0, perPage: 201 }),
      ).rejects.toThrow(RangeError);
      expect(server.requests).toHaveLength(0);
    });
  });

  describe('enableNotifications', () => {
    it('posts the watch item and returns the expiry Zoho granted per module', async () => {
      server.respondWith({
        status: 201,
        json: {
          watch: [
            {
              status: 'success',
              code: 'SUCCESS',
              message: 'Successfully subscribed for actions-watch of the given module',
              details: {
                events: [
                  {
                    channel_expiry: '2026-01-12T09:50:00+00:00',
                    resource_uri: 'https://www.zohoapis.com/crm/v8/Accounts',
                    resource_id: '4150868000000002175',
                    resource_name: 'Accounts',
                    channel_id: '1000000068001',
                  },
                ],
              },
            },
          ],
        },
      });

      const result = await crm.enableNotifications(target, [
        {
          channelId: '1000000068001',
          events: ['Accounts.all'],
          notifyUrl: 'https://hooks.example.test/notifications/acme?token=abc',
          token: 'abc',
          channelExpiryMs: Date.parse('2026-01-12T09:50:00Z'),
        },
      ]);

      expect(result.subscriptions).toStrictEqual([
        {
          channelId: '1000000068001',
          module: 'Accounts',
          channelExpiryMs: Date.parse('2026-01-12T09:50:00Z'),
          events: [],
        },
      ]);
      const request = server.lastRequest();
      expect(request.method).toBe('POST');
      expect(request.path).toBe('/crm/v8/actions/watch');
      expect(JSON.parse(request.body)).toStrictEqual({
        watch: [
          {
            channel_id: 1000000068001,
            events: ['Accounts.all'],
            notify_url: 'https://hooks.example.test/notifications/acme?token=abc',
            token: 'abc',
            channel_expiry: '2026-01-12T09:50:00+00:00',
          },
        ],
      });
    });

    it('throws the error-table error of a refused item in a 202', async () => {
      server.respondWith({
        status: 202,
        json: {
          watch: [
            {
              code: 'INVALID_DATA',
              details: { api_name: 'token', json_path: '$.watch[0].token' },
              message: 'invalid data',
              status: 'error',
            },
          ],
        },
      });

      const error = await thrown(
        crm.enableNotifications(target, [
          { channelId: '1', events: ['Accounts.all'], notifyUrl: 'https://h.example.test/n' },
        ]),
      );

      expect(isZohoApiError(error)).toBe(true);
      expect(error).toMatchObject({
        entry: { id: 'crm-invalid-data' },
        httpStatus: 202,
        zohoCode: 'INVALID_DATA',
        disposition: 'fail-alert',
      });
    });

    it('refuses a token longer than 50 characters before calling', async () => {
      await expect(
        crm.enableNotifications(target, [
          {
            channelId: '1',
            events: ['Accounts.all'],
            notifyUrl: 'https://h.example.test/n',
            token: 'x'.repeat(51),
          },
        ]),
      ).rejects.toThrow(RangeError);
      expect(server.requests).toHaveLength(0);
    });
  });

  describe('getNotifications and disableNotifications', () => {
    it('lists subscriptions without their token or notify_url, and none for a 204', async () => {
      server.respondWith({
        json: {
          watch: [
            {
              channel_id: '1000000068001',
              resource_name: 'Deals',
              events: ['Deals.all'],
              channel_expiry: '2026-01-12T09:50:00+00:00',
              notify_url: 'https://hooks.example.test/n?token=secret',
              token: 'secret',
            },
          ],
          info: { per_page: 200, page: 1, count: 1, more_records: false },
        },
      });
      const listed = await crm.getNotifications(target, { channelId: '1000000068001' });
      server.respondWith({ status: 204 });
      const none = await crm.getNotifications(target);

      expect(listed.subscriptions).toStrictEqual([
        {
          channelId: '1000000068001',
          module: 'Deals',
          channelExpiryMs: Date.parse('2026-01-12T09:50:00Z'),
          events: ['Deals.all'],
        },
      ]);
      expect(JSON.stringify(listed)).not.toContain('secret');
      expect(none.subscriptions).toStrictEqual([]);
      expect(server.lastRequest().query.has('channel_id')).toBe(false);
    });

    it('deletes by channel_ids and takes NOT_SUBSCRIBED as already disabled', async () => {
      server.respondWith({
        status: 202,
        json: {
          watch: [
            {
              code: 'NOT_SUBSCRIBED',
              details: {},
              message: 'not subscribed',
              status: 'error',
            },
          ],
        },
      });

      await crm.disableNotifications(target, ['11', '12']);

      const request = server.lastRequest();
      expect(request.method).toBe('DELETE');
      expect(request.query.get('channel_ids')).toBe('11,12');
    });
  });
});
