/**
 * The Zoho simulator: one HTTP server (node:http, no framework) that plays the Zoho accounts
 * server (OAuth), Zoho Books API v3, Zoho CRM API v8 reads and CRM's Notification API (with its
 * callbacks, see notifications.ts) on a single origin. It is the test
 * double of zoho-sync's tests and the engine of its local mode (`npm start`).
 *
 * Hand-written on purpose: no emulator of Zoho's APIs exists (no npm package, no vendor sandbox
 * that runs offline). It follows Zoho's documented behaviour as collected in
 * ../shared/reference/ (zoho-oauth.md, zoho-books-api.md, zoho-crm-api.md and Zoho's CRM OpenAPI
 * files), not the convenience of any client; where the reference marks a fact unconfirmed or
 * silent, the choice made is commented at the spot.
 *
 * Order of checks for an API call:
 *   authentication (401) -> Books: organization_id (6024) -> Books limits: daily, window,
 *   concurrency (429, not counted) -> faults -> the call is counted and in flight ->
 *   latency -> the handler -> the response (Books: with X-Rate-Limit-* headers).
 * State is in memory; handlers run synchronously once a request is admitted, so concurrent calls
 * apply one at a time.
 */
import { once } from 'node:events';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { setTimeout as sleep } from 'node:timers/promises';
import {
  addClient,
  authenticateApiCall,
  createGrantCode,
  expireAccessTokens,
  handleRevokeRequest,
  handleTokenRequest,
  mayUseOrganization,
  revokeToken,
} from './accounts';
import { ADMIN_ROOT, handleAdminRequest } from './admin';
import {
  BOOKS_ROOT,
  handleBooksRequest,
  handleOrganizations,
  isOrganizationsCall,
  markInvoicePaid,
} from './books';
import { booksErrors } from './books-errors';
import { renderRecord } from './books-records';
import { CRM_ROOT, crmErrors, deleteCrmRecord, handleCrmRequest, putCrmRecord } from './crm';
import { createFaultRegistry } from './faults';
import {
  BodyTooLargeError,
  readBody,
  responseCode,
  type SimRequest,
  type SimResponse,
  writeResponse,
} from './http-io';
import { checkLimits, enterCall, rateLimitHeaders, rejectionResponse } from './limits';
import { flushNotifications, snapshotChannels } from './notifications';
import {
  type BooksEntity,
  createOrgState,
  createSimulatorState,
  type OrgState,
  parseSimulatedMinute,
  requireOrg,
  type SimulatorState,
} from './state';
import { countAccounts, countOrgResponse, logRequest, resetStats, snapshotStats } from './stats';
import type { FaultSpec, ZohoSimulator, ZohoSimulatorOptions } from './types';

const TOKEN_PATH = '/oauth/v2/token';
const REVOKE_PATH = '/oauth/v2/token/revoke';

const under = (path: string, root: string) => path === root || path.startsWith(`${root}/`);

/** Everything one exchange needs to answer and to be logged. */
interface Exchange {
  readonly state: SimulatorState;
  readonly request: SimRequest;
  readonly res: ServerResponse;
  organizationId?: string;
}

const send = (exchange: Exchange, response: SimResponse): void => {
  const code = responseCode(response.body);
  logRequest(exchange.state, {
    method: exchange.request.method,
    path: exchange.request.path,
    ...(exchange.organizationId === undefined ? {} : { organizationId: exchange.organizationId }),
    status: response.status,
    ...(code === undefined ? {} : { code }),
    atMs: exchange.state.now(),
  });
  writeResponse(exchange.res, response);
};

const drop = (exchange: Exchange): void => {
  logRequest(exchange.state, {
    method: exchange.request.method,
    path: exchange.request.path,
    ...(exchange.organizationId === undefined ? {} : { organizationId: exchange.organizationId }),
    status: 0,
    atMs: exchange.state.now(),
  });
  exchange.res.socket?.destroy();
  exchange.res.destroy();
};

const pause = async (ms: number): Promise<void> => {
  if (ms > 0) await sleep(ms);
};

const withHeaders = (response: SimResponse, headers: Record<string, string>): SimResponse => ({
  ...response,
  headers: { ...headers, ...response.headers },
});

const faultResponse = (fault: FaultSpec): SimResponse | undefined =>
  fault.response === undefined
    ? undefined
    : {
        status: fault.response.status,
        ...(fault.response.body === undefined ? {} : { body: fault.response.body }),
        ...(fault.response.headers === undefined ? {} : { headers: fault.response.headers }),
      };

