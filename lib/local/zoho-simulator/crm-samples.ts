/**
 * Builders of realistic CRM records for tests and local mode, with the field API names of CRM's
 * standard modules. The simulator stores whatever `putCrmRecord` receives; these only save typing
 * the usual shape. System fields follow OAS record.json `Record` (id, Created_Time, Modified_Time,
 * Created_By/Modified_By as minified users). Date-times are ISO 8601 with an offset, as CRM sends.
 */
import type { CrmRecord } from './types';

const OWNER = { id: '4150868000000225013', name: 'Simulated Owner', email: 'owner@example.com' };

const system = (id: string, modifiedTime: string) => ({
  id,
  Owner: OWNER,
  Created_By: { id: OWNER.id, name: OWNER.name },
  Modified_By: { id: OWNER.id, name: OWNER.name },
  Created_Time: modifiedTime,
  Modified_Time: modifiedTime,
});

const DEFAULT_TIME = '2024-05-01T09:30:00+00:00';

type Overrides = Record<string, unknown>;

export const crmAccount = (id: string, overrides: Overrides = {}): CrmRecord => ({
  ...system(id, DEFAULT_TIME),
  Account_Name: `Account ${id}`,
  Phone: '+1 555 0100',
  Website: 'https://example.com',
  Account_Type: 'Customer',
  Billing_Street: '1 Main Street',
  Billing_City: 'Springfield',
  Billing_State: 'IL',
  Billing_Code: '62701',
  Billing_Country: 'United States',
  Shipping_Street: '1 Main Street',
  Shipping_City: 'Springfield',
  Shipping_State: 'IL',
  Shipping_Code: '62701',
  Shipping_Country: 'United States',
  ...overrides,
});

export const crmContact = (id: string, overrides: Overrides = {}): CrmRecord => ({
  ...system(id, DEFAULT_TIME),
  First_Name: 'Ada',
  Last_Name: `Contact ${id}`,
  Full_Name: `Ada Contact ${id}`,
  Email: `contact-${id}@example.com`,
  Phone: '+1 555 0101',
  Account_Name: null,
  Mailing_Street: '1 Main Street',
  Mailing_City: 'Springfield',
  Mailing_State: 'IL',
  Mailing_Zip: '62701',
  Mailing_Country: 'United States',
  ...overrides,
});

export const crmProduct = (id: string, overrides: Overrides = {}): CrmRecord => ({
  ...system(id, DEFAULT_TIME),
  Product_Name: `Product ${id}`,
  Product_Code: `SKU-${id.slice(-6)}`,
  Unit_Price: 100,
  Description: 'A simulated product',
  Product_Active: true,
  Taxable: false,
  ...overrides,
});

export const crmDeal = (
  id: string,
  account: { id: string; name: string },
  overrides: Overrides = {},
): CrmRecord => ({
  ...system(id, DEFAULT_TIME),
  Deal_Name: `Deal ${id}`,
  Stage: 'Closed Won',
  Amount: 1000,
  Probability: 100,
  Closing_Date: '2024-05-01',
  Account_Name: { id: account.id, name: account.name },
  Contact_Name: null,
  ...overrides,
});

export interface SampleLine {
  readonly product: { id: string; name: string; Product_Code?: string };
  readonly quantity: number;
  readonly listPrice: number;
}

/**
 * A Sales Order with its product lines. In v8 the line items live in the `Ordered_Items` subform
 * (each with a `Product_Name` lookup `{id, name, Product_Code}` as in OAS `LineItemProduct`,
 * `Quantity`, `List_Price`, `Discount`, `Total`, `Net_Total`); older versions called it
 * `Product_Details`. The subform's name is not in the copied OAS files (unconfirmed).
 */
export const crmSalesOrder = (
  id: string,
  account: { id: string; name: string },
  lines: readonly SampleLine[],
  overrides: Overrides = {},
): CrmRecord => {
  const orderedItems = lines.map((line, index) => {
    const total = line.quantity * line.listPrice;
    return {
      id: `${id.slice(0, -3)}${String(index + 1).padStart(3, '0')}`,
      Product_Name: { id: line.product.id, name: line.product.name, ...pickCode(line.product) },
      Quantity: line.quantity,
      List_Price: line.listPrice,
      Discount: 0,
      Total: total,
      Net_Total: total,
    };
  });
  const grandTotal = orderedItems.reduce((sum, l) => sum + l.Net_Total, 0);
  return {
    ...system(id, DEFAULT_TIME),
    Subject: `Sales order ${id}`,
    SO_Number: id.slice(-6),
    Status: 'Created',
    Account_Name: { id: account.id, name: account.name },
    Deal_Name: null,
    Ordered_Items: orderedItems,
    Sub_Total: grandTotal,
    Discount: 0,
    Tax: 0,
    Adjustment: 0,
    Grand_Total: grandTotal,
    ...overrides,
  };
};

const pickCode = (product: SampleLine['product']) =>
  product.Product_Code === undefined ? {} : { Product_Code: product.Product_Code };
