import {
  ChangeMessageVisibilityBatchCommand,
  DeleteMessageBatchCommand,
  type Message,
  ReceiveMessageCommand,
  type SQSClient,
} from '@aws-sdk/client-sqs';
import { sendQueueMessages } from '../aws';
import { type LastError, type SyncMessage, syncMessageSchema } from '../sync';

export interface DeadLetterQueueDeps {
  readonly sqs: SQSClient;
  readonly deadLetterQueueUrl: string;
  readonly syncQueueUrl: string;
  /**
   * Long-poll wait of each receive. SQS short polls sample only some servers and may answer
   * empty while messages exist; a wait makes the scan see them all.
   * @default 1
   */
  readonly waitTimeSeconds?: number;
  /**
   * How long scanned messages stay hidden while a command works on them; they are made visible
   * again at the end. @default 60
   */
  readonly visibilityTimeoutSeconds?: number;
  /** Stops scanning after this many messages. @default 10000 */
  readonly maxMessages?: number;
}

/** One message in the dead-letter queue, as the CLI lists it. */
export interface DeadLetter {
  /** SQS's id of this copy in the DLQ. */
  readonly sqsMessageId: string;
  /** The sync message's own id (the one alerts print); undefined for an unreadable body. */
  readonly messageId: string | undefined;
  readonly connectionId: string | undefined;
  /** The sync message, when the body is one. */
  readonly message: SyncMessage | undefined;
  /** The error zoho-sync attached when it dead-lettered the message itself. */
  readonly lastError: LastError | undefined;
  /**
   * Tries in all, when known: zoho-sync's own dead-lettering knows them; a message that SQS
   * moved here after `maxReceiveCount` failed receives (crashes) reports those receives.
   */
  readonly attempts: number | undefined;
  /** When it was sent to the DLQ (epoch ms), when SQS says. */
  readonly deadLetteredAtMs: number | undefined;
  /** The raw body, for messages that are not readable sync messages. */
  readonly body: string;
}

interface Received {
  readonly deadLetter: DeadLetter;
  readonly receiptHandle: string;
}

const parseBody = (body: string): SyncMessage | undefined => {
  try {
    const parsed = syncMessageSchema.safeParse(JSON.parse(body));
    return parsed.success ? parsed.data : undefined;
  } catch {
    return undefined;
  }
};

const toDeadLetter = (message: Message): DeadLetter => {
  const body = message.Body ?? '';
  const sync = parseBody(body);
  const lastError = sync?.lastError;
  const receiveCount = Number(message.Attributes?.ApproximateReceiveCount ?? Number.NaN);
  const sentAt = Number(message.Attributes?.SentTimestamp ?? Number.NaN);
  let attempts: number | undefined;
  if (sync !== undefined && lastError !== undefined) {
    attempts = lastError.action === 'backoff' ? sync.attempt : sync.attempt + 1;
  } else if (Number.isFinite(receiveCount)) {
    // Moved here by SQS: each receive was one try that crashed. The DLQ's own receives (our
    // scans) count too, so this is an upper bound.
    attempts = receiveCount;
  }
  return {
    sqsMessageId: message.MessageId ?? '',
    messageId: sync?.messageId,
    connectionId:
      sync?.connectionId ?? message.MessageAttributes?.connectionId?.StringValue ?? undefined,
    message: sync,
    lastError,
    attempts,
    deadLetteredAtMs: Number.isFinite(sentAt) ? sentAt : undefined,
    body,
  };
};

/**
 * Reads and manages the dead-letter queue for the CLI: list, explain, redrive. Every command
 * scans the whole queue (receiving hides messages for `visibilityTimeoutSeconds`), acts, and
 * makes the messages it did not delete visible again, so a scan never loses or holds one.
 */
export interface DeadLetterQueue {
  /** Every dead-lettered message, optionally of one connection, oldest first. */
  list(filter?: { readonly connectionId?: string }): Promise<DeadLetter[]>;
  /** The message with this sync message id (or SQS message id), if it is in the DLQ. */
  find(messageId: string): Promise<DeadLetter | undefined>;
  /**
   * Sends dead-lettered messages of `connectionId` back to the sync queue with their attempts
   * reset (source `redrive`), then deletes them from the DLQ: the one with `messageId`, or all.
   * Unreadable bodies are never redriven (there is nothing to sync); they are skipped.
   */
  redrive(request: {
    readonly connectionId: string;
    readonly messageId?: string;
    readonly all?: boolean;
  }): Promise<RedriveResult>;
}

export interface RedriveResult {
  /** Sync message ids sent back to the sync queue. */
  readonly redriven: readonly string[];
  /** Matching messages left in the DLQ because their body is not a sync message. */
  readonly skippedUnreadable: number;
}

