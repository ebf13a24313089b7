import type { Duration } from 'aws-cdk-lib';
import { SqsEventSource } from 'aws-cdk-lib/aws-lambda-event-sources';
import { Construct } from 'constructs';
import { type FunctionDefaults, functionEntry, ZohoSyncFunction } from '../function-defaults';
import type { AlertTopic } from './alert-topic';
import type { ConnectionSecrets } from './connection-secrets';
import type { StateTable } from './state-table';
import type { SyncQueue } from './sync-queue';

/** SQS event sources accept maxConcurrency 2..1000. */
export const MIN_EVENT_SOURCE_CONCURRENCY = 2;
export const MAX_EVENT_SOURCE_CONCURRENCY = 1000;

/**
 * The event source's maximum concurrency for a per-organization concurrent call limit.
 *
 * One worker invocation works on one batch, and every record can call Zoho, so more concurrent
 * invocations than the organization accepts concurrent calls would only buy 429s and deferrals
 * (the distributed limiter in lib/limits is what actually enforces the limit per
 * organization). SQS refuses a maxConcurrency below 2, so a limit of 1 still allows two
 * invocations and the limiter queues the second one's calls.
 */
export const eventSourceConcurrency = (orgConcurrency: number): number =>
  Math.min(MAX_EVENT_SOURCE_CONCURRENCY, Math.max(MIN_EVENT_SOURCE_CONCURRENCY, orgConcurrency));

export interface SyncWorkerProps {
  readonly defaults: FunctionDefaults;
  readonly timeout: Duration;
  readonly syncQueue: SyncQueue;
  readonly table: StateTable;
  readonly alerts: AlertTopic;
  readonly secrets: ConnectionSecrets;
  /** Messages per invocation. */
  readonly batchSize: number;
  /** Per-organization concurrent call limit; see {@link eventSourceConcurrency}. */
  readonly orgConcurrency: number;
}

/**
 * The worker: consumes the sync queue with partial batch responses (one bad record fails alone
 * and only it is redelivered), calls Zoho with the connection's token, keeps state in the
 * table, re-queues deferred work with a delay, dead-letters with the error attached, and
 * publishes admin alerts.
 */
export class SyncWorker extends Construct {
  readonly handler: ZohoSyncFunction;
  readonly maxConcurrency: number;

  constructor(scope: Construct, id: string, props: SyncWorkerProps) {
    super(scope, id);
    this.maxConcurrency = eventSourceConcurrency(props.orgConcurrency);

    this.handler = new ZohoSyncFunction(this, 'Function', {
      entry: functionEntry('sync-worker'),
      description: 'zoho-sync worker: syncs queued CRM changes to Zoho Books',
      defaults: props.defaults,
      timeout: props.timeout,
      memorySize: 512,
    });
    const fn = this.handler.function;

    // Adds sqs:ReceiveMessage, DeleteMessage, ChangeMessageVisibility, GetQueueAttributes and
    // GetQueueUrl on the sync queue.
    fn.addEventSource(
      new SqsEventSource(props.syncQueue.queue, {
        batchSize: props.batchSize,
        reportBatchItemFailures: true,
        maxConcurrency: this.maxConcurrency,
      }),
    );
    props.syncQueue.grantSend(fn);
    props.syncQueue.grantDeadLetter(fn);
    props.table.grantData(fn);
    props.alerts.grantPublish(fn);
    props.secrets.grantTokenStore(this.handler.role);
  }
}
