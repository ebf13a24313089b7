import { describe, expect, it } from 'vitest';
import { SyncDataError } from '../../../lib/failures';
import { accountToBooksContact, contactToBooksContact } from '../../../lib/sync/mappers/contacts';
import {
  dealToBooksInvoice,
  isWonDeal,
  salesOrderToBooksInvoice,
} from '../../../lib/sync/mappers/invoices';
import { productToBooksItem } from '../../../lib/sync/mappers/items';

const crmId = { api_name: 'cf_crm_id', value: '111' };

describe('CRM to Books mappers', () => {
  it('maps an account to a business customer carrying the CRM id', () => {
    const contact = accountToBooksContact(
      {
        Account_Name: 'Zylker',
        Website: 'https://z.example',
        Billing_City: 'Austin',
        Billing_Street: '',
      },
      '111',
    );
    expect(contact).toStrictEqual({
      contact_name: 'Zylker',
      company_name: 'Zylker',
      contact_type: 'customer',
      customer_sub_type: 'business',
      website: 'https://z.example',
      billing_address: { city: 'Austin' },
      custom_fields: [crmId],
    });
  });

  it('maps a contact to an individual with one primary contact person', () => {
    const contact = contactToBooksContact(
      {
        First_Name: 'Ada',
        Last_Name: 'Lovelace',
        Email: 'ada@x.example',
        Account_Name: { id: '9', name: 'Zylker' },
      },
      '111',
    );
    expect(contact).toMatchObject({
      contact_name: 'Ada Lovelace',
      company_name: 'Zylker',
      customer_sub_type: 'individual',
      contact_persons: [
        {
          first_name: 'Ada',
          last_name: 'Lovelace',
          email: 'ada@x.example',
          is_primary_contact: true,
        },
      ],
      custom_fields: [crmId],
    });
  });

  it('maps a product to an item with its price', () => {
    expect(
      productToBooksItem(
        { Product_Name: 'Widget', Unit_Price: '12.50', Product_Code: 'W1' },
        '111',
      ),
    ).toStrictEqual({
      name: 'Widget',
      rate: 12.5,
      sku: 'W1',
      product_type: 'goods',
      custom_fields: [crmId],
    });
  });

  it('maps a won deal to a one-line invoice for its customer', () => {
    const deal = {
      Deal_Name: 'Big deal',
      Stage: 'Closed Won',
      Amount: 1000,
      Closing_Date: '2026-11-20',
    };
    expect(isWonDeal(deal)).toBe(true);
    expect(dealToBooksInvoice(deal, '111', '555')).toStrictEqual({
      customer_id: '555',
      reference_number: 'Big deal',
      date: '2026-11-20',
      line_items: [{ name: 'Big deal', rate: 1000, quantity: 1 }],
      custom_fields: [crmId],
    });
  });

  it('maps sales order lines and uses Books item ids of synced products', () => {
    const order = {
      SO_Number: 'SO-7',
      Ordered_Items: [
        { Product_Name: { id: '42', name: 'Widget' }, Quantity: 3, List_Price: 10 },
        { Product_Name: { id: '43', name: 'Gadget' }, Quantity: 1, List_Price: 99 },
      ],
    };
    const invoice = salesOrderToBooksInvoice(order, '111', '555', new Map([['42', '9001']]));
    expect(invoice.line_items).toStrictEqual([
      { item_id: '9001', name: 'Widget', rate: 10, quantity: 3, item_order: 1 },
      { name: 'Gadget', rate: 99, quantity: 1, item_order: 2 },
    ]);
  });

  it.each([
    ['an account without a name', () => accountToBooksContact({}, '1')],
    ['a contact without a name', () => contactToBooksContact({ Email: 'a@b.c' }, '1')],
    ['a product without a name', () => productToBooksItem({ Unit_Price: 1 }, '1')],
    ['a won deal without an amount', () => dealToBooksInvoice({ Stage: 'Closed Won' }, '1', '2')],
    ['a sales order without lines', () => salesOrderToBooksInvoice({}, '1', '2', new Map())],
  ])('refuses %s with a SyncDataError', (_name, map) => {
    expect(map).toThrow(SyncDataError);
  });
});

describe('sales order lines as a CRM org may hold them', () => {
  // Found by the property tests: a null line threw a TypeError and string prices reached Books.
  it('skips lines that are not objects and reads numbers and names through the typed readers', () => {
    const order = {
      Ordered_Items: [
        null,
        'x',
        { Product_Name: { id: 42, name: 7 }, Quantity: '2', List_Price: '9.5', Discount: false },
      ],
    };
    const invoice = salesOrderToBooksInvoice(order, '111', '555', new Map([['42', '9001']]));
    expect(invoice.line_items).toStrictEqual([
      { item_id: '9001', name: '7', rate: 9.5, quantity: 2, item_order: 1 },
    ]);
  });

  it('refuses a sales order whose lines are all unreadable', () => {
    expect(() =>
      salesOrderToBooksInvoice({ Ordered_Items: [null, 3] }, '1', '2', new Map()),
    ).toThrow(SyncDataError);
  });
});
