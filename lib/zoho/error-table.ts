import type { Disposition } from '../errors';

/**
 * THE Zoho error table: the only place in zoho-sync where a Zoho error code or HTTP status is
 * given a meaning, an action and a fix. The worker's outcome handler (lib/sync) acts on
 * `action`; alerts quote `title`, `meaning` and `fix`; the README embeds this table as
 * rendered by `renderErrorTableMarkdown()` (lib/zoho/error-table-markdown.ts).
 *
 * Facts come from ../shared/reference/zoho-books-api.md, zoho-crm-api.md and zoho-oauth.md;
 * every row names its source. Books code 0 ("success") has no row on purpose: it is never a
 * failure, and a row would need an action that does not exist. A Books response with code 0
 * and a failing HTTP status is classified by its status.
 */

/** Which Zoho API answered. */
export type ZohoService = 'books' | 'crm' | 'accounts';

/** An inclusive numeric range, e.g. `{ from: 3000, to: 3999 }`. */
export interface NumberRange {
  readonly from: number;
  readonly to: number;
}

/** One row of the error table. */
export interface ZohoErrorEntry {
  /** Stable id, used in logs, alerts and tests (e.g. `books-6024`). Never reuse one. */
  readonly id: string;
  /** The API this row applies to; `any` applies to all three. */
  readonly service: ZohoService | 'any';
  /**
   * For rows without a code: the HTTP status the row classifies. For rows with a code: if set,
   * the row applies only when Zoho answers with this status (blank = any status).
   */
  readonly httpStatus?: number;
  /** A range of HTTP statuses: only for the `4xx`/`5xx` fallback rows. */
  readonly httpStatusRange?: NumberRange;
  /** Zoho's code: a number for Books, a string for CRM and the accounts server. */
  readonly code?: number | string;
  /** A range of numeric codes (Books validation ranges). */
  readonly codeRange?: NumberRange;
  /** Short name, e.g. 'Invalid organization ID'. */
  readonly title: string;
  /** What it means, in plain words. */
  readonly meaning: string;
  /** What an admin should check. May use `{connectionId}` and `{secretId}` placeholders. */
  readonly fix: string;
  /** What zoho-sync does about it. */
  readonly action: Disposition;
  /**
   * `connection`: every call of the connection will fail the same way until an admin fixes
   * something, so lib/sync opens the connection's circuit breaker and alerts once.
   * `record`: only this message is affected. Rate limits and token refreshes are `record`:
   * the limiter and the token store handle them, not the breaker.
   */
  readonly scope: 'record' | 'connection';
  /**
   * Where the fact came from: `official: <url>`, `unconfirmed: <source>`, or
   * `zoho-sync design: <reason>` for rows that are our own (network errors, fallbacks).
   */
  readonly source: string;
  /** Anything a reader of the row should know, e.g. a disagreement between sources. */
  readonly note?: string;
  /** Wait before trying again when Zoho sends no `Retry-After` (defer rows). */
  readonly retryAfterMs?: number;
}

const BOOKS_ERRORS_PAGE = 'official: https://www.zoho.com/books/api/v3/errors/';
const ORIGIN_ARTICLE =
  'unconfirmed: https://support.kalkillp.com/portal/en/kb/articles/zoho-books-api-v3-the-complete-error-code-troubleshooting-guide';
const INVOICE_SUMMARY =
  'unconfirmed: third-party summary of the Zoho Invoice API error list (same platform as Books), found by code search';
const NO_SOURCE = 'unconfirmed: no source describing this code was found (listed in issue #4 only)';
const CRM_OAS = 'official: Zoho CRM v8 OpenAPI, https://github.com/zoho/crm-oas v8.0/record.json';
const INVOICE_ERRORS_PAGE =
  'unconfirmed for Books: https://www.zoho.com/invoice/api/v3/errors/ (Zoho Invoice, same platform)';

const MINUTE_MS = 60_000;

const UNDOCUMENTED_BOOKS_FIX =
  "Read Zoho's message in the alert: it is the only description there is. If it recurs, report it so this row can be given its real meaning.";

const undocumentedBooksCode = <Code extends number>(code: Code) =>
  ({
    id: `books-${code}` as const,
    service: 'books',
    code,
    title: `Undocumented Books code ${code}`,
    meaning: `Zoho Books answered with code ${code}. No public description of this code was found, so zoho-sync does not guess and stops.`,
    fix: UNDOCUMENTED_BOOKS_FIX,
    action: 'fail-alert',
    scope: 'record',
    source: NO_SOURCE,
  }) as const;

/** A CRM rejection of the data we sent or asked for: fix the record or the mapping. */
const crmDataError = <Id extends string, Code extends string>(
  id: Id,
  code: Code,
  title: string,
  meaning: string,
) =>
  ({
    id,
    service: 'crm',
    code,
    title,
    meaning,
    fix: "Read Zoho's message and details in the alert; correct the CRM record or the field mapping of connection {connectionId}, then re-sync.",
    action: 'fail-alert',
    scope: 'record',
    source: CRM_OAS,
  }) as const;

/** A CRM rejection of the request's shape: most likely our bug. */
const crmRequestError = <Id extends string, Code extends string>(
  id: Id,
  code: Code,
  title: string,
  meaning: string,
  fix = 'This is most likely a zoho-sync bug, not a setting: report it with the alert.',
) =>
  ({
    id,
    service: 'crm',
    code,
    title,
    meaning,
    fix,
    action: 'fail-alert',
    scope: 'record',
    source: CRM_OAS,
  }) as const;

/** The CRM record is gone: nothing to sync and nothing to tell an admin. */
const crmRecordGone = <Id extends string, Code extends string>(
  id: Id,
  code: Code,
  title: string,
  meaning: string,
  note?: string,
) =>
  ({
    id,
    service: 'crm',
    code,
    title,
    meaning,
    fix: 'Nothing to fix: the CRM record no longer exists, so there is nothing to sync. zoho-sync skips it without an alert.',
    action: 'fail-quiet',
    scope: 'record',
    source: CRM_OAS,
    ...(note === undefined ? {} : { note }),
  }) as const;

