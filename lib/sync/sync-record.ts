import type { Connection } from '../config';
import { SyncDataError } from '../failures/errors';
import type { RequestLimiter } from '../limits/request-limiter';
import type { Logger } from '../observability';
import {
  type BooksClient,
  type BooksRecord,
  type BooksRecordResult,
  type CrmClient,
  isZohoApiError,
} from '../zoho';
import type { BooksEntity, SyncedCrmModule } from './crm-modules';
import { CRM_TO_BOOKS } from './crm-modules';
import { accountToBooksContact, contactToBooksContact } from './mappers/contacts';
import { CRM_ID_CUSTOM_FIELD, type CrmRecord, lookup } from './mappers/crm-fields';
import {
  billedAccountId,
  dealToBooksInvoice,
  isWonDeal,
  salesOrderToBooksInvoice,
} from './mappers/invoices';
import { productToBooksItem } from './mappers/items';
import type { MappingStore } from './mapping-store';
import type { SyncMessage } from './sync-message';
import { callZoho, type ZohoCallerDeps } from './zoho-caller';

export interface SyncRecordDeps extends ZohoCallerDeps {
  /** Syncing writes to Books, so the request budget is required here. */
  readonly limiter: RequestLimiter;
  readonly crm: CrmClient;
  readonly books: BooksClient;
  readonly mappings: MappingStore;
  readonly now: () => number;
  readonly logger: Logger;
}

export type SyncResult =
  | { readonly status: 'synced'; readonly booksEntity: BooksEntity; readonly booksId: string }
  | { readonly status: 'skipped'; readonly reason: string };

/**
 * Brings one CRM record into Books. Every Books write is an upsert keyed on the unique
 * `cf_crm_id` custom field (X-Unique-Identifier-* with X-Upsert), so replaying this function
 * after a crash at any line updates the same Books record instead of creating a second one.
 */
export const syncRecord = async (
  deps: SyncRecordDeps,
  connection: Connection,
  message: Pick<SyncMessage, 'crmModule' | 'crmRecordId'>,
): Promise<SyncResult> => {
  const { crmModule, crmRecordId } = message;
  if (crmModule === 'Deals' || crmModule === 'Sales_Orders') {
    // An issued invoice is an accounting document: create it once, never rewrite it from CRM.
    const existing = await deps.mappings.get(connection.connectionId, crmModule, crmRecordId);
    if (existing !== undefined) return { status: 'skipped', reason: 'invoice already created' };
  }
  const record = await readCrmRecord(deps, connection, crmModule, crmRecordId);
  if (record === null) return { status: 'skipped', reason: 'CRM record no longer exists' };

  switch (crmModule) {
    case 'Accounts':
      return upsert(
        deps,
        connection,
        crmModule,
        crmRecordId,
        accountToBooksContact(record, crmRecordId),
      );
    case 'Contacts':
      return upsert(
        deps,
        connection,
        crmModule,
        crmRecordId,
        contactToBooksContact(record, crmRecordId),
      );
    case 'Products':
      return upsert(
        deps,
        connection,
        crmModule,
        crmRecordId,
        productToBooksItem(record, crmRecordId),
      );
    case 'Deals': {
      if (!isWonDeal(record)) return { status: 'skipped', reason: 'deal is not won' };
      const customerId = await ensureCustomer(
        deps,
        connection,
        billedAccountId(record, crmModule, crmRecordId),
      );
      return upsert(
        deps,
        connection,
        crmModule,
        crmRecordId,
        dealToBooksInvoice(record, crmRecordId, customerId),
      );
    }
    case 'Sales_Orders': {
      const customerId = await ensureCustomer(
        deps,
        connection,
        billedAccountId(record, crmModule, crmRecordId),
      );
      const itemIds = await mappedItemIds(deps, connection, record);
      return upsert(
        deps,
        connection,
        crmModule,
        crmRecordId,
        salesOrderToBooksInvoice(record, crmRecordId, customerId, itemIds),
      );
    }
  }
};

const readCrmRecord = async (
  deps: SyncRecordDeps,
  connection: Connection,
  crmModule: string,
  crmRecordId: string,
): Promise<CrmRecord | null> => {
  const result = await callZoho(deps, connection, 'crm', (target) =>
    deps.crm.getRecord(target, crmModule, crmRecordId),
  );
  return result.record;
};

/**
 * Writes one Books record. With a stored mapping it updates that record by id (the plainest
 * Books call); without one, or when Books says the mapped record is gone (1002), it upserts
 * on the unique cf_crm_id field, which finds the record a crashed attempt may have created.
 */
const upsert = async (
  deps: SyncRecordDeps,
  connection: Connection,
  crmModule: SyncedCrmModule,
  crmRecordId: string,
  body: object,
): Promise<SyncResult> => {
  const booksEntity = CRM_TO_BOOKS[crmModule];
  const mapping = await deps.mappings.get(connection.connectionId, crmModule, crmRecordId);
  let result: BooksRecordResult | undefined;
  if (mapping !== undefined && mapping.booksEntity === booksEntity) {
    try {
      result = await callZoho(deps, connection, 'books', (target) =>
        deps.books.update(target, booksEntity, mapping.booksId, body),
      );
    } catch (error) {
      if (!isZohoApiError(error) || error.entry.id !== 'books-1002') throw error;
      deps.logger.warn('mapped Books record is gone; upserting by CRM id', {
        books_entity: booksEntity,
        books_id: mapping.booksId,
      });
    }
  }
  result ??= await upsertByCrmId(deps, connection, booksEntity, crmRecordId, body);
  const booksId = booksIdOf(booksEntity, result.record);
  if (mapping?.booksId !== booksId) {
    await deps.mappings.put(connection.connectionId, crmModule, crmRecordId, {
      booksEntity,
      booksId,
      syncedAtMs: deps.now(),
    });
  }
  deps.logger.info('record synced', {
    connection_id: connection.connectionId,
    crm_module: crmModule,
    crm_record_id: crmRecordId,
    books_entity: booksEntity,
    books_id: booksId,
  });
  return { status: 'synced', booksEntity, booksId };
};

