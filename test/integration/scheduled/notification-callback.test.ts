import type { ScheduledEvent } from 'aws-lambda';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ENV } from '../../../lib/config';
import { type LocalHttpApi, startLocalHttpApi } from '../../../lib/local/api-gateway-adapter';
import { lambdaContext } from '../../helpers/events';
import { CONNECTION_ID, ORG_ID, type Pipeline, startPipeline } from '../../helpers/pipeline';
import { peekMessages, queueDepth } from '../../helpers/queues';

const ACCOUNT_ID = '4876876000000345901';

const scheduledEvent = (): ScheduledEvent => ({
  version: '0',
  id: 'renew-channels-callback-test',
  'detail-type': 'Scheduled Event',
  source: 'aws.events',
  account: '000000000000',
  time: new Date().toISOString(),
  region: 'us-east-1',
  resources: [],
  detail: {},
});

describe('Notification API: a CRM change reaches Books without any webhook set up by hand', () => {
  let pipeline: Pipeline;
  let api: LocalHttpApi;

  beforeAll(async () => {
    pipeline = await startPipeline();
    // The HTTP API as the stack builds it: the notifications route runs the webhook function.
    api = await startLocalHttpApi({
      routes: [
        {
          method: 'POST',
          path: '/notifications/{connectionId}',
          handler: pipeline.webhook,
          functionName: 'crm-webhook',
        },
      ],
    });
    // The renewal function reads its configuration at import, as in Lambda.
    process.env[ENV.publicBaseUrl] = api.url;
    const renew = (await import('../../../functions/renew-channels')).handler;
    const summary = await renew(scheduledEvent(), lambdaContext('renew-channels'));
    expect(summary.renewed).toBe(1);
  });

  afterAll(async () => {
    await pipeline?.stop();
    await api?.stop();
  });

  it('delivers the simulator callback to the webhook route, queues a sync message and syncs it', async () => {
    // Act: a CRM user saves an account.
    pipeline.simulator.putCrmRecord('Accounts', {
      id: ACCOUNT_ID,
      Account_Name: 'Notified Traders',
      Billing_City: 'Denver',
    });
    await pipeline.simulator.flushNotifications();

    // Assess: Zoho's callback was accepted and became one notification-sourced message.
    expect(pipeline.simulator.stats().callbacks).toMatchObject([
      {
        module: 'Accounts',
        operation: 'insert',
        crmRecordIds: [ACCOUNT_ID],
        url: `${api.url}/notifications/${CONNECTION_ID}`,
        status: 202,
      },
    ]);
    expect(
      await peekMessages(pipeline.env.clients.sqs, pipeline.env.resources.syncQueueUrl),
    ).toMatchObject([
      {
        connectionId: CONNECTION_ID,
        crmModule: 'Accounts',
        crmRecordId: ACCOUNT_ID,
        source: 'notification',
      },
    ]);

    expect(await pipeline.drain()).toBe(1);
    expect(pipeline.simulator.books.contacts(ORG_ID)).toMatchObject([
      { contact_name: 'Notified Traders', cf_crm_id: ACCOUNT_ID },
    ]);
    expect(await queueDepth(pipeline.env.clients.sqs, pipeline.env.resources.syncQueueUrl)).toBe(0);
  });

  it('syncs an edit of the same record into the same Books contact', async () => {
    pipeline.simulator.putCrmRecord('Accounts', {
      id: ACCOUNT_ID,
      Account_Name: 'Notified Traders Inc',
      Billing_City: 'Denver',
    });
    await pipeline.simulator.flushNotifications();

    expect(pipeline.simulator.stats().callbacks.at(-1)).toMatchObject({
      operation: 'update',
      status: 202,
    });
    expect(await pipeline.drain()).toBe(1);
    expect(pipeline.simulator.books.contacts(ORG_ID)).toMatchObject([
      { contact_name: 'Notified Traders Inc', cf_crm_id: ACCOUNT_ID },
    ]);
  });
});
