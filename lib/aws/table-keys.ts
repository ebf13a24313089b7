/**
 * The one DynamoDB key scheme. zoho-sync keeps all its state in one table with a string
 * partition key `pk` and sort key `sk`, and expires short-lived items through the `ttl`
 * attribute (epoch seconds). Every pk/sk in the code base comes from a builder below.
 *
 * | item                      | pk                      | sk                                  |
 * |---------------------------|-------------------------|-------------------------------------|
 * | CRM -> Books mapping+lease| CONN#<connectionId>     | MAP#<crmModule>#<crmRecordId>       |
 * | token refresh lease       | CONN#<connectionId>     | LEASE#token-refresh                 |
 * | token refresh log (10 min)| CONN#<connectionId>     | REFRESHES#<10-minute window start>  |
 * | token refresh stopped     | CONN#<connectionId>     | STOP#token-refresh                  |
 * | rejected access token     | CONN#<connectionId>     | REJECTED#access-token               |
 * | circuit breaker           | CONN#<connectionId>     | BREAKER                             |
 * | alert dedupe (per record) | CONN#<connectionId>     | ALERT#<code>#<subject>              |
 * | alert storm (per code)    | CONN#<connectionId>     | ALERT-STORM#<code>                  |
 * | request budget (1/org)    | ORG#<booksOrgId>        | BUDGET                              |
 * | quota threshold alert     | CONN#<connectionId>     | QUOTA-ALERT#<day>#<percent>         |
 * | work parked until a time  | PARKED                  | <release at ISO>#<messageId>        |
 * | work parked behind breaker| PARKED#BREAKER#<connId> | <parked at ISO>#<messageId>         |
 * | CRM notification channel  | CONN#<connectionId>     | NOTIFY#channel                      |
 * | reconciliation cursor     | CONN#<connectionId>     | RECONCILE#<crmModule>               |
 * | backfill checkpoint       | CONN#<connectionId>     | BACKFILL#<runKey>                   |
 * | backfill record outcome   | BACKFILL#<connId>#<run> | <crmModule>#<crmRecordId>           |
 */
export const TABLE_KEY = { partition: 'pk', sort: 'sk', ttl: 'ttl' } as const;

export interface TableKey {
  readonly pk: string;
  readonly sk: string;
}

/** What sends a parked message back to the sync queue; one partition per shelf. */
export type ParkingShelf =
  | { readonly releasedBy: 'schedule' }
  | { readonly releasedBy: 'breaker'; readonly connectionId: string };

/** The scheduled shelf keeps the partition `PARKED` it always had, so no parked item moves. */
export const parkingShelfPk = (shelf: ParkingShelf): string =>
  shelf.releasedBy === 'schedule' ? 'PARKED' : `PARKED#BREAKER#${shelf.connectionId}`;

const connectionPk = (connectionId: string): string => `CONN#${connectionId}`;
const orgPk = (booksOrganizationId: string): string => `ORG#${booksOrganizationId}`;

