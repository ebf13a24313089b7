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

export interface BreakerOpenedContext extends AlertContext {
  /** How long until the first half-open probe. */
  readonly cooldownSeconds: number;
}

const minutes = (seconds: number): string =>
  seconds % 60 === 0 ? `${seconds / 60} min` : `${seconds} s`;

/**
 * The one alert sent when a connection's circuit breaker opens: the failure (from the error
 * table), that work is parked rather than lost, and the three ways it closes again.
 */
export const renderBreakerOpenedAlert = (
  failure: FailureDescription,
  context: BreakerOpenedContext,
): AdminAlert => {
  const { connectionId } = context;
  const lines = [
    `zoho-sync stopped calling Zoho for connection ${connectionId}: this error means every call of the connection fails the same way until an admin fixes it.`,
    `Work for ${connectionId} is parked, not lost, and nothing is retried against Zoho until the circuit breaker closes.`,
    '',
    ...failureLines(failure, context, 'circuit breaker opened; work for this connection parked'),
    '',
    'It closes:       when the connection secret changes (the next message tests it at once),',
    `                 or when a probe succeeds (one message is let through every ${minutes(context.cooldownSeconds)}),`,
    `                 or by hand: ${cliCommand(`breaker reset --connection ${connectionId}`)}`,
    'When it closes, the parked work is sent back to the sync queue and you get one more alert.',
    `Status:          ${cliCommand(`breaker status --connection ${connectionId}`)}`,
    ...(context.correlationId
      ? [`Correlation id:  ${context.correlationId} (search the logs for it)`]
      : []),
    ...(context.notes === undefined || context.notes.length === 0 ? [] : ['', ...context.notes]),
  ];
  return {
    subject: toSnsSubject(
      `[zoho-sync] ${connectionId}: connection stopped - ${failureHeadline(failure)}`,
    ),
    body: lines.join('\n'),
    attributes: { connection: connectionId, code: alertCode(failure), severity: 'critical' },
  };
};

export type BreakerCloseReason = 'probe-succeeded' | 'secret-changed' | 'operator-reset';

export interface BreakerClosedInput {
  readonly connectionId: string;
  readonly reason: BreakerCloseReason;
  /** The code and title of the failure that had opened it. */
  readonly code: string;
  readonly title: string;
  readonly openedAtMs: number;
  readonly closedAtMs: number;
  /** Parked messages sent back to the sync queue. */
  readonly releasedMessages: number;
  /** Parked messages not sent back yet (more than one close releases). */
  readonly remainingParked: number;
}

const REASON_TEXT: Record<BreakerCloseReason, string> = {
  'probe-succeeded': 'a probe message reached Zoho without the connection error',
  'secret-changed':
    'the connection secret was changed and the next message reached Zoho without the connection error',
  'operator-reset': 'an operator reset it',
};

/** The one alert sent when a connection's circuit breaker closes again. */
export const renderBreakerClosedAlert = (input: BreakerClosedInput): AdminAlert => {
  const lines = [
    `zoho-sync is calling Zoho again for connection ${input.connectionId}: ${REASON_TEXT[input.reason]}.`,
    '',
    `Connection:      ${input.connectionId}`,
    `Had stopped on:  ${input.code} ${input.title}`,
    `Stopped from:    ${new Date(input.openedAtMs).toISOString()}`,
    `Resumed at:      ${new Date(input.closedAtMs).toISOString()}`,
    `Parked work:     ${input.releasedMessages} message(s) sent back to the sync queue`,
    ...(input.remainingParked > 0
      ? [
          `Still parked:    ${input.remainingParked} message(s); release them with ${cliCommand(`breaker reset --connection ${input.connectionId}`)}`,
        ]
      : []),
    '',
    `Messages that failed for other reasons meanwhile are in the dead-letter queue: ${cliCommand(`dlq list --connection ${input.connectionId}`)}`,
  ];
  return {
    subject: toSnsSubject(
      `[zoho-sync] ${input.connectionId}: connection resumed (was ${input.code} ${input.title})`,
    ),
    body: lines.join('\n'),
    attributes: { connection: input.connectionId, code: input.code, severity: 'info' },
  };
};
