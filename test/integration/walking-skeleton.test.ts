import { GetItemCommand } from '@aws-sdk/client-dynamodb';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { tableKeys, toKeyAttributes } from '../../lib/aws';
import { lambdaContext, webhookEvent } from '../helpers/events';
import { ORG_ID, type Pipeline, startPipeline, WEBHOOK_SECRET } from '../helpers/pipeline';
import { queueDepth } from '../helpers/queues';

const ACCOUNT_ID = '4876876000000345001';

describe('walking skeleton: webhook -> SQS -> worker -> Zoho Books', () => {
  let pipeline: Pipeline;
  let env: Pipeline['env'];
  let simulator: Pipeline['simulator'];
  let webhook: Pipeline['webhook'];
  let send: Pipeline['send'];
  let drain: Pipeline['drain'];

  beforeAll(async () => {
    pipeline = await startPipeline();
    ({ env, simulator, webhook, send, drain } = pipeline);
    simulator.putCrmRecord('Accounts', {
      id: ACCOUNT_ID,
      Account_Name: 'Zylker Traders',
      Billing_City: 'Austin',
    });
  });

  afterAll(async () => {
    await pipeline?.stop();
  });

  it('creates one Books contact for a CRM account and records the mapping', async () => {
    const response = await send(`module=Accounts&id=${ACCOUNT_ID}`);
    expect(response.statusCode).toBe(202);
    expect(JSON.parse(response.body ?? '')).toMatchObject({ accepted: 1 });

    expect(await drain()).toBe(1);

    const contacts = simulator.books.contacts(ORG_ID);
    expect(contacts).toHaveLength(1);
    expect(contacts[0]).toMatchObject({ contact_name: 'Zylker Traders', cf_crm_id: ACCOUNT_ID });
    const mapping = await env.clients.dynamodb.send(
      new GetItemCommand({
        TableName: env.resources.tableName,
        Key: toKeyAttributes(tableKeys.recordMapping('acme', 'Accounts', ACCOUNT_ID)),
      }),
    );
    expect(mapping.Item?.booksId?.S).toBe(contacts[0]?.contact_id);
    expect(await queueDepth(env.clients.sqs, env.resources.syncQueueUrl)).toBe(0);
  });

  it('updates the same contact when the webhook comes again', async () => {
    simulator.putCrmRecord('Accounts', {
      id: ACCOUNT_ID,
      Account_Name: 'Zylker Traders Ltd',
      Billing_City: 'Austin',
    });
    const response = await webhook(
      webhookEvent({
        connectionId: 'acme',
        body: JSON.stringify({ module: 'Accounts', id: ACCOUNT_ID }),
        contentType: 'application/json',
        query: { token: WEBHOOK_SECRET },
      }),
      lambdaContext('crm-webhook'),
    );
    expect(response.statusCode).toBe(202);
    await drain();

    const contacts = simulator.books.contacts(ORG_ID);
    expect(contacts).toHaveLength(1);
    expect(contacts[0]?.contact_name).toBe('Zylker Traders Ltd');
  });

  it('accepts a multipart/form-data webhook, base64-encoded as API Gateway delivers it', async () => {
    const boundary = 'zohoBoundary7';
    const body = `--${boundary}\r\nContent-Disposition: form-data; name="module"\r\n\r\nAccounts\r\n--${boundary}\r\nContent-Disposition: form-data; name="id"\r\n\r\n${ACCOUNT_ID}\r\n--${boundary}--\r\n`;
    const event = webhookEvent({
      connectionId: 'acme',
      body: Buffer.from(body).toString('base64'),
      contentType: `multipart/form-data; boundary=${boundary}`,
      token: WEBHOOK_SECRET,
    });
    const response = await webhook(
      { ...event, isBase64Encoded: true },
      lambdaContext('crm-webhook'),
    );
    expect(response.statusCode).toBe(202);
    await drain();
    expect(simulator.books.contacts(ORG_ID)).toHaveLength(1);
  });

  it('answers a wrong token and an unknown connection with the same 401 and queues nothing', async () => {
    const body = `module=Accounts&id=${ACCOUNT_ID}`;
    const wrongToken = await send(body, { token: 'not-the-secret-at-all' });
    const unknownConnection = await send(body, { token: WEBHOOK_SECRET, connectionId: 'nobody' });
    const missingToken = await send(body, {});
    for (const response of [wrongToken, unknownConnection, missingToken]) {
      expect(response.statusCode).toBe(401);
      expect(response.headers?.['Content-Type']).toBe('application/json');
    }
    expect(unknownConnection.body).toBe(wrongToken.body);
    expect(JSON.parse(wrongToken.body ?? '')).toStrictEqual({
      error: { code: 'unauthorized', message: 'Missing or invalid webhook token.' },
    });
    expect(await queueDepth(env.clients.sqs, env.resources.syncQueueUrl)).toBe(0);
  });

  it('answers a malformed body with a 400 JSON error and queues nothing', async () => {
    const response = await webhook(
      webhookEvent({
        connectionId: 'acme',
        body: '{"module":',
        contentType: 'application/json',
        token: WEBHOOK_SECRET,
      }),
      lambdaContext('crm-webhook'),
    );
    expect(response.statusCode).toBe(400);
    expect(JSON.parse(response.body ?? '')).toMatchObject({ error: { code: 'malformed_body' } });
    const missingId = await send('module=Accounts');
    expect(missingId.statusCode).toBe(400);
    expect(await queueDepth(env.clients.sqs, env.resources.syncQueueUrl)).toBe(0);
  });
});
