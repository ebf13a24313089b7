import { describe, expect, it } from 'vitest';
import {
  alertCode,
  MAX_SUBJECT_LENGTH,
  renderBreakerClosedAlert,
  renderBreakerOpenedAlert,
  renderStormAlert,
} from '../../../lib/alerts';
import type { FailureDescription } from '../../../lib/failures';

const invalidOrganization: FailureDescription = {
  entryId: 'books-6024',
  action: 'fail-alert',
  title: 'Invalid organization ID',
  meaning: 'The organization_id is wrong.',
  fix: 'Check booksOrganizationId in secret {secretId} of connection {connectionId}.',
  scope: 'connection',
  service: 'books',
  httpStatus: 400,
  zohoCode: 6024,
  zohoMessage: 'Invalid value passed for organization_id.',
  endpoint: '/books/v3/contacts',
  unknown: false,
};

const invalidValue: FailureDescription = {
  ...invalidOrganization,
  entryId: 'books-2',
  title: 'Invalid value',
  scope: 'record',
  zohoCode: 2,
};

describe('breaker-alert', () => {
  it('says that the connection stopped, that work is parked, and how it closes', () => {
    const alert = renderBreakerOpenedAlert(invalidOrganization, {
      connectionId: 'acme',
      secretId: 'zoho-sync/acme',
      cooldownSeconds: 900,
    });

    expect(alert.subject).toBe(
      '[zoho-sync] acme: connection stopped - Zoho Books 6024 Invalid organization ID',
    );
    expect(alert.attributes).toStrictEqual({
      connection: 'acme',
      code: '6024',
      severity: 'critical',
    });
    const lines = alert.body.split('\n');
    expect(lines).toContain(
      'How to fix it:   Check booksOrganizationId in secret zoho-sync/acme of connection acme.',
    );
    expect(lines).toContain(
      '                 or when a probe succeeds (one message is let through every 15 min),',
    );
    expect(lines).toContain(
      '                 or by hand: npx zoho-sync breaker reset --connection acme',
    );
  });

  it('reports why it closed and how much parked work went back', () => {
    const alert = renderBreakerClosedAlert({
      connectionId: 'acme',
      reason: 'operator-reset',
      code: '6024',
      title: 'Invalid organization ID',
      openedAtMs: Date.UTC(2026, 0, 5, 9, 0),
      closedAtMs: Date.UTC(2026, 0, 5, 9, 42),
      releasedMessages: 12,
      remainingParked: 3,
    });

    expect(alert.subject).toBe(
      '[zoho-sync] acme: connection resumed (was 6024 Invalid organization ID)',
    );
    expect(alert.attributes.severity).toBe('info');
    expect(alert.body.split('\n')).toEqual(
      expect.arrayContaining([
        'zoho-sync is calling Zoho again for connection acme: an operator reset it.',
        'Stopped from:    2026-01-05T09:00:00.000Z',
        'Resumed at:      2026-01-05T09:42:00.000Z',
        'Parked work:     12 message(s) sent back to the sync queue',
        'Still parked:    3 message(s); release them with npx zoho-sync breaker reset --connection acme',
      ]),
    );
  });
});

describe('storm-alert', () => {
  it('summarises many records failing with one code in a window', () => {
    const alert = renderStormAlert(invalidValue, {
      connectionId: 'acme',
      records: 5,
      windowStartMs: Date.UTC(2026, 0, 5, 9),
      windowEndMs: Date.UTC(2026, 0, 5, 10),
      notes: ['3 repeat(s) of this alert were held back since 2026-01-05T08:12:00.000Z.'],
    });

    expect(alert.subject).toBe('[zoho-sync] acme: 5 records failed - Zoho Books 2 Invalid value');
    expect(alert.attributes).toStrictEqual({ connection: 'acme', code: '2', severity: 'error' });
    expect(alert.body.split('\n')[0]).toBe(
      '5 records of connection acme failed with code 2 (Invalid value) since 2026-01-05T09:00:00.000Z.',
    );
    expect(
      alert.body.endsWith(
        '\n\n3 repeat(s) of this alert were held back since 2026-01-05T08:12:00.000Z.',
      ),
    ).toBe(true);
  });

  it('keeps a long storm subject within the SNS limit', () => {
    const alert = renderStormAlert(
      { ...invalidValue, title: 'A very long title '.repeat(10) },
      { connectionId: 'a'.repeat(40), records: 5, windowStartMs: 0, windowEndMs: 3_600_000 },
    );
    expect(alert.subject.length).toBeLessThanOrEqual(MAX_SUBJECT_LENGTH);
  });
});

describe('alertCode', () => {
  it.each([
    [{ zohoCode: 6024, httpStatus: 400 }, '6024'],
    [{ zohoCode: 'invalid_code', httpStatus: 200 }, 'invalid_code'],
    [{ zohoCode: 0, httpStatus: 500 }, '500'],
    [{ httpStatus: 503 }, '503'],
    [{}, 'books-6024'],
  ])('files %o under %s', (codes, expected) => {
    const { zohoCode: _code, httpStatus: _status, ...rest } = invalidOrganization;
    expect(alertCode({ ...rest, ...codes })).toBe(expected);
  });
});
