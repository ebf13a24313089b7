/**
 * The one DynamoDB key scheme. zoho-sync keeps all its state in one table with a string
 * partition key `pk` and sort key `sk`, and expires short-lived items through the `ttl`
 * attribute (epoch seconds). Every pk/sk in the code base comes from a builder below.
 *
 * | item                      | pk                      | sk                                  |
 * |---------------------------|-------------------------|-------------------------------------|
 * | CRM -> Books mapping      | CONN#<connectionId>     | MAP#<crmModule>#<crmRecordId>       |
 * | token refresh lease       | CONN#<connectionId>     | LEASE#token-refresh                 |
 * | token refresh log (10 min)| CONN#<connectionId>     | REFRESHES#<10-minute window start>  |
 * | token refresh stopped     | CONN#<connectionId>     | STOP#token-refresh                  |
 * | circuit breaker           | CONN#<connectionId>     | BREAKER                             |
 * | alert dedupe window       | CONN#<connectionId>     | ALERT#<code>#<subject>#<window>     |
 * | request budget window     | ORG#<booksOrgId>        | WINDOW#<window start epoch ms>      |
 * | in-flight call slots      | ORG#<booksOrgId>        | INFLIGHT                            |
 * | daily quota               | ORG#<booksOrgId>        | DAY#<yyyy-mm-dd in quota time zone> |
 * | quota threshold alert     | ORG#<booksOrgId>        | QUOTA-ALERT#<day>#<percent>         |
 * | parked work               | PARKED                  | <release at ISO>#<messageId>        |
 */
export const TABLE_KEY = { partition: 'pk', sort: 'sk', ttl: 'ttl' } as const;

export interface TableKey {
  readonly pk: string;
  readonly sk: string;
}

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
  circuitBreaker: (connectionId: string): TableKey => ({
    pk: connectionPk(connectionId),
    sk: 'BREAKER',
  }),
  alertDedupe: (
    connectionId: string,
    code: string,
    subject: string,
    windowStartMs: number,
  ): TableKey => ({
    pk: connectionPk(connectionId),
    sk: `ALERT#${code}#${subject}#${windowStartMs}`,
  }),
  requestWindow: (booksOrganizationId: string, windowStartMs: number): TableKey => ({
    pk: orgPk(booksOrganizationId),
    sk: `WINDOW#${windowStartMs}`,
  }),
  inFlight: (booksOrganizationId: string): TableKey => ({
    pk: orgPk(booksOrganizationId),
    sk: 'INFLIGHT',
  }),
  dailyQuota: (booksOrganizationId: string, day: string): TableKey => ({
    pk: orgPk(booksOrganizationId),
    sk: `DAY#${day}`,
  }),
  quotaThresholdAlert: (booksOrganizationId: string, day: string, percent: number): TableKey => ({
    pk: orgPk(booksOrganizationId),
    sk: `QUOTA-ALERT#${day}#${percent}`,
  }),
  parkedWork: (releaseAtIso: string, messageId: string): TableKey => ({
    pk: 'PARKED',
    sk: `${releaseAtIso}#${messageId}`,
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
