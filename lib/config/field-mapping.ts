import * as z from 'zod';

/**
 * Per-connection field mappings (connection secret key `mapping`): extra or overriding Books
 * fields filled from CRM fields, on top of the built-in mapping (README "What becomes what").
 */
const crmFieldSchema = z.string().regex(/^[A-Za-z][A-Za-z0-9_]{0,99}$/, {
  message: 'must be a CRM field API name such as Industry or My_Field__c',
});

/** Books fields the sync itself owns: mapping them from CRM would break the sync. */
export const PROTECTED_BOOKS_FIELDS = [
  'custom_fields',
  'contact_persons',
  'line_items',
  'customer_id',
  'contact_id',
  'item_id',
  'invoice_id',
  'cf_crm_id',
] as const;

const booksFieldSchema = z
  .string()
  .regex(/^[a-z][a-z0-9_]{0,99}$/, { message: 'must be a Books field name such as website' })
  .refine((name) => !(PROTECTED_BOOKS_FIELDS as readonly string[]).includes(name), {
    message: 'is set by zoho-sync itself and cannot be mapped',
  })
  .refine((name) => !name.startsWith('cf_'), {
    message: 'is a custom field: map it under customFields',
  });

const booksCustomFieldSchema = z
  .string()
  .regex(/^cf_[a-z0-9_]{1,100}$/, {
    message: 'must be a Books custom field API name such as cf_industry',
  })
  .refine((name) => name !== 'cf_crm_id', { message: 'cf_crm_id is set by zoho-sync itself' });

export const moduleFieldMappingSchema = z
  .object({
    /** Books field -> CRM field, e.g. `{ "website": "Company_Site" }`. Overrides the default. */
    fields: z.record(booksFieldSchema, crmFieldSchema).optional(),
    /** Books custom field API name -> CRM field, e.g. `{ "cf_industry": "Industry" }`. */
    customFields: z.record(booksCustomFieldSchema, crmFieldSchema).optional(),
  })
  .strict();

export const fieldMappingSchema = z
  .object({
    Accounts: moduleFieldMappingSchema.optional(),
    Contacts: moduleFieldMappingSchema.optional(),
    Products: moduleFieldMappingSchema.optional(),
    Deals: moduleFieldMappingSchema.optional(),
    Sales_Orders: moduleFieldMappingSchema.optional(),
  })
  .strict();

export type ModuleFieldMapping = z.infer<typeof moduleFieldMappingSchema>;
export type FieldMapping = z.infer<typeof fieldMappingSchema>;

/**
 * What to do when Books refuses a contact because its display name is taken (3062):
 * - `link-or-rename` (default): link to the existing contact when its cf_crm_id is empty or
 *   this record's id, else create the contact as `Name (CRM <id>)` and log it;
 * - `rename`: always create `Name (CRM <id>)`;
 * - `fail`: dead-letter the message and alert an admin.
 */
export const DUPLICATE_CONTACT_NAME_POLICIES = ['link-or-rename', 'rename', 'fail'] as const;
export type DuplicateContactNamePolicy = (typeof DUPLICATE_CONTACT_NAME_POLICIES)[number];
export const duplicateContactNamePolicySchema = z.enum(DUPLICATE_CONTACT_NAME_POLICIES);
