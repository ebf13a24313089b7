import { injectLambdaContext } from '@aws-lambda-powertools/logger/middleware';
import middy from '@middy/core';
import { createAwsClients } from '../lib/aws';
import type { CustomResourceRequest } from '../lib/aws/custom-resource-response';
import { loadSecretPrefix } from '../lib/config';
import { logger } from '../lib/observability';
import { runWebhookSecretMigration } from '../lib/webhooks/migration-custom-resource';

const deps = {
  secretsManager: createAwsClients().secretsManager,
  secretPrefix: loadSecretPrefix(),
  logger,
};

/**
 * CloudFormation custom resource, run at deploy before the webhook function's code is updated:
 * copies legacy webhook secrets into `zoho-sync/<id>/webhook`.
 */
export const handler = middy<CustomResourceRequest, void>()
  .use(injectLambdaContext(logger, { resetKeys: true }))
  .handler((event) => runWebhookSecretMigration(deps, event));
