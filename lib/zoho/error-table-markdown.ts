import { ZOHO_ERROR_TABLE, type ZohoErrorEntry } from './error-table';

/** The comments that fence the generated table inside README.md. */
export const ERROR_TABLE_MARKERS = {
  start: '<!-- error-table:start -->',
  end: '<!-- error-table:end -->',
} as const;

const SERVICE_NAMES = {
  books: 'Books',
  crm: 'CRM',
  accounts: 'Accounts',
  any: 'Any',
} as const satisfies Record<ZohoErrorEntry['service'], string>;

const INTRO = [
  '## Zoho errors and what zoho-sync does about them',
  '',
  'Generated from `lib/zoho/error-table.ts` (the only place a Zoho code is given a meaning) by',
  '`npx tsx lib/zoho/print-error-table.ts --write`; do not edit it by hand. That file also names the',
  'source of every row: an official Zoho page, or a secondary source marked unconfirmed.',
  '',
  'Actions:',
  '',
  '- `refresh-token-and-retry`: refresh the access token once (one refresher per connection), then',
  '  replay the call once; if it fails again, it is alerted.',
  '- `defer`: not a failure. The work waits (the time shown, or what Zoho asks for) and runs again.',
  '- `backoff`: transient. Retried with growing delays a bounded number of times, then',
  '  dead-lettered with an alert.',
  '- `fail-alert`: not retried. Dead-lettered, and an admin gets an alert with the fix below.',
  '- `fail-quiet`: not retried and not alerted: there is nothing to do.',
  '- "stops the connection": every call of the connection would fail the same way, so its circuit',
  '  breaker opens until an admin fixes the setting.',
  '',
  'Books code 0 means success and has no row. A code without a row falls back to its HTTP status',
  '(401: refresh, 429: defer, 5xx: backoff, other 4xx: fail-alert) and is logged as unknown.',
  'In the fixes, `<connection-id>` is the connection and `zoho-sync/<connection-id>` its secret in',
  'Secrets Manager (with the default prefix).',
  '',
  '| Service | HTTP | Code | Meaning | Action | How to fix |',
  '|---|---|---|---|---|---|',
];

const escapeCell = (text: string): string =>
  text
    .replace(/\s*\n\s*/g, ' ')
    .replaceAll('|', '\\|')
    .replaceAll('<', '&lt;')
    .replaceAll('>', '&gt;');

// After escaping, so the angle brackets of the placeholders survive inside code spans.
const fillPlaceholders = (text: string): string =>
  text
    .replaceAll('{secretId}', '`zoho-sync/<connection-id>`')
    .replaceAll('{connectionId}', '`<connection-id>`');

const formatRange = (from: number, to: number): string =>
  from % 100 === 0 && to === from + 99 ? `${from / 100}xx` : `${from}–${to}`;

const httpCell = (entry: ZohoErrorEntry): string => {
  if (entry.httpStatus !== undefined) return String(entry.httpStatus);
  if (entry.httpStatusRange !== undefined) {
    return formatRange(entry.httpStatusRange.from, entry.httpStatusRange.to);
  }
  return entry.code !== undefined || entry.codeRange !== undefined ? 'any' : '—';
};

const codeCell = (entry: ZohoErrorEntry): string => {
  if (entry.code !== undefined) return `\`${escapeCell(String(entry.code))}\``;
  if (entry.codeRange !== undefined) return `${entry.codeRange.from}–${entry.codeRange.to}`;
  return '—';
};

const formatWait = (ms: number): string =>
  ms % 60_000 === 0 ? `${ms / 60_000} min` : `${Math.round(ms / 1000)} s`;

const actionCell = (entry: ZohoErrorEntry): string => {
  const wait = entry.retryAfterMs === undefined ? '' : ` (${formatWait(entry.retryAfterMs)})`;
  const scope = entry.scope === 'connection' ? '; stops the connection' : '';
  return `\`${entry.action}\`${wait}${scope}`;
};

const meaningCell = (entry: ZohoErrorEntry): string => {
  const note = entry.note === undefined ? '' : ` Note: ${entry.note}`;
  return `**${escapeCell(entry.title)}**: ${escapeCell(`${entry.meaning}${note}`)}`;
};

const row = (entry: ZohoErrorEntry): string =>
  `| ${[
    SERVICE_NAMES[entry.service],
    httpCell(entry),
    codeCell(entry),
    meaningCell(entry),
    actionCell(entry),
    fillPlaceholders(escapeCell(entry.fix)),
  ].join(' | ')} |`;

/**
 * Renders the error table as the README section "Zoho errors and what zoho-sync does about
 * them". Deterministic: the README test compares it with the block between
 * {@link ERROR_TABLE_MARKERS}.
 */
export const renderErrorTableMarkdown = (
  table: readonly ZohoErrorEntry[] = ZOHO_ERROR_TABLE,
): string => [...INTRO, ...table.map(row)].join('\n');

/** The text between the markers in `readme`, or `undefined` when they are missing. */
export const extractErrorTableBlock = (readme: string): string | undefined => {
  const start = readme.indexOf(ERROR_TABLE_MARKERS.start);
  const end = readme.indexOf(ERROR_TABLE_MARKERS.end);
  if (start === -1 || end === -1 || end < start) return undefined;
  return readme.slice(start + ERROR_TABLE_MARKERS.start.length, end).trim();
};

/**
 * Returns `readme` with the block between the markers replaced by `markdown`.
 * @throws {Error} when the markers are missing.
 */
export const replaceErrorTableBlock = (readme: string, markdown: string): string => {
  const start = readme.indexOf(ERROR_TABLE_MARKERS.start);
  const end = readme.indexOf(ERROR_TABLE_MARKERS.end);
  if (start === -1 || end === -1 || end < start) {
    throw new Error(
      `README has no ${ERROR_TABLE_MARKERS.start} ... ${ERROR_TABLE_MARKERS.end} block`,
    );
  }
  return `${readme.slice(0, start)}${ERROR_TABLE_MARKERS.start}\n${markdown}\n${readme.slice(end)}`;
};
