import * as z from 'zod';
import { registerSecretValues } from '../observability';
import { unreadableResponseError } from './errors';
import { type ZohoHttpDeps, zohoRequest } from './zoho-http';

/** What a refresh needs; `accountsUrl` is the accounts server of the connection's data centre. */
export interface RefreshAccessTokenInput {
  readonly accountsUrl: string;
  readonly clientId: string;
  readonly clientSecret: string;
  readonly refreshToken: string;
}

/** A fresh access token and the API host to use it on. */
export interface AccessTokenGrant {
  readonly accessToken: string;
  /** `api_domain`: the host every API call of this connection must go to. */
  readonly apiDomain: string;
  /** Lifetime from now, normally 3600. */
  readonly expiresInSeconds: number;
}

/** What a grant-code exchange needs (setup CLI). */
export interface ExchangeGrantCodeInput {
  readonly accountsUrl: string;
  readonly clientId: string;
  readonly clientSecret: string;
  /** The one-time grant code from the API console (valid a few minutes). */
  readonly code: string;
  /** Only for server-based clients; a self client sends none. */
  readonly redirectUri?: string;
}

/** The result of a grant-code exchange: a refresh token to store, plus a first access token. */
export interface RefreshTokenGrant extends AccessTokenGrant {
  readonly refreshToken: string;
}

const tokenResponseSchema = z.object({
  access_token: z.string().min(1),
  api_domain: z.url(),
  expires_in: z.number().int().positive(),
});

const grantResponseSchema = tokenResponseSchema.extend({ refresh_token: z.string().min(1) });

const TOKEN_PATH = '/oauth/v2/token';

const isRecord = (value: unknown): value is Record<string, unknown> =>
  typeof value === 'object' && value !== null && !Array.isArray(value);

const stringOrUndefined = (value: unknown): string | undefined =>
  typeof value === 'string' ? value : undefined;

/** The accounts-server calls; each makes exactly one HTTP request. */
export interface AccountsClient {
  /**
   * `POST {accountsUrl}/oauth/v2/token` with `grant_type=refresh_token`. Call it from the
   * single-flight token refresher only: Zoho allows 10 refreshes per 10 minutes.
   * @throws {ZohoApiError} `invalid_code` (revoked refresh token), `invalid_client`,
   *   `Access Denied` (too many refreshes: disposition `defer`), network errors, ...
   */
  refreshAccessToken(input: RefreshAccessTokenInput): Promise<AccessTokenGrant>;
  /**
   * `POST {accountsUrl}/oauth/v2/token` with `grant_type=authorization_code`, for the setup CLI.
   * Every exchange makes a new refresh token; the 21st of a user silently kills the oldest.
   * @throws {ZohoApiError} `invalid_code` (expired or used grant code), `invalid_client`, ...
   */
  exchangeGrantCode(input: ExchangeGrantCodeInput): Promise<RefreshTokenGrant>;
}

/**
 * Builds the Zoho accounts (OAuth) client. Credentials are registered with the redactor when a
 * call starts and new tokens as soon as they arrive, so no later log line or error can show them.
 */
export const createAccountsClient = (deps: ZohoHttpDeps): AccountsClient => {
  const postToken = async <Schema extends z.ZodType>(
    accountsUrl: string,
    form: Record<string, string>,
    schema: Schema,
  ): Promise<z.infer<Schema>> => {
    const url = `${accountsUrl.replace(/\/+$/, '')}${TOKEN_PATH}`;
    const response = await zohoRequest(deps, {
      service: 'accounts',
      method: 'POST',
      url,
      // Form body, not query string: Zoho recommends the body for credentials.
      formBody: form,
    });
    const body: unknown = response.body;
    if (isRecord(body)) {
      // Before validation, so even a response we reject cannot leak a token later.
      registerSecretValues(
        stringOrUndefined(body.access_token),
        stringOrUndefined(body.refresh_token),
      );
    }
    const parsed = schema.safeParse(body);
    if (!parsed.success) {
      // The zod issues are left out on purpose: they could quote a token value.
      throw unreadableResponseError(
        {
          service: 'accounts',
          method: 'POST',
          endpoint: TOKEN_PATH,
          httpStatus: response.status,
          rateLimit: response.rateLimit,
        },
        'no valid access_token, api_domain and expires_in in the body',
      );
    }
    return parsed.data;
  };

  return {
    refreshAccessToken: async (input) => {
      registerSecretValues(input.clientSecret, input.refreshToken);
      const data = await postToken(
        input.accountsUrl,
        {
          grant_type: 'refresh_token',
          client_id: input.clientId,
          client_secret: input.clientSecret,
          refresh_token: input.refreshToken,
        },
        tokenResponseSchema,
      );
      return {
        accessToken: data.access_token,
        apiDomain: data.api_domain.replace(/\/+$/, ''),
        expiresInSeconds: data.expires_in,
      };
    },
    exchangeGrantCode: async (input) => {
      registerSecretValues(input.clientSecret, input.code);
      const data = await postToken(
        input.accountsUrl,
        {
          grant_type: 'authorization_code',
          client_id: input.clientId,
          client_secret: input.clientSecret,
          code: input.code,
          ...(input.redirectUri === undefined ? {} : { redirect_uri: input.redirectUri }),
        },
        grantResponseSchema,
      );
      return {
        accessToken: data.access_token,
        refreshToken: data.refresh_token,
        apiDomain: data.api_domain.replace(/\/+$/, ''),
        expiresInSeconds: data.expires_in,
      };
    },
  };
};
