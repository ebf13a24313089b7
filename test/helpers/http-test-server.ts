import {
  createServer,
  type IncomingHttpHeaders,
  type IncomingMessage,
  type ServerResponse,
} from 'node:http';
import type { AddressInfo } from 'node:net';

/** A request the server received. */
export interface RecordedRequest {
  readonly method: string;
  /** Path without the query string. */
  readonly path: string;
  readonly query: URLSearchParams;
  /** Node lower-cases header names. */
  readonly headers: IncomingHttpHeaders;
  readonly body: string;
}

/** What the server answers. */
export interface TestResponse {
  /** @default 200 */
  readonly status?: number;
  readonly headers?: Readonly<Record<string, string>>;
  /** Sent as JSON with `Content-Type: application/json`. */
  readonly json?: unknown;
  /** Sent as is (wins over `json`). */
  readonly text?: string;
  /** Never answer: the client's timeout has to end the call. */
  readonly hang?: boolean;
}

export type Responder = (request: RecordedRequest) => TestResponse;

/** A real HTTP server on an ephemeral localhost port, in the spirit of ky's test server. */
export interface HttpTestServer {
  /** `http://127.0.0.1:<port>`, no trailing slash. */
  readonly url: string;
  /** Every request received since the last `reset()`, oldest first. */
  readonly requests: readonly RecordedRequest[];
  /** Sets the answer to every following request. */
  respondWith(response: TestResponse | Responder): void;
  /** The last request received; throws when there was none. */
  lastRequest(): RecordedRequest;
  /** Forgets requests, answers `{}` again and drops hanging connections. */
  reset(): void;
  close(): Promise<void>;
}

const readBody = async (request: IncomingMessage): Promise<string> => {
  const chunks: Buffer[] = [];
  for await (const chunk of request) chunks.push(Buffer.from(chunk));
  return Buffer.concat(chunks).toString('utf8');
};

const send = (response: ServerResponse, answer: TestResponse): void => {
  const headers: Record<string, string> = { ...answer.headers };
  let payload = '';
  if (answer.text !== undefined) {
    payload = answer.text;
  } else if (answer.json !== undefined) {
    payload = JSON.stringify(answer.json);
    headers['content-type'] ??= 'application/json';
  }
  response.writeHead(answer.status ?? 200, headers);
  response.end(payload);
};

/** Starts a server on port 0. Call `close()` in `afterAll`. */
export const createHttpTestServer = async (): Promise<HttpTestServer> => {
  const requests: RecordedRequest[] = [];
  let responder: Responder = () => ({ json: {} });
  // Only hanging responses are cut on reset: closing idle keep-alive sockets would make the
  // next test's fetch fail on a socket its pool still trusts.
  const hanging = new Set<ServerResponse>();
  const dropHanging = () => {
    for (const response of hanging) response.destroy();
    hanging.clear();
  };

  const server = createServer((request, response) => {
    void (async () => {
      const url = new URL(request.url ?? '/', 'http://localhost');
      const recorded: RecordedRequest = {
        method: request.method ?? 'GET',
        path: url.pathname,
        query: url.searchParams,
        headers: request.headers,
        body: await readBody(request),
      };
      requests.push(recorded);
      const answer = responder(recorded);
      if (answer.hang) {
        hanging.add(response);
        return;
      }
      send(response, answer);
    })();
  });

  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;

  return {
    url: `http://127.0.0.1:${port}`,
    requests,
    respondWith: (answer) => {
      responder = typeof answer === 'function' ? answer : () => answer;
    },
    lastRequest: () => {
      const last = requests.at(-1);
      if (last === undefined) throw new Error('the test server received no request');
      return last;
    },
    reset: () => {
      requests.length = 0;
      responder = () => ({ json: {} });
      dropHanging();
    },
    close: () =>
      new Promise<void>((resolve, reject) => {
        dropHanging();
        server.closeAllConnections();
        server.close((error) => (error ? reject(error) : resolve()));
      }),
  };
};
