import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { sendQueueMessage } from '../../../lib/aws';
import { explainDeadLetter, summarizeDeadLetter } from '../../../lib/dlq';
import { getErrorEntry } from '../../../lib/zoho';
import { type FailureHarness, startFailureHarness } from '../../helpers/failure-harness';
import { queueDepth } from '../../helpers/queues';

const BOOKS_UPSERT = /^\/books\/v3\/contacts$/;

const defined = <T>(value: T | undefined): T => {
  if (value === undefined) throw new Error('expected a value');
  return value;
};

/** `fail-alert`: no retry; the message goes to the DLQ with its error, and one alert. */
describe('failure handling: dead-letter queue', () => {
  let harness: FailureHarness;
  /** Books organization of connection dlq-1002. */
  let organizationId: string;

  beforeAll(async () => {
    harness = await startFailureHarness();
  });

  afterAll(async () => {
    await harness?.stop();
  });

  const depth = (queueUrl: string) => queueDepth(harness.env.clients.sqs, queueUrl);

  it('dead-letters a 1002 at once with its error and an alert naming the record', async () => {
    // Prepare
    const secret = await harness.addConnection('dlq-1002');
    organizationId = secret.booksOrganizationId;
    harness.simulator.injectFault({
      method: 'PUT',
      pathPattern: BOOKS_UPSERT,
      organizationId,
      times: 1,
      response: { status: 404, body: { code: 1002, message: 'Contact does not exist.' } },
    });
    const message = await harness.enqueue('dlq-1002', '5200000000000000001');

    // Act
    const outcomes = await harness.run();

    // Assess: one Books call, no retry.
    expect(outcomes).toStrictEqual([{ status: 'dead-lettered', entryId: 'books-1002' }]);
    expect(harness.zohoCalls({ path: BOOKS_UPSERT, organizationId })).toBe(1);
    expect(await depth(harness.env.resources.syncQueueUrl)).toBe(0);

    const deadLetters = await harness.deadLetterQueue.list({ connectionId: 'dlq-1002' });
    expect(deadLetters).toHaveLength(1);
    expect(deadLetters[0]).toMatchObject({
      messageId: message.messageId,
      connectionId: 'dlq-1002',
      attempts: 1,
      lastError: {
        entryId: 'books-1002',
        action: 'fail-alert',
        httpStatus: 404,
        zohoCode: 1002,
        message: 'Record does not exist',
      },
    });

    const alerts = await harness.alerts();
    expect(alerts).toHaveLength(1);
    const [alert] = alerts;
    expect(alert?.subject).toBe('[zoho-sync] dlq-1002: Zoho Books 1002 Record does not exist');
    expect(alert?.attributes).toStrictEqual({
      connection: 'dlq-1002',
      code: '1002',
      severity: 'error',
    });
    const entry = getErrorEntry('books-1002');
    for (const line of [
      'Connection:      dlq-1002',
      'CRM record:      Accounts 5200000000000000001',
      'Zoho endpoint:   /books/v3/contacts',
      'HTTP status:     404',
      'Zoho code:       1002',
      'Zoho message:    Contact does not exist.',
      'Error:           Record does not exist',
      'Action taken:    fail-alert: not retried; the message is in the dead-letter queue',
      'Attempts:        1',
      `What it means:   ${entry.meaning}`,
      `Correlation id:  ${message.correlationId} (search the logs for it)`,
      `Explain:         npx zoho-sync dlq explain ${message.messageId}`,
      `Replay:          npx zoho-sync redrive --connection dlq-1002 --message ${message.messageId}`,
    ]) {
      expect(alert?.body.split('\n')).toContain(line);
    }
  });

  it('explains a dead-lettered message from the error table', async () => {
    const [listed] = await harness.deadLetterQueue.list({ connectionId: 'dlq-1002' });
    const deadLetter = defined(await harness.deadLetterQueue.find(defined(listed?.messageId)));
    expect(deadLetter.sqsMessageId).toBe(listed?.sqsMessageId);

    const text = explainDeadLetter(deadLetter, { secretPrefix: harness.env.config.secretPrefix });

    const entry = getErrorEntry('books-1002');
    expect(text).toContain('CRM record:      Accounts 5200000000000000001');
    expect(text).toContain('Last error:      books-1002, HTTP 404, Zoho code 1002');
    expect(text).toContain(`What it means:   ${entry.meaning}`);
    expect(text).toContain(`Note:            ${entry.note}`);
    expect(text).toContain(
      `Replay:          npx zoho-sync redrive --connection dlq-1002 --message ${deadLetter.messageId}`,
    );
    expect(summarizeDeadLetter(deadLetter)).toContain(
      '1002 Record does not exist [fail-alert]  attempts=1',
    );
    // Looking does not take anything out of the queue.
    expect(await depth(harness.env.resources.deadLetterQueueUrl)).toBe(1);
  });

  it('redrives one message with its attempts reset, and it syncs', async () => {
    const [deadLetter] = await harness.deadLetterQueue.list({ connectionId: 'dlq-1002' });

    const result = await harness.deadLetterQueue.redrive({
      connectionId: 'dlq-1002',
      messageId: defined(deadLetter?.messageId),
    });

    expect(result).toStrictEqual({ redriven: [deadLetter?.messageId], skippedUnreadable: 0 });
    expect(await depth(harness.env.resources.deadLetterQueueUrl)).toBe(0);
    const outcomes = await harness.run();
    expect(outcomes.map((outcome) => outcome.status)).toStrictEqual(['synced']);
    expect(harness.simulator.books.contacts(organizationId)).toHaveLength(1);
    expect(await harness.alerts()).toStrictEqual([]);
  });

  it('redrives all of one connection and leaves other connections alone', async () => {
    // Prepare: two connections with two dead-lettered records each (invalid value, code 2).
    for (const connectionId of ['dlq-all-a', 'dlq-all-b']) {
      const secret = await harness.addConnection(connectionId);
      harness.simulator.injectFault({
        method: 'PUT',
        pathPattern: BOOKS_UPSERT,
        organizationId: secret.booksOrganizationId,
        times: 2,
        response: { status: 400, body: { code: 2, message: 'Invalid value passed for name' } },
      });
    }
    await harness.enqueue('dlq-all-a', '5200000000000000011');
    await harness.enqueue('dlq-all-a', '5200000000000000012');
    await harness.enqueue('dlq-all-b', '5200000000000000013');
    await harness.enqueue('dlq-all-b', '5200000000000000014');
    await harness.run();
    await harness.alerts();

    // Act
    const result = await harness.deadLetterQueue.redrive({ connectionId: 'dlq-all-a', all: true });

    // Assess
    expect(result.redriven).toHaveLength(2);
    const remaining = await harness.deadLetterQueue.list();
    expect(remaining.map((deadLetter) => deadLetter.connectionId)).toStrictEqual([
      'dlq-all-b',
      'dlq-all-b',
    ]);
    const outcomes = await harness.run();
    expect(outcomes.map((outcome) => outcome.status)).toStrictEqual(['synced', 'synced']);
    await harness.deadLetterQueue.redrive({ connectionId: 'dlq-all-b', all: true });
    await harness.run();
    expect(await depth(harness.env.resources.deadLetterQueueUrl)).toBe(0);
  });

  it('flags a code the error table does not know, in the alert and the DLQ', async () => {
    const secret = await harness.addConnection('dlq-unknown');
    harness.simulator.injectFault({
      method: 'PUT',
      pathPattern: BOOKS_UPSERT,
      organizationId: secret.booksOrganizationId,
      times: 1,
      response: { status: 400, body: { code: 987654, message: 'Something new happened.' } },
    });
    await harness.enqueue('dlq-unknown', '5200000000000000021');

    const outcomes = await harness.run();

    expect(outcomes).toStrictEqual([{ status: 'dead-lettered', entryId: 'http-400' }]);
    const alerts = await harness.alerts();
    expect(alerts.map((alert) => alert.subject)).toStrictEqual([
      '[zoho-sync] dlq-unknown: Zoho Books 987654 Bad request',
    ]);
    expect(alerts[0]?.body).toContain(
      'Error:           Bad request (UNKNOWN CODE: not in the error table; handled by its HTTP status)',
    );
    const [deadLetter] = await harness.deadLetterQueue.list({ connectionId: 'dlq-unknown' });
    expect(deadLetter?.lastError).toMatchObject({ entryId: 'http-400', zohoCode: 987654 });
    await harness.deadLetterQueue.redrive({ connectionId: 'dlq-unknown', all: true });
    await harness.run();
  });

  it('dead-letters an unreadable message with an alert, and never redrives it', async () => {
    await sendQueueMessage(harness.env.clients.sqs, harness.env.resources.syncQueueUrl, {
      id: 'x',
      body: '{"version":1,"connectionId":"acme"',
      connectionId: 'acme',
    });

    const outcomes = await harness.run();

    expect(outcomes).toStrictEqual([{ status: 'dead-lettered', entryId: 'sync-invalid-message' }]);
    const alerts = await harness.alerts();
    expect(alerts.map((alert) => alert.subject)).toStrictEqual([
      '[zoho-sync] unknown: zoho-sync sync-invalid-message Unreadable sync message',
    ]);
    const deadLetters = await harness.deadLetterQueue.list();
    expect(deadLetters).toHaveLength(1);
    expect(deadLetters[0]).toMatchObject({ messageId: undefined, connectionId: 'unknown' });
    expect(
      await harness.deadLetterQueue.redrive({ connectionId: 'unknown', all: true }),
    ).toStrictEqual({ redriven: [], skippedUnreadable: 1 });
    expect(await depth(harness.env.resources.deadLetterQueueUrl)).toBe(1);
  });
});
