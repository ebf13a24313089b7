import { createHash, randomUUID } from 'node:crypto';
import type { Connection } from '../config';
import { crashPoint } from '../crash-point';
import { RecordBusyError, SyncDataError } from '../failures/errors';
import type { RequestLimiter } from '../limits/request-limiter';
import { reservePermit } from '../limits/reserved-permit';
import type { Logger } from '../observability';
import {
  type BooksClient,
  type BooksRecord,
  type BooksRecordResult,
  type CrmClient,
  isZohoApiError,
  parseCrmDateTime,
} from '../zoho';
import type { BooksEntity, SyncedCrmModule } from './crm-modules';
import {
  accountToBooksContact,
  contactAccountId,
  contactToBooksContact,
  contactToContactPerson,
} from './mappers/contacts';
import { CRM_ID_CUSTOM_FIELD, type CrmRecord, lookup } from './mappers/crm-fields';
import { applyFieldMapping } from './mappers/field-mapping';
import {
  billedAccountId,
  dealToBooksInvoice,
  isWonDeal,
  salesOrderToBooksInvoice,
} from './mappers/invoices';
import { productToBooksItem } from './mappers/items';
import type { MappingStore, RecordMapping } from './mapping-store';
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
  /** How long a record's lease lasts when its worker dies holding it. @default 30 s */
  readonly recordLeaseMs?: number;
  /** Lease owner ids. @default randomUUID */
  readonly newLeaseId?: () => string;
}

/** What a batch already knows about the record. */
export interface SyncRecordOptions {
  /**
   * The record as the batch's one `ids=` read found it, before this record's lease was taken;
   * `null` when that read did not return it. Undefined: read it here.
   */
  readonly prefetched?: CrmRecord | null;
  /**
   * Reads the record with the batch's other records in one `ids=` call, once this record holds
   * its Books permit (see prepareSyncBatch); undefined when that read was not made: read it here.
   */
  readonly prefetch?: () => Promise<CrmRecord | null | undefined>;
}

export type SyncResult =
  | { readonly status: 'synced'; readonly booksEntity: BooksEntity; readonly booksId: string }
  /** Books already holds this CRM state (or a newer one): no Books call was made. */
  | { readonly status: 'unchanged'; readonly reason: string }
  /** The CRM record was deleted; its Books contact or item is now inactive. */
  | { readonly status: 'deactivated'; readonly booksEntity: BooksEntity; readonly booksId: string }
  | { readonly status: 'skipped'; readonly reason: string };

export const DEFAULT_RECORD_LEASE_MS = 30_000;

/** A busy record is retried this soon: its holder usually finishes within a second. */
const BUSY_RETRY_MIN_MS = 1_000;
const BUSY_RETRY_MAX_MS = 2_000;

/** sha256 of a payload with its keys in a fixed order, so equal payloads hash equal. */
export const payloadHash = (payload: unknown): string =>
  createHash('sha256').update(stableJson(payload)).digest('hex');

const stableJson = (value: unknown): string => {
  if (Array.isArray(value)) return `[${value.map(stableJson).join(',')}]`;
  if (typeof value === 'object' && value !== null) {
    const entries = Object.entries(value)
      .filter(([, entry]) => entry !== undefined)
      .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
    return `{${entries.map(([key, entry]) => `${JSON.stringify(key)}:${stableJson(entry)}`).join(',')}}`;
  }
  return JSON.stringify(value) ?? 'null';
};

interface HeldLease {
  readonly owner: string;
  readonly mapping: RecordMapping | undefined;
  done: boolean;
}

type RecordKey = Pick<SyncMessage, 'crmModule' | 'crmRecordId'>;

/**
 * Runs `work` holding the record's lease, so one worker at a time reads, compares and writes it
 * (webhook, notification and sweep copies of one change, or two quick edits, never race).
 * @throws {RecordBusyError} when another worker holds it: the message is deferred briefly.
 */
