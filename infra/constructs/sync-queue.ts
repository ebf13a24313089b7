import { Duration } from 'aws-cdk-lib';
import type { Grant, IGrantable } from 'aws-cdk-lib/aws-iam';
import { Queue, QueueEncryption } from 'aws-cdk-lib/aws-sqs';
import { Construct } from 'constructs';

/** AWS's rule for an SQS event source: visibility timeout >= 6x the function timeout. */
export const VISIBILITY_TIMEOUT_FACTOR = 6;
/** Added on top, so the visibility timeout is strictly more than 6x (the "> 6x"). */
export const VISIBILITY_TIMEOUT_MARGIN_SECONDS = 30;

export interface SyncQueueProps {
  /** The worker function's timeout; the visibility timeout is derived from it. */
  readonly workerTimeout: Duration;
  /** Receives before a message moves to the dead-letter queue. */
  readonly maxReceiveCount: number;
}

/**
 * The sync queue (webhook -> worker, and the worker's delayed re-queues) and its dead-letter
 * queue. Both use SQS-managed SSE (no key to manage, no KMS calls or grants) and refuse
 * non-TLS requests.
 */
export class SyncQueue extends Construct {
  readonly queue: Queue;
  readonly deadLetterQueue: Queue;

  constructor(scope: Construct, id: string, props: SyncQueueProps) {
    super(scope, id);
    // Standard queues keep a message's original enqueue time when it moves to the DLQ, so the
    // DLQ must retain longer than the source: 14 days (the maximum) against 4 days.
    this.deadLetterQueue = new Queue(this, 'DeadLetterQueue', {
      encryption: QueueEncryption.SQS_MANAGED,
      enforceSSL: true,
      retentionPeriod: Duration.days(14),
    });
    this.queue = new Queue(this, 'Queue', {
      encryption: QueueEncryption.SQS_MANAGED,
      enforceSSL: true,
      retentionPeriod: Duration.days(4),
      // A message stays invisible while a worker holds it; with 6x the function timeout, Lambda's
      // own retries of a throttled or failed batch cannot overlap a still-running invocation.
      visibilityTimeout: Duration.seconds(
        props.workerTimeout.toSeconds() * VISIBILITY_TIMEOUT_FACTOR +
          VISIBILITY_TIMEOUT_MARGIN_SECONDS,
      ),
      deadLetterQueue: { queue: this.deadLetterQueue, maxReceiveCount: props.maxReceiveCount },
    });
  }

  /** sqs:SendMessage (which also covers SendMessageBatch) on the sync queue only. */
  grantSend(grantee: IGrantable): Grant {
    return this.queue.grant(grantee, 'sqs:SendMessage');
  }

  /** sqs:SendMessage on the dead-letter queue only (the worker dead-letters with the error). */
  grantDeadLetter(grantee: IGrantable): Grant {
    return this.deadLetterQueue.grant(grantee, 'sqs:SendMessage');
  }
}
