import {
  DeleteMessageBatchCommand,
  ReceiveMessageCommand,
  type SQSClient,
} from '@aws-sdk/client-sqs';
import type { ScheduledEvent } from 'aws-lambda';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  createReconcileCursorStore,
  createReconcileSweepDeps,
  reconcileSweep,
} from '../../../lib/reconcile';
import type { SyncMessage } from '../../../lib/sync';
import { lambdaContext } from '../../helpers/events';
import { CONNECTION_ID, ORG_ID, type Pipeline, startPipeline } from '../../helpers/pipeline';

const HOUR = 3_600_000;

type SweepHandler = typeof import('../../../functions/reconcile-sweep')['handler'];

const scheduledEvent = (): ScheduledEvent => ({
  version: '0',
  id: 'reconcile-sweep-test',
  'detail-type': 'Scheduled Event',
  source: 'aws.events',
  account: '000000000000',
  time: new Date().toISOString(),
  region: 'us-east-1',
  resources: [],
  detail: {},
});

/** CRM's format: whole seconds, coloned offset. */
const crmTime = (ms: number) => `${new Date(ms).toISOString().slice(0, 19)}+00:00`;

/** Receives and deletes every message on the queue, oldest first as far as SQS tells. */
const takeMessages = async (sqs: SQSClient, queueUrl: string): Promise<SyncMessage[]> => {
  const taken: SyncMessage[] = [];
  for (;;) {
    const { Messages = [] } = await sqs.send(
      new ReceiveMessageCommand({
        QueueUrl: queueUrl,
        MaxNumberOfMessages: 10,
        WaitTimeSeconds: 0,
      }),
    );
    if (Messages.length === 0) return taken;
    taken.push(...Messages.map((message) => JSON.parse(message.Body ?? '{}') as SyncMessage));
    await sqs.send(
      new DeleteMessageBatchCommand({
        QueueUrl: queueUrl,
        Entries: Messages.map((message, index) => ({
          Id: String(index),
          ReceiptHandle: message.ReceiptHandle ?? '',
        })),
      }),
    );
  }
};

