import { RetentionDays } from 'aws-cdk-lib/aws-logs';
import type { Node } from 'constructs';
import * as z from 'zod';
import { STACK_DEFAULTS } from '../lib/config';

/**
 * Everything a deployment can tune, read from CDK context (`cdk.json` or `-c key=value`).
 * `npx cdk deploy -c alertEmail=ops@example.com` is a complete deploy; every other key has a
 * default. Connections are not configuration: they are secrets added after deploy.
 */
export interface ZohoSyncSettings {
  /** Email subscriptions of the alert topic (context `alertEmail`: comma-separated or a list). */
  readonly alertEmails: readonly string[];
  /** POWERTOOLS_LOG_LEVEL of every function (context `logLevel`). @default 'INFO' */
  readonly logLevel: 'DEBUG' | 'INFO' | 'WARN' | 'ERROR';
  /** Active X-Ray tracing on every function (context `tracing`). @default false */
  readonly tracing: boolean;
  /** Receives before a sync message moves to the DLQ (context `maxReceiveCount`). @default 5 */
  readonly maxReceiveCount: number;
  /** SQS messages per worker invocation (context `batchSize`). @default 10 */
  readonly batchSize: number;
  /**
   * The worker's total concurrency: its SQS event source `maxConcurrency`, shared by every
   * connection (context `workerConcurrency`). Size it for all connections together: each
   * organization's own in-flight cap (`maxConcurrency` in the connection secret) is enforced by
   * the request budget, not by this. The older context key `orgConcurrency` is read as an alias
   * when `workerConcurrency` is not set. @default 20 (STACK_DEFAULTS.workerConcurrency)
   */
  readonly workerConcurrency: number;
  /** Worker function timeout in seconds (context `workerTimeoutSeconds`). @default 60 */
  readonly workerTimeoutSeconds: number;
  /** HTTP API steady-state requests per second (context `throttleRateLimit`). @default 50 */
  readonly throttleRateLimit: number;
  /** HTTP API burst (context `throttleBurstLimit`). @default 100 */
  readonly throttleBurstLimit: number;
  /**
   * 429s from Zoho per 5 minutes that raise an alarm (context `tooManyRequestsAlarmThreshold`).
   * @default 5
   */
  readonly tooManyRequestsAlarmThreshold: number;
  /** Retention of every log group in days (context `logRetentionDays`). @default 30 */
  readonly logRetention: RetentionDays;
  /** HTTP API custom domain (contexts `domainName` and `certificateArn`: both or neither). */
  readonly customDomain:
    | { readonly domainName: string; readonly certificateArn: string }
    | undefined;
}

/** The context keys {@link readSettings} understands, for docs and tests. */
export const CONTEXT_KEYS = {
  alertEmail: 'alertEmail',
  logLevel: 'logLevel',
  tracing: 'tracing',
  maxReceiveCount: 'maxReceiveCount',
  batchSize: 'batchSize',
  workerConcurrency: 'workerConcurrency',
  /** Alias of `workerConcurrency` from before it had its own name (kept: a public interface). */
  orgConcurrency: 'orgConcurrency',
  workerTimeoutSeconds: 'workerTimeoutSeconds',
  throttleRateLimit: 'throttleRateLimit',
  throttleBurstLimit: 'throttleBurstLimit',
  tooManyRequestsAlarmThreshold: 'tooManyRequestsAlarmThreshold',
  logRetentionDays: 'logRetentionDays',
  domainName: 'domainName',
  certificateArn: 'certificateArn',
} as const;

// `-c key=value` always arrives as a string, cdk.json values keep their JSON type.
const contextBoolean = z
  .union([z.boolean(), z.enum(['true', 'false'])])
  .transform((value) => value === true || value === 'true');
const contextInt = (min: number, max: number, fallback: number) =>
  z.coerce.number().int().min(min).max(max).default(fallback);

const emailSchema = z.email();
const retentionDays = new Set<number>(
  Object.values(RetentionDays).filter((value): value is number => typeof value === 'number'),
);

