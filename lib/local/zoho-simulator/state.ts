import { type BooksPlan, DAILY_LIMIT_BY_PLAN } from '../../config';
import type { FaultRegistry } from './faults';
import { createIdGenerator } from './ids';
import { createAccountsStats, createOrgStats, type OrgStatsState, type StatsState } from './stats';
import type { CrmRecord, SimulatedMinute, SimulatedOrganization } from './types';

/** The three Books entities the simulator serves (reference zoho-books-api.md §8). */
export type BooksEntity = 'contacts' | 'items' | 'invoices';

export const BOOKS_ENTITIES: readonly BooksEntity[] = ['contacts', 'items', 'invoices'];

export interface ClientState {
  readonly clientId: string;
  clientSecret: string;
  apiDomain: string;
  scope: string | undefined;
  organizationIds: ReadonlySet<string> | undefined;
  /** Refresh tokens of this client (one user per client here), oldest first. */
  readonly refreshTokens: string[];
}

export interface RefreshTokenState {
  readonly value: string;
  readonly clientId: string;
  readonly scope: string | undefined;
  revoked: boolean;
  /** When each access token was minted from it, for the 10-per-10-minutes throttle. */
  mintedAtMs: number[];
  /** Access tokens still counted as active, oldest first (at most 10). */
  activeAccessTokens: string[];
}

export interface AccessTokenState {
  readonly value: string;
  readonly refreshToken: string;
  readonly clientId: string;
  /** host[:port] of the api_domain it was issued for. */
  readonly apiHost: string;
  readonly scope: string | undefined;
  expiresAtMs: number;
  revoked: boolean;
}

export interface GrantCodeState {
  readonly value: string;
  readonly clientId: string;
  readonly scope: string;
  readonly expiresAtMs: number;
  used: boolean;
}

export interface CustomFieldDefinition {
  readonly customfield_id: string;
  readonly api_name: string;
  readonly label: string;
  readonly data_type: 'string';
  readonly index: number;
  readonly is_unique: boolean;
}

/** A Books record as stored: plain fields plus custom-field values by api_name. */
export interface StoredBooksRecord {
  readonly id: string;
  fields: Record<string, unknown>;
  custom: Map<string, unknown>;
}

export interface BooksCollection {
  readonly customFields: readonly CustomFieldDefinition[];
  /** In creation order, which is also the list order. */
  readonly records: Map<string, StoredBooksRecord>;
}

export interface LimitState {
  windowStartMs: number;
  windowCalls: number;
  /** Quota-consuming calls of the last window span, oldest first (the `sliding` minute). */
  readonly recentCalls: number[];
  /** UTC day number (epoch ms / 86,400,000) the daily counter belongs to. */
  dayIndex: number;
  dayCalls: number;
  inFlight: number;
}

export interface OrgState {
  readonly organizationId: string;
  readonly plan: BooksPlan;
  readonly dailyLimit: number;
  readonly requestsPerWindow: number;
  readonly windowSeconds: number;
  /** How the window is counted; a `fixed-random` minute is resolved to its offset here. */
  readonly minute: ResolvedMinute;
  readonly maxConcurrency: number;
  readonly books: Readonly<Record<BooksEntity, BooksCollection>>;
  nextInvoiceNumber: number;
  readonly limits: LimitState;
  stats: OrgStatsState;
}

/**
 * A Notification API channel (reference zoho-crm-api.md §4). The simulator has one CRM
 * organization, so channels are global, keyed by `channel_id`.
 */
export interface NotificationChannelState {
  readonly channelId: string;
  /** `{Module}.{create|edit|delete|all}` with the module's canonical API name, as subscribed. */
  events: Set<string>;
  notifyUrl: string;
  token: string | undefined;
  expiresAtMs: number;
  returnAffectedFieldValues: boolean;
  notifyOnRelatedAction: boolean;
}

/** A {@link SimulatedMinute} with its offset chosen. */
export type ResolvedMinute =
  | { readonly kind: 'sliding' }
  | { readonly kind: 'fixed'; readonly offsetMs: number };

export interface SimulatorState {
  readonly now: () => number;
  /** The minute of organizations that do not choose one. */
  readonly minute: SimulatedMinute;
  readonly random: () => number;
  readonly latencyMs: number;
  /** Real-time limit of one Notification API callback (the simulator's choice). */
  readonly callbackTimeoutMs: number;
  readonly nextId: () => string;
  baseUrl: string;
  readonly clients: Map<string, ClientState>;
  readonly refreshTokens: Map<string, RefreshTokenState>;
  readonly accessTokens: Map<string, AccessTokenState>;
  readonly grantCodes: Map<string, GrantCodeState>;
  readonly orgs: Map<string, OrgState>;
  /** CRM records by canonical module API name, then id. */
  readonly crm: Map<string, Map<string, CrmRecord>>;
  /** Notification API channels by channel_id. */
  readonly channels: Map<string, NotificationChannelState>;
  /** Callbacks on their way; `flushNotifications()` awaits them. */
  readonly pendingCallbacks: Set<Promise<void>>;
  readonly faults: FaultRegistry;
  stats: StatsState;
}

/** The api_name of the custom field that holds the CRM record id on every Books entity. */
export const CRM_ID_FIELD = 'cf_crm_id';