/**
 * Creates or updates the Books record holding `cf_crm_id = crmRecordId` in one call
 * (`PUT /{entity}` with X-Unique-Identifier-* and X-Upsert). Where that endpoint is not offered
 * (404/405 "Invalid URL"), falls back to a search on the custom field and then an update by id
 * or a create. The fallback is still safe to replay: a record a crashed attempt created is
 * found by the search.
 */
const upsertByCrmId = async (
  deps: SyncRecordDeps,
  connection: Connection,
  booksEntity: BooksEntity,
  crmRecordId: string,
  body: object,
): Promise<BooksRecordResult> => {
  try {
    return await callZoho(deps, connection, 'books', (target) =>
      deps.books.upsertByUniqueField(
        target,
        booksEntity,
        { apiName: CRM_ID_CUSTOM_FIELD, value: crmRecordId },
        body,
      ),
    );
  } catch (error) {
    if (!isUnsupportedEndpoint(error)) throw error;
    deps.logger.warn('unique-field upsert not offered; searching by CRM id', {
      books_entity: booksEntity,
    });
  }
  const found = await callZoho(deps, connection, 'books', (target) =>
    deps.books.list(target, booksEntity, { [CRM_ID_CUSTOM_FIELD]: crmRecordId }),
  );
  // Filters are confirmed client-side: an endpoint that ignores the filter returns everything.
  const existing = found.records.find((record) => crmIdOf(record) === crmRecordId);
  if (existing !== undefined) {
    const booksId = booksIdOf(booksEntity, existing);
    return callZoho(deps, connection, 'books', (target) =>
      deps.books.update(target, booksEntity, booksId, body),
    );
  }
  return callZoho(deps, connection, 'books', (target) =>
    deps.books.create(target, booksEntity, body),
  );
};

/** 404 or 405 with no code or code 5 ("Invalid URL"): the endpoint itself is not there. */
const isUnsupportedEndpoint = (error: unknown): boolean =>
  isZohoApiError(error) &&
  (error.httpStatus === 404 || error.httpStatus === 405) &&
  (error.zohoCode === undefined || error.zohoCode === 5 || error.zohoCode === '5');

/** The CRM id a Books record carries, as `cf_crm_id` or in its `custom_fields` list. */
const crmIdOf = (record: BooksRecord): string | undefined => {
  const direct = record[CRM_ID_CUSTOM_FIELD];
  if (typeof direct === 'string' || typeof direct === 'number') return String(direct);
  const fields = record.custom_fields;
  if (!Array.isArray(fields)) return undefined;
  const field = fields.find(
    (entry) =>
      typeof entry === 'object' &&
      entry !== null &&
      (entry as { api_name?: unknown }).api_name === CRM_ID_CUSTOM_FIELD,
  ) as { value?: unknown } | undefined;
  return field?.value === undefined ? undefined : String(field.value);
};

const ID_FIELD: Record<BooksEntity, string> = {
  contacts: 'contact_id',
  items: 'item_id',
  invoices: 'invoice_id',
};

const booksIdOf = (entity: BooksEntity, record: BooksRecord): string => {
  const id = record[ID_FIELD[entity]];
  if (typeof id !== 'string' && typeof id !== 'number') {
    throw new Error(`Zoho Books answered without ${ID_FIELD[entity]}`);
  }
  return String(id);
};

/** The Books contact id of a CRM account, syncing the account first when it is not there yet. */
const ensureCustomer = async (
  deps: SyncRecordDeps,
  connection: Connection,
  crmAccountId: string,
): Promise<string> => {
  const mapping = await deps.mappings.get(connection.connectionId, 'Accounts', crmAccountId);
  if (mapping !== undefined) return mapping.booksId;
  const account = await readCrmRecord(deps, connection, 'Accounts', crmAccountId);
  if (account === null) {
    throw new SyncDataError('Accounts', crmAccountId, 'the billed CRM account no longer exists');
  }
  const result = await upsert(
    deps,
    connection,
    'Accounts',
    crmAccountId,
    accountToBooksContact(account, crmAccountId),
  );
  if (result.status !== 'synced') throw new SyncDataError('Accounts', crmAccountId, result.reason);
  return result.booksId;
};

/** Books item ids of the products on a sales order that are already synced (others go by name). */
const mappedItemIds = async (
  deps: SyncRecordDeps,
  connection: Connection,
  order: CrmRecord,
): Promise<ReadonlyMap<string, string>> => {
  const rawItems = order.Ordered_Items ?? order.Product_Details;
  const productIds = (Array.isArray(rawItems) ? rawItems : [])
    .map(
      (item) => lookup(item as CrmRecord, 'Product_Name') ?? lookup(item as CrmRecord, 'product'),
    )
    .filter((product) => product !== undefined)
    .map((product) => product.id);
  const result = new Map<string, string>();
  for (const productId of new Set(productIds)) {
    const mapping = await deps.mappings.get(connection.connectionId, 'Products', productId);
    if (mapping !== undefined) result.set(productId, mapping.booksId);
  }
  return result;
};
