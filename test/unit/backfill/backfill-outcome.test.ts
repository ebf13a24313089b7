import { describe, expect, it } from 'vitest';
import { backfillOutcomeOf, estimate } from '../../../lib/backfill';
import { toConnection } from '../../../lib/config';

describe('backfillOutcomeOf', () => {
  it('counts every worker outcome that ends a message, and none that comes back', () => {
    expect(backfillOutcomeOf('synced')).toBe('synced');
    expect(backfillOutcomeOf('unchanged')).toBe('synced');
    expect(backfillOutcomeOf('deactivated')).toBe('synced');
    expect(backfillOutcomeOf('skipped')).toBe('skipped');
    expect(backfillOutcomeOf('coalesced')).toBe('skipped');
    expect(backfillOutcomeOf('dead-lettered')).toBe('failed');
    for (const status of ['deferred', 'retrying', 'parked']) {
      expect(backfillOutcomeOf(status)).toBeUndefined();
    }
    // A status added later ends the message rather than leaving the backfill waiting.
    expect(backfillOutcomeOf('some-new-status')).toBe('skipped');
  });
});

describe('backfill estimate', () => {
  const connection = toConnection('acme', {
    dataCenter: 'com',
    clientId: 'c',
    clientSecret: 's',
    refreshToken: 'r',
    booksOrganizationId: '1',
    plan: 'standard',
    webhookSecret: 'w'.repeat(16),
  } as Parameters<typeof toConnection>[1]);

  it('paces at the share of the window and counts the days the quota forces', () => {
    // 100 per minute at share 0.5: 50 records a minute.
    const today = estimate(connection, 0.5, 500, 4_100, 3_600_000);
    expect(today.perMinute).toBe(50);
    expect(today.etaMs).toBe(10 * 60_000);
    // 12,400 records, 4,100 calls left today but an hour to go (3,000 at 50 a minute), then a
    // 2,000-a-day plan: the rest of today, four full days, and 1,400 records on the fifth.
    const days = estimate(connection, 0.5, 12_400, 4_100, 3_600_000);
    expect(days.etaMs).toBe(3_600_000 + 4 * 86_400_000 + 28 * 60_000);
    expect(estimate(connection, 0.5, 0, 0, 0).etaMs).toBe(0);
  });
});