export const tableKeys = {
  recordMapping: (connectionId: string, crmModule: string, crmRecordId: string): TableKey => ({
    pk: connectionPk(connectionId),
    sk: `MAP#${crmModule}#${crmRecordId}`,
  }),
  tokenRefreshLease: (connectionId: string): TableKey => ({
    pk: connectionPk(connectionId),
    sk: 'LEASE#token-refresh',
  }),
  tokenRefreshWindow: (connectionId: string, windowStartMs: number): TableKey => ({
    pk: connectionPk(connectionId),
    sk: `REFRESHES#${windowStartMs}`,
  }),
  tokenRefreshStop: (connectionId: string): TableKey => ({
    pk: connectionPk(connectionId),
    sk: 'STOP#token-refresh',
  }),
  /** The fingerprint of the access token Zoho last rejected (57 / 401), shared by containers. */
  rejectedAccessToken: (connectionId: string): TableKey => ({
    pk: connectionPk(connectionId),
    sk: 'REJECTED#access-token',
  }),
  circuitBreaker: (connectionId: string): TableKey => ({
    pk: connectionPk(connectionId),
    sk: 'BREAKER',
  }),
  /** When an alert for (code, subject) was last sent and how many repeats were held back. */
  alertDedupe: (connectionId: string, code: string, subject: string): TableKey => ({
    pk: connectionPk(connectionId),
    sk: `ALERT#${code}#${subject}`,
  }),
  /** Distinct records alerted for one code in the current window (storm summary). */
  alertStorm: (connectionId: string, code: string): TableKey => ({
    pk: connectionPk(connectionId),
    sk: `ALERT-STORM#${code}`,
  }),
  /**
   * The request budget of one Books organization (lib/limits), shared by every connection to it:
   * the sliding log of its last N call times, its in-flight leases and its daily counts, in one
   * item so that one conditional write reserves a call.
   */
  orgBudget: (booksOrganizationId: string): TableKey => ({
    pk: orgPk(booksOrganizationId),
    sk: 'BUDGET',
  }),
  /** Marks a daily-quota threshold alert as sent, so it goes out once per connection and day. */
  quotaThresholdAlert: (connectionId: string, day: string, percent: number): TableKey => ({
    pk: connectionPk(connectionId),
    sk: `QUOTA-ALERT#${day}#${percent}`,
  }),
  /**
   * A parked sync message (lib/parking), on the shelf of what releases it: the schedule (work
   * deferred longer than SQS can delay, due back at `atIso`) or a connection's breaker closing
   * (parked at `atIso`). Each shelf is one partition sorted by time, so "everything due by T"
   * and "oldest first" are one query each.
   */
  parkedWork: (shelf: ParkingShelf, atIso: string, messageId: string): TableKey => ({
    pk: parkingShelfPk(shelf),
    sk: `${atIso}#${messageId}`,
  }),
  /**
   * The connection's CRM Notification API channel (lib/notifications): its id, the expiry Zoho
   * granted and a fingerprint of what it was enabled with, so renewal knows when to act.
   */
  notificationChannel: (connectionId: string): TableKey => ({
    pk: connectionPk(connectionId),
    sk: 'NOTIFY#channel',
  }),
  /**
   * How far the reconciliation sweep (lib/reconcile) has read one CRM module's changes: the
   * last `Modified_Time` enqueued and the ids enqueued at exactly that time.
   */
  reconcileCursor: (connectionId: string, crmModule: string): TableKey => ({
    pk: connectionPk(connectionId),
    sk: `RECONCILE#${crmModule}`,
  }),
  /**
   * A backfill's checkpoint (lib/backfill): its options, a cursor per CRM module, the counts
   * found and queued, and the run id its record outcomes are filed under.
   */
  backfillCheckpoint: (connectionId: string, runKey: string): TableKey => ({
    pk: connectionPk(connectionId),
    sk: `BACKFILL#${runKey}`,
  }),
  /**
   * How one record of a backfill run ended (synced, skipped, failed), written by the worker; one
   * partition per run, so progress is one query. With `crmModule` omitted, the partition alone.
   */
  backfillOutcome: (
    connectionId: string,
    runId: string,
    crmModule = '',
    crmRecordId = '',
  ): TableKey => ({
    pk: `BACKFILL#${connectionId}#${runId}`,
    sk: crmModule === '' ? '' : `${crmModule}#${crmRecordId}`,
  }),
} as const;

/** Converts a key to the DynamoDB attribute-value form the low-level client takes. */
export const toKeyAttributes = (key: TableKey): Record<string, { S: string }> => ({
  [TABLE_KEY.partition]: { S: key.pk },
  [TABLE_KEY.sort]: { S: key.sk },
});

/** TTL attribute value (epoch seconds) for an item that should vanish at `expiresAtMs`. */
export const ttlAttribute = (expiresAtMs: number): { N: string } => ({
  N: String(Math.ceil(expiresAtMs / 1000)),
});
