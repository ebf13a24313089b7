import { createServer } from 'node:net';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { getErrorEntry, ZohoApiError, type ZohoHttpDeps, zohoRequest } from '../../../lib/zoho';
import { createHttpTestServer, type HttpTestServer } from '../../helpers/http-test-server';

const catchError = async (promise: Promise<unknown>): Promise<ZohoApiError> => {
  try {
    await promise;
  } catch (error) {
    if (error instanceof ZohoApiError) return error;
    throw error;
  }
  throw new Error('expected the call to fail');
};

/** A port nothing listens on: bound once, then released. */
const closedPort = async (): Promise<number> => {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const address = server.address();
  await new Promise<void>((resolve) => server.close(() => resolve()));
  if (address === null || typeof address === 'string') throw new Error('no port');
  return address.port;
};

describe('zoho-http', () => {
  let server: HttpTestServer;
  const deps: ZohoHttpDeps = { fetch, timeoutMs: 2_000 };

  beforeAll(async () => {
    server = await createHttpTestServer();
  });
  afterAll(async () => {
    await server.close();
  });
  beforeEach(() => {
    server.reset();
  });

  describe('Books answers', () => {
    it('returns the status, parsed body and rate limits of a code-0 answer', async () => {
      server.respondWith({
        status: 201,
        headers: { 'X-Rate-Limit-Limit': '7500', 'X-Rate-Limit-Remaining': '6775' },
        json: { code: 0, message: 'Successfully created.', contact: { contact_id: '1' } },
      });

      const result = await zohoRequest(deps, {
        service: 'books',
        method: 'POST',
        url: `${server.url}/books/v3/contacts`,
        query: { organization_id: '10234695' },
        jsonBody: { contact_name: 'Acme' },
      });

      expect(result).toStrictEqual({
        status: 201,
        body: { code: 0, message: 'Successfully created.', contact: { contact_id: '1' } },
        rateLimit: { limit: 7500, remaining: 6775 },
      });
      const request = server.lastRequest();
      expect(request.method).toBe('POST');
      expect(request.path).toBe('/books/v3/contacts');
      expect(request.query.get('organization_id')).toBe('10234695');
      expect(request.headers['content-type']).toBe('application/json');
      expect(request.headers.accept).toBe('application/json');
      expect(JSON.parse(request.body)).toStrictEqual({ contact_name: 'Acme' });
    });

    it('throws the row of a Books code, with the safe context, on a 4xx', async () => {
      server.respondWith({
        status: 400,
        json: { code: 6024, message: 'Invalid value passed for organization_id.' },
      });

      const error = await catchError(
        zohoRequest(deps, {
          service: 'books',
          method: 'GET',
          url: `${server.url}/books/v3/contacts`,
          query: { organization_id: '999' },
        }),
      );

      expect(error.message).toBe(
        'books GET /books/v3/contacts failed: HTTP 400 code 6024 Invalid organization ID',
      );
      expect(error.entry).toBe(getErrorEntry('books-6024'));
      expect(error.disposition).toBe('fail-alert');
      expect(error.unknown).toBe(false);
      expect(error.service).toBe('books');
      expect(error.method).toBe('GET');
      expect(error.endpoint).toBe('/books/v3/contacts');
      expect(error.httpStatus).toBe(400);
      expect(error.zohoCode).toBe(6024);
      expect(error.zohoMessage).toBe('Invalid value passed for organization_id.');
    });

    it('treats a 200 with a non-zero code as an error', async () => {
      server.respondWith({ status: 200, json: { code: 1002, message: 'Invoice does not exist.' } });

      const error = await catchError(
        zohoRequest(deps, {
          service: 'books',
          method: 'GET',
          url: `${server.url}/books/v3/invoices/42`,
        }),
      );

      expect(error.entry.id).toBe('books-1002');
      expect(error.httpStatus).toBe(200);
    });

    it('asks for a token refresh on code 57 with HTTP 401', async () => {
      server.respondWith({
        status: 401,
        json: { code: 57, message: 'You are not authorized to perform this operation' },
      });

      const error = await catchError(
        zohoRequest(deps, { service: 'books', method: 'GET', url: `${server.url}/books/v3/items` }),
      );

      expect(error.disposition).toBe('refresh-token-and-retry');
    });

    it('flags an unknown code as unknown and falls back on the HTTP status', async () => {
      server.respondWith({ status: 400, json: { code: 987654, message: 'Something new.' } });

      const error = await catchError(
        zohoRequest(deps, { service: 'books', method: 'GET', url: `${server.url}/books/v3/items` }),
      );

      expect(error.entry.id).toBe('http-400');
      expect(error.unknown).toBe(true);
      expect(error.disposition).toBe('fail-alert');
      expect(error.zohoCode).toBe(987654);
    });

    it('backs off on a 500 whose body is not JSON', async () => {
      server.respondWith({ status: 500, text: '<html>oops</html>' });

      const error = await catchError(
        zohoRequest(deps, { service: 'books', method: 'GET', url: `${server.url}/books/v3/items` }),
      );

      expect(error.entry.id).toBe('http-500');
      expect(error.disposition).toBe('backoff');
      expect(error.zohoCode).toBeUndefined();
      expect(error.message).toBe('books GET /books/v3/items failed: HTTP 500 Internal error');
    });

    it('backs off on a 200 whose body is not JSON', async () => {
      server.respondWith({ status: 200, text: '<html>captive portal</html>' });

      const error = await catchError(
        zohoRequest(deps, { service: 'books', method: 'GET', url: `${server.url}/books/v3/items` }),
      );

      expect(error.entry.id).toBe('unreadable-response');
      expect(error.disposition).toBe('backoff');
      expect(error.message).toBe(
        'books GET /books/v3/items failed: HTTP 200 Unreadable response (body is not JSON)',
      );
    });

    it('backs off on a 200 without a code', async () => {
      server.respondWith({ status: 200, json: { contacts: [] } });

      const error = await catchError(
        zohoRequest(deps, { service: 'books', method: 'GET', url: `${server.url}/books/v3/items` }),
      );

      expect(error.entry.id).toBe('unreadable-response');
    });
  });

  describe('CRM answers', () => {
    it('returns a 204 with an undefined body', async () => {
      server.respondWith({ status: 204 });

      const result = await zohoRequest(deps, {
        service: 'crm',
        method: 'GET',
        url: `${server.url}/crm/v8/Deals/1`,
      });

      expect(result).toStrictEqual({ status: 204, body: undefined, rateLimit: undefined });
    });

    it('reads the code of a whole-request error body', async () => {
      server.respondWith({
        status: 401,
        json: {
          code: 'INVALID_TOKEN',
          details: {},
          message: 'invalid oauth token',
          status: 'error',
        },
      });

      const error = await catchError(
        zohoRequest(deps, { service: 'crm', method: 'GET', url: `${server.url}/crm/v8/Deals/1` }),
      );

      expect(error.entry.id).toBe('crm-invalid-token');
      expect(error.disposition).toBe('refresh-token-and-retry');
      expect(error.zohoCode).toBe('INVALID_TOKEN');
      expect(error.zohoMessage).toBe('invalid oauth token');
    });

    it('reads the code of the first failed item of a data wrapper', async () => {
      server.respondWith({
        status: 400,
        json: {
          data: [
            {
              code: 'INVALID_DATA',
              details: { api_name: 'Email', json_path: '$.data[0].Email' },
              message: 'invalid data',
              status: 'error',
            },
          ],
        },
      });

      const error = await catchError(
        zohoRequest(deps, { service: 'crm', method: 'PUT', url: `${server.url}/crm/v8/Deals` }),
      );

      expect(error.entry.id).toBe('crm-invalid-data');
      expect(error.zohoMessage).toBe('invalid data');
    });

    it('treats a 200 carrying an error object as an error', async () => {
      server.respondWith({
        status: 200,
        json: {
          code: 'INTERNAL_ERROR',
          details: {},
          message: 'Internal server error occurred.',
          status: 'error',
        },
      });

      const error = await catchError(
        zohoRequest(deps, { service: 'crm', method: 'GET', url: `${server.url}/crm/v8/Deals/1` }),
      );

      expect(error.entry.id).toBe('crm-internal-error');
      expect(error.disposition).toBe('backoff');
    });

    it('exposes CRM rate-limit headers on an error', async () => {
      server.respondWith({
        status: 429,
        headers: {
          'X-RATELIMIT-LIMIT': '100',
          'X-RATELIMIT-REMAINING': '0',
          'X-RATELIMIT-RESET': '30',
        },
        json: { code: 'TOO_MANY_REQUESTS', details: {}, message: 'too many', status: 'error' },
      });

      const error = await catchError(
        zohoRequest(deps, { service: 'crm', method: 'GET', url: `${server.url}/crm/v8/Deals/1` }),
      );

      expect(error.disposition).toBe('defer');
      expect(error.rateLimit).toStrictEqual({ limit: 100, remaining: 0, resetSeconds: 30 });
      expect(error.retryAfterMs).toBe(60_000);
    });

    it('takes the wait from Retry-After when Zoho sends one', async () => {
      server.respondWith({ status: 429, headers: { 'Retry-After': '17' }, json: {} });

      const error = await catchError(
        zohoRequest(deps, { service: 'crm', method: 'GET', url: `${server.url}/crm/v8/Deals/1` }),
      );

      expect(error.entry.id).toBe('http-429');
      expect(error.retryAfterMs).toBe(17_000);
    });
  });

  describe('accounts answers', () => {
    it('sends a form body', async () => {
      server.respondWith({
        json: { access_token: 'a', api_domain: 'https://x', expires_in: 3600 },
      });

      await zohoRequest(deps, {
        service: 'accounts',
        method: 'POST',
        url: `${server.url}/oauth/v2/token`,
        formBody: { grant_type: 'refresh_token', client_id: 'id 1' },
      });

      const request = server.lastRequest();
      expect(request.headers['content-type']).toBe('application/x-www-form-urlencoded');
      expect(request.body).toBe('grant_type=refresh_token&client_id=id+1');
    });

    it('treats a 200 with an error field as an error', async () => {
      server.respondWith({ status: 200, json: { error: 'invalid_client' } });

      const error = await catchError(
        zohoRequest(deps, {
          service: 'accounts',
          method: 'POST',
          url: `${server.url}/oauth/v2/token`,
        }),
      );

      expect(error.entry.id).toBe('accounts-invalid-client');
      expect(error.entry.scope).toBe('connection');
      expect(error.message).toBe(
        'accounts POST /oauth/v2/token failed: HTTP 200 code invalid_client Invalid client',
      );
    });

    it('defers for 10 minutes on Access Denied', async () => {
      server.respondWith({
        status: 200,
        json: {
          error_description:
            'You have made too many requests continuously. Please try again after some time.',
          error: 'Access Denied',
          status: 'failure',
        },
      });

      const error = await catchError(
        zohoRequest(deps, {
          service: 'accounts',
          method: 'POST',
          url: `${server.url}/oauth/v2/token`,
        }),
      );

      expect(error.disposition).toBe('defer');
      expect(error.retryAfterMs).toBe(600_000);
      expect(error.zohoMessage).toBe(
        'You have made too many requests continuously. Please try again after some time.',
      );
    });
  });

  describe('no answer', () => {
    it('maps a timeout to the network row, which backs off', async () => {
      server.respondWith({ hang: true });

      const error = await catchError(
        zohoRequest(
          { fetch, timeoutMs: 50 },
          { service: 'books', method: 'GET', url: `${server.url}/books/v3/items` },
        ),
      );

      expect(error.entry).toBe(getErrorEntry('network'));
      expect(error.disposition).toBe('backoff');
      expect(error.networkFailure).toBe('timeout');
      expect(error.httpStatus).toBeUndefined();
      expect(error.message).toBe(
        'books GET /books/v3/items failed: timed out Network error or timeout (after 50 ms)',
      );
    });

    it('maps a refused connection to the network row', async () => {
      const port = await closedPort();

      const error = await catchError(
        zohoRequest(deps, {
          service: 'crm',
          method: 'GET',
          url: `http://127.0.0.1:${port}/crm/v8/Deals/1`,
        }),
      );

      expect(error.entry.id).toBe('network');
      expect(error.networkFailure).toBe('connection');
      expect(error.cause).toBeInstanceOf(Error);
    });
  });

  describe('requests', () => {
    it('does not follow a redirect and fails it with an alert', async () => {
      server.respondWith({
        status: 302,
        headers: { Location: 'https://accounts.zoho.com/signin' },
      });

      const error = await catchError(
        zohoRequest(deps, { service: 'books', method: 'GET', url: `${server.url}/books/v3/items` }),
      );

      expect(server.requests).toHaveLength(1);
      expect(error.entry.id).toBe('unclassified');
      expect(error.disposition).toBe('fail-alert');
    });

    it('keeps the query string out of the error', async () => {
      server.respondWith({ status: 400, json: { code: 2, message: 'Invalid value.' } });

      const error = await catchError(
        zohoRequest(deps, {
          service: 'books',
          method: 'GET',
          url: `${server.url}/books/v3/contacts?search_text=acme`,
          query: { organization_id: '10234695', token: 'query-secret-value-123' },
        }),
      );

      expect(server.lastRequest().query.get('search_text')).toBe('acme');
      expect(error.endpoint).toBe('/books/v3/contacts');
      expect(error.message).not.toContain('?');
      expect(error.message).not.toContain('query-secret-value-123');
    });

    it('rejects a header value fetch cannot send before making a call', async () => {
      await expect(
        zohoRequest(deps, {
          service: 'books',
          method: 'GET',
          url: `${server.url}/books/v3/items`,
          headers: { 'X-Unique-Identifier-Value': 'línea\n2' },
        }),
      ).rejects.toThrow(TypeError);
      expect(server.requests).toHaveLength(0);
    });
  });

  describe('secrets', () => {
    it('keeps a planted token out of the message and the Zoho message', async () => {
      const token = `1000.${'a1'.repeat(16)}.${'b2'.repeat(16)}`;
      server.respondWith({
        status: 401,
        json: {
          code: 57,
          message: `token ${token} rejected; header was Authorization: Zoho-oauthtoken ${token}`,
        },
      });

      const error = await catchError(
        zohoRequest(deps, {
          service: 'books',
          method: 'GET',
          url: `${server.url}/books/v3/items`,
          headers: { Authorization: `Zoho-oauthtoken ${token}` },
        }),
      );

      expect(server.lastRequest().headers.authorization).toBe(`Zoho-oauthtoken ${token}`);
      expect(error.zohoMessage).toContain('[REDACTED]');
      for (const text of [error.message, error.zohoMessage, error.stack, JSON.stringify(error)]) {
        expect(text).not.toContain(token);
      }
    });
  });
});
