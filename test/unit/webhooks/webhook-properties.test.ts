import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { SYNCED_CRM_MODULES } from '../../../lib/sync/crm-modules';
import {
  parseWebhookBody,
  toWebhookPayload,
  type WebhookPayload,
  WebhookRejectedError,
  type WebhookRequest,
} from '../../../lib/webhooks';
import {
  invalidWebhook,
  noiseWebhook,
  type Tenant,
  validWebhook,
} from '../../helpers/webhook-arbitraries';

/**
 * Property tests on the body decoder and the payload validator: 6,400 generated workflow
 * webhooks and Notification API callbacks in every encoding. The same generators drive the
 * real webhook function against SQS in test/integration/webhooks/webhook-properties.test.ts.
 */

const SEED = 13_0600;
const TENANTS: readonly Tenant[] = [{ connectionId: 'acme', webhookSecret: 'acme-secret-0001' }];

const parse = async (request: WebhookRequest): Promise<WebhookPayload> =>
  toWebhookPayload(await parseWebhookBody(request));

/** The outcome of parsing: a payload, or the 4xx refusal; any other error fails the property. */
const outcome = async (
  request: WebhookRequest,
): Promise<{ payload?: WebhookPayload; refusal?: WebhookRejectedError }> => {
  try {
    return { payload: await parse(request) };
  } catch (error) {
    if (error instanceof WebhookRejectedError) return { refusal: error };
    throw error;
  }
};

const expectWellFormed = (payload: WebhookPayload) => {
  expect(SYNCED_CRM_MODULES).toContain(payload.crmModule);
  expect(payload.crmRecordIds.length).toBeGreaterThan(0);
  for (const id of payload.crmRecordIds) expect(id).toMatch(/^\d{1,30}$/);
};

describe('webhook parser properties', () => {
  it('reads every valid body to exactly its module and record ids', async () => {
    await fc.assert(
      fc.asyncProperty(validWebhook(TENANTS), async ({ request, expect: expected }) => {
        const { payload, refusal } = await outcome(request);
        expect(refusal?.message).toBeUndefined();
        expectWellFormed(payload as WebhookPayload);
        if (expected.kind !== 'accept')
          throw new Error('the valid generator made a non-valid request');
        expect([...(payload?.crmRecordIds ?? [])].sort()).toStrictEqual(
          [...expected.crmRecordIds].sort(),
        );
      }),
      { numRuns: 2_700, seed: SEED },
    );
  }, 60_000);

  it('refuses every body with one defect with a 4xx naming the problem', async () => {
    await fc.assert(
      fc.asyncProperty(
        invalidWebhook(TENANTS, { bodyDefectsOnly: true }),
        async ({ request, expect: expected }) => {
          const { payload, refusal } = await outcome(request);
          expect(
            payload,
            `accepted a body with the defect ${JSON.stringify(expected)}`,
          ).toBeUndefined();
          expect([400, 413, 415, 422]).toContain(refusal?.statusCode);
          expect(JSON.parse(refusal?.message ?? '{}').error.code).toBe(refusal?.errorCode);
        },
      ),
      { numRuns: 2_700, seed: SEED + 1 },
    );
  }, 60_000);

  it('answers arbitrary bytes with a well-formed payload or a 4xx, and pollutes no prototype', async () => {
    await fc.assert(
      fc.asyncProperty(noiseWebhook(TENANTS), async ({ request }) => {
        const { payload, refusal } = await outcome(request);
        if (payload !== undefined) expectWellFormed(payload);
        else expect(refusal?.statusCode).toBeLessThan(500);
        expect(Object.getPrototypeOf({})).toBe(Object.prototype);
        expect(({} as Record<string, unknown>).module).toBeUndefined();
      }),
      { numRuns: 1_000, seed: SEED + 2 },
    );
  }, 60_000);
});
