import { randomUUID } from 'node:crypto';
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
import { noMetrics } from '../../../lib/observability';
import { createTestEnvironment, type TestEnvironment } from '../../helpers/local-environment';
import { drainQueue, queueDepth } from '../../helpers/queues';

const ORG_ID = '60040000021';
const CONNECTION_ID = 'governed-batch-read';
const START = Date.parse('2035-02-19T11:00:00.000Z');

/**
 * The batch's `ids=` CRM read is governed by the Books budget: it is made by the first record
 * that holds its permit, never for a batch whose work cannot reach Books now, even in a
 * container that has not yet seen the spent budget.
 */
describe('the batch CRM read under the request budget', () => {
  let env: TestEnvironment;
  let simulator: ZohoSimulator;
  const now = () => START;
  const recordIds = backlogRecordIds('48731', 10);

  const drain = (container: WorkerContainer) =>
    drainQueue({
      sqs: env.clients.sqs,
      queueUrl: env.resources.syncQueueUrl,
      queueArn: env.resources.syncQueueArn,
      handler: container.handler,
    });
  const newContainer = () =>
    createWorkerContainer({ config: env.config, clients: env.clients, now, metrics: noMetrics });
  const enqueue = (ids: string[]) =>
    enqueueSyncMessages(
      env.clients.sqs,
      env.resources.syncQueueUrl,
      accountSyncMessages(CONNECTION_ID, ids, randomUUID, START),
    );
  const calls = (api: 'crm' | 'books') =>
    simulator.stats().requests.filter((entry) => entry.path.startsWith(`/${api}/`)).length;

  beforeAll(async () => {
    env = await createTestEnvironment();
    simulator = await startZohoSimulator({ now });
    const secret: ConnectionSecret = {
      dataCenter: 'com',
      accountsUrl: simulator.baseUrl,
      clientId: '1000.GOVERNEDREAD',
      clientSecret: 'governed-read-client-secret',
      refreshToken: `1000.${'5'.repeat(32)}.${'6'.repeat(32)}`,
      booksOrganizationId: ORG_ID,
      plan: 'professional',
      webhookSecret: 'webhook-secret-for-governed-read',
      rateLimit: { requests: 3, windowSeconds: 60 },
    };
    simulator.addClient({
      clientId: secret.clientId,
      clientSecret: secret.clientSecret,
      refreshToken: secret.refreshToken,
    });
    simulator.addOrganization({ organizationId: ORG_ID, requestsPerWindow: 3, windowSeconds: 60 });
    seedCrmAccounts(simulator, recordIds);
    await env.putConnection(CONNECTION_ID, secret);
  });

  afterAll(async () => {
    await simulator?.stop();
  });

  it('reads a batch in one call once a record holds its permit', async () => {
    await enqueue(recordIds.slice(0, 5));

    await drain(newContainer());

    // Three of five fit the window; one ids= read served them.
    expect(simulator.books.contacts(ORG_ID)).toHaveLength(3);
    expect(calls('crm')).toBe(1);
    expect(await queueDepth(env.clients.sqs, env.resources.syncQueueUrl)).toBe(2);
  });

  it('makes no CRM read for a batch that cannot reach Books, in a container new to the budget', async () => {
    const crmBefore = calls('crm');
    const booksBefore = calls('books');
    await enqueue(recordIds.slice(5));

    // A fresh container knows nothing of the spent window until the shared item tells it.
    await drain(newContainer());

    expect(calls('crm')).toBe(crmBefore);
    expect(calls('books')).toBe(booksBefore);
    expect(await queueDepth(env.clients.sqs, env.resources.syncQueueUrl)).toBe(7);
  });
});
