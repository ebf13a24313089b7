import * as z from 'zod';
import {
  type DuplicateContactNamePolicy,
  duplicateContactNamePolicySchema,
  type FieldMapping,
  fieldMappingSchema,
} from './field-mapping';

/** A connection id names one Zoho CRM org paired with one Zoho Books organization. */
export const CONNECTION_ID_PATTERN = /^[a-z0-9-]{1,40}$/;

export const connectionIdSchema = z.string().regex(CONNECTION_ID_PATTERN, {
  message: 'connection id must match [a-z0-9-]{1,40}',
});

/** Zoho data centres and their accounts servers (../shared/reference/zoho-oauth.md §1). */
export const DATA_CENTERS = {
  com: { accountsUrl: 'https://accounts.zoho.com', apiDomain: 'https://www.zohoapis.com' },
  eu: { accountsUrl: 'https://accounts.zoho.eu', apiDomain: 'https://www.zohoapis.eu' },
  in: { accountsUrl: 'https://accounts.zoho.in', apiDomain: 'https://www.zohoapis.in' },
  'com.au': {
    accountsUrl: 'https://accounts.zoho.com.au',
    apiDomain: 'https://www.zohoapis.com.au',
  },
  jp: { accountsUrl: 'https://accounts.zoho.jp', apiDomain: 'https://www.zohoapis.jp' },
  // Canada's accounts server is zohocloud.ca, not zoho.ca.
  ca: { accountsUrl: 'https://accounts.zohocloud.ca', apiDomain: 'https://www.zohoapis.ca' },
  sa: { accountsUrl: 'https://accounts.zoho.sa', apiDomain: 'https://www.zohoapis.sa' },
  'com.cn': {
    accountsUrl: 'https://accounts.zoho.com.cn',
    apiDomain: 'https://www.zohoapis.com.cn',
  },
} as const;

export type DataCenter = keyof typeof DATA_CENTERS;

/** Zoho Books API calls per organization per day, by plan (official Books KB, see reference §5). */
export const DAILY_LIMIT_BY_PLAN = {
  free: 1000,
  standard: 2000,
  professional: 5000,
  premium: 10000,
  elite: 10000,
  ultimate: 10000,
} as const;

export type BooksPlan = keyof typeof DAILY_LIMIT_BY_PLAN;

/** Zoho Books' own per-organization per-minute limit. */
export const BOOKS_REQUESTS_PER_MINUTE = 100;

const dataCenterSchema = z.enum(Object.keys(DATA_CENTERS) as [DataCenter, ...DataCenter[]]);
const planSchema = z.enum(Object.keys(DAILY_LIMIT_BY_PLAN) as [BooksPlan, ...BooksPlan[]]);

/** A webhook secret; at most 50 characters also fit a Notification API channel `token`. */
const webhookSecretValue = z
  .string()
  .min(16, { message: 'webhookSecret must be at least 16 characters' });

/**
 * The JSON stored in Secrets Manager as `zoho-sync/<connectionId>`. This is a public contract:
 * extend it with optional keys, never rename or remove one. Unknown keys are ignored so the
 * same file works as `npm start --connection` input and as the secret's value.
 *
 * `webhookSecret` is optional since the webhook secret has its own secret
 * (`zoho-sync/<connectionId>/webhook`, {@link webhookSecretSchema}), which the internet-facing
 * webhook function reads instead of these credentials. A connection file may still carry it
 * (setup moves it into the webhook secret), and a secret written before the split still holds it
 * until `webhook-secret migrate` removes it.
 */
export const connectionSecretSchema = z.object({
  dataCenter: dataCenterSchema,
  /** Overrides the accounts server derived from dataCenter (a simulator can stand in). */
  accountsUrl: z.url().optional(),
  clientId: z.string().min(1),
  clientSecret: z.string().min(1),
  refreshToken: z.string().min(1),
  booksOrganizationId: z.string().regex(/^\d{1,30}$/, {
    message: 'booksOrganizationId must be the numeric Zoho Books organization id',
  }),
  plan: planSchema,
  dailyLimit: z.number().int().positive().optional(),
  rateLimit: z
    .object({
      requests: z.number().int().positive().default(BOOKS_REQUESTS_PER_MINUTE),
      windowSeconds: z.number().int().positive().default(60),
    })
    .optional(),
  /** Concurrent Zoho calls allowed in flight for this organization (reference §5: 5 is safe). */
  maxConcurrency: z.number().int().positive().max(25).optional(),
  /** IANA time zone in which the daily quota resets; Zoho does not document it, UTC by default. */
  quotaTimeZone: z.string().min(1).optional(),
  webhookSecret: webhookSecretValue.optional(),
  /** Extra CRM -> Books field mappings per module, custom fields included (README). */
  mapping: fieldMappingSchema.optional(),
  /** Books refused a duplicate contact display name (3062). @default 'link-or-rename' */
  duplicateContactNames: duplicateContactNamePolicySchema.optional(),
});

