import type { FailureDescription } from '../sync/describe-failure';

/** SNS subjects: ASCII, no line breaks, at most 100 characters. */
export const MAX_SUBJECT_LENGTH = 100;

export interface AdminAlert {
  readonly subject: string;
  readonly body: string;
  readonly attributes: {
    readonly connection: string;
    readonly code: string;
    readonly severity: 'critical' | 'error' | 'warning' | 'info';
  };
}

export interface AlertContext {
  readonly connectionId: string;
  readonly crmModule?: string;
  readonly crmRecordId?: string;
  readonly correlationId?: string;
  readonly messageId?: string;
  readonly attempts?: number;
  readonly secretId?: string;
  /** Extra lines, e.g. "12 similar alerts were suppressed in the last hour". */
  readonly notes?: readonly string[];
}

const SERVICE_NAME: Record<string, string> = {
  books: 'Zoho Books',
  crm: 'Zoho CRM',
  accounts: 'Zoho Accounts',
};

/** Makes a string safe for an SNS subject: printable ASCII only, one line, length-capped. */
export const toSnsSubject = (text: string): string => {
  const ascii = text
    .normalize('NFKD')
    .replace(/[^\x20-\x7E]/g, '')
    .replace(/\s+/g, ' ')
    .trim();
  return ascii.length <= MAX_SUBJECT_LENGTH
    ? ascii
    : `${ascii.slice(0, MAX_SUBJECT_LENGTH - 3)}...`;
};

const codeLabel = (failure: FailureDescription): string =>
  String(failure.zohoCode ?? failure.httpStatus ?? failure.entryId);

/**
 * Renders the one admin alert format from a failure (whose words come from the error table):
 * what broke, what it means, how to fix it, where to look and how to replay.
 */
export const renderAdminAlert = (
  failure: FailureDescription,
  context: AlertContext,
): AdminAlert => {
  const service =
    failure.service === undefined
      ? 'zoho-sync'
      : (SERVICE_NAME[failure.service] ?? failure.service);
  const fix = failure.fix
    .replaceAll('{connectionId}', context.connectionId)
    .replaceAll('{secretId}', context.secretId ?? `zoho-sync/${context.connectionId}`);
  const lines = [
    `zoho-sync could not sync a record and will not retry it on its own.`,
    '',
    `Connection:      ${context.connectionId}`,
    ...(context.crmModule
      ? [`CRM record:      ${context.crmModule} ${context.crmRecordId ?? ''}`]
      : []),
    ...(failure.endpoint ? [`Zoho endpoint:   ${failure.endpoint}`] : []),
    ...(failure.httpStatus !== undefined ? [`HTTP status:     ${failure.httpStatus}`] : []),
    ...(failure.zohoCode !== undefined ? [`Zoho code:       ${failure.zohoCode}`] : []),
    ...(failure.zohoMessage ? [`Zoho message:    ${failure.zohoMessage}`] : []),
    `Error:           ${failure.title}${failure.unknown ? ' (code not in the error table)' : ''}`,
    `Action taken:    ${failure.action}`,
    ...(context.attempts !== undefined ? [`Attempts:        ${context.attempts}`] : []),
    '',
    `What it means:   ${failure.meaning}`,
    `How to fix it:   ${fix}`,
    '',
    ...(context.correlationId
      ? [`Correlation id:  ${context.correlationId} (search the logs for it)`]
      : []),
    ...(context.messageId
      ? [
          `Replay:          npx zoho-sync redrive --connection ${context.connectionId} --message ${context.messageId}`,
        ]
      : []),
    ...(context.notes ?? []),
  ];
  return {
    subject: toSnsSubject(
      `[zoho-sync] ${context.connectionId}: ${service} ${codeLabel(failure)} ${failure.title}`,
    ),
    body: lines.join('\n'),
    attributes: {
      connection: context.connectionId,
      code: codeLabel(failure),
      severity: failure.scope === 'connection' ? 'critical' : 'error',
    },
  };
};
