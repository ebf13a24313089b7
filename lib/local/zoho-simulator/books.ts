/**
 * Zoho Books API v3 (`/books/v3/...`) for contacts, items and invoices, per organization.
 * Endpoints: reference zoho-books-api.md §8. Authentication, the organization and the limits are
 * checked before these handlers run (server.ts).
 */
import { mayUseOrganization } from './accounts';
import {
  BOOKS_ENTITY_DEFINITIONS,
  type BooksEntityDefinition,
  type Outcome,
} from './books-entities';
import { booksErrors } from './books-errors';
import { listBooksRecords } from './books-list';
import {
  createRecord,
  findByCustomField,
  renderRecord,
  updateRecord,
  type WriteContext,
} from './books-records';
import { headerValue, json, parseJsonObject, type SimRequest, type SimResponse } from './http-io';
import { booksTimestamp } from './ids';
import { allowsBooks, type ScopeOperation } from './scopes';
import {
  type AccessTokenState,
  BOOKS_ENTITIES,
  type BooksEntity,
  type OrgState,
  type SimulatorState,
  type StoredBooksRecord,
} from './state';

export const BOOKS_ROOT = '/books/v3';

const isEntity = (segment: string | undefined): segment is BooksEntity =>
  BOOKS_ENTITIES.includes(segment as BooksEntity);

/** `GET /books/v3/organizations` needs no organization_id (reference §1); everything else does. */
export const isOrganizationsCall = (req: SimRequest): boolean =>
  req.path.replace(/\/+$/, '') === `${BOOKS_ROOT}/organizations`;

export const handleOrganizations = (
  state: SimulatorState,
  token: AccessTokenState,
  req: SimRequest,
): SimResponse => {
  if (req.method !== 'GET') return booksErrors.methodNotAllowed();
  if (!allowsBooks(token.scope, 'settings', 'READ')) return booksErrors.notAuthorized();
  const organizations = [...state.orgs.values()]
    .filter((org) => mayUseOrganization(state, token, org.organizationId))
    .map((org, index) => ({
      organization_id: org.organizationId,
      name: `Simulated organization ${org.organizationId}`,
      is_default_org: index === 0,
      plan_name: org.plan,
    }));
  return json(200, { code: 0, message: 'success', organizations });
};

interface Route {
  readonly entity: BooksEntity;
  readonly operation: ScopeOperation;
  readonly handle: (ctx: HandlerContext) => SimResponse;
}

interface HandlerContext {
  readonly state: SimulatorState;
  readonly org: OrgState;
  readonly req: SimRequest;
  readonly entity: BooksEntity;
  readonly definition: BooksEntityDefinition;
}

/** Answers one Books call for an organization that has passed every check. */
export const handleBooksRequest = (
  state: SimulatorState,
  org: OrgState,
  token: AccessTokenState,
  req: SimRequest,
): SimResponse => {
  const route = resolveRoute(req);
  if ('status' in route) return route;
  if (
    !allowsBooks(token.scope, BOOKS_ENTITY_DEFINITIONS[route.entity].scopeFamily, route.operation)
  ) {
    return booksErrors.notAuthorized();
  }
  return route.handle({
    state,
    org,
    req,
    entity: route.entity,
    definition: BOOKS_ENTITY_DEFINITIONS[route.entity],
  });
};

