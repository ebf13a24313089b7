import { DeleteItemCommand } from '@aws-sdk/client-dynamodb';
import type { APIGatewayProxyStructuredResultV2 } from 'aws-lambda';
import { tableKeys, toKeyAttributes } from '../../lib/aws';
import type { ConnectionSecret } from '../../lib/config';
import {
  type SimulatedOrganization,
  startZohoSimulator,
  type ZohoSimulator,
} from '../../lib/local/zoho-simulator';
import type { BooksRecord } from '../../lib/zoho';
import { lambdaContext, webhookEvent } from './events';
import { createTestEnvironment, type TestEnvironment } from './local-environment';
import { drainQueue } from './queues';

export const ORG_ID = '60012345678';
export const CONNECTION_ID = 'acme';
export const WEBHOOK_SECRET = 'webhook-secret-for-acme-0001';

type WebhookHandler = typeof import('../../functions/crm-webhook')['handler'];
type WorkerHandler = typeof import('../../functions/sync-worker')['handler'];

export interface Pipeline {
  readonly env: TestEnvironment;
  readonly simulator: ZohoSimulator;
  readonly secret: ConnectionSecret;
  readonly webhook: WebhookHandler;
  readonly worker: WorkerHandler;
  /** POSTs a form-urlencoded workflow webhook through the real webhook handler. */
  send(
    body: string,
    options?: { token?: string; connectionId?: string },
  ): Promise<APIGatewayProxyStructuredResultV2>;
  /** Delivers every visible sync-queue message to the real worker until the queue is empty. */
  drain(): Promise<number>;
  /** The simulator's Books contacts that carry this CRM record id in cf_crm_id. */
  contactsFor(crmRecordId: string): BooksRecord[];
  /** Deletes a CRM -> Books mapping, as if the worker died before writing it. */
  forgetMapping(crmModule: string, crmRecordId: string): Promise<void>;
  stop(): Promise<void>;
}

/**
 * The whole pipeline for one test file: isolated AWS resources on the shared stand-ins, a
 * Zoho simulator with one client and organization, the connection secret, and the real
 * handlers imported after the environment is set (they read it at import, as in Lambda).
 */
export const startPipeline = async (
  options: {
    extraEnv?: Record<string, string>;
    maxReceiveCount?: number;
    /** The sync queue's visibility timeout: how soon SQS redelivers after a crash. */
    visibilityTimeoutSeconds?: number;
    /** Limits of the simulated Books organization (e.g. a compressed window). */
    organization?: Omit<SimulatedOrganization, 'organizationId'>;
    /** Overrides of the connection secret (e.g. its rateLimit). */
    secret?: Partial<ConnectionSecret>;
  } = {},
): Promise<Pipeline> => {
  const env = await createTestEnvironment(options);
  const simulator = await startZohoSimulator();
  const secret: ConnectionSecret = {
    dataCenter: 'com',
    accountsUrl: simulator.baseUrl,
    clientId: '1000.PIPELINECLIENT',
    clientSecret: 'pipeline-client-secret-value',
    refreshToken: `1000.${'1'.repeat(32)}.${'2'.repeat(32)}`,
    booksOrganizationId: ORG_ID,
    plan: 'professional',
    webhookSecret: WEBHOOK_SECRET,
    ...options.secret,
  };
  simulator.addClient({
    clientId: secret.clientId,
    clientSecret: secret.clientSecret,
    refreshToken: secret.refreshToken,
  });
  simulator.addOrganization({ ...options.organization, organizationId: ORG_ID });
  await env.putConnection(CONNECTION_ID, secret);
  const webhook = (await import('../../functions/crm-webhook')).handler;
  const worker = (await import('../../functions/sync-worker')).handler;
  return {
    env,
    simulator,
    secret,
    webhook,
    worker,
    send: (body, sendOptions = { token: WEBHOOK_SECRET }) =>
      webhook(
        webhookEvent({
          connectionId: sendOptions.connectionId ?? CONNECTION_ID,
          body,
          token: sendOptions.token,
        }),
        lambdaContext('crm-webhook'),
      ),
    drain: () =>
      drainQueue({
        sqs: env.clients.sqs,
        queueUrl: env.resources.syncQueueUrl,
        queueArn: env.resources.syncQueueArn,
        handler: (event, context) => worker(event, context),
      }),
    contactsFor: (crmRecordId) =>
      simulator.books.contacts(ORG_ID).filter((contact) => contact.cf_crm_id === crmRecordId),
    forgetMapping: async (crmModule, crmRecordId) => {
      await env.clients.dynamodb.send(
        new DeleteItemCommand({
          TableName: env.resources.tableName,
          Key: toKeyAttributes(tableKeys.recordMapping(CONNECTION_ID, crmModule, crmRecordId)),
        }),
      );
    },
    stop: () => simulator.stop(),
  };
};
