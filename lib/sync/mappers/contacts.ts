import { SyncDataError } from '../../failures/errors';
import { type CrmRecord, compact, crmIdCustomField, lookup, text } from './crm-fields';

const address = (record: CrmRecord, prefix: string) => {
  const value = compact({
    address: text(record, `${prefix}_Street`),
    city: text(record, `${prefix}_City`),
    state: text(record, `${prefix}_State`),
    zip: text(record, `${prefix}_Code`),
    country: text(record, `${prefix}_Country`),
  });
  return Object.keys(value).length === 0 ? undefined : value;
};

/** CRM Account -> Books contact (a business customer). */
export const accountToBooksContact = (account: CrmRecord, crmRecordId: string) => {
  const name = text(account, 'Account_Name');
  if (name === undefined) {
    throw new SyncDataError('Accounts', crmRecordId, 'the CRM account has no Account_Name');
  }
  return compact({
    contact_name: name.slice(0, 200),
    company_name: name.slice(0, 200),
    contact_type: 'customer',
    customer_sub_type: 'business',
    website: text(account, 'Website'),
    billing_address: address(account, 'Billing'),
    shipping_address: address(account, 'Shipping'),
    notes: text(account, 'Description')?.slice(0, 1000),
    custom_fields: [crmIdCustomField(crmRecordId)],
  });
};

/** CRM Contact -> Books contact (an individual customer with one primary contact person). */
export const contactToBooksContact = (contact: CrmRecord, crmRecordId: string) => {
  const firstName = text(contact, 'First_Name');
  const lastName = text(contact, 'Last_Name');
  const fullName =
    text(contact, 'Full_Name') ?? [firstName, lastName].filter((part) => part).join(' ');
  if (fullName === '') {
    throw new SyncDataError('Contacts', crmRecordId, 'the CRM contact has no name');
  }
  return compact({
    contact_name: fullName.slice(0, 200),
    company_name: lookup(contact, 'Account_Name')?.name?.slice(0, 200),
    contact_type: 'customer',
    customer_sub_type: 'individual',
    billing_address: address(contact, 'Mailing'),
    contact_persons: [
      compact({
        first_name: firstName?.slice(0, 100),
        last_name: (lastName ?? fullName).slice(0, 100),
        email: text(contact, 'Email'),
        phone: text(contact, 'Phone'),
        mobile: text(contact, 'Mobile'),
        is_primary_contact: true,
      }),
    ],
    custom_fields: [crmIdCustomField(crmRecordId)],
  });
};

/** The account a CRM Contact belongs to, if any: its Books home is that account's contact. */
export const contactAccountId = (contact: CrmRecord): string | undefined =>
  lookup(contact, 'Account_Name')?.id;

/** CRM Contact of an Account -> a contact person of the Account's Books contact. */
export const contactToContactPerson = (contact: CrmRecord, crmRecordId: string) => {
  const firstName = text(contact, 'First_Name');
  const lastName = text(contact, 'Last_Name');
  const fullName =
    text(contact, 'Full_Name') ?? [firstName, lastName].filter((part) => part).join(' ');
  if (fullName === '') {
    throw new SyncDataError('Contacts', crmRecordId, 'the CRM contact has no name');
  }
  return compact({
    first_name: firstName?.slice(0, 100),
    last_name: (lastName ?? fullName).slice(0, 100),
    email: text(contact, 'Email'),
    phone: text(contact, 'Phone'),
    mobile: text(contact, 'Mobile'),
  });
};
