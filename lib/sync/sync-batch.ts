import { CRM_MAX_IDS_PER_CALL, type CrmRecord } from '../zoho';
import type { SyncedCrmModule } from './crm-modules';
import {
  type HandleSyncMessageDeps,
  handleSyncMessage,
  type SyncInvocation,
  type SyncOutcome,
} from './handle-sync-message';
import { crmFieldsFor } from './mappers/field-mapping';
import { type SyncMessage, syncMessageSchema } from './sync-message';
import { callZoho } from './zoho-caller';

/** One SQS record of a batch. */
export interface BatchRecord {
  readonly messageId: string;
  readonly body: string;
}

export type BatchOutcome =
  | SyncOutcome
  /** Another message of the batch names the same record; that one syncs it. */
  | { readonly status: 'coalesced'; readonly intoMessageId: string };

/** Modules whose batch reads go in one `ids=` call: flat records, no subforms to miss. */
const BATCH_READ_MODULES: ReadonlySet<SyncedCrmModule> = new Set([
  'Accounts',
  'Contacts',
  'Products',
]);

interface Parsed {
  readonly record: BatchRecord;
  readonly message: SyncMessage | undefined;
}

const parse = (record: BatchRecord): Parsed => {
  try {
    const parsed = syncMessageSchema.safeParse(JSON.parse(record.body));
    return { record, message: parsed.success ? parsed.data : undefined };
  } catch {
    return { record, message: undefined };
  }
};

const recordKey = (message: SyncMessage): string =>
  `${message.connectionId}/${message.crmModule}/${message.crmRecordId}`;

/**
 * Prepares one SQS batch of sync messages, so that a burst costs what one change costs:
 * - messages naming the same record coalesce into one (the latest received), which alone makes
 *   the CRM read and the Books write: the worker reads the record's current state anyway;
 * - the records of one connection and module are read from CRM in one `ids=` call (up to 100
 *   per call) where there are several, instead of one call each.
 * Returns the handler for each record of the batch. A failed batch read is only logged: each
 * record then reads itself, and its failure is handled (deferred, retried, alerted) there.
 */
export const prepareSyncBatch = async (
  deps: HandleSyncMessageDeps,
  records: readonly BatchRecord[],
  /** The invocation's deadline, for every record's sync (see handleSyncMessage). */
  invocation: SyncInvocation = {},
): Promise<(messageId: string) => Promise<BatchOutcome>> => {
  const parsed = records.map(parse);
  const winners = new Map<string, Parsed>();
  for (const entry of parsed) {
    if (entry.message === undefined) continue;
    const key = recordKey(entry.message);
    const current = winners.get(key);
    if (
      current?.message === undefined ||
      entry.message.receivedAtMs >= current.message.receivedAtMs
    ) {
      winners.set(key, entry);
    }
  }
  const prefetched = await prefetchRecords(
    deps,
    [...winners.values()].flatMap((entry) => (entry.message === undefined ? [] : [entry.message])),
  );
  const byId = new Map(parsed.map((entry) => [entry.record.messageId, entry]));
  return async (messageId) => {
    const entry = byId.get(messageId);
    if (entry === undefined) throw new Error(`message ${messageId} is not in this batch`);
    if (entry.message === undefined) return handleSyncMessage(deps, entry.record.body, invocation);
    const key = recordKey(entry.message);
    const winner = winners.get(key);
    if (winner !== undefined && winner !== entry) {
      return { status: 'coalesced', intoMessageId: winner.record.messageId };
    }
    return handleSyncMessage(
      deps,
      entry.record.body,
      prefetched.has(key) ? { ...invocation, prefetched: prefetched.get(key) ?? null } : invocation,
    );
  };
};

/** Batch CRM reads: record key -> the record, or null when the answer left it out. */
const prefetchRecords = async (
  deps: HandleSyncMessageDeps,
  messages: readonly SyncMessage[],
): Promise<ReadonlyMap<string, CrmRecord | null>> => {
  const groups = new Map<string, SyncMessage[]>();
  for (const message of messages) {
    if (!BATCH_READ_MODULES.has(message.crmModule)) continue;
    const key = `${message.connectionId}/${message.crmModule}`;
    groups.set(key, [...(groups.get(key) ?? []), message]);
  }
  const found = new Map<string, CrmRecord | null>();
  for (const group of groups.values()) {
    // One record reads itself: a single-record read costs the same one CRM call.
    if (group.length < 2) continue;
    const [first] = group;
    if (first === undefined) continue;
    try {
      const connection = await deps.connections.get(first.connectionId);
      if (connection === undefined) continue;
      // A spent budget defers every record before any CRM call; do not read for nothing.
      deps.limiter.precheck?.(connection);
      const fields = crmFieldsFor(first.crmModule, connection.mapping[first.crmModule]);
      for (let start = 0; start < group.length; start += CRM_MAX_IDS_PER_CALL) {
        const chunk = group.slice(start, start + CRM_MAX_IDS_PER_CALL);
        const result = await callZoho(deps, connection, 'crm', (target) =>
          deps.crm.getRecords(
            target,
            first.crmModule,
            chunk.map((message) => message.crmRecordId),
            fields,
          ),
        );
        const records = new Map(result.records.map((record) => [String(record.id), record]));
        for (const message of chunk) {
          found.set(recordKey(message), records.get(message.crmRecordId) ?? null);
        }
      }
    } catch (error) {
      deps.logger.info('batch CRM read not made; records read one by one', {
        connection_id: first.connectionId,
        crm_module: first.crmModule,
        error: error instanceof Error ? error.message : String(error),
      });
    }
  }
  return found;
};
