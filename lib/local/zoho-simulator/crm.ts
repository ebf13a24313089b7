/**
 * Zoho CRM v8 record reads (`/crm/v8/{module}/{id}` and `/crm/v8/{module}?ids=` or a sorted page),
 * which is all the sync needs from CRM: notifications carry ids, the worker reads the records,
 * the reconciliation sweep lists what changed (reference zoho-crm-api.md §4, §5). Shapes from
 * Zoho's OpenAPI file zoho-crm-oas/v8.0/record.json. The Notification API (`/actions/watch`) and
 * its callbacks live in notifications.ts. Record writes, search, COQL and CRM credit/concurrency
 * limits are not simulated.
 */
import { CRM_MODULES, CRM_ROOT, type CrmModule, canonicalModule } from './crm-modules';
import { headerValue, json, type SimRequest, type SimResponse } from './http-io';
import { crmTimestamp } from './ids';
import { handleWatchRequest, notifyRecordChange, WATCH_PATH } from './notifications';
import { allowsCrmRead } from './scopes';
import type { AccessTokenState, SimulatorState } from './state';
import type { CrmRecord } from './types';

export { CRM_MODULES, CRM_ROOT, type CrmModule, canonicalModule };

/** The whole-request error shape `{code, details, message, status:'error'}` (OAS API_Exception). */
const crmError = (
  httpStatus: number,
  code: string,
  message: string,
  details: Record<string, unknown> = {},
): SimResponse => json(httpStatus, { code, details, message, status: 'error' });

/** Codes and messages from the OAS `API_Exception` enums unless noted. */
export const crmErrors = {
  invalidToken: () => crmError(401, 'INVALID_TOKEN', 'invalid oauth token'),
  /** The code is in the OAS enum; the message and the 401 are unconfirmed. */
  scopeMismatch: () =>
    crmError(401, 'OAUTH_SCOPE_MISMATCH', 'invalid oauth scope to access this URL'),
  /** OAS `InvalidUrlError`: details.resource_path_index is the module's position after /crm/v8. */
  invalidModule: () =>
    crmError(400, 'INVALID_MODULE', 'The module name given seems to be invalid', {
      resource_path_index: 0,
    }),
  invalidUrl: () =>
    crmError(
      404,
      'INVALID_URL_PATTERN',
      'Please check if the URL trying to access is a correct one',
    ),
  /** OAS `InvalidIDError`. */
  invalidId: (id: string) =>
    crmError(400, 'INVALID_DATA', 'the id given seems to be invalid', { id }),
  /** OAS `MandatoryParamError`. */
  requiredParam: (param: string) =>
    crmError(400, 'REQUIRED_PARAM_MISSING', 'One of the expected parameter is missing', {
      param_name: param,
    }),
  invalidParam: (param: string) =>
    crmError(400, 'INVALID_DATA', 'invalid data', { param_name: param }),
  limitExceeded: (param: string, limit: number, message: string) =>
    crmError(400, 'LIMIT_EXCEEDED', message, { param_name: param, limit }),
  /** A real CRM operation the simulator does not implement (501 is ours, to be unmistakable). */
  notSimulated: () =>
    crmError(501, 'NOT_SUPPORTED', 'This operation is not implemented by the Zoho simulator'),
  internalError: () => crmError(500, 'INTERNAL_ERROR', 'Internal server error occurred.'),
  /** Credits or concurrency exceeded (§6: the code name is unconfirmed, not in the OAS enum). */
  tooManyRequests: () =>
    crmError(429, 'TOO_MANY_REQUESTS', 'You have made too many requests. Please try again later.'),
} as const;

/** 204 No Content: OAS code NO_CONTENT, how CRM answers a read that finds nothing (§5, §7). */
const noContent = (): SimResponse => ({ status: 204 });

const isCrmId = (id: string) => /^\d{1,25}$/.test(id);

/**
 * Creates or replaces a record, as a CRM user's save would: `Modified_Time` becomes the
 * simulator's now unless the record carries one (tests pin it), and channels watching the module
 * are notified (`insert` for a new id, `update` otherwise).
 */
export const putCrmRecord = (state: SimulatorState, module: string, record: CrmRecord): void => {
  const canonical = canonicalModule(module);
  if (!canonical) throw new Error(`unknown CRM module ${module}; known: ${CRM_MODULES.join(', ')}`);
  if (typeof record.id !== 'string' || !isCrmId(record.id)) {
    throw new Error(`CRM record ids are numeric strings, got ${JSON.stringify(record.id)}`);
  }
  let records = state.crm.get(canonical);
  if (!records) {
    records = new Map();
    state.crm.set(canonical, records);
  }
  const before = records.get(record.id);
  const stored = structuredClone(record);
  if (stored.Modified_Time === undefined) stored.Modified_Time = crmTimestamp(state.now());
  records.set(record.id, stored);
  notifyRecordChange(state, canonical, {
    operation: before === undefined ? 'insert' : 'update',
    crmRecordId: record.id,
    before,
    after: stored,
  });
};