describe('reconcile-sweep (scheduled)', () => {
  let pipeline: Pipeline;
  let handler: SweepHandler;
  const run = () => handler(scheduledEvent(), lambdaContext('reconcile-sweep'));
  const taken = () => takeMessages(pipeline.env.clients.sqs, pipeline.env.resources.syncQueueUrl);
  const cursors = () =>
    createReconcileCursorStore({
      dynamodb: pipeline.env.clients.dynamodb,
      tableName: pipeline.env.resources.tableName,
      now: Date.now,
    });
  let startMs: number;

  beforeAll(async () => {
    pipeline = await startPipeline();
    handler = (await import('../../../functions/reconcile-sweep')).handler;
    startMs = Math.floor(Date.now() / 1000) * 1000;
    const { simulator } = pipeline;
    // Changed within the first run's look-back (a day), oldest first...
    simulator.putCrmRecord('Accounts', {
      id: '4876876000000500002',
      Account_Name: 'Two hours ago',
      Modified_Time: crmTime(startMs - 2 * HOUR),
    });
    simulator.putCrmRecord('Accounts', {
      id: '4876876000000500001',
      Account_Name: 'Half an hour ago',
      Modified_Time: crmTime(startMs - HOUR / 2),
    });
    simulator.putCrmRecord('Contacts', {
      id: '4876876000000500101',
      Last_Name: 'An hour ago',
      Modified_Time: crmTime(startMs - HOUR),
    });
    // ...and before it.
    simulator.putCrmRecord('Accounts', {
      id: '4876876000000500003',
      Account_Name: 'Three days ago',
      Modified_Time: crmTime(startMs - 72 * HOUR),
    });
  });

  afterAll(async () => {
    await pipeline?.stop();
  });

  it('enqueues every record modified within the look-back and saves a cursor per module', async () => {
    const summary = await run();

    const messages = await taken();
    expect(summary).toMatchObject({ enqueued: 3, failed: 0 });
    expect(messages.map((m) => [m.crmModule, m.crmRecordId])).toStrictEqual(
      expect.arrayContaining([
        ['Accounts', '4876876000000500002'],
        ['Accounts', '4876876000000500001'],
        ['Contacts', '4876876000000500101'],
      ]),
    );
    expect(messages).toHaveLength(3);
    for (const message of messages) {
      expect(message).toMatchObject({
        version: 1,
        connectionId: CONNECTION_ID,
        source: 'reconciliation',
        attempt: 0,
      });
    }
    expect(await cursors().get(CONNECTION_ID, 'Accounts')).toStrictEqual({
      modifiedAtMs: startMs - HOUR / 2,
      idsAtCursor: ['4876876000000500001'],
    });
    expect(await cursors().get(CONNECTION_ID, 'Contacts')).toStrictEqual({
      modifiedAtMs: startMs - HOUR,
      idsAtCursor: ['4876876000000500101'],
    });
    expect(await cursors().get(CONNECTION_ID, 'Products')).toBeUndefined();
  });

  it('enqueues nothing again on the next run', async () => {
    const summary = await run();

    expect(summary.enqueued).toBe(0);
    expect(await taken()).toStrictEqual([]);
  });

  it('enqueues only what changed since, including a change in the same second as the cursor', async () => {
    pipeline.simulator.putCrmRecord('Accounts', {
      id: '4876876000000500004',
      Account_Name: 'Same second as the cursor',
      Modified_Time: crmTime(startMs - HOUR / 2),
    });
    pipeline.simulator.putCrmRecord('Accounts', {
      id: '4876876000000500002',
      Account_Name: 'Two hours ago, edited now',
      Modified_Time: crmTime(startMs),
    });

    const summary = await run();

    expect(summary.enqueued).toBe(2);
    expect((await taken()).map((m) => m.crmRecordId).sort()).toStrictEqual([
      '4876876000000500002',
      '4876876000000500004',
    ]);
    expect(await cursors().get(CONNECTION_ID, 'Accounts')).toStrictEqual({
      modifiedAtMs: startMs,
      idsAtCursor: ['4876876000000500002'],
    });
  });

  it('syncs what it enqueued into Books through the worker', async () => {
    pipeline.simulator.putCrmRecord('Accounts', {
      id: '4876876000000500005',
      Account_Name: 'Missed Webhook Ltd',
      Modified_Time: crmTime(startMs + 1000),
    });

    await run();

    expect(await pipeline.drain()).toBe(1);
    expect(pipeline.simulator.books.contacts(ORG_ID)).toMatchObject([
      { contact_name: 'Missed Webhook Ltd', cf_crm_id: '4876876000000500005' },
    ]);
  });

  it('reads at most maxPages pages per run and goes on from the cursor next time', async () => {
    const productId = (i: number) => `48768760000005002${String(i).padStart(2, '0')}`;
    for (let i = 1; i <= 7; i += 1) {
      pipeline.simulator.putCrmRecord('Products', {
        id: productId(i),
        Product_Name: `Product ${i}`,
        Modified_Time: crmTime(startMs - (10 - i) * 60_000),
      });
    }
    const deps = {
      ...createReconcileSweepDeps({ config: pipeline.env.config, clients: pipeline.env.clients }),
      modules: ['Products'] as const,
      maxPages: 1,
      perPage: 3,
    };

    const runs = [];
    for (let i = 0; i < 3; i += 1) {
      const summary = await reconcileSweep(deps);
      const [result] = summary.results;
      runs.push({
        more: result?.status === 'swept' && result.more,
        ids: (await taken()).map((m) => m.crmRecordId).sort(),
      });
    }

    // Each page starts at the cursor's second again, so the record already sent there takes one
    // place of the page and is skipped.
    expect(runs).toStrictEqual([
      { more: true, ids: [productId(1), productId(2), productId(3)] },
      { more: true, ids: [productId(4), productId(5)] },
      { more: false, ids: [productId(6), productId(7)] },
    ]);
  });

  it('keeps sweeping the other modules when one fails, and catches up on the next run', async () => {
    const faultId = pipeline.simulator.injectFault({
      method: 'GET',
      pathPattern: '^/crm/v8/Contacts$',
      response: {
        status: 500,
        body: {
          code: 'INTERNAL_ERROR',
          details: {},
          message: 'Internal server error occurred.',
          status: 'error',
        },
      },
    });
    pipeline.simulator.putCrmRecord('Contacts', {
      id: '4876876000000500102',
      Last_Name: 'Changed while CRM failed',
      Modified_Time: crmTime(startMs + 2000),
    });
    pipeline.simulator.putCrmRecord('Deals', {
      id: '4876876000000500301',
      Deal_Name: 'Changed meanwhile',
      Modified_Time: crmTime(startMs + 2000),
    });

    const failing = await run();
    const duringFault = await taken();
    pipeline.simulator.removeFault(faultId);
    const recovered = await run();

    expect(failing.failed).toBe(1);
    expect(failing.results.filter((result) => result.status === 'failed')).toMatchObject([
      { crmModule: 'Contacts', entryId: 'crm-internal-error', action: 'backoff' },
    ]);
    expect(duringFault.map((m) => [m.crmModule, m.crmRecordId])).toStrictEqual([
      ['Deals', '4876876000000500301'],
    ]);
    expect(recovered).toMatchObject({ enqueued: 1, failed: 0 });
    expect((await taken()).map((m) => [m.crmModule, m.crmRecordId])).toStrictEqual([
      ['Contacts', '4876876000000500102'],
    ]);
  });
});
