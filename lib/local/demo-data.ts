import type { ConnectionSecret } from '../config';

/** CRM records the embedded simulator starts with, so the printed curl has something to sync. */
export const DEMO_CRM_RECORDS = {
  Accounts: [
    {
      id: '4876876000000345001',
      Account_Name: 'Zylker Traders',
      Website: 'https://zylker.example',
      Phone: '+1 555 0100',
      Billing_Street: '1 Market Street',
      Billing_City: 'San Francisco',
      Billing_State: 'CA',
      Billing_Code: '94105',
      Billing_Country: 'USA',
    },
  ],
  Contacts: [
    {
      id: '4876876000000345101',
      First_Name: 'Ada',
      Last_Name: 'Lovelace',
      Full_Name: 'Ada Lovelace',
      Email: 'ada@zylker.example',
      Phone: '+1 555 0101',
      Account_Name: { id: '4876876000000345001', name: 'Zylker Traders' },
    },
  ],
  Products: [
    {
      id: '4876876000000345201',
      Product_Name: 'Widget Pro',
      Product_Code: 'WID-PRO',
      Unit_Price: 149.5,
      Description: 'The professional widget',
    },
  ],
  Deals: [
    {
      id: '4876876000000345301',
      Deal_Name: 'Zylker annual widgets',
      Stage: 'Closed Won',
      Amount: 2990,
      Closing_Date: '2026-11-20',
      Account_Name: { id: '4876876000000345001', name: 'Zylker Traders' },
    },
  ],
} as const;

export const DEMO_BOOKS_ORGANIZATION_ID = '60012345678';

/** `demo`, then `demo-2`, `demo-3` ... for `npm start -- --connections <n>` (index from 0). */
export const demoConnectionId = (index: number): string =>
  index === 0 ? 'demo' : `demo-${index + 1}`;

/** Each demo connection syncs into a Books organization of its own. */
export const demoOrganizationId = (index: number): string =>
  String(Number(DEMO_BOOKS_ORGANIZATION_ID) + index);

/** The demo connection local mode generates when no --connection file is given. */
export const demoConnectionSecret = (options: {
  readonly accountsUrl: string;
  readonly webhookSecret: string;
  readonly clientSecret: string;
  readonly refreshToken: string;
  /** @default DEMO_BOOKS_ORGANIZATION_ID */
  readonly booksOrganizationId?: string;
}): ConnectionSecret & { readonly webhookSecret: string } => ({
  dataCenter: 'com',
  accountsUrl: options.accountsUrl,
  clientId: '1000.DEMOCLIENTZOHOSYNCLOCAL',
  clientSecret: options.clientSecret,
  refreshToken: options.refreshToken,
  booksOrganizationId: options.booksOrganizationId ?? DEMO_BOOKS_ORGANIZATION_ID,
  plan: 'professional',
  webhookSecret: options.webhookSecret,
});
