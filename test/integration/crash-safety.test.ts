import { GetItemCommand, PutItemCommand } from '@aws-sdk/client-dynamodb';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { tableKeys, toKeyAttributes } from '../../lib/aws';
import { CONNECTION_ID, type Pipeline, startPipeline } from '../helpers/pipeline';
import { queueDepth } from '../helpers/queues';

const mappingKey = (crmRecordId: string) =>
  toKeyAttributes(tableKeys.recordMapping(CONNECTION_ID, 'Accounts', crmRecordId));

/**
 * "A crash at any line must not lose or duplicate a Books record": every Books write is an
 * upsert on the unique cf_crm_id field, so any replay lands on the same Books record.
 */
describe('crash safety', () => {
  let pipeline: Pipeline;

  beforeAll(async () => {
    pipeline = await startPipeline({
      // Short Zoho timeout and no backoff wait, so a lost response is retried within the test.
      extraEnv: { ZOHO_SYNC_ZOHO_TIMEOUT_MS: '400', ZOHO_SYNC_BACKOFF_BASE_SECONDS: '0' },
    });
  });

  afterAll(async () => {
    await pipeline?.stop();
  });

  it('keeps one contact when Books committed the write but its answer was lost', async () => {
    // Prepare: Books answers the upsert only after our client has given up waiting.
    pipeline.simulator.putCrmRecord('Accounts', { id: '1001', Account_Name: 'Lost Answer Ltd' });
    pipeline.simulator.injectFault({
      method: 'PUT',
      pathPattern: '^/books/v3/contacts$',
      times: 1,
      delayMs: 1500,
    });

    // Act
    expect((await pipeline.send('module=Accounts&id=1001')).statusCode).toBe(202);
    await pipeline.drain();

    // Assess: the timed-out attempt (answered late, after the retry) and the retry both
    // reached Books, which holds one contact.
    const upserts = () =>
      pipeline.simulator
        .stats()
        .requests.filter(
          (request) => request.method === 'PUT' && request.path === '/books/v3/contacts',
        );
    await vi.waitFor(() => expect(upserts()).toHaveLength(2), { timeout: 5000, interval: 100 });
    expect(pipeline.contactsFor('1001')).toHaveLength(1);
    const mapping = await pipeline.env.clients.dynamodb.send(
      new GetItemCommand({ TableName: pipeline.env.resources.tableName, Key: mappingKey('1001') }),
    );
    expect(mapping.Item?.booksId?.S).toBe(pipeline.contactsFor('1001')[0]?.contact_id);
  });

  it('keeps one contact when the same change is delivered twice at once', async () => {
    pipeline.simulator.putCrmRecord('Accounts', {
      id: '1002',
      Account_Name: 'Twice Delivered Ltd',
    });
    await Promise.all([
      pipeline.send('module=Accounts&id=1002'),
      pipeline.send('module=Accounts&id=1002'),
    ]);
    await pipeline.drain();
    expect(pipeline.contactsFor('1002')).toHaveLength(1);
  });

  it('finds the same contact again when the mapping write never happened', async () => {
    pipeline.simulator.putCrmRecord('Accounts', {
      id: '1003',
      Account_Name: 'Forgotten Mapping Ltd',
    });
    await pipeline.send('module=Accounts&id=1003');
    await pipeline.drain();
    const [created] = pipeline.contactsFor('1003');
    // As if the worker died between the Books write and the mapping write.
    await pipeline.forgetMapping('Accounts', '1003');

    pipeline.simulator.putCrmRecord('Accounts', {
      id: '1003',
      Account_Name: 'Remembered Mapping Ltd',
    });
    await pipeline.send('module=Accounts&id=1003');
    await pipeline.drain();

    expect(pipeline.contactsFor('1003')).toStrictEqual([
      expect.objectContaining({
        contact_id: created?.contact_id,
        contact_name: 'Remembered Mapping Ltd',
      }),
    ]);
    expect(await queueDepth(pipeline.env.clients.sqs, pipeline.env.resources.syncQueueUrl)).toBe(0);
  });

  it('re-links the CRM record when its mapped Books record was deleted in Books', async () => {
    // Prepare: a mapping that points at a Books contact that no longer exists.
    pipeline.simulator.putCrmRecord('Accounts', {
      id: '1004',
      Account_Name: 'Deleted In Books Ltd',
    });
    await pipeline.env.clients.dynamodb.send(
      new PutItemCommand({
        TableName: pipeline.env.resources.tableName,
        Item: {
          ...mappingKey('1004'),
          booksEntity: { S: 'contacts' },
          booksId: { S: '1795622930899999999' },
          syncedAtMs: { N: '1' },
        },
      }),
    );

    await pipeline.send('module=Accounts&id=1004');
    await pipeline.drain();

    const [relinked] = pipeline.contactsFor('1004');
    expect(relinked?.contact_name).toBe('Deleted In Books Ltd');
    const mapping = await pipeline.env.clients.dynamodb.send(
      new GetItemCommand({ TableName: pipeline.env.resources.tableName, Key: mappingKey('1004') }),
    );
    expect(mapping.Item?.booksId?.S).toBe(relinked?.contact_id);
  });
});