/** A 5xx from a gateway in front of Zoho: transient. */
const gatewayError = <Status extends number>(httpStatus: Status, title: string) =>
  ({
    id: `http-${httpStatus}` as const,
    service: 'any',
    httpStatus,
    title,
    meaning: 'A Zoho front server or gateway could not reach the API. It is usually transient.',
    fix: 'Nothing to do if it passes: zoho-sync retries with growing delays. If it persists, check https://status.zoho.com.',
    action: 'backoff',
    scope: 'record',
    source: 'zoho-sync design: standard HTTP meaning; Zoho documents only 500',
  }) as const;

const ROWS = [
  // ---------------------------------------------------------------- Zoho Books body codes
  {
    id: 'books-2',
    service: 'books',
    code: 2,
    title: 'Invalid value',
    meaning:
      'Zoho Books rejected a value or an ID in the request, for example a field in the wrong format or an ID that is not in this organization.',
    fix: "Read Zoho's message in the alert for the field it names, then correct the CRM record or the field mapping of connection {connectionId} and re-sync.",
    action: 'fail-alert',
    scope: 'record',
    source: ORIGIN_ARTICLE,
  },
  undocumentedBooksCode(4),
  {
    id: 'books-5',
    service: 'books',
    code: 5,
    title: 'Internal error or invalid URL',
    meaning:
      'Reported both as a Zoho-side internal error and as a request to a URL Books does not know. zoho-sync treats it as transient and retries with growing delays.',
    fix: 'Nothing to do if it passes. If the retries run out, check the API host for connection {connectionId} (dataCenter in secret {secretId}) and https://status.zoho.com.',
    action: 'backoff',
    scope: 'record',
    source: ORIGIN_ARTICLE,
    note: 'The only source gives two meanings. Backoff is bounded, so a real URL mistake still ends in an alert after the last attempt.',
  },
  undocumentedBooksCode(6),
  undocumentedBooksCode(9),
  {
    id: 'books-14',
    service: 'books',
    code: 14,
    title: 'Authentication value invalid',
    meaning:
      'The Authorization header was missing, malformed or not a token Zoho recognises (seen with HTTP 401).',
    fix: 'zoho-sync refreshes the access token and replays once. If it repeats, check that the token store holds a real access token for connection {connectionId} and that dataCenter in secret {secretId} is right.',
    action: 'refresh-token-and-retry',
    scope: 'record',
    source:
      'unconfirmed: third-party Zoho Invoice client notes found by code search report HTTP 401 with code 14 for an invalid authentication value (same platform as Books)',
    note: 'No official meaning is known. One refresh is the cheapest cure for a damaged cached token, and it is bounded to a single replay before an alert.',
  },
  undocumentedBooksCode(36),
  {
    id: 'books-44',
    service: 'books',
    code: 44,
    title: 'Too many requests per minute',
    meaning: 'The organization sent too many requests this minute and Zoho blocks it for a while.',
    fix: 'Nothing to do if it is rare: zoho-sync waits and carries on. If it is frequent, lower rateLimit.requests or maxConcurrency in secret {secretId}, and look for other integrations using the same Books organization.',
    action: 'defer',
    scope: 'record',
    source: INVOICE_SUMMARY,
    retryAfterMs: MINUTE_MS,
  },
  {
    id: 'books-45',
    service: 'books',
    code: 45,
    title: 'API request limit exceeded',
    meaning:
      'Zoho Books refused the call because a request limit was exceeded: the per-minute limit or the daily limit of the plan.',
    fix: "If the daily quota is spent, work resumes after Zoho's daily reset. Check plan and dailyLimit in secret {secretId} against Books > Settings > Developer and Data > API Usage, or ask Zoho to raise the limit. Other integrations on the same organization share the quota.",
    action: 'defer',
    scope: 'record',
    source: `${ORIGIN_ARTICLE} (per minute); ${INVOICE_SUMMARY} (daily)`,
    note: 'The sources disagree: one says per-minute, one says daily. Deferring is right for both; the daily-quota module decides whether to wait a minute or until the next day.',
    retryAfterMs: MINUTE_MS,
  },
  {
    id: 'books-57',
    service: 'books',
    code: 57,
    title: 'Not authorized',
    meaning:
      'Zoho rejected the access token for this operation: it expired or was revoked, or it lacks the scope or permission ("You are not authorized to perform this operation").',
    fix: 'zoho-sync refreshes the access token and replays once. If it repeats: re-authorize connection {connectionId} with ZohoBooks.contacts.ALL, ZohoBooks.settings.ALL and ZohoBooks.invoices.ALL, check that the Zoho user may use the Books organization, and check that dataCenter in secret {secretId} is the data centre of the Zoho account (a token from one data centre is rejected by the others).',
    action: 'refresh-token-and-retry',
    scope: 'record',
    source: ORIGIN_ARTICLE,
    note: 'Third-party reports show code 57 both for dead tokens (HTTP 401) and for missing scopes (HTTP 400). The single replay after a refresh tells them apart: a scope problem fails again and is alerted.',
  },
  {
    id: 'books-1000',
    service: 'books',
    code: 1000,
    title: 'Internal error',
    meaning: 'Zoho Books had an internal error. It is usually transient.',
    fix: 'Nothing to do if it passes: zoho-sync retries with growing delays. If it persists, check https://status.zoho.com and contact Zoho support with the organization ID.',
    action: 'backoff',
    scope: 'record',
    source: BOOKS_ERRORS_PAGE,
  },
  {
    id: 'books-1001',
    service: 'books',
    code: 1001,
    title: 'Already exists (believed)',
    meaning:
      'Widely believed to mean that the record already exists (a duplicate); no source confirms it.',
    fix: "Read Zoho's message in the alert. If it is a duplicate, link the existing Books record (set its cf_crm_id to the CRM record id) or remove the duplicate, and check that cf_crm_id exists and is marked unique in Books.",
    action: 'fail-alert',
    scope: 'record',
    source: NO_SOURCE,
  },
  {
    id: 'books-1002',
    service: 'books',
    code: 1002,
    title: 'Record does not exist',
    meaning:
      'The Books record addressed by ID does not exist (Zoho\'s example: "Invoice does not exist."). Usually it was deleted in Books after zoho-sync linked it.',
    fix: 'Check in Zoho Books whether the record was deleted or merged. Restore or re-create it, or clear the link of the CRM record, then re-sync.',
    action: 'fail-alert',
    scope: 'record',
    source: `${BOOKS_ERRORS_PAGE}; Zoho Expense uses 1002 the same way: https://www.zoho.com/expense/api/v1/errors`,
    note: 'A third-party guide calls 1002 a "transaction error"; Zoho\'s own errors page shows "<Entity> does not exist", and this table follows Zoho.',
  },
  undocumentedBooksCode(1004),
  {
    id: 'books-1038',
    service: 'books',
    code: 1038,
    title: 'JSON is not well formed',
    meaning: 'The request body was not the JSON Zoho Books expects.',
    fix: 'This is a zoho-sync bug, not a setting: report it with the alert.',
    action: 'fail-alert',
    scope: 'record',
    source:
      'unconfirmed: https://github.com/AlizKaz/zoho-assistant docs/zoho_api_troubleshooting.md',
  },
  {
    id: 'books-1070',
    service: 'books',
    code: 1070,
    title: 'Too many concurrent requests',
    meaning: 'Too many requests of this organization were in flight at the same time.',
    fix: 'Usually passes by itself. If frequent, lower maxConcurrency in secret {secretId} (5 is safe; free plans allow 5) and look for other integrations using the same organization.',
    action: 'defer',
    scope: 'record',
    source: INVOICE_SUMMARY,
    retryAfterMs: 10_000,
  },
  undocumentedBooksCode(2006),
  {
    id: 'books-3062',
    service: 'books',
    code: 3062,
    title: 'Duplicate contact name',
    meaning:
      'A contact with the same display name (contact_name) already exists in the organization; Books requires display names to be unique.',
    fix: 'Link the CRM record to the existing Books contact (set its cf_crm_id to the CRM record id) or rename one of the two, then re-sync.',
    action: 'fail-alert',
    scope: 'record',
    source:
      'unconfirmed: production error logs quoted in public repositories found by code search ("The customer ... already exists. Please specify a different name.", HTTP 400)',
  },
  {
    id: 'books-validation-3000',
    service: 'books',
    codeRange: { from: 3000, to: 3999 },
    title: 'Validation error',
    meaning:
      'Zoho Books rejected the data with a module-specific validation error; no public list of these codes exists.',
    fix: "Read Zoho's message in the alert, correct the CRM record or the field mapping of connection {connectionId}, then re-sync.",
    action: 'fail-alert',
    scope: 'record',
    source: 'unconfirmed: range listed in issue #4; no source found',
  },
  {
    id: 'books-validation-4000',
    service: 'books',
    codeRange: { from: 4000, to: 4999 },
    title: 'Validation error',
    meaning:
      'Zoho Books rejected the data with a module-specific validation error; no public list of these codes exists.',
    fix: "Read Zoho's message in the alert, correct the CRM record or the field mapping of connection {connectionId}, then re-sync.",
    action: 'fail-alert',
    scope: 'record',
    source: 'unconfirmed: range listed in issue #4; no source found',
  },
  {
    id: 'books-6024',
    service: 'books',
    code: 6024,
    title: 'Invalid organization ID',
    meaning:
      'The organization_id is wrong, or the Zoho user behind the token cannot use that organization.',
    fix: "Check booksOrganizationId in secret {secretId}; Books > Settings > Organization Profile shows the ID. Also check that the token's Zoho user belongs to that organization and that dataCenter is the organization's data centre.",
    action: 'fail-alert',
    scope: 'connection',
    source: ORIGIN_ARTICLE,
  },
  {
    id: 'books-6041',
    service: 'books',
    code: 6041,
    title: 'Organization not accessible',
    meaning:
      'Zoho Books refused the organization for this token: it is named together with 6024 for an organization the Zoho user behind the token cannot use.',
    fix: 'Check booksOrganizationId in secret {secretId} against Books > Settings > Organization Profile, and that the Zoho user who authorized connection {connectionId} is a user of that organization (re-authorize with that user if not).',
    action: 'fail-alert',
    scope: 'connection',
    source:
      'unconfirmed: named beside 6024 in issue #12 (the support checklist); no public description of 6041 was found',
  },

  // ---------------------------------------------------------------- HTTP statuses
  {
    id: 'http-400',
    service: 'any',
    httpStatus: 400,
    title: 'Bad request',
    meaning: 'Zoho rejected the request as invalid and sent no code this table knows.',
    fix: "Read Zoho's message in the alert; correct the CRM record or the field mapping of connection {connectionId}. If the message points at the request itself, report it as a zoho-sync bug.",
    action: 'fail-alert',
    scope: 'record',
    source: BOOKS_ERRORS_PAGE,
  },
  {
    id: 'http-401',
    service: 'any',
    httpStatus: 401,
    title: 'Unauthorized',
    meaning: 'Zoho rejected the access token (expired, revoked or from another data centre).',
    fix: 'zoho-sync refreshes the access token and replays once. If it repeats, re-authorize connection {connectionId} and check dataCenter in secret {secretId}.',
    action: 'refresh-token-and-retry',
    scope: 'record',
    source: BOOKS_ERRORS_PAGE,
  },
  {
    id: 'accounts-http-401',
    service: 'accounts',
    httpStatus: 401,
    title: 'Token request refused',
    meaning:
      'The accounts server refused the token request without saying why. A refresh cannot fix a refused refresh.',
    fix: 'Check clientId, clientSecret, refreshToken and dataCenter (or accountsUrl) in secret {secretId}; re-authorize connection {connectionId} if they look right.',
    action: 'fail-alert',
    scope: 'connection',
    source:
      'zoho-sync design: no documented 401 from the accounts server; this row stops a refresh from asking for another refresh',
  },
  {
    id: 'http-403',
    service: 'any',
    httpStatus: 403,
    title: 'Forbidden',
    meaning:
      'The Zoho user behind the token lacks permission, or is not a user of the organization.',
    fix: 'Check the role of the Zoho user who authorized connection {connectionId} in Zoho Books and Zoho CRM, and booksOrganizationId in secret {secretId}.',
    action: 'fail-alert',
    scope: 'record',
    source: INVOICE_ERRORS_PAGE,
  },
  {
    id: 'http-404',
    service: 'any',
    httpStatus: 404,
    title: 'URL not found',
    meaning:
      'Zoho does not know the URL: a wrong API host (data centre), a wrong path or a wrong ID in the path.',
    fix: 'Check dataCenter in secret {secretId}: the API host must be the one Zoho returned with the token. If the host is right, report it as a zoho-sync bug.',
    action: 'fail-alert',
    scope: 'record',
    source: BOOKS_ERRORS_PAGE,
  },
  {
    id: 'http-405',
    service: 'any',
    httpStatus: 405,
    title: 'Method not allowed',
    meaning: 'The HTTP method is not allowed for this Zoho API.',
    fix: 'This is a zoho-sync bug, not a setting: report it with the alert.',
    action: 'fail-alert',
    scope: 'record',
    source: BOOKS_ERRORS_PAGE,
  },
  {
    id: 'http-406',
    service: 'any',
    httpStatus: 406,
    title: 'Not acceptable',
    meaning: 'Zoho cannot answer in the format the request asked for.',
    fix: 'This is a zoho-sync bug, not a setting: report it with the alert.',
    action: 'fail-alert',
    scope: 'record',
    source: INVOICE_ERRORS_PAGE,
  },
  {
    id: 'http-429',
    service: 'any',
    httpStatus: 429,
    title: 'Rate limit exceeded',
    meaning:
      'Too many requests: the per-minute limit, the concurrency limit or the daily quota (credits in CRM) is spent.',
    fix: 'Nothing to do if it is rare. If frequent, lower rateLimit.requests or maxConcurrency in secret {secretId}, check the daily usage in Zoho, and look for other integrations sharing the organization.',
    action: 'defer',
    scope: 'record',
    source: BOOKS_ERRORS_PAGE,
    retryAfterMs: MINUTE_MS,
  },
  {
    id: 'http-500',
    service: 'any',
    httpStatus: 500,
    title: 'Internal error',
    meaning: 'Zoho had an internal error. It is usually transient.',
    fix: 'Nothing to do if it passes: zoho-sync retries with growing delays. If it persists, check https://status.zoho.com and contact Zoho support.',
    action: 'backoff',
    scope: 'record',
    source: BOOKS_ERRORS_PAGE,
  },
  gatewayError(502, 'Bad gateway'),
  gatewayError(503, 'Service unavailable'),
  gatewayError(504, 'Gateway timeout'),
  {
    id: 'http-4xx',
    service: 'any',
    httpStatusRange: { from: 400, to: 499 },
    title: 'Unrecognised client error',
    meaning:
      'Zoho refused the request with a 4xx status or code that has no row in this table. Refusals do not get better by retrying.',
    fix: "Read Zoho's status, code and message in the alert. Report them so this table can be given a row.",
    action: 'fail-alert',
    scope: 'record',
    source: 'zoho-sync design: unknown refusals are alerted, never retried blindly',
  },
  {
    id: 'http-5xx',
    service: 'any',
    httpStatusRange: { from: 500, to: 599 },
    title: 'Unrecognised server error',
    meaning:
      'Zoho failed with a 5xx status or code that has no row in this table. Server failures are usually transient.',
    fix: 'Nothing to do if it passes: retries are bounded and end in an alert. If it persists, check https://status.zoho.com.',
    action: 'backoff',
    scope: 'record',
    source: 'zoho-sync design: unknown server failures are retried a bounded number of times',
  },

  // ---------------------------------------------------------------- Zoho CRM codes
  {
    id: 'crm-invalid-token',
    service: 'crm',
    code: 'INVALID_TOKEN',
    title: 'Invalid token',
    meaning: 'The access token is invalid or expired ("invalid oauth token", HTTP 401).',
    fix: 'zoho-sync refreshes the access token and replays once. If it repeats, re-authorize connection {connectionId} and check dataCenter in secret {secretId}.',
    action: 'refresh-token-and-retry',
    scope: 'record',
    source: CRM_OAS,
  },
  {
    id: 'crm-authentication-failure',
    service: 'crm',
    code: 'AUTHENTICATION_FAILURE',
    title: 'Authentication failed',
    meaning: 'Zoho CRM could not authenticate the request with this token.',
    fix: 'zoho-sync refreshes the access token and replays once. If it repeats, re-authorize connection {connectionId} and check dataCenter in secret {secretId}.',
    action: 'refresh-token-and-retry',
    scope: 'record',
    source: CRM_OAS,
  },
  {
    id: 'crm-oauth-scope-mismatch',
    service: 'crm',
    code: 'OAUTH_SCOPE_MISMATCH',
    title: 'Missing OAuth scope',
    meaning: 'The token was not granted the scope this CRM call needs.',
    fix: 'Re-authorize connection {connectionId} with ZohoCRM.modules.ALL (or the READ scope of every synced module) plus the Books scopes, and store the new refresh token in secret {secretId}.',
    action: 'fail-alert',
    scope: 'connection',
    source: CRM_OAS,
  },
  {
    id: 'crm-no-permission',
    service: 'crm',
    code: 'NO_PERMISSION',
    title: 'No permission',
    meaning:
      'The Zoho CRM user behind the token may not do this (the alert lists the missing permissions when Zoho names them).',
    fix: 'Give the CRM user who authorized connection {connectionId} a profile that can read the synced modules and records.',
    action: 'fail-alert',
    scope: 'record',
    source: CRM_OAS,
  },
  crmDataError(
    'crm-invalid-data',
    'INVALID_DATA',
    'Invalid data',
    'A value, ID or parameter has the wrong type, format or length (the alert names the field).',
  ),
  crmDataError(
    'crm-mandatory-not-found',
    'MANDATORY_NOT_FOUND',
    'Mandatory field missing',
    'A mandatory field was not given.',
  ),
  crmDataError(
    'crm-required-param-missing',
    'REQUIRED_PARAM_MISSING',
    'Required parameter missing',
    'A required parameter is missing.',
  ),
  crmDataError(
    'crm-expected-field-missing',
    'EXPECTED_FIELD_MISSING',
    'Expected field missing',
    'One of the fields the call expects is missing.',
  ),
  crmDataError(
    'crm-duplicate-data',
    'DUPLICATE_DATA',
    'Duplicate data',
    'A unique field already holds this value.',
  ),
  crmDataError(
    'crm-dependent-field-missing',
    'DEPENDENT_FIELD_MISSING',
    'Dependent field missing',
    'A field that another field depends on is missing.',
  ),
  crmDataError(
    'crm-dependent-mismatch',
    'DEPENDENT_MISMATCH',
    'Dependent field mismatch',
    'A dependent field does not match its parent field.',
  ),
  crmDataError(
    'crm-ambiguity-during-processing',
    'AMBIGUITY_DURING_PROCESSING',
    'Ambiguous request',
    'Zoho CRM could not tell which of several matches was meant.',
  ),
  crmDataError(
    'crm-reserved-keyword-not-allowed',
    'RESERVED_KEYWORD_NOT_ALLOWED',
    'Reserved keyword',
    'A value uses a keyword CRM reserves for itself.',
  ),
  crmRequestError(
    'crm-invalid-module',
    'INVALID_MODULE',
    'Invalid module',
    'The CRM module name in the URL is not valid.',
    'Check the CRM module names configured for connection {connectionId} (API names such as Accounts, Deals, Sales_Orders). If they are right, report it as a zoho-sync bug.',
  ),
  crmRequestError(
    'crm-invalid-url-pattern',
    'INVALID_URL_PATTERN',
    'Invalid URL',
    'The URL is not a CRM API URL ("Please check if the URL trying to access is a correct one").',
    'Check dataCenter in secret {secretId}; if the API host is right, report it as a zoho-sync bug.',
  ),
  crmRequestError(
    'crm-invalid-request-method',
    'INVALID_REQUEST_METHOD',
    'Invalid request method',
    'The HTTP method is not valid for this CRM API.',
  ),
  crmRequestError(
    'crm-invalid-query',
    'INVALID_QUERY',
    'Invalid query',
    'A search or COQL query is not valid.',
  ),
  crmRequestError(
    'crm-not-allowed',
    'NOT_ALLOWED',
    'Not allowed',
    'This operation is not allowed on this record or module.',
  ),
  crmRequestError(
    'crm-not-supported',
    'NOT_SUPPORTED',
    'Not supported',
    'This operation is not supported here.',
  ),
  crmRequestError(
    'crm-feature-not-supported',
    'FEATURE_NOT_SUPPORTED',
    'Feature not in edition',
    'The CRM edition of the organization does not include this feature.',
    'Check the Zoho CRM edition of connection {connectionId}; the feature may need a higher edition.',
  ),
  crmRequestError(
    'crm-api-not-supported',
    'API_NOT_SUPPORTED',
    'API version not supported',
    'This API version does not support the call (details.supported_version names one that does).',
  ),
  crmRecordGone(
    'crm-not-found',
    'NOT_FOUND',
    'Record not found',
    'There is no data for this ID in the module: the CRM record was deleted.',
    'zoho-sync only calls CRM to read records by ID, where NOT_FOUND means the record is gone; the CRM client returns null for it.',
  ),
  crmRecordGone(
    'crm-no-content',
    'NO_CONTENT',
    'No content',
    'Zoho CRM had nothing to return (HTTP 204): the record was deleted or the list is empty.',
  ),
  crmRecordGone(
    'crm-no-records-found',
    'NO_RECORDS_FOUND',
    'No records found',
    'No CRM record matched.',
  ),
  {
    id: 'crm-not-modified',
    service: 'crm',
    code: 'Not Modified',
    title: 'Not modified',
    meaning: 'The record did not change since the If-Modified-Since time sent with the request.',
    fix: 'Nothing to fix: there is no change to sync.',
    action: 'fail-quiet',
    scope: 'record',
    source: CRM_OAS,
    note: 'zoho-sync does not send If-Modified-Since today; the row is here for completeness.',
  },
  {
    id: 'crm-limit-exceeded-400',
    service: 'crm',
    code: 'LIMIT_EXCEEDED',
    httpStatus: 400,
    title: 'Request limit exceeded',
    meaning:
      'With HTTP 400 this is a limit of the request itself (too many IDs, fields or criteria, e.g. "Record count exceeded"), which waiting does not fix.',
    fix: 'This is most likely a zoho-sync bug (a request asked for too much at once): report it with the alert.',
    action: 'fail-alert',
    scope: 'record',
    source: `${CRM_OAS} (message enum); COQL 400 errors in zoho-crm-api.md §5`,
    note: 'The same code is used for rate limits; only the HTTP 400 form is treated as a request problem.',
  },
  {
    id: 'crm-limit-exceeded',
    service: 'crm',
    code: 'LIMIT_EXCEEDED',
    title: 'API limit exceeded',
    meaning: 'The API credits or the concurrency limit of the CRM organization are spent.',
    fix: 'Nothing to do if it is rare. If frequent, check Setup > Developer Hub > APIs > API usage in Zoho CRM and other integrations spending the same credits, or buy more credits.',
    action: 'defer',
    scope: 'record',
    source: CRM_OAS,
    retryAfterMs: MINUTE_MS,
  },
  {
    id: 'crm-limit-reached',
    service: 'crm',
    code: 'LIMIT_REACHED',
    title: 'Limit reached',
    meaning: 'A CRM limit was reached (API credits, or a per-record or per-feature limit).',
    fix: 'Nothing to do if it is rare. If it keeps coming back, read the message in the alert: a storage or feature limit needs an admin in Zoho CRM.',
    action: 'defer',
    scope: 'record',
    source: CRM_OAS,
    note: 'Deferral is bounded by lib/sync, so a limit that never lifts still ends in an alert.',
    retryAfterMs: MINUTE_MS,
  },
  {
    id: 'crm-too-many-requests',
    service: 'crm',
    code: 'TOO_MANY_REQUESTS',
    title: 'Too many requests',
    meaning:
      'The CRM organization made too many calls: credits of the rolling 24 hours or concurrency are spent.',
    fix: 'Nothing to do if it is rare. If frequent, check the API usage in Zoho CRM and other integrations spending the same credits.',
    action: 'defer',
    scope: 'record',
    source:
      'unconfirmed: zoho-crm-api.md §6 (not in the OpenAPI enums; HTTP 429 with this code per secondary sources)',
    retryAfterMs: MINUTE_MS,
  },
  {
    id: 'crm-record-locked',
    service: 'crm',
    code: 'RECORD_LOCKED',
    title: 'Record locked',
    meaning: 'The CRM record is locked for now, e.g. while it is merged or awaits approval.',
    fix: 'Nothing to do if it passes. If the retries run out, check in Zoho CRM why the record stays locked.',
    action: 'backoff',
    scope: 'record',
    source: CRM_OAS,
    note: 'Locks are usually short; backoff is bounded, so a lock that stays ends in an alert.',
  },
  {
    id: 'crm-record-in-blueprint',
    service: 'crm',
    code: 'RECORD_IN_BLUEPRINT',
    title: 'Record in blueprint',
    meaning: 'The record is in a Blueprint process that blocks this change.',
    fix: 'Move the record on in its Blueprint in Zoho CRM, or leave its blueprint fields out of the sync for connection {connectionId}.',
    action: 'fail-alert',
    scope: 'record',
    source: CRM_OAS,
  },
  {
    id: 'crm-cannot-perform-action',
    service: 'crm',
    code: 'CANNOT_PERFORM_ACTION',
    title: 'Cannot perform action',
    meaning: 'Zoho CRM cannot do this to the record in its current state.',
    fix: "Read Zoho's message in the alert and check the record in Zoho CRM.",
    action: 'fail-alert',
    scope: 'record',
    source: CRM_OAS,
  },
  {
    id: 'crm-cannot-process',
    service: 'crm',
    code: 'CANNOT_PROCESS',
    title: 'Cannot process',
    meaning: 'Zoho CRM could not process the request (e.g. the record is in "stop processing").',
    fix: "Read Zoho's message in the alert and check the record in Zoho CRM.",
    action: 'fail-alert',
    scope: 'record',
    source: CRM_OAS,
  },
  {
    id: 'crm-internal-error',
    service: 'crm',
    code: 'INTERNAL_ERROR',
    title: 'Internal error',
    meaning: 'Zoho CRM had an internal error. It is usually transient.',
    fix: 'Nothing to do if it passes: zoho-sync retries with growing delays. If it persists, check https://status.zoho.com.',
    action: 'backoff',
    scope: 'record',
    source: CRM_OAS,
  },
  {
    id: 'crm-not-subscribed',
    service: 'crm',
    code: 'NOT_SUBSCRIBED',
    title: 'Not subscribed',
    meaning: 'The Notification API channel is not (or no longer) subscribed.',
    fix: 'Re-enable the CRM notification channel of connection {connectionId}; check that the scheduled renewal runs.',
    action: 'fail-alert',
    scope: 'record',
    source:
      'official: Zoho CRM v8 OpenAPI, https://github.com/zoho/crm-oas v8.0/notifications.json',
  },

  // ---------------------------------------------------------------- accounts server (OAuth)
  {
    id: 'accounts-invalid-client',
    service: 'accounts',
    code: 'invalid_client',
    title: 'Invalid client',
    meaning:
      'The client ID or client secret is wrong, or the client belongs to another data centre.',
    fix: 'Check clientId, clientSecret and dataCenter in secret {secretId} against the Zoho API console (https://api-console.zoho.com) of the right data centre.',
    action: 'fail-alert',
    scope: 'connection',
    source: 'unconfirmed: not seen on an official page (zoho-oauth.md §6)',
  },
  {
    id: 'accounts-invalid-client-secret',
    service: 'accounts',
    code: 'invalid_client_secret',
    title: 'Invalid client secret',
    meaning: 'The client secret does not match the client ID.',
    fix: 'Copy the client secret again from the Zoho API console into clientSecret in secret {secretId}.',
    action: 'fail-alert',
    scope: 'connection',
    source: 'unconfirmed: https://github.com/schmorrison/Zoho/pull/34 (third-party client)',
  },
  {
    id: 'accounts-invalid-code',
    service: 'accounts',
    code: 'invalid_code',
    title: 'Invalid or revoked code',
    meaning:
      'The refresh token was revoked or belongs to another data centre; during setup, the grant code expired or was already used.',
    fix: 'Re-authorize connection {connectionId}: generate a new grant code, exchange it, and store the new refreshToken in secret {secretId}. Check dataCenter (or accountsUrl) too: the accounts server must be the one of the Zoho account.',
    action: 'fail-alert',
    scope: 'connection',
    source: 'official: https://zoho.com/crm/developer/docs/api/v2/token-validity.html',
  },
  {
    id: 'accounts-access-denied',
    service: 'accounts',
    code: 'Access Denied',
    title: 'Too many token requests',
    meaning:
      'More than 10 access tokens were requested with this refresh token within 10 minutes ("You have made too many requests continuously"). This is a pause, not a failure.',
    fix: 'Nothing to do if it is rare: zoho-sync stops refreshing for 10 minutes and defers the work. If frequent, look for another system refreshing with the same refresh token of connection {connectionId}.',
    action: 'defer',
    scope: 'record',
    source: 'official: https://zoho.com/accounts/protocol/oauth/token-limits.html',
    note: 'Zoho Projects also answers "Access Denied" when too many refresh tokens exist; for CRM and Books the oldest refresh token is silently invalidated instead.',
    retryAfterMs: 10 * MINUTE_MS,
  },
  {
    id: 'accounts-access-denied-grant',
    service: 'accounts',
    code: 'access_denied',
    title: 'Too many grant codes',
    meaning: 'More than 10 grant codes were made for this client within 10 minutes.',
    fix: 'Wait 10 minutes before exchanging another grant code for connection {connectionId}.',
    action: 'defer',
    scope: 'record',
    source: 'official: https://zoho.com/crm/developer/docs/api/v3/token-validity.html',
    retryAfterMs: 10 * MINUTE_MS,
  },
  {
    id: 'accounts-missing-org-info',
    service: 'accounts',
    code: 'missing_org_info',
    title: 'Missing organization info',
    meaning:
      'A client-credentials token request lacked the organization (soid) of a multi-org product.',
    fix: 'zoho-sync uses refresh tokens, not client credentials: re-authorize connection {connectionId} with the grant-code flow and store the refresh token in secret {secretId}.',
    action: 'fail-alert',
    scope: 'connection',
    source:
      'official: https://zoho.com/accounts/protocol/oauth/self-client/client-credentials-flow.html',
  },
  {
    id: 'oauth-invalid-oauthtoken',
    service: 'any',
    code: 'INVALID_OAUTHTOKEN',
    title: 'Access token invalidated',
    meaning:
      'The access token was invalidated because too many access tokens exist for one refresh token (the oldest is dropped).',
    fix: 'zoho-sync refreshes and replays once. If frequent, look for other systems refreshing with the same refresh token of connection {connectionId}.',
    action: 'refresh-token-and-retry',
    scope: 'record',
    source: 'official: https://zoho.com/accounts/protocol/oauth/token-limits.html',
  },
  {
    id: 'oauth-invalid-token',
    service: 'any',
    code: 'invalid_token',
    title: 'Access token revoked',
    meaning:
      'The access token belongs to a refresh token that was revoked. The refresh will then fail with invalid_code and be alerted.',
    fix: 'zoho-sync refreshes once; if the refresh token was revoked, re-authorize connection {connectionId}.',
    action: 'refresh-token-and-retry',
    scope: 'record',
    source: 'official: https://zoho.com/crm/developer/docs/api/v2/token-validity.html',
  },

  // ---------------------------------------------------------------- zoho-sync's own
  {
    id: 'network',
    service: 'any',
    title: 'Network error or timeout',
    meaning:
      'No HTTP answer arrived: the call timed out, or the connection was refused or reset, or DNS failed.',
    fix: 'Nothing to do if it passes: zoho-sync retries with growing delays. If it persists, check the outbound network of the worker and https://status.zoho.com.',
    action: 'backoff',
    scope: 'record',
    source: 'zoho-sync design: a call without an answer is transient until proven otherwise',
    note: 'A timed-out write may have reached Zoho; every Books write is an upsert by cf_crm_id, so a retry cannot duplicate it.',
  },
  {
    id: 'unreadable-response',
    service: 'any',
    title: 'Unreadable response',
    meaning:
      'Zoho answered with a success status, but the body was not the JSON expected (e.g. an HTML page from a proxy, or no record in it).',
    fix: 'Nothing to do if it passes. If it persists, check that dataCenter in secret {secretId} points at a real Zoho API host.',
    action: 'backoff',
    scope: 'record',
    source: 'zoho-sync design: a garbled answer is retried a bounded number of times',
  },
  {
    id: 'wrong-data-centre',
    service: 'any',
    title: 'Wrong data centre',
    meaning:
      'A token that was just refreshed is still rejected: the API host and the accounts server most likely belong to different Zoho data centres.',
    fix: 'Check dataCenter (and accountsUrl, if set) in secret {secretId}: it must be the data centre where the Zoho account lives (.com, .eu, .in, .com.au, .jp, .ca, .sa, .com.cn).',
    action: 'fail-alert',
    scope: 'connection',
    source:
      'unconfirmed: zoho-books-api.md §1 (origin article); each DC holds only its own users: https://www.zoho.com/crm/developer/docs/api/v8/multi-dc.html',
    note: 'Zoho sends no code for this. classifyZohoFailure never returns it; the token refresher raises it when a 401 follows a fresh refresh.',
  },
  {
    id: 'unique-custom-field-missing',
    service: 'books',
    title: 'Unique custom field missing',
    meaning:
      'Books has no custom field cf_crm_id that rejects duplicate values on this module, so a record cannot be addressed by its CRM id (X-Unique-Identifier-Key) and a replayed create could duplicate it.',
    fix: 'In Zoho Books, for contacts, items and invoices: Settings > Preferences > (Customers and Vendors, Items, Invoices) > Field Customization > New Custom Field, label "CRM ID" (API name cf_crm_id), type Text, and tick "Do not allow duplicate values". Then run zoho-sync doctor --connection {connectionId} again.',
    action: 'fail-alert',
    scope: 'connection',
    source:
      'zoho-sync design: Zoho sends no code for a missing unique field; zoho-books-api.md §7 (official, via mirror) says a unique custom field addresses a record',
    note: 'Zoho sends no code for this. The doctor command detects it with a write-nothing probe: an update addressed by a cf_crm_id value no record holds, without X-Upsert.',
  },
  {
    id: 'unclassified',
    service: 'any',
    title: 'Unrecognised response',
    meaning: 'Zoho answered with a status and code this table does not know at all.',
    fix: "Read Zoho's status, code and message in the alert. Report them so this table can be given a row.",
    action: 'fail-alert',
    scope: 'record',
    source: 'zoho-sync design: what is not understood is alerted, never retried forever',
  },
] as const satisfies readonly ZohoErrorEntry[];

