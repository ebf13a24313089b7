import { injectLambdaContext } from '@aws-lambda-powertools/logger/middleware';
import middy from '@middy/core';
import type { ScheduledEvent } from 'aws-lambda';
import { createAwsClients } from '../lib/aws';
import { loadConfig } from '../lib/config';
import { logger } from '../lib/observability';
import {
  createReconcileSweepDeps,
  type ReconcileSweepSummary,
  reconcileSweep,
} from '../lib/reconcile';

const deps = createReconcileSweepDeps({ config: loadConfig(), clients: createAwsClients() });

/**
 * Scheduled (hourly): enqueues a sync message for every CRM record changed since the last run,
 * catching changes whose webhook or notification Zoho never delivered.
 */
export const handler = middy<ScheduledEvent, ReconcileSweepSummary>()
  .use(injectLambdaContext(logger, { resetKeys: true }))
  .handler(() => reconcileSweep(deps));
