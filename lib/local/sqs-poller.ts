import { randomUUID } from 'node:crypto';
import {
  DeleteMessageBatchCommand,
  type Message,
  ReceiveMessageCommand,
  type SQSClient,
} from '@aws-sdk/client-sqs';
import type { Context, SQSBatchResponse, SQSEvent, SQSRecord } from 'aws-lambda';
import { crashPoint } from '../crash-point';
import { fakeLambdaContext } from './lambda-context';

export type SqsHandler = (
  event: SQSEvent,
  context: Context,
) => Promise<SQSBatchResponse | undefined>;

export interface SqsPollerOptions {
  readonly sqs: SQSClient;
  readonly queueUrl: string;
  readonly queueArn: string;
  readonly handler: SqsHandler;
  readonly functionName: string;
  /** Records per invocation, as the event source mapping's BatchSize. @default 10 */
  readonly batchSize?: number;
  /** Concurrent invocations, as the event source mapping's MaximumConcurrency. @default 2 */
  readonly maxConcurrency?: number;
  /** Long-poll wait. @default 1 */
  readonly waitTimeSeconds?: number;
  readonly onError?: (error: unknown) => void;
}

export interface SqsPoller {
  stop(): Promise<void>;
  /** Batches invoked so far (for tests and the benchmark). */
  readonly invocations: () => number;
}

const toRecord = (message: Message, queueArn: string): SQSRecord => ({
  messageId: message.MessageId ?? randomUUID(),
  receiptHandle: message.ReceiptHandle ?? '',
  body: message.Body ?? '',
  attributes: {
    ApproximateReceiveCount: message.Attributes?.ApproximateReceiveCount ?? '1',
    SentTimestamp: message.Attributes?.SentTimestamp ?? String(Date.now()),
    SenderId: message.Attributes?.SenderId ?? 'local',
    ApproximateFirstReceiveTimestamp:
      message.Attributes?.ApproximateFirstReceiveTimestamp ?? String(Date.now()),
  },
  messageAttributes: Object.fromEntries(
    Object.entries(message.MessageAttributes ?? {}).map(([name, value]) => [
      name,
      { dataType: value.DataType ?? 'String', stringValue: value.StringValue },
    ]),
  ),
  md5OfBody: message.MD5OfBody ?? '',
  eventSource: 'aws:sqs',
  eventSourceARN: queueArn,
  awsRegion: 'us-east-1',
});

/**
 * Receives one batch (up to `batchSize` records) and delivers it to the handler as Lambda's
 * SQS event source mapping would: deletes the records the handler did not report in
 * `batchItemFailures` and leaves the failures to reappear after their visibility timeout, so
 * the queue's redrive policy applies. Returns the number of records delivered.
 */
export const deliverBatch = async (
  options: Omit<SqsPollerOptions, 'maxConcurrency'>,
): Promise<number> => {
  const received = await options.sqs.send(
    new ReceiveMessageCommand({
      QueueUrl: options.queueUrl,
      MaxNumberOfMessages: options.batchSize ?? 10,
      WaitTimeSeconds: options.waitTimeSeconds ?? 1,
      MessageSystemAttributeNames: ['All'],
      MessageAttributeNames: ['All'],
    }),
  );
  const messages = received.Messages ?? [];
  if (messages.length === 0) return 0;
  const event: SQSEvent = {
    Records: messages.map((message) => toRecord(message, options.queueArn)),
  };
  let failedIds = new Set<string>(event.Records.map((record) => record.messageId));
  try {
    const response = await options.handler(
      event,
      fakeLambdaContext(options.functionName, randomUUID()),
    );
    failedIds = new Set(
      (response?.batchItemFailures ?? []).map((failure) => failure.itemIdentifier),
    );
  } catch (error) {
    // A thrown handler fails the whole batch, as Lambda does.
    options.onError?.(error);
  }
  const done = event.Records.filter((record) => !failedIds.has(record.messageId));
  if (done[0] !== undefined) await crashPoint('before-sqs-delete', done[0].messageId);
  if (done.length > 0) {
    await options.sqs.send(
      new DeleteMessageBatchCommand({
        QueueUrl: options.queueUrl,
        Entries: done.map((record, index) => ({
          Id: String(index),
          ReceiptHandle: record.receiptHandle,
        })),
      }),
    );
  }
  return messages.length;
};

/**
 * A local stand-in for Lambda's SQS event source mapping: `maxConcurrency` workers long-poll
 * the queue and deliver batches with {@link deliverBatch} until stopped.
 */
export const startSqsPoller = (options: SqsPollerOptions): SqsPoller => {
  let running = true;
  let invocations = 0;

  const worker = async (): Promise<void> => {
    while (running) {
      try {
        if ((await deliverBatch(options)) > 0) invocations += 1;
      } catch (error) {
        if (!running) return;
        options.onError?.(error);
        await new Promise((resolve) => setTimeout(resolve, 200));
      }
    }
  };

  const workers = Array.from({ length: options.maxConcurrency ?? 2 }, () => worker());
  return {
    invocations: () => invocations,
    stop: async () => {
      running = false;
      await Promise.all(workers);
    },
  };
};
