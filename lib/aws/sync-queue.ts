import { SendMessageBatchCommand, SendMessageCommand, type SQSClient } from '@aws-sdk/client-sqs';

/** The longest delay SQS allows on a message (15 minutes). */
export const MAX_SQS_DELAY_SECONDS = 900;

export interface QueuedMessage {
  readonly id: string;
  readonly body: string;
  readonly connectionId: string;
  readonly delaySeconds?: number;
}

/**
 * Sends messages in batches of ten (the SQS maximum).
 * @throws Error naming the failed entries when SQS rejects any of them, so the caller answers
 * 5xx and the sender retries instead of losing work.
 */
export const sendQueueMessages = async (
  sqs: SQSClient,
  queueUrl: string,
  messages: readonly QueuedMessage[],
): Promise<void> => {
  for (let start = 0; start < messages.length; start += 10) {
    const batch = messages.slice(start, start + 10);
    const result = await sqs.send(
      new SendMessageBatchCommand({
        QueueUrl: queueUrl,
        Entries: batch.map((message, index) => ({
          Id: String(index),
          MessageBody: message.body,
          DelaySeconds: clampDelaySeconds(message.delaySeconds ?? 0),
          MessageAttributes: {
            connectionId: { DataType: 'String', StringValue: message.connectionId },
          },
        })),
      }),
    );
    if (result.Failed !== undefined && result.Failed.length > 0) {
      const codes = result.Failed.map((entry) => entry.Code).join(', ');
      throw new Error(`SQS rejected ${result.Failed.length} of ${batch.length} messages: ${codes}`);
    }
  }
};

/** Sends one message, optionally delayed (clamped to the SQS maximum of 15 minutes). */
export const sendQueueMessage = async (
  sqs: SQSClient,
  queueUrl: string,
  message: QueuedMessage,
): Promise<void> => {
  await sqs.send(
    new SendMessageCommand({
      QueueUrl: queueUrl,
      MessageBody: message.body,
      DelaySeconds: clampDelaySeconds(message.delaySeconds ?? 0),
      MessageAttributes: {
        connectionId: { DataType: 'String', StringValue: message.connectionId },
      },
    }),
  );
};

export const clampDelaySeconds = (seconds: number): number =>
  Math.min(MAX_SQS_DELAY_SECONDS, Math.max(0, Math.ceil(seconds)));
