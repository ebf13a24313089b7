import { classifyZohoFailure, getErrorEntry, type ZohoService } from './error-table';
import { type NetworkFailure, unreadableResponseError, ZohoApiError } from './errors';
import { parseRateLimitHeaders, type RateLimitInfo } from './rate-limit-headers';

/** What `zohoRequest` needs from outside. */
export interface ZohoHttpDeps {
  /** The global `fetch`, or a stand-in in tests. */
  readonly fetch: typeof fetch;
  /** Abort a call (including reading its body) after this many ms; config `zohoTimeoutMs`. */
  readonly timeoutMs: number;
}

export type ZohoHttpMethod = 'GET' | 'POST' | 'PUT' | 'PATCH' | 'DELETE';

/** One HTTP call to Zoho. */
export interface ZohoHttpRequest {
  /** Which API: decides what a successful answer looks like. */
  readonly service: ZohoService;
  readonly method: ZohoHttpMethod;
  /** Absolute URL, e.g. `${apiDomain}/books/v3/contacts`. */
  readonly url: string;
  readonly headers?: Readonly<Record<string, string>>;
  /** Added to the URL's query string (values are encoded here). */
  readonly query?: Readonly<Record<string, string>>;
  /** Sent as `application/json`. */
  readonly jsonBody?: unknown;
  /** Sent as `application/x-www-form-urlencoded` (the accounts server). */
  readonly formBody?: Readonly<Record<string, string>>;
}

/** A successful answer. */
export interface ZohoHttpResponse {
  readonly status: number;
  /** Parsed JSON; `undefined` for an empty body (e.g. CRM 204). */
  readonly body: unknown;
  readonly rateLimit?: RateLimitInfo;
}

const isRecord = (value: unknown): value is Record<string, unknown> =>
  typeof value === 'object' && value !== null && !Array.isArray(value);

const isCode = (value: unknown): value is number | string =>
  (typeof value === 'number' && Number.isFinite(value)) ||
  (typeof value === 'string' && value !== '');

const textOf = (value: unknown): string | undefined =>
  typeof value === 'string' && value !== '' ? value : undefined;

/** Zoho's code and message from an error body, whatever its shape. */
interface ZohoFault {
  readonly code?: number | string;
  readonly message?: string;
}

/** The first item of CRM's `{ data: [...] }` / `{ watch: [...] }` wrapper that is an error. */
const firstCrmErrorItem = (body: Record<string, unknown>): Record<string, unknown> | undefined => {
  for (const key of ['data', 'watch']) {
    const items = body[key];
    if (!Array.isArray(items)) continue;
    const failed = items.find((item) => isRecord(item) && item.status === 'error');
    if (isRecord(failed)) return failed;
  }
  return undefined;
};

const faultOf = (service: ZohoService, body: unknown): ZohoFault => {
  if (!isRecord(body)) return {};
  if (service === 'accounts') {
    const code = isCode(body.error) ? body.error : undefined;
    return { code, message: textOf(body.error_description) ?? textOf(body.message) };
  }
  const source = service === 'crm' && !isCode(body.code) ? (firstCrmErrorItem(body) ?? body) : body;
  return {
    code: isCode(source.code) ? source.code : undefined,
    message: textOf(source.message),
  };
};

type Verdict =
  | { readonly ok: true }
  | { readonly ok: false; readonly fault: ZohoFault; readonly unreadable?: boolean };

const isSuccessStatus = (status: number): boolean => status >= 200 && status <= 299;

/**
 * Whether an answer is a success. Books: 2xx and `code: 0` (a 200 with another code is an
 * error). CRM: 2xx, except a top-level `status: "error"` body, which Zoho's OpenAPI allows under
 * 200. Accounts: 2xx without an `error` field (Zoho answers many OAuth errors with 200).
 */
const judge = (service: ZohoService, status: number, body: unknown, parsed: boolean): Verdict => {
  if (!isSuccessStatus(status)) return { ok: false, fault: faultOf(service, body) };
  if (!parsed) return { ok: false, fault: {}, unreadable: true };
  switch (service) {
    case 'books': {
      if (!isRecord(body) || !isCode(body.code)) return { ok: false, fault: {}, unreadable: true };
      return Number(body.code) === 0 ? { ok: true } : { ok: false, fault: faultOf(service, body) };
    }
    case 'crm': {
      if (body === undefined) return { ok: true };
      if (isRecord(body) && body.status === 'error' && isCode(body.code)) {
        return { ok: false, fault: faultOf(service, body) };
      }
      return { ok: true };
    }
    case 'accounts': {
      if (!isRecord(body)) return { ok: false, fault: {}, unreadable: true };
      return body.error === undefined ? { ok: true } : { ok: false, fault: faultOf(service, body) };
    }
  }
};

