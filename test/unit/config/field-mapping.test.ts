import { describe, expect, it } from 'vitest';
import { connectionSecretSchema, fieldMappingSchema, toConnection } from '../../../lib/config';
import { disambiguatedName, payloadHash } from '../../../lib/sync';
import { applyFieldMapping, crmFieldsFor } from '../../../lib/sync/mappers/field-mapping';

const secret = {
  dataCenter: 'eu',
  clientId: '1000.X',
  clientSecret: 'client-secret',
  refreshToken: 'refresh-token',
  booksOrganizationId: '123',
  plan: 'free',
  webhookSecret: 'webhook-secret-0123456789',
};

describe('field mapping in the connection secret', () => {
  it('defaults to the built-in mapping and the link-or-rename policy', () => {
    const connection = toConnection('acme', connectionSecretSchema.parse(secret));
    expect(connection.mapping).toStrictEqual({});
    expect(connection.duplicateContactNames).toBe('link-or-rename');
  });

  it('accepts CRM fields mapped to Books fields and custom fields', () => {
    const parsed = connectionSecretSchema.parse({
      ...secret,
      duplicateContactNames: 'fail',
      mapping: {
        Accounts: { fields: { website: 'Site' }, customFields: { cf_industry: 'Industry' } },
      },
    });
    expect(toConnection('acme', parsed)).toMatchObject({
      duplicateContactNames: 'fail',
      mapping: { Accounts: { customFields: { cf_industry: 'Industry' } } },
    });
  });

  it.each([
    ['cf_crm_id, which zoho-sync owns', { Accounts: { customFields: { cf_crm_id: 'Id' } } }],
    ['a custom field as a plain field', { Accounts: { fields: { cf_x: 'X' } } }],
    ['a protected field', { Accounts: { fields: { contact_persons: 'X' } } }],
    ['a module zoho-sync does not sync', { Leads: { fields: { website: 'X' } } }],
    ['a CRM name with spaces', { Products: { fields: { sku: 'Product Code' } } }],
  ])('refuses %s', (_label, mapping) => {
    expect(fieldMappingSchema.safeParse(mapping).success).toBe(false);
  });

  it('applies the mapping over the built-in payload and asks CRM for its fields', () => {
    const mapping = { fields: { website: 'Site' }, customFields: { cf_industry: 'Industry' } };
    const body = applyFieldMapping(
      { contact_name: 'A', website: 'old', custom_fields: [{ api_name: 'cf_crm_id', value: '1' }] },
      { Site: 'https://new.example', Industry: { id: '9', name: 'Mining' } },
      mapping,
    );
    expect(body).toStrictEqual({
      contact_name: 'A',
      website: 'https://new.example',
      custom_fields: [
        { api_name: 'cf_crm_id', value: '1' },
        { api_name: 'cf_industry', value: 'Mining' },
      ],
    });
    expect(crmFieldsFor('Accounts', mapping)).toEqual(
      expect.arrayContaining(['Modified_Time', 'Account_Name', 'Site', 'Industry']),
    );
  });
});

describe('sync helpers', () => {
  it('hashes payloads independently of key order', () => {
    expect(payloadHash({ a: 1, b: [{ c: 2, d: 3 }] })).toBe(
      payloadHash({ b: [{ d: 3, c: 2 }], a: 1 }),
    );
    expect(payloadHash({ a: 1 })).not.toBe(payloadHash({ a: 2 }));
  });

  it('disambiguates a duplicate name within 200 characters', () => {
    expect(disambiguatedName('Acme', '1234')).toBe('Acme (CRM 1234)');
    const long = disambiguatedName('x'.repeat(300), '1234');
    expect(long).toHaveLength(200);
    expect(long.endsWith(' (CRM 1234)')).toBe(true);
  });
});
