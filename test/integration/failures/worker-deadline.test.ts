import { setTimeout } from 'node:timers/promises';
import type { Context } from 'aws-lambda';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { deliverBatch } from '../../../lib/local/sqs-poller';
import { ORG_ID, type Pipeline, startPipeline } from '../../helpers/pipeline';
import { peekMessages, queueDepth } from '../../helpers/queues';

const FIRST = '4876876000000345101';
const SECOND = '4876876000000345102';

/**
 * The worker knows its deadline: functions/sync-worker.ts hands the Lambda context's remaining
 * time to the outcome handler, which defers work that could not finish before the timeout
 * instead of letting Lambda kill it half-way through the batch.
 */
describe('the worker near its Lambda timeout', () => {
  let pipeline: Pipeline;

  const calls = (path: RegExp) =>
    pipeline.simulator.stats().requests.filter((request) => path.test(request.path)).length;
  const booksCalls = () => calls(/^\/books\//);
  const crmCalls = () => calls(/^\/crm\//);

  /** The sync queue's messages once a deferral's one-second delay has passed. */
  const deferredMessages = async () => {
    await setTimeout(1_100);
    return peekMessages(pipeline.env.clients.sqs, pipeline.env.resources.syncQueueUrl);
  };

  /** Invokes the real worker once, on one batch, with this remaining-time clock. */
  const invokeOnce = (remainingTimeMs: () => number) =>
    deliverBatch({
      sqs: pipeline.env.clients.sqs,
      queueUrl: pipeline.env.resources.syncQueueUrl,
      queueArn: pipeline.env.resources.syncQueueArn,
      functionName: 'sync-worker',
      handler: (event, context) =>
        pipeline.worker(event, {
          ...context,
          getRemainingTimeInMillis: remainingTimeMs,
        } satisfies Context),
    });

  beforeAll(async () => {
    pipeline = await startPipeline();
    for (const id of [FIRST, SECOND]) {
      pipeline.simulator.putCrmRecord('Accounts', {
        id,
        Account_Name: `Account ${id}`,
        Billing_City: 'Austin',
      });
    }
  });

  afterAll(async () => {
    await pipeline?.stop();
  });

  it('defers a record whose Books write would outlast the invocation, and syncs it on the next', async () => {
    // Prepare: a minute left when the invocation starts; after the CRM read only 12 s, less
    // than one Zoho call (10 s) plus the deferral needs.
    expect((await pipeline.send(`module=Accounts&id=${FIRST}`)).statusCode).toBe(202);
    const crmBefore = crmCalls();
    const remaining = () => (crmCalls() > crmBefore ? 12_000 : 60_000);

    // Act
    expect(await invokeOnce(remaining)).toBe(1);

    // Assess: read from CRM, nothing written to Books, and the message is back on the queue
    // (deferred, so the batch reported no failure and SQS will not count a receive).
    expect(crmCalls()).toBeGreaterThan(crmBefore);
    expect(booksCalls()).toBe(0);
    expect(await deferredMessages()).toMatchObject([{ crmRecordId: FIRST, deferrals: 1 }]);

    // Act: the next invocation has time.
    await pipeline.drain();

    // Assess
    expect(pipeline.contactsFor(FIRST)).toHaveLength(1);
    expect(await queueDepth(pipeline.env.clients.sqs, pipeline.env.resources.syncQueueUrl)).toBe(0);
  });

  it('still syncs when the whole Lambda timeout is shorter than two reserves', async () => {
    // A worker configured with an 8 s timeout: less than one Zoho call plus the deferral
    // (15 s) from the start. Deferring would repeat for ever; it keeps half its time instead.
    expect((await pipeline.send(`module=Accounts&id=${SECOND}`)).statusCode).toBe(202);

    expect(await invokeOnce(() => 8_000)).toBe(1);

    expect(pipeline.contactsFor(SECOND)).toHaveLength(1);
    expect(pipeline.simulator.books.contacts(ORG_ID)).toHaveLength(2);
    expect(await queueDepth(pipeline.env.clients.sqs, pipeline.env.resources.syncQueueUrl)).toBe(0);
  });
});