/** The id of a row of {@link ZOHO_ERROR_TABLE}. */
export type ZohoErrorId = (typeof ROWS)[number]['id'];

/** Every row of the error table, in the order the README shows them. */
export const ZOHO_ERROR_TABLE: readonly ZohoErrorEntry[] = ROWS;

const BY_ID: ReadonlyMap<string, ZohoErrorEntry> = new Map(
  ZOHO_ERROR_TABLE.map((row) => [row.id, row]),
);

/** The row with this id, or `undefined` (e.g. for an id read back from stored state). */
export const findErrorEntry = (id: string): ZohoErrorEntry | undefined => BY_ID.get(id);

/**
 * The row with this (compile-time checked) id.
 * @throws {Error} never for a {@link ZohoErrorId}; only if the table and the type disagree.
 */
export const getErrorEntry = (id: ZohoErrorId): ZohoErrorEntry => {
  const entry = BY_ID.get(id);
  if (entry === undefined) throw new Error(`error table has no row ${id}`);
  return entry;
};

/** What {@link classifyZohoFailure} looks at. */
export interface ZohoFailureInput {
  readonly service: ZohoService;
  readonly httpStatus?: number;
  /** Zoho's code: Books `code`, CRM `code`, accounts `error`. */
  readonly code?: number | string;
}

