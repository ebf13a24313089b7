import { randomBytes } from 'node:crypto';

/**
 * Zoho ids are long numeric strings (Books: 19 digits, reference zoho-books-api.md §2), larger
 * than Number.MAX_SAFE_INTEGER, so clients must keep them as strings. These ids are `1`, the last
 * 12 digits of the simulator's start time and a 6-digit sequence: 19 digits, never starting with 0,
 * predictable under an injected clock, and different across restarts of a local run (so ids
 * remembered by an earlier run never point at a new record).
 */
export const createIdGenerator = (startMs: number): (() => string) => {
  const prefix = `1${String(Math.floor(Math.abs(startMs)) % 1e12).padStart(12, '0')}`;
  let sequence = 0;
  return () => {
    sequence += 1;
    return `${prefix}${String(sequence).padStart(6, '0')}`;
  };
};

/** Zoho's OAuth tokens and grant codes look like `1000.<32 hex>.<32 hex>`. */
export const createZohoToken = (): string =>
  `1000.${randomBytes(16).toString('hex')}.${randomBytes(16).toString('hex')}`;

const pad = (n: number) => String(n).padStart(2, '0');

/** Books writes times as `2024-05-01T09:30:00+0000` (ISO 8601, colon-less offset); UTC here. */
export const booksTimestamp = (epochMs: number): string => {
  const d = new Date(epochMs);
  const time = `${pad(d.getUTCHours())}:${pad(d.getUTCMinutes())}:${pad(d.getUTCSeconds())}`;
  return `${booksDate(epochMs)}T${time}+0000`;
};

/** Books dates are `YYYY-MM-DD`. */
export const booksDate = (epochMs: number): string => new Date(epochMs).toISOString().slice(0, 10);

/**
 * CRM writes date-times as ISO 8601 with seconds and a coloned offset, e.g.
 * `2024-05-01T09:30:00+05:30` (OAS record.json `Modified_Time`, notifications.json
 * `channel_expiry`); in the organization's time zone there, UTC (`+00:00`) here.
 */
export const crmTimestamp = (epochMs: number): string =>
  `${new Date(epochMs).toISOString().slice(0, 19)}+00:00`;