const withLease = async <T>(
  deps: SyncRecordDeps,
  connection: Connection,
  key: RecordKey,
  work: (lease: HeldLease) => Promise<T>,
): Promise<T> => {
  const owner = (deps.newLeaseId ?? randomUUID)();
  const nowMs = deps.now();
  const acquired = await deps.mappings.acquire(
    connection.connectionId,
    key.crmModule,
    key.crmRecordId,
    { owner, nowMs, untilMs: nowMs + (deps.recordLeaseMs ?? DEFAULT_RECORD_LEASE_MS) },
  );
  if ('busyUntilMs' in acquired) {
    const waitMs = Math.min(
      BUSY_RETRY_MAX_MS,
      Math.max(BUSY_RETRY_MIN_MS, acquired.busyUntilMs - nowMs),
    );
    throw new RecordBusyError(key.crmModule, key.crmRecordId, waitMs);
  }
  const held: HeldLease = { owner, mapping: acquired.mapping, done: false };
  try {
    return await work(held);
  } finally {
    if (!held.done) {
      await deps.mappings
        .release(connection.connectionId, key.crmModule, key.crmRecordId, owner)
        .catch((error: unknown) =>
          // The lease runs out by itself; a failed release only delays the next sync.
          deps.logger.warn('record lease not released', {
            error: error instanceof Error ? error.message : String(error),
          }),
        );
    }
  }
};

/**
 * Stores what Books now holds and gives the lease back. If the lease ran out meanwhile (a very
 * slow write) another worker may have written too: the mapping is then forgotten and the
 * message retried, so the newest CRM state is written last.
 */
const commit = async (
  deps: SyncRecordDeps,
  connection: Connection,
  key: RecordKey,
  held: HeldLease,
  mapping: RecordMapping,
): Promise<void> => {
  held.done = true;
  const ok = await deps.mappings.commit(
    connection.connectionId,
    key.crmModule,
    key.crmRecordId,
    held.owner,
    mapping,
  );
  if (ok) return;
  await deps.mappings.invalidate(connection.connectionId, key.crmModule, key.crmRecordId);
  deps.logger.warn('record lease ran out during the Books write; syncing the record again');
  throw new RecordBusyError(key.crmModule, key.crmRecordId, BUSY_RETRY_MIN_MS);
};

/** What one CRM record becomes in Books. */
type WritePlan =
  | { readonly kind: 'record'; readonly booksEntity: BooksEntity; readonly body: object }
  | {
      readonly kind: 'contact-person';
      readonly crmAccountId: string;
      readonly person: Readonly<Record<string, unknown>>;
    }
  | { readonly kind: 'skip'; readonly reason: string };

const isInvoiceModule = (crmModule: SyncedCrmModule): boolean =>
  crmModule === 'Deals' || crmModule === 'Sales_Orders';

/**
 * Brings one CRM record into Books, once per real change. Under the record's lease it reads the
 * record (or takes the batch's read), and writes Books only when the read is not older than what
 * Books holds (`crmModifiedMs`) and its payload differs from the last one written
 * (`payloadHash`). Every write is an update by the mapped id or an upsert keyed on the unique
 * `cf_crm_id` custom field (or, where that is not offered, a search-then-create under the
 * lease), so replaying this function after a crash at any line lands on the same Books record.
 *
 * The first Books permit is taken before the CRM read (see `reservePermit`): work that cannot
 * reach Books now is deferred before it spends a CRM call. A permit no call used goes back.
 */
export const syncRecord = async (
  deps: SyncRecordDeps,
  connection: Connection,
  message: RecordKey,
  options: SyncRecordOptions = {},
): Promise<SyncResult> => {
  const limiter = reservePermit(deps.limiter, await deps.limiter.acquire(connection), deps.now);
  try {
    return await syncUnderPermit({ ...deps, limiter }, connection, message, options);
  } finally {
    await limiter.giveBackUnused();
  }
};

