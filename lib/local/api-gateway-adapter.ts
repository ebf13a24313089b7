import { randomUUID } from 'node:crypto';
import { createServer, type IncomingMessage, type Server } from 'node:http';
import type {
  APIGatewayProxyEventV2,
  APIGatewayProxyStructuredResultV2,
  Context,
} from 'aws-lambda';
import { fakeLambdaContext } from './lambda-context';

export type HttpApiHandler = (
  event: APIGatewayProxyEventV2,
  context: Context,
) => Promise<APIGatewayProxyStructuredResultV2>;

export interface HttpApiRoute {
  readonly method: string;
  /** A path template such as `/webhooks/{connectionId}`. */
  readonly path: string;
  readonly handler: HttpApiHandler;
  readonly functionName: string;
}

export interface LocalHttpApi {
  readonly url: string;
  readonly port: number;
  stop(): Promise<void>;
}

const readBody = async (request: IncomingMessage): Promise<Buffer> => {
  const chunks: Buffer[] = [];
  for await (const chunk of request) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks);
};

const matchRoute = (template: string, path: string): Record<string, string> | undefined => {
  const templateParts = template.split('/');
  const pathParts = path.split('/');
  if (templateParts.length !== pathParts.length) return undefined;
  const params: Record<string, string> = {};
  for (const [index, part] of templateParts.entries()) {
    const actual = pathParts[index] ?? '';
    if (part.startsWith('{') && part.endsWith('}')) {
      if (actual === '') return undefined;
      params[part.slice(1, -1)] = decodeURIComponent(actual);
    } else if (part !== actual) {
      return undefined;
    }
  }
  return params;
};

const TEXT_TYPES = /^(application\/(json|x-www-form-urlencoded|xml)|text\/)/i;

/**
 * A local stand-in for an API Gateway HTTP API: turns each request into a payload-v2 event,
 * exactly as API Gateway would (lower-cased headers, base64 for non-text bodies, path
 * parameters), invokes the handler and writes its structured result back.
 */
export const startLocalHttpApi = async (options: {
  readonly routes: readonly HttpApiRoute[];
  readonly port?: number;
  readonly host?: string;
}): Promise<LocalHttpApi> => {
  const server: Server = createServer(async (request, response) => {
    const url = new URL(request.url ?? '/', 'http://localhost');
    const method = (request.method ?? 'GET').toUpperCase();
    const route = options.routes
      .map((candidate) => ({ candidate, params: matchRoute(candidate.path, url.pathname) }))
      .find(({ candidate, params }) => params !== undefined && candidate.method === method);
    if (route === undefined || route.params === undefined) {
      response.writeHead(404, { 'content-type': 'application/json' });
      response.end(JSON.stringify({ message: 'Not Found' }));
      return;
    }
    const body = await readBody(request);
    const headers: Record<string, string> = {};
    for (const [name, value] of Object.entries(request.headers)) {
      if (value !== undefined)
        headers[name.toLowerCase()] = Array.isArray(value) ? value.join(',') : value;
    }
    const isText = TEXT_TYPES.test(headers['content-type'] ?? 'text/plain');
    const query: Record<string, string> = {};
    for (const [name, value] of url.searchParams)
      query[name] = query[name] === undefined ? value : `${query[name]},${value}`;
    const requestId = randomUUID();
    const event: APIGatewayProxyEventV2 = {
      version: '2.0',
      routeKey: `${method} ${route.candidate.path}`,
      rawPath: url.pathname,
      rawQueryString: url.searchParams.toString(),
      headers,
      ...(Object.keys(query).length > 0 ? { queryStringParameters: query } : {}),
      pathParameters: route.params,
      requestContext: {
        accountId: '000000000000',
        apiId: 'local',
        domainName: headers.host ?? 'localhost',
        domainPrefix: 'local',
        http: {
          method,
          path: url.pathname,
          protocol: 'HTTP/1.1',
          sourceIp: request.socket.remoteAddress ?? '127.0.0.1',
          userAgent: headers['user-agent'] ?? '',
        },
        requestId,
        routeKey: `${method} ${route.candidate.path}`,
        stage: '$default',
        time: new Date().toISOString(),
        timeEpoch: Date.now(),
      },
      ...(body.length > 0
        ? { body: isText ? body.toString('utf8') : body.toString('base64') }
        : {}),
      isBase64Encoded: body.length > 0 && !isText,
    };
    try {
      const result = await route.candidate.handler(
        event,
        fakeLambdaContext(route.candidate.functionName, requestId),
      );
      response.writeHead(result.statusCode ?? 200, {
        ...(result.headers as Record<string, string> | undefined),
      });
      response.end(result.body ?? '');
    } catch {
      // API Gateway's own answer when the integration fails.
      response.writeHead(500, { 'content-type': 'application/json' });
      response.end(JSON.stringify({ message: 'Internal Server Error' }));
    }
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port ?? 0, options.host ?? '127.0.0.1', () => {
      server.off('error', reject);
      resolve();
    });
  });
  const address = server.address();
  const port = typeof address === 'object' && address !== null ? address.port : 0;
  return {
    url: `http://${options.host ?? '127.0.0.1'}:${port}`,
    port,
    stop: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
};
