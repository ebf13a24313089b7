import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import {
  type BooksClient,
  type BooksTarget,
  createBooksClient,
  isZohoApiError,
  type ZohoApiError,
} from '../../../lib/zoho';
import { createHttpTestServer, type HttpTestServer } from '../../helpers/http-test-server';

const ACCESS_TOKEN = 'books-test-access-token-0001';
const ORG_ID = '10234695';
const CONTACT_ID = '4600000000000123456';

const catchZohoError = async (promise: Promise<unknown>): Promise<ZohoApiError> => {
  const error = await promise.then(
    () => undefined,
    (caught: unknown) => caught,
  );
  if (!isZohoApiError(error)) throw new Error(`expected a ZohoApiError, got ${String(error)}`);
  return error;
};

describe('books-client', () => {
  let server: HttpTestServer;
  let books: BooksClient;
  let target: BooksTarget;

  beforeAll(async () => {
    server = await createHttpTestServer();
    books = createBooksClient({ fetch, timeoutMs: 2_000 });
    target = { apiDomain: server.url, accessToken: ACCESS_TOKEN, organizationId: ORG_ID };
  });
  afterAll(async () => {
    await server.close();
  });
  beforeEach(() => {
    server.reset();
  });

  describe('upsertByUniqueField', () => {
    it('sends PUT /books/v3/{entity} with the unique-field headers, token and organization', async () => {
      server.respondWith({
        headers: {
          'X-Rate-Limit-Limit': '5000',
          'X-Rate-Limit-Remaining': '4321',
          'X-Rate-Limit-Reset': '3600',
        },
        json: {
          code: 0,
          message: 'The contact has been added.',
          contact: { contact_id: CONTACT_ID, contact_name: 'Acme' },
        },
      });

      const result = await books.upsertByUniqueField(
        target,
        'contacts',
        { apiName: 'cf_crm_id', value: '5725767000000649013' },
        { contact_name: 'Acme' },
      );

      expect(result).toStrictEqual({
        record: { contact_id: CONTACT_ID, contact_name: 'Acme' },
        booksId: CONTACT_ID,
        rateLimit: { limit: 5000, remaining: 4321, resetSeconds: 3600 },
      });
      const request = server.lastRequest();
      expect(request.method).toBe('PUT');
      expect(`${server.url}${request.path}`).toBe(`${target.apiDomain}/books/v3/contacts`);
      expect(request.query.get('organization_id')).toBe(ORG_ID);
      expect(request.headers.authorization).toBe(`Zoho-oauthtoken ${ACCESS_TOKEN}`);
      expect(request.headers['x-unique-identifier-key']).toBe('cf_crm_id');
      expect(request.headers['x-unique-identifier-value']).toBe('5725767000000649013');
      expect(request.headers['x-upsert']).toBe('true');
      expect(request.headers['content-type']).toBe('application/json');
      expect(JSON.parse(request.body)).toStrictEqual({ contact_name: 'Acme' });
    });

    it('leaves X-Upsert out when upsert is false', async () => {
      server.respondWith({ json: { code: 0, item: { item_id: '77' } } });

      await books.upsertByUniqueField(
        target,
        'items',
        { apiName: 'cf_crm_id', value: '1' },
        { name: 'Widget' },
        { upsert: false },
      );

      const request = server.lastRequest();
      expect(request.path).toBe('/books/v3/items');
      expect(request.headers['x-upsert']).toBeUndefined();
      expect(request.headers['x-unique-identifier-key']).toBe('cf_crm_id');
    });
  });

  describe('create', () => {
    it('posts the body with query flags and cannot be pointed at another organization', async () => {
      server.respondWith({
        status: 201,
        json: { code: 0, invoice: { invoice_id: '900', invoice_number: 'INV-1' } },
      });

      const result = await books.create(
        target,
        'invoices',
        { customer_id: CONTACT_ID, line_items: [] },
        { ignore_auto_number_generation: 'false', organization_id: 'someone-else' },
      );

      expect(result.booksId).toBe('900');
      const request = server.lastRequest();
      expect(request.method).toBe('POST');
      expect(request.path).toBe('/books/v3/invoices');
      expect(request.query.get('ignore_auto_number_generation')).toBe('false');
      expect(request.query.getAll('organization_id')).toStrictEqual([ORG_ID]);
    });
  });

  describe('update', () => {
    it('puts to /books/v3/{entity}/{id} and copes with a trailing slash on apiDomain', async () => {
      server.respondWith({ json: { code: 0, contact: { contact_id: CONTACT_ID } } });

      await books.update({ ...target, apiDomain: `${server.url}/` }, 'contacts', CONTACT_ID, {
        contact_name: 'Acme Ltd',
      });

      const request = server.lastRequest();
      expect(request.method).toBe('PUT');
      expect(request.path).toBe(`/books/v3/contacts/${CONTACT_ID}`);
    });
  });

  describe('get', () => {
    it('returns the record under its singular key', async () => {
      server.respondWith({ json: { code: 0, item: { item_id: '77', name: 'Widget' } } });

      const result = await books.get(target, 'items', '77');

      expect(result.record).toStrictEqual({ item_id: '77', name: 'Widget' });
      expect(server.lastRequest().path).toBe('/books/v3/items/77');
      expect(server.lastRequest().method).toBe('GET');
    });

    it('throws code 1002 as a ZohoApiError carrying the rate limits', async () => {
      server.respondWith({
        status: 404,
        headers: { 'X-Rate-Limit-Remaining': '10' },
        json: { code: 1002, message: 'Contact does not exist.' },
      });

      const error = await catchZohoError(books.get(target, 'contacts', '1'));

      expect(error.entry.id).toBe('books-1002');
      expect(error.disposition).toBe('fail-alert');
      expect(error.rateLimit).toStrictEqual({ remaining: 10 });
      expect(error.message).toBe(
        'books GET /books/v3/contacts/1 failed: HTTP 404 code 1002 Record does not exist',
      );
    });

    it('backs off when a success carries no record', async () => {
      server.respondWith({ json: { code: 0, message: 'success' } });

      const error = await catchZohoError(books.get(target, 'contacts', '1'));

      expect(error.entry.id).toBe('unreadable-response');
      expect(error.message).toBe(
        'books GET /books/v3/contacts/1 failed: HTTP 200 Unreadable response (no "contact" in the body)',
      );
    });

    it('refuses an ID that arrived as a JSON number, which has lost digits', async () => {
      server.respondWith({ text: `{"code":0,"contact":{"contact_id":${CONTACT_ID}}}` });

      const error = await catchZohoError(books.get(target, 'contacts', CONTACT_ID));

      expect(error.entry.id).toBe('unreadable-response');
    });
  });

  describe('list', () => {
    it('returns one page and whether there is another', async () => {
      server.respondWith({
        json: {
          code: 0,
          contacts: [{ contact_id: '1' }, { contact_id: '2' }],
          page_context: { page: 1, per_page: 2, has_more_page: true },
        },
      });

      const result = await books.list(target, 'contacts', { contact_name: 'Acme', per_page: '2' });

      expect(result).toStrictEqual({
        records: [{ contact_id: '1' }, { contact_id: '2' }],
        hasMorePage: true,
        rateLimit: undefined,
      });
      const request = server.lastRequest();
      expect(request.query.get('contact_name')).toBe('Acme');
      expect(request.query.get('per_page')).toBe('2');
      expect(request.query.get('organization_id')).toBe(ORG_ID);
    });

    it('reports no further page when page_context is missing', async () => {
      server.respondWith({ json: { code: 0, items: [] } });

      const result = await books.list(target, 'items');

      expect(result.hasMorePage).toBe(false);
      expect(result.records).toStrictEqual([]);
    });
  });
});
