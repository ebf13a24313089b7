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
 * The event source's maximum concurrency for the worker's total concurrency setting, within
 * what SQS accepts (2..1000).
 *
 * It is the worker's capacity for all connections together, not any organization's limit: the
 * request budget (lib/limits) enforces each organization's in-flight cap and rate, so a
 * connection with a backlog cannot use more than its organization allows, and the invocations it
 * does not need stay free for the other connections' changes.
 */
export const eventSourceConcurrency = (workerConcurrency: number): number =>
  Math.min(MAX_EVENT_SOURCE_CONCURRENCY, Math.max(MIN_EVENT_SOURCE_CONCURRENCY, workerConcurrency));

export interface SyncWorkerProps {
  readonly defaults: FunctionDefaults;
  readonly timeout: Duration;
  readonly syncQueue: SyncQueue;
  readonly table: StateTable;
  readonly alerts: AlertTopic;
  readonly secrets: ConnectionSecrets;
  /** Messages per invocation. */
  readonly batchSize: number;
  /** The worker's total concurrency, for all connections; see {@link eventSourceConcurrency}. */
  readonly workerConcurrency: number;
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
    this.maxConcurrency = eventSourceConcurrency(props.workerConcurrency);

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
