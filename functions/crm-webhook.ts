import { injectLambdaContext } from '@aws-lambda-powertools/logger/middleware';
import middy from '@middy/core';
import httpErrorHandler from '@middy/http-error-handler';
import type { APIGatewayProxyEventV2, APIGatewayProxyStructuredResultV2 } from 'aws-lambda';
import { createAwsClients } from '../lib/aws';
import { loadConfig } from '../lib/config';
import { logger } from '../lib/observability';
import { createWebhookDeps, ingestWebhook } from '../lib/webhooks';

const deps = createWebhookDeps({ config: loadConfig(), clients: createAwsClients() });

const JSON_HEADERS = { 'content-type': 'application/json' };

/** POST /webhooks/{connectionId}: authenticate, validate, enqueue, answer 202. */
export const handler = middy<APIGatewayProxyEventV2, APIGatewayProxyStructuredResultV2>()
  .use(injectLambdaContext(logger, { resetKeys: true }))
  .use(
    httpErrorHandler({
      logger: (error: unknown) =>
        logger.warn('webhook answered with an error', {
          error: error instanceof Error ? error.name : 'unknown',
        }),
      fallbackMessage: JSON.stringify({
        error: { code: 'internal_error', message: 'The webhook could not be accepted; retry.' },
      }),
    }),
  )
  .handler(async (event) => {
    const accepted = await ingestWebhook(deps, {
      connectionId: event.pathParameters?.connectionId,
      headers: event.headers,
      query: event.queryStringParameters ?? {},
      body: event.body,
      isBase64Encoded: event.isBase64Encoded,
    });
    return { statusCode: 202, headers: JSON_HEADERS, body: JSON.stringify(accepted) };
  });