/** Parses a body that may be empty; `parsed: false` when text is there but is not JSON. */
const parseBody = (text: string): { body: unknown; parsed: boolean } => {
  if (text.trim() === '') return { body: undefined, parsed: true };
  try {
    return { body: JSON.parse(text), parsed: true };
  } catch {
    return { body: undefined, parsed: false };
  }
};

const networkFailureOf = (error: unknown): NetworkFailure =>
  error instanceof Error && (error.name === 'TimeoutError' || error.name === 'AbortError')
    ? 'timeout'
    : 'connection';

const buildHeaders = (req: ZohoHttpRequest): Headers => {
  const headers = new Headers({ Accept: 'application/json' });
  if (req.jsonBody !== undefined) headers.set('Content-Type', 'application/json');
  if (req.formBody !== undefined) headers.set('Content-Type', 'application/x-www-form-urlencoded');
  for (const [name, value] of Object.entries(req.headers ?? {})) headers.set(name, value);
  return headers;
};

const buildBody = (req: ZohoHttpRequest): string | undefined => {
  if (req.jsonBody !== undefined) return JSON.stringify(req.jsonBody);
  if (req.formBody !== undefined) return new URLSearchParams({ ...req.formBody }).toString();
  return undefined;
};

const retryAfterMsOf = (rateLimit: RateLimitInfo | undefined): number | undefined =>
  rateLimit?.retryAfterSeconds === undefined ? undefined : rateLimit.retryAfterSeconds * 1000;

/**
 * Performs one HTTP call to Zoho and returns the parsed answer, or throws one typed error.
 * There is no retry here on purpose: what to do about a failure (refresh, defer, back off,
 * alert) is the error table's decision, carried out by lib/sync and lib/tokens.
 *
 * Redirects are not followed: a Zoho API that redirects is being called on the wrong host.
 *
 * @throws {ZohoApiError} for every failure; see its TSDoc for when. Invalid input (a header
 *   value that is not a ByteString, a relative URL) throws a plain `TypeError` before any call.
 * @example
 * const { body } = await zohoRequest(
 *   { fetch, timeoutMs: 10_000 },
 *   { service: 'books', method: 'GET', url: `${apiDomain}/books/v3/contacts/${booksId}`,
 *     query: { organization_id: orgId }, headers: { Authorization: `Zoho-oauthtoken ${token}` } },
 * );
 */
export const zohoRequest = async (
  deps: ZohoHttpDeps,
  req: ZohoHttpRequest,
): Promise<ZohoHttpResponse> => {
  // Built before the call so that bad input fails as a bug, not as a "network" error.
  const url = new URL(req.url);
  for (const [name, value] of Object.entries(req.query ?? {})) url.searchParams.set(name, value);
  const headers = buildHeaders(req);
  const body = buildBody(req);
  const context = { service: req.service, method: req.method, endpoint: url.pathname };

  let status: number;
  let responseHeaders: Headers;
  let text: string;
  try {
    const response = await deps.fetch(url, {
      method: req.method,
      headers,
      body,
      redirect: 'manual',
      signal: AbortSignal.timeout(deps.timeoutMs),
    });
    status = response.status;
    responseHeaders = response.headers;
    text = await response.text();
  } catch (error) {
    const networkFailure = networkFailureOf(error);
    throw new ZohoApiError({
      ...context,
      entry: getErrorEntry('network'),
      unknown: false,
      networkFailure,
      detail: networkFailure === 'timeout' ? `after ${deps.timeoutMs} ms` : undefined,
      cause: error,
    });
  }

  const rateLimit = parseRateLimitHeaders(responseHeaders);
  const parsedBody = parseBody(text);
  const verdict = judge(req.service, status, parsedBody.body, parsedBody.parsed);
  if (verdict.ok) return { status, body: parsedBody.body, rateLimit };

  if (verdict.unreadable) {
    throw unreadableResponseError(
      { ...context, httpStatus: status, rateLimit },
      parsedBody.parsed ? 'body is not the expected JSON object' : 'body is not JSON',
    );
  }
  const { entry, unknown } = classifyZohoFailure({
    service: req.service,
    httpStatus: status,
    code: verdict.fault.code,
  });
  throw new ZohoApiError({
    ...context,
    entry,
    unknown,
    httpStatus: status,
    zohoCode: verdict.fault.code,
    zohoMessage: verdict.fault.message,
    rateLimit,
    retryAfterMs: retryAfterMsOf(rateLimit),
  });
};
