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
import { deliverBatch } from '../../../lib/local/sqs-poller';
import { startZohoSimulator, type ZohoSimulator } from '../../../lib/local/zoho-simulator';
import { noMetrics } from '../../../lib/observability';
import type { SyncMessage } from '../../../lib/sync';
import { createTestEnvironment, type TestEnvironment } from '../../helpers/local-environment';
import { queueDepth } from '../../helpers/queues';

const ORG_ID = '60050000001';
const CONNECTION_ID = 'backlog';
const CHANGES = 8;
const BUDGET = 2;
// A short window, so that every deferral (until a slot frees: 2 s + margins, plus jitter, in the
// next turn of the slots or the one after) is an SQS delay of a few seconds while the clock
// stands still.
const WINDOW_SECONDS = 2;
const SLOT_REUSE_MS = WINDOW_SECONDS * 1000 + 400;
const START = Date.parse('2035-02-19T10:00:00.000Z');

describe('deferred messages and the dead-letter queue', () => {
  let env: TestEnvironment;
  let simulator: ZohoSimulator;
  let nowMs = START;
  const now = () => nowMs;
  let worker: WorkerContainer;
  const deferralsSeen = new Map<string, number>();

  /** One long-polled round: waits for the delayed messages to come back and delivers them. */
  const deliverRound = async (): Promise<number> => {
    let delivered = 0;
    for (;;) {
      const count = await deliverBatch({
        sqs: env.clients.sqs,
        queueUrl: env.resources.syncQueueUrl,
        queueArn: env.resources.syncQueueArn,
        functionName: 'sync-worker',
        // Long enough for a deferral booked into the turn after next (up to 6 s).
        waitTimeSeconds: delivered === 0 ? 8 : 0,
        handler: (event, context) => {
          for (const record of event.Records) {
            const message = JSON.parse(record.body) as SyncMessage;
            deferralsSeen.set(message.crmRecordId, message.deferrals);
          }
          return worker.handler(event, context);
        },
      });
      if (count === 0) return delivered;
      delivered += count;
    }
  };

  beforeAll(async () => {
    // A redrive policy as strict as it gets: a message received twice would be dead-lettered.
    env = await createTestEnvironment({ maxReceiveCount: 1 });
    simulator = await startZohoSimulator({ now });
    const secret: ConnectionSecret = {
      dataCenter: 'com',
      accountsUrl: simulator.baseUrl,
      clientId: '1000.BACKLOG',
      clientSecret: 'backlog-client-secret',
      refreshToken: `1000.${'9'.repeat(32)}.${'a'.repeat(32)}`,
      booksOrganizationId: ORG_ID,
      plan: 'professional',
      rateLimit: { requests: BUDGET, windowSeconds: WINDOW_SECONDS },
      webhookSecret: 'webhook-secret-for-backlog',
    };
    simulator.addClient({
      clientId: secret.clientId,
      clientSecret: secret.clientSecret,
      refreshToken: secret.refreshToken,
    });
    simulator.addOrganization({ organizationId: ORG_ID, windowSeconds: WINDOW_SECONDS });
    await env.putConnection(CONNECTION_ID, secret);
    worker = createWorkerContainer({
      config: env.config,
      clients: env.clients,
      now,
      metrics: noMetrics,
    });
  });

  afterAll(async () => {
    await simulator?.stop();
  });

  it('never dead-letters a message however often it is deferred', async () => {
    const recordIds = backlogRecordIds('48730', CHANGES);
    seedCrmAccounts(simulator, recordIds);
    await enqueueSyncMessages(
      env.clients.sqs,
      env.resources.syncQueueUrl,
      accountSyncMessages(CONNECTION_ID, recordIds, randomUUID, nowMs),
    );

    // The window's budget (2) is spent by the first delivery; the other six messages are
    // deferred again and again while the clock stands still. Deliver until each has come back at
    // least twice (how many per round depends on SQS delay timing, so no exact counts): with
    // maxReceiveCount 1 any re-receive of the same message would be dead-lettered.
    const deferredEnough = () =>
      [...deferralsSeen.values()].filter((deferrals) => deferrals >= 2).length >= CHANGES - BUDGET;
    for (let round = 0; round < 20 && !deferredEnough(); round += 1) {
      await deliverRound();
      expect(await queueDepth(env.clients.sqs, env.resources.deadLetterQueueUrl)).toBe(0);
    }
    expect(deferredEnough()).toBe(true);
    expect(simulator.books.contacts(ORG_ID)).toHaveLength(BUDGET);
    expect(await queueDepth(env.clients.sqs, env.resources.deadLetterQueueUrl)).toBe(0);
    expect(await queueDepth(env.clients.sqs, env.resources.syncQueueUrl)).toBe(CHANGES - BUDGET);
  });

  it('drains the backlog window by window once time moves on', async () => {
    for (
      let round = 0;
      round < 5 && simulator.books.contacts(ORG_ID).length < CHANGES;
      round += 1
    ) {
      nowMs += SLOT_REUSE_MS; // the slots have freed
      await deliverRound();
    }
    expect(simulator.books.contacts(ORG_ID)).toHaveLength(CHANGES);
    expect(simulator.stats().organizations[ORG_ID]?.tooManyRequests).toBe(0);
    expect(await queueDepth(env.clients.sqs, env.resources.syncQueueUrl)).toBe(0);
    expect(await queueDepth(env.clients.sqs, env.resources.deadLetterQueueUrl)).toBe(0);
  });
});
