import * as z from 'zod';
import { ConfigError } from './errors';

/**
 * Environment variable names shared by the runtime, the CDK stack and local mode, so the
 * three can never disagree on a spelling.
 */
export const ENV = {
  tableName: 'ZOHO_SYNC_TABLE_NAME',
  syncQueueUrl: 'ZOHO_SYNC_QUEUE_URL',
  deadLetterQueueUrl: 'ZOHO_SYNC_DLQ_URL',
  alertTopicArn: 'ZOHO_SYNC_ALERT_TOPIC_ARN',
  secretPrefix: 'ZOHO_SYNC_SECRET_PREFIX',
  zohoTimeoutMs: 'ZOHO_SYNC_ZOHO_TIMEOUT_MS',
  budgetClockSkewMs: 'ZOHO_SYNC_BUDGET_CLOCK_SKEW_MS',
  tokenRefreshAheadSeconds: 'ZOHO_SYNC_TOKEN_REFRESH_AHEAD_SECONDS',
  cacheTtlSeconds: 'ZOHO_SYNC_CACHE_TTL_SECONDS',
  maxBackoffAttempts: 'ZOHO_SYNC_MAX_BACKOFF_ATTEMPTS',
  backoffBaseSeconds: 'ZOHO_SYNC_BACKOFF_BASE_SECONDS',
  backoffMaxSeconds: 'ZOHO_SYNC_BACKOFF_MAX_SECONDS',
  alertDedupeWindowSeconds: 'ZOHO_SYNC_ALERT_DEDUPE_WINDOW_SECONDS',
  alertStormThreshold: 'ZOHO_SYNC_ALERT_STORM_THRESHOLD',
  breakerCooldownSeconds: 'ZOHO_SYNC_BREAKER_COOLDOWN_SECONDS',
  publicBaseUrl: 'ZOHO_SYNC_PUBLIC_BASE_URL',
  reconcileLookbackHours: 'ZOHO_SYNC_RECONCILE_LOOKBACK_HOURS',
  reconcileMaxPages: 'ZOHO_SYNC_RECONCILE_MAX_PAGES',
  maxDeferralAgeHours: 'ZOHO_SYNC_MAX_DEFERRAL_AGE_HOURS',
  awsConnectTimeoutMs: 'ZOHO_SYNC_AWS_CONNECT_TIMEOUT_MS',
  awsRequestTimeoutMs: 'ZOHO_SYNC_AWS_REQUEST_TIMEOUT_MS',
  intakeDelaySeconds: 'ZOHO_SYNC_INTAKE_DELAY_SECONDS',
  logLevel: 'POWERTOOLS_LOG_LEVEL',
} as const;

const configSchema = z.object({
  [ENV.tableName]: z.string().min(1),
  [ENV.syncQueueUrl]: z.string().min(1),
  [ENV.deadLetterQueueUrl]: z.string().min(1).optional(),
  [ENV.alertTopicArn]: z.string().min(1).optional(),
  [ENV.secretPrefix]: z.string().default('zoho-sync/'),
  [ENV.zohoTimeoutMs]: z.coerce.number().int().positive().default(10_000),
  // How far a container's clock may be from Zoho's; the request budget's margin (lib/limits).
  [ENV.budgetClockSkewMs]: z.coerce.number().int().min(0).max(60_000).default(200),
  [ENV.tokenRefreshAheadSeconds]: z.coerce.number().int().min(60).max(1800).default(600),
  [ENV.cacheTtlSeconds]: z.coerce.number().int().min(0).default(60),
  [ENV.maxBackoffAttempts]: z.coerce.number().int().min(1).max(20).default(5),
  // The guide's advice for HTTP 500 / code 5 / 1000 is "retry after about 5 minutes".
  [ENV.backoffBaseSeconds]: z.coerce.number().int().min(0).max(900).default(30),
  [ENV.backoffMaxSeconds]: z.coerce.number().int().min(0).max(900).default(300),
  [ENV.alertDedupeWindowSeconds]: z.coerce.number().int().min(60).default(3600),
  // After this many distinct records fail with one code in a window, one summary alert.
  [ENV.alertStormThreshold]: z.coerce.number().int().min(1).default(5),
  // An open circuit breaker lets one probe message through after this long.
  [ENV.breakerCooldownSeconds]: z.coerce.number().int().min(1).default(900),
  // The HTTP API's public base URL; channel renewal builds each notify_url from it.
  [ENV.publicBaseUrl]: z.url({ protocol: /^https?$/ }).optional(),
  // How far back the reconciliation sweep looks for a module it has never swept.
  [ENV.reconcileLookbackHours]: z.coerce.number().int().min(1).max(720).default(24),
  // CRM list pages (200 records, 1 credit each) per connection and module per sweep run.
  [ENV.reconcileMaxPages]: z.coerce.number().int().min(1).max(100).default(10),
  // A message deferred (budget, quota) for this long since its first deferral is dead-lettered.
  [ENV.maxDeferralAgeHours]: z.coerce.number().positive().max(720).default(24),
  // Webhook and notification messages wait this long on the queue, so a burst of edits to one
  // record is read once, after the last edit, and lands in one batch (0 turns it off).
  [ENV.intakeDelaySeconds]: z.coerce.number().int().min(0).max(900).default(2),
});

