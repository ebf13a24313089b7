import {
  DeleteMessageBatchCommand,
  type Message,
  ReceiveMessageCommand,
  type SQSClient,
} from '@aws-sdk/client-sqs';
import type { APIGatewayProxyEventV2 } from 'aws-lambda';
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { SYNCED_CRM_MODULES } from '../../../lib/sync/crm-modules';
import type { WebhookRequest } from '../../../lib/webhooks';
import { lambdaContext, webhookEvent } from '../../helpers/events';
import {
  CONNECTION_ID,
  type Pipeline,
  startPipeline,
  WEBHOOK_SECRET,
} from '../../helpers/pipeline';
import { queueDepth } from '../../helpers/queues';
import {
  type GeneratedRequest,
  invalidWebhook,
  noiseWebhook,
  type Tenant,
  validWebhook,
} from '../../helpers/webhook-arbitraries';

/**
 * Property tests through the real webhook function (middy + error handler + ingest) with real
 * SDK clients against the stand-ins: Secrets Manager holds two tenants, fauxqs the sync queue.
 * Every run leaves the queue empty, so "nothing queued" is checked exactly, run by run.
 */

const OTHER_TENANT: Tenant = {
  connectionId: 'globex',
  webhookSecret: 'globex-webhook-secret-7777',
};
const TENANTS: readonly Tenant[] = [
  { connectionId: CONNECTION_ID, webhookSecret: WEBHOOK_SECRET },
  OTHER_TENANT,
];

/**
 * Fixed seed: the same 600 requests every run; a failure prints its counterexample. The
 * parsers get 6,400 more in the unit project and the mappers 3,000: 10,000 bodies in all.
 */
const SEED = 13_2026;

interface QueuedSyncMessage {
  readonly connectionId: string;
  readonly crmModule: string;
  readonly crmRecordId: string;
  readonly correlationId: string;
}

const toEvent = (request: WebhookRequest): APIGatewayProxyEventV2 => {
  const base = webhookEvent({ connectionId: request.connectionId ?? '', body: '' });
  return {
    ...base,
    headers: { ...request.headers },
    ...(Object.keys(request.query).length === 0
      ? {}
      : { queryStringParameters: { ...request.query } as Record<string, string> }),
    pathParameters:
      request.connectionId === undefined ? {} : { connectionId: request.connectionId },
    body: request.body,
    isBase64Encoded: request.isBase64Encoded,
  };
};

/** Takes (and deletes) exactly `count` messages off the queue. */
const takeMessages = async (
  sqs: SQSClient,
  queueUrl: string,
  count: number,
): Promise<QueuedSyncMessage[]> => {
  const taken: Message[] = [];
  for (let empty = 0; taken.length < count && empty < 3; ) {
    const result = await sqs.send(
      new ReceiveMessageCommand({
        QueueUrl: queueUrl,
        MaxNumberOfMessages: 10,
        WaitTimeSeconds: 0,
      }),
    );
    const messages = result.Messages ?? [];
    if (messages.length === 0) empty += 1;
    taken.push(...messages);
    if (messages.length > 0) {
      await sqs.send(
        new DeleteMessageBatchCommand({
          QueueUrl: queueUrl,
          Entries: messages.map((message, index) => ({
            Id: String(index),
            ReceiptHandle: message.ReceiptHandle,
          })),
        }),
      );
    }
  }
  return taken.map((message) => JSON.parse(message.Body ?? 'null') as QueuedSyncMessage);
};

