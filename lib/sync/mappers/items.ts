import { SyncDataError } from '../../failures/errors';
import { amount, type CrmRecord, compact, crmIdCustomField, text } from './crm-fields';

/** CRM Product -> Books item (`name` and `rate` are required by Books). */
export const productToBooksItem = (product: CrmRecord, crmRecordId: string) => {
  const name = text(product, 'Product_Name');
  if (name === undefined) {
    throw new SyncDataError('Products', crmRecordId, 'the CRM product has no Product_Name');
  }
  return compact({
    name: name.slice(0, 100),
    rate: amount(product, 'Unit_Price') ?? 0,
    sku: text(product, 'Product_Code'),
    description: text(product, 'Description')?.slice(0, 2000),
    product_type: 'goods',
    custom_fields: [crmIdCustomField(crmRecordId)],
  });
};
