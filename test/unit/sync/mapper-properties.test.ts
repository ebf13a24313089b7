import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { SyncDataError } from '../../../lib/failures';
import { accountToBooksContact, contactToBooksContact } from '../../../lib/sync/mappers/contacts';
import { dealToBooksInvoice, salesOrderToBooksInvoice } from '../../../lib/sync/mappers/invoices';
import { productToBooksItem } from '../../../lib/sync/mappers/items';
import { PROTOTYPE_KEYS, unicodeText } from '../../helpers/webhook-arbitraries';

/**
 * Property tests on the CRM -> Books mappers with CRM records as a real org may hold them:
 * any field missing, empty or of another type (layouts and custom fields differ per org), and
 * prototype keys. A mapper returns a plain JSON Books body within Books' lengths or refuses
 * with a SyncDataError (which alerts the admin); anything else would be retried to the DLQ
 * with no useful explanation. 3,000 records in all.
 */

const SEED = 13_1300;

const anyValue: fc.Arbitrary<unknown> = fc.oneof(
  fc.constant(undefined),
  fc.constant(null),
  fc.boolean(),
  fc.integer(),
  fc.double({ noNaN: true, noDefaultInfinity: true }),
  fc.constantFrom('', '   ', '12.50', '-3', '1e3', 'abc', '2026-11-20', '2026-13-45T00:00:00Z'),
  unicodeText(300),
  fc.jsonValue({ maxDepth: 2 }),
);

const lookupValue = fc.oneof(
  anyValue,
  fc.record(
    { id: fc.oneof(fc.stringMatching(/^[0-9]{1,19}$/), fc.integer(), anyValue), name: anyValue },
    { requiredKeys: [] },
  ),
);

/** A CRM record: the fields a mapper reads, each maybe missing or odd, plus junk and prototype keys. */
const crmRecord = (fields: Record<string, fc.Arbitrary<unknown>>) =>
  fc
    .tuple(
      fc.record(fields, { requiredKeys: [] }),
      fc.array(fc.tuple(fc.constantFrom(...PROTOTYPE_KEYS, 'id', 'Owner', '$approved'), anyValue), {
        maxLength: 4,
      }),
    )
    .map(([known, junk]) => {
      // JSON.parse makes `__proto__` an own key, as a CRM API answer would.
      const record = JSON.parse(JSON.stringify(known)) as Record<string, unknown>;
      for (const [key, value] of junk) {
        if (key in known) continue;
        Object.defineProperty(record, key, {
          value,
          enumerable: true,
          configurable: true,
          writable: true,
        });
      }
      return record;
    });

const text = fc.oneof(unicodeText(300), anyValue);

const lineItem = fc.oneof(
  anyValue,
  fc.record(
    {
      Product_Name: lookupValue,
      product: lookupValue,
      Quantity: anyValue,
      quantity: anyValue,
      List_Price: anyValue,
      list_price: anyValue,
      Discount: anyValue,
      Description: text,
    },
    { requiredKeys: [] },
  ),
);

const crmRecordId = fc.stringMatching(/^[0-9]{1,19}$/);

/** Books bodies are JSON: a mapper's output must survive JSON unchanged (no undefined, NaN, functions). */
const expectPlainJson = (body: unknown) => {
  expect(JSON.parse(JSON.stringify(body))).toStrictEqual(body);
};

const expectCrmId = (body: { custom_fields?: unknown }, crmId: string) => {
  expect(body.custom_fields).toStrictEqual([{ api_name: 'cf_crm_id', value: crmId }]);
};

/** Runs a mapper: its answer, or undefined when it refused with a SyncDataError. */
const mapOrRefuse = <T>(map: () => T): T | undefined => {
  try {
    return map();
  } catch (error) {
    if (error instanceof SyncDataError) return undefined;
    throw error;
  }
};

const expectOptionalText = (value: unknown, maxLength?: number) => {
  if (value === undefined) return;
  expect(typeof value).toBe('string');
  if (maxLength !== undefined) expect((value as string).length).toBeLessThanOrEqual(maxLength);
};

const expectFiniteNumber = (value: unknown) => {
  expect(typeof value).toBe('number');
  expect(Number.isFinite(value)).toBe(true);
};