/** Runtime configuration of every zoho-sync function, read once per container. */
export interface Config {
  readonly tableName: string;
  readonly syncQueueUrl: string;
  readonly deadLetterQueueUrl: string | undefined;
  readonly alertTopicArn: string | undefined;
  readonly secretPrefix: string;
  readonly zohoTimeoutMs: number;
  /** How far any container's clock may be from Zoho's (the request budget's margin). */
  readonly budgetClockSkewMs: number;
  readonly tokenRefreshAheadSeconds: number;
  readonly cacheTtlSeconds: number;
  readonly maxBackoffAttempts: number;
  readonly backoffBaseSeconds: number;
  readonly backoffMaxSeconds: number;
  readonly alertDedupeWindowSeconds: number;
  readonly alertStormThreshold: number;
  readonly breakerCooldownSeconds: number;
  /** Without a trailing slash, e.g. `https://abc.execute-api.eu-west-1.amazonaws.com`. */
  readonly publicBaseUrl: string | undefined;
  readonly reconcileLookbackHours: number;
  readonly reconcileMaxPages: number;
  readonly maxDeferralAgeHours: number;
  /** SQS delay of every message the webhook enqueues. */
  readonly intakeDelaySeconds: number;
}

/**
 * Parses the environment into a frozen {@link Config}.
 * @throws {ConfigError} listing every missing or invalid variable at once.
 */
export const loadConfig = (env: Record<string, string | undefined> = process.env): Config => {
  const parsed = configSchema.safeParse(env);
  if (!parsed.success) {
    const problems = parsed.error.issues.map(
      (issue) => `${issue.path.join('.')}: ${issue.message}`,
    );
    throw new ConfigError(`invalid configuration: ${problems.join('; ')}`);
  }
  const values = parsed.data;
  return Object.freeze({
    tableName: values[ENV.tableName],
    syncQueueUrl: values[ENV.syncQueueUrl],
    deadLetterQueueUrl: values[ENV.deadLetterQueueUrl],
    alertTopicArn: values[ENV.alertTopicArn],
    secretPrefix: values[ENV.secretPrefix],
    zohoTimeoutMs: values[ENV.zohoTimeoutMs],
    budgetClockSkewMs: values[ENV.budgetClockSkewMs],
    tokenRefreshAheadSeconds: values[ENV.tokenRefreshAheadSeconds],
    cacheTtlSeconds: values[ENV.cacheTtlSeconds],
    maxBackoffAttempts: values[ENV.maxBackoffAttempts],
    backoffBaseSeconds: values[ENV.backoffBaseSeconds],
    backoffMaxSeconds: values[ENV.backoffMaxSeconds],
    alertDedupeWindowSeconds: values[ENV.alertDedupeWindowSeconds],
    alertStormThreshold: values[ENV.alertStormThreshold],
    breakerCooldownSeconds: values[ENV.breakerCooldownSeconds],
    publicBaseUrl: values[ENV.publicBaseUrl]?.replace(/\/+$/, ''),
    reconcileLookbackHours: values[ENV.reconcileLookbackHours],
    reconcileMaxPages: values[ENV.reconcileMaxPages],
    maxDeferralAgeHours: values[ENV.maxDeferralAgeHours],
    intakeDelaySeconds: values[ENV.intakeDelaySeconds],
  });
};

/**
 * The secret prefix alone, for tools (the setup command) that run outside a deployed function
 * and have no table or queue to name.
 */
export const loadSecretPrefix = (env: Record<string, string | undefined> = process.env): string =>
  env[ENV.secretPrefix] ?? 'zoho-sync/';

/** How long an AWS SDK call may take to connect and to be answered (lib/aws/clients.ts). */
export interface AwsTimeouts {
  readonly connectionTimeoutMs: number;
  readonly requestTimeoutMs: number;
}

const awsTimeoutsSchema = z.object({
  [ENV.awsConnectTimeoutMs]: z.coerce.number().int().positive().max(60_000).default(2_000),
  [ENV.awsRequestTimeoutMs]: z.coerce.number().int().positive().max(300_000).default(5_000),
});

/**
 * The AWS SDK timeouts alone: clients are built before (and without) the rest of the config.
 * @throws {ConfigError} when a value is not a positive whole number of milliseconds.
 */
export const loadAwsTimeouts = (
  env: Record<string, string | undefined> = process.env,
): AwsTimeouts => {
  const parsed = awsTimeoutsSchema.safeParse(env);
  if (!parsed.success) {
    const problems = parsed.error.issues.map(
      (issue) => `${issue.path.join('.')}: ${issue.message}`,
    );
    throw new ConfigError(`invalid configuration: ${problems.join('; ')}`);
  }
  return Object.freeze({
    connectionTimeoutMs: parsed.data[ENV.awsConnectTimeoutMs],
    requestTimeoutMs: parsed.data[ENV.awsRequestTimeoutMs],
  });
};
