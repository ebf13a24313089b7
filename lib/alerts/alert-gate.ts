import {
  ConditionalCheckFailedException,
  type DynamoDBClient,
  PutItemCommand,
  UpdateItemCommand,
} from '@aws-sdk/client-dynamodb';
import { TABLE_KEY, tableKeys, toKeyAttributes, ttlAttribute } from '../aws';
import { type Logger, METRICS, type MetricsRecorder } from '../observability';
import type { AdminAlert } from './admin-alert';
import type { AlertPublisher } from './alert-publisher';

export interface AlertGateDeps {
  readonly dynamodb: DynamoDBClient;
  readonly tableName: string;
  readonly publisher: AlertPublisher;
  readonly now: () => number;
  /** At most one alert per (connection, code, subject) per window; also the storm window. */
  readonly windowMs: number;
  /**
   * The Nth distinct record failing with one code in one window gets the summary alert instead
   * of its own; later ones in the window get none (they are counted).
   */
  readonly stormThreshold: number;
  readonly metrics: MetricsRecorder;
  readonly logger: Logger;
}

export interface RecordAlertRequest {
  readonly connectionId: string;
  /** What the alert is filed under: the Zoho code, HTTP status or row id. */
  readonly code: string;
  /** What repeats are recognised by, e.g. `Accounts/4876876000000345001`. */
  readonly subject: string;
  /** The alert for this record, with notes on what was held back before it. */
  render(notes: readonly string[]): AdminAlert;
  /** The summary alert when this record is the storm threshold's Nth. */
  renderSummary(
    records: number,
    window: { readonly startMs: number; readonly endMs: number },
    notes: readonly string[],
  ): AdminAlert;
}

export type AlertGateResult =
  | { readonly status: 'published' | 'publish-failed'; readonly kind: 'record' | 'summary' }
  | { readonly status: 'suppressed'; readonly reason: 'repeat' | 'storm' };

/**
 * Decides whether a record's failure alert goes out, so an admin gets one email per problem
 * rather than one per message, and publishes it. Never throws: if DynamoDB fails, the alert is
 * published anyway (a duplicate email is better than none), and a failed publish is only
 * logged and counted by the publisher. The message itself is already dead-lettered by then.
 */
export interface AlertGate {
  publishRecordAlert(request: RecordAlertRequest): Promise<AlertGateResult>;
}

/** How long the dedupe item outlives its window, so the next alert can report held-back repeats. */
const REPEAT_MEMORY_MS = 7 * 24 * 3_600_000;

const iso = (ms: number): string => new Date(ms).toISOString();

/**
 * Builds the gate on the one table. Two conditional writes decide:
 * 1. per (connection, code, subject), `tableKeys.alertDedupe`: the last time an alert went out
 *    and how many repeats were held back since; a repeat inside the window only counts;
 * 2. per (connection, code), `tableKeys.alertStorm`: distinct records alerted in the current
 *    fixed window. The `stormThreshold`th gets the summary alert, the rest are counted, and
 *    the first alert of the next window reports that count (the window item is replaced
 *    atomically, returning the old one).
 * Written by hand: SNS has no deduplication for email subscriptions (only FIFO topics, which
 * cannot deliver to email), and Powertools Idempotency records results, not counts.
 */