describe('CRM to Books mapper properties', () => {
  it('maps any account or contact record to a Books contact, or refuses it with a SyncDataError', () => {
    const account = crmRecord({
      Account_Name: text,
      Website: text,
      Description: text,
      Billing_Street: text,
      Billing_City: text,
      Shipping_Country: text,
    });
    const contact = crmRecord({
      First_Name: text,
      Last_Name: text,
      Full_Name: text,
      Email: text,
      Phone: text,
      Account_Name: lookupValue,
      Mailing_City: text,
    });
    fc.assert(
      fc.property(
        fc.oneof(
          account.map((r) => ['Accounts', r] as const),
          contact.map((r) => ['Contacts', r] as const),
        ),
        crmRecordId,
        ([module, record], id) => {
          const map = () =>
            module === 'Accounts'
              ? accountToBooksContact(record, id)
              : contactToBooksContact(record, id);
          const body = mapOrRefuse(map);
          if (body === undefined) return;
          expectPlainJson(body);
          expectCrmId(body, id);
          expect(typeof body.contact_name).toBe('string');
          expect(body.contact_name?.trim()).not.toBe('');
          expectOptionalText(body.contact_name, 200);
          expectOptionalText(body.company_name, 200);
          expect(map()).toStrictEqual(body);
        },
      ),
      { numRuns: 1_000, seed: SEED },
    );
  }, 30_000);

  it('maps any product record to a Books item with a name and a numeric rate, or refuses it', () => {
    const product = crmRecord({
      Product_Name: text,
      Unit_Price: anyValue,
      Product_Code: text,
      Description: text,
    });
    fc.assert(
      fc.property(product, crmRecordId, (record, id) => {
        const body = mapOrRefuse(() => productToBooksItem(record, id));
        if (body === undefined) return;
        expectPlainJson(body);
        expectCrmId(body, id);
        expectOptionalText(body.name, 100);
        expect(body.name).toBeTypeOf('string');
        expectFiniteNumber(body.rate);
        expectOptionalText(body.sku);
        expectOptionalText(body.description, 2000);
      }),
      { numRuns: 700, seed: SEED + 1 },
    );
  }, 30_000);

  it('maps any won deal or sales order to a Books invoice with well-typed lines, or refuses it', () => {
    const deal = crmRecord({
      Deal_Name: text,
      Amount: anyValue,
      Closing_Date: text,
      Description: text,
      Stage: fc.constantFrom('Closed Won', 'Closed Lost', ''),
    });
    const order = crmRecord({
      SO_Number: text,
      Subject: text,
      Due_Date: text,
      Ordered_Items: fc.oneof(fc.array(lineItem, { maxLength: 5 }), anyValue),
      Product_Details: fc.array(lineItem, { maxLength: 3 }),
    });
    const itemIds = fc
      .array(fc.tuple(fc.stringMatching(/^[0-9]{1,19}$/), fc.stringMatching(/^[0-9]{1,19}$/)), {
        maxLength: 4,
      })
      .map((pairs) => new Map(pairs));
    fc.assert(
      fc.property(
        fc.oneof(
          deal.map((r) => ['Deals', r] as const),
          order.map((r) => ['Sales_Orders', r] as const),
        ),
        crmRecordId,
        fc.stringMatching(/^[0-9]{1,19}$/),
        itemIds,
        ([module, record], id, customerId, booksItemIds) => {
          const body = mapOrRefuse(() =>
            module === 'Deals'
              ? dealToBooksInvoice(record, id, customerId)
              : salesOrderToBooksInvoice(record, id, customerId, booksItemIds),
          );
          if (body === undefined) return;
          expectPlainJson(body);
          expectCrmId(body, id);
          expect(body.customer_id).toBe(customerId);
          expectOptionalText(body.reference_number, 100);
          if (body.date !== undefined) expect(body.date).toMatch(/^\d{4}-\d{2}-\d{2}$/);
          expect(body.line_items?.length).toBeGreaterThan(0);
          for (const line of body.line_items ?? []) {
            const fields = line as Record<string, unknown>;
            expectOptionalText(fields.name, 100);
            expect(fields.name).toBeTypeOf('string');
            expectFiniteNumber(fields.rate);
            expectFiniteNumber(fields.quantity);
            expectOptionalText(fields.description);
            if (fields.discount !== undefined) expectFiniteNumber(fields.discount);
            if (fields.item_id !== undefined)
              expect([...booksItemIds.values()]).toContain(fields.item_id);
          }
        },
      ),
      { numRuns: 1_300, seed: SEED + 2 },
    );
    expect(({} as Record<string, unknown>).polluted).toBeUndefined();
  }, 30_000);
});
