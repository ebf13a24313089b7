import type { ModuleFieldMapping } from '../../config';
import type { SyncedCrmModule } from '../crm-modules';
import { CRM_ID_CUSTOM_FIELD, type CrmRecord, lookup } from './crm-fields';

/**
 * The CRM fields each built-in mapper reads, asked for by name in batch reads (`ids=` list
 * calls must name their fields). `Modified_Time` orders the writes.
 */
export const DEFAULT_CRM_FIELDS: Readonly<Record<SyncedCrmModule, readonly string[]>> = {
  Accounts: [
    'Account_Name',
    'Website',
    'Description',
    ...['Billing', 'Shipping'].flatMap((prefix) =>
      ['Street', 'City', 'State', 'Code', 'Country'].map((part) => `${prefix}_${part}`),
    ),
  ],
  Contacts: [
    'First_Name',
    'Last_Name',
    'Full_Name',
    'Account_Name',
    'Email',
    'Phone',
    'Mobile',
    ...['Street', 'City', 'State', 'Code', 'Country'].map((part) => `Mailing_${part}`),
  ],
  Products: ['Product_Name', 'Unit_Price', 'Product_Code', 'Description'],
  Deals: ['Deal_Name', 'Stage', 'Amount', 'Closing_Date', 'Description', 'Account_Name'],
  Sales_Orders: ['SO_Number', 'Subject', 'Due_Date', 'Account_Name', 'Ordered_Items'],
};

/** Every CRM field a sync of the module reads: the defaults, the connection's mapping, the time. */
export const crmFieldsFor = (
  crmModule: SyncedCrmModule,
  mapping: ModuleFieldMapping | undefined,
): string[] => [
  ...new Set([
    'Modified_Time',
    ...DEFAULT_CRM_FIELDS[crmModule],
    ...Object.values(mapping?.fields ?? {}),
    ...Object.values(mapping?.customFields ?? {}),
  ]),
];

/** A CRM value as Books takes it: text trimmed, numbers and booleans as they are, lookups by name. */
const crmValue = (record: CrmRecord, field: string): string | number | boolean | undefined => {
  const value = record[field];
  if (typeof value === 'string') return value.trim() === '' ? undefined : value.trim();
  if (typeof value === 'number' || typeof value === 'boolean') return value;
  if (Array.isArray(value)) {
    const parts = value.filter((part) => typeof part === 'string' || typeof part === 'number');
    return parts.length === 0 ? undefined : parts.join(', ');
  }
  return lookup(record, field)?.name;
};

/**
 * Applies a connection's mapping to a built-in Books payload: `fields` set (or override) Books
 * fields, `customFields` add Books custom fields next to cf_crm_id. An empty CRM field leaves
 * the built-in value (or nothing) in place.
 */
export const applyFieldMapping = <T extends object>(
  body: T,
  record: CrmRecord,
  mapping: ModuleFieldMapping | undefined,
): T => {
  if (mapping === undefined) return body;
  const result: Record<string, unknown> = { ...(body as Record<string, unknown>) };
  for (const [booksField, crmField] of Object.entries(mapping.fields ?? {})) {
    const value = crmValue(record, crmField);
    if (value !== undefined) result[booksField] = value;
  }
  const extra = Object.entries(mapping.customFields ?? {}).flatMap(([apiName, crmField]) => {
    const value = crmValue(record, crmField);
    return value === undefined || apiName === CRM_ID_CUSTOM_FIELD
      ? []
      : [{ api_name: apiName, value }];
  });
  if (extra.length > 0) {
    const existing = Array.isArray(result.custom_fields) ? result.custom_fields : [];
    result.custom_fields = [...existing, ...extra];
  }
  return result as T;
};
