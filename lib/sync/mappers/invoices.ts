import { SyncDataError } from '../../failures/errors';
import { amount, type CrmRecord, compact, crmIdCustomField, lookup, text } from './crm-fields';

/** The deal stage that turns a deal into an invoice. */
export const WON_DEAL_STAGE = 'Closed Won';

export const isWonDeal = (deal: CrmRecord): boolean => text(deal, 'Stage') === WON_DEAL_STAGE;

/** The CRM account a deal or sales order bills, which must exist in Books as a contact first. */
export const billedAccountId = (
  record: CrmRecord,
  crmModule: string,
  crmRecordId: string,
): string => {
  const account = lookup(record, 'Account_Name');
  if (account === undefined) {
    throw new SyncDataError(crmModule, crmRecordId, `the CRM record has no Account_Name to bill`);
  }
  return account.id;
};

const isoDate = (value: string | undefined): string | undefined =>
  value !== undefined && /^\d{4}-\d{2}-\d{2}/.test(value) ? value.slice(0, 10) : undefined;

/** Won CRM Deal -> Books invoice with one line for the deal amount. */
export const dealToBooksInvoice = (deal: CrmRecord, crmRecordId: string, customerId: string) => {
  const dealName = text(deal, 'Deal_Name') ?? `Deal ${crmRecordId}`;
  const total = amount(deal, 'Amount');
  if (total === undefined) {
    throw new SyncDataError('Deals', crmRecordId, 'the won deal has no Amount');
  }
  return compact({
    customer_id: customerId,
    reference_number: dealName.slice(0, 100),
    date: isoDate(text(deal, 'Closing_Date')),
    line_items: [
      compact({
        name: dealName.slice(0, 100),
        description: text(deal, 'Description'),
        rate: total,
        quantity: 1,
      }),
    ],
    custom_fields: [crmIdCustomField(crmRecordId)],
  });
};

/** The ordered product of a CRM line item: `Product_Name` (v2+) or `product` (older APIs). */
const orderedProduct = (item: CrmRecord): CrmRecord => {
  const product = item.Product_Name ?? item.product;
  return typeof product === 'object' && product !== null ? (product as CrmRecord) : {};
};

/**
 * One Books invoice line from a CRM line item. Every field goes through the typed readers:
 * line items are as loosely typed as records, and Books refuses a string `rate`.
 */
const toInvoiceLine = (
  item: CrmRecord,
  index: number,
  booksItemIdByProductId: ReadonlyMap<string, string>,
) => {
  const product = orderedProduct(item);
  const productId = text(product, 'id');
  return compact({
    item_id: productId === undefined ? undefined : booksItemIdByProductId.get(productId),
    name: text(product, 'name')?.slice(0, 100) ?? `Item ${index + 1}`,
    description: text(item, 'Description'),
    rate: amount(item, 'List_Price') ?? amount(item, 'list_price') ?? 0,
    quantity: amount(item, 'Quantity') ?? amount(item, 'quantity') ?? 1,
    discount: amount(item, 'Discount'),
    item_order: index + 1,
  });
};

/** CRM Sales Order -> Books invoice, one line per ordered item. */
export const salesOrderToBooksInvoice = (
  order: CrmRecord,
  crmRecordId: string,
  customerId: string,
  booksItemIdByProductId: ReadonlyMap<string, string>,
) => {
  const rawItems = order.Ordered_Items ?? order.Product_Details;
  const items = (Array.isArray(rawItems) ? (rawItems as unknown[]) : []).filter(
    (item): item is CrmRecord => typeof item === 'object' && item !== null && !Array.isArray(item),
  );
  if (items.length === 0) {
    throw new SyncDataError('Sales_Orders', crmRecordId, 'the sales order has no line items');
  }
  return compact({
    customer_id: customerId,
    reference_number: (text(order, 'SO_Number') ?? text(order, 'Subject') ?? crmRecordId).slice(
      0,
      100,
    ),
    date: isoDate(text(order, 'Due_Date')),
    line_items: items.map((item, index) => toInvoiceLine(item, index, booksItemIdByProductId)),
    custom_fields: [crmIdCustomField(crmRecordId)],
  });
};
