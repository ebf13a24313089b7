/**
 * Storing Books records: custom fields (reference zoho-books-api.md §7), rendering records as
 * the API returns them, and the create/update pipeline shared by contacts, items and invoices.
 */
import { BOOKS_ENTITY_DEFINITIONS, type Outcome } from './books-entities';
import { booksErrors } from './books-errors';
import { booksTimestamp } from './ids';
import type {
  BooksCollection,
  BooksEntity,
  CustomFieldDefinition,
  OrgState,
  SimulatorState,
  StoredBooksRecord,
} from './state';
import type { BooksRecord } from './types';

/** Custom-field changes of one write, by api_name; `null` clears the field. */
type CustomChanges = Map<string, string | null>;

/**
 * Renders a stored record as Books returns it: `custom_fields` entries with `api_name`, `label`,
 * `value`, `index` and `customfield_id` (the official contact example shows index/value/label),
 * plus each value again as a top-level `cf_<name>` key. That top-level copy is seen in Books
 * responses by client code but not on an official page (unconfirmed).
 */
export const renderRecord = (
  collection: BooksCollection,
  stored: StoredBooksRecord,
): BooksRecord => {
  const customFields = collection.customFields
    .filter((def) => stored.custom.has(def.api_name))
    .map((def) => ({
      customfield_id: def.customfield_id,
      api_name: def.api_name,
      label: def.label,
      data_type: def.data_type,
      index: def.index,
      value: stored.custom.get(def.api_name),
    }));
  return structuredClone({
    ...stored.fields,
    custom_fields: customFields,
    ...Object.fromEntries(customFields.map((f) => [f.api_name, f.value])),
  });
};

/**
 * Reads `custom_fields` of a write. Each entry names its field by `api_name`, by
 * `customfield_id`, or (as some clients do) by `label`, and carries a `value` (reference §7).
 * An entry naming no field of this entity is rejected (code 2).
 */
const parseCustomFields = (collection: BooksCollection, input: unknown): Outcome<CustomChanges> => {
  const changes: CustomChanges = new Map();
  if (input === undefined) return { ok: true, value: changes };
  const invalid = { ok: false as const, response: booksErrors.invalidValue('custom_fields') };
  if (!Array.isArray(input)) return invalid;
  for (const entry of input as unknown[]) {
    if (typeof entry !== 'object' || entry === null || !('value' in entry)) return invalid;
    const { api_name, customfield_id, label, value } = entry as Record<string, unknown>;
    const def = collection.customFields.find((d) =>
      api_name !== undefined
        ? d.api_name === api_name
        : customfield_id !== undefined
          ? d.customfield_id === String(customfield_id)
          : d.label === label,
    );
    if (!def) return invalid;
    if (value === null || value === '') changes.set(def.api_name, null);
    else if (typeof value === 'string' || typeof value === 'number') {
      changes.set(def.api_name, String(value));
    } else return invalid;
  }
  return { ok: true, value: changes };
};

const applyChanges = (current: ReadonlyMap<string, unknown>, changes: CustomChanges) => {
  const next = new Map(current);
  for (const [apiName, value] of changes) {
    if (value === null) next.delete(apiName);
    else next.set(apiName, value);
  }
  return next;
};

/** A value of a unique custom field held by another record: code 1001. */
const uniqueConflict = (
  entity: BooksEntity,
  collection: BooksCollection,
  selfId: string | undefined,
  custom: ReadonlyMap<string, unknown>,
) => {
  for (const def of collection.customFields) {
    const value = custom.get(def.api_name);
    if (!def.is_unique || value === undefined) continue;
    const holder = findByCustomField(collection, def, String(value));
    if (holder && holder.id !== selfId) {
      return booksErrors.alreadyExists(
        BOOKS_ENTITY_DEFINITIONS[entity].label,
        def.label,
        String(value),
      );
    }
  }
  return undefined;
};

export const findByCustomField = (
  collection: BooksCollection,
  def: CustomFieldDefinition,
  value: string,
): StoredBooksRecord | undefined =>
  [...collection.records.values()].find((r) => r.custom.get(def.api_name) === value);

/**
 * Removes what a client may not write directly: system fields, `custom_fields` (read apart), and
 * top-level `cf_*` keys. Books documents custom fields only through the `custom_fields` array, so
 * a top-level custom key on input is ignored (it would bypass the unique check otherwise).
 */
const writableInput = (
  entity: BooksEntity,
  collection: BooksCollection,
  input: Record<string, unknown>,
): Record<string, unknown> => {
  const blocked = new Set<string>([
    'custom_fields',
    'created_time',
    'last_modified_time',
    ...BOOKS_ENTITY_DEFINITIONS[entity].systemFields,
    ...collection.customFields.map((d) => d.api_name),
  ]);
  return Object.fromEntries(Object.entries(input).filter(([key]) => !blocked.has(key)));
};

export interface WriteContext {
  readonly state: SimulatorState;
  readonly org: OrgState;
  readonly entity: BooksEntity;
  readonly input: Record<string, unknown>;
  readonly query: URLSearchParams;
}

/** Creates a record; `forcedCustom` sets a custom field regardless of the body (upsert by key). */
export const createRecord = (
  ctx: WriteContext,
  forcedCustom?: { apiName: string; value: string },
): Outcome<StoredBooksRecord> => {
  const { state, org, entity, input } = ctx;
  const collection = org.books[entity];
  const definition = BOOKS_ENTITY_DEFINITIONS[entity];
  const changes = parseCustomFields(collection, input.custom_fields);
  if (!changes.ok) return changes;
  if (forcedCustom) changes.value.set(forcedCustom.apiName, forcedCustom.value);

  const prepared = definition.prepare({
    ...ctx,
    input: writableInput(entity, collection, input),
    rawInput: input,
    existing: undefined,
  });
  if (!prepared.ok) return prepared;
  const custom = applyChanges(new Map(), changes.value);
  const conflict = uniqueConflict(entity, collection, undefined, custom);
  if (conflict) return { ok: false, response: conflict };

  const id = state.nextId();
  const timestamp = booksTimestamp(state.now());
  const fields = { [definition.idField]: id, ...prepared.value };
  definition.beforeCreate?.(org, fields);
  const stored: StoredBooksRecord = {
    id,
    fields: { ...fields, created_time: timestamp, last_modified_time: timestamp },
    custom,
  };
  collection.records.set(id, stored);
  return { ok: true, value: stored };
};

/** Updates a record: fields sent replace stored ones; custom fields not sent are kept. */
export const updateRecord = (
  ctx: WriteContext,
  stored: StoredBooksRecord,
): Outcome<StoredBooksRecord> => {
  const { state, org, entity, input } = ctx;
  const collection = org.books[entity];
  const definition = BOOKS_ENTITY_DEFINITIONS[entity];
  const changes = parseCustomFields(collection, input.custom_fields);
  if (!changes.ok) return changes;

  const prepared = definition.prepare({
    ...ctx,
    input: writableInput(entity, collection, input),
    rawInput: input,
    existing: stored,
  });
  if (!prepared.ok) return prepared;
  const custom = applyChanges(stored.custom, changes.value);
  const conflict = uniqueConflict(entity, collection, stored.id, custom);
  if (conflict) return { ok: false, response: conflict };

  stored.fields = { ...prepared.value, last_modified_time: booksTimestamp(state.now()) };
  stored.custom = custom;
  return { ok: true, value: stored };
};
