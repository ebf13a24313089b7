import { describe, expect, it } from 'vitest';
import { parseWebhookBody, toWebhookPayload, WebhookRejectedError } from '../../../lib/webhooks';
import { CRM_ACCOUNT_ID, notificationCallback, workflowWebhook } from '../../fixtures/webhooks';

const rejection = (fn: () => unknown): WebhookRejectedError => {
  try {
    fn();
  } catch (error) {
    if (error instanceof WebhookRejectedError) return error;
    throw error;
  }
  throw new Error('expected a WebhookRejectedError');
};

describe('webhook payload', () => {
  it('reads a form-urlencoded workflow webhook', () => {
    const payload = toWebhookPayload(parseWebhookBody(workflowWebhook()));
    expect(payload).toStrictEqual({
      crmModule: 'Accounts',
      crmRecordIds: [CRM_ACCOUNT_ID],
      operation: undefined,
      bodyToken: undefined,
      channelId: undefined,
    });
  });

  it('reads a raw JSON workflow webhook and accepts a display-name module', () => {
    const request = workflowWebhook({
      headers: { 'content-type': 'application/json; charset=utf-8' },
      body: JSON.stringify({ module: 'sales orders', id: '4876876000000999001' }),
    });
    const payload = toWebhookPayload(parseWebhookBody(request));
    expect(payload.crmModule).toBe('Sales_Orders');
    expect(payload.crmRecordIds).toStrictEqual(['4876876000000999001']);
  });

  it('reads a Notification API callback with several ids and its body token', () => {
    const payload = toWebhookPayload(parseWebhookBody(notificationCallback()));
    expect(payload.crmRecordIds).toStrictEqual([CRM_ACCOUNT_ID, '4876876000000345002']);
    expect(payload.bodyToken).toBe('webhook-secret-0123456789');
    expect(payload.operation).toBe('update');
    expect(payload.channelId).toBe('1000000068001');
  });

  it('sniffs JSON when the content type is missing', () => {
    const request = workflowWebhook({ headers: {}, body: `{"module":"Products","id":"42"}` });
    expect(toWebhookPayload(parseWebhookBody(request)).crmModule).toBe('Products');
  });

  it('decodes a base64 body as API Gateway delivers binary payloads', () => {
    const request = workflowWebhook({
      body: Buffer.from('module=Deals&id=77').toString('base64'),
      isBase64Encoded: true,
    });
    expect(toWebhookPayload(parseWebhookBody(request)).crmModule).toBe('Deals');
  });

  it.each([
    [
      'malformed JSON',
      { headers: { 'content-type': 'application/json' }, body: '{"module":' },
      400,
      'malformed_body',
    ],
    [
      'a JSON array',
      { headers: { 'content-type': 'application/json' }, body: '[1]' },
      400,
      'malformed_body',
    ],
    [
      'an unsupported media type',
      { headers: { 'content-type': 'application/xml' }, body: '<x/>' },
      415,
      'unsupported_media_type',
    ],
  ])('rejects %s', (_name, overrides, statusCode, code) => {
    const error = rejection(() => parseWebhookBody(workflowWebhook(overrides)));
    expect(error.statusCode).toBe(statusCode);
    expect(error.errorCode).toBe(code);
    expect(JSON.parse(error.message)).toStrictEqual({
      error: { code, message: expect.any(String) },
    });
  });

  it.each([
    ['no module', { id: '1' }, 400, 'invalid_payload'],
    ['no id', { module: 'Accounts' }, 400, 'invalid_payload'],
    ['a non-numeric id', { module: 'Accounts', id: 'abc' }, 400, 'invalid_payload'],
    [
      'a 19-digit id sent as a JSON number',
      { module: 'Accounts', id: Number('4876876000000345001') },
      400,
      'invalid_payload',
    ],
    ['an unsupported module', { module: 'Leads', id: '1' }, 422, 'unsupported_module'],
    [
      'too many ids',
      { module: 'Accounts', ids: Array.from({ length: 101 }, (_, i) => String(i + 1)) },
      400,
      'too_many_records',
    ],
  ])('rejects a payload with %s', (_name, body, statusCode, code) => {
    const error = rejection(() => toWebhookPayload(body));
    expect(error.statusCode).toBe(statusCode);
    expect(error.errorCode).toBe(code);
  });

  it('deduplicates ids repeated between id and ids', () => {
    const payload = toWebhookPayload({ module: 'Accounts', id: '5', ids: '5, 6' });
    expect(payload.crmRecordIds).toStrictEqual(['5', '6']);
  });
});
