import { describe, expect, it } from 'vitest';
import { type ConnectionSecret, toConnection } from '../../../lib/config';
import { credentialFingerprint } from '../../../lib/tokens/refresh-stop';

const secret: ConnectionSecret = {
  dataCenter: 'eu',
  clientId: '1000.FINGERPRINTCLIENT',
  clientSecret: 'fingerprint-client-secret',
  refreshToken: '1000.aaaaaaaaaaaaaaaaaaaa.bbbbbbbbbbbbbbbbbbbb',
  booksOrganizationId: '123456',
  plan: 'standard',
  webhookSecret: 'webhook-secret-0123456789',
};

describe('credentialFingerprint', () => {
  const base = credentialFingerprint(toConnection('acme', secret));

  it('is a SHA-256 hex digest that contains no credential', () => {
    expect(base).toMatch(/^[0-9a-f]{64}$/);
    expect(base).not.toContain(secret.clientSecret);
  });

  it('ignores settings that do not take part in a refresh', () => {
    const other = toConnection('acme', { ...secret, plan: 'premium', maxConcurrency: 2 });
    expect(credentialFingerprint(other)).toBe(base);
  });

  it.each([
    ['clientId', { clientId: '1000.OTHERCLIENT' }],
    ['clientSecret', { clientSecret: 'another-client-secret' }],
    ['refreshToken', { refreshToken: '1000.cccccccccccccccccccc.dddddddddddddddddddd' }],
    ['dataCenter', { dataCenter: 'com' as const }],
  ])('changes when %s changes', (_field, change) => {
    expect(credentialFingerprint(toConnection('acme', { ...secret, ...change }))).not.toBe(base);
  });
});
