/**
 * Every `{code, message}` error body the Books side of the simulator sends, with where its code
 * comes from. Zoho's errors page shows only 0, 1000 and 1002 (reference zoho-books-api.md §4);
 * the other codes are from the secondary sources the reference names, and a few are our own
 * choice where no source names one (marked "our choice").
 */
import type { SimResponse } from './http-io';

const booksError = (status: number, code: number, message: string): SimResponse => ({
  status,
  body: { code, message },
});

export const booksErrors = {
  /** 401 + 57: invalid, expired or missing token; also (our choice) a scope it lacks (§3, §4). */
  notAuthorized: () => booksError(401, 57, 'You are not authorized to perform this operation'),

  /**
   * 6024: invalid organization id / organization not accessible with this token (§4, unconfirmed:
   * origin article). Sent for a missing `organization_id` too. The HTTP status is undocumented;
   * 400 ("bad request: malformed or missing parameter") is our choice.
   */
  invalidOrganization: () => booksError(400, 6024, 'Invalid value passed for organization_id.'),

  /** 404 + 5: "invalid URL" (§4, unconfirmed: origin article). */
  invalidUrl: () => booksError(404, 5, 'Invalid URL Passed'),

  /**
   * 405: method not allowed for that API (§3). No source names its body code; Zoho routes by
   * method and path, so an unrouted method is reported like an unknown URL (our choice).
   */
  methodNotAllowed: () => booksError(405, 5, 'Invalid URL Passed'),

  /** 1038 (§2, §4, unconfirmed: third-party troubleshooting notes). */
  jsonNotWellFormed: () => booksError(400, 1038, 'JSON is not well formed'),

  /** 404 + 1002 "<Entity> does not exist." (official example: "Invoice does not exist."). */
  doesNotExist: (entityLabel: string) => booksError(404, 1002, `${entityLabel} does not exist.`),

  /** 2: invalid ID or value in a field, also a missing one (§4, unconfirmed: origin article). */
  invalidValue: (field: string) => booksError(400, 2, `Invalid value passed for ${field}`),

  /**
   * 1001: a value already held by another record in a unique custom field. §4 says 1001 is
   * "widely believed" to mean "already exists" (unconfirmed).
   */
  alreadyExists: (entityLabel: string, fieldLabel: string, value: string) =>
    booksError(400, 1001, `${entityLabel} with ${fieldLabel} "${value}" already exists.`),

  /**
   * 3062: duplicate contact display name (§4: "sometimes reported as 3062", unconfirmed; that
   * contact_name is unique per organization is itself assumed there).
   */
  duplicateContactName: () => booksError(400, 3062, 'The customer name already exists.'),

  /** 1001 for a duplicate invoice number (our choice, as for other duplicates). */
  duplicateInvoiceNumber: (invoiceNumber: string) =>
    booksError(400, 1001, `Invoice number ${invoiceNumber} already exists.`),

  /**
   * An operation the record's state forbids (editing a void or paid invoice, deleting a contact
   * that has invoices...). No source names a code; 4030 is our choice inside the 3000-4999
   * "module-specific validation" range the reference mentions (§4).
   */
  notAllowedInState: (message: string) => booksError(400, 4030, message),

  /**
   * 429 + 44: too many requests in the per-minute window (§4: 44 = per-minute, unconfirmed:
   * third-party summary of the Zoho Invoice docs). The sources disagree on 45 (per-minute in the
   * origin article, daily in that summary); the summary is the only one that names both, so we
   * follow it: 44 per window, 45 per day.
   */
  windowLimit: () =>
    booksError(429, 44, 'You have made too many requests. Please try again after some time.'),

  /** 429 + 45: the organization's daily quota is spent (§4, see above; our wording). */
  dailyLimit: (dailyLimit: number) =>
    booksError(
      429,
      45,
      `You have exceeded the maximum number of API calls allowed per day (${dailyLimit}). ` +
        'Please try again tomorrow.',
    ),

  /** 429 + 1070: too many concurrent in-process requests (§4, §5, unconfirmed). */
  concurrencyLimit: () =>
    booksError(
      429,
      1070,
      'You have exceeded the maximum number of concurrent in-process requests. ' +
        'Please try again after some time.',
    ),

  /** 500 + 1000 "Internal error" (official). */
  internalError: () => booksError(500, 1000, 'Internal error'),
} as const;