/** Deletes a record; channels watching the module hear `delete` if it existed. */
export const deleteCrmRecord = (state: SimulatorState, module: string, id: string): void => {
  const canonical = canonicalModule(module);
  if (!canonical) return;
  const before = state.crm.get(canonical)?.get(id);
  if (before === undefined) return;
  state.crm.get(canonical)?.delete(id);
  notifyRecordChange(state, canonical, { operation: 'delete', crmRecordId: id, before });
};

/**
 * `fields` keeps `id` plus the named fields; a named field the record lacks reads as null, as
 * CRM returns empty fields.
 */
const project = (record: CrmRecord, fields: readonly string[] | undefined): CrmRecord => {
  if (fields === undefined) return structuredClone(record);
  const projected: CrmRecord = { id: record.id };
  for (const field of fields) {
    if (field !== 'id') projected[field] = structuredClone(record[field] ?? null);
  }
  return projected;
};

const parseList = (raw: string | null): string[] | undefined =>
  raw === null
    ? undefined
    : raw
        .split(',')
        .map((s) => s.trim())
        .filter((s) => s !== '');

/** At most 50 field names per call (§5, unconfirmed: recalled from the v8 changelog). */
const MAX_FIELDS = 50;
/** At most 100 ids per call (§5, unconfirmed). */
const MAX_IDS = 100;
const MAX_PER_PAGE = 200;

export const handleCrmRequest = (
  state: SimulatorState,
  token: AccessTokenState,
  req: SimRequest,
): SimResponse => {
  if (req.path === WATCH_PATH || req.path === `${WATCH_PATH}/`) {
    return handleWatchRequest(state, token, req);
  }
  const segments = req.path.slice(CRM_ROOT.length).split('/').filter(Boolean);
  const [moduleName, id, ...rest] = segments;
  if (moduleName === undefined) return crmErrors.invalidUrl();
  const module = canonicalModule(moduleName);
  if (!module) return crmErrors.invalidModule();
  if (!allowsCrmRead(token.scope, module)) return crmErrors.scopeMismatch();
  // Writes, search, deleted records, upsert, actions...: real endpoints, not simulated.
  if (req.method !== 'GET' || rest.length > 0) return crmErrors.notSimulated();
  if (id === undefined) return listRecords(state, module, req);
  if (['search', 'deleted', 'upsert', 'actions'].includes(id)) return crmErrors.notSimulated();
  return getRecord(state, module, id, req.query);
};

const fieldsParam = (query: URLSearchParams): { fields?: string[]; error?: SimResponse } => {
  const fields = parseList(query.get('fields'));
  if (fields !== undefined && fields.length > MAX_FIELDS) {
    return { error: crmErrors.limitExceeded('fields', MAX_FIELDS, 'Max field limit exceeded') };
  }
  return fields === undefined ? {} : { fields };
};

/** `GET /crm/v8/{module}/{id}`: `{data:[record]}` (OAS Response_Wrapper), 204 when absent. */
const getRecord = (
  state: SimulatorState,
  module: CrmModule,
  id: string,
  query: URLSearchParams,
): SimResponse => {
  if (!isCrmId(id)) return crmErrors.invalidId(id);
  const { fields, error } = fieldsParam(query);
  if (error) return error;
  const record = state.crm.get(module)?.get(id);
  // The OAS documents only 200 for Get Record; a missing (e.g. deleted) record answers 204 No
  // Content, which the reference lists as the "record deleted" signal (§7).
  if (!record) return noContent();
  return json(200, { data: [project(record, fields)] });
};

/** Sort keys of a record list (Zoho documents id, Created_Time and Modified_Time; unconfirmed). */
const SORT_FIELDS = ['id', 'Created_Time', 'Modified_Time'] as const;
type SortField = (typeof SORT_FIELDS)[number];

/** A record's epoch ms for a date-time field; -Infinity when it has none (sorts first). */
const timeOf = (record: CrmRecord, field: string): number => {
  const value = record[field];
  const ms = typeof value === 'string' ? Date.parse(value) : Number.NaN;
  return Number.isNaN(ms) ? Number.NEGATIVE_INFINITY : ms;
};

const compareIds = (a: CrmRecord, b: CrmRecord): number => {
  const x = BigInt(a.id);
  const y = BigInt(b.id);
  return x < y ? -1 : x > y ? 1 : 0;
};