export type ConnectionSecret = z.infer<typeof connectionSecretSchema>;

/** A connection secret with every default applied: what the rest of lib/ works with. */
export interface Connection {
  readonly connectionId: string;
  readonly dataCenter: DataCenter;
  readonly accountsUrl: string;
  readonly clientId: string;
  readonly clientSecret: string;
  readonly refreshToken: string;
  readonly booksOrganizationId: string;
  readonly plan: BooksPlan;
  readonly dailyLimit: number;
  readonly rateLimit: { readonly requests: number; readonly windowSeconds: number };
  readonly maxConcurrency: number;
  readonly quotaTimeZone: string;
  /** `{}` when the secret has none: the built-in mapping alone. */
  readonly mapping: FieldMapping;
  readonly duplicateContactNames: DuplicateContactNamePolicy;
}

export const DEFAULT_MAX_CONCURRENCY = 5;

/** Applies the defaults the schema leaves open (accounts server, daily limit, budget). */
export const toConnection = (connectionId: string, secret: ConnectionSecret): Connection =>
  Object.freeze({
    connectionId,
    dataCenter: secret.dataCenter,
    accountsUrl: (secret.accountsUrl ?? DATA_CENTERS[secret.dataCenter].accountsUrl).replace(
      /\/+$/,
      '',
    ),
    clientId: secret.clientId,
    clientSecret: secret.clientSecret,
    refreshToken: secret.refreshToken,
    booksOrganizationId: secret.booksOrganizationId,
    plan: secret.plan,
    dailyLimit: secret.dailyLimit ?? DAILY_LIMIT_BY_PLAN[secret.plan],
    rateLimit: Object.freeze({
      requests: secret.rateLimit?.requests ?? BOOKS_REQUESTS_PER_MINUTE,
      windowSeconds: secret.rateLimit?.windowSeconds ?? 60,
    }),
    maxConcurrency: secret.maxConcurrency ?? DEFAULT_MAX_CONCURRENCY,
    quotaTimeZone: secret.quotaTimeZone ?? 'UTC',
    mapping: secret.mapping ?? {},
    duplicateContactNames: secret.duplicateContactNames ?? 'link-or-rename',
  });

/** Secrets Manager id of a connection's credentials. */
export const connectionSecretId = (prefix: string, connectionId: string): string =>
  `${prefix}${connectionId}`;

/**
 * The JSON stored as `zoho-sync/<connectionId>/webhook`: the secret CRM webhooks and Notification
 * API callbacks must present. Public contract, like {@link connectionSecretSchema}. During a
 * rotation `nextWebhookSecret` is accepted too; `webhook-secret rotate --finish` makes it the
 * `webhookSecret` and drops the old one.
 */
export const webhookSecretSchema = z.object({
  webhookSecret: webhookSecretValue,
  nextWebhookSecret: webhookSecretValue.optional(),
});

export type WebhookSecret = z.infer<typeof webhookSecretSchema>;

/** Secrets Manager id of a connection's webhook secret, the only secret the webhook reads. */
export const webhookSecretId = (prefix: string, connectionId: string): string =>
  `${prefix}${connectionId}/webhook`;

/** Secrets Manager id of a connection's access token, kept apart from the operator's secret. */
export const accessTokenSecretId = (prefix: string, connectionId: string): string =>
  `${prefix}${connectionId}/access-token`;

export const accessTokenRecordSchema = z.object({
  accessToken: z.string().min(1),
  apiDomain: z.url(),
  expiresAt: z.number().int(),
});

export type AccessTokenRecord = z.infer<typeof accessTokenRecordSchema>;
