/**
 * The defaults of a deployment, in one place: infra/settings.ts uses them as the defaults of its
 * CDK context keys and the stack's schedules, and local mode (`npm start`) runs with the same
 * values, so the pipeline on a laptop behaves as a default stack does.
 */
export const STACK_DEFAULTS = Object.freeze({
  /** SQS records per worker invocation (context `batchSize`). */
  batchSize: 10,
  /**
   * Worker invocations at once (context `workerConcurrency`, older name `orgConcurrency`): the
   * sync worker's SQS event source maximum concurrency, and the worker concurrency of local mode.
   * Sized for several busy connections together: one organization's budget (100 calls a minute,
   * 5 in flight) keeps two or three invocations busy, and a connection with a backlog must not
   * take every invocation from the others. Each organization's own in-flight cap is
   * `maxConcurrency` in its connection secret, enforced by the request budget.
   */
  workerConcurrency: 20,
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
