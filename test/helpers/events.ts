import { randomUUID } from 'node:crypto';
import type { APIGatewayProxyEventV2, Context } from 'aws-lambda';
import { fakeLambdaContext } from '../../lib/local/lambda-context';

/** An API Gateway HTTP API (payload v2) event for POST /webhooks/{connectionId}. */
export const webhookEvent = (options: {
  connectionId: string;
  body: string;
  contentType?: string;
  token?: string;
  query?: Record<string, string>;
  route?: 'webhooks' | 'notifications';
}): APIGatewayProxyEventV2 => {
  const route = options.route ?? 'webhooks';
  const headers: Record<string, string> = {
    'content-type': options.contentType ?? 'application/x-www-form-urlencoded',
    ...(options.token === undefined ? {} : { 'x-zoho-sync-token': options.token }),
  };
  return {
    version: '2.0',
    routeKey: `POST /${route}/{connectionId}`,
    rawPath: `/${route}/${options.connectionId}`,
    rawQueryString: new URLSearchParams(options.query ?? {}).toString(),
    headers,
    ...(options.query === undefined ? {} : { queryStringParameters: options.query }),
    pathParameters: { connectionId: options.connectionId },
    requestContext: {
      accountId: '000000000000',
      apiId: 'test',
      domainName: 'test.execute-api.local',
      domainPrefix: 'test',
      http: {
        method: 'POST',
        path: `/${route}/${options.connectionId}`,
        protocol: 'HTTP/1.1',
        sourceIp: '127.0.0.1',
        userAgent: 'Zoho',
      },
      requestId: randomUUID(),
      routeKey: `POST /${route}/{connectionId}`,
      stage: '$default',
      time: new Date().toISOString(),
      timeEpoch: Date.now(),
    },
    body: options.body,
    isBase64Encoded: false,
  };
};

export const lambdaContext = (functionName = 'test-function'): Context =>
  fakeLambdaContext(functionName, randomUUID());
