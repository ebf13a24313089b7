import { randomUUID } from 'node:crypto';
import { DeleteMessageCommand, ReceiveMessageCommand } from '@aws-sdk/client-sqs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  accountSyncMessages,
  backlogRecordIds,
  enqueueSyncMessages,
  seedCrmAccounts,
} from '../../../lib/bench/sync-backlog';
import { createWorkerContainer, type WorkerContainer } from '../../../lib/bench/worker-container';
import type { ConnectionSecret } from '../../../lib/config';
import { startZohoSimulator, type ZohoSimulator } from '../../../lib/local/zoho-simulator';
import { logger, noMetrics } from '../../../lib/observability';
import { createParkedWorkStore, releaseParkedWork, SCHEDULED_SHELF } from '../../../lib/parking';
import { createTestEnvironment, type TestEnvironment } from '../../helpers/local-environment';
import { drainQueue, queueDepth } from '../../helpers/queues';

const ORG_ID = '60030000001';
const CONNECTION_ID = 'quota';
const DAILY_LIMIT = 10;
// A date in the future on purpose: DynamoDB Local's TTL sweeper runs on the real clock and would
// delete budget items whose ttl lies in the real past in the middle of a test.
// 10:00:05 UTC: the quota day (UTC by default) ends 14 hours later, far beyond SQS's 15 minutes.
const START = Date.parse('2035-02-19T10:00:05.000Z');
const NEXT_DAY = Date.parse('2035-02-20T00:00:00.000Z');

