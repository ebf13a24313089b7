import { App } from 'aws-cdk-lib';
import { RetentionDays } from 'aws-cdk-lib/aws-logs';
import { describe, expect, it } from 'vitest';
import { eventSourceConcurrency } from '../../infra/constructs/sync-worker';
import { readSettings, type ZohoSyncSettings } from '../../infra/settings';
import { STACK_DEFAULTS } from '../../lib/config';

const settingsFrom = (context: Record<string, unknown>): ZohoSyncSettings =>
  readSettings(new App({ context }).node);

describe('readSettings', () => {
  it('returns the documented defaults when no context is set', () => {
    expect(settingsFrom({})).toStrictEqual({
      alertEmails: [],
      logLevel: 'INFO',
      tracing: false,
      maxReceiveCount: 5,
      batchSize: 10,
      workerConcurrency: 20,
      workerTimeoutSeconds: 60,
      throttleRateLimit: 50,
      throttleBurstLimit: 100,
      tooManyRequestsAlarmThreshold: 5,
      logRetention: RetentionDays.ONE_MONTH,
      customDomain: undefined,
    });
  });

  it('gives a default stack the worker concurrency and batch size local mode runs with', () => {
    const defaults = settingsFrom({});
    expect(eventSourceConcurrency(defaults.workerConcurrency)).toBe(
      STACK_DEFAULTS.workerConcurrency,
    );
    expect(defaults.batchSize).toBe(STACK_DEFAULTS.batchSize);
  });

  it.each([
    ['a comma-separated string', 'ops@example.com, oncall@example.com,'],
    ['a list in cdk.json', ['ops@example.com', 'oncall@example.com']],
  ])('reads several alert emails from %s', (_form, alertEmail) => {
    expect(settingsFrom({ alertEmail }).alertEmails).toStrictEqual([
      'ops@example.com',
      'oncall@example.com',
    ]);
  });

  it('coerces -c strings to numbers and booleans', () => {
    const settings = settingsFrom({
      maxReceiveCount: '3',
      tracing: 'true',
      logRetentionDays: '14',
    });
    expect(settings.maxReceiveCount).toBe(3);
    expect(settings.tracing).toBe(true);
    expect(settings.logRetention).toBe(RetentionDays.TWO_WEEKS);
  });

  it('reads the worker concurrency, and the older orgConcurrency key as its alias', () => {
    expect(settingsFrom({ workerConcurrency: '50' }).workerConcurrency).toBe(50);
    expect(settingsFrom({ orgConcurrency: '8' }).workerConcurrency).toBe(8);
    expect(settingsFrom({ workerConcurrency: '30', orgConcurrency: '8' }).workerConcurrency).toBe(
      30,
    );
    expect(() => settingsFrom({ workerConcurrency: '0' })).toThrow(/workerConcurrency/);
  });

  it('takes a custom domain only with its certificate', () => {
    const certificateArn = 'arn:aws:acm:eu-west-1:123456789012:certificate/abc';
    expect(
      settingsFrom({ domainName: 'sync.example.com', certificateArn }).customDomain,
    ).toStrictEqual({ domainName: 'sync.example.com', certificateArn });
    expect(() => settingsFrom({ domainName: 'sync.example.com' })).toThrow(
      /domainName and certificateArn go together/,
    );
  });

  it('lists every invalid value in one error', () => {
    const readInvalid = () =>
      settingsFrom({
        alertEmail: 'not-an-email',
        batchSize: '11',
        logLevel: 'LOUD',
        logRetentionDays: '31',
      });
    for (const key of ['alertEmail', 'batchSize', 'logLevel', 'logRetentionDays']) {
      expect(readInvalid).toThrow(new RegExp(`invalid CDK context: .*${key}`));
    }
  });
});

describe('eventSourceConcurrency', () => {
  it.each([
    [1, 2],
    [2, 2],
    [5, 5],
    [25, 25],
    [5000, 1000],
  ])('maps a worker concurrency of %i to maxConcurrency %i', (workerConcurrency, expected) => {
    expect(eventSourceConcurrency(workerConcurrency)).toBe(expected);
  });
});
