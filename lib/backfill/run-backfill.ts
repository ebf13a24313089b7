import { createHash } from 'node:crypto';
import { type AwsClients, MAX_SQS_DELAY_SECONDS, sendQueueMessages } from '../aws';
import type { Config, Connection } from '../config';
import { readBudgetSnapshot } from '../limits';
import { type Logger, logger as sharedLogger } from '../observability';
import { createParkedWorkStore, SCHEDULED_SHELF } from '../parking';
import { advanceCursor } from '../reconcile/reconcile-sweep';
import type { SyncedCrmModule } from '../sync/crm-modules';
import { crmRecordIdSchema, type SyncMessage } from '../sync/sync-message';
import { callZoho } from '../sync/zoho-caller';
import { createConnectionAccess } from '../tokens';
import { CRM_MAX_PER_PAGE, createCrmClient, parseCrmDateTime } from '../zoho';
import {
  type BackfillCheckpoint,
  createBackfillStore,
  type ModuleCursor,
  type OutcomeCounts,
} from './backfill-store';

/** Books calls one record costs (one upsert); won deals and sales orders may add their account. */
const BOOKS_CALLS_PER_RECORD = 1;

export interface BackfillOptions {
  readonly connectionId: string;
  readonly modules: readonly SyncedCrmModule[];
  /** Only records modified after this time. @default every record */
  readonly sinceMs?: number;
  /** Part of each window's Books budget the backfill may take, (0, 1]. */
  readonly share: number;
  /** Wait until every record found is synced or dead-lettered. */
  readonly wait: boolean;
  /** Forget the checkpoint of the same command and start over. */
  readonly restart?: boolean;
}

export interface BackfillEta {
  readonly remaining: number;
  /** Records per minute the share of the budget allows. */
  readonly perMinute: number;
  /** Books calls left today (the daily quota less what was used). */
  readonly callsLeftToday: number;
  /** Time to finish at that rate, counting the days the quota forces; Infinity when none. */
  readonly etaMs: number;
}

export interface BackfillProgress extends OutcomeCounts {
  readonly runId: string;
  readonly found: number;
  /** Every page of every module has been read and queued. */
  readonly paged: boolean;
  /** Found records that have not ended yet (synced, skipped or failed). */
  readonly pending: number;
  readonly eta: BackfillEta;
  /** True when the checkpoint was found and this run carries on from it. */
  readonly resumed: boolean;
}

export interface BackfillResult extends BackfillProgress {
  /** Stopped by Ctrl-C (or `shouldStop`) before the end: run the same command to carry on. */
  readonly interrupted: boolean;
}

export interface BackfillDeps {
  readonly config: Config;
  readonly clients: AwsClients;
  readonly now?: () => number;
  readonly sleep?: (ms: number) => Promise<void>;
  readonly logger?: Logger;
  /** Checked between pages and while waiting (Ctrl-C). */
  readonly shouldStop?: () => boolean;
  readonly onProgress?: (progress: BackfillProgress) => void;
  /** How often progress is read while waiting. @default 1000 */
  readonly pollMs?: number;
}

/** The checkpoint key of a command: the same modules and `--since` carry on the same run. */
export const backfillRunKey = (modules: readonly string[], sinceMs: number | undefined): string =>
  createHash('sha256')
    .update(JSON.stringify([[...modules].sort(), sinceMs ?? null]))
    .digest('hex')
    .slice(0, 16);

/** Records the share of the budget lets through per window, at least one. */
const recordsPerWindow = (connection: Connection, share: number): number =>
  Math.max(1, Math.floor((share * connection.rateLimit.requests) / BOOKS_CALLS_PER_RECORD));