const settingsSchema = z
  .object({
    // "a@x.com,b@y.com" from the command line, or a string or a list in cdk.json.
    [CONTEXT_KEYS.alertEmail]: z
      .union([z.string(), z.array(z.string())])
      .default('')
      .transform((value) =>
        (Array.isArray(value) ? value : [value])
          .flatMap((entry) => entry.split(','))
          .map((email) => email.trim())
          .filter((email) => email.length > 0),
      )
      .pipe(z.array(emailSchema)),
    [CONTEXT_KEYS.logLevel]: z.enum(['DEBUG', 'INFO', 'WARN', 'ERROR']).default('INFO'),
    [CONTEXT_KEYS.tracing]: contextBoolean.default(false),
    [CONTEXT_KEYS.maxReceiveCount]: contextInt(1, 1000, STACK_DEFAULTS.maxReceiveCount),
    // Without a batching window, SQS hands Lambda at most 10 messages.
    [CONTEXT_KEYS.batchSize]: contextInt(1, 10, STACK_DEFAULTS.batchSize),
    [CONTEXT_KEYS.workerConcurrency]: z.coerce.number().int().min(1).max(1000).optional(),
    [CONTEXT_KEYS.orgConcurrency]: z.coerce.number().int().min(1).max(1000).optional(),
    // 15 minutes is Lambda's maximum; 6x it must stay under SQS's 12-hour visibility ceiling.
    [CONTEXT_KEYS.workerTimeoutSeconds]: contextInt(10, 900, STACK_DEFAULTS.workerTimeoutSeconds),
    [CONTEXT_KEYS.throttleRateLimit]: contextInt(1, 10_000, 50),
    [CONTEXT_KEYS.throttleBurstLimit]: contextInt(1, 5_000, 100),
    [CONTEXT_KEYS.tooManyRequestsAlarmThreshold]: contextInt(1, 100_000, 5),
    [CONTEXT_KEYS.logRetentionDays]: z.coerce
      .number()
      .int()
      .default(30)
      .refine((days) => retentionDays.has(days), {
        message: 'must be a CloudWatch Logs retention (1, 3, 5, 7, 14, 30, 60, 90, ... days)',
      }),
    [CONTEXT_KEYS.domainName]: z.string().min(1).optional(),
    [CONTEXT_KEYS.certificateArn]: z.string().startsWith('arn:').optional(),
  })
  .refine(
    (values) =>
      (values[CONTEXT_KEYS.domainName] === undefined) ===
      (values[CONTEXT_KEYS.certificateArn] === undefined),
    { message: 'domainName and certificateArn go together: set both or neither' },
  );

/**
 * Reads and validates the deployment settings from CDK context.
 * @throws Error listing every invalid context value at once.
 */
export const readSettings = (node: Node): ZohoSyncSettings => {
  const raw = Object.fromEntries(
    Object.values(CONTEXT_KEYS).map((key) => [key, node.tryGetContext(key) as unknown]),
  );
  const parsed = settingsSchema.safeParse(raw);
  if (!parsed.success) {
    const problems = parsed.error.issues.map(
      (issue) => `${issue.path.join('.') || 'context'}: ${issue.message}`,
    );
    throw new Error(`invalid CDK context: ${problems.join('; ')}`);
  }
  const values = parsed.data;
  const domainName = values[CONTEXT_KEYS.domainName];
  const certificateArn = values[CONTEXT_KEYS.certificateArn];
  return {
    alertEmails: values[CONTEXT_KEYS.alertEmail],
    logLevel: values[CONTEXT_KEYS.logLevel],
    tracing: values[CONTEXT_KEYS.tracing],
    maxReceiveCount: values[CONTEXT_KEYS.maxReceiveCount],
    batchSize: values[CONTEXT_KEYS.batchSize],
    workerConcurrency:
      values[CONTEXT_KEYS.workerConcurrency] ??
      values[CONTEXT_KEYS.orgConcurrency] ??
      STACK_DEFAULTS.workerConcurrency,
    workerTimeoutSeconds: values[CONTEXT_KEYS.workerTimeoutSeconds],
    throttleRateLimit: values[CONTEXT_KEYS.throttleRateLimit],
    throttleBurstLimit: values[CONTEXT_KEYS.throttleBurstLimit],
    tooManyRequestsAlarmThreshold: values[CONTEXT_KEYS.tooManyRequestsAlarmThreshold],
    logRetention: values[CONTEXT_KEYS.logRetentionDays] as RetentionDays,
    customDomain:
      domainName !== undefined && certificateArn !== undefined
        ? { domainName, certificateArn }
        : undefined,
  };
};
