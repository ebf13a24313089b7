/**
 * The Zoho accounts server (OAuth 2.0): `POST /oauth/v2/token` for the refresh and authorization
 * code grants, `POST /oauth/v2/token/revoke`, and the check of `Authorization` headers on API
 * calls. Facts and limits from reference zoho-oauth.md.
 */
import { headerValue, json, type SimRequest, type SimResponse } from './http-io';
import { createZohoToken } from './ids';
import type { AccessTokenState, ClientState, RefreshTokenState, SimulatorState } from './state';
import { countAccounts } from './stats';
import type { GrantCodeOptions, SimulatedClient } from './types';

/** Access tokens live one hour (`expires_in: 3600`, §5). */
export const ACCESS_TOKEN_LIFETIME_MS = 3_600_000;
/** At most 10 access-token requests per refresh token per 10 minutes (§5). */
const MINTS_PER_THROTTLE_WINDOW = 10;
const THROTTLE_WINDOW_MS = 600_000;
/** 10 active access tokens per refresh token; the 11th invalidates the oldest (§5, strictest). */
const MAX_ACTIVE_ACCESS_TOKENS = 10;
/** 20 refresh tokens per user; the 21st silently revokes the oldest (§5). One user per client. */
const MAX_REFRESH_TOKENS = 20;
/** Grant codes are valid 3 minutes by default (§2, §3). */
const GRANT_CODE_LIFETIME_MS = 180_000;

const hostOf = (url: string): string => new URL(url).host.toLowerCase();

/**
 * Error bodies. Zoho's pages do not state the HTTP status of accounts errors; the reference
 * notes they come "with a 200 HTTP status and an `error` field in many cases" (§6, unconfirmed),
 * so every accounts error here is HTTP 200 and clients must look for `error` before reading
 * `access_token`.
 */
const oauthError = (error: string, extra?: Record<string, string>): SimResponse =>
  json(200, { error, ...extra });

/** `invalid_client` for an unknown client id or a wrong secret (§6, unconfirmed). */
const invalidClient = () => oauthError('invalid_client');
/** `invalid_code`: revoked/unknown refresh token (§6), used/expired grant code (unconfirmed). */
const invalidCode = () => oauthError('invalid_code');
/** The throttle body, verbatim from Zoho's token-limits page (§6). */
const accessDenied = () =>
  oauthError('Access Denied', {
    error_description:
      'You have made too many requests continuously. Please try again after some time.',
    status: 'failure',
  });

export const addClient = (state: SimulatorState, client: SimulatedClient): void => {
  const apiDomain = (client.apiDomain ?? state.baseUrl).replace(/\/+$/, '');
  hostOf(apiDomain); // throws on a malformed URL, at registration rather than at first use
  let existing = state.clients.get(client.clientId);
  if (existing) {
    existing.clientSecret = client.clientSecret;
    existing.apiDomain = apiDomain;
    existing.scope = client.scope;
    existing.organizationIds = toSet(client.organizationIds);
  } else {
    existing = {
      clientId: client.clientId,
      clientSecret: client.clientSecret,
      apiDomain,
      scope: client.scope,
      organizationIds: toSet(client.organizationIds),
      refreshTokens: [],
    };
    state.clients.set(client.clientId, existing);
  }
  if (!state.refreshTokens.has(client.refreshToken)) {
    addRefreshToken(state, existing, client.refreshToken, client.scope);
  }
};

const toSet = (ids: readonly string[] | undefined) =>
  ids === undefined ? undefined : new Set(ids);

const addRefreshToken = (
  state: SimulatorState,
  client: ClientState,
  value: string,
  scope: string | undefined,
): RefreshTokenState => {
  const refreshToken: RefreshTokenState = {
    value,
    clientId: client.clientId,
    scope,
    revoked: false,
    mintedAtMs: [],
    activeAccessTokens: [],
  };
  state.refreshTokens.set(value, refreshToken);
  client.refreshTokens.push(value);
  while (client.refreshTokens.length > MAX_REFRESH_TOKENS) {
    const oldest = client.refreshTokens.shift();
    if (oldest !== undefined) revokeToken(state, oldest);
  }
  return refreshToken;
};

