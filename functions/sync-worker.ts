import { BatchProcessor, EventType, processPartialResponse } from '@aws-lambda-powertools/batch';
import { injectLambdaContext } from '@aws-lambda-powertools/logger/middleware';
import middy from '@middy/core';
import type { SQSEvent, SQSRecord } from 'aws-lambda';
import { createAwsClients } from '../lib/aws';
import { createBackfillStore, withBackfillProgress } from '../lib/backfill';
import { loadConfig } from '../lib/config';
import { logger } from '../lib/observability';
import { createSyncWorkerDeps, prepareSyncBatch } from '../lib/sync';

const config = loadConfig();
const clients = createAwsClients();
const deps = createSyncWorkerDeps({
  config,
  clients,
  // The limiter defaults to the shared DynamoDB request budget (lib/limits).
});
// Backfill messages report how they ended (lib/backfill).
const track = withBackfillProgress(
  createBackfillStore({ dynamodb: clients.dynamodb, tableName: config.tableName, now: Date.now }),
);
const processor = new BatchProcessor(EventType.SQS);

/**
 * SQS sync queue consumer; reports partial batch failures so one bad record fails alone.
 * Messages of one record coalesce and the batch's CRM reads are shared (prepareSyncBatch).
 */
export const handler = middy<SQSEvent>()
  .use(injectLambdaContext(logger, { resetKeys: true }))
  .handler(async (event, context) => {
    // Work that cannot finish before the Lambda timeout is deferred, not killed mid-batch.
    const handle = await prepareSyncBatch(deps, event.Records, {
      remainingTimeMs: () => context.getRemainingTimeInMillis(),
    });
    return processPartialResponse(
      event,
      async (record: SQSRecord) => {
        await track(record.body, () => handle(record.messageId));
      },
      processor,
      { context },
    );
  });
