import type { BooksPlan } from '../../config';
import type { SeededFaultKind, SeededFaultPlan } from './faults';

/** How to start a simulator. */
export interface ZohoSimulatorOptions {
  /** @default 0 (an ephemeral port) */
  readonly port?: number;
  /** @default '127.0.0.1' */
  readonly host?: string;
  /**
   * The simulator's clock in epoch ms: token expiry, grant-code expiry, the per-window and daily
   * Books limits and all timestamps read it. Tests pass a mutable clock to move time.
   * @default Date.now
   */
  readonly now?: () => number;
  /**
   * Real-time limit (ms) of one Notification API callback POST; a slower `notify_url` counts as
   * a failed delivery. Zoho does not document its own timeout. @default 5000
   */
  readonly callbackTimeoutMs?: number;
  /**
   * Artificial latency (real time, ms) added to every Books and CRM response, so that in-flight
   * requests overlap and the concurrency limit becomes observable. Not applied to the accounts
   * server or the admin endpoints. @default 0
   */
  readonly latencyMs?: number;
  /**
   * How every organization's "minute" (rate-limit window) is counted, unless the organization
   * says otherwise. @default from env `ZOHO_SIMULATOR_MINUTE` (see {@link parseSimulatedMinute}),
   * else a fixed window aligned to the epoch
   */
  readonly minute?: SimulatedMinute;
  /** Random numbers in [0, 1) for the `fixed-random` minute. @default Math.random */
  readonly random?: () => number;
}

/**
 * A reading of Zoho's undocumented "per minute":
 * - `sliding`: at most `requestsPerWindow` calls in any `windowSeconds` span (a sliding log).
 * - `fixed`: windows `[offsetMs + k*W, offsetMs + (k+1)*W)`; offset 0 = aligned to the epoch
 *   (calendar minutes for W = 60 s). A window that starts at the organization's first call, or
 *   anywhere else, is a fixed window with some offset.
 * - `fixed-random`: a fixed window whose offset is drawn at random once per organization, so a
 *   client cannot rely on where the windows lie.
 */
export type SimulatedMinute =
  | { readonly kind: 'sliding' }
  | { readonly kind: 'fixed'; readonly offsetMs?: number }
  | { readonly kind: 'fixed-random' };

/** An OAuth client (a Zoho "self client") and one refresh token it holds. */
export interface SimulatedClient {
  readonly clientId: string;
  readonly clientSecret: string;
  readonly refreshToken: string;
  /**
   * The `api_domain` returned with every token of this client. Access tokens work only on this
   * host:port, as a token of one data centre does not work on another's API host.
   * @default the simulator's baseUrl
   */
  readonly apiDomain?: string;
  /**
   * Comma-separated scopes, e.g. `ZohoBooks.contacts.ALL,ZohoCRM.modules.READ`. When given, every
   * API call is checked against them; when omitted, every call is allowed.
   */
  readonly scope?: string;
  /** Books organizations the user behind this client may use. @default every organization */
  readonly organizationIds?: readonly string[];
}

/** A Zoho Books organization (one business) and the limits Zoho applies to it. */
export interface SimulatedOrganization {
  /** Numeric string, as Zoho's organization ids are. */
  readonly organizationId: string;
  /** @default 'professional' */
  readonly plan?: BooksPlan;
  /** API calls per UTC day. @default from the plan table (free 1000 ... ultimate 10000) */
  readonly dailyLimit?: number;
  /** @default 100 */
  readonly requestsPerWindow?: number;
  /** Rate-limit window length; tests and benchmarks compress it (e.g. 50 per 5 s). @default 60 */
  readonly windowSeconds?: number;
  /**
   * How this organization's "minute" is counted. Zoho does not document it (reference
   * zoho-books-api.md §5), so the simulator can play each reading.
   * @default the simulator's `minute` option
   */
  readonly minute?: SimulatedMinute;
  /** In-flight calls allowed at once. @default 5 on the free plan, 10 on paid plans */
  readonly maxConcurrency?: number;
  /**
   * Whether the custom field `cf_crm_id` of contacts, items and invoices is configured to reject
   * duplicate values (which the `X-Unique-Identifier-*` upsert needs). The field exists either way.
   * @default true
   */
  readonly uniqueCustomFields?: boolean;
  /**
   * More custom fields (text, not unique) per entity, by API name (`cf_...`), as an admin adds
   * them in Books settings. Writes naming any other custom field fail with code 2.
   */
  readonly customFields?: Partial<Record<'contacts' | 'items' | 'invoices', readonly string[]>>;
}

