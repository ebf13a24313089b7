import type { FailureDescription } from '../failures/describe-failure';
import {
  type AdminAlert,
  type AlertContext,
  alertCode,
  cliCommand,
  failureHeadline,
  failureLines,
  toSnsSubject,
} from './admin-alert';

export interface StormAlertContext extends AlertContext {
  /** Distinct records that failed with this code in the window so far. */
  readonly records: number;
  readonly windowStartMs: number;
  readonly windowEndMs: number;
}

/**
 * The summary alert of a storm: many records of one connection failing with the same code in
 * one alert window. It replaces the per-record alerts from here to the end of the window; the
 * records that still fail are counted and reported in the next alert for the code.
 */
export const renderStormAlert = (
  failure: FailureDescription,
  context: StormAlertContext,
): AdminAlert => {
  const { connectionId } = context;
  const code = alertCode(failure);
  const since = new Date(context.windowStartMs).toISOString();
  const until = new Date(context.windowEndMs).toISOString();
  const lines = [
    `${context.records} records of connection ${connectionId} failed with code ${code} (${failure.title}) since ${since}.`,
    `Until ${until}, further records failing with code ${code} are dead-lettered without an alert each; their number is in the next alert for this code.`,
    '',
    ...failureLines(failure, context, `${failure.action}; each record is in the dead-letter queue`),
    '',
    ...(context.correlationId
      ? [`Correlation id:  ${context.correlationId} (latest record; search the logs for it)`]
      : []),
    `List them:       ${cliCommand(`dlq list --connection ${connectionId}`)}`,
    `Replay them all: ${cliCommand(`redrive --connection ${connectionId} --all`)} (after fixing the cause)`,
    ...(context.notes === undefined || context.notes.length === 0 ? [] : ['', ...context.notes]),
  ];
  return {
    subject: toSnsSubject(
      `[zoho-sync] ${connectionId}: ${context.records} records failed - ${failureHeadline(failure)}`,
    ),
    body: lines.join('\n'),
    attributes: {
      connection: connectionId,
      code,
      severity: failure.scope === 'connection' ? 'critical' : 'error',
    },
  };
};