describe('webhook endpoint properties (real function, real SQS and Secrets Manager stand-ins)', () => {
  let pipeline: Pipeline;
  let sqs: SQSClient;
  let queueUrl: string;
  const seen = { accepted: 0, rejected: 0, statuses: new Map<number, number>() };

  beforeAll(async () => {
    // Refusals log a WARN each; 3,000 of them would bury a failure's counterexample.
    pipeline = await startPipeline({ extraEnv: { POWERTOOLS_LOG_LEVEL: 'ERROR' } });
    await pipeline.env.putConnection(OTHER_TENANT.connectionId, {
      ...pipeline.secret,
      webhookSecret: OTHER_TENANT.webhookSecret,
    });
    sqs = pipeline.env.clients.sqs;
    queueUrl = pipeline.env.resources.syncQueueUrl;
  });

  afterAll(async () => {
    await pipeline?.stop();
  });

  /** Sends one generated request and checks it; a failed run's messages do not leak into the next. */
  const check = async (generated: GeneratedRequest): Promise<void> => {
    try {
      await checkOne(generated);
    } finally {
      const left = await queueDepth(sqs, queueUrl);
      if (left > 0) await takeMessages(sqs, queueUrl, left);
    }
  };

  const checkOne = async ({ request, expect: expected }: GeneratedRequest): Promise<void> => {
    const response = await pipeline.webhook(toEvent(request), lambdaContext('crm-webhook'));
    const status = response.statusCode ?? 0;
    seen.statuses.set(status, (seen.statuses.get(status) ?? 0) + 1);
    expect(status, `answer ${response.body}`).toBeLessThan(500);
    expect(JSON.parse(response.body ?? 'null')).toBeTypeOf('object');

    if (status !== 202) {
      seen.rejected += 1;
      expect(status).toBeGreaterThanOrEqual(400);
      expect(JSON.parse(response.body ?? '{}').error?.code).toBeTypeOf('string');
      expect(await queueDepth(sqs, queueUrl), 'a refused webhook queued work').toBe(0);
      expect(expected.kind, `accepted nothing although ${JSON.stringify(expected)}`).not.toBe(
        'accept',
      );
      return;
    }

    seen.accepted += 1;
    const accepted = JSON.parse(response.body ?? '{}') as { accepted: number };
    const messages = await takeMessages(sqs, queueUrl, accepted.accepted);
    expect(messages).toHaveLength(accepted.accepted);
    expect(await queueDepth(sqs, queueUrl)).toBe(0);
    const pathTenant = TENANTS.find((tenant) => tenant.connectionId === request.connectionId);
    expect(pathTenant, 'accepted for a connection that does not exist').toBeDefined();
    for (const message of messages) {
      // No effect on another tenant: work is only ever queued for the URL's own connection.
      expect(message.connectionId).toBe(pathTenant?.connectionId);
      expect(SYNCED_CRM_MODULES).toContain(message.crmModule);
      expect(message.crmRecordId).toMatch(/^\d{1,30}$/);
      expect(message.correlationId).toMatch(/^[\w.:-]{1,128}$/);
    }
    if (expected.kind === 'reject') {
      throw new Error(`accepted a webhook with the defect "${expected.defect}"`);
    }
    if (expected.kind === 'accept') {
      expect(messages.map((message) => message.crmRecordId).sort()).toStrictEqual(
        [...expected.crmRecordIds].sort(),
      );
    } else {
      // Noise that got through must have carried the path tenant's own secret.
      const presented = [
        request.headers['x-zoho-sync-token'],
        request.query.token,
        request.body,
        request.isBase64Encoded ? Buffer.from(request.body ?? '', 'base64').toString() : '',
      ].join('\n');
      expect(presented).toContain(pathTenant?.webhookSecret);
    }
  };

  it('accepts every valid workflow webhook and notification callback, queueing exactly its records for its own tenant', async () => {
    await fc.assert(
      fc.asyncProperty(
        // Near-limit batches (100 messages) cost 30 SQS calls each; the unit project has more.
        validWebhook(TENANTS, { nearLimitBatchesOneIn: 40 }),
        check,
      ),
      {
        numRuns: 200,
        seed: SEED,
      },
    );
    expect(seen.accepted).toBeGreaterThanOrEqual(200);
  }, 120_000);

  it('refuses every request with one defect with a 4xx JSON error and queues nothing', async () => {
    const rejectedBefore = seen.rejected;
    await fc.assert(fc.asyncProperty(invalidWebhook(TENANTS), check), {
      numRuns: 300,
      seed: SEED + 1,
    });
    expect(seen.rejected - rejectedBefore).toBe(300);
  });

  it('never answers arbitrary bytes, headers and tenants with a 5xx, nor queues for another tenant', async () => {
    await fc.assert(fc.asyncProperty(noiseWebhook(TENANTS), check), {
      numRuns: 100,
      seed: SEED + 2,
    });
    // Every answer was a 202 or a 4xx: the 5xx check above ran 600 times.
    expect(
      [...seen.statuses.keys()].every(
        (status) => status === 202 || (status >= 400 && status < 500),
      ),
    ).toBe(true);
  });
});
