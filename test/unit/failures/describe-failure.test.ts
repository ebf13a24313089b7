import { describe, expect, it } from 'vitest';
import { ConfigError } from '../../../lib/config';
import { describeFailure, SyncDataError } from '../../../lib/failures';
import { TokenRefreshError } from '../../../lib/tokens/errors';
import { classifyZohoFailure, ZohoApiError } from '../../../lib/zoho';

describe('describeFailure', () => {
  it('takes every word of a Zoho failure from the error table', () => {
    const { entry, unknown } = classifyZohoFailure({
      service: 'books',
      httpStatus: 400,
      code: 6024,
    });
    const error = new ZohoApiError({
      service: 'books',
      method: 'PUT',
      endpoint: '/books/v3/contacts',
      entry,
      unknown,
      httpStatus: 400,
      zohoCode: 6024,
    });
    expect(describeFailure(error)).toMatchObject({
      entryId: entry.id,
      action: 'fail-alert',
      title: entry.title,
      fix: entry.fix,
      scope: 'connection',
      zohoCode: 6024,
      unknown: false,
    });
  });

  it('describes zoho-sync failures that Zoho did not produce', () => {
    expect(
      describeFailure(new SyncDataError('Deals', '42', 'the won deal has no Amount')),
    ).toMatchObject({
      entryId: 'sync-invalid-crm-record',
      action: 'fail-alert',
    });
    expect(describeFailure(new ConfigError('secret zoho-sync/acme is invalid'))).toMatchObject({
      entryId: 'sync-invalid-connection-secret',
      scope: 'connection',
    });
  });

  it('keeps a deliberate deferral known and deferred', () => {
    const failure = describeFailure(new TokenRefreshError('acme', 'refresh-in-progress', 30_000));
    expect(failure).toMatchObject({
      entryId: 'sync-TokenRefreshError',
      action: 'defer',
      unknown: false,
      retryAfterMs: 30_000,
    });
    expect(failure.title).toBe('Token Refresh');
  });

  it('flags anything else as an unknown crash to back off from', () => {
    expect(describeFailure(new TypeError('boom'))).toMatchObject({
      entryId: 'sync-unexpected-error',
      action: 'backoff',
      unknown: true,
    });
  });
});
