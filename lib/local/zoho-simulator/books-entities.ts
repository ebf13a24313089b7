/**
 * What differs between contacts, items and invoices: required fields, derived fields, the
 * success messages, and which state forbids what. Field lists: reference zoho-books-api.md §8.
 */
import { booksErrors } from './books-errors';
import type { SimResponse } from './http-io';
import { booksDate } from './ids';
import type { BooksScopeFamily } from './scopes';
import type { BooksEntity, OrgState, SimulatorState, StoredBooksRecord } from './state';

export type Outcome<T> =
  | { readonly ok: true; readonly value: T }
  | { readonly ok: false; readonly response: SimResponse };

const fail = (response: SimResponse): Outcome<never> => ({ ok: false, response });

export interface PrepareContext {
  readonly state: SimulatorState;
  readonly org: OrgState;
  /** The body without system fields and custom fields. */
  readonly input: Record<string, unknown>;
  /** The body as sent (for fields read but not copied, such as `invoice_number`). */
  readonly rawInput: Record<string, unknown>;
  readonly query: URLSearchParams;
  /** The stored record on update; undefined on create. */
  readonly existing: StoredBooksRecord | undefined;
}

export interface BooksEntityDefinition {
  readonly idField: string;
  /** Key of one record in responses (`contact`), and of the list (`contacts`). */
  readonly singular: string;
  readonly label: string;
  readonly scopeFamily: BooksScopeFamily;
  /** Fields a client cannot set directly (the simulator sets or derives them). */
  readonly systemFields: readonly string[];
  readonly messages: {
    readonly created: string;
    readonly updated: string;
    readonly deleted: string;
  };
  /** Validates a write and returns the record's new plain fields (without id and timestamps). */
  prepare(ctx: PrepareContext): Outcome<Record<string, unknown>>;
  /** Last step of a create, once every check has passed (e.g. taking the next invoice number). */
  beforeCreate?(org: OrgState, fields: Record<string, unknown>): void;
  /** Why this record may not be deleted, if it may not. */
  deleteBlocked?(org: OrgState, stored: StoredBooksRecord): SimResponse | undefined;
}

/** A money or quantity value: a finite number >= 0, or a numeric string. */
const toAmount = (value: unknown): number | undefined => {
  const n =
    typeof value === 'number'
      ? value
      : typeof value === 'string' && /^\s*\d+(\.\d+)?\s*$/.test(value)
        ? Number(value)
        : Number.NaN;
  return Number.isFinite(n) && n >= 0 ? n : undefined;
};

const round2 = (n: number): number => Math.round(n * 100) / 100;

const isObject = (value: unknown): value is Record<string, unknown> =>
  typeof value === 'object' && value !== null && !Array.isArray(value);

const normalizedName = (value: unknown): string =>
  String(value ?? '')
    .trim()
    .toLowerCase();

const invoicesReferencing = (org: OrgState, predicate: (invoice: StoredBooksRecord) => boolean) =>
  [...org.books.invoices.records.values()].some(predicate);