/** A Books record as the API returns it (`contact`, `item` or `invoice`). */
export interface BooksRecord {
  [field: string]: unknown;
}

/** A CRM record as stored and returned under `data`. */
export interface CrmRecord {
  readonly id: string;
  [field: string]: unknown;
}

export interface FaultResponse {
  readonly status: number;
  /** JSON-encoded unless it is a string. Omit for an empty body. */
  readonly body?: unknown;
  readonly headers?: Readonly<Record<string, string>>;
}

/**
 * A failure to inject. Matched after authentication (and, for Books, after the organization and
 * the limits), in the order injected; the first match is used and spends one of its `times`.
 */
export interface FaultSpec {
  /** HTTP method, any case. @default any */
  readonly method?: string;
  /**
   * Matched against the path without the query. A string is a regular expression source
   * (`'^/books/v3/invoices$'`, or just `'/contacts'` to match anywhere). @default any path
   */
  readonly pathPattern?: string | RegExp;
  /** Only Books calls for this organization. @default any */
  readonly organizationId?: string;
  /** @default Infinity */
  readonly times?: number;
  /** The response to send instead of the real one. */
  readonly response?: FaultResponse;
  /** Destroy the socket without answering: the client sees a network error. */
  readonly dropConnection?: boolean;
  /** Extra real-time delay before the (real or faulted) response. */
  readonly delayMs?: number;
}

export interface WindowStats {
  readonly startMs: number;
  readonly calls: number;
}

/** Books traffic of one organization since the last `resetStats()`. */
export interface OrganizationStats {
  /** Requests that passed authentication and named this organization (including 429s). */
  readonly calls: number;
  /** By HTTP status (`'200'`, `'429'` ...); `'dropped'` counts connections a fault destroyed. */
  readonly byStatus: Readonly<Record<string, number>>;
  readonly tooManyRequests: number;
  readonly maxInFlightObserved: number;
  /** Highest number of quota-consuming calls in one rate-limit window (as this minute counts). */
  readonly maxCallsInAnyWindow: number;
  /** Highest number of quota-consuming calls in any span of `windowSeconds`, wherever it starts. */
  readonly maxCallsInAnySpan: number;
  /** When each quota-consuming call was admitted (simulator clock), oldest first. */
  readonly callTimes: readonly number[];
  /** Quota-consuming calls per rate-limit window, oldest first (windows without calls omitted). */
  readonly windows: readonly WindowStats[];
  /** Calls counted against today's quota: Zoho's own counter, not reset by `resetStats()`. */
  readonly dailyUsed: number;
}

export interface AccountsStats {
  /** Every call of the token endpoint. */
  readonly tokenRequests: number;
  /** Access tokens minted (refresh and code exchange). */
  readonly tokensIssued: number;
  readonly accessDenied: number;
  readonly invalidClient: number;
  readonly invalidCode: number;
}

export interface RequestLogEntry {
  readonly method: string;
  readonly path: string;
  readonly organizationId?: string;
  /** HTTP status; 0 when a fault dropped the connection. */
  readonly status: number;
  /** Books `code`, CRM `code` or OAuth `error` of the response body, when it has one. */
  readonly code?: number | string;
  readonly atMs: number;
}

/** One Notification API callback the simulator sent. */
export interface CallbackDelivery {
  readonly channelId: string;
  readonly module: string;
  readonly operation: 'insert' | 'update' | 'delete';
  readonly crmRecordIds: readonly string[];
  /** The notify_url without its query string (the query usually holds a secret). */
  readonly url: string;
  /** HTTP status of the answer; 0 when none came (refused, timed out). */
  readonly status: number;
  /** Set when no answer came. */
  readonly error?: string;
  /** Simulator clock when the callback was sent. */
  readonly atMs: number;
}

