import type { SQSClient } from '@aws-sdk/client-sqs';
import { sendQueueMessages } from '../aws';
import { crmAccount, type ZohoSimulator } from '../local/zoho-simulator';
import type { SyncMessage } from '../sync';

/** CRM Account ids for a backlog: numeric strings, as CRM ids are, distinct per `prefix`. */
export const backlogRecordIds = (prefix: string, count: number): string[] =>
  Array.from({ length: count }, (_, index) => `${prefix}${String(index).padStart(6, '0')}`);

/** Puts one simulated CRM Account per id into the simulator. */
export const seedCrmAccounts = (simulator: ZohoSimulator, recordIds: readonly string[]): void => {
  for (const id of recordIds) simulator.putCrmRecord('Accounts', crmAccount(id));
};

/** The sync messages the webhook would queue for these Accounts. */
export const accountSyncMessages = (
  connectionId: string,
  recordIds: readonly string[],
  newId: () => string,
  nowMs: number,
): SyncMessage[] =>
  recordIds.map((crmRecordId) => ({
    version: 1,
    messageId: newId(),
    correlationId: newId(),
    connectionId,
    crmModule: 'Accounts',
    crmRecordId,
    source: 'reconciliation',
    receivedAtMs: nowMs,
    attempt: 0,
    deferrals: 0,
  }));

/** Sends a backlog to the sync queue in batches of ten, ten batches at a time. */
export const enqueueSyncMessages = async (
  sqs: SQSClient,
  queueUrl: string,
  messages: readonly SyncMessage[],
): Promise<void> => {
  const queued = messages.map((message) => ({
    id: message.messageId,
    body: JSON.stringify(message),
    connectionId: message.connectionId,
  }));
  const chunks: (typeof queued)[] = [];
  for (let start = 0; start < queued.length; start += 100) {
    chunks.push(queued.slice(start, start + 100));
  }
  await Promise.all(chunks.map((chunk) => sendQueueMessages(sqs, queueUrl, chunk)));
};