export const createSimulatorState = (
  now: () => number,
  latencyMs: number,
  faults: FaultRegistry,
  callbackTimeoutMs = 5_000,
  minute: SimulatedMinute = { kind: 'fixed' },
  random: () => number = Math.random,
): SimulatorState => ({
  now,
  minute,
  random,
  latencyMs,
  callbackTimeoutMs,
  nextId: createIdGenerator(now()),
  baseUrl: '',
  clients: new Map(),
  refreshTokens: new Map(),
  accessTokens: new Map(),
  grantCodes: new Map(),
  orgs: new Map(),
  crm: new Map(),
  channels: new Map(),
  pendingCallbacks: new Set(),
  faults,
  stats: {
    accounts: createAccountsStats(),
    accountsByClientId: new Map(),
    requests: [],
    callbacks: [],
  },
});

const DEFAULT_PLAN: BooksPlan = 'professional';

export const createOrgState = (state: SimulatorState, org: SimulatedOrganization): OrgState => {
  if (!/^\d{1,30}$/.test(org.organizationId)) {
    throw new Error(`organizationId must be a numeric string, got "${org.organizationId}"`);
  }
  const plan = org.plan ?? DEFAULT_PLAN;
  const windowSeconds = positive(org.windowSeconds, 'windowSeconds') ?? 60;
  const unique = org.uniqueCustomFields ?? true;
  const collection = (label: string, extra: readonly string[] = []): BooksCollection => ({
    customFields: [
      {
        customfield_id: state.nextId(),
        api_name: CRM_ID_FIELD,
        label,
        data_type: 'string',
        index: 1,
        is_unique: unique,
      },
      ...extra.map((apiName, at) => ({
        customfield_id: state.nextId(),
        api_name: apiName,
        label: apiName.replace(/^cf_/, ''),
        data_type: 'string' as const,
        index: at + 2,
        is_unique: false,
      })),
    ],
    records: new Map(),
  });
  return {
    organizationId: org.organizationId,
    plan,
    // Plan table: official Books KB (reference zoho-books-api.md §5).
    dailyLimit: positive(org.dailyLimit, 'dailyLimit') ?? DAILY_LIMIT_BY_PLAN[plan],
    // 100 per minute per organization (reference §5, unconfirmed but used for design).
    requestsPerWindow: positive(org.requestsPerWindow, 'requestsPerWindow') ?? 100,
    windowSeconds,
    minute: resolveMinute(org.minute ?? state.minute, windowSeconds * 1000, state.random),
    // Free 5, paid 10 in-flight calls (reference §5, unconfirmed: Zoho Invoice summary).
    maxConcurrency: positive(org.maxConcurrency, 'maxConcurrency') ?? (plan === 'free' ? 5 : 10),
    books: {
      contacts: collection('CRM ID', org.customFields?.contacts),
      items: collection('CRM ID', org.customFields?.items),
      invoices: collection('CRM ID', org.customFields?.invoices),
    },
    nextInvoiceNumber: 1,
    limits: {
      windowStartMs: Number.NaN,
      windowCalls: 0,
      recentCalls: [],
      dayIndex: 0,
      dayCalls: 0,
      inFlight: 0,
    },
    stats: createOrgStats(),
  };
};

const resolveMinute = (
  minute: SimulatedMinute,
  windowMs: number,
  random: () => number,
): ResolvedMinute => {
  switch (minute.kind) {
    case 'sliding':
      return minute;
    case 'fixed':
      return {
        kind: 'fixed',
        offsetMs: (((minute.offsetMs ?? 0) % windowMs) + windowMs) % windowMs,
      };
    case 'fixed-random':
      return { kind: 'fixed', offsetMs: Math.floor(random() * windowMs) };
  }
};

/**
 * Reads env `ZOHO_SIMULATOR_MINUTE`: `sliding`, `fixed` (aligned to the epoch, the default),
 * `fixed-offset:<ms>` (a fixed window shifted by that much) or `fixed-random`.
 * @throws on any other value, naming the variable.
 */
export const parseSimulatedMinute = (value: string | undefined): SimulatedMinute => {
  const text = value?.trim() ?? '';
  if (text === '' || text === 'fixed') return { kind: 'fixed' };
  if (text === 'sliding') return { kind: 'sliding' };
  if (text === 'fixed-random') return { kind: 'fixed-random' };
  const offset = /^fixed-offset:(\d+)$/.exec(text);
  if (offset?.[1] !== undefined) return { kind: 'fixed', offsetMs: Number(offset[1]) };
  throw new Error(
    `ZOHO_SIMULATOR_MINUTE must be sliding, fixed, fixed-offset:<ms> or fixed-random, got "${text}"`,
  );
};

const positive = (value: number | undefined, name: string): number | undefined => {
  if (value !== undefined && !(Number.isFinite(value) && value > 0)) {
    throw new Error(`${name} must be a positive number, got ${value}`);
  }
  return value;
};

export const requireOrg = (state: SimulatorState, orgId: string): OrgState => {
  const org = state.orgs.get(orgId);
  if (!org) throw new Error(`unknown organization ${orgId}: call addOrganization first`);
  return org;
};
