import { type AdminAlert, toSnsSubject } from './admin-alert';

/** A daily-quota threshold crossed by one connection's Books organization. */
export interface QuotaAlertInput {
  readonly connectionId: string;
  readonly booksOrganizationId: string;
  /** `yyyy-mm-dd` in `timeZone`. */
  readonly day: string;
  readonly timeZone: string;
  readonly thresholdPercent: 80 | 100;
  /** Calls counted today and the limit they count against. */
  readonly used: number;
  readonly limit: number;
  /** Zoho's own remaining count, when its headers said so. */
  readonly zohoRemaining?: number;
  /** When deferred work resumes (ISO 8601): the next quota day or Zoho's reset. */
  readonly resumesAtIso: string;
  readonly secretId: string;
}

/**
 * Renders the admin alert for a daily-quota threshold. 80% is a warning: nothing is held back
 * yet. 100% says that Books calls stop until the quota resets and that the held-back work is
 * parked, not lost.
 */
export const renderQuotaAlert = (input: QuotaAlertInput): AdminAlert => {
  const spent = input.thresholdPercent >= 100;
  const lines = [
    spent
      ? 'zoho-sync has used the whole daily Zoho Books API quota of this connection. Books calls are held back until the quota resets; the waiting changes are parked and resume by themselves.'
      : 'zoho-sync has used 80% of the daily Zoho Books API quota of this connection. Nothing is held back yet.',
    '',
    `Connection:      ${input.connectionId}`,
    `Organization:    ${input.booksOrganizationId}`,
    `Quota day:       ${input.day} (${input.timeZone})`,
    `Calls today:     ${input.used} of ${input.limit}`,
    ...(input.zohoRemaining !== undefined
      ? [`Zoho remaining:  ${input.zohoRemaining} (X-Rate-Limit-Remaining)`]
      : []),
    `Resumes at:      ${input.resumesAtIso}`,
    '',
    'What it means:   Zoho Books limits API calls per organization and day by plan (Professional 5,000, Premium and above 10,000). Other integrations on the same organization count too.',
    `How to fix it:   If this happens often, ask Zoho to raise the organization's daily limit, check plan and dailyLimit in secret ${input.secretId} against Books > Settings > Developer and Data > API Usage, and look for other integrations using the same organization. Zoho does not document when the quota resets; set quotaTimeZone in the secret if it is not UTC midnight.`,
  ];
  return {
    subject: toSnsSubject(
      `[zoho-sync] ${input.connectionId}: Zoho Books daily quota ${spent ? 'spent' : '80% used'} (${input.day})`,
    ),
    body: lines.join('\n'),
    attributes: {
      connection: input.connectionId,
      code: `daily-quota-${input.thresholdPercent}`,
      severity: spent ? 'error' : 'warning',
    },
  };
};
