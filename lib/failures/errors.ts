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
