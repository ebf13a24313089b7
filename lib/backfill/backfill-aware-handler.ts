import * as z from 'zod';
import type { BackfillOutcome, BackfillStore } from './backfill-store';

/** The few fields a backfill message carries besides the sync message's own. */
const backfillTagSchema = z.object({
  backfillRunId: z.string().min(1),
  connectionId: z.string(),
  crmModule: z.string(),
  crmRecordId: z.string(),
});

const tagOf = (rawBody: string) => {
  try {
    const parsed = backfillTagSchema.safeParse(JSON.parse(rawBody));
    return parsed.success ? parsed.data : undefined;
  } catch {
    return undefined;
  }
};

/** Outcomes after which the message comes back (re-queued or parked): not an end yet. */
const NOT_ENDED: ReadonlySet<string> = new Set(['deferred', 'retrying', 'parked']);

/**
 * How a worker outcome counts for the backfill. Any status not known to come back is an end, so
 * a status added later can never leave a backfill waiting forever.
 */
export const backfillOutcomeOf = (status: string): BackfillOutcome | undefined => {
  if (NOT_ENDED.has(status)) return undefined;
  switch (status) {
    case 'dead-lettered':
      return 'failed';
    // Books holds the record: written now, already up to date, or (deleted in CRM) deactivated.
    case 'synced':
    case 'unchanged':
    case 'deactivated':
      return 'synced';
    default:
      // skipped, or coalesced into another message of the batch that syncs the same record.
      return 'skipped';
  }
};

/**
 * Backfill progress around the worker's handling of one message: a message from
 * `zoho-sync backfill` (it carries `backfillRunId`) is skipped when its run already synced the
 * record (a chunk queued twice around a Ctrl-C costs no Books call), and how it ended is filed,
 * so the CLI can show synced/failed and know when the run is done. Its `share` of the budget is
 * applied by handleSyncMessage itself. Other messages run untouched.
 * @example
 * const track = withBackfillProgress(createBackfillStore({ dynamodb, tableName, now }));
 * await track(record.body, () => handle(record.messageId));
 */
export const withBackfillProgress =
  (store: BackfillStore) =>
  async <Outcome extends { readonly status: string }>(
    rawBody: string,
    run: () => Promise<Outcome>,
  ): Promise<Outcome | { readonly status: 'skipped'; readonly reason: string }> => {
    const tag = tagOf(rawBody);
    if (tag === undefined) return run();
    const ids = [tag.connectionId, tag.backfillRunId, tag.crmModule, tag.crmRecordId] as const;
    const previous = await store.getOutcome(...ids);
    if (previous === 'synced' || previous === 'skipped') {
      return { status: 'skipped', reason: 'already synced by this backfill run' };
    }
    const outcome = await run();
    const final = backfillOutcomeOf(outcome.status);
    // Written after the outcome: a crash before it redelivers the message, which syncs again
    // (an idempotent upsert) and then writes it.
    if (final !== undefined) await store.recordOutcome(...ids, final);
    return outcome;
  };