export const createDeadLetterQueue = (deps: DeadLetterQueueDeps): DeadLetterQueue => {
  const waitTimeSeconds = deps.waitTimeSeconds ?? 1;
  const visibilityTimeout = deps.visibilityTimeoutSeconds ?? 60;
  const maxMessages = deps.maxMessages ?? 10_000;

  const changeVisibility = async (items: readonly Received[], seconds: number) => {
    for (let start = 0; start < items.length; start += 10) {
      const chunk = items.slice(start, start + 10);
      await deps.sqs.send(
        new ChangeMessageVisibilityBatchCommand({
          QueueUrl: deps.deadLetterQueueUrl,
          Entries: chunk.map((item, index) => ({
            Id: String(index),
            ReceiptHandle: item.receiptHandle,
            VisibilityTimeout: seconds,
          })),
        }),
      );
    }
  };

  const deleteReceived = async (items: readonly Received[]) => {
    for (let start = 0; start < items.length; start += 10) {
      const chunk = items.slice(start, start + 10);
      const result = await deps.sqs.send(
        new DeleteMessageBatchCommand({
          QueueUrl: deps.deadLetterQueueUrl,
          Entries: chunk.map((item, index) => ({
            Id: String(index),
            ReceiptHandle: item.receiptHandle,
          })),
        }),
      );
      if (result.Failed !== undefined && result.Failed.length > 0) {
        throw new Error(
          `redriven, but ${result.Failed.length} message(s) could not be deleted from the DLQ; they may be redriven twice`,
        );
      }
    }
  };

  /**
   * Receives everything (hiding it), runs `act`, then makes what `act` did not delete visible
   * again, also when `act` fails.
   */
  const scan = async <T>(
    act: (
      received: readonly Received[],
      remove: (items: readonly Received[]) => Promise<void>,
    ) => Promise<T>,
  ): Promise<T> => {
    const received = new Map<string, Received>();
    while (received.size < maxMessages) {
      const page = await deps.sqs.send(
        new ReceiveMessageCommand({
          QueueUrl: deps.deadLetterQueueUrl,
          MaxNumberOfMessages: 10,
          WaitTimeSeconds: waitTimeSeconds,
          VisibilityTimeout: visibilityTimeout,
          MessageSystemAttributeNames: ['SentTimestamp', 'ApproximateReceiveCount'],
          MessageAttributeNames: ['All'],
        }),
      );
      const messages = page.Messages ?? [];
      if (messages.length === 0) break;
      for (const message of messages) {
        if (message.ReceiptHandle === undefined) continue;
        const deadLetter = toDeadLetter(message);
        received.set(deadLetter.sqsMessageId, { deadLetter, receiptHandle: message.ReceiptHandle });
      }
    }
    const all = [...received.values()].sort(
      (a, b) => (a.deadLetter.deadLetteredAtMs ?? 0) - (b.deadLetter.deadLetteredAtMs ?? 0),
    );
    const deleted = new Set<string>();
    try {
      return await act(all, async (items) => {
        await deleteReceived(items);
        for (const item of items) deleted.add(item.deadLetter.sqsMessageId);
      });
    } finally {
      await changeVisibility(
        all.filter((item) => !deleted.has(item.deadLetter.sqsMessageId)),
        0,
      );
    }
  };

  const matches = (deadLetter: DeadLetter, messageId: string): boolean =>
    deadLetter.messageId === messageId || deadLetter.sqsMessageId === messageId;

  return {
    list: (filter = {}) =>
      scan(async (received) =>
        received
          .map((item) => item.deadLetter)
          .filter(
            (deadLetter) =>
              filter.connectionId === undefined || deadLetter.connectionId === filter.connectionId,
          ),
      ),

    find: (messageId) =>
      scan(
        async (received) =>
          received.find((item) => matches(item.deadLetter, messageId))?.deadLetter,
      ),

    async redrive(request) {
      if ((request.messageId === undefined) === (request.all !== true)) {
        throw new Error('redrive needs exactly one of a message id or "all"');
      }
      return scan(async (received, remove) => {
        const selected = received.filter(
          (item) =>
            item.deadLetter.connectionId === request.connectionId &&
            (request.all === true ||
              (request.messageId !== undefined && matches(item.deadLetter, request.messageId))),
        );
        const readable = selected.filter((item) => item.deadLetter.message !== undefined);
        const outgoing = readable.map((item) => {
          // A redriven message starts afresh: no error, no attempts, no deferral age.
          const {
            lastError: _dropped,
            firstDeferredAtMs: _age,
            ...message
          } = item.deadLetter.message as SyncMessage;
          const redriven: SyncMessage = { ...message, attempt: 0, deferrals: 0, source: 'redrive' };
          return {
            id: redriven.messageId,
            connectionId: redriven.connectionId,
            body: JSON.stringify(redriven),
          };
        });
        // Send first, then delete: a failure in between leaves a duplicate, never a loss.
        await sendQueueMessages(deps.sqs, deps.syncQueueUrl, outgoing);
        await remove(readable);
        return {
          redriven: outgoing.map((message) => message.id),
          skippedUnreadable: selected.length - readable.length,
        };
      });
    },
  };
};
