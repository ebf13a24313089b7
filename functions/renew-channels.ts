import { injectLambdaContext } from '@aws-lambda-powertools/logger/middleware';
import middy from '@middy/core';
import type { ScheduledEvent } from 'aws-lambda';
import { createAwsClients } from '../lib/aws';
import { loadConfig } from '../lib/config';
import {
  createRenewChannelsDeps,
  type RenewChannelsSummary,
  renewChannels,
} from '../lib/notifications';
import { logger } from '../lib/observability';

const deps = createRenewChannelsDeps({ config: loadConfig(), clients: createAwsClients() });

/**
 * Scheduled (twice a day): keeps each connection's Zoho CRM Notification API channel alive,
 * re-enabling it when less than two days are left or Zoho lost it. Failures are per connection:
 * logged, counted as ChannelRenewalFailed and returned in the summary, never thrown.
 */
export const handler = middy<ScheduledEvent, RenewChannelsSummary>()
  .use(injectLambdaContext(logger, { resetKeys: true }))
  .handler(() => renewChannels(deps));
