import type { Connection } from '../config';
import type { Disposition } from '../errors';
import { describeFailure } from '../failures/describe-failure';
import { redact } from '../observability';
import { SYNCED_CRM_MODULES, type SyncedCrmModule } from '../sync/crm-modules';
import { crmRecordIdSchema, type SyncMessage } from '../sync/sync-message';
import { callZoho, type ZohoCallerDeps } from '../sync/zoho-caller';
import { TokenRefreshError } from '../tokens/errors';
import { CRM_MAX_PER_PAGE, type CrmClient, type CrmRecord, parseCrmDateTime } from '../zoho';
import type { ReconcileCursor, ReconcileCursorStore } from './cursor-store';

/** A module never swept before is read from this long ago. */
export const DEFAULT_LOOKBACK_MS = 24 * 3_600_000;
/** CRM list pages per connection and module per run (200 records and 1 credit each). */
export const DEFAULT_MAX_PAGES = 10;

export interface ReconcileSweepDeps extends ZohoCallerDeps {
  /** Every connection id (`listConnectionIds` over Secrets Manager in production). */
  readonly listConnectionIds: () => Promise<readonly string[]>;
  /** The connection, or undefined when its secret is gone. */
  readonly getConnection: (connectionId: string) => Promise<Connection | undefined>;
  readonly crm: Pick<CrmClient, 'listRecordsModifiedSince'>;
  readonly cursors: ReconcileCursorStore;
  /** Sends sync messages to the sync queue; throws when any is not accepted. */
  readonly enqueue: (messages: readonly SyncMessage[]) => Promise<void>;
  readonly now: () => number;
  readonly newId: () => string;
  /** @default DEFAULT_LOOKBACK_MS (one day); config `ZOHO_SYNC_RECONCILE_LOOKBACK_HOURS` */
  readonly lookbackMs?: number;
  /** @default DEFAULT_MAX_PAGES (10); config `ZOHO_SYNC_RECONCILE_MAX_PAGES` */
  readonly maxPages?: number;
  /** @default CRM_MAX_PER_PAGE (200) */
  readonly perPage?: number;
  /** @default every synced module */
  readonly modules?: readonly SyncedCrmModule[];
  /**
   * The CRM `Modified_Time` (epoch ms) Books already holds for each given record (the mapping's
   * `crmModifiedMs`). Records Books holds at that time or later are not enqueued.
   * @default none: every changed record is enqueued
   */
  readonly syncedModifiedTimes?: (
    connectionId: string,
    crmModule: SyncedCrmModule,
    crmRecordIds: readonly string[],
  ) => Promise<ReadonlyMap<string, number>>;
}

export type ReconcileResult =
  | {
      readonly connectionId: string;
      readonly crmModule: SyncedCrmModule;
      readonly status: 'swept';
      /** Sync messages sent in this run. */
      readonly enqueued: number;
      /** CRM list calls made. */
      readonly pages: number;
      /** True when the page limit stopped the run before the end of the changes. */
      readonly more: boolean;
      /** The cursor after the run (epoch ms of the last `Modified_Time` enqueued). */
      readonly cursorMs: number;
    }
  | {
      readonly connectionId: string;
      /** Undefined when the connection itself could not be used (bad secret, no token). */
      readonly crmModule: SyncedCrmModule | undefined;
      readonly status: 'failed';
      readonly entryId: string;
      readonly action: Disposition;
      /** Safe to log: redacted, no token or secret. */
      readonly message: string;
    }
  | { readonly connectionId: string; readonly status: 'skipped'; readonly reason: 'no-secret' };

export interface ReconcileSweepSummary {
  readonly results: readonly ReconcileResult[];
  readonly enqueued: number;
  readonly failed: number;
}

export interface ReconcileSweepOptions {
  /** Sweep only these connections. @default every connection `listConnectionIds` returns */
  readonly connectionIds?: readonly string[];
}

interface ModuleRun {
  readonly connection: Connection;
  readonly crmModule: SyncedCrmModule;
  readonly correlationId: string;
}

/** A record the page brought, with its `Modified_Time` when it has a readable one. */
interface Change {
  readonly crmRecordId: string;
  readonly modifiedAtMs: number | undefined;
}

const changesOf = (deps: ReconcileSweepDeps, run: ModuleRun, records: readonly CrmRecord[]) =>
  records.flatMap((record): Change[] => {
    const id = crmRecordIdSchema.safeParse(record.id);
    if (!id.success) {
      deps.logger.warn('reconciliation skipped a CRM record without a valid id', {
        connection_id: run.connection.connectionId,
        crm_module: run.crmModule,
      });
      return [];
    }
    return [{ crmRecordId: id.data, modifiedAtMs: parseCrmDateTime(record.Modified_Time) }];
  });

