import * as crypto from 'node:crypto';
import { beforeEach, describe, expect, it, vi } from 'vitest';
import { matchesWebhookSecret } from '../../../lib/webhooks/authenticate';

// Spy on the one constant-time primitive, keeping its real behaviour.
vi.mock('node:crypto', async (importOriginal) => {
  const actual = await importOriginal<typeof import('node:crypto')>();
  return {
    ...actual,
    timingSafeEqual: vi.fn((left: NodeJS.ArrayBufferView, right: NodeJS.ArrayBufferView) =>
      actual.timingSafeEqual(left, right),
    ),
  };
});

const CURRENT = 'current-webhook-secret-0001';
const NEXT = 'next-webhook-secret-000000002';

describe('matchesWebhookSecret (current and next secret)', () => {
  const timingSafeEqual = vi.mocked(crypto.timingSafeEqual);
  beforeEach(() => {
    timingSafeEqual.mockClear();
  });

  it('accepts the current and, during a rotation, the next secret', () => {
    expect(matchesWebhookSecret(CURRENT, { webhookSecret: CURRENT })).toBe(true);
    expect(matchesWebhookSecret(CURRENT, { webhookSecret: CURRENT, nextWebhookSecret: NEXT })).toBe(
      true,
    );
    expect(matchesWebhookSecret(NEXT, { webhookSecret: CURRENT, nextWebhookSecret: NEXT })).toBe(
      true,
    );
  });

  it('refuses the retired secret once the rotation is finished, and anything else', () => {
    expect(matchesWebhookSecret(CURRENT, { webhookSecret: NEXT })).toBe(false);
    expect(matchesWebhookSecret(NEXT, { webhookSecret: CURRENT })).toBe(false);
    expect(matchesWebhookSecret(`${CURRENT}x`, { webhookSecret: CURRENT })).toBe(false);
    expect(matchesWebhookSecret(undefined, { webhookSecret: CURRENT })).toBe(false);
    expect(matchesWebhookSecret(CURRENT, undefined)).toBe(false);
    expect(matchesWebhookSecret('', { webhookSecret: CURRENT })).toBe(false);
  });

  it.each([
    ['the current secret', CURRENT],
    ['the next secret', NEXT],
    ['a wrong token', 'wrong-token-0000000000000'],
    ['a short token', 'x'],
  ])(
    'compares %s against both secrets, each in constant time over equal-length digests',
    (_name, token) => {
      matchesWebhookSecret(token, { webhookSecret: CURRENT, nextWebhookSecret: NEXT });
      expect(timingSafeEqual).toHaveBeenCalledTimes(2);
      for (const [left, right] of timingSafeEqual.mock.calls) {
        expect((left as Buffer).length).toBe(32);
        expect((right as Buffer).length).toBe(32);
      }
    },
  );

  it('makes both comparisons even when no rotation is in progress', () => {
    matchesWebhookSecret(CURRENT, { webhookSecret: CURRENT });
    expect(timingSafeEqual).toHaveBeenCalledTimes(2);
    matchesWebhookSecret('wrong-token-0000000000000', undefined);
    expect(timingSafeEqual).toHaveBeenCalledTimes(4);
  });
});
