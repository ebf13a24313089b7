import type { FailureDescription } from '../failures/describe-failure';

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

/**
 * How alerts and docs spell a CLI command: the package's `bin`, so it works in a checkout and
 * wherever zoho-sync is installed (`npm run cli --` is only an alias inside a checkout).
 */
export const cliCommand = (args: string): string => `npx zoho-sync ${args}`;

/**
 * The code an alert is filed under: Zoho's code, else the HTTP status, else the row id. Books
 * code 0 means "success", so a failing status with code 0 is filed under the status.
 */
export const alertCode = (failure: FailureDescription): string =>
  String(
    (failure.zohoCode === 0 ? undefined : failure.zohoCode) ??
      failure.httpStatus ??
      failure.entryId,
  );

const serviceName = (failure: FailureDescription): string =>
  failure.service === undefined ? 'zoho-sync' : (SERVICE_NAME[failure.service] ?? failure.service);

/** `Zoho Books 6024 Invalid organization ID`: the part of a subject that names the failure. */
export const failureHeadline = (failure: FailureDescription): string =>
  `${serviceName(failure)} ${alertCode(failure)} ${failure.title}`;

/** The fix text with its `{connectionId}` / `{secretId}` placeholders filled in. */
export const renderFixText = (
  failure: FailureDescription,
  context: Pick<AlertContext, 'connectionId' | 'secretId'>,
): string =>
  failure.fix
    .replaceAll('{connectionId}', context.connectionId)
    .replaceAll('{secretId}', context.secretId ?? `zoho-sync/${context.connectionId}`);

/**
 * The lines every failure alert shares: where it happened, what Zoho said, what it means and
 * how to fix it. Codes the error table does not know are flagged as such.
 */
export const failureLines = (
  failure: FailureDescription,
  context: AlertContext,
  actionTaken: string,
): string[] => [
  `Connection:      ${context.connectionId}`,
  ...(context.crmModule
    ? [`CRM record:      ${context.crmModule} ${context.crmRecordId ?? ''}`]
    : []),
  ...(failure.endpoint ? [`Zoho endpoint:   ${failure.endpoint}`] : []),
  ...(failure.httpStatus !== undefined ? [`HTTP status:     ${failure.httpStatus}`] : []),
  ...(failure.zohoCode !== undefined ? [`Zoho code:       ${failure.zohoCode}`] : []),
  ...(failure.zohoMessage ? [`Zoho message:    ${failure.zohoMessage}`] : []),
  `Error:           ${failure.title}${failure.unknown ? ' (UNKNOWN CODE: not in the error table; handled by its HTTP status)' : ''}`,
  `Action taken:    ${actionTaken}`,
  ...(context.attempts !== undefined ? [`Attempts:        ${context.attempts}`] : []),
  '',
  `What it means:   ${failure.meaning}`,
  `How to fix it:   ${renderFixText(failure, context)}`,
];

const ACTION_TAKEN: Record<FailureDescription['action'], string> = {
  'fail-alert': 'not retried; the message is in the dead-letter queue',
  backoff: 'retried with growing delays until the attempts ran out; now in the dead-letter queue',
  'refresh-token-and-retry':
    'refreshed the access token and replayed once; Zoho refused again; now in the dead-letter queue',
  defer: 'deferred; now in the dead-letter queue',
  'fail-quiet': 'not retried',
};

/**
 * Renders the one admin alert format from a failure (whose words come from the error table):
 * what broke, what it means, how to fix it, where to look and how to replay.
 */
export const renderAdminAlert = (
  failure: FailureDescription,
  context: AlertContext,
): AdminAlert => {
  const lines = [
    'zoho-sync could not sync a record and will not retry it on its own.',
    '',
    ...failureLines(failure, context, `${failure.action}: ${ACTION_TAKEN[failure.action]}`),
    '',
    ...(context.correlationId
      ? [`Correlation id:  ${context.correlationId} (search the logs for it)`]
      : []),
    ...(context.messageId
      ? [
          `Explain:         ${cliCommand(`dlq explain ${context.messageId}`)}`,
          `Replay:          ${cliCommand(`redrive --connection ${context.connectionId} --message ${context.messageId}`)}`,
        ]
      : []),
    ...(context.notes === undefined || context.notes.length === 0 ? [] : ['', ...context.notes]),
  ];
  return {
    subject: toSnsSubject(`[zoho-sync] ${context.connectionId}: ${failureHeadline(failure)}`),
    body: lines.join('\n'),
    attributes: {
      connection: context.connectionId,
      code: alertCode(failure),
      severity: failure.scope === 'connection' ? 'critical' : 'error',
    },
  };
};
