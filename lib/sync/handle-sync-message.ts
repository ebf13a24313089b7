import { renderAdminAlert } from '../alerts/admin-alert';
import type { AlertPublisher } from '../alerts/alert-publisher';
import { connectionSecretId } from '../config';
import { isZohoSyncError } from '../errors';
import type { ConnectionStore } from '../tokens/connection-store';
import { describeFailure, type FailureDescription } from './describe-failure';
import { InvalidSyncMessageError } from './errors';
import { type SyncMessage, syncMessageSchema } from './sync-message';
import { type SyncRecordDeps, type SyncResult, syncRecord } from './sync-record';

export interface HandleSyncMessageDeps extends SyncRecordDeps {
  readonly connections: ConnectionStore;
  readonly secretPrefix: string;
  /** Re-sends a message to the sync queue after `delaySeconds` (at most 900, the SQS maximum). */
  readonly requeue: (message: SyncMessage, delaySeconds: number) => Promise<void>;
  /** Sends a message, with its last error attached, to the dead-letter queue. */
  readonly deadLetter: (
    message: SyncMessage | string,
    failure: FailureDescription,
  ) => Promise<void>;
  readonly alerts: AlertPublisher;
  /** `backoff` failures are retried this many times in all before dead-lettering. */
  readonly maxBackoffAttempts: number;
  /** First backoff delay; each attempt doubles it up to `backoffMaxSeconds`. */
  readonly backoffBaseSeconds: number;
  readonly backoffMaxSeconds: number;
}

export type SyncOutcome =
  | SyncResult
  | { readonly status: 'deferred'; readonly delaySeconds: number }
  | { readonly status: 'retrying'; readonly attempt: number; readonly delaySeconds: number }
  | { readonly status: 'dead-lettered'; readonly entryId: string };

/** Backoff delays double from `baseSeconds` toward the guide's "retry after about 5 minutes". */
export const backoffDelaySeconds = (attempt: number, baseSeconds = 30, maxSeconds = 300): number =>
  Math.min(maxSeconds, baseSeconds * 2 ** Math.max(0, attempt - 1));

const DEFAULT_DEFER_SECONDS = 60;

/**
 * The worker's outcome handler: runs one sync and acts on its failure in the one place that
 * acts on dispositions. Returning means "done with this delivery" (the message is deleted);
 * throwing hands the delivery back to SQS for redelivery, the safety net for crashes we did
 * not classify (an AWS outage, a bug).
 */
export const handleSyncMessage = async (
  deps: HandleSyncMessageDeps,
  rawBody: string,
): Promise<SyncOutcome> => {
  const message = parseMessage(rawBody);
  if (message instanceof InvalidSyncMessageError) {
    const failure = describeFailure(message);
    deps.logger.error('sync message rejected: unreadable', { entry_id: failure.entryId });
    await deps.deadLetter(rawBody, failure);
    return { status: 'dead-lettered', entryId: failure.entryId };
  }
  deps.logger.appendKeys({
    connection_id: message.connectionId,
    crm_module: message.crmModule,
    crm_record_id: message.crmRecordId,
    message_id: message.messageId,
    correlation_id: message.correlationId,
  });
  try {
    const connection = await deps.connections.get(message.connectionId);
    if (connection === undefined) {
      deps.logger.warn('sync skipped: connection no longer exists');
      return { status: 'skipped', reason: 'connection no longer exists' };
    }
    const result = await syncRecord(deps, connection, message);
    if (result.status === 'skipped') deps.logger.info('sync skipped', { reason: result.reason });
    return result;
  } catch (error) {
    if (!isZohoSyncError(error)) throw error;
    return actOnFailure(deps, message, describeFailure(error));
  }
};

const parseMessage = (rawBody: string): SyncMessage | InvalidSyncMessageError => {
  let json: unknown;
  try {
    json = JSON.parse(rawBody);
  } catch {
    return new InvalidSyncMessageError('body is not JSON');
  }
  const parsed = syncMessageSchema.safeParse(json);
  if (!parsed.success) {
    return new InvalidSyncMessageError(
      parsed.error.issues.map((issue) => issue.path.join('.') || 'body').join(', '),
    );
  }
  return parsed.data;
};

const actOnFailure = async (
  deps: HandleSyncMessageDeps,
  message: SyncMessage,
  failure: FailureDescription,
): Promise<SyncOutcome> => {
  const logKeys = {
    entry_id: failure.entryId,
    disposition: failure.action,
    zoho_code: failure.zohoCode,
    http_status: failure.httpStatus,
    unknown_code: failure.unknown,
  };
  switch (failure.action) {
    case 'defer': {
      const delaySeconds = Math.max(
        1,
        Math.ceil((failure.retryAfterMs ?? DEFAULT_DEFER_SECONDS * 1000) / 1000),
      );
      await deps.requeue({ ...message, deferrals: message.deferrals + 1 }, delaySeconds);
      deps.logger.info('sync deferred', { ...logKeys, retry_after_ms: delaySeconds * 1000 });
      return { status: 'deferred', delaySeconds };
    }
    case 'backoff': {
      const attempt = message.attempt + 1;
      if (attempt < deps.maxBackoffAttempts) {
        const delaySeconds = backoffDelaySeconds(
          attempt,
          deps.backoffBaseSeconds,
          deps.backoffMaxSeconds,
        );
        await deps.requeue(
          { ...message, attempt, lastError: toLastError(deps, failure) },
          delaySeconds,
        );
        deps.logger.warn('sync failed: retrying later', {
          ...logKeys,
          attempt,
          retry_after_ms: delaySeconds * 1000,
        });
        return { status: 'retrying', attempt, delaySeconds };
      }
      return deadLetterAndAlert(deps, { ...message, attempt }, failure, logKeys);
    }
    case 'fail-quiet':
      deps.logger.info('sync ended without a Books write', logKeys);
      return { status: 'skipped', reason: failure.title };
    default:
      // fail-alert, and refresh-token-and-retry that survived its one refresh and replay.
      return deadLetterAndAlert(deps, message, failure, logKeys);
  }
};

const toLastError = (deps: HandleSyncMessageDeps, failure: FailureDescription) => ({
  entryId: failure.entryId,
  action: failure.action,
  httpStatus: failure.httpStatus,
  zohoCode: failure.zohoCode,
  message: failure.title,
  atMs: deps.now(),
});

const deadLetterAndAlert = async (
  deps: HandleSyncMessageDeps,
  message: SyncMessage,
  failure: FailureDescription,
  logKeys: Record<string, unknown>,
): Promise<SyncOutcome> => {
  await deps.deadLetter({ ...message, lastError: toLastError(deps, failure) }, failure);
  deps.logger.error('sync failed: dead-lettered', logKeys);
  await deps.alerts.publish(
    renderAdminAlert(failure, {
      connectionId: message.connectionId,
      crmModule: message.crmModule,
      crmRecordId: message.crmRecordId,
      correlationId: message.correlationId,
      messageId: message.messageId,
      attempts: message.attempt,
      secretId: connectionSecretId(deps.secretPrefix, message.connectionId),
    }),
  );
  return { status: 'dead-lettered', entryId: failure.entryId };
};