/** What {@link classifyZohoFailure} decided. */
export interface ZohoFailureClassification {
  readonly entry: ZohoErrorEntry;
  /**
   * True when no row names this failure: the code has no row, or the failure fell through to a
   * catch-all row (`http-4xx`, `http-5xx`, `unclassified`). Worth a log line asking for a row.
   */
  readonly unknown: boolean;
}

const FALLBACK_IDS: ReadonlySet<string> = new Set(['http-4xx', 'http-5xx', 'unclassified']);

const inRange = (value: number, range: NumberRange): boolean =>
  value >= range.from && value <= range.to;

const numericCode = (code: number | string): number | undefined => {
  if (typeof code === 'number') return Number.isInteger(code) ? code : undefined;
  return /^\d{1,9}$/.test(code) ? Number(code) : undefined;
};

/** Books code 0 means success and an empty code means none: neither can pick a row. */
const meaningfulCode = (input: ZohoFailureInput): number | string | undefined => {
  const { code } = input;
  if (code === undefined || code === '') return undefined;
  if (input.service === 'books' && numericCode(code) === 0) return undefined;
  return code;
};

/** A row with a code applies to any status unless it names one. */
const statusFits = (row: ZohoErrorEntry, httpStatus: number | undefined): boolean =>
  row.httpStatus === undefined || row.httpStatus === httpStatus;

