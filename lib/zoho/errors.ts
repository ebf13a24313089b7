import { ZohoSyncError } from '../errors';
import { redact } from '../observability';
import { getErrorEntry, type ZohoErrorEntry, type ZohoService } from './error-table';
import type { RateLimitInfo } from './rate-limit-headers';

/** Why no HTTP answer arrived. */
export type NetworkFailure = 'timeout' | 'connection';

/** Everything a {@link ZohoApiError} is built from. */
export interface ZohoApiErrorInit {
  readonly service: ZohoService;
  /** HTTP method, e.g. `PUT`. */
  readonly method: string;
  /** Path of the URL called. Anything from `?` on is dropped. */
  readonly endpoint: string;
  /** The error-table row that decided the disposition. */
  readonly entry: ZohoErrorEntry;
  /** True when no row names this failure (see `classifyZohoFailure`). */
  readonly unknown: boolean;
  /** Absent when no HTTP answer arrived. */
  readonly httpStatus?: number;
  /** Books `code`, CRM `code` or accounts `error`. */
  readonly zohoCode?: number | string;
  /** Zoho's own text (`message` / `error_description`); redacted and shortened here. */
  readonly zohoMessage?: string;
  readonly rateLimit?: RateLimitInfo;
  /** Overrides the row's wait, e.g. from `Retry-After`. */
  readonly retryAfterMs?: number;
  /** Set when no HTTP answer arrived. */
  readonly networkFailure?: NetworkFailure;
  /** Safe extra words for the message, e.g. `after 10000 ms` or `no "contact" in the body`. */
  readonly detail?: string;
  readonly cause?: unknown;
}

const MAX_ZOHO_MESSAGE_LENGTH = 500;
const MAX_CODE_LENGTH = 100;

// Redact first, then shorten: cutting first could leave half a token that no longer matches
// the registered value.
const safeText = (text: string, maxLength: number): string => {
  const redacted = redact(text);
  return redacted.length <= maxLength ? redacted : `${redacted.slice(0, maxLength)}...`;
};

const safeCode = (code: number | string | undefined): number | string | undefined =>
  typeof code === 'string' ? safeText(code, MAX_CODE_LENGTH) : code;

const pathOnly = (endpoint: string): string => endpoint.split(/[?#]/, 1)[0] ?? '';

const describeOutcome = (init: ZohoApiErrorInit, zohoCode: number | string | undefined) => {
  if (init.httpStatus === undefined) {
    return init.networkFailure === 'timeout' ? 'timed out' : 'no response';
  }
  return zohoCode === undefined
    ? `HTTP ${init.httpStatus}`
    : `HTTP ${init.httpStatus} code ${zohoCode}`;
};

/**
 * A Zoho call failed: the one error type the Zoho clients throw for Zoho's answers and for
 * calls that got no answer. Its `disposition` is the error-table row's `action`, so the worker
 * never interprets Zoho codes itself.
 *
 * Thrown by `zohoRequest` (and so by the Books, CRM and accounts clients) when:
 * - Zoho answers with a non-2xx status;
 * - Books answers 2xx with a non-zero `code`, CRM answers 2xx with `status: "error"`, or the
 *   accounts server answers 2xx with an `error` field;
 * - a 2xx body is not the JSON expected (row `unreadable-response`);
 * - no answer arrives: timeout, refused or reset connection, DNS failure (row `network`,
 *   `httpStatus` undefined, `networkFailure` set).
 *
 * Carries safe context only: the message is
 * `<service> <METHOD> <endpoint> failed: HTTP <status> code <code> <title>`, the endpoint has no
 * query string, and Zoho's message is redacted. Never a token, secret or request body.
 */
export class ZohoApiError extends ZohoSyncError {
  override readonly name = 'ZohoApiError';
  readonly service: ZohoService;
  readonly method: string;
  readonly endpoint: string;
  readonly entry: ZohoErrorEntry;
  readonly unknown: boolean;
  readonly httpStatus: number | undefined;
  readonly zohoCode: number | string | undefined;
  readonly zohoMessage: string | undefined;
  readonly rateLimit: RateLimitInfo | undefined;
  readonly networkFailure: NetworkFailure | undefined;

  constructor(init: ZohoApiErrorInit) {
    const endpoint = redact(pathOnly(init.endpoint));
    const method = init.method.toUpperCase();
    const zohoCode = safeCode(init.zohoCode);
    const detail = init.detail === undefined ? '' : ` (${init.detail})`;
    const message = redact(
      `${init.service} ${method} ${endpoint} failed: ${describeOutcome(init, zohoCode)} ${init.entry.title}${detail}`,
    );
    super(message, {
      disposition: init.entry.action,
      retryAfterMs: init.retryAfterMs ?? init.entry.retryAfterMs,
      cause: init.cause,
    });
    this.service = init.service;
    this.method = method;
    this.endpoint = endpoint;
    this.entry = init.entry;
    this.unknown = init.unknown;
    this.httpStatus = init.httpStatus;
    this.zohoCode = zohoCode;
    this.zohoMessage =
      init.zohoMessage === undefined
        ? undefined
        : safeText(init.zohoMessage, MAX_ZOHO_MESSAGE_LENGTH);
    this.rateLimit = init.rateLimit;
    this.networkFailure = init.networkFailure;
  }
}

/** True for a {@link ZohoApiError}, also across module copies (compares the name). */
export const isZohoApiError = (error: unknown): error is ZohoApiError =>
  error instanceof ZohoApiError || (error instanceof Error && error.name === 'ZohoApiError');

/** Where a call went, for errors the clients raise after a successful HTTP exchange. */
export interface ZohoCallContext {
  readonly service: ZohoService;
  readonly method: string;
  readonly endpoint: string;
  readonly httpStatus: number;
  readonly rateLimit?: RateLimitInfo;
}

/**
 * The error for a 2xx answer whose body is not what the API promises (row
 * `unreadable-response`), e.g. a Books success without the record in it.
 */
export const unreadableResponseError = (context: ZohoCallContext, detail: string): ZohoApiError =>
  new ZohoApiError({
    ...context,
    entry: getErrorEntry('unreadable-response'),
    unknown: false,
    detail,
  });
