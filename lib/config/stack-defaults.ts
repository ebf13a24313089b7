import { DEFAULT_MAX_CONCURRENCY } from './connection';

/**
 * The defaults of a deployment, in one place: infra/settings.ts uses them as the defaults of its
 * CDK context keys and the stack's schedules, and local mode (`npm start`) runs with the same
 * values, so the pipeline on a laptop behaves as a default stack does.
 */
export const STACK_DEFAULTS = Object.freeze({
  /** SQS records per worker invocation (context `batchSize`). */
  batchSize: 10,
  /** Concurrent Zoho calls per Books organization (context `orgConcurrency`). */
  orgConcurrency: DEFAULT_MAX_CONCURRENCY,
  /**
   * Worker invocations at once: the sync worker's SQS event source maximum concurrency, and the
   * worker concurrency of local mode. The stack derives it from `orgConcurrency` for now; when
   * the worker's concurrency becomes a setting of its own, its default is this value.
   */
  workerConcurrency: DEFAULT_MAX_CONCURRENCY,
  /** Receives before a sync message moves to the DLQ (context `maxReceiveCount`). */
  maxReceiveCount: 5,
  /** Worker function timeout (context `workerTimeoutSeconds`). */
  workerTimeoutSeconds: 60,
  /** How often the stack's EventBridge rules run the scheduled functions. */
  schedules: Object.freeze({
    releaseDeferredMinutes: 5,
    renewChannelsHours: 12,
    reconcileSweepHours: 1,
  }),
});
