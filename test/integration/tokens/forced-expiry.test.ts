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
import { logger, noMetrics } from '../../../lib/observability';
import { createTestEnvironment, type TestEnvironment } from '../../helpers/local-environment';

const ORG_ID = '60050000001';
const CONNECTION_ID = 'expiry';
const CONTAINERS = 12;
const MAX_CONCURRENCY = 5;
const CHANGES = 60;

/**
 * An expired token costs little: when Zoho rejects the access token every container holds,
 * the first rejection is shared (a fingerprint in DynamoDB) and the other containers stop
 * using the token at once instead of each learning it from its own 401.
 */
describe('a forced expiry of the access token with several containers', () => {
  let env: TestEnvironment;
  let simulator: ZohoSimulator;
  const pollers: SqsPoller[] = [];

  beforeAll(async () => {
    env = await createTestEnvironment();
    logger.setLogLevel('ERROR');
    simulator = await startZohoSimulator({ latencyMs: 30 });
    const secret: ConnectionSecret = {
      dataCenter: 'com',
      accountsUrl: simulator.baseUrl,
      clientId: '1000.FORCEDEXPIRY',
      clientSecret: 'forced-expiry-client-secret',
      refreshToken: `1000.${'5'.repeat(32)}.${'6'.repeat(32)}`,
      booksOrganizationId: ORG_ID,
      plan: 'professional',
      maxConcurrency: MAX_CONCURRENCY,
      webhookSecret: 'webhook-secret-for-forced-expiry',
    };
    simulator.addClient({
      clientId: secret.clientId,
      clientSecret: secret.clientSecret,
      refreshToken: secret.refreshToken,
    });
    simulator.addOrganization({ organizationId: ORG_ID, dailyLimit: 100_000 });
    await env.putConnection(CONNECTION_ID, secret);
  });

  afterAll(async () => {
    await Promise.all(pollers.map((poller) => poller.stop()));
    await simulator?.stop();
  });

  it(`costs at most maxConcurrency (${MAX_CONCURRENCY}) rejected calls, CRM and Books together, and syncs every change`, async () => {
    // Prepare: every container warm, holding the same access token.
    const recordIds = backlogRecordIds('48750', CHANGES);
    seedCrmAccounts(simulator, recordIds);
    for (let index = 0; index < CONTAINERS; index += 1) {
      const container = createWorkerContainer({
        config: env.config,
        clients: createAwsClients({ region: 'us-east-1' }),
        metrics: noMetrics,
        logger,
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
    await enqueueSyncMessages(
      env.clients.sqs,
      env.resources.syncQueueUrl,
      accountSyncMessages(CONNECTION_ID, recordIds, randomUUID, Date.now()),
    );
    const contacts = () => simulator.books.contacts(ORG_ID).length;
    const waitFor = async (done: () => boolean, ms: number) => {
      const deadline = Date.now() + ms;
      while (!done() && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
    };
    await waitFor(() => contacts() >= CHANGES / 3, 30_000);
    expect(contacts()).toBeGreaterThanOrEqual(CHANGES / 3);

    // Act: Zoho expires the token while the backlog drains.
    const before = simulator.stats().requests.length;
    simulator.expireAccessTokens();
    await waitFor(() => contacts() >= CHANGES, 40_000);
    await Promise.all(pollers.map((poller) => poller.stop()));

    // Assess
    const after = simulator.stats().requests.slice(before);
    const rejected = after.filter((request) => request.status === 401);
    const refreshes = after.filter((request) => request.path === '/oauth/v2/token');
    console.info(
      `forced expiry with ${CONTAINERS} containers: ${rejected.length} x 401 ` +
        `(${rejected.filter((r) => r.path.startsWith('/books/')).length} Books, ` +
        `${rejected.filter((r) => r.path.startsWith('/crm/')).length} CRM), ` +
        `${refreshes.length} refresh(es)`,
    );
    expect(contacts()).toBe(CHANGES);
    // Only the calls in flight when the token died are refused, and CRM reads count as much as
    // Books calls: a sync takes its Books permit (an in-flight place) before its CRM read
    // (lib/limits/reserved-permit.ts), so CRM and Books calls of the organization together stay
    // within maxConcurrency, and a container checks the shared rejection marker before every
    // call, so none starts with the dead token afterwards. The goal counts every 401.
    expect(rejected.length).toBeGreaterThan(0);
    expect(rejected.length).toBeLessThanOrEqual(MAX_CONCURRENCY);
    expect(refreshes).toHaveLength(1);
  });
});
