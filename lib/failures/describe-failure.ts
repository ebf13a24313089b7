import { ConfigError } from '../config';
import { type Disposition, isZohoSyncError } from '../errors';
import { redact } from '../observability';
import { isZohoApiError } from '../zoho';
import { InvalidSyncMessageError, SyncDataError } from './errors';

/** Everything an alert, a dead-lettered message or a log line says about one failure. */
export interface FailureDescription {
  readonly entryId: string;
  readonly action: Disposition;
  readonly title: string;
  readonly meaning: string;
  readonly fix: string;
  readonly scope: 'record' | 'connection';
  readonly service?: string;
  readonly httpStatus?: number;
  readonly zohoCode?: number | string;
  readonly zohoMessage?: string;
  readonly endpoint?: string;
  readonly unknown: boolean;
  readonly retryAfterMs?: number;
}

/**
 * Turns any error into a {@link FailureDescription}. Zoho failures take every word from the
 * error table; zoho-sync's own failures (bad CRM data, bad secret, poison message) are
 * described here because Zoho did not produce them. Anything else is an unexpected crash.
 */
export const describeFailure = (error: unknown): FailureDescription => {
  if (isZohoApiError(error)) {
    return {
      entryId: error.entry.id,
      action: error.entry.action,
      title: error.entry.title,
      meaning: error.entry.meaning,
      fix: error.entry.fix,
      scope: error.entry.scope,
      service: error.service,
      httpStatus: error.httpStatus,
      zohoCode: error.zohoCode,
      zohoMessage: error.zohoMessage,
      endpoint: error.endpoint,
      unknown: error.unknown,
      retryAfterMs: error.retryAfterMs,
    };
  }
  if (error instanceof SyncDataError) {
    return {
      entryId: 'sync-invalid-crm-record',
      action: 'fail-alert',
      title: 'CRM record cannot become a Books record',
      meaning: redact(error.message),
      fix: `Complete the ${error.crmModule} record ${error.crmRecordId} in Zoho CRM; the next change to it syncs it again (or redrive this message).`,
      scope: 'record',
      unknown: false,
    };
  }
  if (error instanceof ConfigError) {
    return {
      entryId: 'sync-invalid-connection-secret',
      action: 'fail-alert',
      title: 'Invalid connection secret',
      meaning: redact(error.message),
      fix: 'Correct the connection secret in Secrets Manager (see the README for its schema), then redrive.',
      scope: 'connection',
      unknown: false,
    };
  }
  if (error instanceof InvalidSyncMessageError) {
    return {
      entryId: 'sync-invalid-message',
      action: 'fail-alert',
      title: 'Unreadable sync message',
      meaning: redact(error.message),
      fix: 'A message on the sync queue was not written by zoho-sync or is corrupt; inspect it in the DLQ.',
      scope: 'record',
      unknown: false,
    };
  }
  const message = redact(error instanceof Error ? error.message : String(error));
  if (isZohoSyncError(error)) {
    // zoho-sync's own deliberate outcomes (a refresh put off, a budget spent): known, not crashes.
    return {
      entryId: `sync-${error.name}`,
      action: error.disposition,
      title: error.name.replace(/Error$/, '').replace(/([a-z])([A-Z])/g, '$1 $2'),
      meaning: message,
      fix: 'Nothing to do unless it persists; zoho-sync retries on its own.',
      scope: 'record',
      unknown: false,
      ...(error.retryAfterMs === undefined ? {} : { retryAfterMs: error.retryAfterMs }),
    };
  }
  return {
    entryId: 'sync-unexpected-error',
    action: 'backoff',
    title: 'Unexpected error',
    meaning: message,
    fix: 'Search the logs for the correlation id; if it persists, open an issue with the log lines.',
    scope: 'record',
    unknown: true,
  };
};
