import { describe, expect, it } from 'vitest';
import { isValidWebhookToken } from '../../../lib/webhooks';

describe('isValidWebhookToken', () => {
  it('accepts the exact secret', () => {
    expect(isValidWebhookToken('s3cret-value-0123456', 's3cret-value-0123456')).toBe(true);
  });

  it.each([
    ['a different secret', 's3cret-value-0123457', 's3cret-value-0123456'],
    ['a prefix of the secret', 's3cret', 's3cret-value-0123456'],
    ['a missing token', undefined, 's3cret-value-0123456'],
    ['an unknown connection', 's3cret-value-0123456', undefined],
    ['both missing', undefined, undefined],
    ['an empty secret', '', ''],
  ])('refuses %s', (_name, presented, expected) => {
    expect(isValidWebhookToken(presented, expected)).toBe(false);
  });
});
