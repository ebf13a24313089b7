import { randomUUID } from 'node:crypto';
import {
  ChangeMessageVisibilityBatchCommand,
  DeleteMessageCommand,
  type Message,
  ReceiveMessageCommand,
} from '@aws-sdk/client-sqs';
import { createAlertPublisher } from '../../lib/alerts';
import { sendQueueMessage, sendQueueMessages } from '../../lib/aws';
import {
  type ConnectionBreaker,
  createConfiguredBreaker,
  type OutgoingSyncMessage,
} from '../../lib/breaker';
import type { ConnectionSecret } from '../../lib/config';
import { createDeadLetterQueue, type DeadLetterQueue } from '../../lib/dlq';
import { startZohoSimulator, type ZohoSimulator } from '../../lib/local/zoho-simulator';
import {
  logger,
  type MetricDimensionName,
  type MetricName,
  type MetricsRecorder,
} from '../../lib/observability';
import {
  createSyncWorkerDeps,
  type HandleSyncMessageDeps,
  handleSyncMessage,
  type SyncMessage,
  type SyncOutcome,
} from '../../lib/sync';
import { createTestEnvironment, type TestEnvironment } from './local-environment';
import { type ManualClock, manualClock, registerConnection } from './token-fixtures';
import { unlimitedLimiter } from './unlimited-limiter';

/** A metrics recorder that keeps every data point, so tests can count them. */
export interface RecordedMetrics extends MetricsRecorder {
  readonly points: Array<{
    name: MetricName;
    dimensions: Partial<Record<MetricDimensionName, string>>;
    value: number;
  }>;
  total(name: MetricName): number;
}

export const recordedMetrics = (): RecordedMetrics => {
  const points: RecordedMetrics['points'] = [];
  return {
    points,
    count(name, dimensions = {}, value = 1) {
      points.push({ name, dimensions, value });
    },
    total: (name) =>
      points.filter((point) => point.name === name).reduce((sum, point) => sum + point.value, 0),
  };
};

/** An alert as the admin's inbox (an SQS queue subscribed to the topic) receives it. */
export interface ReceivedAlert {
  readonly subject: string;
  readonly body: string;
  readonly attributes: Record<string, string>;
}

/** A message the worker sent to the sync queue, with the delay it asked for. */
export interface SentMessage {
  readonly messageId: string;
  readonly delaySeconds: number;
}

export interface FailureHarness {
  readonly env: TestEnvironment;
  readonly simulator: ZohoSimulator;
  readonly clock: ManualClock;
  readonly metrics: RecordedMetrics;
  readonly deps: HandleSyncMessageDeps;
  /** The breaker as the CLI builds it (same table, queue and topic). */
  readonly cliBreaker: ConnectionBreaker;
  readonly deadLetterQueue: DeadLetterQueue;
  /** Every message the worker re-sent (backoff, deferral, breaker), in order. */
  readonly sent: SentMessage[];
  /**
   * A connection whose client is registered at the simulator. With `registerOrganization:
   * false` its Books organization does not exist there (Books answers 6024).
   */
  addConnection(
    connectionId: string,
    options?: { organizationId?: string; registerOrganization?: boolean },
  ): Promise<ConnectionSecret>;
  /** Puts a CRM account into the simulator and returns a sync message for it. */
  newMessage(connectionId: string, crmRecordId: string): SyncMessage;
  /** {@link FailureHarness.newMessage}, sent to the sync queue. */
  enqueue(connectionId: string, crmRecordId: string): Promise<SyncMessage>;
  /**
   * Plays the event source mapping: delivers every message due within `horizonMs` (default 1
   * hour) of the clock to the worker, oldest due first, and advances the clock to each
   * message's due time, as SQS's DelaySeconds would. Messages due later stay in the queue.
   */
  run(options?: { horizonMs?: number; parallel?: boolean }): Promise<SyncOutcome[]>;
  /** Receives (and removes) every alert that reached the inbox. */
  alerts(): Promise<ReceivedAlert[]>;
  /** Zoho API calls (CRM and Books) whose path or organization matches. */
  zohoCalls(match: { path?: RegExp; organizationId?: string | null; status?: number }): number;
  stop(): Promise<void>;
}

