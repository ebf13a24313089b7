import { describe, expect, it } from 'vitest';
import { connectionFingerprint } from '../../../lib/breaker';
import { toConnection } from '../../../lib/config';

const secret = {
  dataCenter: 'com' as const,
  clientId: '1000.CLIENT',
  clientSecret: 'client-secret-value-0001',
  refreshToken: `1000.${'a'.repeat(32)}.${'b'.repeat(32)}`,
  booksOrganizationId: '60012345678',
  plan: 'professional' as const,
  webhookSecret: 'webhook-secret-value-0001',
};

describe('connectionFingerprint', () => {
  it('is the same for the same secret and holds none of its values', () => {
    const fingerprint = connectionFingerprint(toConnection('acme', secret));

    expect(connectionFingerprint(toConnection('acme', { ...secret }))).toBe(fingerprint);
    expect(fingerprint).toMatch(/^[0-9a-f]{64}$/);
    expect(fingerprint).not.toContain(secret.clientSecret);
  });

  it.each([
    ['booksOrganizationId', { booksOrganizationId: '60012345679' }],
    ['dataCenter', { dataCenter: 'eu' as const }],
    ['refreshToken', { refreshToken: `1000.${'c'.repeat(32)}.${'d'.repeat(32)}` }],
    ['clientSecret', { clientSecret: 'another-client-secret-0002' }],
  ])('changes when %s changes', (_field, change) => {
    expect(connectionFingerprint(toConnection('acme', { ...secret, ...change }))).not.toBe(
      connectionFingerprint(toConnection('acme', secret)),
    );
  });
});
