import { describe, expect, it } from 'vitest';
import {
  classifyZohoFailure,
  findErrorEntry,
  getErrorEntry,
  isFallbackEntry,
  renderFix,
  ZOHO_ERROR_TABLE,
  type ZohoErrorEntry,
  type ZohoFailureInput,
  type ZohoService,
} from '../../../lib/zoho';

const serviceFor = (entry: ZohoErrorEntry): ZohoService =>
  entry.service === 'any' ? 'books' : entry.service;

/** An exact status rows claim, which the 4xx/5xx catch-alls must therefore not be tested with. */
const exactStatuses = new Set(
  ZOHO_ERROR_TABLE.filter(
    (entry) => entry.code === undefined && entry.httpStatus !== undefined,
  ).map((entry) => entry.httpStatus),
);

/** The input that should lead classifyZohoFailure to `entry`, if any input does. */
const sampleInput = (entry: ZohoErrorEntry): ZohoFailureInput | undefined => {
  const service = serviceFor(entry);
  if (entry.code !== undefined) return { service, httpStatus: entry.httpStatus, code: entry.code };
  if (entry.codeRange !== undefined) {
    return { service, httpStatus: entry.httpStatus, code: entry.codeRange.from };
  }
  if (entry.httpStatus !== undefined) return { service, httpStatus: entry.httpStatus };
  if (entry.httpStatusRange !== undefined) {
    for (let status = entry.httpStatusRange.from; status <= entry.httpStatusRange.to; status++) {
      if (!exactStatuses.has(status)) return { service, httpStatus: status };
    }
  }
  return undefined;
};

const classifiableRows = ZOHO_ERROR_TABLE.filter((entry) => sampleInput(entry) !== undefined);

