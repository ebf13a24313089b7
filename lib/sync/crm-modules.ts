/**
 * CRM modules zoho-sync turns into Books records, and the Books entity each becomes
 * (accounts/contacts -> contacts, products -> items, won deals/sales orders -> invoices).
 */
export const CRM_TO_BOOKS = {
  Accounts: 'contacts',
  Contacts: 'contacts',
  Products: 'items',
  Deals: 'invoices',
  Sales_Orders: 'invoices',
} as const;

export type SyncedCrmModule = keyof typeof CRM_TO_BOOKS;
export type BooksEntity = (typeof CRM_TO_BOOKS)[SyncedCrmModule];

export const SYNCED_CRM_MODULES = Object.keys(CRM_TO_BOOKS) as [
  SyncedCrmModule,
  ...SyncedCrmModule[],
];

/** Workflow webhooks are configured by hand, so accept the module's display names too. */
const MODULE_ALIASES: Record<string, SyncedCrmModule> = {
  accounts: 'Accounts',
  account: 'Accounts',
  contacts: 'Contacts',
  contact: 'Contacts',
  products: 'Products',
  product: 'Products',
  deals: 'Deals',
  deal: 'Deals',
  potentials: 'Deals',
  sales_orders: 'Sales_Orders',
  salesorders: 'Sales_Orders',
  'sales orders': 'Sales_Orders',
  sales_order: 'Sales_Orders',
  salesorder: 'Sales_Orders',
};

/** Returns the module's API name, or undefined when zoho-sync does not sync it. */
export const toSyncedCrmModule = (value: string): SyncedCrmModule | undefined => {
  const alias = value.trim().toLowerCase();
  // Own keys only: `constructor` or `__proto__` must not resolve to Object.prototype members.
  return Object.hasOwn(MODULE_ALIASES, alias) ? MODULE_ALIASES[alias] : undefined;
};