/** What makes a call this call for a seeded fault campaign: its query and body. */
const callIdentity = (request: SimRequest): string => `${request.query}\n${request.rawBody}`;

/** The accounts server. Faults apply here too (a 500 or a dropped connection on refresh). */
const accountsCall = async (exchange: Exchange): Promise<void> => {
  const { state, request } = exchange;
  const fault = state.faults.take(request.method, request.path, undefined, callIdentity(request));
  await pause(fault?.delayMs ?? 0);
  const faulted = fault && (fault.dropConnection || fault.response);
  if (faulted && request.path === TOKEN_PATH) {
    // The handler would have counted it; a faulted call still reached the token endpoint.
    const clientId =
      new URLSearchParams(request.rawBody).get('client_id') ?? request.query.get('client_id');
    countAccounts(state, 'tokenRequests', clientId ?? undefined);
  }
  if (fault?.dropConnection) return drop(exchange);
  const response =
    (fault && faultResponse(fault)) ??
    (request.path === TOKEN_PATH
      ? handleTokenRequest(state, request)
      : handleRevokeRequest(state, request));
  send(exchange, response);
};

/** A Books or CRM call: the pipeline described at the top of this file. */
const apiCall = async (exchange: Exchange, api: 'books' | 'crm'): Promise<void> => {
  const { state, request, res } = exchange;
  // A call turned away before admission: never in flight, consumes no quota, still delayed.
  const answerUnadmitted = async (response: SimResponse, org?: OrgState) => {
    await pause(state.latencyMs);
    if (org) countOrgResponse(org, response.status);
    send(exchange, org ? withHeaders(response, rateLimitHeaders(org, state.now())) : response);
  };

  const token = authenticateApiCall(state, request);
  if (!token) {
    return answerUnadmitted(
      api === 'books' ? booksErrors.notAuthorized() : crmErrors.invalidToken(),
    );
  }
  let org: OrgState | undefined;
  if (api === 'books') {
    if (isOrganizationsCall(request))
      return answerUnadmitted(handleOrganizations(state, token, request));
    const orgId = request.query.get('organization_id');
    org = orgId === null ? undefined : state.orgs.get(orgId);
    if (!org || !mayUseOrganization(state, token, org.organizationId)) {
      return answerUnadmitted(booksErrors.invalidOrganization());
    }
    exchange.organizationId = org.organizationId;
    const rejection = checkLimits(org, state.now());
    if (rejection) return answerUnadmitted(rejectionResponse(org, rejection), org);
  }

  // Admitted. A faulted call counts as a call Zoho counted, except a dropped connection (Zoho
  // never saw a complete exchange) and a 429 (rejections never consume quota, see limits.ts).
  const fault = state.faults.take(
    request.method,
    request.path,
    org?.organizationId,
    callIdentity(request),
  );
  const consumesQuota = !fault?.dropConnection && fault?.response?.status !== 429;
  const release = org ? enterCall(org, state.now(), consumesQuota) : undefined;
  // In flight until answered; 'close' also covers a client that goes away while we wait.
  if (release) res.once('close', release);
  await pause(state.latencyMs + (fault?.delayMs ?? 0));

  if (fault?.dropConnection) {
    if (org) countOrgResponse(org, 'dropped');
    release?.();
    return drop(exchange);
  }
  // Like a real server, the call is carried out even if its client has gone away meanwhile.
  const response =
    (fault && faultResponse(fault)) ??
    (org
      ? handleBooksRequest(state, org, token, request)
      : handleCrmRequest(state, token, request));
  release?.(); // before writing, so a client's next call never sees this one still in flight
  if (org) countOrgResponse(org, response.status);
  send(exchange, org ? withHeaders(response, rateLimitHeaders(org, state.now())) : response);
};

const route = async (exchange: Exchange): Promise<void> => {
  const path = exchange.request.path;
  if (under(path, ADMIN_ROOT)) {
    return writeResponse(exchange.res, handleAdminRequest(exchange.state, exchange.request));
  }
  if (path === TOKEN_PATH || path === REVOKE_PATH) return accountsCall(exchange);
  if (under(path, BOOKS_ROOT)) return apiCall(exchange, 'books');
  if (under(path, CRM_ROOT)) return apiCall(exchange, 'crm');
  send(exchange, booksErrors.invalidUrl());
};

