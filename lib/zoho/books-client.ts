import { unreadableResponseError } from './errors';
import type { RateLimitInfo } from './rate-limit-headers';
import { type ZohoHttpDeps, type ZohoHttpMethod, zohoRequest } from './zoho-http';

/** The Books modules zoho-sync writes. */
export type BooksEntity = 'contacts' | 'items' | 'invoices';

/** Which Books organization to call, and with which token. */
export interface BooksTarget {
  /** `api_domain` from the token response, e.g. `https://www.zohoapis.eu`. */
  readonly apiDomain: string;
  readonly accessToken: string;
  /** Books `organization_id`, sent as a query parameter on every call. */
  readonly organizationId: string;
}

/** A Books record as Zoho returns it; fields are read by the mappers in lib/sync. */
export type BooksRecord = { readonly [field: string]: unknown };

/** One record and where it lives. */
export interface BooksRecordResult {
  readonly record: BooksRecord;
  /** The record's `contact_id` / `item_id` / `invoice_id` (always a string). */
  readonly booksId: string;
  /** Zoho's rate-limit headers, for the limiter and the daily quota. */
  readonly rateLimit?: RateLimitInfo;
}

/** One page of a list. */
export interface BooksListResult {
  readonly records: readonly BooksRecord[];
  /** `page_context.has_more_page`: fetch `page + 1` while true. */
  readonly hasMorePage: boolean;
  readonly rateLimit?: RateLimitInfo;
}

/** A custom field with unique values, used to address a record without its Books ID. */
export interface UniqueFieldKey {
  /** The custom field's API name, e.g. `cf_crm_id`. */
  readonly apiName: string;
  /** Its value, e.g. the CRM record id. */
  readonly value: string;
}

export interface UpsertOptions {
  /**
   * Create the record from `body` when no record has the key's value (`X-Upsert: true`).
   * When false, a missing record is an error.
   * @default true
   */
  readonly upsert?: boolean;
}

/** Query parameters of a create or update call (e.g. invoices' `ignore_auto_number_generation`). */
export type BooksQuery = Readonly<Record<string, string>>;

const RECORD_KEYS = {
  contacts: { singular: 'contact', idField: 'contact_id' },
  items: { singular: 'item', idField: 'item_id' },
  invoices: { singular: 'invoice', idField: 'invoice_id' },
} as const satisfies Record<BooksEntity, { singular: string; idField: string }>;

const isRecord = (value: unknown): value is Record<string, unknown> =>
  typeof value === 'object' && value !== null && !Array.isArray(value);

/** The Books client's calls; each makes exactly one HTTP request. */
export interface BooksClient {
  /**
   * Updates, or with `upsert` creates, the record whose unique custom field holds `key.value`:
   * `PUT /books/v3/{entity}` with `X-Unique-Identifier-Key/Value` (and `X-Upsert: true`).
   * Idempotent, so a retried create cannot make a duplicate.
   * @throws {ZohoApiError} for any failure.
   */
  upsertByUniqueField(
    target: BooksTarget,
    entity: BooksEntity,
    key: UniqueFieldKey,
    body: object,
    options?: UpsertOptions,
  ): Promise<BooksRecordResult>;
  /**
   * `POST /books/v3/{entity}`. Not idempotent: prefer {@link BooksClient.upsertByUniqueField}.
   * @throws {ZohoApiError} for any failure.
   */
  create(
    target: BooksTarget,
    entity: BooksEntity,
    body: object,
    query?: BooksQuery,
  ): Promise<BooksRecordResult>;
  /**
   * `PUT /books/v3/{entity}/{booksId}`.
   * @throws {ZohoApiError} for any failure (code 1002 when the record is gone).
   */
  update(
    target: BooksTarget,
    entity: BooksEntity,
    booksId: string,
    body: object,
    query?: BooksQuery,
  ): Promise<BooksRecordResult>;
  /**
   * `GET /books/v3/{entity}/{booksId}`.
   * @throws {ZohoApiError} for any failure (code 1002 when the record is gone).
   */
  get(target: BooksTarget, entity: BooksEntity, booksId: string): Promise<BooksRecordResult>;
  /**
   * One page of `GET /books/v3/{entity}` with filters such as `contact_name`, `page`, `per_page`.
   * @throws {ZohoApiError} for any failure.
   */
  list(target: BooksTarget, entity: BooksEntity, query?: BooksQuery): Promise<BooksListResult>;
  /**
   * `GET /books/v3/organizations` (no organization_id): the organizations the token's Zoho user
   * may use (scope ZohoBooks.settings.READ, reference §1).
   * @throws {ZohoApiError} for any failure.
   */
  listOrganizations(
    target: Pick<BooksTarget, 'apiDomain' | 'accessToken'>,
  ): Promise<BooksOrganizationsResult>;
  /**
   * `POST /books/v3/{contacts|items}/{booksId}/{active|inactive}` (reference §8.1, §8.2): the way
   * to retire a record instead of deleting it. Invoices have no such status.
   * @throws {ZohoApiError} for any failure (code 1002 when the record is gone).
   */
  setStatus(
    target: BooksTarget,
    entity: 'contacts' | 'items',
    booksId: string,
    status: 'active' | 'inactive',
  ): Promise<{ readonly rateLimit?: RateLimitInfo }>;
}