export const estimate = (
  connection: Connection,
  share: number,
  remaining: number,
  callsLeftToday: number,
  msToDayEnd: number,
): BackfillEta => {
  const windowMs = connection.rateLimit.windowSeconds * 1000;
  const perMinute = (recordsPerWindow(connection, share) * 60_000) / windowMs;
  const calls = remaining * BOOKS_CALLS_PER_RECORD;
  const rateMs = (count: number) => (count / perMinute) * 60_000;
  // What the share lets through before the day ends, and on a whole day, capped by the quota
  // (live work shares the quota too, so this is a lower bound).
  const todayCapacity = Math.min(Math.max(0, callsLeftToday), (perMinute * msToDayEnd) / 60_000);
  const perDay = Math.min(connection.dailyLimit, perMinute * 1440);
  let etaMs: number;
  if (remaining === 0) etaMs = 0;
  else if (calls <= todayCapacity) etaMs = rateMs(remaining);
  else if (perDay <= 0) etaMs = Number.POSITIVE_INFINITY;
  else {
    const afterToday = calls - todayCapacity;
    const fullDays = Math.floor(afterToday / perDay);
    const lastDayCalls = afterToday - fullDays * perDay;
    etaMs = msToDayEnd + fullDays * 86_400_000 + rateMs(lastDayCalls / BOOKS_CALLS_PER_RECORD);
  }
  return { remaining, perMinute, callsLeftToday: Math.max(0, callsLeftToday), etaMs };
};

/**
 * `zoho-sync backfill`: pages through CRM (the records list, sorted by Modified_Time and read by
 * keyset from a cursor, so no page number ever passes CRM's limits) and queues one sync message
 * per record through the same queue, budget and quota as webhooks. Each message asks for at most
 * `share` of each window's budget and is scheduled (SQS delay, or the parked-work shelf beyond
 * 15 minutes) at the pace that share allows, so live changes keep flowing.
 *
 * A checkpoint in DynamoDB (a cursor per module, written after each page is queued) makes it
 * resumable: the same command again carries on where it stopped; the worker skips records this
 * run already synced, so a page queued twice around a Ctrl-C costs no Books call.
 */
