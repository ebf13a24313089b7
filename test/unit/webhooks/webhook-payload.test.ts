import { describe, expect, it } from 'vitest';
import { parseWebhookBody, toWebhookPayload, WebhookRejectedError } from '../../../lib/webhooks';
import { CRM_ACCOUNT_ID, notificationCallback, workflowWebhook } from '../../fixtures/webhooks';

const rejection = async (fn: () => unknown): Promise<WebhookRejectedError> => {
  try {
    await fn();
  } catch (error) {
    if (error instanceof WebhookRejectedError) return error;
    throw error;
  }
  throw new Error('expected a WebhookRejectedError');
};

/** A multipart/form-data body as an HTTP client (or Zoho's form-data option) sends it. */
const multipart = (fields: Record<string, string>, boundary = 'zohoBoundary42') => ({
  headers: {
    'content-type': `multipart/form-data; boundary=${boundary}`,
    'x-zoho-sync-token': 'x',
  },
  body: [
    ...Object.entries(fields).map(
      ([name, value]) =>
        `--${boundary}\r\nContent-Disposition: form-data; name="${name}"\r\n\r\n${value}\r\n`,
    ),
    `--${boundary}--\r\n`,
  ].join(''),
});

describe('webhook payload', () => {
  it('reads a form-urlencoded workflow webhook', async () => {
    const payload = toWebhookPayload(await parseWebhookBody(workflowWebhook()));
    expect(payload).toStrictEqual({
      crmModule: 'Accounts',
      crmRecordIds: [CRM_ACCOUNT_ID],
      operation: undefined,
      bodyToken: undefined,
      channelId: undefined,
    });
  });

  it('reads a raw JSON workflow webhook and accepts a display-name module', async () => {
    const request = workflowWebhook({
      headers: { 'content-type': 'application/json; charset=utf-8' },
      body: JSON.stringify({ module: 'sales orders', id: '4876876000000999001' }),
    });
    const payload = toWebhookPayload(await parseWebhookBody(request));
    expect(payload.crmModule).toBe('Sales_Orders');
    expect(payload.crmRecordIds).toStrictEqual(['4876876000000999001']);
  });

  it('reads a Notification API callback with several ids and its body token', async () => {
    const payload = toWebhookPayload(await parseWebhookBody(notificationCallback()));
    expect(payload.crmRecordIds).toStrictEqual([CRM_ACCOUNT_ID, '4876876000000345002']);
    expect(payload.bodyToken).toBe('webhook-secret-0123456789');
    expect(payload.operation).toBe('update');
    expect(payload.channelId).toBe('1000000068001');
  });

  it('sniffs JSON when the content type is missing', async () => {
    const request = workflowWebhook({ headers: {}, body: `{"module":"Products","id":"42"}` });
    expect(toWebhookPayload(await parseWebhookBody(request)).crmModule).toBe('Products');
  });

  it('decodes a base64 body as API Gateway delivers binary payloads', async () => {
    const request = workflowWebhook({
      body: Buffer.from('module=Deals&id=77').toString('base64'),
      isBase64Encoded: true,
    });
    expect(toWebhookPayload(await parseWebhookBody(request)).crmModule).toBe('Deals');
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
  ])('rejects %s', async (_name, overrides, statusCode, code) => {
    const error = await rejection(() => parseWebhookBody(workflowWebhook(overrides)));
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
  ])('rejects a payload with %s', async (_name, body, statusCode, code) => {
    const error = await rejection(() => toWebhookPayload(body));
    expect(error.statusCode).toBe(statusCode);
    expect(error.errorCode).toBe(code);
  });

  it('reads a multipart/form-data workflow webhook', async () => {
    const request = workflowWebhook(multipart({ module: 'Products', id: '4876876000000345201' }));
    expect(toWebhookPayload(await parseWebhookBody(request))).toMatchObject({
      crmModule: 'Products',
      crmRecordIds: ['4876876000000345201'],
    });
  });

  it('rejects a multipart body carrying a file or missing its boundary', async () => {
    const withFile = workflowWebhook({
      headers: { 'content-type': 'multipart/form-data; boundary=b1' },
      body: '--b1\r\nContent-Disposition: form-data; name="f"; filename="a.txt"\r\nContent-Type: text/plain\r\n\r\nhello\r\n--b1--\r\n',
    });
    expect((await rejection(() => parseWebhookBody(withFile))).statusCode).toBe(400);
    const noBoundary = workflowWebhook({
      headers: { 'content-type': 'multipart/form-data' },
      body: 'x',
    });
    expect((await rejection(() => parseWebhookBody(noBoundary))).errorCode).toBe('malformed_body');
  });

  it('deduplicates ids repeated between id and ids', async () => {
    const payload = toWebhookPayload({ module: 'Accounts', id: '5', ids: '5, 6' });
    expect(payload.crmRecordIds).toStrictEqual(['5', '6']);
  });

  // Found by the property tests: these reached the queue as messages with no valid module or id.
  it.each(['constructor', '__proto__', 'toString', 'hasOwnProperty'])(
    'refuses the prototype key %s as a module with 422',
    async (module) => {
      const error = await rejection(() => toWebhookPayload({ module, id: '5' }));
      expect(error.statusCode).toBe(422);
    },
  );

  it('refuses a negative numeric record id', async () => {
    const error = await rejection(() => toWebhookPayload({ module: 'Accounts', id: -1 }));
    expect(error.errorCode).toBe('invalid_payload');
  });
});