const resolveRoute = (req: SimRequest): Route | SimResponse => {
  const segments = req.path.slice(BOOKS_ROOT.length).split('/').filter(Boolean);
  const [entity, id, action, status] = segments;
  if (!isEntity(entity) || segments.length > 4) return booksErrors.invalidUrl();
  const m = req.method;
  const route = (operation: ScopeOperation, handle: Route['handle']): Route => ({
    entity,
    operation,
    handle,
  });

  if (id === undefined) {
    if (m === 'GET')
      return route('READ', (ctx) => listBooksRecords(ctx.org, entity, ctx.req.query));
    if (m === 'POST') return route('CREATE', createFromBody);
    // The upsert needs UPDATE; creating through it is not checked for CREATE (undocumented).
    if (m === 'PUT') return route('UPDATE', updateByUniqueKey);
    return booksErrors.methodNotAllowed();
  }
  if (action === undefined) {
    if (m === 'GET') return route('READ', (ctx) => getRecord(ctx, id));
    if (m === 'PUT') return route('UPDATE', (ctx) => updateById(ctx, id));
    if (m === 'DELETE') return route('DELETE', (ctx) => deleteById(ctx, id));
    return booksErrors.methodNotAllowed();
  }
  // POST /contacts/{id}/active|inactive, POST /items/{id}/active|inactive
  if (entity !== 'invoices' && (action === 'active' || action === 'inactive') && !status) {
    return m === 'POST'
      ? route('UPDATE', (ctx) => markActive(ctx, id, action))
      : booksErrors.methodNotAllowed();
  }
  // POST /invoices/{id}/status/void|sent|draft
  if (entity === 'invoices' && action === 'status' && isInvoiceAction(status)) {
    return m === 'POST'
      ? route('UPDATE', (ctx) => changeInvoiceStatus(ctx, id, status))
      : booksErrors.methodNotAllowed();
  }
  return booksErrors.invalidUrl();
};

const find = (ctx: HandlerContext, id: string): StoredBooksRecord | undefined =>
  ctx.org.books[ctx.entity].records.get(id);

const render = (ctx: HandlerContext, stored: StoredBooksRecord) =>
  renderRecord(ctx.org.books[ctx.entity], stored);

const writeContext = (ctx: HandlerContext, input: Record<string, unknown>): WriteContext => ({
  state: ctx.state,
  org: ctx.org,
  entity: ctx.entity,
  input,
  query: ctx.req.query,
});

/** The JSON body of a write; anything else (form-encoded, an array) gets 1038 (reference §2). */
const body = (ctx: HandlerContext): Outcome<Record<string, unknown>> => {
  const parsed = parseJsonObject(ctx.req.rawBody);
  return parsed === undefined
    ? { ok: false, response: booksErrors.jsonNotWellFormed() }
    : { ok: true, value: parsed };
};

const written = (
  ctx: HandlerContext,
  outcome: Outcome<StoredBooksRecord>,
  status: 200 | 201,
  message: string,
): SimResponse =>
  outcome.ok
    ? json(status, { code: 0, message, [ctx.definition.singular]: render(ctx, outcome.value) })
    : outcome.response;

const getRecord = (ctx: HandlerContext, id: string): SimResponse => {
  const stored = find(ctx, id);
  if (!stored) return booksErrors.doesNotExist(ctx.definition.label);
  return json(200, { code: 0, message: 'success', [ctx.definition.singular]: render(ctx, stored) });
};

const createFromBody = (ctx: HandlerContext): SimResponse => {
  const input = body(ctx);
  if (!input.ok) return input.response;
  return written(
    ctx,
    createRecord(writeContext(ctx, input.value)),
    201,
    ctx.definition.messages.created,
  );
};

const updateById = (ctx: HandlerContext, id: string): SimResponse => {
  const stored = find(ctx, id);
  if (!stored) return booksErrors.doesNotExist(ctx.definition.label);
  const input = body(ctx);
  if (!input.ok) return input.response;
  return written(
    ctx,
    updateRecord(writeContext(ctx, input.value), stored),
    200,
    ctx.definition.messages.updated,
  );
};

/**
 * `PUT /{entity}` addressed by a unique custom field (reference §7): headers
 * `X-Unique-Identifier-Key` (the field's api_name) and `X-Unique-Identifier-Value`. The record
 * holding the value is updated; if none does, `X-Upsert: true` creates one from the body (with
 * the key field set to the value), and without it the call fails like an unknown id.
 */
