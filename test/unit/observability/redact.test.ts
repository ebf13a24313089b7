import { describe, expect, it } from 'vitest';
import { redact, redactingJsonReplacer, registerSecretValues } from '../../../lib/observability';

describe('redact', () => {
  it('removes Zoho-shaped tokens', () => {
    const token = `1000.${'a'.repeat(32)}.${'b'.repeat(32)}`;
    expect(redact(`token ${token} expired`)).toBe('token [REDACTED] expired');
  });

  it('removes authorization header values and credential form fields', () => {
    expect(redact('Authorization: Zoho-oauthtoken abc.def')).toBe(
      'Authorization: Zoho-oauthtoken [REDACTED]',
    );
    expect(redact('grant_type=refresh_token&refresh_token=xyz&client_secret=shh')).toBe(
      'grant_type=refresh_token&refresh_token=[REDACTED]&client_secret=[REDACTED]',
    );
    expect(redact('{"access_token":"abc","api_domain":"https://x"}')).toBe(
      '{"access_token":"[REDACTED]","api_domain":"https://x"}',
    );
  });

  it('removes registered values that do not look like tokens', () => {
    registerSecretValues('plain-looking-secret-42');
    expect(redact('the value plain-looking-secret-42 leaked')).toBe('the value [REDACTED] leaked');
  });

  it('drops credential-named keys in JSON log output', () => {
    const line = JSON.stringify(
      { clientSecret: 'x', nested: { refresh_token: 'y', ok: 'fine' } },
      redactingJsonReplacer,
    );
    expect(JSON.parse(line)).toStrictEqual({
      clientSecret: '[REDACTED]',
      nested: { refresh_token: '[REDACTED]', ok: 'fine' },
    });
  });
});
