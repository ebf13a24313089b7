import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createAlertGate, createAlertPublisher } from '../../../lib/alerts';
import { logger, METRICS } from '../../../lib/observability';
import { handleSyncMessage } from '../../../lib/sync';
import {
  type FailureHarness,
  recordedMetrics,
  startFailureHarness,
} from '../../helpers/failure-harness';
import { queueDepth } from '../../helpers/queues';

const BOOKS_UPSERT = /^\/books\/v3\/contacts$/;
const HOUR_MS = 3_600_000;
const INVALID_VALUE = {
  status: 400,
  body: { code: 2, message: 'Invalid value passed for Billing City.' },
};

const recordId = (n: number) => `53000000000${String(n).padStart(8, '0')}`;

/**
 * Alerts are deduplicated: at most one per (connection, code, record) per window, a storm of
 * one code becomes one summary, and a failed publish never fails the sync message twice.
 */
describe('failure handling: alerts', () => {
  let harness: FailureHarness;

  beforeAll(async () => {
    harness = await startFailureHarness();
  });

  afterAll(async () => {
    await harness?.stop();
  });

  it('turns 200 records failing with one code into 4 alerts and one summary', async () => {
    // Prepare: every Books upsert of the organization answers code 2.
    const secret = await harness.addConnection('storm');
    harness.simulator.injectFault({
      method: 'PUT',
      pathPattern: BOOKS_UPSERT,
      organizationId: secret.booksOrganizationId,
      response: INVALID_VALUE,
    });
    for (let n = 1; n <= 200; n += 1) await harness.enqueue('storm', recordId(n));

    // Act
    const outcomes = await harness.run({ parallel: true });

    // Assess: 200 calls, 200 dead letters, and 5 emails (threshold 5: the 5th is the summary).
    expect(outcomes).toHaveLength(200);
    expect(outcomes.every((outcome) => outcome.status === 'dead-lettered')).toBe(true);
    expect(
      harness.zohoCalls({ path: BOOKS_UPSERT, organizationId: secret.booksOrganizationId }),
    ).toBe(200);
    expect(
      await queueDepth(harness.env.clients.sqs, harness.env.resources.deadLetterQueueUrl),
    ).toBe(200);
    const alerts = await harness.alerts();
    const subjects = alerts.map((alert) => alert.subject);
    expect(
      subjects.filter((subject) => subject === '[zoho-sync] storm: Zoho Books 2 Invalid value'),
    ).toHaveLength(4);
    const summaries = alerts.filter(
      (alert) =>
        alert.subject === '[zoho-sync] storm: 5 records failed - Zoho Books 2 Invalid value',
    );
    expect(summaries).toHaveLength(1);
    expect(alerts).toHaveLength(5);
    const [summary] = summaries;
    expect(summary?.attributes).toStrictEqual({
      connection: 'storm',
      code: '2',
      severity: 'error',
    });
    expect(summary?.body.split('\n')).toEqual(
      expect.arrayContaining([
        '5 records of connection storm failed with code 2 (Invalid value) since 2035-01-05T09:00:00.000Z.',
        'Until 2035-01-05T10:00:00.000Z, further records failing with code 2 are dead-lettered without an alert each; their number is in the next alert for this code.',
        'Zoho message:    Invalid value passed for Billing City.',
        'List them:       npx zoho-sync dlq list --connection storm',
        'Replay them all: npx zoho-sync redrive --connection storm --all (after fixing the cause)',
      ]),
    );
    expect(harness.metrics.total(METRICS.alertsSuppressed)).toBe(195);
    expect(harness.metrics.total(METRICS.deadLettered)).toBe(200);
    expect(
      harness.metrics.points.filter(
        (point) => point.name === METRICS.syncFailures && point.dimensions.code === '2',
      ),
    ).toHaveLength(200);
  });

  it('reports the held-back records of the last window in the next alert for the code', async () => {
    harness.clock.advance(HOUR_MS);
    await harness.enqueue('storm', recordId(201));

    await harness.run();

    const alerts = await harness.alerts();
    expect(alerts.map((alert) => alert.subject)).toStrictEqual([
      '[zoho-sync] storm: Zoho Books 2 Invalid value',
    ]);
    expect(alerts[0]?.body).toContain(
      '195 more record(s) failed with code 2 between 2035-01-05T09:00:00.000Z and 2035-01-05T10:00:00.000Z without an alert each.',
    );
  });

  it('sends one alert per record and window, and counts the repeats into the next', async () => {
    // Prepare
    const secret = await harness.addConnection('repeat');
    harness.simulator.injectFault({
      method: 'PUT',
      pathPattern: BOOKS_UPSERT,
      organizationId: secret.booksOrganizationId,
      response: INVALID_VALUE,
    });
    const firstAlertAtMs = harness.clock.now();

    // Act: the same record fails three times in one window, then once in the next.
    for (let n = 0; n < 3; n += 1) {
      await harness.enqueue('repeat', recordId(300));
      await harness.run();
      harness.clock.advance(60_000);
    }
    const inWindow = await harness.alerts();
    harness.clock.advance(HOUR_MS);
    await harness.enqueue('repeat', recordId(300));
    await harness.run();
    const nextWindow = await harness.alerts();

    // Assess
    expect(inWindow.map((alert) => alert.subject)).toStrictEqual([
      '[zoho-sync] repeat: Zoho Books 2 Invalid value',
    ]);
    expect(nextWindow).toHaveLength(1);
    expect(nextWindow[0]?.body).toContain(
      `2 repeat(s) of this alert were held back since ${new Date(firstAlertAtMs).toISOString()}.`,
    );
    expect(
      await queueDepth(harness.env.clients.sqs, harness.env.resources.deadLetterQueueUrl),
    ).toBe(205);
  });

  it('logs and counts a failed publish and still finishes the message once', async () => {
    // Prepare: the same worker, but its alert topic does not exist.
    const secret = await harness.addConnection('no-topic');
    harness.simulator.injectFault({
      method: 'PUT',
      pathPattern: BOOKS_UPSERT,
      organizationId: secret.booksOrganizationId,
      response: INVALID_VALUE,
    });
    const metrics = recordedMetrics();
    const publisher = createAlertPublisher({
      sns: harness.env.clients.sns,
      topicArn: 'arn:aws:sns:us-east-1:000000000000:no-such-topic',
      logger,
      metrics,
    });
    const deps = {
      ...harness.deps,
      metrics,
      alertGate: createAlertGate({
        dynamodb: harness.env.clients.dynamodb,
        tableName: harness.env.config.tableName,
        publisher,
        now: harness.clock.now,
        windowMs: HOUR_MS,
        stormThreshold: 5,
        metrics,
        logger,
      }),
    };
    const message = harness.newMessage('no-topic', recordId(400));
    const body = JSON.stringify(message);
    const dlqBefore = await queueDepth(
      harness.env.clients.sqs,
      harness.env.resources.deadLetterQueueUrl,
    );

    // Act: the message fails twice (a redelivery, say); neither publish succeeds.
    const first = await handleSyncMessage(deps, body);
    const second = await handleSyncMessage(deps, body);

    // Assess: the message is done each time (dead-lettered, not thrown), each publish failure
    // is counted, and a failed publish does not use up the record's alert for the window.
    expect(first).toStrictEqual({ status: 'dead-lettered', entryId: 'books-2' });
    expect(second).toStrictEqual({ status: 'dead-lettered', entryId: 'books-2' });
    expect(metrics.total(METRICS.alertPublishFailed)).toBe(2);
    expect(metrics.total(METRICS.alertsSuppressed)).toBe(0);
    expect(
      await queueDepth(harness.env.clients.sqs, harness.env.resources.deadLetterQueueUrl),
    ).toBe(dlqBefore + 2);
    expect(await harness.alerts()).toStrictEqual([]);
  });
});
