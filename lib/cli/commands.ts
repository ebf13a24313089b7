import { createAlertPublisher } from '../alerts';
import type { AwsClients } from '../aws';
import { type BreakerStatus, type ConnectionBreaker, createConfiguredBreaker } from '../breaker';
import type { Config } from '../config';
import {
  createDeadLetterQueue,
  type DeadLetterQueue,
  explainDeadLetter,
  summarizeDeadLetter,
} from '../dlq';
import { type Logger, noMetrics } from '../observability';
import type { SetupResult } from '../tokens/setup-connection';

/** What the CLI commands work with, built once from the functions' own configuration. */
export interface CliContext {
  readonly config: Config;
  readonly deadLetters: DeadLetterQueue;
  readonly breaker: ConnectionBreaker;
  readonly now: () => number;
}

export const createCliContext = (options: {
  readonly config: Config;
  readonly clients: AwsClients;
  readonly logger: Logger;
  readonly now?: () => number;
}): CliContext => {
  const { config, clients, logger } = options;
  const now = options.now ?? Date.now;
  if (config.deadLetterQueueUrl === undefined) {
    throw new Error('no dead-letter queue configured (ZOHO_SYNC_DLQ_URL)');
  }
  const alerts = createAlertPublisher({ sns: clients.sns, topicArn: config.alertTopicArn, logger });
  return {
    config,
    now,
    deadLetters: createDeadLetterQueue({
      sqs: clients.sqs,
      deadLetterQueueUrl: config.deadLetterQueueUrl,
      syncQueueUrl: config.syncQueueUrl,
    }),
    // The CLI emits no metrics: EMF lines would only clutter its output.
    breaker: createConfiguredBreaker({ config, clients, alerts, metrics: noMetrics, logger, now }),
  };
};

/** `dlq list [--connection id]` */
export const dlqList = async (context: CliContext, connectionId?: string): Promise<string> => {
  const deadLetters = await context.deadLetters.list(
    connectionId === undefined ? {} : { connectionId },
  );
  if (deadLetters.length === 0) return 'The dead-letter queue is empty.';
  return [
    `${deadLetters.length} dead-lettered message(s):`,
    ...deadLetters.map(summarizeDeadLetter),
  ].join('\n');
};

/** `dlq explain <messageId>` */
export const dlqExplain = async (context: CliContext, messageId: string): Promise<string> => {
  const deadLetter = await context.deadLetters.find(messageId);
  if (deadLetter === undefined) {
    throw new Error(`no message ${messageId} in the dead-letter queue`);
  }
  return explainDeadLetter(deadLetter, { secretPrefix: context.config.secretPrefix });
};

/** `redrive --connection <id> (--message <messageId> | --all)` */
export const redrive = async (
  context: CliContext,
  request: { connectionId: string; messageId?: string; all?: boolean },
): Promise<string> => {
  const result = await context.deadLetters.redrive(request);
  if (result.redriven.length === 0 && result.skippedUnreadable === 0) {
    throw new Error(
      request.messageId === undefined
        ? `no dead-lettered messages for connection ${request.connectionId}`
        : `no message ${request.messageId} of connection ${request.connectionId} in the dead-letter queue`,
    );
  }
  return [
    `Sent ${result.redriven.length} message(s) back to the sync queue with their attempts reset.`,
    ...(result.skippedUnreadable > 0
      ? [`Left ${result.skippedUnreadable} unreadable message(s) in the dead-letter queue.`]
      : []),
  ].join('\n');
};

const describeStatus = (connectionId: string, status: BreakerStatus): string => {
  if (status.state === 'closed') {
    return [
      `Circuit breaker of ${connectionId}: closed (Zoho is called as usual).`,
      ...(status.parkedMessages > 0
        ? [`${status.parkedMessages} message(s) are still parked; "breaker reset" releases them.`]
        : []),
    ].join('\n');
  }
  return [
    `Circuit breaker of ${connectionId}: ${status.state.toUpperCase()}`,
    `Opened:          ${new Date(status.openedAtMs).toISOString()}`,
    `Because of:      ${status.code} ${status.title} (${status.entryId})`,
    `Next probe:      ${status.probeInFlight ? 'in flight now' : `from ${new Date(status.probeAtMs).toISOString()}`}`,
    `Failed probes:   ${status.failedProbes}`,
    `Parked work:     ${status.parkedMessages} message(s)`,
  ].join('\n');
};

/** `breaker status --connection <id>` */
export const breakerStatus = async (context: CliContext, connectionId: string): Promise<string> =>
  describeStatus(connectionId, await context.breaker.status(connectionId));

/** `breaker reset --connection <id>` */
export const breakerReset = async (context: CliContext, connectionId: string): Promise<string> => {
  const result = await context.breaker.reset(connectionId);
  return [
    result.closed === undefined
      ? `Circuit breaker of ${connectionId} was not open.`
      : `Circuit breaker of ${connectionId} closed (it had opened on ${result.closed.code} ${result.closed.title}).`,
    `Sent ${result.releasedMessages} parked message(s) back to the sync queue.`,
    ...(result.remainingParked > 0
      ? [`${result.remainingParked} message(s) are still parked: run the reset again.`]
      : []),
  ].join('\n');
};

/** `setup`: what was written, and the webhook secret when setup made one up. */
export const describeSetup = (result: SetupResult): string =>
  [
    `${result.created ? 'created' : 'updated'} secret ${result.secretId} (credentials)`,
    result.webhookSecret === 'kept'
      ? `kept secret ${result.webhookSecretId} (webhook secret; "webhook-secret rotate" changes it)`
      : `created secret ${result.webhookSecretId} (webhook secret)`,
    ...(result.newWebhookSecret === undefined
      ? []
      : [
          `Generated webhook secret (set it in Zoho CRM as the X-Zoho-Sync-Token header or the token URL parameter): ${result.newWebhookSecret}`,
        ]),
  ].join('\n');
