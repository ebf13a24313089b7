import busboy from 'busboy';
import { WebhookRejectedError } from './errors';
import type { WebhookRequest } from './webhook-request';

/** Larger bodies are not CRM webhooks (Zoho caps appended parameters at 3000 characters). */
const MAX_BODY_BYTES = 64 * 1024;

/**
 * Decodes a webhook body into a flat object. Zoho CRM workflow webhooks send form-urlencoded
 * parameters, multipart form data or a raw JSON body, depending on how an admin configured the
 * webhook; Notification API callbacks send JSON. One endpoint accepts them all, so this picks
 * the decoder by content type rather than chaining middy's body parsers (each of which refuses
 * the other types); multipart goes through busboy, which middy's multipart parser uses too.
 * @throws {WebhookRejectedError} 413, 415 or 400 for bodies it cannot read.
 */
export const parseWebhookBody = async (
  request: WebhookRequest,
): Promise<Record<string, unknown>> => {
  const bytes =
    request.body === undefined
      ? Buffer.alloc(0)
      : Buffer.from(request.body, request.isBase64Encoded ? 'base64' : 'utf8');
  if (bytes.length > MAX_BODY_BYTES) {
    throw new WebhookRejectedError(413, 'body_too_large', 'The webhook body is too large.');
  }
  const contentTypeHeader = request.headers['content-type'] ?? '';
  const contentType = contentTypeHeader.split(';')[0]?.trim().toLowerCase();
  const raw = bytes.toString('utf8');
  if (raw.trim() === '') return {};
  if (contentType === 'application/json' || contentType === 'text/json') return parseJson(raw);
  if (contentType === 'application/x-www-form-urlencoded') return parseForm(raw);
  if (contentType === 'multipart/form-data') return parseMultipart(bytes, contentTypeHeader);
  if (contentType === '' || contentType === 'text/plain') {
    // Zoho's "raw" body option may omit a JSON content type; sniff instead of refusing.
    return raw.trimStart().startsWith('{') ? parseJson(raw) : parseForm(raw);
  }
  throw new WebhookRejectedError(
    415,
    'unsupported_media_type',
    'Send the webhook as application/json, application/x-www-form-urlencoded or multipart/form-data.',
  );
};

/** Text fields only: a CRM webhook carries parameters, never files. */
const parseMultipart = (
  bytes: Buffer,
  contentTypeHeader: string,
): Promise<Record<string, unknown>> =>
  new Promise((resolve, reject) => {
    const malformed = () =>
      new WebhookRejectedError(400, 'malformed_body', 'The multipart webhook body cannot be read.');
    let parser: busboy.Busboy;
    try {
      parser = busboy({
        headers: { 'content-type': contentTypeHeader },
        limits: { files: 0, fields: 100, fieldSize: MAX_BODY_BYTES },
      });
    } catch {
      reject(malformed());
      return;
    }
    const fields: Record<string, unknown> = {};
    parser.on('field', (name, value) => {
      fields[name] = value;
    });
    parser.on('filesLimit', () => reject(malformed()));
    parser.on('error', () => reject(malformed()));
    parser.on('close', () => resolve(fields));
    parser.end(bytes);
  });

const parseJson = (raw: string): Record<string, unknown> => {
  let value: unknown;
  try {
    value = JSON.parse(raw);
  } catch {
    throw new WebhookRejectedError(400, 'malformed_body', 'The webhook body is not valid JSON.');
  }
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    throw new WebhookRejectedError(
      400,
      'malformed_body',
      'The webhook body must be a JSON object.',
    );
  }
  return value as Record<string, unknown>;
};

const parseForm = (raw: string): Record<string, unknown> => {
  const result: Record<string, unknown> = {};
  for (const [key, value] of new URLSearchParams(raw)) result[key] = value;
  return result;
};
