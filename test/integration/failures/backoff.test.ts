import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { METRICS } from '../../../lib/observability';
import { type FailureHarness, startFailureHarness } from '../../helpers/failure-harness';
import { queueDepth } from '../../helpers/queues';

const BOOKS_UPSERT = /^\/books\/v3\/contacts$/;
const CRM_READ = (crmRecordId: string) => new RegExp(`^/crm/v8/Accounts/${crmRecordId}$`);

/** `backoff` (HTTP 500, code 5, 1000, network errors): growing delays, bounded attempts. */
describe('failure handling: backoff', () => {
  let harness: FailureHarness;

  beforeAll(async () => {
    harness = await startFailureHarness();
  });

  afterAll(async () => {
    await harness?.stop();
  });

  const depth = (queueUrl: string) => queueDepth(harness.env.clients.sqs, queueUrl);

  it('retries a 500 three times with growing delays, then syncs without an alert', async () => {
    // Prepare
    const secret = await harness.addConnection('retry-ok');
    const organizationId = secret.booksOrganizationId;
    harness.simulator.injectFault({
      method: 'PUT',
      pathPattern: BOOKS_UPSERT,
      organizationId,
      times: 3,
      response: { status: 500, body: { code: 0, message: 'Internal error' } },
    });
    const message = await harness.enqueue('retry-ok', '5100000000000000001');
    const sentBefore = harness.sent.length;

    // Act
    const outcomes = await harness.run();

    // Assess: four Books calls (three 500s and the success), one CRM read per attempt.
    expect(outcomes.map((outcome) => outcome.status)).toStrictEqual([
      'retrying',
      'retrying',
      'retrying',
      'synced',
    ]);
    expect(harness.sent.slice(sentBefore)).toStrictEqual([
      { messageId: message.messageId, delaySeconds: 30 },
      { messageId: message.messageId, delaySeconds: 60 },
      { messageId: message.messageId, delaySeconds: 120 },
    ]);
    expect(harness.zohoCalls({ path: BOOKS_UPSERT, organizationId, status: 500 })).toBe(3);
    expect(harness.zohoCalls({ path: BOOKS_UPSERT, organizationId })).toBe(4);
    expect(harness.zohoCalls({ path: CRM_READ('5100000000000000001') })).toBe(4);
    expect(harness.simulator.books.contacts(organizationId)).toHaveLength(1);
    expect(await depth(harness.env.resources.syncQueueUrl)).toBe(0);
    expect(await depth(harness.env.resources.deadLetterQueueUrl)).toBe(0);
    expect(await harness.alerts()).toStrictEqual([]);
  });

  it('dead-letters a message after five 500s and sends one alert', async () => {
    // Prepare
    const secret = await harness.addConnection('retry-never');
    const organizationId = secret.booksOrganizationId;
    harness.simulator.injectFault({
      method: 'PUT',
      pathPattern: BOOKS_UPSERT,
      organizationId,
      response: { status: 500, body: { message: 'Internal Server Error' } },
    });
    const message = await harness.enqueue('retry-never', '5100000000000000002');
    const sentBefore = harness.sent.length;
    const deadLetteredBefore = harness.metrics.total(METRICS.deadLettered);

    // Act
    const outcomes = await harness.run();

    // Assess: maxBackoffAttempts (5) Books calls, delays doubling toward 5 minutes.
    expect(outcomes.map((outcome) => outcome.status)).toStrictEqual([
      'retrying',
      'retrying',
      'retrying',
      'retrying',
      'dead-lettered',
    ]);
    expect(harness.sent.slice(sentBefore).map((sent) => sent.delaySeconds)).toStrictEqual([
      30, 60, 120, 240,
    ]);
    expect(harness.zohoCalls({ path: BOOKS_UPSERT, organizationId })).toBe(5);
    expect(harness.simulator.books.contacts(organizationId)).toHaveLength(0);
    expect(await depth(harness.env.resources.syncQueueUrl)).toBe(0);

    const deadLetters = await harness.deadLetterQueue.list({ connectionId: 'retry-never' });
    expect(deadLetters).toHaveLength(1);
    expect(deadLetters[0]?.messageId).toBe(message.messageId);
    expect(deadLetters[0]?.attempts).toBe(5);
    expect(deadLetters[0]?.lastError).toMatchObject({
      entryId: 'http-500',
      action: 'backoff',
      httpStatus: 500,
      message: 'Internal error',
    });
    expect(harness.metrics.total(METRICS.deadLettered) - deadLetteredBefore).toBe(1);

    const alerts = await harness.alerts();
    expect(alerts).toHaveLength(1);
    const [alert] = alerts;
    expect(alert?.subject).toBe('[zoho-sync] retry-never: Zoho Books 500 Internal error');
    expect(alert?.attributes).toStrictEqual({
      connection: 'retry-never',
      code: '500',
      severity: 'error',
    });
    expect(alert?.body).toContain('Connection:      retry-never');
    expect(alert?.body).toContain('CRM record:      Accounts 5100000000000000002');
    expect(alert?.body).toContain('Zoho endpoint:   /books/v3/contacts');
    expect(alert?.body).toContain('HTTP status:     500');
    expect(alert?.body).toContain('Action taken:    backoff: retried with growing delays');
    expect(alert?.body).toContain('Attempts:        5');
    expect(alert?.body).toContain(`Correlation id:  ${message.correlationId}`);
    expect(alert?.body).toContain(
      `Replay:          npx zoho-sync redrive --connection retry-never --message ${message.messageId}`,
    );
  });

  it('treats a dropped connection as a network error and retries it', async () => {
    const secret = await harness.addConnection('retry-network');
    const organizationId = secret.booksOrganizationId;
    harness.simulator.injectFault({
      method: 'PUT',
      pathPattern: BOOKS_UPSERT,
      organizationId,
      times: 1,
      dropConnection: true,
    });
    await harness.enqueue('retry-network', '5100000000000000003');

    const outcomes = await harness.run();

    expect(outcomes.map((outcome) => outcome.status)).toStrictEqual(['retrying', 'synced']);
    expect(harness.simulator.books.contacts(organizationId)).toHaveLength(1);
    expect(await harness.alerts()).toStrictEqual([]);
  });

  it('alerts when Zoho refuses the access token again after the one refresh', async () => {
    // Prepare: every Books call of this organization answers 401 code 57.
    const secret = await harness.addConnection('token-refused');
    const organizationId = secret.booksOrganizationId;
    harness.simulator.injectFault({
      method: 'PUT',
      pathPattern: BOOKS_UPSERT,
      organizationId,
      response: { status: 401, body: { code: 57, message: 'You are not authorized.' } },
    });
    await harness.enqueue('token-refused', '5100000000000000004');

    // Act
    const outcomes = await harness.run();

    // Assess: one call, one refresh and one replay; then the DLQ, never a loop.
    expect(outcomes.map((outcome) => outcome.status)).toStrictEqual(['dead-lettered']);
    expect(harness.zohoCalls({ path: BOOKS_UPSERT, organizationId })).toBe(2);
    const alerts = await harness.alerts();
    expect(alerts.map((alert) => alert.subject)).toStrictEqual([
      '[zoho-sync] token-refused: Zoho Books 57 Not authorized',
    ]);
    expect(alerts[0]?.body).toContain(
      'Action taken:    refresh-token-and-retry: refreshed the access token and replayed once',
    );
  });
});
