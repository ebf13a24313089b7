import { randomUUID } from 'node:crypto';
import { GetItemCommand } from '@aws-sdk/client-dynamodb';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { tableKeys, toKeyAttributes } from '../../../lib/aws';
import {
  accountSyncMessages,
  backlogRecordIds,
  enqueueSyncMessages,
  seedCrmAccounts,
} from '../../../lib/bench/sync-backlog';
import { createWorkerContainer, type WorkerContainer } from '../../../lib/bench/worker-container';
import type { ConnectionSecret } from '../../../lib/config';
import { deliverBatch } from '../../../lib/local/sqs-poller';
import { startZohoSimulator, type ZohoSimulator } from '../../../lib/local/zoho-simulator';
import type { MetricsRecorder } from '../../../lib/observability';
import { createTestEnvironment, type TestEnvironment } from '../../helpers/local-environment';
import { drainQueue, peekMessages, queueDepth } from '../../helpers/queues';

const ORG_ID = '60040000001';
const CONNECTION_ID = 'throttled';
// A short window, so that the block after a 429 (window + twice the clock skew margin, 2.4 s)
// is a three-second SQS delay.
const WINDOW_SECONDS = 2;
const START = Date.parse('2035-02-19T10:00:00.000Z');
const BLOCK_MS = WINDOW_SECONDS * 1000 + 400;

describe('a 429 from Zoho within our budget', () => {
  let env: TestEnvironment;
  let simulator: ZohoSimulator;
  let nowMs = START;
  const now = () => nowMs;
  const metricPoints: string[] = [];
  const metrics: MetricsRecorder = { count: (name) => metricPoints.push(name) };
  let worker: WorkerContainer;
  const recordIds = backlogRecordIds('48720', 2);

  const drain = (container: WorkerContainer) =>
    drainQueue({
      sqs: env.clients.sqs,
      queueUrl: env.resources.syncQueueUrl,
      queueArn: env.resources.syncQueueArn,
      handler: container.handler,
    });
  const newContainer = () =>
    createWorkerContainer({ config: env.config, clients: env.clients, now, metrics });
  const enqueue = (ids: string[]) =>
    enqueueSyncMessages(
      env.clients.sqs,
      env.resources.syncQueueUrl,
      accountSyncMessages(CONNECTION_ID, ids, randomUUID, nowMs),
    );
  const orgStats = () => simulator.stats().organizations[ORG_ID];

  beforeAll(async () => {
    env = await createTestEnvironment();
    simulator = await startZohoSimulator({ now });
    const secret: ConnectionSecret = {
      dataCenter: 'com',
      accountsUrl: simulator.baseUrl,
      clientId: '1000.THROTTLED',
      clientSecret: 'throttled-client-secret',
      refreshToken: `1000.${'7'.repeat(32)}.${'8'.repeat(32)}`,
      booksOrganizationId: ORG_ID,
      plan: 'professional',
      webhookSecret: 'webhook-secret-for-throttled',
      rateLimit: { requests: 100, windowSeconds: WINDOW_SECONDS },
    };
    simulator.addClient({
      clientId: secret.clientId,
      clientSecret: secret.clientSecret,
      refreshToken: secret.refreshToken,
    });
    simulator.addOrganization({ organizationId: ORG_ID, windowSeconds: WINDOW_SECONDS });
    seedCrmAccounts(simulator, recordIds);
    await env.putConnection(CONNECTION_ID, secret);
    worker = newContainer();
  });

  afterAll(async () => {
    await simulator?.stop();
  });

  it('defers the message until the window has passed and counts the 429', async () => {
    // Another app spent the organization's minute: Zoho refuses although our count is at 0.
    simulator.injectFault({
      pathPattern: '^/books/v3/contacts',
      times: 1,
      response: {
        status: 429,
        body: { code: 44, message: 'Too many requests. Please try after some time.' },
      },
    });
    await enqueue([recordIds[0] ?? '']);

    await drain(worker);

    expect(orgStats()?.tooManyRequests).toBe(1);
    expect(simulator.books.contacts(ORG_ID)).toStrictEqual([]);
    expect(metricPoints).toContain('ZohoTooManyRequests');
    // Re-sent with a delay until the window has passed: in the queue, not yet visible.
    expect(await peekMessages(env.clients.sqs, env.resources.syncQueueUrl)).toStrictEqual([]);
    expect(await queueDepth(env.clients.sqs, env.resources.syncQueueUrl)).toBe(1);
  });

  it('blocks the budget for a whole window, in every container', async () => {
    const calls = orgStats()?.calls;
    const budget = await env.clients.dynamodb.send(
      new GetItemCommand({
        TableName: env.resources.tableName,
        Key: toKeyAttributes(tableKeys.orgBudget(ORG_ID)),
        ConsistentRead: true,
      }),
    );
    expect(budget.Item?.blockedUntilMs?.N).toBe(String(START + BLOCK_MS));

    // The same container knows it; a fresh one learns it from DynamoDB. Neither calls Zoho.
    await enqueue([recordIds[1] ?? '']);
    await drain(newContainer());
    expect(orgStats()?.calls).toBe(calls);
    expect(await queueDepth(env.clients.sqs, env.resources.syncQueueUrl)).toBe(2);
  });

  it('syncs both changes once the window has passed', async () => {
    nowMs = START + BLOCK_MS;
    // The deferrals were three-second SQS delays: wait for them on the queue, not on a timer.
    for (let round = 0; round < 5 && simulator.books.contacts(ORG_ID).length < 2; round += 1) {
      await deliverBatch({
        sqs: env.clients.sqs,
        queueUrl: env.resources.syncQueueUrl,
        queueArn: env.resources.syncQueueArn,
        handler: worker.handler,
        functionName: 'sync-worker',
        waitTimeSeconds: 2,
      });
    }
    expect(simulator.books.contacts(ORG_ID)).toHaveLength(2);
    expect(orgStats()?.tooManyRequests).toBe(1);
    expect(await queueDepth(env.clients.sqs, env.resources.deadLetterQueueUrl)).toBe(0);
  });
});