/** Books organizations get generous limits: these tests are about failures, not budgets. */
const UNLIMITED_ORG = { requestsPerWindow: 1_000_000, dailyLimit: 10_000_000 };

let orgCounter = 0;
const newOrganizationId = (): string => {
  orgCounter += 1;
  return `7700${String(Date.now()).slice(-6)}${String(orgCounter).padStart(3, '0')}`;
};

/**
 * Everything the failure tests drive: isolated AWS resources on the shared stand-ins, a Zoho
 * simulator, and the real worker deps (real SDK clients, real token store, real breaker and
 * alert gate) with a manual clock. The worker asks SQS for delays, but the harness sends its
 * messages without them and keeps the asked delay, because fauxqs honours DelaySeconds in real
 * time and a test cannot wait 15 minutes; `run()` then moves the clock instead.
 */
export const startFailureHarness = async (
  options: { extraEnv?: Record<string, string> } = {},
): Promise<FailureHarness> => {
  const env = await createTestEnvironment({
    extraEnv: { POWERTOOLS_LOG_LEVEL: 'ERROR', ...options.extraEnv },
  });
  logger.setLogLevel('SILENT');
  const simulator = await startZohoSimulator();
  const clock = manualClock(Date.UTC(2035, 0, 5, 9, 0, 0));
  const metrics = recordedMetrics();
  const sent: SentMessage[] = [];
  /** messageId -> when (clock) the message may be received. */
  const dueAtMs = new Map<string, number>();
  const { sqs } = env.clients;
  const queueUrl = env.resources.syncQueueUrl;

  const record = (messageId: string, delaySeconds: number) => {
    sent.push({ messageId, delaySeconds });
    dueAtMs.set(messageId, clock.now() + delaySeconds * 1000);
  };

  const base = createSyncWorkerDeps({
    config: env.config,
    clients: env.clients,
    limiter: unlimitedLimiter,
    now: clock.now,
    metrics,
    logger,
  });
  const alerts = createAlertPublisher({
    sns: env.clients.sns,
    topicArn: env.config.alertTopicArn,
    logger,
    metrics,
  });
  /** The breaker's sends, recorded like `requeue`'s. */
  const sendToSyncQueue = async (messages: readonly OutgoingSyncMessage[]) => {
    for (const message of messages) record(message.messageId, message.delaySeconds);
    await sendQueueMessages(
      sqs,
      queueUrl,
      messages.map((message) => ({ ...message, id: message.messageId, delaySeconds: 0 })),
    );
  };
  const breakerDeps = {
    config: env.config,
    clients: env.clients,
    alerts,
    metrics,
    logger,
    now: clock.now,
    sendToSyncQueue,
  };
  const deps: HandleSyncMessageDeps = {
    ...base,
    requeue: async (message, delaySeconds) => {
      record(message.messageId, delaySeconds);
      await sendQueueMessage(sqs, queueUrl, {
        id: message.messageId,
        body: JSON.stringify(message),
        connectionId: message.connectionId,
      });
    },
    breaker: createConfiguredBreaker(breakerDeps),
  };
  const cliBreaker = createConfiguredBreaker(breakerDeps);

  const receive = async (): Promise<Message[]> =>
    (
      await sqs.send(
        new ReceiveMessageCommand({
          QueueUrl: queueUrl,
          MaxNumberOfMessages: 10,
          WaitTimeSeconds: 0,
          VisibilityTimeout: 120,
        }),
      )
    ).Messages ?? [];

  const messageIdOf = (message: Message): string => {
    try {
      return (JSON.parse(message.Body ?? '') as { messageId?: string }).messageId ?? '';
    } catch {
      return '';
    }
  };

  const deliver = async (message: Message): Promise<SyncOutcome> => {
    const outcome = await handleSyncMessage(deps, message.Body ?? '');
    await sqs.send(
      new DeleteMessageCommand({ QueueUrl: queueUrl, ReceiptHandle: message.ReceiptHandle }),
    );
    return outcome;
  };

  const newMessage = (connectionId: string, crmRecordId: string): SyncMessage => {
    simulator.putCrmRecord('Accounts', {
      id: crmRecordId,
      Account_Name: `Account ${crmRecordId}`,
      Billing_City: 'Austin',
    });
    return {
      version: 1,
      messageId: randomUUID(),
      correlationId: randomUUID(),
      connectionId,
      crmModule: 'Accounts',
      crmRecordId,
      source: 'workflow-webhook',
      receivedAtMs: clock.now(),
      attempt: 0,
      deferrals: 0,
    };
  };

  return {
    env,
    simulator,
    clock,
    metrics,
    deps,
    cliBreaker,
    deadLetterQueue: createDeadLetterQueue({
      sqs,
      deadLetterQueueUrl: env.resources.deadLetterQueueUrl,
      syncQueueUrl: queueUrl,
      waitTimeSeconds: 0,
    }),
    sent,

    async addConnection(connectionId, connectionOptions = {}) {
      const organizationId = connectionOptions.organizationId ?? newOrganizationId();
      if (connectionOptions.registerOrganization !== false) {
        simulator.addOrganization({ organizationId, ...UNLIMITED_ORG });
      }
      const secret = registerConnection(simulator, { organizationId });
      await env.putConnection(connectionId, secret);
      return secret;
    },

    newMessage,

    async enqueue(connectionId, crmRecordId) {
      const message = newMessage(connectionId, crmRecordId);
      await sendQueueMessage(sqs, queueUrl, {
        id: message.messageId,
        body: JSON.stringify(message),
        connectionId,
      });
      return message;
    },

    async run(runOptions = {}) {
      const horizonEndMs = clock.now() + (runOptions.horizonMs ?? 3_600_000);
      const outcomes: SyncOutcome[] = [];
      const later: Message[] = [];
      for (;;) {
        const batch = await receive();
        if (batch.length === 0) break;
        const due = (message: Message) => dueAtMs.get(messageIdOf(message)) ?? 0;
        const now: Message[] = [];
        for (const message of batch) (due(message) > horizonEndMs ? later : now).push(message);
        now.sort((a, b) => due(a) - due(b));
        if (runOptions.parallel) {
          const latest = Math.max(clock.now(), ...now.map(due));
          clock.advance(latest - clock.now());
          outcomes.push(...(await Promise.all(now.map(deliver))));
        } else {
          for (const message of now) {
            clock.advance(Math.max(0, due(message) - clock.now()));
            outcomes.push(await deliver(message));
          }
        }
      }
      // What is due after the horizon stays queued (visible again for the next run).
      for (let start = 0; start < later.length; start += 10) {
        await sqs.send(
          new ChangeMessageVisibilityBatchCommand({
            QueueUrl: queueUrl,
            Entries: later.slice(start, start + 10).map((message, index) => ({
              Id: String(index),
              ReceiptHandle: message.ReceiptHandle,
              VisibilityTimeout: 0,
            })),
          }),
        );
      }
      return outcomes;
    },

    async alerts() {
      const received: ReceivedAlert[] = [];
      for (;;) {
        const result = await sqs.send(
          new ReceiveMessageCommand({
            QueueUrl: env.resources.alertQueueUrl,
            MaxNumberOfMessages: 10,
            WaitTimeSeconds: 0,
          }),
        );
        const messages = result.Messages ?? [];
        if (messages.length === 0) return received;
        for (const message of messages) {
          const envelope = JSON.parse(message.Body ?? '{}') as {
            Subject?: string;
            Message?: string;
            MessageAttributes?: Record<string, { Value?: string }>;
          };
          received.push({
            subject: envelope.Subject ?? '',
            body: envelope.Message ?? '',
            attributes: Object.fromEntries(
              Object.entries(envelope.MessageAttributes ?? {}).map(([key, value]) => [
                key,
                value.Value ?? '',
              ]),
            ),
          });
          await sqs.send(
            new DeleteMessageCommand({
              QueueUrl: env.resources.alertQueueUrl,
              ReceiptHandle: message.ReceiptHandle,
            }),
          );
        }
      }
    },

    zohoCalls(match) {
      return simulator
        .stats()
        .requests.filter(
          (request) =>
            (match.path === undefined || match.path.test(request.path)) &&
            (match.organizationId === undefined ||
              (request.organizationId ?? null) === match.organizationId) &&
            (match.status === undefined || request.status === match.status),
        ).length;
    },

    stop: () => simulator.stop(),
  };
};