const contacts: BooksEntityDefinition = {
  idField: 'contact_id',
  singular: 'contact',
  label: 'Contact',
  scopeFamily: 'contacts',
  systemFields: ['contact_id', 'status', 'primary_contact_id', 'is_linked_with_zohocrm'],
  // "The contact has been added." is unconfirmed (reference §2); the others are our wording.
  messages: {
    created: 'The contact has been added.',
    updated: 'Contact information has been saved.',
    deleted: 'The contact has been deleted.',
  },
  prepare({ state, org, input, existing }) {
    const derived: Record<string, unknown> = {};
    if (!existing || 'contact_name' in input) {
      // contact_name: the display name, required, at most 200 characters (reference §8.1).
      const name = input.contact_name;
      if (typeof name !== 'string' || name.trim() === '' || name.length > 200) {
        return fail(booksErrors.invalidValue('contact_name'));
      }
      // Unique per organization, compared without case (reference §4 assumes uniqueness).
      const taken = [...org.books.contacts.records.values()].some(
        (r) =>
          r.id !== existing?.id && normalizedName(r.fields.contact_name) === normalizedName(name),
      );
      if (taken) return fail(booksErrors.duplicateContactName());
    }
    if (
      'contact_type' in input &&
      input.contact_type !== 'customer' &&
      input.contact_type !== 'vendor'
    ) {
      return fail(booksErrors.invalidValue('contact_type'));
    }
    if ('contact_persons' in input) {
      const persons = input.contact_persons;
      if (!Array.isArray(persons) || !persons.every(isObject)) {
        return fail(booksErrors.invalidValue('contact_persons'));
      }
      const withIds = persons.map(
        (p): Record<string, unknown> => ({
          contact_person_id: String(p.contact_person_id ?? state.nextId()),
          ...p,
        }),
      );
      const primary = withIds.find((p) => p.is_primary_contact === true) ?? withIds[0];
      derived.contact_persons = withIds.map((p) => ({ ...p, is_primary_contact: p === primary }));
      derived.primary_contact_id = primary?.contact_person_id ?? '';
    }
    const base = existing?.fields ?? {
      contact_type: 'customer',
      status: 'active',
      is_linked_with_zohocrm: false,
    };
    return { ok: true, value: { ...base, ...input, ...derived } };
  },
  deleteBlocked(org, stored) {
    return invoicesReferencing(org, (i) => i.fields.customer_id === stored.id)
      ? booksErrors.notAllowedInState(
          'The contact has transactions and cannot be deleted. Mark it as inactive instead.',
        )
      : undefined;
  },
};

const items: BooksEntityDefinition = {
  idField: 'item_id',
  singular: 'item',
  label: 'Item',
  scopeFamily: 'settings',
  systemFields: ['item_id', 'status'],
  messages: {
    created: 'The item has been added.',
    updated: 'The item details have been updated.',
    deleted: 'The item has been deleted.',
  },
  prepare({ input, existing }) {
    const derived: Record<string, unknown> = {};
    // name and rate are required (reference §8.2). Unlike contact names, item names are not
    // checked for uniqueness: the reference says nothing about it.
    if (!existing || 'name' in input) {
      if (typeof input.name !== 'string' || input.name.trim() === '') {
        return fail(booksErrors.invalidValue('name'));
      }
    }
    if (!existing || 'rate' in input) {
      const rate = toAmount(input.rate);
      if (rate === undefined) return fail(booksErrors.invalidValue('rate'));
      derived.rate = rate;
    }
    const base = existing?.fields ?? { status: 'active' };
    return { ok: true, value: { ...base, ...input, ...derived } };
  },
  deleteBlocked(org, stored) {
    const used = invoicesReferencing(org, (i) =>
      ((i.fields.line_items ?? []) as Record<string, unknown>[]).some(
        (l) => l.item_id === stored.id,
      ),
    );
    return used
      ? booksErrors.notAllowedInState(
          'The item is used in transactions and cannot be deleted. Mark it as inactive instead.',
        )
      : undefined;
  },
};

/** Reads `line_items`; `item_total` = rate x quantity (discounts and taxes are not modelled). */
const prepareLineItems = (
  state: SimulatorState,
  org: OrgState,
  input: unknown,
): Outcome<Record<string, unknown>[]> => {
  if (!Array.isArray(input) || input.length === 0 || !input.every(isObject)) {
    return fail(booksErrors.invalidValue('line_items'));
  }
  const lines: Record<string, unknown>[] = [];
  for (const line of input) {
    const item =
      line.item_id === undefined ? undefined : org.books.items.records.get(String(line.item_id));
    if (line.item_id !== undefined && !item) return fail(booksErrors.invalidValue('item_id'));
    const name = line.name ?? item?.fields.name;
    if (name === undefined && line.description === undefined) {
      return fail(booksErrors.invalidValue('line_items'));
    }
    const rate = toAmount(line.rate ?? item?.fields.rate);
    if (rate === undefined) return fail(booksErrors.invalidValue('rate'));
    const quantity = toAmount(line.quantity ?? 1);
    if (quantity === undefined) return fail(booksErrors.invalidValue('quantity'));
    lines.push({
      line_item_id: String(line.line_item_id ?? state.nextId()),
      ...line,
      ...(item ? { item_id: item.id } : {}),
      ...(name === undefined ? {} : { name }),
      rate,
      quantity,
      item_total: round2(rate * quantity),
    });
  }
  return { ok: true, value: lines };
};

