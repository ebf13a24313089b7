import { describe, expect, it } from 'vitest';
import {
  ConfigError,
  connectionSecretSchema,
  DAILY_LIMIT_BY_PLAN,
  loadConfig,
  toConnection,
} from '../../../lib/config';

const validSecret = {
  dataCenter: 'ca',
  clientId: '1000.ABC',
  clientSecret: 'client-secret-value',
  refreshToken: '1000.refresh.token',
  booksOrganizationId: '60012345678',
  plan: 'elite',
  webhookSecret: 'a-webhook-secret-of-length',
};

describe('loadConfig', () => {
  it('applies defaults and coerces numbers', () => {
    const config = loadConfig({
      ZOHO_SYNC_TABLE_NAME: 'state',
      ZOHO_SYNC_QUEUE_URL: 'https://sqs/queue',
      ZOHO_SYNC_ZOHO_TIMEOUT_MS: '2500',
    });
    expect(config).toMatchObject({
      tableName: 'state',
      syncQueueUrl: 'https://sqs/queue',
      secretPrefix: 'zoho-sync/',
      zohoTimeoutMs: 2500,
      tokenRefreshAheadSeconds: 600,
      maxBackoffAttempts: 5,
      budgetClockSkewMs: 200,
    });
    expect(Object.isFrozen(config)).toBe(true);
    const skewed = loadConfig({
      ZOHO_SYNC_TABLE_NAME: 'state',
      ZOHO_SYNC_QUEUE_URL: 'https://sqs/queue',
      ZOHO_SYNC_BUDGET_CLOCK_SKEW_MS: '500',
    });
    expect(skewed.budgetClockSkewMs).toBe(500);
  });

  it('lists every missing or invalid variable in one ConfigError', () => {
    expect(() => loadConfig({ ZOHO_SYNC_ZOHO_TIMEOUT_MS: 'soon' })).toThrow(ConfigError);
    expect(() => loadConfig({ ZOHO_SYNC_ZOHO_TIMEOUT_MS: 'soon' })).toThrow(
      /ZOHO_SYNC_TABLE_NAME.*ZOHO_SYNC_QUEUE_URL.*ZOHO_SYNC_ZOHO_TIMEOUT_MS/,
    );
  });
});

describe('connection secret', () => {
  it('derives the accounts server, daily limit and budget from the data centre and plan', () => {
    const connection = toConnection('acme', connectionSecretSchema.parse(validSecret));
    expect(connection).toMatchObject({
      connectionId: 'acme',
      accountsUrl: 'https://accounts.zohocloud.ca',
      dailyLimit: DAILY_LIMIT_BY_PLAN.elite,
      rateLimit: { requests: 100, windowSeconds: 60 },
      maxConcurrency: 5,
      quotaTimeZone: 'UTC',
    });
  });

  it('keeps an accountsUrl override and ignores unknown keys', () => {
    const parsed = connectionSecretSchema.parse({
      ...validSecret,
      accountsUrl: 'http://127.0.0.1:9/',
      connectionId: 'x',
      extra: 1,
    });
    expect(toConnection('acme', parsed).accountsUrl).toBe('http://127.0.0.1:9');
    expect(parsed).not.toHaveProperty('extra');
  });

  it.each([
    ['an unknown data centre', { dataCenter: 'de' }],
    ['a non-numeric organization id', { booksOrganizationId: 'org-1' }],
    ['an unknown plan', { plan: 'gold' }],
    ['a short webhook secret', { webhookSecret: 'short' }],
    ['a missing refresh token', { refreshToken: undefined }],
  ])('rejects %s', (_name, change) => {
    expect(connectionSecretSchema.safeParse({ ...validSecret, ...change }).success).toBe(false);
  });
});