/** A Notification API channel as the simulator holds it (reference zoho-crm-api.md §4). */
export interface SimulatedNotificationChannel {
  readonly channelId: string;
  readonly events: readonly string[];
  readonly notifyUrl: string;
  readonly token?: string;
  /** Epoch ms (simulator clock). */
  readonly expiresAtMs: number;
  readonly returnAffectedFieldValues: boolean;
  readonly notifyOnRelatedAction: boolean;
}

export interface SimulatorStats {
  readonly organizations: Readonly<Record<string, OrganizationStats>>;
  readonly accounts: {
    readonly total: AccountsStats;
    readonly byClientId: Readonly<Record<string, AccountsStats>>;
  };
  /** The last 10,000 requests (admin endpoints excluded), oldest first. */
  readonly requests: readonly RequestLogEntry[];
  /** The last 1,000 Notification API callbacks, oldest first (in the order they finished). */
  readonly callbacks: readonly CallbackDelivery[];
}

export interface GrantCodeOptions {
  /** A self client may choose the validity (reference zoho-oauth.md §3). @default 180_000 */
  readonly validForMs?: number;
}

/** A running simulator. Every method acts at once on the in-memory state. */
export interface ZohoSimulator {
  /** `http://<host>:<port>`: both the accounts server and the API domain. */
  readonly baseUrl: string;
  readonly port: number;
  stop(): Promise<void>;
  /** Registers a client (or updates its secret/settings) and adds its refresh token. */
  addClient(client: SimulatedClient): void;
  addOrganization(org: SimulatedOrganization): void;
  /**
   * Creates or replaces a CRM record (the id must be numeric, as CRM ids are). `Modified_Time`
   * is set from the simulator clock unless the record carries one. Watched modules notify their
   * channels (fire and forget; see `flushNotifications`).
   */
  putCrmRecord(module: string, record: CrmRecord): void;
  /** Deletes a CRM record; watched modules notify their channels. */
  deleteCrmRecord(module: string, id: string): void;
  /** The unexpired Notification API channels, by channel id. */
  notificationChannels(): SimulatedNotificationChannel[];
  /**
   * Resolves once every Notification API callback sent so far has been answered or has failed,
   * so a test can assert on what the callbacks caused. Never rejects.
   */
  flushNotifications(): Promise<void>;
  /** Snapshots of the Books data, rendered as the API renders them. */
  readonly books: {
    contacts(orgId: string): BooksRecord[];
    items(orgId: string): BooksRecord[];
    invoices(orgId: string): BooksRecord[];
    /** Sets an invoice's status to `paid` (the simulator has no payments API). */
    markInvoicePaid(orgId: string, invoiceId: string): void;
  };
  /**
   * Creates a one-time grant code, as the API console's "Generate Code" tab does, for
   * `grant_type=authorization_code`. Valid 3 minutes by default.
   */
  createGrantCode(clientId: string, scope: string, options?: GrantCodeOptions): string;
  /** Revokes a refresh token and every access token minted from it. */
  revokeRefreshToken(refreshToken: string): void;
  /** Every access token issued so far becomes invalid, as if an hour had passed. */
  expireAccessTokens(): void;
  /** @returns the fault id */
  injectFault(fault: FaultSpec): string;
  removeFault(faultId: string): void;
  clearFaults(): void;
  /**
   * Starts a seeded fault campaign (500s, timeouts, dropped connections, 429s, slow answers,
   * each with a chance per call), or stops it with undefined. Explicit faults match first.
   */
  seedFaults(plan: SeededFaultPlan | undefined): void;
  /** Faults the seeded campaign injected so far, by kind. */
  seededFaultCounts(): Record<SeededFaultKind, number>;
  stats(): SimulatorStats;
  /** Clears counters and the request log; the limit state (window, daily use) is Zoho's: kept. */
  resetStats(): void;
}