export const createGrantCode = (
  state: SimulatorState,
  clientId: string,
  scope: string,
  options?: GrantCodeOptions,
): string => {
  if (!state.clients.has(clientId)) throw new Error(`unknown client ${clientId}`);
  const value = createZohoToken();
  state.grantCodes.set(value, {
    value,
    clientId,
    scope,
    expiresAtMs: state.now() + (options?.validForMs ?? GRANT_CODE_LIFETIME_MS),
    used: false,
  });
  return value;
};

/**
 * Revokes a refresh token and every access token made from it (§7); given an access token,
 * revokes that one only. Unknown tokens are ignored.
 */
export const revokeToken = (state: SimulatorState, token: string): void => {
  const refreshToken = state.refreshTokens.get(token);
  if (refreshToken) {
    refreshToken.revoked = true;
    for (const access of state.accessTokens.values()) {
      if (access.refreshToken === token) access.revoked = true;
    }
    return;
  }
  const access = state.accessTokens.get(token);
  if (access) access.revoked = true;
};

export const expireAccessTokens = (state: SimulatorState): void => {
  const nowMs = state.now();
  for (const access of state.accessTokens.values()) {
    access.expiresAtMs = Math.min(access.expiresAtMs, nowMs);
  }
};

/** Token endpoint parameters may come in the query string or a form body (§3). */
const tokenParams = (req: SimRequest): URLSearchParams => {
  const params = new URLSearchParams(req.query);
  const contentType = headerValue(req.headers, 'content-type') ?? '';
  if (contentType.includes('application/x-www-form-urlencoded')) {
    for (const [key, value] of new URLSearchParams(req.rawBody)) params.set(key, value);
  }
  return params;
};

/** `POST /oauth/v2/token`. */
export const handleTokenRequest = (state: SimulatorState, req: SimRequest): SimResponse => {
  const params = tokenParams(req);
  const clientId = params.get('client_id') ?? undefined;
  countAccounts(state, 'tokenRequests', clientId);
  if (req.method !== 'POST') return json(405, { error: 'invalid_request' }); // our choice

  const client = clientId === undefined ? undefined : state.clients.get(clientId);
  if (!client || client.clientSecret !== params.get('client_secret')) {
    countAccounts(state, 'invalidClient', clientId);
    return invalidClient();
  }
  switch (params.get('grant_type')) {
    case 'refresh_token':
      return refreshGrant(state, client, params.get('refresh_token') ?? '');
    case 'authorization_code':
      return codeGrant(state, client, params.get('code') ?? '');
    default:
      // The OAuth 2.0 (RFC 6749 §5.2) name; Zoho's own body for this case is undocumented.
      return oauthError('unsupported_grant_type');
  }
};

const refreshGrant = (state: SimulatorState, client: ClientState, value: string): SimResponse => {
  const refreshToken = state.refreshTokens.get(value);
  if (!refreshToken || refreshToken.revoked || refreshToken.clientId !== client.clientId) {
    countAccounts(state, 'invalidCode', client.clientId);
    return invalidCode();
  }
  const nowMs = state.now();
  // Rolling 10 minutes: creation is blocked until the oldest of the last 10 mints is 10 min old.
  refreshToken.mintedAtMs = refreshToken.mintedAtMs.filter((t) => nowMs - t < THROTTLE_WINDOW_MS);
  if (refreshToken.mintedAtMs.length >= MINTS_PER_THROTTLE_WINDOW) {
    countAccounts(state, 'accessDenied', client.clientId);
    return accessDenied();
  }
  const access = mintAccessToken(state, client, refreshToken, nowMs);
  // A refresh returns no new refresh token: the same one is reused (§4).
  return json(200, {
    access_token: access.value,
    api_domain: client.apiDomain,
    token_type: 'Bearer',
    expires_in: ACCESS_TOKEN_LIFETIME_MS / 1000,
  });
};