const handle = async (state: SimulatorState, req: IncomingMessage, res: ServerResponse) => {
  const url = new URL(req.url ?? '/', 'http://simulator.invalid');
  let rawBody: string;
  try {
    rawBody = await readBody(req);
  } catch (error) {
    if (error instanceof BodyTooLargeError) {
      writeResponse(res, { status: 413, body: { error: error.message } });
    } else res.destroy();
    return;
  }
  const exchange: Exchange = {
    state,
    res,
    request: {
      method: (req.method ?? 'GET').toUpperCase(),
      path: url.pathname,
      query: url.searchParams,
      headers: req.headers,
      rawBody,
    },
  };
  try {
    await route(exchange);
  } catch (error) {
    // A simulator bug: answer like Zoho's internal error and say why on stderr.
    process.stderr.write(
      `zoho-simulator: ${error instanceof Error ? (error.stack ?? error.message) : error}\n`,
    );
    send(
      exchange,
      under(url.pathname, CRM_ROOT) ? crmErrors.internalError() : booksErrors.internalError(),
    );
  }
};

/**
 * Starts a simulator on `host:port` (an ephemeral port by default). Add clients and
 * organizations before calling it.
 *
 * @example
 * const zoho = await startZohoSimulator({ now: () => clock });
 * zoho.addClient({ clientId: 'c', clientSecret: 's', refreshToken: '1000.r.t' });
 * zoho.addOrganization({ organizationId: '123456789' });
 * // POST `${zoho.baseUrl}/oauth/v2/token?grant_type=refresh_token&client_id=c&...`
 * // GET  `${zoho.baseUrl}/books/v3/contacts?organization_id=123456789`
 */
export const startZohoSimulator = async (
  options: ZohoSimulatorOptions = {},
): Promise<ZohoSimulator> => {
  const host = options.host ?? '127.0.0.1';
  const latencyMs = options.latencyMs ?? 0;
  if (!(latencyMs >= 0)) throw new Error(`latencyMs must be >= 0, got ${latencyMs}`);
  const callbackTimeoutMs = options.callbackTimeoutMs ?? 5_000;
  if (!(callbackTimeoutMs > 0)) {
    throw new Error(`callbackTimeoutMs must be > 0, got ${callbackTimeoutMs}`);
  }
  const state = createSimulatorState(
    options.now ?? Date.now,
    latencyMs,
    createFaultRegistry(),
    callbackTimeoutMs,
    options.minute ?? parseSimulatedMinute(process.env.ZOHO_SIMULATOR_MINUTE),
    options.random ?? Math.random,
  );

  const server = createServer((req, res) => {
    void handle(state, req, res);
  });
  server.listen(options.port ?? 0, host);
  await once(server, 'listening');
  const { port } = server.address() as AddressInfo;
  state.baseUrl = `http://${host.includes(':') ? `[${host}]` : host}:${port}`;

  const snapshot = (orgId: string, entity: BooksEntity) => {
    const org = requireOrg(state, orgId);
    return [...org.books[entity].records.values()].map((r) => renderRecord(org.books[entity], r));
  };

  return {
    baseUrl: state.baseUrl,
    port,
    async stop() {
      server.closeAllConnections();
      await new Promise<void>((resolve, reject) =>
        server.close((error) => (error ? reject(error) : resolve())),
      );
      // Callbacks still on their way end within callbackTimeoutMs; nothing outlives the simulator.
      await flushNotifications(state);
    },
    addClient: (client) => addClient(state, client),
    addOrganization(org) {
      if (state.orgs.has(org.organizationId)) {
        throw new Error(`organization ${org.organizationId} already exists`);
      }
      state.orgs.set(org.organizationId, createOrgState(state, org));
    },
    putCrmRecord: (module, record) => putCrmRecord(state, module, record),
    deleteCrmRecord: (module, id) => deleteCrmRecord(state, module, id),
    notificationChannels: () => snapshotChannels(state),
    flushNotifications: () => flushNotifications(state),
    books: {
      contacts: (orgId) => snapshot(orgId, 'contacts'),
      items: (orgId) => snapshot(orgId, 'items'),
      invoices: (orgId) => snapshot(orgId, 'invoices'),
      markInvoicePaid: (orgId, invoiceId) =>
        markInvoicePaid(state, requireOrg(state, orgId), invoiceId),
    },
    createGrantCode: (clientId, scope, grantOptions) =>
      createGrantCode(state, clientId, scope, grantOptions),
    revokeRefreshToken: (refreshToken) => revokeToken(state, refreshToken),
    expireAccessTokens: () => expireAccessTokens(state),
    injectFault: (fault) => state.faults.inject(fault),
    removeFault: (faultId) => state.faults.remove(faultId),
    clearFaults: () => state.faults.clear(),
    seedFaults: (plan) => state.faults.seed(plan),
    seededFaultCounts: () => state.faults.seededCounts(),
    stats: () => snapshotStats(state),
    resetStats: () => resetStats(state),
  };
};
