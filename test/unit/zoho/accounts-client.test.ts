import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { redact } from '../../../lib/observability';
import {
  type AccountsClient,
  createAccountsClient,
  isZohoApiError,
  type ZohoApiError,
} from '../../../lib/zoho';
import { createHttpTestServer, type HttpTestServer } from '../../helpers/http-test-server';

const catchZohoError = async (promise: Promise<unknown>): Promise<ZohoApiError> => {
  const error = await promise.then(
    () => undefined,
    (caught: unknown) => caught,
  );
  if (!isZohoApiError(error)) throw new Error(`expected a ZohoApiError, got ${String(error)}`);
  return error;
};

// Not shaped like Zoho tokens, so only the registry of known values can redact them.
const refreshInput = (accountsUrl: string, suffix: string) => ({
  accountsUrl,
  clientId: '1000.CLIENTID',
  clientSecret: `planted-client-secret-${suffix}`,
  refreshToken: `planted-refresh-token-${suffix}`,
});

describe('accounts-client', () => {
  let server: HttpTestServer;
  let accounts: AccountsClient;

  beforeAll(async () => {
    server = await createHttpTestServer();
    accounts = createAccountsClient({ fetch, timeoutMs: 2_000 });
  });
  afterAll(async () => {
    await server.close();
  });
  beforeEach(() => {
    server.reset();
  });

  describe('refreshAccessToken', () => {
    it('posts the refresh grant as a form and returns the token and API domain', async () => {
      server.respondWith({
        json: {
          access_token: 'fresh-access-token-alpha',
          api_domain: 'https://www.zohoapis.eu',
          token_type: 'Bearer',
          expires_in: 3600,
        },
      });
      const input = refreshInput(`${server.url}/`, 'alpha');

      const grant = await accounts.refreshAccessToken(input);

      expect(grant).toStrictEqual({
        accessToken: 'fresh-access-token-alpha',
        apiDomain: 'https://www.zohoapis.eu',
        expiresInSeconds: 3600,
      });
      const request = server.lastRequest();
      expect(request.method).toBe('POST');
      expect(request.path).toBe('/oauth/v2/token');
      expect([...request.query.keys()]).toStrictEqual([]);
      expect(request.headers['content-type']).toBe('application/x-www-form-urlencoded');
      expect(Object.fromEntries(new URLSearchParams(request.body))).toStrictEqual({
        grant_type: 'refresh_token',
        client_id: '1000.CLIENTID',
        client_secret: input.clientSecret,
        refresh_token: input.refreshToken,
      });
    });

    it('registers the new access token and the credentials for redaction', async () => {
      server.respondWith({
        json: {
          access_token: 'fresh-access-token-bravo',
          api_domain: 'https://www.zohoapis.com',
          expires_in: 3600,
        },
      });
      const input = refreshInput(server.url, 'bravo');

      await accounts.refreshAccessToken(input);

      for (const secret of ['fresh-access-token-bravo', input.clientSecret, input.refreshToken]) {
        expect(redact(`value ${secret} here`)).toBe('value [REDACTED] here');
      }
    });

    it('fails a revoked refresh token (invalid_code with HTTP 200) for the whole connection', async () => {
      server.respondWith({ status: 200, json: { error: 'invalid_code' } });

      const error = await catchZohoError(
        accounts.refreshAccessToken(refreshInput(server.url, 'charlie')),
      );

      expect(error.entry.id).toBe('accounts-invalid-code');
      expect(error.disposition).toBe('fail-alert');
      expect(error.entry.scope).toBe('connection');
    });

    it('defers on Access Denied instead of failing', async () => {
      server.respondWith({
        json: {
          error_description:
            'You have made too many requests continuously. Please try again after some time.',
          error: 'Access Denied',
          status: 'failure',
        },
      });

      const error = await catchZohoError(
        accounts.refreshAccessToken(refreshInput(server.url, 'delta')),
      );

      expect(error.disposition).toBe('defer');
      expect(error.retryAfterMs).toBe(600_000);
    });

    it('backs off on a success without an access token and shows none of the body', async () => {
      server.respondWith({ json: { api_domain: 'https://www.zohoapis.com', expires_in: 3600 } });

      const error = await catchZohoError(
        accounts.refreshAccessToken(refreshInput(server.url, 'echo')),
      );

      expect(error.entry.id).toBe('unreadable-response');
      expect(error.message).toBe(
        'accounts POST /oauth/v2/token failed: HTTP 200 Unreadable response (no valid access_token, api_domain and expires_in in the body)',
      );
    });

    it('keeps the planted client secret and refresh token out of the error', async () => {
      const input = refreshInput(server.url, 'foxtrot');
      server.respondWith({
        status: 400,
        json: {
          error: `invalid_client for ${input.clientSecret}`,
          error_description: `client_secret ${input.clientSecret} does not match; refresh_token ${input.refreshToken}`,
        },
      });

      const error = await catchZohoError(accounts.refreshAccessToken(input));

      expect(error.zohoMessage).toContain('[REDACTED]');
      for (const text of [
        error.message,
        error.zohoMessage,
        String(error.zohoCode),
        JSON.stringify(error),
      ]) {
        expect(text).not.toContain(input.clientSecret);
        expect(text).not.toContain(input.refreshToken);
      }
    });
  });

  describe('exchangeGrantCode', () => {
    it('posts the authorization-code grant and returns the refresh token', async () => {
      server.respondWith({
        json: {
          access_token: 'first-access-token-golf',
          refresh_token: 'new-refresh-token-golf',
          api_domain: 'https://www.zohoapis.in',
          token_type: 'Bearer',
          expires_in: 3600,
        },
      });

      const grant = await accounts.exchangeGrantCode({
        accountsUrl: server.url,
        clientId: '1000.CLIENTID',
        clientSecret: 'planted-client-secret-golf',
        code: '1000.grant-code-golf',
        redirectUri: 'https://example.com/callback',
      });

      expect(grant).toStrictEqual({
        accessToken: 'first-access-token-golf',
        refreshToken: 'new-refresh-token-golf',
        apiDomain: 'https://www.zohoapis.in',
        expiresInSeconds: 3600,
      });
      expect(Object.fromEntries(new URLSearchParams(server.lastRequest().body))).toStrictEqual({
        grant_type: 'authorization_code',
        client_id: '1000.CLIENTID',
        client_secret: 'planted-client-secret-golf',
        code: '1000.grant-code-golf',
        redirect_uri: 'https://example.com/callback',
      });
      expect(redact('new-refresh-token-golf')).toBe('[REDACTED]');
    });

    it('fails an expired grant code', async () => {
      server.respondWith({ json: { error: 'invalid_code' } });

      const error = await catchZohoError(
        accounts.exchangeGrantCode({
          accountsUrl: server.url,
          clientId: '1000.CLIENTID',
          clientSecret: 'planted-client-secret-hotel',
          code: '1000.grant-code-hotel',
        }),
      );

      expect(error.entry.id).toBe('accounts-invalid-code');
      expect(
        Object.hasOwn(
          Object.fromEntries(new URLSearchParams(server.lastRequest().body)),
          'redirect_uri',
        ),
      ).toBe(false);
    });
  });
});
