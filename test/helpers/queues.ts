import {
  GetQueueAttributesCommand,
  ReceiveMessageCommand,
  type SQSClient,
} from '@aws-sdk/client-sqs';
import { deliverBatch, type SqsHandler } from '../../lib/local/sqs-poller';

/** Messages in a queue: visible, in flight and delayed together. */
export const queueDepth = async (sqs: SQSClient, queueUrl: string): Promise<number> => {
  const result = await sqs.send(
    new GetQueueAttributesCommand({
      QueueUrl: queueUrl,
      AttributeNames: [
        'ApproximateNumberOfMessages',
        'ApproximateNumberOfMessagesNotVisible',
        'ApproximateNumberOfMessagesDelayed',
      ],
    }),
  );
  const attributes = result.Attributes ?? {};
  return (
    Number(attributes.ApproximateNumberOfMessages ?? 0) +
    Number(attributes.ApproximateNumberOfMessagesNotVisible ?? 0) +
    Number(attributes.ApproximateNumberOfMessagesDelayed ?? 0)
  );
};

/**
 * Delivers every visible message to the worker, batch by batch, until a receive comes back
 * empty: the deterministic way for a test to "let the event source mapping run".
 */
export const drainQueue = async (options: {
  sqs: SQSClient;
  queueUrl: string;
  queueArn: string;
  handler: SqsHandler;
  batchSize?: number;
}): Promise<number> => {
  let delivered = 0;
  for (;;) {
    const count = await deliverBatch({
      ...options,
      functionName: 'sync-worker',
      waitTimeSeconds: 0,
    });
    if (count === 0) return delivered;
    delivered += count;
  }
};

/** Reads (and deletes nothing from) up to 10 messages' bodies, parsed as JSON. */
export const peekMessages = async (sqs: SQSClient, queueUrl: string): Promise<unknown[]> => {
  const result = await sqs.send(
    new ReceiveMessageCommand({
      QueueUrl: queueUrl,
      MaxNumberOfMessages: 10,
      WaitTimeSeconds: 0,
      VisibilityTimeout: 0,
    }),
  );
  return (result.Messages ?? []).map((message) => JSON.parse(message.Body ?? 'null'));
};
