import { BatchProcessor, EventType, processPartialResponse } from '@aws-lambda-powertools/batch';
import { injectLambdaContext } from '@aws-lambda-powertools/logger/middleware';
import middy from '@middy/core';
import type { SQSEvent, SQSRecord } from 'aws-lambda';
import { createAwsClients } from '../lib/aws';
import { loadConfig } from '../lib/config';
import { logger } from '../lib/observability';
import { createSyncWorkerDeps, handleSyncMessage } from '../lib/sync';

const deps = createSyncWorkerDeps({
  config: loadConfig(),
  clients: createAwsClients(),
  // The limiter defaults to the shared DynamoDB request budget (lib/limits).
});
const processor = new BatchProcessor(EventType.SQS);

const recordHandler = async (record: SQSRecord): Promise<void> => {
  await handleSyncMessage(deps, record.body);
};

/** SQS sync queue consumer; reports partial batch failures so one bad record fails alone. */
export const handler = middy<SQSEvent>()
  .use(injectLambdaContext(logger, { resetKeys: true }))
  .handler((event, context) =>
    processPartialResponse(event, recordHandler, processor, { context }),
  );
