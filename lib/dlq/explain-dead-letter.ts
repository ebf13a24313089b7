import { cliCommand } from '../alerts';
import { connectionSecretId } from '../config';
import { findErrorEntry, renderFix } from '../zoho';
import type { DeadLetter } from './dead-letter-queue';

/** One line per dead-lettered message, for `dlq list`. */
export const summarizeDeadLetter = (deadLetter: DeadLetter): string => {
  const when =
    deadLetter.deadLetteredAtMs === undefined
      ? 'unknown time'
      : new Date(deadLetter.deadLetteredAtMs).toISOString();
  const record =
    deadLetter.message === undefined
      ? 'unreadable body'
      : `${deadLetter.message.crmModule} ${deadLetter.message.crmRecordId}`;
  const error = deadLetter.lastError;
  const cause =
    error === undefined
      ? 'no error recorded (moved by SQS after repeated crashes)'
      : `${error.zohoCode ?? error.httpStatus ?? error.entryId} ${error.message} [${error.action}]`;
  return [
    deadLetter.messageId ?? deadLetter.sqsMessageId,
    deadLetter.connectionId ?? 'unknown',
    record,
    cause,
    `attempts=${deadLetter.attempts ?? '?'}`,
    when,
  ].join('  ');
};

/**
 * Explains one dead-lettered message in the words of the error table (the same words the alert
 * used): what failed, what it means, how to fix it, and how to replay it.
 */
export const explainDeadLetter = (
  deadLetter: DeadLetter,
  options: { readonly secretPrefix: string },
): string => {
  const message = deadLetter.message;
  const connectionId = deadLetter.connectionId ?? 'unknown';
  const secretId = connectionSecretId(options.secretPrefix, connectionId);
  const lines = [
    `Message:         ${deadLetter.messageId ?? '(unreadable)'} (SQS ${deadLetter.sqsMessageId})`,
    `Connection:      ${connectionId}`,
  ];
  if (message === undefined) {
    lines.push(
      'Body:            not a zoho-sync sync message; it cannot be redriven.',
      `                 ${deadLetter.body.slice(0, 500)}`,
    );
    return lines.join('\n');
  }
  lines.push(
    `CRM record:      ${message.crmModule} ${message.crmRecordId}`,
    `Correlation id:  ${message.correlationId} (search the logs for it)`,
    `Source:          ${message.source}, received ${new Date(message.receivedAtMs).toISOString()}`,
    `Attempts:        ${deadLetter.attempts ?? 'unknown'}`,
    ...(deadLetter.deadLetteredAtMs === undefined
      ? []
      : [`Dead-lettered:   ${new Date(deadLetter.deadLetteredAtMs).toISOString()}`]),
  );
  const error = deadLetter.lastError;
  if (error === undefined) {
    lines.push(
      '',
      'Last error:      none recorded. SQS moved this message here after it was received the',
      '                 maximum number of times without success: the worker crashed or timed out',
      '                 on it each time. Search the logs for the correlation id.',
    );
  } else {
    const entry = findErrorEntry(error.entryId);
    lines.push(
      '',
      `Last error:      ${error.entryId}${error.httpStatus === undefined ? '' : `, HTTP ${error.httpStatus}`}${error.zohoCode === undefined ? '' : `, Zoho code ${error.zohoCode}`}`,
      `Error:           ${entry?.title ?? error.message}`,
      `Action:          ${error.action}`,
      `Failed at:       ${new Date(error.atMs).toISOString()}`,
    );
    if (entry === undefined) {
      lines.push(
        `What it means:   ${error.message} (a zoho-sync failure, not a Zoho error code)`,
        'How to fix it:   Search the logs for the correlation id; fix the cause, then redrive.',
      );
    } else {
      lines.push(
        `What it means:   ${entry.meaning}`,
        `How to fix it:   ${renderFix(entry, { connectionId, secretId })}`,
        ...(entry.note === undefined ? [] : [`Note:            ${entry.note}`]),
      );
    }
  }
  lines.push(
    '',
    `Replay:          ${cliCommand(`redrive --connection ${connectionId} --message ${message.messageId}`)}`,
  );
  return lines.join('\n');
};