describe('error-table', () => {
  describe('ZOHO_ERROR_TABLE', () => {
    it('has unique ids', () => {
      const ids = ZOHO_ERROR_TABLE.map((entry) => entry.id);
      const duplicates = ids.filter((id, index) => ids.indexOf(id) !== index);
      expect(duplicates).toStrictEqual([]);
    });

    it('has no two rows for the same service, code and status', () => {
      const keys = ZOHO_ERROR_TABLE.filter((entry) => entry.code !== undefined).map(
        (entry) => `${entry.service}|${String(entry.code)}|${entry.httpStatus ?? '*'}`,
      );
      expect(keys.filter((key, index) => keys.indexOf(key) !== index)).toStrictEqual([]);
    });

    it('has no row for Books code 0, which means success', () => {
      expect(ZOHO_ERROR_TABLE.filter((entry) => entry.code === 0)).toStrictEqual([]);
    });

    it.each([
      2, 4, 5, 6, 9, 14, 36, 44, 45, 57, 1000, 1001, 1002, 1004, 1038, 1070, 2006, 3062, 6024,
    ])('has a row of its own for Books code %i', (code) => {
      expect(
        ZOHO_ERROR_TABLE.filter((entry) => entry.service === 'books' && entry.code === code),
      ).toHaveLength(1);
    });

    it.each([
      [3000, 3999],
      [4000, 4999],
    ])('covers the Books validation range %i-%i', (from, to) => {
      for (const code of [from, from + 500, to]) {
        expect(
          classifyZohoFailure({ service: 'books', httpStatus: 400, code }).entry.codeRange,
        ).toStrictEqual({ from, to });
      }
    });

    it.each([400, 401, 403, 404, 405, 406, 429, 500])('has a row for HTTP %i', (status) => {
      expect(
        ZOHO_ERROR_TABLE.some(
          (entry) =>
            entry.service === 'any' && entry.code === undefined && entry.httpStatus === status,
        ),
      ).toBe(true);
    });

    it.each([
      'INVALID_TOKEN',
      'AUTHENTICATION_FAILURE',
      'OAUTH_SCOPE_MISMATCH',
      'NO_PERMISSION',
      'INVALID_DATA',
      'MANDATORY_NOT_FOUND',
      'REQUIRED_PARAM_MISSING',
      'EXPECTED_FIELD_MISSING',
      'DUPLICATE_DATA',
      'DEPENDENT_FIELD_MISSING',
      'DEPENDENT_MISMATCH',
      'AMBIGUITY_DURING_PROCESSING',
      'RESERVED_KEYWORD_NOT_ALLOWED',
      'INVALID_MODULE',
      'INVALID_URL_PATTERN',
      'INVALID_REQUEST_METHOD',
      'INVALID_QUERY',
      'NOT_FOUND',
      'NO_CONTENT',
      'NO_RECORDS_FOUND',
      'NOT_ALLOWED',
      'NOT_SUPPORTED',
      'FEATURE_NOT_SUPPORTED',
      'API_NOT_SUPPORTED',
      'LIMIT_EXCEEDED',
      'LIMIT_REACHED',
      'TOO_MANY_REQUESTS',
      'RECORD_LOCKED',
      'RECORD_IN_BLUEPRINT',
      'CANNOT_PERFORM_ACTION',
      'CANNOT_PROCESS',
      'INTERNAL_ERROR',
      'NOT_SUBSCRIBED',
      'Not Modified',
    ])('has a row for CRM code %s', (code) => {
      expect(classifyZohoFailure({ service: 'crm', code }).unknown).toBe(false);
    });

    it.each([
      'invalid_client',
      'invalid_client_secret',
      'invalid_code',
      'Access Denied',
      'access_denied',
      'missing_org_info',
      'INVALID_OAUTHTOKEN',
      'invalid_token',
    ])('has a row for accounts error %s', (code) => {
      expect(classifyZohoFailure({ service: 'accounts', code }).unknown).toBe(false);
    });

    it.each(ZOHO_ERROR_TABLE)('row $id names its source with a known prefix', (entry) => {
      expect(entry.source).toMatch(
        /^(official|unconfirmed|unconfirmed for Books|zoho-sync design):/,
      );
    });

    it.each(ZOHO_ERROR_TABLE)('row $id uses only the known placeholders', (entry) => {
      const placeholders = entry.fix.match(/\{[^}]*\}/g) ?? [];
      for (const placeholder of placeholders) {
        expect(['{connectionId}', '{secretId}']).toContain(placeholder);
      }
    });

    it.each(ZOHO_ERROR_TABLE)('row $id has exactly one way to match, or none', (entry) => {
      const ways = [
        entry.code !== undefined || entry.codeRange !== undefined,
        entry.code === undefined && entry.httpStatus !== undefined,
        entry.httpStatusRange !== undefined,
      ].filter(Boolean);
      expect(ways.length).toBeLessThanOrEqual(1);
      expect(entry.code !== undefined && entry.codeRange !== undefined).toBe(false);
    });
  });

  describe('classifyZohoFailure', () => {
    it.each(classifiableRows)('classifies the input of row $id to that row', (entry) => {
      const input = sampleInput(entry);
      if (input === undefined) throw new Error('unreachable: filtered above');

      const result = classifyZohoFailure(input);

      expect(result.entry.id).toBe(entry.id);
      expect(result.entry.action).toBe(entry.action);
      expect(result.unknown).toBe(isFallbackEntry(entry));
    });

    it.each<[ZohoFailureInput, string]>([
      [{ service: 'books', httpStatus: 401, code: 57 }, 'refresh-token-and-retry'],
      [{ service: 'books', httpStatus: 400, code: 57 }, 'refresh-token-and-retry'],
      [{ service: 'books', httpStatus: 401 }, 'refresh-token-and-retry'],
      [{ service: 'crm', httpStatus: 401, code: 'INVALID_TOKEN' }, 'refresh-token-and-retry'],
      [
        { service: 'crm', httpStatus: 401, code: 'AUTHENTICATION_FAILURE' },
        'refresh-token-and-retry',
      ],
      [
        { service: 'books', httpStatus: 401, code: 'INVALID_OAUTHTOKEN' },
        'refresh-token-and-retry',
      ],
      [{ service: 'books', httpStatus: 429 }, 'defer'],
      [{ service: 'crm', httpStatus: 429 }, 'defer'],
      [{ service: 'books', httpStatus: 400, code: 44 }, 'defer'],
      [{ service: 'books', httpStatus: 429, code: 45 }, 'defer'],
      [{ service: 'books', httpStatus: 400, code: 1070 }, 'defer'],
      [{ service: 'crm', httpStatus: 429, code: 'LIMIT_EXCEEDED' }, 'defer'],
      [{ service: 'crm', httpStatus: 429, code: 'LIMIT_REACHED' }, 'defer'],
      [{ service: 'crm', httpStatus: 429, code: 'TOO_MANY_REQUESTS' }, 'defer'],
      [{ service: 'accounts', httpStatus: 200, code: 'Access Denied' }, 'defer'],
      [{ service: 'books', httpStatus: 500 }, 'backoff'],
      [{ service: 'books', httpStatus: 503 }, 'backoff'],
      [{ service: 'books', httpStatus: 500, code: 5 }, 'backoff'],
      [{ service: 'books', httpStatus: 500, code: 1000 }, 'backoff'],
      [{ service: 'crm', httpStatus: 500, code: 'INTERNAL_ERROR' }, 'backoff'],
      [{ service: 'books', httpStatus: 400, code: 6024 }, 'fail-alert'],
      [{ service: 'books', httpStatus: 400, code: 2 }, 'fail-alert'],
      [{ service: 'books', httpStatus: 404, code: 1002 }, 'fail-alert'],
      [{ service: 'books', httpStatus: 400, code: 1038 }, 'fail-alert'],
      [{ service: 'books', httpStatus: 400, code: 3062 }, 'fail-alert'],
      [{ service: 'books', httpStatus: 400, code: 4100 }, 'fail-alert'],
      [{ service: 'accounts', httpStatus: 200, code: 'invalid_client' }, 'fail-alert'],
      [{ service: 'accounts', httpStatus: 200, code: 'invalid_code' }, 'fail-alert'],
      [{ service: 'crm', httpStatus: 401, code: 'OAUTH_SCOPE_MISMATCH' }, 'fail-alert'],
      [{ service: 'crm', httpStatus: 400, code: 'LIMIT_EXCEEDED' }, 'fail-alert'],
      [{ service: 'books', httpStatus: 404 }, 'fail-alert'],
      [{ service: 'books', httpStatus: 405 }, 'fail-alert'],
      [{ service: 'crm', httpStatus: 204, code: 'NO_CONTENT' }, 'fail-quiet'],
      [{ service: 'crm', httpStatus: 404, code: 'NOT_FOUND' }, 'fail-quiet'],
    ])('classifies %o as %s', (input, action) => {
      expect(classifyZohoFailure(input).entry.action).toBe(action);
    });

    it.each([
      'books-6024',
      'accounts-invalid-client',
      'accounts-invalid-code',
      'crm-oauth-scope-mismatch',
      'wrong-data-centre',
    ])('marks %s as breaking the whole connection', (id) => {
      expect(findErrorEntry(id)?.scope).toBe('connection');
    });

    it('gives the network row the backoff action', () => {
      expect(getErrorEntry('network').action).toBe('backoff');
    });

    it('prefers the row of the service over the row for any service', () => {
      expect(classifyZohoFailure({ service: 'accounts', httpStatus: 401 }).entry.id).toBe(
        'accounts-http-401',
      );
      expect(classifyZohoFailure({ service: 'crm', httpStatus: 401 }).entry.id).toBe('http-401');
    });

    it('prefers a code row naming the status over the same code without one', () => {
      expect(
        classifyZohoFailure({ service: 'crm', httpStatus: 400, code: 'LIMIT_EXCEEDED' }).entry.id,
      ).toBe('crm-limit-exceeded-400');
      expect(
        classifyZohoFailure({ service: 'crm', httpStatus: 429, code: 'LIMIT_EXCEEDED' }).entry.id,
      ).toBe('crm-limit-exceeded');
    });

    it('prefers an exact code over the code range around it', () => {
      expect(classifyZohoFailure({ service: 'books', httpStatus: 400, code: 3062 }).entry.id).toBe(
        'books-3062',
      );
    });

    it('reads a Books code sent as a numeric string', () => {
      expect(
        classifyZohoFailure({ service: 'books', httpStatus: 400, code: '6024' }).entry.id,
      ).toBe('books-6024');
    });

    it('does not apply Books codes to CRM', () => {
      const result = classifyZohoFailure({ service: 'crm', httpStatus: 400, code: 6024 });
      expect(result.entry.id).toBe('http-400');
      expect(result.unknown).toBe(true);
    });

    it('flags an unknown code on a 4xx as unknown and fails it with an alert', () => {
      const result = classifyZohoFailure({ service: 'books', httpStatus: 400, code: 987_654 });
      expect(result).toStrictEqual({ entry: getErrorEntry('http-400'), unknown: true });
      expect(result.entry.action).toBe('fail-alert');
    });

    it('flags an unknown code on an unlisted 4xx as unknown and fails it with an alert', () => {
      const result = classifyZohoFailure({ service: 'crm', httpStatus: 418, code: 'TEAPOT' });
      expect(result).toStrictEqual({ entry: getErrorEntry('http-4xx'), unknown: true });
      expect(result.entry.action).toBe('fail-alert');
    });

    it('flags an unknown code on a 5xx as unknown and backs off', () => {
      const result = classifyZohoFailure({ service: 'crm', httpStatus: 503, code: 'BUSY_BEE' });
      expect(result).toStrictEqual({ entry: getErrorEntry('http-503'), unknown: true });
      expect(result.entry.action).toBe('backoff');
    });

    it('flags an unlisted 5xx as unknown and backs off', () => {
      const result = classifyZohoFailure({ service: 'books', httpStatus: 599 });
      expect(result).toStrictEqual({ entry: getErrorEntry('http-5xx'), unknown: true });
    });

    it('refreshes on an unknown code with HTTP 401 and defers on one with HTTP 429', () => {
      expect(
        classifyZohoFailure({ service: 'books', httpStatus: 401, code: 31_337 }),
      ).toStrictEqual({ entry: getErrorEntry('http-401'), unknown: true });
      expect(
        classifyZohoFailure({ service: 'books', httpStatus: 429, code: 31_337 }),
      ).toStrictEqual({ entry: getErrorEntry('http-429'), unknown: true });
    });

    it('classifies Books code 0 with a failing status by the status alone', () => {
      expect(classifyZohoFailure({ service: 'books', httpStatus: 500, code: 0 })).toStrictEqual({
        entry: getErrorEntry('http-500'),
        unknown: false,
      });
    });

    it.each<ZohoFailureInput>([
      { service: 'books' },
      { service: 'crm', httpStatus: 302 },
      { service: 'accounts', code: 'something_new' },
    ])('falls back to the unclassified row, failing with an alert, for %o', (input) => {
      const result = classifyZohoFailure(input);
      expect(result).toStrictEqual({ entry: getErrorEntry('unclassified'), unknown: true });
      expect(result.entry.action).toBe('fail-alert');
    });

    it('never retries an unknown failure forever: every fallback is bounded or alerted', () => {
      for (const entry of ZOHO_ERROR_TABLE.filter(isFallbackEntry)) {
        expect(['backoff', 'fail-alert']).toContain(entry.action);
      }
    });
  });

  describe('findErrorEntry', () => {
    it('returns the row with the id', () => {
      expect(findErrorEntry('books-6024')?.title).toBe('Invalid organization ID');
    });

    it('returns undefined for an id no row has', () => {
      expect(findErrorEntry('no-such-row')).toBeUndefined();
    });
  });

  describe('getErrorEntry', () => {
    it('rejects an unknown id at compile time', () => {
      // @ts-expect-error 'no-such-row' is not a ZohoErrorId
      expect(() => getErrorEntry('no-such-row')).toThrow('error table has no row no-such-row');
    });
  });

  describe('renderFix', () => {
    it('fills in the connection and secret placeholders', () => {
      const fix = renderFix(getErrorEntry('books-6024'), {
        connectionId: 'acme',
        secretId: 'zoho-sync/acme',
      });
      expect(fix).toContain('in secret zoho-sync/acme;');
      expect(fix).not.toMatch(/\{(connectionId|secretId)\}/);
    });
  });
});
