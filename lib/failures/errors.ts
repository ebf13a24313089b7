import { ZohoSyncError } from '../errors';

/**
 * Thrown when a CRM record cannot become a Books record as it stands (a required field is
 * empty). Not retryable: an admin must fix the CRM record, after which the next change
 * webhook syncs it.
 */
export class SyncDataError extends ZohoSyncError {
  override readonly name = 'SyncDataError';
  readonly crmModule: string;
  readonly crmRecordId: string;

  constructor(crmModule: string, crmRecordId: string, problem: string) {
    super(`cannot sync ${crmModule} ${crmRecordId}: ${problem}`, { disposition: 'fail-alert' });
    this.crmModule = crmModule;
    this.crmRecordId = crmRecordId;
  }
}

/** Thrown when a sync message body is not a valid sync message (a poison message). */
export class InvalidSyncMessageError extends ZohoSyncError {
  override readonly name = 'InvalidSyncMessageError';
  constructor(problem: string) {
    super(`invalid sync message: ${problem}`, { disposition: 'fail-alert' });
  }
}

/**
 * Another worker holds the record's lease (it is reading or writing the same record right
 * now): the message is deferred briefly, never dropped, so the newest CRM state still lands.
 */
export class RecordBusyError extends ZohoSyncError {
  override readonly name = 'RecordBusyError';
  constructor(crmModule: string, crmRecordId: string, retryAfterMs: number) {
    super(`${crmModule} ${crmRecordId} is being synced by another worker`, {
      disposition: 'defer',
      retryAfterMs,
    });
  }
}

/**
 * Thrown before a step that might not finish before the host stops the invocation (Lambda's
 * timeout): the work is deferred (sent again with a short delay) instead of being killed
 * half-way. Every step of a sync is safe to replay, so the next delivery carries on.
 */
export class InvocationDeadlineError extends ZohoSyncError {
  override readonly name = 'InvocationDeadlineError';
  readonly remainingMs: number;

  constructor(remainingMs: number, neededMs: number) {
    super(
      `only ${Math.max(0, Math.round(remainingMs))} ms of the invocation left, ${neededMs} ms needed; deferred to the next one`,
      { disposition: 'defer', retryAfterMs: 1_000 },
    );
    this.remainingMs = remainingMs;
  }
}
