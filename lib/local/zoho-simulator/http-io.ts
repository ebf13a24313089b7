import type { IncomingHttpHeaders, IncomingMessage, ServerResponse } from 'node:http';

/** What a handler answers; written by `writeResponse`. */
export interface SimResponse {
  readonly status: number;
  /** JSON-encoded unless it is a string; omitted for an empty body (e.g. CRM's 204). */
  readonly body?: unknown;
  readonly headers?: Readonly<Record<string, string>>;
}

/** One parsed request, as the Books/CRM/accounts handlers see it. */
export interface SimRequest {
  readonly method: string;
  /** Path without the query. */
  readonly path: string;
  readonly query: URLSearchParams;
  readonly headers: IncomingHttpHeaders;
  readonly rawBody: string;
}

const MAX_BODY_BYTES = 5 * 1024 * 1024;

export class BodyTooLargeError extends Error {
  override readonly name = 'BodyTooLargeError';
}

export const readBody = async (req: IncomingMessage): Promise<string> => {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req) {
    const buffer = chunk as Buffer;
    size += buffer.length;
    if (size > MAX_BODY_BYTES) throw new BodyTooLargeError(`body over ${MAX_BODY_BYTES} bytes`);
    chunks.push(buffer);
  }
  return Buffer.concat(chunks).toString('utf8');
};

/** A header's single value (Node joins repeated headers with ', '; arrays only for set-cookie). */
export const headerValue = (headers: IncomingHttpHeaders, name: string): string | undefined => {
  const value = headers[name.toLowerCase()];
  return Array.isArray(value) ? value[0] : value;
};

export const json = (
  status: number,
  body: unknown,
  headers?: Readonly<Record<string, string>>,
): SimResponse => (headers === undefined ? { status, body } : { status, body, headers });

export const writeResponse = (res: ServerResponse, response: SimResponse): void => {
  if (res.destroyed || res.writableEnded) return;
  const headers: Record<string, string> = { ...response.headers };
  let payload: string | undefined;
  if (response.body !== undefined && response.status !== 204) {
    payload = typeof response.body === 'string' ? response.body : JSON.stringify(response.body);
    if (!Object.keys(headers).some((h) => h.toLowerCase() === 'content-type')) {
      // Zoho answers JSON with this content type on both Books and CRM.
      headers['Content-Type'] =
        typeof response.body === 'string'
          ? 'text/plain;charset=UTF-8'
          : 'application/json;charset=UTF-8';
    }
  }
  res.writeHead(response.status, headers);
  res.end(payload);
};

/** The `code` (Books, CRM) or `error` (OAuth) of a response body, for the request log. */
export const responseCode = (body: unknown): number | string | undefined => {
  if (typeof body !== 'object' || body === null) return undefined;
  const record = body as Record<string, unknown>;
  const code = record.code ?? record.error;
  return typeof code === 'number' || typeof code === 'string' ? code : undefined;
};

/** Parses a JSON object body; `undefined` when it is not well-formed JSON or not an object. */
export const parseJsonObject = (raw: string): Record<string, unknown> | undefined => {
  if (raw.trim() === '') return {};
  try {
    const parsed: unknown = JSON.parse(raw);
    return typeof parsed === 'object' && parsed !== null && !Array.isArray(parsed)
      ? (parsed as Record<string, unknown>)
      : undefined;
  } catch {
    return undefined;
  }
};
