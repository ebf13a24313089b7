import { describe, expect, it } from 'vitest';
import { quotaUsedPercent } from '../../../lib/limits';

describe('quotaUsedPercent', () => {
  it.each([
    ['our own count', { used: 40, limit: 50 }, 80],
    [
      "Zoho's count when it is higher (other apps share the organization)",
      { used: 10, limit: 50, zohoLimit: 100, zohoRemaining: 5 },
      95,
    ],
    [
      'our count when Zoho says less',
      { used: 45, limit: 50, zohoLimit: 100, zohoRemaining: 90 },
      90,
    ],
    ['100 when a call was refused for the day', { used: 3, limit: 50, spent: true }, 100],
    ['at most 100', { used: 60, limit: 50 }, 100],
  ])('takes %s', (_case, reading, percent) => {
    expect(quotaUsedPercent(reading)).toBe(percent);
  });
});
