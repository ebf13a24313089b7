/**
 * Zoho CRM v8 record reads (`/crm/v8/{module}/{id}` and `/crm/v8/{module}?ids=`), which is all
 * the sync needs from CRM: notifications carry ids, the worker reads the records (reference
 * zoho-crm-api.md §4, §5). Shapes from Zoho's OpenAPI file zoho-crm-oas/v8.0/record.json.
 * Record writes, search, COQL, notifications and CRM credit/concurrency limits are not simulated.
 */
import { json, type SimRequest, type SimResponse } from './http-io';
import { allowsCrmRead } from './scopes';
import type { AccessTokenState, SimulatorState } from './state';
import type { CrmRecord } from './types';

export const CRM_ROOT = '/crm/v8';

/** The modules the simulator knows (CRM has more; any other name is an invalid module here). */
export const CRM_MODULES = [
  'Leads',
  'Accounts',
  'Contacts',
  'Deals',
  'Products',
  'Sales_Orders',
  'Quotes',
  'Invoices',
  'Vendors',
] as const;

export type CrmModule = (typeof CRM_MODULES)[number];

/** Module API names in URLs are matched without case (our choice; CRM is lenient here). */
export const canonicalModule = (name: string): CrmModule | undefined =>
  CRM_MODULES.find((m) => m.toLowerCase() === name.toLowerCase());

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
} as const;

/** 204 No Content: OAS code NO_CONTENT, how CRM answers a read that finds nothing (§5, §7). */
const noContent = (): SimResponse => ({ status: 204 });

const isCrmId = (id: string) => /^\d{1,25}$/.test(id);

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
  records.set(record.id, structuredClone(record));
};

export const deleteCrmRecord = (state: SimulatorState, module: string, id: string): void => {
  const canonical = canonicalModule(module);
  if (canonical) state.crm.get(canonical)?.delete(id);
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
  const segments = req.path.slice(CRM_ROOT.length).split('/').filter(Boolean);
  const [moduleName, id, ...rest] = segments;
  if (moduleName === undefined) return crmErrors.invalidUrl();
  const module = canonicalModule(moduleName);
  if (!module) return crmErrors.invalidModule();
  if (!allowsCrmRead(token.scope, module)) return crmErrors.scopeMismatch();
  // Writes, search, deleted records, upsert, actions...: real endpoints, not simulated.
  if (req.method !== 'GET' || rest.length > 0) return crmErrors.notSimulated();
  if (id === undefined) return listRecords(state, module, req.query);
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

/**
 * `GET /crm/v8/{module}?ids=...&fields=...` or a page of all records. In v8 `fields` is
 * mandatory for this call (reference §5, unconfirmed); a read that finds nothing answers 204.
 */
const listRecords = (
  state: SimulatorState,
  module: CrmModule,
  query: URLSearchParams,
): SimResponse => {
  const { fields, error } = fieldsParam(query);
  if (error) return error;
  if (fields === undefined) return crmErrors.requiredParam('fields');
  const records = state.crm.get(module) ?? new Map<string, CrmRecord>();

  const ids = parseList(query.get('ids'));
  if (ids !== undefined) {
    if (ids.length > MAX_IDS)
      return crmErrors.limitExceeded('ids', MAX_IDS, 'Record count exceeded');
    const invalid = ids.find((i) => !isCrmId(i));
    if (invalid !== undefined) return crmErrors.invalidId(invalid);
    const found = [...new Set(ids)]
      .map((i) => records.get(i))
      .filter((r): r is CrmRecord => r !== undefined);
    if (found.length === 0) return noContent();
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
  const all = [...records.values()];
  const slice = all.slice((page - 1) * perPage, page * perPage);
  if (slice.length === 0) return noContent();
  return json(200, {
    data: slice.map((r) => project(r, fields)),
    info: {
      per_page: perPage,
      count: slice.length,
      page,
      more_records: all.length > page * perPage,
    },
  });
};
