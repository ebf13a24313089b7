import { describe, expect, it } from 'vitest';
import { MAX_ZOHO_WAIT_SECONDS, parseRateLimitHeaders } from '../../../lib/zoho';

describe('rate-limit-headers', () => {
  it('reads the Books headers', () => {
    const headers = new Headers({
      'X-Rate-Limit-Limit': '7500',
      'X-Rate-Limit-Remaining': '6775',
      'X-Rate-Limit-Reset': '34881',
    });

    expect(parseRateLimitHeaders(headers)).toStrictEqual({
      limit: 7500,
      remaining: 6775,
      resetSeconds: 34881,
    });
  });

  it('reads the CRM headers in any casing', () => {
    const headers = new Headers({
      'X-RATELIMIT-LIMIT': '100',
      'x-ratelimit-remaining': '0',
      'X-RateLimit-Reset': '12',
    });

    expect(parseRateLimitHeaders(headers)).toStrictEqual({
      limit: 100,
      remaining: 0,
      resetSeconds: 12,
    });
  });

  it('reads Retry-After in seconds', () => {
    expect(parseRateLimitHeaders(new Headers({ 'Retry-After': '120' }))).toStrictEqual({
      retryAfterSeconds: 120,
    });
  });

  it('reads Retry-After as an HTTP date', () => {
    expect(
      parseRateLimitHeaders(new Headers({ 'Retry-After': 'Wed, 25 Nov 2026 16:00:00 GMT' })),
    ).toStrictEqual({ retryAfterEpochMs: Date.UTC(2026, 10, 25, 16, 0, 0) });
  });

  it('ignores values that are not whole non-negative numbers', () => {
    const headers = new Headers({
      'X-Rate-Limit-Limit': 'lots',
      'X-Rate-Limit-Remaining': '-1',
      'Retry-After': 'soon',
    });

    expect(parseRateLimitHeaders(headers)).toBeUndefined();
  });

  it('returns undefined when there are no rate-limit headers', () => {
    expect(parseRateLimitHeaders(new Headers({ 'Content-Type': 'application/json' }))).toBe(
      undefined,
    );
  });

  it('reads a reset header as an instant when it is epoch seconds', () => {
    expect(
      parseRateLimitHeaders(new Headers({ 'X-Rate-Limit-Reset': '1796342400' })),
    ).toStrictEqual({ resetAtEpochMs: 1_796_342_400_000 });
  });

  it('believes no wait longer than a day and an hour', () => {
    expect(
      parseRateLimitHeaders(
        new Headers({ 'X-Rate-Limit-Reset': '999999999', 'Retry-After': '31536000' }),
      ),
    ).toStrictEqual({
      resetSeconds: MAX_ZOHO_WAIT_SECONDS,
      retryAfterSeconds: MAX_ZOHO_WAIT_SECONDS,
    });
    expect(MAX_ZOHO_WAIT_SECONDS).toBe(25 * 3600);
  });
});
