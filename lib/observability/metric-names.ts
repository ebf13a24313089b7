/**
 * The one list of zoho-sync's custom CloudWatch metrics. Functions emit them with Powertools
 * Metrics (`POWERTOOLS_METRICS_NAMESPACE` is set to {@link METRIC_NAMESPACE} on every function);
 * the CDK app builds its alarms and dashboard from the same names, so the two cannot drift.
 *
 * The alarms and dashboard read these metrics with CloudWatch Metrics Insights queries
 * (`SELECT SUM(ZohoCalls) FROM "ZohoSync" ...`), which aggregate over every dimension set. So an
 * emitter may add dimensions freely (Powertools adds `service` itself), but must emit each data
 * point once: publishing the same event both with and without a `connection` dimension would
 * count it twice in the alarms.
 */
export const METRIC_NAMESPACE = 'ZohoSync';

export const METRICS = {
  /** Count of calls made to a Zoho API (CRM or Books). Dimension: `connection`. Unit: Count. */
  zohoCalls: 'ZohoCalls',
  /**
   * The call budget the limiter allows for the same period as `ZohoCalls`, so the dashboard can
   * draw calls against budget. Dimension: `connection`. Unit: Count.
   */
  zohoBudget: 'ZohoBudget',
  /** Count of HTTP 429 answers received from Zoho. Dimension: `connection`. Unit: Count. */
  zohoTooManyRequests: 'ZohoTooManyRequests',
  /**
   * Share of the organization's daily API quota already spent, 0-100. The alarm fires at 80.
   * Dimension: `connection`. Unit: Percent.
   */
  dailyQuotaUsedPercent: 'DailyQuotaUsedPercent',
  /** Emitted (value 1) when a connection's circuit breaker opens. Dimension: `connection`. */
  circuitBreakerOpen: 'CircuitBreakerOpen',
  /** Emitted (value 1) when renewing a CRM notification channel fails. Dimension: `connection`. */
  channelRenewalFailed: 'ChannelRenewalFailed',
  /**
   * Count of sync messages deferred (rate budget, in-flight cap, daily quota, token refresh):
   * delays, not failures. Dimension: `connection`.
   */
  syncDeferred: 'SyncDeferred',
  /** Count of sync messages that ended in `fail` or dead-lettering. Dimension: `code`. */
  syncFailures: 'SyncFailures',
  /** Count of sync messages sent to the dead-letter queue. Dimension: `connection`. */
  deadLettered: 'DeadLettered',
  /** Count of admin alerts SNS did not accept (the failure is logged too). Dimension: `connection`. */
  alertPublishFailed: 'AlertPublishFailed',
  /**
   * Count of admin alerts held back: a repeat within the dedupe window, or a record beyond the
   * storm threshold (counted into a later alert). Dimension: `connection`.
   */
  alertsSuppressed: 'AlertsSuppressed',
} as const;

export type MetricName = (typeof METRICS)[keyof typeof METRICS];

/** Dimension names the dashboard groups by. */
export const METRIC_DIMENSIONS = {
  /** The connection id (`[a-z0-9-]{1,40}`); never a secret. */
  connection: 'connection',
  /** A failure code: the Zoho code, or a zoho-sync error name when Zoho gave none. */
  code: 'code',
} as const;