/** Rows that name this exact code, the ones naming this status first. */
const codeMatches = (
  service: ZohoService | 'any',
  code: number | string,
  httpStatus: number | undefined,
): ZohoErrorEntry | undefined => {
  const candidates = ZOHO_ERROR_TABLE.filter(
    (row) =>
      row.service === service &&
      row.code !== undefined &&
      String(row.code) === String(code) &&
      statusFits(row, httpStatus),
  );
  return candidates.find((row) => row.httpStatus !== undefined) ?? candidates[0];
};

const rangeMatch = (input: ZohoFailureInput, code: number): ZohoErrorEntry | undefined =>
  ZOHO_ERROR_TABLE.find(
    (row) =>
      (row.service === input.service || row.service === 'any') &&
      row.codeRange !== undefined &&
      inRange(code, row.codeRange) &&
      statusFits(row, input.httpStatus),
  );

const statusMatch = (service: ZohoService | 'any', status: number): ZohoErrorEntry | undefined =>
  ZOHO_ERROR_TABLE.find(
    (row) =>
      row.service === service &&
      row.code === undefined &&
      row.codeRange === undefined &&
      row.httpStatus === status,
  );

const statusRangeMatch = (service: ZohoService, status: number): ZohoErrorEntry | undefined =>
  ZOHO_ERROR_TABLE.find(
    (row) =>
      (row.service === service || row.service === 'any') &&
      row.httpStatusRange !== undefined &&
      inRange(status, row.httpStatusRange),
  );