const updateByUniqueKey = (ctx: HandlerContext): SimResponse => {
  const headers = ctx.req.headers;
  const key = headerValue(headers, 'x-unique-identifier-key');
  const value = headerValue(headers, 'x-unique-identifier-value');
  const upsert = headerValue(headers, 'x-upsert')?.toLowerCase() === 'true';
  const collection = ctx.org.books[ctx.entity];
  const field = collection.customFields.find((f) => f.api_name === key && f.is_unique);
  // Only a field configured to reject duplicates can address a record (reference §7).
  if (!field) return booksErrors.invalidValue('X-Unique-Identifier-Key');
  if (value === undefined || value === '') {
    return booksErrors.invalidValue('X-Unique-Identifier-Value');
  }
  const input = body(ctx);
  if (!input.ok) return input.response;
  const existing = findByCustomField(collection, field, value);
  if (existing) {
    return written(
      ctx,
      updateRecord(writeContext(ctx, input.value), existing),
      200,
      ctx.definition.messages.updated,
    );
  }
  if (!upsert) return booksErrors.doesNotExist(ctx.definition.label);
  const created = createRecord(writeContext(ctx, input.value), { apiName: field.api_name, value });
  // 201 as for POST: a record was created (the upsert's status is not documented).
  return written(ctx, created, 201, ctx.definition.messages.created);
};

const deleteById = (ctx: HandlerContext, id: string): SimResponse => {
  const stored = find(ctx, id);
  if (!stored) return booksErrors.doesNotExist(ctx.definition.label);
  const blocked = ctx.definition.deleteBlocked?.(ctx.org, stored);
  if (blocked) return blocked;
  ctx.org.books[ctx.entity].records.delete(id);
  return json(200, { code: 0, message: ctx.definition.messages.deleted });
};

const setStatus = (
  ctx: HandlerContext,
  stored: StoredBooksRecord,
  fields: Record<string, unknown>,
) => {
  stored.fields = {
    ...stored.fields,
    ...fields,
    last_modified_time: booksTimestamp(ctx.state.now()),
  };
};

/** Marks a contact or item active/inactive (use inactive instead of delete, reference §8.1). */
const markActive = (
  ctx: HandlerContext,
  id: string,
  action: 'active' | 'inactive',
): SimResponse => {
  const stored = find(ctx, id);
  if (!stored) return booksErrors.doesNotExist(ctx.definition.label);
  setStatus(ctx, stored, { status: action });
  return json(200, {
    code: 0,
    message: `The ${ctx.definition.singular} has been marked as ${action}.`,
  });
};

type InvoiceAction = 'void' | 'sent' | 'draft';

const isInvoiceAction = (s: string | undefined): s is InvoiceAction =>
  s === 'void' || s === 'sent' || s === 'draft';

/**
 * Invoice status changes (paths: reference §8.3, unconfirmed). A paid invoice cannot change; a
 * void one can only go back to draft; marking sent needs a draft (or is a no-op when sent).
 */
const changeInvoiceStatus = (
  ctx: HandlerContext,
  id: string,
  action: InvoiceAction,
): SimResponse => {
  const stored = find(ctx, id);
  if (!stored) return booksErrors.doesNotExist(ctx.definition.label);
  const current = stored.fields.status;
  const allowed =
    current !== 'paid' && (action !== 'sent' || current === 'draft' || current === 'sent');
  if (!allowed) {
    return booksErrors.notAllowedInState(
      `A ${String(current)} invoice cannot be marked as ${action}.`,
    );
  }
  const total = stored.fields.total;
  setStatus(ctx, stored, { status: action, balance: action === 'void' ? 0 : total });
  const label = action.charAt(0).toUpperCase() + action.slice(1);
  return json(200, { code: 0, message: `Invoice status has been changed to ${label}.` });
};

/** Marks an invoice paid; the simulator has no payments API (used through ZohoSimulator.books). */
export const markInvoicePaid = (state: SimulatorState, org: OrgState, invoiceId: string): void => {
  const stored = org.books.invoices.records.get(invoiceId);
  if (!stored)
    throw new Error(`unknown invoice ${invoiceId} in organization ${org.organizationId}`);
  stored.fields = {
    ...stored.fields,
    status: 'paid',
    balance: 0,
    last_modified_time: booksTimestamp(state.now()),
  };
};