/** One organization of `GET /organizations`. */
export interface BooksOrganization {
  readonly organizationId: string;
  readonly name: string | undefined;
}

export interface BooksOrganizationsResult {
  readonly organizations: readonly BooksOrganization[];
  readonly rateLimit?: RateLimitInfo;
}

/**
 * Builds the Zoho Books v3 client. Every call sends `Authorization: Zoho-oauthtoken <token>`,
 * `organization_id`, and JSON bodies; base URL `${apiDomain}/books/v3`.
 * @example
 * const books = createBooksClient({ fetch, timeoutMs: config.zohoTimeoutMs });
 * const { booksId } = await books.upsertByUniqueField(target, 'contacts',
 *   { apiName: 'cf_crm_id', value: crmRecordId }, contactBody);
 */
export const createBooksClient = (deps: ZohoHttpDeps): BooksClient => {
  const call = async (
    target: BooksTarget,
    method: ZohoHttpMethod,
    path: string,
    extra: { body?: object; query?: BooksQuery; headers?: Record<string, string> } = {},
  ) => {
    const url = `${target.apiDomain.replace(/\/+$/, '')}/books/v3${path}`;
    const response = await zohoRequest(deps, {
      service: 'books',
      method,
      url,
      // organization_id last, so a caller's query cannot point the call at another organization.
      query: { ...extra.query, organization_id: target.organizationId },
      headers: { ...extra.headers, Authorization: `Zoho-oauthtoken ${target.accessToken}` },
      jsonBody: extra.body,
    });
    const context = {
      service: 'books',
      method,
      endpoint: new URL(url).pathname,
      httpStatus: response.status,
      rateLimit: response.rateLimit,
    } as const;
    return { response, context };
  };

  const singleRecord = async (
    target: BooksTarget,
    entity: BooksEntity,
    method: ZohoHttpMethod,
    path: string,
    extra: { body?: object; query?: BooksQuery; headers?: Record<string, string> } = {},
  ): Promise<BooksRecordResult> => {
    const { response, context } = await call(target, method, path, extra);
    const { singular, idField } = RECORD_KEYS[entity];
    const body = isRecord(response.body) ? response.body : {};
    const record = body[singular];
    if (!isRecord(record)) throw unreadableResponseError(context, `no "${singular}" in the body`);
    const booksId = record[idField];
    // Books IDs have 19 digits: a JSON number would already have lost precision.
    if (typeof booksId !== 'string' || booksId === '') {
      throw unreadableResponseError(context, `"${singular}.${idField}" is not a string`);
    }
    return { record, booksId, rateLimit: response.rateLimit };
  };

  const idPath = (entity: BooksEntity, booksId: string) =>
    `/${entity}/${encodeURIComponent(booksId)}`;

  return {
    upsertByUniqueField: (target, entity, key, body, options = {}) =>
      singleRecord(target, entity, 'PUT', `/${entity}`, {
        body,
        headers: {
          'X-Unique-Identifier-Key': key.apiName,
          'X-Unique-Identifier-Value': key.value,
          ...((options.upsert ?? true) ? { 'X-Upsert': 'true' } : {}),
        },
      }),
    create: (target, entity, body, query) =>
      singleRecord(target, entity, 'POST', `/${entity}`, { body, query }),
    update: (target, entity, booksId, body, query) =>
      singleRecord(target, entity, 'PUT', idPath(entity, booksId), { body, query }),
    get: (target, entity, booksId) => singleRecord(target, entity, 'GET', idPath(entity, booksId)),
    listOrganizations: async (target) => {
      const url = `${target.apiDomain.replace(/\/+$/, '')}/books/v3/organizations`;
      const response = await zohoRequest(deps, {
        service: 'books',
        method: 'GET',
        url,
        headers: { Authorization: `Zoho-oauthtoken ${target.accessToken}` },
      });
      const body = isRecord(response.body) ? response.body : {};
      const list = body.organizations;
      if (!Array.isArray(list) || !list.every(isRecord)) {
        throw unreadableResponseError(
          {
            service: 'books',
            method: 'GET',
            endpoint: new URL(url).pathname,
            httpStatus: response.status,
            rateLimit: response.rateLimit,
          },
          'no "organizations" list in the body',
        );
      }
      return {
        organizations: list.map((organization) => ({
          organizationId: String(organization.organization_id ?? ''),
          name: typeof organization.name === 'string' ? organization.name : undefined,
        })),
        rateLimit: response.rateLimit,
      };
    },
    list: async (target, entity, query) => {
      const { response, context } = await call(target, 'GET', `/${entity}`, { query });
      const body = isRecord(response.body) ? response.body : {};
      const records = body[entity];
      if (!Array.isArray(records) || !records.every(isRecord)) {
        throw unreadableResponseError(context, `no "${entity}" list in the body`);
      }
      const pageContext = body.page_context;
      const hasMorePage = isRecord(pageContext) && pageContext.has_more_page === true;
      return { records, hasMorePage, rateLimit: response.rateLimit };
    },
    setStatus: async (target, entity, booksId, status) => {
      const { response } = await call(target, 'POST', `${idPath(entity, booksId)}/${status}`);
      return { rateLimit: response.rateLimit };
    },
  };
};
