import { describe, expect, it } from 'vitest';
import { MAX_SUBJECT_LENGTH } from '../../../lib/alerts';
import { renderQuotaAlert } from '../../../lib/alerts/quota-alert';

const input = {
  connectionId: 'acme',
  booksOrganizationId: '60012345678',
  day: '2025-02-19',
  timeZone: 'UTC',
  used: 4000,
  limit: 5000,
  resumesAtIso: '2025-02-20T00:00:00.000Z',
  secretId: 'zoho-sync/acme',
};

describe('renderQuotaAlert', () => {
  it('warns at 80% that nothing is held back yet', () => {
    const alert = renderQuotaAlert({ ...input, thresholdPercent: 80 });
    expect(alert.subject).toBe('[zoho-sync] acme: Zoho Books daily quota 80% used (2025-02-19)');
    expect(alert.attributes).toStrictEqual({
      connection: 'acme',
      code: 'daily-quota-80',
      severity: 'warning',
    });
    expect(alert.body).toContain('Nothing is held back yet.');
    expect(alert.body).toContain('Calls today:     4000 of 5000');
  });

  it("says at 100% that work is parked until the reset, and quotes Zoho's remaining count", () => {
    const alert = renderQuotaAlert({
      ...input,
      used: 5000,
      thresholdPercent: 100,
      zohoRemaining: 0,
    });
    expect(alert.subject).toBe('[zoho-sync] acme: Zoho Books daily quota spent (2025-02-19)');
    expect(alert.subject.length).toBeLessThanOrEqual(MAX_SUBJECT_LENGTH);
    expect(alert.attributes.severity).toBe('error');
    expect(alert.body).toContain('parked and resume by themselves');
    expect(alert.body).toContain('Zoho remaining:  0');
    expect(alert.body).toContain('Resumes at:      2025-02-20T00:00:00.000Z');
    expect(alert.body).toContain('zoho-sync/acme');
  });
});
