import { describe, expect, it } from 'vitest';
import { ConfigError } from '../../../lib/config';
import {
  assertTimeZone,
  clampQuotaResetMs,
  quotaDayAt,
  requestWindowAt,
} from '../../../lib/limits';

const at = (iso: string): number => Date.parse(iso);

describe('requestWindowAt', () => {
  it.each([
    ['2025-03-01T10:15:42.123Z', 60, '2025-03-01T10:15:00.000Z', '2025-03-01T10:16:00.000Z'],
    ['2025-03-01T10:15:00.000Z', 60, '2025-03-01T10:15:00.000Z', '2025-03-01T10:16:00.000Z'],
    ['2025-03-01T10:15:59.999Z', 60, '2025-03-01T10:15:00.000Z', '2025-03-01T10:16:00.000Z'],
    ['2025-03-01T10:15:05.000Z', 6, '2025-03-01T10:15:00.000Z', '2025-03-01T10:15:06.000Z'],
    ['2025-03-01T10:15:07.500Z', 6, '2025-03-01T10:15:06.000Z', '2025-03-01T10:15:12.000Z'],
  ])('puts %s in the %i-second window that starts at %s', (now, seconds, start, end) => {
    expect(requestWindowAt(at(now), seconds)).toStrictEqual({ startMs: at(start), endMs: at(end) });
  });

  it('gives every instant of a window the same window, so containers agree without talking', () => {
    const first = requestWindowAt(at('2025-03-01T10:15:00.000Z'), 60);
    const last = requestWindowAt(at('2025-03-01T10:15:59.999Z'), 60);
    expect(last).toStrictEqual(first);
  });
});

describe('quotaDayAt', () => {
  it.each([
    // UTC: the default.
    [
      'UTC',
      '2025-03-01T23:59:59.000Z',
      '2025-03-01',
      '2025-03-01T00:00:00Z',
      '2025-03-02T00:00:00Z',
    ],
    [
      'UTC',
      '2025-03-02T00:00:00.000Z',
      '2025-03-02',
      '2025-03-02T00:00:00Z',
      '2025-03-03T00:00:00Z',
    ],
    // A half-hour zone: the day starts at 18:30 UTC the evening before.
    [
      'Asia/Kolkata',
      '2025-03-01T18:29:59.000Z',
      '2025-03-01',
      '2025-02-28T18:30:00Z',
      '2025-03-01T18:30:00Z',
    ],
    [
      'Asia/Kolkata',
      '2025-03-01T18:30:00.000Z',
      '2025-03-02',
      '2025-03-01T18:30:00Z',
      '2025-03-02T18:30:00Z',
    ],
    // A 45-minute zone east of UTC+12.
    [
      'Pacific/Chatham',
      '2025-06-15T00:00:00.000Z',
      '2025-06-15',
      '2025-06-14T11:15:00Z',
      '2025-06-15T11:15:00Z',
    ],
    // Spring forward: a 23-hour day in New York.
    [
      'America/New_York',
      '2024-03-10T12:00:00.000Z',
      '2024-03-10',
      '2024-03-10T05:00:00Z',
      '2024-03-11T04:00:00Z',
    ],
    // Fall back: a 25-hour day.
    [
      'America/New_York',
      '2024-11-03T12:00:00.000Z',
      '2024-11-03',
      '2024-11-03T04:00:00Z',
      '2024-11-04T05:00:00Z',
    ],
    // Chile's DST starts at midnight: 2022-09-11 begins at 01:00 local.
    [
      'America/Santiago',
      '2022-09-11T12:00:00.000Z',
      '2022-09-11',
      '2022-09-11T04:00:00Z',
      '2022-09-12T03:00:00Z',
    ],
    // Samoa skipped 30 December 2011: the 29th ended straight into the 31st.
    [
      'Pacific/Apia',
      '2011-12-29T12:00:00.000Z',
      '2011-12-29',
      '2011-12-29T10:00:00Z',
      '2011-12-30T10:00:00Z',
    ],
  ])('in %s puts %s on %s, from %s to %s', (timeZone, now, key, start, end) => {
    expect(quotaDayAt(at(now), timeZone)).toStrictEqual({
      key,
      startMs: at(start),
      endMs: at(end),
    });
  });

  it('moves on to the next existing date when a zone skips a whole day', () => {
    const day = quotaDayAt(at('2011-12-29T12:00:00.000Z'), 'Pacific/Apia');
    expect(quotaDayAt(day.endMs, 'Pacific/Apia').key).toBe('2011-12-31');
  });

  it('throws a ConfigError naming the zone when the time zone is unknown', () => {
    expect(() => quotaDayAt(0, 'Mars/Olympus_Mons')).toThrow(ConfigError);
    expect(() => assertTimeZone('Mars/Olympus_Mons')).toThrow(/Mars\/Olympus_Mons/);
  });
});

describe('clampQuotaResetMs', () => {
  const now = Date.parse('2025-03-01T23:00:00Z');
  const day = quotaDayAt(now, 'UTC');

  it('keeps a reset Zoho names before the next quota day (plus the margin)', () => {
    const at = Date.parse('2025-03-02T00:30:00Z');
    expect(clampQuotaResetMs(at, now, day)).toBe(at);
  });

  it('never waits past the next quota day plus an hour, however far off Zoho says', () => {
    expect(clampQuotaResetMs(Date.parse('2025-03-02T09:00:00Z'), now, day)).toBe(
      Date.parse('2025-03-02T01:00:00Z'),
    );
    expect(clampQuotaResetMs(Date.parse('2031-01-01T00:00:00Z'), now, day)).toBe(
      Date.parse('2025-03-02T01:00:00Z'),
    );
  });

  it('never returns a reset in the past', () => {
    expect(clampQuotaResetMs(now - 60_000, now, day)).toBe(now);
  });
});