export const runBackfill = async (
  deps: BackfillDeps,
  options: BackfillOptions,
): Promise<BackfillResult> => {
  const { config, clients } = deps;
  const now = deps.now ?? Date.now;
  const sleep = deps.sleep ?? ((ms: number) => new Promise((resolve) => setTimeout(resolve, ms)));
  const shouldStop = deps.shouldStop ?? (() => false);
  const logger = deps.logger ?? sharedLogger;
  const access = createConnectionAccess({ config, clients, now, logger });
  const connection = await access.connections.get(options.connectionId);
  if (connection === undefined) throw new Error(`no connection ${options.connectionId}`);
  const store = createBackfillStore({
    dynamodb: clients.dynamodb,
    tableName: config.tableName,
    now,
  });
  const parked = createParkedWorkStore({ dynamodb: clients.dynamodb, tableName: config.tableName });
  const crm = createCrmClient(access.http);
  const runKey = backfillRunKey(options.modules, options.sinceMs);
  const existing =
    options.restart === true
      ? undefined
      : await store.getCheckpoint(connection.connectionId, runKey);
  const startedAtMs = now();
  let checkpoint: BackfillCheckpoint = existing
    ? { ...existing, share: options.share }
    : {
        runId: `${runKey}-${startedAtMs}`,
        modules: options.modules,
        sinceMs: options.sinceMs,
        share: options.share,
        startedAtMs,
        cursors: {},
        found: 0,
        nextSlotAtMs: startedAtMs,
        slotFill: 0,
        updatedAtMs: startedAtMs,
      };
  const resumed = existing !== undefined;
  const windowMs = connection.rateLimit.windowSeconds * 1000;
  const perWindow = recordsPerWindow(connection, options.share);
  const isPaged = () =>
    options.modules.every((module) => checkpoint.cursors[module]?.done === true);

  let counts: OutcomeCounts = { synced: 0, skipped: 0, failed: 0 };
  let budgetLeft = { callsLeftToday: connection.dailyLimit, msToDayEnd: 0, readAtMs: 0 };
  const progress = async (): Promise<BackfillProgress> => {
    counts = await store.countOutcomes(connection.connectionId, checkpoint.runId);
    const nowMs = now();
    if (nowMs - budgetLeft.readAtMs >= 5_000) {
      const snapshot = await readBudgetSnapshot(
        { dynamodb: clients.dynamodb, tableName: config.tableName },
        connection,
        nowMs,
      );
      budgetLeft = {
        callsLeftToday: snapshot.quota.spent ? 0 : snapshot.quota.limit - snapshot.quota.used,
        msToDayEnd: Math.max(0, snapshot.quota.resetsAtMs - nowMs),
        readAtMs: nowMs,
      };
    }
    const ended = counts.synced + counts.skipped + counts.failed;
    const pending = Math.max(0, checkpoint.found - ended);
    const report: BackfillProgress = {
      runId: checkpoint.runId,
      found: checkpoint.found,
      paged: isPaged(),
      pending,
      ...counts,
      eta: estimate(
        connection,
        options.share,
        pending,
        budgetLeft.callsLeftToday,
        budgetLeft.msToDayEnd,
      ),
      resumed,
    };
    deps.onProgress?.(report);
    return report;
  };

  /**
   * When the next record may go: `perWindow` records per budget window, slots aligned to the
   * limiter's windows (fixed, from the epoch), so a window's records become visible at its start
   * and are never refused for a window the previous slot already filled.
   */
  const schedule = (): number => {
    const currentWindowMs = Math.floor(now() / windowMs) * windowMs;
    if (checkpoint.nextSlotAtMs < currentWindowMs) {
      checkpoint = { ...checkpoint, nextSlotAtMs: currentWindowMs, slotFill: 0 };
    }
    if (checkpoint.slotFill >= perWindow) {
      checkpoint = {
        ...checkpoint,
        nextSlotAtMs: Math.floor(checkpoint.nextSlotAtMs / windowMs) * windowMs + windowMs,
        slotFill: 0,
      };
    }
    checkpoint = { ...checkpoint, slotFill: checkpoint.slotFill + 1 };
    return Math.max(now(), checkpoint.nextSlotAtMs);
  };

  const queue = async (module: SyncedCrmModule, ids: readonly string[]): Promise<void> => {
    const receivedAtMs = now();
    const soon: { id: string; body: string; connectionId: string; delaySeconds: number }[] = [];
    const later: { messageId: string; body: string; atMs: number }[] = [];
    for (const crmRecordId of ids) {
      const message: SyncMessage = {
        version: 1,
        messageId: `${checkpoint.runId}-${module}-${crmRecordId}`,
        correlationId: checkpoint.runId,
        connectionId: connection.connectionId,
        crmModule: module,
        crmRecordId,
        source: 'backfill',
        receivedAtMs,
        attempt: 0,
        deferrals: 0,
        backfillRunId: checkpoint.runId,
        ...(options.share < 1 ? { share: options.share } : {}),
      };
      const atMs = schedule();
      const delaySeconds = Math.ceil((atMs - receivedAtMs) / 1000);
      const body = JSON.stringify(message);
      if (delaySeconds <= MAX_SQS_DELAY_SECONDS) {
        soon.push({
          id: message.messageId,
          body,
          connectionId: connection.connectionId,
          delaySeconds,
        });
      } else {
        later.push({ messageId: message.messageId, body, atMs });
      }
    }
    await sendQueueMessages(clients.sqs, config.syncQueueUrl, soon);
    for (const message of later) {
      await parked.park(SCHEDULED_SHELF, {
        messageId: message.messageId,
        connectionId: connection.connectionId,
        body: message.body,
        atMs: message.atMs,
      });
    }
  };

  /**
   * Waiting, the CLI also keeps the queue short: no more found-but-unfinished records than about
   * two windows of what the workers really finish (at most the share's window, at least a
   * quarter of it), so a live change never waits behind a long backfill backlog in the queue.
   * Returns how many records may be queued now, or 0 when asked to stop.
   */
  let pace = { ended: 0, atMs: 0, perWindow };
  const allowance = async (): Promise<number> => {
    for (;;) {
      if (shouldStop()) return 0;
      const current = await progress();
      const ended = current.synced + current.skipped + current.failed;
      const nowMs = now();
      if (pace.atMs === 0) pace = { ended, atMs: nowMs, perWindow };
      else if (nowMs - pace.atMs >= windowMs) {
        const observed = ((ended - pace.ended) * windowMs) / (nowMs - pace.atMs);
        pace = { ended, atMs: nowMs, perWindow: observed };
      }
      const bound = Math.max(
        Math.ceil(perWindow / 4),
        Math.min(perWindow, Math.ceil(2 * pace.perWindow)),
      );
      const backlog = checkpoint.found - ended;
      if (backlog < bound) return bound - backlog;
      await sleep(deps.pollMs ?? 500);
    }
  };

  const pageModule = async (module: SyncedCrmModule): Promise<boolean> => {
    let cursor: ModuleCursor = checkpoint.cursors[module] ?? {
      modifiedAtMs: options.sinceMs ?? 0,
      idsAtCursor: [],
      done: false,
    };
    let page = 1;
    while (!cursor.done) {
      if (shouldStop()) return false;
      const listed = await callZoho(
        { tokens: access.tokens, logger },
        connection,
        'crm',
        (target) =>
          crm.listRecordsModifiedSince(target, module, {
            // If-Modified-Since means "after" and CRM times have whole seconds: one second back
            // includes the cursor's own second; ids already queued there are left out.
            modifiedSinceMs: Math.max(0, cursor.modifiedAtMs - 1000),
            sortOrder: 'asc',
            page,
            perPage: CRM_MAX_PER_PAGE,
          }),
      );
      const changes = listed.records.flatMap((record) => {
        const id = crmRecordIdSchema.safeParse(record.id);
        return id.success
          ? [{ crmRecordId: id.data, modifiedAtMs: parseCrmDateTime(record.Modified_Time) }]
          : [];
      });
      const pageStartMs = cursor.modifiedAtMs;
      let { fresh } = advanceCursor(cursor, changes);
      // The page is sorted by Modified_Time, so every prefix of it is a valid cursor: queue it in
      // chunks and checkpoint after each, so a Ctrl-C leaves nothing queued twice.
      while (fresh.length > 0) {
        const size = options.wait ? await allowance() : fresh.length;
        if (size === 0) return false;
        const chunk = fresh.slice(0, size);
        fresh = fresh.slice(size);
        await queue(
          module,
          chunk.map((change) => change.crmRecordId),
        );
        const { next } = advanceCursor(cursor, chunk);
        cursor = { ...next, done: false };
        // Only now: the chunk is on the queue.
        checkpoint = {
          ...checkpoint,
          cursors: { ...checkpoint.cursors, [module]: cursor },
          found: checkpoint.found + chunk.length,
          updatedAtMs: now(),
        };
        await store.putCheckpoint(connection.connectionId, runKey, checkpoint);
      }
      if (!listed.moreRecords) {
        cursor = { ...cursor, done: true };
        checkpoint = {
          ...checkpoint,
          cursors: { ...checkpoint.cursors, [module]: cursor },
          updatedAtMs: now(),
        };
        await store.putCheckpoint(connection.connectionId, runKey, checkpoint);
      }
      page = cursor.modifiedAtMs !== pageStartMs ? 1 : page + 1;
    }
    return true;
  };

  if (!resumed) await store.putCheckpoint(connection.connectionId, runKey, checkpoint);
  let interrupted = false;
  for (const module of options.modules) {
    if (!(await pageModule(module))) {
      interrupted = true;
      break;
    }
    await progress();
  }
  let last = await progress();
  while (!interrupted && options.wait && !(last.paged && last.pending === 0)) {
    if (shouldStop()) {
      interrupted = true;
      break;
    }
    await sleep(deps.pollMs ?? 1000);
    last = await progress();
  }
  return { ...last, interrupted };
};
