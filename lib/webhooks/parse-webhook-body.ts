import { WebhookRejectedError } from './errors';
import type { WebhookRequest } from './webhook-request';

/** Larger bodies are not CRM webhooks (Zoho caps appended parameters at 3000 characters). */
const MAX_BODY_BYTES = 64 * 1024;

/**
 * Decodes a webhook body into a flat object. Zoho CRM workflow webhooks send form-urlencoded
 * parameters or a raw JSON body; Notification API callbacks send JSON. Hand-written rather than
 * middy's body parsers because the content type Zoho sends depends on how an admin configured
 * the webhook, and one endpoint must accept both.
 * @throws {WebhookRejectedError} 413, 415 or 400 for bodies it cannot read.
 */
export const parseWebhookBody = (request: WebhookRequest): Record<string, unknown> => {
  const raw =
    request.body === undefined
      ? ''
      : request.isBase64Encoded
        ? Buffer.from(request.body, 'base64').toString('utf8')
        : request.body;
  if (Buffer.byteLength(raw) > MAX_BODY_BYTES) {
    throw new WebhookRejectedError(413, 'body_too_large', 'The webhook body is too large.');
  }
  const contentType = (request.headers['content-type'] ?? '').split(';')[0]?.trim().toLowerCase();
  if (raw.trim() === '') return {};
  if (contentType === 'application/json' || contentType === 'text/json') return parseJson(raw);
  if (contentType === 'application/x-www-form-urlencoded') return parseForm(raw);
  if (contentType === '' || contentType === 'text/plain') {
    // Zoho's "raw" body option may omit a JSON content type; sniff instead of refusing.
    return raw.trimStart().startsWith('{') ? parseJson(raw) : parseForm(raw);
  }
  throw new WebhookRejectedError(
    415,
    'unsupported_media_type',
    'Send the webhook as application/json or application/x-www-form-urlencoded.',
  );
};

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