/** Ties (same second) are broken by id, ascending in both orders: our choice, stable pages. */
const sortRecords = (records: CrmRecord[], by: SortField, order: 'asc' | 'desc'): CrmRecord[] => {
  const sign = order === 'asc' ? 1 : -1;
  return records.sort((a, b) => {
    if (by === 'id') return sign * compareIds(a, b);
    const byTime = sign * (timeOf(a, by) - timeOf(b, by));
    return byTime !== 0 && !Number.isNaN(byTime) ? Math.sign(byTime) : compareIds(a, b);
  });
};

/**
 * `If-Modified-Since` (OAS record.json header parameter, ISO date-time): only records whose
 * `Modified_Time` is strictly later. `undefined` when the header is absent, `null` when invalid.
 */
const modifiedSinceOf = (req: SimRequest): number | undefined | null => {
  const raw = headerValue(req.headers, 'if-modified-since');
  if (raw === undefined) return undefined;
  const ms = Date.parse(raw);
  return Number.isNaN(ms) ? null : ms;
};

/**
 * Nothing modified since `If-Modified-Since`: 304 with an empty body. The OAS lists the code
 * `Not Modified` in API_Exception but no status or body for it, and HTTP forbids a body on 304,
 * so the simulator sends none (unconfirmed what Zoho sends).
 */
const notModified = (): SimResponse => ({ status: 304 });

/**
 * `GET /crm/v8/{module}?ids=...&fields=...` or a page of all records, optionally sorted
 * (`sort_by` id | Created_Time | Modified_Time, `sort_order` asc | desc, default desc as Zoho
 * documents; unconfirmed) and limited by `If-Modified-Since`. Without sort parameters the page is
 * in creation order. In v8 `fields` is mandatory for this call (reference §5, unconfirmed); a
 * read that finds nothing answers 204, or 304 when `If-Modified-Since` filtered everything out.
 */
const listRecords = (state: SimulatorState, module: CrmModule, req: SimRequest): SimResponse => {
  const query = req.query;
  const { fields, error } = fieldsParam(query);
  if (error) return error;
  if (fields === undefined) return crmErrors.requiredParam('fields');
  const records = state.crm.get(module) ?? new Map<string, CrmRecord>();
  const since = modifiedSinceOf(req);
  if (since === null) return crmErrors.invalidParam('If-Modified-Since');
  const modified = (r: CrmRecord) => since === undefined || timeOf(r, 'Modified_Time') > since;

  const ids = parseList(query.get('ids'));
  if (ids !== undefined) {
    if (ids.length > MAX_IDS)
      return crmErrors.limitExceeded('ids', MAX_IDS, 'Record count exceeded');
    const invalid = ids.find((i) => !isCrmId(i));
    if (invalid !== undefined) return crmErrors.invalidId(invalid);
    const existing = [...new Set(ids)]
      .map((i) => records.get(i))
      .filter((r): r is CrmRecord => r !== undefined);
    const found = existing.filter(modified);
    if (found.length === 0) return existing.length > 0 ? notModified() : noContent();
    return json(200, {
      data: found.map((r) => project(r, fields)),
      info: { per_page: found.length, count: found.length, page: 1, more_records: false },
    });
  }

  const page = Number(query.get('page') ?? '1');
  const perPage = Number(query.get('per_page') ?? String(MAX_PER_PAGE));
  if (!Number.isInteger(page) || page < 1) return crmErrors.invalidParam('page');
  if (!Number.isInteger(perPage) || perPage < 1 || perPage > MAX_PER_PAGE) {
    return crmErrors.invalidParam('per_page');
  }
  const sortBy = query.get('sort_by');
  const sortOrder = query.get('sort_order');
  if (sortBy !== null && !(SORT_FIELDS as readonly string[]).includes(sortBy)) {
    return crmErrors.invalidParam('sort_by');
  }
  if (sortOrder !== null && sortOrder !== 'asc' && sortOrder !== 'desc') {
    return crmErrors.invalidParam('sort_order');
  }
  let all = [...records.values()].filter(modified);
  if (all.length === 0 && since !== undefined && records.size > 0) return notModified();
  if (sortBy !== null || sortOrder !== null) {
    all = sortRecords(all, (sortBy ?? 'id') as SortField, sortOrder ?? 'desc');
  }
  const slice = all.slice((page - 1) * perPage, page * perPage);
  if (slice.length === 0) return noContent();
  return json(200, {
    data: slice.map((r) => project(r, fields)),
    info: {
      per_page: perPage,
      count: slice.length,
      page,
      more_records: all.length > page * perPage,
      ...(sortBy === null && sortOrder === null
        ? {}
        : { sort_by: sortBy ?? 'id', sort_order: sortOrder ?? 'desc' }),
    },
  });
};
