import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { handleSyncMessage } from '../../../lib/sync';
import { type FailureHarness, startFailureHarness } from '../../helpers/failure-harness';
import { queueDepth } from '../../helpers/queues';

const HOUR_MS = 3_600_000;
const BOOKS = /^\/books\/v3\//;

/** Deferrals end: after the maximum age a deferred message is dead-lettered with one alert. */
describe('deferral age', () => {
  describe('with the default maximum age (24 h)', () => {
    let harness: FailureHarness;

    beforeAll(async () => {
      harness = await startFailureHarness();
    });

    afterAll(async () => {
      await harness?.stop();
    });

    it('keeps deferring a message for a day, then dead-letters it with one alert naming the shared budget', async () => {
      // Prepare: Zoho refuses every Books call of the organization for the per-minute limit.
      const secret = await harness.addConnection('busy-org');
      harness.simulator.injectFault({
        pathPattern: BOOKS,
        organizationId: secret.booksOrganizationId,
        response: {
          status: 429,
          body: { code: 44, message: 'Too many requests. Please try after some time.' },
        },
      });
      const message = await harness.enqueue('busy-org', '5300000000000000001');
      const firstDeferredAtMs = harness.clock.now();

      // Act 1: the first deferrals.
      const early = await harness.run({ horizonMs: 60_000 });

      // Assess 1: only deferrals; the message still waits in the queue, carrying its first time.
      expect(early.length).toBeGreaterThan(1);
      expect(early.every((outcome) => outcome.status === 'deferred')).toBe(true);
      expect(await queueDepth(harness.env.clients.sqs, harness.env.resources.syncQueueUrl)).toBe(1);
      expect(await harness.deadLetterQueue.list({ connectionId: 'busy-org' })).toHaveLength(0);
      expect(await harness.alerts()).toHaveLength(0);

      // Act 2: a day later it is still refused.
      harness.clock.advance(24 * HOUR_MS);
      const late = await harness.run({ horizonMs: 60_000 });

      // Assess 2: dead-lettered once, with exactly one alert that names the likely cause.
      expect(late).toStrictEqual([{ status: 'dead-lettered', entryId: 'sync-deferral-expired' }]);
      expect(await queueDepth(harness.env.clients.sqs, harness.env.resources.syncQueueUrl)).toBe(0);
      const deadLetters = await harness.deadLetterQueue.list({ connectionId: 'busy-org' });
      expect(deadLetters).toHaveLength(1);
      expect(deadLetters[0]?.messageId).toBe(message.messageId);
      expect(deadLetters[0]?.lastError).toMatchObject({
        entryId: 'sync-deferral-expired',
        action: 'fail-alert',
      });
      expect(deadLetters[0]?.message).toMatchObject({ firstDeferredAtMs });
      const alerts = await harness.alerts();
      expect(alerts).toHaveLength(1);
      expect(alerts[0]?.subject).toContain('Deferred too long');
      expect(alerts[0]?.body).toContain('another integration');
      expect(alerts[0]?.body).toContain('Too many requests per minute (44)');
    });
  });

  describe('with ZOHO_SYNC_MAX_DEFERRAL_AGE_HOURS=2', () => {
    let harness: FailureHarness;

    beforeAll(async () => {
      harness = await startFailureHarness({
        extraEnv: { ZOHO_SYNC_MAX_DEFERRAL_AGE_HOURS: '2' },
      });
    });

    afterAll(async () => {
      await harness?.stop();
    });

    it('defers a message just under the age and dead-letters one at it, blaming the daily limit', async () => {
      // Prepare: Zoho answers "daily limit exceeded" (45) for every Books call.
      const secret = await harness.addConnection('small-plan');
      harness.simulator.injectFault({
        pathPattern: BOOKS,
        organizationId: secret.booksOrganizationId,
        response: { status: 429, body: { code: 45, message: 'API request limit exceeded.' } },
      });
      const nowMs = harness.clock.now();
      const young = {
        ...harness.newMessage('small-plan', '5300000000000000002'),
        deferrals: 3,
        firstDeferredAtMs: nowMs - 2 * HOUR_MS + 60_000,
      };
      const old = {
        ...harness.newMessage('small-plan', '5300000000000000003'),
        deferrals: 9,
        firstDeferredAtMs: nowMs - 2 * HOUR_MS,
      };

      // Act
      const youngOutcome = await handleSyncMessage(harness.deps, JSON.stringify(young));
      const oldOutcome = await handleSyncMessage(harness.deps, JSON.stringify(old));

      // Assess
      expect(youngOutcome.status).toBe('deferred');
      expect(oldOutcome).toStrictEqual({
        status: 'dead-lettered',
        entryId: 'sync-deferral-expired',
      });
      const alerts = await harness.alerts();
      expect(alerts).toHaveLength(1);
      expect(alerts[0]?.body).toContain('CRM record:      Accounts 5300000000000000003');
      expect(alerts[0]?.body).toContain('deferred 9 time(s) over 2 h');
      expect(alerts[0]?.body).toContain('daily limit is too small');
      expect(alerts[0]?.body).toContain('ZOHO_SYNC_MAX_DEFERRAL_AGE_HOURS');
    });
  });
});
