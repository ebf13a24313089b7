/** CRM API root and the module names the simulator knows; shared by crm.ts and notifications.ts. */
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
