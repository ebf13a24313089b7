import type { SQSClient } from '@aws-sdk/client-sqs';
import { MAX_SQS_DELAY_SECONDS, sendQueueMessages } from '../aws';
import type { Logger } from '../observability';
import { type ParkedWorkStore, SCHEDULED_SHELF } from './parked-work-store';

export interface ReleaseParkedWorkDeps {
  readonly parked: ParkedWorkStore;
  readonly sqs: SQSClient;
  readonly syncQueueUrl: string;
  readonly now: () => number;
  readonly logger: Logger;
  /**
   * Messages due within this much are released now, with the rest of their wait as SQS delay,
   * so a schedule of every few minutes still releases them on time. At most 15 minutes.
   * @default 840_000 (14 minutes)
   */
  readonly lookAheadMs?: number;
  /** Most messages released per run; the next run takes the rest. @default 5_000 */
  readonly maxMessages?: number;
}

export interface ReleaseParkedWorkResult {
  readonly released: number;
  /** True when more were due than `maxMessages`. */
  readonly more: boolean;
}

const PAGE_SIZE = 100;

/**
 * The scheduled release of parked work: puts every message on the schedule shelf whose time
 * has come (or comes within the look-ahead) back on the sync queue, then removes it from the
 * table. (The other trigger, a closing circuit breaker, empties its own shelf: lib/breaker.)
 *
 * Send first, delete second: a crash in between leaves the item, and the next run sends it
 * again. The duplicate is harmless (every Books write is an upsert on the CRM id and the
 * message names the record, never its data); a lost message would not be.
 */
export const releaseParkedWork = async (
  deps: ReleaseParkedWorkDeps,
): Promise<ReleaseParkedWorkResult> => {
  const lookAheadMs = Math.min(deps.lookAheadMs ?? 840_000, MAX_SQS_DELAY_SECONDS * 1000);
  const maxMessages = deps.maxMessages ?? 5_000;
  let released = 0;
  for (;;) {
    const nowMs = deps.now();
    const batch = await deps.parked.list(SCHEDULED_SHELF, {
      dueByMs: nowMs + lookAheadMs,
      limit: Math.min(PAGE_SIZE, maxMessages - released),
    });
    if (batch.length === 0) break;
    await sendQueueMessages(
      deps.sqs,
      deps.syncQueueUrl,
      batch.map((message) => ({
        id: message.messageId,
        body: message.body,
        connectionId: message.connectionId,
        delaySeconds: Math.max(0, Math.ceil((message.atMs - nowMs) / 1000)),
      })),
    );
    await deps.parked.remove(batch);
    released += batch.length;
    if (released >= maxMessages) {
      deps.logger.info('parked work released', { released, more: true });
      return { released, more: true };
    }
  }
  if (released > 0) deps.logger.info('parked work released', { released, more: false });
  return { released, more: false };
};