const codeGrant = (state: SimulatorState, client: ClientState, value: string): SimResponse => {
  const code = state.grantCodes.get(value);
  const nowMs = state.now();
  if (!code || code.used || code.clientId !== client.clientId || nowMs >= code.expiresAtMs) {
    countAccounts(state, 'invalidCode', client.clientId);
    return invalidCode();
  }
  code.used = true; // one-time use (§3)
  const refreshToken = addRefreshToken(state, client, createZohoToken(), code.scope);
  const access = mintAccessToken(state, client, refreshToken, nowMs);
  return json(200, {
    access_token: access.value,
    refresh_token: refreshToken.value,
    scope: code.scope,
    api_domain: client.apiDomain,
    token_type: 'Bearer',
    expires_in: ACCESS_TOKEN_LIFETIME_MS / 1000,
  });
};

const mintAccessToken = (
  state: SimulatorState,
  client: ClientState,
  refreshToken: RefreshTokenState,
  nowMs: number,
): AccessTokenState => {
  const access: AccessTokenState = {
    value: createZohoToken(),
    refreshToken: refreshToken.value,
    clientId: client.clientId,
    apiHost: hostOf(client.apiDomain),
    scope: refreshToken.scope,
    expiresAtMs: nowMs + ACCESS_TOKEN_LIFETIME_MS,
    revoked: false,
  };
  state.accessTokens.set(access.value, access);
  refreshToken.mintedAtMs.push(nowMs);
  countAccounts(state, 'tokensIssued', client.clientId);

  // Only unexpired, unrevoked tokens count as active; past the cap the oldest is invalidated.
  refreshToken.activeAccessTokens = refreshToken.activeAccessTokens.filter((t) => {
    const token = state.accessTokens.get(t);
    return token !== undefined && isLive(token, nowMs);
  });
  refreshToken.activeAccessTokens.push(access.value);
  while (refreshToken.activeAccessTokens.length > MAX_ACTIVE_ACCESS_TOKENS) {
    const oldest = refreshToken.activeAccessTokens.shift();
    const token = oldest === undefined ? undefined : state.accessTokens.get(oldest);
    if (token) token.revoked = true;
  }
  return access;
};

const isLive = (token: AccessTokenState, nowMs: number): boolean =>
  !token.revoked && nowMs < token.expiresAtMs;

/**
 * `POST /oauth/v2/token/revoke?token=...` (§7). The reply is undocumented; like RFC 7009 §2.2 we
 * answer 200 whether or not the token was known.
 */
export const handleRevokeRequest = (state: SimulatorState, req: SimRequest): SimResponse => {
  if (req.method !== 'POST') return json(405, { error: 'invalid_request' });
  const token = tokenParams(req).get('token');
  if (!token) return oauthError('invalid_request');
  revokeToken(state, token);
  return json(200, { status: 'success' });
};

/**
 * The access token of an API call, or undefined when the call is not authenticated. Only
 * `Authorization: Zoho-oauthtoken <token>` is accepted, not `Bearer` (§4, reference
 * zoho-books-api.md §1). A token works only on the host of the api_domain it was issued for:
 * a token of another data centre is unknown to this one.
 */
export const authenticateApiCall = (
  state: SimulatorState,
  req: SimRequest,
): AccessTokenState | undefined => {
  const match = /^Zoho-oauthtoken\s+(\S+)\s*$/i.exec(
    headerValue(req.headers, 'authorization') ?? '',
  );
  const token = match?.[1] === undefined ? undefined : state.accessTokens.get(match[1]);
  if (!token || !isLive(token, state.now())) return undefined;
  const host = (headerValue(req.headers, 'host') ?? '').toLowerCase();
  return host === token.apiHost ? token : undefined;
};

/** Whether the user behind this token may use this Books organization. */
export const mayUseOrganization = (
  state: SimulatorState,
  token: AccessTokenState,
  organizationId: string,
): boolean => {
  const allowed = state.clients.get(token.clientId)?.organizationIds;
  return allowed === undefined || allowed.has(organizationId);
};
