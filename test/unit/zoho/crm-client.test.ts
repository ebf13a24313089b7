import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import {
  CRM_MAX_IDS_PER_CALL,
  type CrmClient,
  type CrmTarget,
  createCrmClient,
  isZohoApiError,
} from '../../../lib/zoho';
import { createHttpTestServer, type HttpTestServer } from '../../helpers/http-test-server';

const ACCESS_TOKEN = 'crm-test-access-token-0001';
const DEAL_ID = '5725767000000649013';

describe('crm-client', () => {
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

  describe('getRecord', () => {
    it('gets /crm/v8/{module}/{id} with the token and returns the record', async () => {
      server.respondWith({
        headers: { 'X-RATELIMIT-REMAINING': '4999' },
        json: { data: [{ id: DEAL_ID, Deal_Name: 'Big deal' }] },
      });

      const result = await crm.getRecord(target, 'Deals', DEAL_ID, ['Deal_Name', 'Stage']);

      expect(result).toStrictEqual({
        record: { id: DEAL_ID, Deal_Name: 'Big deal' },
        rateLimit: { remaining: 4999 },
      });
      const request = server.lastRequest();
      expect(request.method).toBe('GET');
      expect(`${server.url}${request.path}`).toBe(`${target.apiDomain}/crm/v8/Deals/${DEAL_ID}`);
      expect(request.headers.authorization).toBe(`Zoho-oauthtoken ${ACCESS_TOKEN}`);
      expect(request.query.get('fields')).toBe('Deal_Name,Stage');
    });

    it('returns null for a 204', async () => {
      server.respondWith({ status: 204 });

      const result = await crm.getRecord(target, 'Deals', DEAL_ID);

      expect(result.record).toBeNull();
      expect(server.lastRequest().query.has('fields')).toBe(false);
    });

    it.each([
      [200, 'NO_CONTENT'],
      [404, 'NOT_FOUND'],
    ])('returns null for HTTP %i with code %s', async (status, code) => {
      server.respondWith({
        status,
        json: {
          code,
          details: {},
          message: 'There is no data for the ID specified',
          status: 'error',
        },
      });

      const result = await crm.getRecord(target, 'Deals', DEAL_ID);

      expect(result.record).toBeNull();
    });

    it('throws INVALID_TOKEN as a ZohoApiError asking for a refresh', async () => {
      server.respondWith({
        status: 401,
        json: {
          code: 'INVALID_TOKEN',
          details: {},
          message: 'invalid oauth token',
          status: 'error',
        },
      });

      const error = await crm
        .getRecord(target, 'Deals', DEAL_ID)
        .catch((caught: unknown) => caught);

      expect(isZohoApiError(error)).toBe(true);
      if (!isZohoApiError(error)) return;
      expect(error.disposition).toBe('refresh-token-and-retry');
      expect(error.endpoint).toBe(`/crm/v8/Deals/${DEAL_ID}`);
    });

    it('throws an unreadable-response error for a 200 without data', async () => {
      server.respondWith({ json: { info: {} } });

      const error = await crm
        .getRecord(target, 'Deals', DEAL_ID)
        .catch((caught: unknown) => caught);

      expect(isZohoApiError(error) && error.entry.id).toBe('unreadable-response');
    });
  });

  describe('getRecords', () => {
    it('gets several records by ids with the fields', async () => {
      server.respondWith({ json: { data: [{ id: '1' }, { id: '2' }], info: { count: 2 } } });

      const result = await crm.getRecords(target, 'Products', ['1', '2'], ['Product_Name']);

      expect(result.records).toStrictEqual([{ id: '1' }, { id: '2' }]);
      const request = server.lastRequest();
      expect(request.path).toBe('/crm/v8/Products');
      expect(request.query.get('ids')).toBe('1,2');
      expect(request.query.get('fields')).toBe('Product_Name');
    });

    it('returns no records for a 204', async () => {
      server.respondWith({ status: 204 });

      const result = await crm.getRecords(target, 'Products', ['1']);

      expect(result.records).toStrictEqual([]);
    });

    it.each([0, CRM_MAX_IDS_PER_CALL + 1])('refuses %i ids without calling Zoho', async (count) => {
      const ids = Array.from({ length: count }, (_, index) => String(index + 1));

      await expect(crm.getRecords(target, 'Products', ids)).rejects.toThrow(RangeError);
      expect(server.requests).toHaveLength(0);
    });
  });
});