export const createAlertGate = (deps: AlertGateDeps): AlertGate => {
  const valuesFor = (nowMs: number) => ({ ':now': { N: String(nowMs) } });

  /** Step 1: may this (code, subject) alert now? Returns the repeats held back before it. */
  const claimRepeatSlot = async (
    request: RecordAlertRequest,
    nowMs: number,
  ): Promise<{ send: true; repeats: number; sinceMs: number } | { send: false }> => {
    const key = toKeyAttributes(
      tableKeys.alertDedupe(request.connectionId, request.code, request.subject),
    );
    try {
      const result = await deps.dynamodb.send(
        new UpdateItemCommand({
          TableName: deps.tableName,
          Key: key,
          UpdateExpression: 'SET lastSentAtMs = :now, suppressed = :zero, #ttl = :ttl',
          ConditionExpression: 'attribute_not_exists(lastSentAtMs) OR lastSentAtMs <= :cutoff',
          ExpressionAttributeNames: { '#ttl': TABLE_KEY.ttl },
          ExpressionAttributeValues: {
            ...valuesFor(nowMs),
            ':zero': { N: '0' },
            ':cutoff': { N: String(nowMs - deps.windowMs) },
            ':ttl': ttlAttribute(nowMs + deps.windowMs + REPEAT_MEMORY_MS),
          },
          ReturnValues: 'ALL_OLD',
        }),
      );
      return {
        send: true,
        repeats: Number(result.Attributes?.suppressed?.N ?? 0),
        sinceMs: Number(result.Attributes?.lastSentAtMs?.N ?? 0),
      };
    } catch (error) {
      if (!(error instanceof ConditionalCheckFailedException)) throw error;
      await deps.dynamodb.send(
        new UpdateItemCommand({
          TableName: deps.tableName,
          Key: key,
          UpdateExpression: 'ADD suppressed :one',
          ExpressionAttributeValues: { ':one': { N: '1' } },
        }),
      );
      return { send: false };
    }
  };

  /** Step 1 undone after a failed publish, so the next failure of the record alerts again. */
  const releaseRepeatSlot = async (request: RecordAlertRequest, nowMs: number) => {
    try {
      await deps.dynamodb.send(
        new UpdateItemCommand({
          TableName: deps.tableName,
          Key: toKeyAttributes(
            tableKeys.alertDedupe(request.connectionId, request.code, request.subject),
          ),
          UpdateExpression: 'SET lastSentAtMs = :zero',
          ConditionExpression: 'lastSentAtMs = :now',
          ExpressionAttributeValues: { ...valuesFor(nowMs), ':zero': { N: '0' } },
        }),
      );
    } catch (error) {
      if (!(error instanceof ConditionalCheckFailedException)) throw error;
    }
  };

  /**
   * Step 2: counts this record into the code's current window.
   * @returns its rank in the window and, for the first of a window, what the previous window
   * held back.
   */
  const countIntoWindow = async (
    request: RecordAlertRequest,
    windowStartMs: number,
  ): Promise<{ rank: number; carried?: { records: number; startMs: number } }> => {
    const key = toKeyAttributes(tableKeys.alertStorm(request.connectionId, request.code));
    const window = { ':window': { N: String(windowStartMs) } };
    // Two rounds: a concurrent worker may start the window between our two writes.
    for (let round = 0; round < 2; round += 1) {
      try {
        const added = await deps.dynamodb.send(
          new UpdateItemCommand({
            TableName: deps.tableName,
            Key: key,
            UpdateExpression: 'ADD records :one',
            ConditionExpression: 'windowStartMs = :window',
            ExpressionAttributeValues: { ...window, ':one': { N: '1' } },
            ReturnValues: 'ALL_NEW',
          }),
        );
        return { rank: Number(added.Attributes?.records?.N ?? 1) };
      } catch (error) {
        if (!(error instanceof ConditionalCheckFailedException)) throw error;
      }
      try {
        const replaced = await deps.dynamodb.send(
          new PutItemCommand({
            TableName: deps.tableName,
            Item: {
              ...key,
              windowStartMs: { N: String(windowStartMs) },
              records: { N: '1' },
              suppressed: { N: '0' },
              [TABLE_KEY.ttl]: ttlAttribute(windowStartMs + 2 * deps.windowMs + REPEAT_MEMORY_MS),
            },
            ConditionExpression: 'attribute_not_exists(windowStartMs) OR windowStartMs < :window',
            ExpressionAttributeValues: window,
            ReturnValues: 'ALL_OLD',
          }),
        );
        const heldBack = Number(replaced.Attributes?.suppressed?.N ?? 0);
        const startMs = Number(replaced.Attributes?.windowStartMs?.N ?? 0);
        return heldBack > 0 ? { rank: 1, carried: { records: heldBack, startMs } } : { rank: 1 };
      } catch (error) {
        if (!(error instanceof ConditionalCheckFailedException)) throw error;
      }
    }
    // Only a window newer than ours (another container's clock runs ahead) gets here.
    return { rank: 1 };
  };

  const countStormSuppressed = async (request: RecordAlertRequest) => {
    await deps.dynamodb.send(
      new UpdateItemCommand({
        TableName: deps.tableName,
        Key: toKeyAttributes(tableKeys.alertStorm(request.connectionId, request.code)),
        UpdateExpression: 'ADD suppressed :one',
        ExpressionAttributeValues: { ':one': { N: '1' } },
      }),
    );
  };

  const suppressed = (request: RecordAlertRequest, reason: 'repeat' | 'storm'): AlertGateResult => {
    deps.metrics.count(METRICS.alertsSuppressed, { connection: request.connectionId });
    deps.logger.info('alert suppressed', {
      connection_id: request.connectionId,
      alert_code: request.code,
      alert_subject: request.subject,
      reason,
    });
    return { status: 'suppressed', reason };
  };

  return {
    async publishRecordAlert(request) {
      const nowMs = deps.now();
      const windowStartMs = Math.floor(nowMs / deps.windowMs) * deps.windowMs;
      let alert: AdminAlert;
      let kind: 'record' | 'summary' = 'record';
      try {
        const slot = await claimRepeatSlot(request, nowMs);
        if (!slot.send) return suppressed(request, 'repeat');
        const notes: string[] = [];
        if (slot.repeats > 0) {
          notes.push(
            `${slot.repeats} repeat(s) of this alert were held back since ${iso(slot.sinceMs)}.`,
          );
        }
        const { rank, carried } = await countIntoWindow(request, windowStartMs);
        if (carried !== undefined) {
          notes.push(
            `${carried.records} more record(s) failed with code ${request.code} between ${iso(carried.startMs)} and ${iso(carried.startMs + deps.windowMs)} without an alert each.`,
          );
        }
        if (rank > deps.stormThreshold) {
          await countStormSuppressed(request);
          return suppressed(request, 'storm');
        }
        if (rank === deps.stormThreshold && deps.stormThreshold > 1) {
          kind = 'summary';
          alert = request.renderSummary(
            rank,
            { startMs: windowStartMs, endMs: windowStartMs + deps.windowMs },
            notes,
          );
        } else {
          alert = request.render(notes);
        }
      } catch (error) {
        // Deduplication is a courtesy; the alert is not. Publish without it.
        deps.logger.error('alert dedupe failed; publishing without it', {
          connection_id: request.connectionId,
          error: error instanceof Error ? error.message : String(error),
        });
        alert = request.render([]);
      }
      const published = await deps.publisher.publish(alert);
      if (!published) {
        await releaseRepeatSlot(request, nowMs).catch(() => undefined);
        return { status: 'publish-failed', kind };
      }
      return { status: 'published', kind };
    },
  };
};