const invoiceNumberTaken = (org: OrgState, invoiceNumber: string, selfId?: string): boolean =>
  invoicesReferencing(org, (i) => i.id !== selfId && i.fields.invoice_number === invoiceNumber);

const invoices: BooksEntityDefinition = {
  idField: 'invoice_id',
  singular: 'invoice',
  label: 'Invoice',
  scopeFamily: 'invoices',
  systemFields: [
    'invoice_id',
    'invoice_number',
    'status',
    'customer_name',
    'sub_total',
    'total',
    'balance',
  ],
  messages: {
    created: 'The invoice has been created.',
    updated: 'Invoice information has been updated.',
    deleted: 'The invoice has been deleted.',
  },
  prepare({ state, org, input, rawInput, query, existing }) {
    const status = existing?.fields.status;
    if (status === 'void') {
      return fail(booksErrors.notAllowedInState('A void invoice cannot be edited.'));
    }
    if (status === 'paid') {
      return fail(booksErrors.notAllowedInState('A paid invoice cannot be edited.'));
    }
    const derived: Record<string, unknown> = {};
    // customer_id (a Books contact) and line_items are required (reference §8.3).
    if (!existing || 'customer_id' in input) {
      const customerId = input.customer_id;
      const customer =
        typeof customerId === 'string' || typeof customerId === 'number'
          ? org.books.contacts.records.get(String(customerId))
          : undefined;
      if (!customer) return fail(booksErrors.invalidValue('customer_id'));
      derived.customer_id = customer.id;
      derived.customer_name = customer.fields.contact_name;
    }
    if (!existing || 'line_items' in input) {
      const lines = prepareLineItems(state, org, input.line_items);
      if (!lines.ok) return lines;
      const subTotal = round2(lines.value.reduce((sum, l) => sum + (l.item_total as number), 0));
      Object.assign(derived, { line_items: lines.value, sub_total: subTotal, total: subTotal });
      derived.balance = subTotal;
    }
    // `invoice_number` is taken from the body only with ignore_auto_number_generation=true on
    // create (reference §8.3), or when an update changes it; otherwise it is auto-generated.
    const manualOnCreate = !existing && query.get('ignore_auto_number_generation') === 'true';
    const changedOnUpdate =
      existing !== undefined &&
      'invoice_number' in rawInput &&
      rawInput.invoice_number !== existing.fields.invoice_number;
    if (manualOnCreate || changedOnUpdate) {
      const invoiceNumber = rawInput.invoice_number;
      if (typeof invoiceNumber !== 'string' || invoiceNumber.trim() === '') {
        return fail(booksErrors.invalidValue('invoice_number'));
      }
      if (invoiceNumberTaken(org, invoiceNumber, existing?.id)) {
        return fail(booksErrors.duplicateInvoiceNumber(invoiceNumber));
      }
      derived.invoice_number = invoiceNumber;
    }
    const today = booksDate(state.now());
    const base = existing?.fields ?? {
      // `send=true` e-mails the invoice on create, which marks it sent.
      status: query.get('send') === 'true' ? 'sent' : 'draft',
    };
    const fields = { ...base, ...input, ...derived };
    fields.date ??= today;
    fields.due_date ??= fields.date;
    return { ok: true, value: fields };
  },
  beforeCreate(org, fields) {
    if (fields.invoice_number !== undefined) return;
    let invoiceNumber: string;
    do {
      invoiceNumber = `INV-${String(org.nextInvoiceNumber).padStart(6, '0')}`;
      org.nextInvoiceNumber += 1;
    } while (invoiceNumberTaken(org, invoiceNumber));
    fields.invoice_number = invoiceNumber;
  },
  deleteBlocked(_org, stored) {
    return stored.fields.status === 'paid'
      ? booksErrors.notAllowedInState('A paid invoice cannot be deleted.')
      : undefined;
  },
};

export const BOOKS_ENTITY_DEFINITIONS: Readonly<Record<BooksEntity, BooksEntityDefinition>> = {
  contacts,
  items,
  invoices,
};