describe('daily quota', () => {
  let env: TestEnvironment;
  let simulator: ZohoSimulator;
  let nowMs = START;
  const now = () => nowMs;
  let worker: WorkerContainer;

  const drain = (container: WorkerContainer = worker) =>
    drainQueue({
      sqs: env.clients.sqs,
      queueUrl: env.resources.syncQueueUrl,
      queueArn: env.resources.syncQueueArn,
      handler: container.handler,
    });
  const newContainer = () =>
    createWorkerContainer({ config: env.config, clients: env.clients, now, metrics: noMetrics });
  const parked = () =>
    createParkedWorkStore({ dynamodb: env.clients.dynamodb, tableName: env.resources.tableName });
  const parkedDue = (dueByMs: number) => parked().list(SCHEDULED_SHELF, { dueByMs, limit: 100 });
  const booksCalls = () => simulator.stats().organizations[ORG_ID]?.calls ?? 0;

  /** Reads (and removes) every alert in the admin's inbox: SNS envelopes with Subject/Message. */
  const takeAlerts = async (): Promise<Array<{ Subject: string; Message: string }>> => {
    const alerts: Array<{ Subject: string; Message: string }> = [];
    for (;;) {
      const received = await env.clients.sqs.send(
        new ReceiveMessageCommand({
          QueueUrl: env.resources.alertQueueUrl,
          MaxNumberOfMessages: 10,
          WaitTimeSeconds: 1,
        }),
      );
      const messages = received.Messages ?? [];
      if (messages.length === 0) return alerts;
      for (const message of messages) {
        alerts.push(JSON.parse(message.Body ?? '{}'));
        await env.clients.sqs.send(
          new DeleteMessageCommand({
            QueueUrl: env.resources.alertQueueUrl,
            ReceiptHandle: message.ReceiptHandle,
          }),
        );
      }
    }
  };

  beforeAll(async () => {
    env = await createTestEnvironment();
    simulator = await startZohoSimulator({ now });
    const secret: ConnectionSecret = {
      dataCenter: 'com',
      accountsUrl: simulator.baseUrl,
      clientId: '1000.DAILYQUOTA',
      clientSecret: 'daily-quota-client-secret',
      refreshToken: `1000.${'5'.repeat(32)}.${'6'.repeat(32)}`,
      booksOrganizationId: ORG_ID,
      plan: 'professional',
      // Our share of the organization's quota; Zoho's own (5,000 on Professional) is far off.
      dailyLimit: DAILY_LIMIT,
      webhookSecret: 'webhook-secret-for-daily-quota',
    };
    simulator.addClient({
      clientId: secret.clientId,
      clientSecret: secret.clientSecret,
      refreshToken: secret.refreshToken,
    });
    simulator.addOrganization({ organizationId: ORG_ID });
    await env.putConnection(CONNECTION_ID, secret);
    worker = newContainer();
  });

  afterAll(async () => {
    await simulator?.stop();
  });

  it('syncs up to the limit, alerts at 80% and 100% once each, and parks the rest', async () => {
    // Prepare: 12 changes against a limit of 10.
    const recordIds = backlogRecordIds('48710', 12);
    seedCrmAccounts(simulator, recordIds);
    await enqueueSyncMessages(
      env.clients.sqs,
      env.resources.syncQueueUrl,
      accountSyncMessages(CONNECTION_ID, recordIds, randomUUID, nowMs),
    );

    // Act
    await drain();

    // Assess: ten calls went to Zoho, the other two wait in DynamoDB for the next quota day.
    expect(simulator.books.contacts(ORG_ID)).toHaveLength(DAILY_LIMIT);
    expect(booksCalls()).toBe(DAILY_LIMIT);
    const waiting = await parkedDue(NEXT_DAY + 86_400_000);
    expect(waiting).toHaveLength(2);
    expect(waiting.map((message) => message.atMs)).toStrictEqual([NEXT_DAY, NEXT_DAY]);
    expect(await queueDepth(env.clients.sqs, env.resources.syncQueueUrl)).toBe(0);
    expect(await queueDepth(env.clients.sqs, env.resources.deadLetterQueueUrl)).toBe(0);

    const alerts = await takeAlerts();
    expect(alerts.map((alert) => alert.Subject)).toStrictEqual([
      '[zoho-sync] quota: Zoho Books daily quota 80% used (2035-02-19)',
      '[zoho-sync] quota: Zoho Books daily quota spent (2035-02-19)',
    ]);
    expect(alerts[1]?.Message).toContain('Calls today:     10 of 10');
  });

  it('defers a new change without any call reaching Zoho while the quota is spent', async () => {
    const [recordId] = backlogRecordIds('48711', 1);
    seedCrmAccounts(simulator, [recordId ?? '']);
    const message = accountSyncMessages(CONNECTION_ID, [recordId ?? ''], randomUUID, nowMs);

    // A container that knows the quota is spent, and a fresh one that must ask DynamoDB.
    await enqueueSyncMessages(env.clients.sqs, env.resources.syncQueueUrl, message);
    await drain(worker);
    await enqueueSyncMessages(
      env.clients.sqs,
      env.resources.syncQueueUrl,
      accountSyncMessages(CONNECTION_ID, [recordId ?? ''], randomUUID, nowMs),
    );
    await drain(newContainer());

    expect(booksCalls()).toBe(DAILY_LIMIT);
    expect(await parkedDue(NEXT_DAY)).toHaveLength(4);
    expect(await takeAlerts()).toStrictEqual([]);
  });

  it('puts parked work back on the queue when the quota day turns, and syncs it', async () => {
    nowMs = NEXT_DAY + 1_000;
    const result = await releaseParkedWork({
      parked: parked(),
      sqs: env.clients.sqs,
      syncQueueUrl: env.resources.syncQueueUrl,
      now,
      logger,
    });
    expect(result).toStrictEqual({ released: 4, more: false });
    expect(await parkedDue(NEXT_DAY + 86_400_000)).toStrictEqual([]);

    await drain();

    expect(simulator.books.contacts(ORG_ID)).toHaveLength(13);
    // Four messages, three records: the second copy of one record finds Books up to date.
    expect(booksCalls()).toBe(DAILY_LIMIT + 3);
    expect(await queueDepth(env.clients.sqs, env.resources.deadLetterQueueUrl)).toBe(0);
    expect(await takeAlerts()).toStrictEqual([]);
  });
});
