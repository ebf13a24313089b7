import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createAwsClients } from '../../../lib/aws';
import {
  accountSyncMessages,
  backlogRecordIds,
  enqueueSyncMessages,
  seedCrmAccounts,
} from '../../../lib/bench/sync-backlog';
import { createWorkerContainer } from '../../../lib/bench/worker-container';
import type { ConnectionSecret } from '../../../lib/config';
import { type SqsPoller, startSqsPoller } from '../../../lib/local/sqs-poller';
import { startZohoSimulator, type ZohoSimulator } from '../../../lib/local/zoho-simulator';
import { noMetrics } from '../../../lib/observability';
import { createTestEnvironment, type TestEnvironment } from '../../helpers/local-environment';
import { queueDepth } from '../../helpers/queues';

const ORG_ID = '60020000001';
const CONNECTION_ID = 'twenty';
const WORKERS = 20;
// Small enough for DynamoDB Local on a loaded machine, large enough to span several windows.
const BUDGET = 25;
const WINDOW_SECONDS = 4;
const CHANGES = 80;

describe('request budget with 20 concurrent workers', () => {
  let env: TestEnvironment;
  let simulator: ZohoSimulator;
  const pollers: SqsPoller[] = [];

  beforeAll(async () => {
    env = await createTestEnvironment();
    simulator = await startZohoSimulator({ latencyMs: 20 });
    const secret: ConnectionSecret = {
      dataCenter: 'com',
      accountsUrl: simulator.baseUrl,
      clientId: '1000.TWENTYWORKERS',
      clientSecret: 'twenty-workers-client-secret',
      refreshToken: `1000.${'3'.repeat(32)}.${'4'.repeat(32)}`,
      booksOrganizationId: ORG_ID,
      plan: 'professional',
      rateLimit: { requests: BUDGET, windowSeconds: WINDOW_SECONDS },
      maxConcurrency: 5,
      webhookSecret: 'webhook-secret-for-twenty-workers',
    };
    simulator.addClient({
      clientId: secret.clientId,
      clientSecret: secret.clientSecret,
      refreshToken: secret.refreshToken,
    });
    // Zoho's own limits, which the simulator enforces with 429s: the same budget per window,
    // counted as a sliding window (the strictest reading of "per minute").
    simulator.addOrganization({
      organizationId: ORG_ID,
      requestsPerWindow: BUDGET,
      windowSeconds: WINDOW_SECONDS,
      maxConcurrency: 10,
      minute: { kind: 'sliding' },
    });
    await env.putConnection(CONNECTION_ID, secret);
  });

  afterAll(async () => {
    await Promise.all(pollers.map((poller) => poller.stop()));
    await simulator?.stop();
  });

  it('never lets a window exceed the budget, and syncs every change', async () => {
    // Prepare: a backlog of 80 changes, more than three windows' budget.
    const recordIds = backlogRecordIds('48700', CHANGES);
    seedCrmAccounts(simulator, recordIds);
    await enqueueSyncMessages(
      env.clients.sqs,
      env.resources.syncQueueUrl,
      accountSyncMessages(CONNECTION_ID, recordIds, randomUUID, Date.now()),
    );

    // Act: 20 containers, each with its own limiter, token cache and clients, polling at once.
    for (let worker = 0; worker < WORKERS; worker += 1) {
      const container = createWorkerContainer({
        config: env.config,
        clients: createAwsClients({ region: 'us-east-1' }),
        metrics: noMetrics,
      });
      pollers.push(
        startSqsPoller({
          sqs: env.clients.sqs,
          queueUrl: env.resources.syncQueueUrl,
          queueArn: env.resources.syncQueueArn,
          handler: container.handler,
          functionName: 'sync-worker',
          batchSize: 5,
          maxConcurrency: 1,
          waitTimeSeconds: 1,
        }),
      );
    }
    const deadline = Date.now() + 60_000;
    while (simulator.books.contacts(ORG_ID).length < CHANGES && Date.now() < deadline) {
      await new Promise((resolve) => setTimeout(resolve, 200));
    }
    await Promise.all(pollers.map((poller) => poller.stop()));

    // Assess: Zoho's own count (the simulator's) never went over the budget in any window.
    const stats = simulator.stats().organizations[ORG_ID];
    expect(simulator.books.contacts(ORG_ID)).toHaveLength(CHANGES);
    expect(stats?.tooManyRequests).toBe(0);
    expect(stats?.maxCallsInAnySpan).toBeLessThanOrEqual(BUDGET);
    expect(stats?.maxInFlightObserved).toBeLessThanOrEqual(5);
    // The backlog really spanned several windows (80 changes > 3 windows of 25).
    expect(stats?.windows.length).toBeGreaterThanOrEqual(4);
    expect(await queueDepth(env.clients.sqs, env.resources.deadLetterQueueUrl)).toBe(0);
  });
});