/**
 * The changes of a page not enqueued before, and the cursor once they are: the latest time seen,
 * with the ids at exactly that time (added to those already there when the time did not move).
 */
export const advanceCursor = (
  cursor: ReconcileCursor,
  changes: readonly Change[],
): { fresh: Change[]; next: ReconcileCursor } => {
  const seen = new Set(cursor.idsAtCursor);
  const fresh = changes.filter(
    ({ crmRecordId, modifiedAtMs }) =>
      modifiedAtMs === undefined ||
      modifiedAtMs > cursor.modifiedAtMs ||
      (modifiedAtMs === cursor.modifiedAtMs && !seen.has(crmRecordId)),
  );
  const times = fresh.flatMap(({ modifiedAtMs }) =>
    modifiedAtMs === undefined ? [] : [modifiedAtMs],
  );
  const latest = Math.max(cursor.modifiedAtMs, ...times);
  const atLatest = fresh
    .filter(({ modifiedAtMs }) => modifiedAtMs === latest)
    .map(({ crmRecordId }) => crmRecordId);
  const idsAtCursor =
    latest === cursor.modifiedAtMs ? [...new Set([...cursor.idsAtCursor, ...atLatest])] : atLatest;
  return { fresh, next: { modifiedAtMs: latest, idsAtCursor } };
};

/**
 * The changes Books does not hold yet: a record whose mapping already carries its
 * `Modified_Time` (or a later one) was synced by its webhook or notification, and a second
 * message would only cost a CRM read.
 */
const withoutSynced = async (
  deps: ReconcileSweepDeps,
  run: ModuleRun,
  changes: readonly Change[],
): Promise<readonly Change[]> => {
  if (deps.syncedModifiedTimes === undefined || changes.length === 0) return changes;
  const held = await deps.syncedModifiedTimes(
    run.connection.connectionId,
    run.crmModule,
    changes.map((change) => change.crmRecordId),
  );
  return changes.filter(({ crmRecordId, modifiedAtMs }) => {
    const heldMs = held.get(crmRecordId);
    return modifiedAtMs === undefined || heldMs === undefined || modifiedAtMs > heldMs;
  });
};

/**
 * One module of one connection: reads its changes oldest first, a page at a time, and after each
 * page enqueues one sync message per changed record, then saves the cursor. Saving after sending
 * means a crash in between sends those records again (harmless: the worker's Books writes are
 * upserts and a message names a record, never its data) and never skips one.
 *
 * Each page is asked for from the cursor (keyset paging, `If-Modified-Since` one second before
 * it) rather than by page number, so records changed while the sweep runs cannot shift a page
 * and hide a record. Only when a whole page shares the cursor's second does the page number grow.
 */
const sweepModule = async (deps: ReconcileSweepDeps, run: ModuleRun): Promise<ReconcileResult> => {
  const { connection, crmModule } = run;
  const connectionId = connection.connectionId;
  const maxPages = deps.maxPages ?? DEFAULT_MAX_PAGES;
  let cursor: ReconcileCursor = (await deps.cursors.get(connectionId, crmModule)) ?? {
    modifiedAtMs: deps.now() - (deps.lookbackMs ?? DEFAULT_LOOKBACK_MS),
    idsAtCursor: [],
  };
  let page = 1;
  let pages = 0;
  let enqueued = 0;
  let more = false;
  let alreadySynced = 0;
  while (pages < maxPages) {
    const listed = await callZoho(deps, connection, 'crm', (target) =>
      deps.crm.listRecordsModifiedSince(target, crmModule, {
        // CRM times have whole seconds and If-Modified-Since means "after": one second earlier
        // includes the cursor's own second, where a change may have landed after the last run.
        modifiedSinceMs: cursor.modifiedAtMs - 1000,
        sortOrder: 'asc',
        page,
        perPage: deps.perPage ?? CRM_MAX_PER_PAGE,
      }),
    );
    pages += 1;
    const { fresh, next } = advanceCursor(cursor, changesOf(deps, run, listed.records));
    const unsynced = await withoutSynced(deps, run, fresh);
    alreadySynced += fresh.length - unsynced.length;
    if (unsynced.length > 0) {
      const receivedAtMs = deps.now();
      await deps.enqueue(
        unsynced.map(({ crmRecordId }) => ({
          version: 1,
          messageId: deps.newId(),
          correlationId: run.correlationId,
          connectionId,
          crmModule,
          crmRecordId,
          source: 'reconciliation',
          receivedAtMs,
          attempt: 0,
          deferrals: 0,
        })),
      );
      enqueued += unsynced.length;
    }
    // Only now: the messages are on the queue.
    if (fresh.length > 0) await deps.cursors.put(connectionId, crmModule, next);
    const moved = next.modifiedAtMs !== cursor.modifiedAtMs;
    cursor = next;
    more = listed.moreRecords;
    if (!more) break;
    page = moved ? 1 : page + 1;
  }
  if (enqueued > 0 || more || alreadySynced > 0) {
    deps.logger.info('reconciliation enqueued changed records', {
      connection_id: connectionId,
      crm_module: crmModule,
      records: enqueued,
      already_synced: alreadySynced,
      pages,
      more,
      correlation_id: run.correlationId,
    });
  }
  return {
    connectionId,
    crmModule,
    status: 'swept',
    enqueued,
    pages,
    more,
    cursorMs: cursor.modifiedAtMs,
  };
};