/**
 * Finds the row for a failed Zoho call. Pure.
 *
 * Precedence: (1) a row of this service with this code, (2) an `any` row with this code,
 * (3) a code range, (4) a row for the exact HTTP status (this service first, then `any`),
 * (5) the `4xx`/`5xx` catch-alls, (6) `unclassified`. A row with both a code and a status
 * applies only to that status, and wins over the same code without one. So an unknown code
 * falls back by status: unknown 401 refreshes, 429 defers, 5xx backs off, other 4xx fail
 * with an alert, and nothing is retried forever.
 */
export const classifyZohoFailure = (input: ZohoFailureInput): ZohoFailureClassification => {
  const code = meaningfulCode(input);
  const { httpStatus } = input;
  if (code !== undefined) {
    const numeric = numericCode(code);
    const byCode =
      codeMatches(input.service, code, httpStatus) ??
      codeMatches('any', code, httpStatus) ??
      (numeric === undefined ? undefined : rangeMatch(input, numeric));
    if (byCode !== undefined) return { entry: byCode, unknown: false };
  }
  const codeUnknown = code !== undefined;
  if (httpStatus !== undefined) {
    const byStatus = statusMatch(input.service, httpStatus) ?? statusMatch('any', httpStatus);
    if (byStatus !== undefined) return { entry: byStatus, unknown: codeUnknown };
    const byClass = statusRangeMatch(input.service, httpStatus);
    if (byClass !== undefined) return { entry: byClass, unknown: true };
  }
  return { entry: getErrorEntry('unclassified'), unknown: true };
};

/** True for the catch-all rows that mean "no row knows this failure". */
export const isFallbackEntry = (entry: ZohoErrorEntry): boolean => FALLBACK_IDS.has(entry.id);

/** Values for the `{connectionId}` and `{secretId}` placeholders of a row's `fix`. */
export interface FixPlaceholders {
  readonly connectionId: string;
  readonly secretId: string;
}

/** Returns `entry.fix` with its placeholders filled in, ready for an alert. */
export const renderFix = (entry: ZohoErrorEntry, values: FixPlaceholders): string =>
  entry.fix
    .replaceAll('{connectionId}', values.connectionId)
    .replaceAll('{secretId}', values.secretId);
