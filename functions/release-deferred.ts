import { injectLambdaContext } from '@aws-lambda-powertools/logger/middleware';
import middy from '@middy/core';
import type { ScheduledEvent } from 'aws-lambda';
import { createAwsClients } from '../lib/aws';
import { loadConfig } from '../lib/config';
import { logger } from '../lib/observability';
import {
  createParkedWorkStore,
  type ReleaseParkedWorkResult,
  releaseParkedWork,
} from '../lib/parking';

const config = loadConfig();
const clients = createAwsClients();
const parked = createParkedWorkStore({ dynamodb: clients.dynamodb, tableName: config.tableName });

/**
 * Scheduled (every few minutes): puts sync messages parked beyond SQS's 15-minute delay (a
 * spent daily quota) back on the sync queue when their time comes.
 */
export const handler = middy<ScheduledEvent, ReleaseParkedWorkResult>()
  .use(injectLambdaContext(logger, { resetKeys: true }))
  .handler(() =>
    releaseParkedWork({
      parked,
      sqs: clients.sqs,
      syncQueueUrl: config.syncQueueUrl,
      now: Date.now,
      logger,
    }),
  );
