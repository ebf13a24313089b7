import type { ZohoErrorId } from './error-table';
import { isZohoApiError, unreadableResponseError } from './errors';
import type { RateLimitInfo } from './rate-limit-headers';
import { type ZohoHttpDeps, type ZohoHttpResponse, zohoRequest } from './zoho-http';

/** Which CRM organization to call, and with which token. */
export interface CrmTarget {
  /** `api_domain` from the token response, e.g. `https://www.zohoapis.eu`. */
  readonly apiDomain: string;
  readonly accessToken: string;
}

/** A CRM record as Zoho returns it; fields are read by the mappers in lib/sync. */
export type CrmRecord = Readonly<Record<string, unknown>>;

export interface CrmRecordResult {
  /** `null` when the record no longer exists (HTTP 204, `NO_CONTENT` or `NOT_FOUND`). */
  readonly record: CrmRecord | null;
  readonly rateLimit?: RateLimitInfo;
}

export interface CrmRecordsResult {
  /** The records Zoho returned; deleted ones are simply absent. */
  readonly records: readonly CrmRecord[];
  readonly rateLimit?: RateLimitInfo;
}

/**
 * At most this many ids per `getRecords` call (the v1 API's documented limit; the v8 limit was
 * not found, zoho-crm-api.md §5).
 */
export const CRM_MAX_IDS_PER_CALL = 100;

/** Rows meaning "the record is gone": reading it returns null instead of throwing. */
const RECORD_GONE_ROWS: ReadonlySet<string> = new Set<ZohoErrorId>([
  'crm-no-content',
  'crm-not-found',
]);

const isRecord = (value: unknown): value is Record<string, unknown> =>
  typeof value === 'object' && value !== null && !Array.isArray(value);

/** The CRM client's calls; each makes exactly one HTTP request. */
export interface CrmClient {
  /**
   * `GET /crm/v8/{module}/{recordId}`. Resolves `record: null` when the record no longer exists.
   * @throws {ZohoApiError} for any other failure.
   */
  getRecord(
    target: CrmTarget,
    module: string,
    recordId: string,
    fields?: readonly string[],
  ): Promise<CrmRecordResult>;
  /**
   * `GET /crm/v8/{module}?ids=...&fields=...`: up to {@link CRM_MAX_IDS_PER_CALL} records in one
   * call (1 credit). Pass `fields`: v8 list calls are reported to require it.
   * @throws {RangeError} when `ids` is empty or too long (a bug in the caller).
   * @throws {ZohoApiError} for any failure of the call.
   */
  getRecords(
    target: CrmTarget,
    module: string,
    ids: readonly string[],
    fields?: readonly string[],
  ): Promise<CrmRecordsResult>;
}

/**
 * Builds the Zoho CRM v8 client (reads only). Base URL `${apiDomain}/crm/v8`; every call sends
 * `Authorization: Zoho-oauthtoken <token>`.
 */
export const createCrmClient = (deps: ZohoHttpDeps): CrmClient => {
  const get = (target: CrmTarget, path: string, query: Record<string, string>) =>
    zohoRequest(deps, {
      service: 'crm',
      method: 'GET',
      url: `${target.apiDomain.replace(/\/+$/, '')}/crm/v8${path}`,
      query,
      headers: { Authorization: `Zoho-oauthtoken ${target.accessToken}` },
    });

  const dataOf = (response: ZohoHttpResponse, endpoint: string): readonly CrmRecord[] => {
    // 204 No Content: nothing there.
    if (response.body === undefined) return [];
    const data = isRecord(response.body) ? response.body.data : undefined;
    if (Array.isArray(data) && data.every(isRecord)) return data;
    throw unreadableResponseError(
      {
        service: 'crm',
        method: 'GET',
        endpoint,
        httpStatus: response.status,
        rateLimit: response.rateLimit,
      },
      'no "data" list in the body',
    );
  };

  const fieldsQuery = (fields: readonly string[] | undefined): Record<string, string> =>
    fields === undefined || fields.length === 0 ? {} : { fields: fields.join(',') };

  return {
    getRecord: async (target, module, recordId, fields) => {
      const path = `/${encodeURIComponent(module)}/${encodeURIComponent(recordId)}`;
      try {
        const response = await get(target, path, fieldsQuery(fields));
        const [record] = dataOf(response, `/crm/v8${path}`);
        return { record: record ?? null, rateLimit: response.rateLimit };
      } catch (error) {
        if (isZohoApiError(error) && RECORD_GONE_ROWS.has(error.entry.id)) {
          return { record: null, rateLimit: error.rateLimit };
        }
        throw error;
      }
    },
    getRecords: async (target, module, ids, fields) => {
      if (ids.length === 0 || ids.length > CRM_MAX_IDS_PER_CALL) {
        throw new RangeError(
          `getRecords takes 1 to ${CRM_MAX_IDS_PER_CALL} ids, got ${ids.length}`,
        );
      }
      const path = `/${encodeURIComponent(module)}`;
      const response = await get(target, path, { ids: ids.join(','), ...fieldsQuery(fields) });
      return { records: dataOf(response, `/crm/v8${path}`), rateLimit: response.rateLimit };
    },
  };
};
