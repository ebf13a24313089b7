import { setTimeout as sleep } from 'node:timers/promises';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { deliverBatch } from '../../lib/local/sqs-poller';
import { type Pipeline, startPipeline } from '../helpers/pipeline';
import { queueDepth } from '../helpers/queues';

/**
 * Where Books does not offer the unique-field upsert (`PUT /contacts` answering 405 "Invalid
 * URL"), the worker searches by cf_crm_id and then updates or creates: still one record.
 */
describe('sync without the unique-field upsert endpoint', () => {
  let pipeline: Pipeline;

  beforeAll(async () => {
    pipeline = await startPipeline();
    pipeline.simulator.injectFault({
      method: 'PUT',
      pathPattern: '^/books/v3/contacts$',
      response: { status: 405, body: { code: 5, message: 'Invalid URL Passed' } },
    });
  });

  afterAll(async () => {
    await pipeline?.stop();
  });

  const requests = (method: string, path: string) =>
    pipeline.simulator
      .stats()
      .requests.filter((request) => request.method === method && request.path === path);

  it('creates the contact after searching by CRM id', async () => {
    pipeline.simulator.putCrmRecord('Accounts', { id: '2001', Account_Name: 'No Upsert Ltd' });
    await pipeline.send('module=Accounts&id=2001');
    await pipeline.drain();
    expect(pipeline.contactsFor('2001')).toHaveLength(1);
    expect(requests('POST', '/books/v3/contacts')).toHaveLength(1);
    expect(requests('GET', '/books/v3/contacts')).toHaveLength(1);
  });

  it('finds and updates the same contact when the mapping is lost', async () => {
    const [created] = pipeline.contactsFor('2001');
    await pipeline.forgetMapping('Accounts', '2001');
    pipeline.simulator.putCrmRecord('Accounts', {
      id: '2001',
      Account_Name: 'No Upsert Ltd (renamed)',
    });
    await pipeline.send('module=Accounts&id=2001');
    await pipeline.drain();
    expect(pipeline.contactsFor('2001')).toStrictEqual([
      expect.objectContaining({
        contact_id: created?.contact_id,
        contact_name: 'No Upsert Ltd (renamed)',
      }),
    ]);
    expect(requests('POST', '/books/v3/contacts')).toHaveLength(1);
  });

  it('creates one record when two deliveries of one new record run at once', async () => {
    pipeline.simulator.putCrmRecord('Accounts', { id: '2002', Account_Name: 'Raced Ltd' });
    await pipeline.send('module=Accounts&id=2002');
    await pipeline.send('module=Accounts&id=2002');
    const creates = requests('POST', '/books/v3/contacts').length;

    // Two workers, one message each, at the same time: both would search, find nothing and
    // create, were it not for the record's lease.
    const deliver = () =>
      deliverBatch({
        sqs: pipeline.env.clients.sqs,
        queueUrl: pipeline.env.resources.syncQueueUrl,
        queueArn: pipeline.env.resources.syncQueueArn,
        handler: (event, context) => pipeline.worker(event, context),
        functionName: 'sync-worker',
        batchSize: 1,
        waitTimeSeconds: 0,
      });
    expect(await Promise.all([deliver(), deliver()])).toStrictEqual([1, 1]);
    // The loser was deferred for a second or so; let it run.
    for (let round = 0; round < 40; round += 1) {
      await pipeline.drain();
      const depth = await queueDepth(pipeline.env.clients.sqs, pipeline.env.resources.syncQueueUrl);
      if (depth === 0) break;
      await sleep(250);
    }

    expect(pipeline.contactsFor('2002')).toHaveLength(1);
    expect(requests('POST', '/books/v3/contacts').length - creates).toBe(1);
  });
});