const syncUnderPermit = async (
  deps: SyncRecordDeps,
  connection: Connection,
  message: RecordKey,
  options: SyncRecordOptions,
): Promise<SyncResult> => {
  const { crmModule, crmRecordId } = message;
  if (isInvoiceModule(crmModule)) {
    // An issued invoice is an accounting document: create it once, never rewrite it from CRM.
    const existing = await deps.mappings.get(connection.connectionId, crmModule, crmRecordId);
    if (existing !== undefined) return { status: 'skipped', reason: 'invoice already created' };
  }
  return withLease(deps, connection, message, async (held) => {
    const mapping = held.mapping;
    if (isInvoiceModule(crmModule) && mapping !== undefined) {
      return { status: 'skipped', reason: 'invoice already created' };
    }
    // Under the permit: a batch read is made only for work that can reach Books now.
    const prefetched =
      options.prefetched === undefined ? await options.prefetch?.() : options.prefetched;
    let readBeforeLease = prefetched !== undefined;
    let record =
      prefetched === undefined
        ? await readCrmRecord(deps, connection, crmModule, crmRecordId)
        : prefetched;
    if (record === null && readBeforeLease) {
      // A batch answer without the record: confirm it is gone before retiring anything.
      record = await readCrmRecord(deps, connection, crmModule, crmRecordId);
      readBeforeLease = false;
    }
    if (record === null) return retire(deps, connection, message, held);

    let modifiedMs = parseCrmDateTime(record.Modified_Time);
    const heldMs = mapping?.crmModifiedMs;
    if (modifiedMs !== undefined && heldMs !== undefined && modifiedMs < heldMs) {
      return { status: 'unchanged', reason: 'Books holds a newer CRM read' };
    }
    let plan = await planWrite(deps, connection, crmModule, crmRecordId, record);
    let hash = payloadHash(plan);
    if (readBeforeLease && modifiedMs === heldMs && hash !== mapping?.payloadHash) {
      // Read before the lease, in the same second as what Books holds: only a read made now
      // can tell which of the two is newer.
      const fresh = await readCrmRecord(deps, connection, crmModule, crmRecordId);
      if (fresh === null) return retire(deps, connection, message, held);
      record = fresh;
      modifiedMs = parseCrmDateTime(record.Modified_Time);
      plan = await planWrite(deps, connection, crmModule, crmRecordId, record);
      hash = payloadHash(plan);
    }
    if (plan.kind === 'skip') return { status: 'skipped', reason: plan.reason };
    if (mapping !== undefined && mapping.payloadHash === hash && mapping.inactive !== true) {
      if (modifiedMs !== undefined && modifiedMs > (heldMs ?? Number.NEGATIVE_INFINITY)) {
        await commit(deps, connection, message, held, { ...mapping, crmModifiedMs: modifiedMs });
      }
      return { status: 'unchanged', reason: 'the Books payload has not changed' };
    }

    const written =
      plan.kind === 'contact-person'
        ? await writeContactPerson(deps, connection, crmRecordId, plan, mapping)
        : await writeRecord(deps, connection, crmRecordId, plan.booksEntity, plan.body, mapping);
    if (mapping?.inactive === true && written.booksEntity !== 'invoices' && !written.person) {
      // A CRM record restored from the recycle bin: its Books record becomes active again.
      await callZoho(deps, connection, 'books', (target) =>
        deps.books.setStatus(
          target,
          written.booksEntity as 'contacts' | 'items',
          written.booksId,
          'active',
        ),
      );
    }
    await crashPoint('before-mapping-write', `${crmModule}/${crmRecordId}`);
    await commit(deps, connection, message, held, {
      booksEntity: written.booksEntity,
      booksId: written.booksId,
      syncedAtMs: deps.now(),
      ...(modifiedMs === undefined ? {} : { crmModifiedMs: modifiedMs }),
      payloadHash: hash,
      ...(written.contactPersonId === undefined
        ? {}
        : { contactPersonId: written.contactPersonId }),
    });
    deps.logger.info('record synced', {
      connection_id: connection.connectionId,
      crm_module: crmModule,
      crm_record_id: crmRecordId,
      books_entity: written.booksEntity,
      books_id: written.booksId,
      ...(written.contactPersonId === undefined
        ? {}
        : { books_contact_person_id: written.contactPersonId }),
    });
    return { status: 'synced', booksEntity: written.booksEntity, booksId: written.booksId };
  });
};

