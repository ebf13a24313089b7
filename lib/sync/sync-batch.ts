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
 * The `ids=` read is made lazily, by the first record of its group that holds its Books permit
 * (syncRecord takes the permit before any CRM read), for that record and the others of the
 * group not yet read that the limiter's precheck does not refuse. So no CRM call is made for a
 * batch whose work cannot reach Books now, and one call still serves the group.
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
  const readers = batchReaders(
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
    const reader = readers.get(key);
    return handleSyncMessage(
      deps,
      entry.record.body,
      reader === undefined ? invocation : { ...invocation, prefetch: reader },
    );
  };
};

/**
 * Lazy batch CRM reads: record key -> a read that, on first use, fetches that record and the
 * other unread records of its group in one `ids=` call; it resolves to the record, null when
 * the answer left it out, or undefined when the batch read failed (the record reads itself).
 */
const batchReaders = (
  deps: HandleSyncMessageDeps,
  messages: readonly SyncMessage[],
): ReadonlyMap<string, () => Promise<CrmRecord | null | undefined>> => {
  const groups = new Map<string, SyncMessage[]>();
  for (const message of messages) {
    if (!BATCH_READ_MODULES.has(message.crmModule)) continue;
    const key = `${message.connectionId}/${message.crmModule}`;
    groups.set(key, [...(groups.get(key) ?? []), message]);
  }
  const readers = new Map<string, () => Promise<CrmRecord | null | undefined>>();
  for (const group of groups.values()) {
    // One record reads itself: a single-record read costs the same one CRM call.
    if (group.length < 2) continue;
    /** Reads made or under way, per record key. */
    const reads = new Map<string, Promise<CrmRecord | null | undefined>>();
    for (const message of group) {
      const key = recordKey(message);
      readers.set(key, () => {
        const started = reads.get(key);
        if (started !== undefined) return started;
        const result = readGroup(deps, message, group, reads);
        return result.then((found) => found.get(key));
      });
    }
  }
  return readers;
};

/**
 * One `ids=` read for `first` (which holds its Books permit) and the records of its group not
 * yet read that the limiter's precheck lets through; registers the read for each of them.
 */
const readGroup = (
  deps: HandleSyncMessageDeps,
  first: SyncMessage,
  group: readonly SyncMessage[],
  reads: Map<string, Promise<CrmRecord | null | undefined>>,
): Promise<ReadonlyMap<string, CrmRecord | null | undefined>> => {
  type Found = ReadonlyMap<string, CrmRecord | null | undefined>;
  let finish: (found: Found) => void = () => undefined;
  const read = new Promise<Found>((resolve) => {
    finish = resolve;
  });
  reads.set(
    recordKey(first),
    read.then((map) => map.get(recordKey(first))),
  );
  void (async () => {
    const found = new Map<string, CrmRecord | null | undefined>();
    try {
      const connection = await deps.connections.get(first.connectionId);
      if (connection === undefined) {
        finish(found);
        return;
      }
      const canReachBooks = (): boolean => {
        try {
          deps.limiter.precheck?.(connection, { probe: true });
          return true;
        } catch {
          return false;
        }
      };
      const others = canReachBooks()
        ? group.filter((message) => message !== first && !reads.has(recordKey(message)))
        : [];
      const chunk = [first, ...others].slice(0, CRM_MAX_IDS_PER_CALL);
      for (const message of chunk.slice(1)) {
        reads.set(
          recordKey(message),
          read.then((map) => map.get(recordKey(message))),
        );
      }
      const fields = crmFieldsFor(first.crmModule, connection.mapping[first.crmModule]);
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
    } catch (error) {
      deps.logger.info('batch CRM read not made; records read one by one', {
        connection_id: first.connectionId,
        crm_module: first.crmModule,
        error: error instanceof Error ? error.message : String(error),
      });
    }
    finish(found);
  })();
  return read;
};
