/**
 * Listing Books records: `GET /{entity}` with `page`/`per_page` and filters (reference
 * zoho-books-api.md §6, §8).
 */
import type { Outcome } from './books-entities';
import { booksErrors } from './books-errors';
import { renderRecord } from './books-records';
import { json, type SimResponse } from './http-io';
import type { BooksEntity, OrgState } from './state';

/**
 * Text filters per entity: `<field>` matches exactly, `<field>_startswith` and `<field>_contains`
 * as named, all without case (contacts: reference §8.1; items and invoices: unconfirmed, from
 * third-party clients). Exact filters compare the value as is.
 */
const TEXT_FILTERS: Readonly<Record<BooksEntity, readonly string[]>> = {
  contacts: ['contact_name', 'company_name'],
  items: ['name', 'sku'],
  invoices: ['reference_number', 'invoice_number', 'customer_name'],
};
const EXACT_FILTERS: Readonly<Record<BooksEntity, readonly string[]>> = {
  contacts: ['contact_type', 'status'],
  items: ['status'],
  invoices: ['customer_id', 'status'],
};

/** Pages hold 200 records by default and at most 200 (reference §6; the maximum unconfirmed). */
const MAX_PER_PAGE = 200;

const positiveInt = (raw: string | null, fallback: number): number | undefined => {
  if (raw === null) return fallback;
  return /^\d+$/.test(raw) && Number(raw) >= 1 ? Number(raw) : undefined;
};

type Filter = (record: Record<string, unknown>) => boolean;

const buildFilters = (
  entity: BooksEntity,
  query: URLSearchParams,
  org: OrgState,
): Outcome<Filter[]> => {
  const filters: Filter[] = [];
  const text = (value: unknown) => String(value ?? '').toLowerCase();
  for (const field of TEXT_FILTERS[entity]) {
    const exact = query.get(field);
    const startsWith = query.get(`${field}_startswith`);
    const contains = query.get(`${field}_contains`);
    if (exact !== null) filters.push((r) => text(r[field]) === exact.toLowerCase());
    if (startsWith !== null) {
      filters.push((r) => text(r[field]).startsWith(startsWith.toLowerCase()));
    }
    if (contains !== null) filters.push((r) => text(r[field]).includes(contains.toLowerCase()));
  }
  for (const field of EXACT_FILTERS[entity]) {
    const value = query.get(field);
    if (value !== null) filters.push((r) => String(r[field] ?? '') === value);
  }
  // Custom fields by api_name, e.g. cf_crm_id=<CRM id> (unconfirmed: third-party clients).
  for (const def of org.books[entity].customFields) {
    const value = query.get(def.api_name);
    if (value !== null) filters.push((r) => r[def.api_name] === value);
  }
  // filter_by=Status.All|Status.Active|Status.Inactive (invoices: Status.Draft, Status.Sent ...).
  const filterBy = query.get('filter_by');
  if (filterBy !== null) {
    const match = /^Status\.(\w+)$/i.exec(filterBy);
    if (!match?.[1]) return { ok: false, response: booksErrors.invalidValue('filter_by') };
    const wanted = match[1].toLowerCase();
    if (wanted !== 'all') filters.push((r) => r.status === wanted);
  }
  return { ok: true, value: filters };
};

/**
 * Lists records in creation order with `page_context` (reference §6). Zoho's list entries are
 * shortened forms of the records; here they are the full records.
 */
export const listBooksRecords = (
  org: OrgState,
  entity: BooksEntity,
  query: URLSearchParams,
): SimResponse => {
  const page = positiveInt(query.get('page'), 1);
  if (page === undefined) return booksErrors.invalidValue('page');
  const requestedPerPage = positiveInt(query.get('per_page'), MAX_PER_PAGE);
  if (requestedPerPage === undefined) return booksErrors.invalidValue('per_page');
  const perPage = Math.min(requestedPerPage, MAX_PER_PAGE);
  const filters = buildFilters(entity, query, org);
  if (!filters.ok) return filters.response;

  const collection = org.books[entity];
  const matching = [...collection.records.values()]
    .map((stored) => renderRecord(collection, stored))
    .filter((record) => filters.value.every((f) => f(record)));
  const start = (page - 1) * perPage;
  return json(200, {
    code: 0,
    message: 'success',
    [entity]: matching.slice(start, start + perPage),
    page_context: {
      page,
      per_page: perPage,
      has_more_page: matching.length > start + perPage,
      sort_column: 'created_time',
      sort_order: 'A',
    },
  });
};