const planWrite = async (
  deps: SyncRecordDeps,
  connection: Connection,
  crmModule: SyncedCrmModule,
  crmRecordId: string,
  record: CrmRecord,
): Promise<WritePlan> => {
  const mapped = (body: object): object =>
    applyFieldMapping(body, record, connection.mapping[crmModule]);
  switch (crmModule) {
    case 'Accounts':
      return {
        kind: 'record',
        booksEntity: 'contacts',
        body: mapped(accountToBooksContact(record, crmRecordId)),
      };
    case 'Contacts': {
      const crmAccountId = contactAccountId(record);
      if (crmAccountId !== undefined) {
        return {
          kind: 'contact-person',
          crmAccountId,
          person: contactToContactPerson(record, crmRecordId),
        };
      }
      return {
        kind: 'record',
        booksEntity: 'contacts',
        body: mapped(contactToBooksContact(record, crmRecordId)),
      };
    }
    case 'Products':
      return {
        kind: 'record',
        booksEntity: 'items',
        body: mapped(productToBooksItem(record, crmRecordId)),
      };
    case 'Deals': {
      if (!isWonDeal(record)) return { kind: 'skip', reason: 'deal is not won' };
      const customerId = await ensureCustomer(
        deps,
        connection,
        billedAccountId(record, crmModule, crmRecordId),
      );
      return {
        kind: 'record',
        booksEntity: 'invoices',
        body: mapped(dealToBooksInvoice(record, crmRecordId, customerId)),
      };
    }
    case 'Sales_Orders': {
      const customerId = await ensureCustomer(
        deps,
        connection,
        billedAccountId(record, crmModule, crmRecordId),
      );
      const itemIds = await mappedItemIds(deps, connection, record);
      return {
        kind: 'record',
        booksEntity: 'invoices',
        body: mapped(salesOrderToBooksInvoice(record, crmRecordId, customerId, itemIds)),
      };
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
 * The CRM record is gone (deleted or in the recycle bin): its Books contact or item is marked
 * inactive, never deleted; an invoice stays as it is, and so does a contact person (Books has
 * no inactive contact person, and the Account's contact keeps its history).
 */
const retire = async (
  deps: SyncRecordDeps,
  connection: Connection,
  key: RecordKey,
  held: HeldLease,
): Promise<SyncResult> => {
  const mapping = held.mapping;
  if (mapping === undefined) return { status: 'skipped', reason: 'CRM record no longer exists' };
  if (mapping.booksEntity === 'invoices') {
    return { status: 'skipped', reason: 'CRM record deleted; invoices are never deleted' };
  }
  if (mapping.contactPersonId !== undefined) {
    return { status: 'skipped', reason: 'CRM contact deleted; its contact person is kept' };
  }
  if (mapping.inactive === true) {
    return { status: 'unchanged', reason: 'the Books record is already inactive' };
  }
  const entity = mapping.booksEntity;
  try {
    await callZoho(deps, connection, 'books', (target) =>
      deps.books.setStatus(target, entity, mapping.booksId, 'inactive'),
    );
  } catch (error) {
    if (!isZohoApiError(error) || error.entry.id !== 'books-1002') throw error;
    deps.logger.warn('Books record of a deleted CRM record is gone already', {
      books_entity: entity,
      books_id: mapping.booksId,
    });
  }
  await commit(deps, connection, key, held, {
    ...mapping,
    inactive: true,
    syncedAtMs: deps.now(),
  });
  deps.logger.info('CRM record deleted: Books record marked inactive', {
    books_entity: entity,
    books_id: mapping.booksId,
  });
  return { status: 'deactivated', booksEntity: entity, booksId: mapping.booksId };
};

interface Written {
  readonly booksEntity: BooksEntity;
  readonly booksId: string;
  readonly contactPersonId?: string;
  readonly person?: boolean;
}

/**
 * Writes one Books record. With a stored mapping it updates that record by id (the plainest
 * Books call); without one, or when Books says the mapped record is gone (1002), it upserts
 * on the unique cf_crm_id field, which finds the record a crashed attempt may have created.
 */
const writeRecord = async (
  deps: SyncRecordDeps,
  connection: Connection,
  crmRecordId: string,
  booksEntity: BooksEntity,
  body: object,
  mapping: RecordMapping | undefined,
): Promise<Written> => {
  let result: BooksRecordResult | undefined;
  if (
    mapping !== undefined &&
    mapping.booksEntity === booksEntity &&
    mapping.contactPersonId === undefined
  ) {
    try {
      result = await withDuplicateNamePolicy(
        deps,
        connection,
        booksEntity,
        crmRecordId,
        body,
        false,
        (attempt) =>
          callZoho(deps, connection, 'books', (target) =>
            deps.books.update(target, booksEntity, mapping.booksId, attempt),
          ),
      );
    } catch (error) {
      if (!isZohoApiError(error) || error.entry.id !== 'books-1002') throw error;
      deps.logger.warn('mapped Books record is gone; upserting by CRM id', {
        books_entity: booksEntity,
        books_id: mapping.booksId,
      });
    }
  }
  result ??= await withDuplicateNamePolicy(
    deps,
    connection,
    booksEntity,
    crmRecordId,
    body,
    true,
    (attempt) => upsertByCrmId(deps, connection, booksEntity, crmRecordId, attempt),
  );
  return { booksEntity, booksId: booksIdOf(booksEntity, result.record) };
};

const isDuplicateName = (error: unknown): boolean =>
  isZohoApiError(error) && error.entry.id === 'books-3062';

/** `Name (CRM 1234)`, cut to Books' 200 characters with the suffix kept whole. */
export const disambiguatedName = (name: string, crmRecordId: string): string => {
  const suffix = ` (CRM ${crmRecordId})`;
  return `${name.slice(0, Math.max(0, 200 - suffix.length))}${suffix}`;
};

/**
 * Books refuses a second contact with a display name already taken (3062). The connection's
 * `duplicateContactNames` policy decides (default `link-or-rename`): link to the existing
 * contact when its cf_crm_id is empty or this record's id, else write this record under
 * `Name (CRM <id>)` and log that; `fail` lets the error dead-letter and alert. Never silent.
 */
const withDuplicateNamePolicy = async (
  deps: SyncRecordDeps,
  connection: Connection,
  booksEntity: BooksEntity,
  crmRecordId: string,
  body: object,
  mayLink: boolean,
  write: (body: object) => Promise<BooksRecordResult>,
): Promise<BooksRecordResult> => {
  try {
    return await write(body);
  } catch (error) {
    const policy = connection.duplicateContactNames;
    const name = (body as { contact_name?: unknown }).contact_name;
    if (
      booksEntity !== 'contacts' ||
      !isDuplicateName(error) ||
      policy === 'fail' ||
      typeof name !== 'string'
    ) {
      throw error;
    }
    if (mayLink && policy === 'link-or-rename') {
      const existing = await findContactByName(deps, connection, name);
      const existingCrmId = existing === undefined ? undefined : crmIdOf(existing.record);
      if (
        existing !== undefined &&
        (existingCrmId === undefined || existingCrmId === crmRecordId)
      ) {
        deps.logger.warn('duplicate contact name: linked the CRM record to the existing contact', {
          books_id: existing.booksId,
          policy,
        });
        return callZoho(deps, connection, 'books', (target) =>
          deps.books.update(target, 'contacts', existing.booksId, body),
        );
      }
    }
    const renamed = disambiguatedName(name, crmRecordId);
    deps.logger.warn('duplicate contact name: wrote the contact under a disambiguated name', {
      contact_name: renamed,
      policy,
    });
    return write({ ...body, contact_name: renamed });
  }
};

/** The contact whose display name is `name` (case-insensitive), read whole for its cf_crm_id. */
const findContactByName = async (
  deps: SyncRecordDeps,
  connection: Connection,
  name: string,
): Promise<BooksRecordResult | undefined> => {
  const wanted = name.trim().toLowerCase();
  for (let page = 1; ; page += 1) {
    const found = await callZoho(deps, connection, 'books', (target) =>
      deps.books.list(target, 'contacts', {
        contact_name: name,
        page: String(page),
        per_page: '200',
      }),
    );
    const match = found.records.find(
      (record) =>
        String(record.contact_name ?? '')
          .trim()
          .toLowerCase() === wanted,
    );
    if (match !== undefined) {
      const booksId = booksIdOf('contacts', match);
      // A list row may leave custom fields out: read the contact to see its cf_crm_id.
      return callZoho(deps, connection, 'books', (target) =>
        deps.books.get(target, 'contacts', booksId),
      );
    }
    if (!found.hasMorePage) return undefined;
  }
};

/**
 * Creates or updates the Books record holding `cf_crm_id = crmRecordId` in one call
 * (`PUT /{entity}` with X-Unique-Identifier-* and X-Upsert). Where that endpoint is not offered
 * (404/405 "Invalid URL"), falls back to a search on the custom field, through every page, and
 * then an update by id or a create. The caller holds the record's lease, so two deliveries
 * cannot both create; a record a crashed attempt created is found by the search.
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
  for (let page = 1; ; page += 1) {
    const found = await callZoho(deps, connection, 'books', (target) =>
      deps.books.list(target, booksEntity, {
        [CRM_ID_CUSTOM_FIELD]: crmRecordId,
        page: String(page),
        per_page: '200',
      }),
    );
    // Filters are confirmed client-side: an endpoint that ignores the filter returns everything.
    const existing = found.records.find((record) => crmIdOf(record) === crmRecordId);
    if (existing !== undefined) {
      const booksId = booksIdOf(booksEntity, existing);
      return callZoho(deps, connection, 'books', (target) =>
        deps.books.update(target, booksEntity, booksId, body),
      );
    }
    if (!found.hasMorePage) break;
  }
  return callZoho(deps, connection, 'books', (target) =>
    deps.books.create(target, booksEntity, body),
  );
};

/** The fields of a contact person zoho-sync sends back when it rewrites the list. */
const PERSON_FIELDS = [
  'contact_person_id',
  'salutation',
  'first_name',
  'last_name',
  'email',
  'phone',
  'mobile',
  'designation',
  'department',
  'is_primary_contact',
] as const;

const personsOf = (record: BooksRecord): Record<string, unknown>[] =>
  (Array.isArray(record.contact_persons) ? record.contact_persons : []).filter(
    (person): person is Record<string, unknown> => typeof person === 'object' && person !== null,
  );

const keepPerson = (person: Record<string, unknown>): Record<string, unknown> =>
  Object.fromEntries(
    PERSON_FIELDS.flatMap((field) => (field in person ? [[field, person[field]]] : [])),
  );

const lower = (value: unknown): string =>
  typeof value === 'string' ? value.trim().toLowerCase() : '';

/** The same person: by the id we stored, else by email, else by first and last name. */
const samePerson =
  (person: Readonly<Record<string, unknown>>, contactPersonId: string | undefined) =>
  (candidate: Record<string, unknown>): boolean => {
    if (contactPersonId !== undefined)
      return String(candidate.contact_person_id) === contactPersonId;
    if (lower(person.email) !== '') return lower(candidate.email) === lower(person.email);
    return (
      lower(candidate.first_name) === lower(person.first_name) &&
      lower(candidate.last_name) === lower(person.last_name)
    );
  };

/**
 * A CRM Contact of an Account becomes a contact person of the Account's Books contact. Books
 * keeps contact persons as a list on the contact (reference §8.1), so the list is read and
 * written back with this person added or updated, holding the Account's lease so two Contacts
 * of one Account cannot overwrite each other's change. A Contact that was its own Books
 * contact before it got an account leaves that contact inactive.
 */
const writeContactPerson = async (
  deps: SyncRecordDeps,
  connection: Connection,
  crmRecordId: string,
  plan: Extract<WritePlan, { kind: 'contact-person' }>,
  mapping: RecordMapping | undefined,
): Promise<Written> => {
  const customerId = await ensureCustomer(deps, connection, plan.crmAccountId);
  const knownId = mapping?.booksId === customerId ? mapping.contactPersonId : undefined;
  const contactPersonId = await withLease(
    deps,
    connection,
    { crmModule: 'Accounts', crmRecordId: plan.crmAccountId },
    async () => {
      const parent = await callZoho(deps, connection, 'books', (target) =>
        deps.books.get(target, 'contacts', customerId),
      );
      const before = personsOf(parent.record);
      const matches = samePerson(plan.person, knownId);
      const index = before.findIndex(matches);
      const persons =
        index >= 0
          ? before.map((person, at) =>
              at === index
                ? {
                    ...keepPerson(person),
                    ...plan.person,
                    contact_person_id: person.contact_person_id,
                  }
                : keepPerson(person),
            )
          : [
              ...before.map(keepPerson),
              { ...plan.person, is_primary_contact: before.length === 0 },
            ];
      const updated = await callZoho(deps, connection, 'books', (target) =>
        deps.books.update(target, 'contacts', customerId, { contact_persons: persons }),
      );
      const knownIds = new Set(before.map((person) => String(person.contact_person_id)));
      const after = personsOf(updated.record);
      const saved =
        index >= 0
          ? after.find(
              (person) =>
                String(person.contact_person_id) === String(before[index]?.contact_person_id),
            )
          : (after.find(
              (person) =>
                !knownIds.has(String(person.contact_person_id)) &&
                samePerson(plan.person, undefined)(person),
            ) ?? after.find((person) => !knownIds.has(String(person.contact_person_id))));
      const id = saved?.contact_person_id;
      if (typeof id !== 'string' && typeof id !== 'number') {
        throw new Error('Zoho Books answered without the contact person id');
      }
      return String(id);
    },
  );
  if (
    mapping !== undefined &&
    mapping.contactPersonId === undefined &&
    mapping.booksEntity === 'contacts' &&
    mapping.booksId !== customerId &&
    mapping.inactive !== true
  ) {
    // The Contact was its own Books contact until it got an account.
    try {
      await callZoho(deps, connection, 'books', (target) =>
        deps.books.setStatus(target, 'contacts', mapping.booksId, 'inactive'),
      );
      deps.logger.info('CRM contact joined an account: its own Books contact marked inactive', {
        books_id: mapping.booksId,
      });
    } catch (error) {
      if (!isZohoApiError(error) || error.entry.id !== 'books-1002') throw error;
    }
  }
  deps.logger.debug('contact person written', { crm_record_id: crmRecordId });
  return { booksEntity: 'contacts', booksId: customerId, contactPersonId, person: true };
};

/** 404 or 405 with no code or code 5 ("Invalid URL"): the endpoint itself is not there. */
const isUnsupportedEndpoint = (error: unknown): boolean =>
  isZohoApiError(error) &&
  (error.httpStatus === 404 || error.httpStatus === 405) &&
  (error.zohoCode === undefined || error.zohoCode === 5 || error.zohoCode === '5');

/** The CRM id a Books record carries, as `cf_crm_id` or in its `custom_fields` list. */
const crmIdOf = (record: BooksRecord): string | undefined => {
  const direct = record[CRM_ID_CUSTOM_FIELD];
  if (typeof direct === 'string' || typeof direct === 'number') {
    return String(direct) === '' ? undefined : String(direct);
  }
  const fields = record.custom_fields;
  if (!Array.isArray(fields)) return undefined;
  const field = fields.find(
    (entry) =>
      typeof entry === 'object' &&
      entry !== null &&
      (entry as { api_name?: unknown }).api_name === CRM_ID_CUSTOM_FIELD,
  ) as { value?: unknown } | undefined;
  return field?.value === undefined || field.value === null || field.value === ''
    ? undefined
    : String(field.value);
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
  const result = await syncRecord(deps, connection, {
    crmModule: 'Accounts',
    crmRecordId: crmAccountId,
  });
  if (result.status === 'synced') return result.booksId;
  const after = await deps.mappings.get(connection.connectionId, 'Accounts', crmAccountId);
  if (after !== undefined) return after.booksId;
  throw new SyncDataError(
    'Accounts',
    crmAccountId,
    result.status === 'skipped' ? result.reason : 'the billed CRM account could not be synced',
  );
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