const failed = (
  deps: ReconcileSweepDeps,
  connectionId: string,
  crmModule: SyncedCrmModule | undefined,
  error: unknown,
): { result: ReconcileResult; stopConnection: boolean } => {
  const failure = describeFailure(error);
  const message = redact(error instanceof Error ? error.message : String(error));
  deps.logger.error('reconciliation failed', {
    connection_id: connectionId,
    crm_module: crmModule,
    entry_id: failure.entryId,
    disposition: failure.action,
    http_status: failure.httpStatus,
    zoho_code: failure.zohoCode,
    error: message,
  });
  return {
    result: {
      connectionId,
      crmModule,
      status: 'failed',
      entryId: failure.entryId,
      action: failure.action,
      message,
    },
    // Credentials, tokens and connection-wide faults fail every module alike: stop early.
    stopConnection:
      failure.scope === 'connection' ||
      failure.service === 'accounts' ||
      error instanceof TokenRefreshError,
  };
};

/**
 * The reconciliation sweep: for every connection and synced module, enqueues a sync message for
 * each CRM record modified since the last run (the first run looks back `lookbackMs`), so changes
 * whose webhook or notification Zoho never delivered still reach Books. Zoho documents no retry
 * of a failed callback (zoho-crm-api.md §3, §4), so this is the safety net, not a second path
 * for normal traffic: records whose mapping already holds the listed `Modified_Time` are
 * skipped, and any other copy costs the worker a CRM read but no Books write.
 *
 * At most `maxPages` pages per connection and module per run; a longer backlog continues on the
 * next run from the saved cursor. A failure stays with its module (or, for credential and token
 * failures, its connection): it is logged with its error-table row and reported in the summary,
 * and the cursor stays where the last enqueued page left it, so the next run goes on from there.
 * @throws only when the connections cannot be listed at all.
 */
export const reconcileSweep = async (
  deps: ReconcileSweepDeps,
  options: ReconcileSweepOptions = {},
): Promise<ReconcileSweepSummary> => {
  const connectionIds = options.connectionIds ?? (await deps.listConnectionIds());
  const modules = deps.modules ?? SYNCED_CRM_MODULES;
  const results: ReconcileResult[] = [];
  for (const connectionId of connectionIds) {
    let connection: Connection | undefined;
    try {
      connection = await deps.getConnection(connectionId);
    } catch (error) {
      results.push(failed(deps, connectionId, undefined, error).result);
      continue;
    }
    if (connection === undefined) {
      results.push({ connectionId, status: 'skipped', reason: 'no-secret' });
      continue;
    }
    const correlationId = deps.newId();
    for (const crmModule of modules) {
      try {
        results.push(await sweepModule(deps, { connection, crmModule, correlationId }));
      } catch (error) {
        const outcome = failed(deps, connectionId, crmModule, error);
        results.push(outcome.result);
        if (outcome.stopConnection) break;
      }
    }
  }
  const summary = {
    results,
    enqueued: results.reduce(
      (total, result) => total + (result.status === 'swept' ? result.enqueued : 0),
      0,
    ),
    failed: results.filter((result) => result.status === 'failed').length,
  };
  deps.logger.info('reconciliation sweep finished', {
    connections: connectionIds.length,
    enqueued: summary.enqueued,
    failed: summary.failed,
  });
  return summary;
};
