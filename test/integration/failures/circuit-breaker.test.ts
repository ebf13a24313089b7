import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ConnectionSecret } from '../../../lib/config';
import { METRICS } from '../../../lib/observability';
import { type FailureHarness, startFailureHarness } from '../../helpers/failure-harness';
import { queueDepth } from '../../helpers/queues';
import { accountsStats, zohoCredentials } from '../../helpers/token-fixtures';

const BOOKS = /^\/books\/v3\//;
const CRM_READ = (crmRecordId: string) => new RegExp(`^/crm/v8/Accounts/${crmRecordId}$`);
const MINUTE_MS = 60_000;

/**
 * Failures that break a whole connection (6024, refused credentials) open its circuit breaker:
 * no more Zoho calls for it, its work parked, one alert when it opens and one when it closes.
 */
describe('failure handling: circuit breaker', () => {
  let harness: FailureHarness;

  beforeAll(async () => {
    // A secret edit is seen by the next message (no per-container secret cache).
    harness = await startFailureHarness({ extraEnv: { ZOHO_SYNC_CACHE_TTL_SECONDS: '0' } });
  });

  afterAll(async () => {
    await harness?.stop();
  });

  const depth = (queueUrl: string) => queueDepth(harness.env.clients.sqs, queueUrl);
  const statuses = (outcomes: readonly { status: string }[]) =>
    outcomes.map((outcome) => outcome.status);

  describe('6024 invalid organization', () => {
    let broken: ConnectionSecret;
    let healthy: ConnectionSecret;
    const brokenIds = ['9000000000000000001', '9000000000000000002', '9000000000000000003'];

    it('opens on the first 6024, parks the rest, alerts once, and spares other connections', async () => {
      // Prepare: "broken" names a Books organization the simulator does not have.
      broken = await harness.addConnection('broken', { registerOrganization: false });
      healthy = await harness.addConnection('healthy');
      for (const id of brokenIds) await harness.enqueue('broken', id);
      await harness.enqueue('healthy', '1000000000000000001');
      await harness.enqueue('healthy', '1000000000000000002');

      // Act
      const outcomes = await harness.run({ horizonMs: MINUTE_MS });

      // Assess: the first broken message made one CRM read and one Books call; the others none.
      expect(outcomes).toHaveLength(5);
      expect(outcomes.filter((outcome) => outcome.status === 'synced')).toHaveLength(2);
      expect(outcomes.filter((outcome) => outcome.status === 'parked')).toStrictEqual([
        { status: 'parked', heldIn: 'queue' },
        { status: 'parked', heldIn: 'table' },
        { status: 'parked', heldIn: 'table' },
      ]);
      expect(harness.zohoCalls({ path: BOOKS, organizationId: null })).toBe(1);
      expect(harness.zohoCalls({ path: BOOKS, status: 400 })).toBe(1);
      const brokenReads = brokenIds.map((id) => harness.zohoCalls({ path: CRM_READ(id) }));
      expect(brokenReads.reduce((sum, calls) => sum + calls, 0)).toBe(1);
      expect(harness.simulator.books.contacts(healthy.booksOrganizationId)).toHaveLength(2);

      // The message that opened it waits in the queue to probe; the others are parked.
      expect(await depth(harness.env.resources.syncQueueUrl)).toBe(1);
      expect(await depth(harness.env.resources.deadLetterQueueUrl)).toBe(0);
      expect(harness.sent.at(-1)?.delaySeconds).toBe(900);
      expect(await harness.cliBreaker.status('broken')).toMatchObject({
        state: 'open',
        entryId: 'books-6024',
        code: '6024',
        title: 'Invalid organization ID',
        failedProbes: 0,
        parkedMessages: 2,
      });
      expect(await harness.cliBreaker.status('healthy')).toStrictEqual({
        state: 'closed',
        parkedMessages: 0,
      });
      expect(harness.metrics.total(METRICS.circuitBreakerOpen)).toBe(1);

      const alerts = await harness.alerts();
      expect(alerts).toHaveLength(1);
      const [alert] = alerts;
      expect(alert?.subject).toBe(
        '[zoho-sync] broken: connection stopped - Zoho Books 6024 Invalid organization ID',
      );
      expect(alert?.attributes).toStrictEqual({
        connection: 'broken',
        code: '6024',
        severity: 'critical',
      });
      expect(alert?.body).toContain('Work for broken is parked, not lost');
      expect(alert?.body).toContain('Zoho code:       6024');
      expect(alert?.body).toContain(
        `How to fix it:   Check booksOrganizationId in secret ${harness.env.config.secretPrefix}broken;`,
      );
      expect(alert?.body).toContain('npx zoho-sync breaker reset --connection broken');
    });

    it('parks new work without calling Zoho while it is open', async () => {
      await harness.enqueue('broken', '9000000000000000004');
      harness.simulator.resetStats();

      const outcomes = await harness.run({ horizonMs: MINUTE_MS });

      expect(outcomes).toStrictEqual([{ status: 'parked', heldIn: 'table' }]);
      expect(harness.simulator.stats().requests).toHaveLength(0);
      expect((await harness.cliBreaker.status('broken')).parkedMessages).toBe(3);
      expect(await harness.alerts()).toStrictEqual([]);
    });

    it('lets one probe through after the cool-down and stays open, silently, when it fails', async () => {
      harness.simulator.resetStats();

      // The carrier comes back after 15 minutes and probes.
      const outcomes = await harness.run({ horizonMs: 16 * MINUTE_MS });

      expect(outcomes).toStrictEqual([{ status: 'parked', heldIn: 'queue' }]);
      expect(harness.zohoCalls({ path: BOOKS, status: 400 })).toBe(1);
      expect(await harness.cliBreaker.status('broken')).toMatchObject({
        state: 'open',
        failedProbes: 1,
        parkedMessages: 3,
      });
      expect(await harness.alerts()).toStrictEqual([]);
    });

    it('closes when the secret is fixed: the next message probes at once and the parked work syncs', async () => {
      // Prepare: the operator puts the right organization id into the secret.
      const fixedOrganizationId = '7799000000001';
      harness.simulator.addOrganization({
        organizationId: fixedOrganizationId,
        requestsPerWindow: 1_000_000,
      });
      await harness.env.putConnection('broken', {
        ...broken,
        booksOrganizationId: fixedOrganizationId,
      });
      await harness.enqueue('broken', '9000000000000000005');

      // Act: within a minute, long before the next scheduled probe.
      const outcomes = await harness.run({ horizonMs: MINUTE_MS });

      // Assess: the probe and the three parked messages synced; the carrier still waits.
      expect(statuses(outcomes)).toStrictEqual(['synced', 'synced', 'synced', 'synced']);
      expect(harness.simulator.books.contacts(fixedOrganizationId)).toHaveLength(4);
      expect(await harness.cliBreaker.status('broken')).toStrictEqual({
        state: 'closed',
        parkedMessages: 0,
      });
      const alerts = await harness.alerts();
      expect(alerts).toHaveLength(1);
      expect(alerts[0]?.subject).toBe(
        '[zoho-sync] broken: connection resumed (was 6024 Invalid organization ID)',
      );
      expect(alerts[0]?.attributes).toStrictEqual({
        connection: 'broken',
        code: '6024',
        severity: 'info',
      });
      expect(alerts[0]?.body).toContain('the connection secret was changed');
      expect(alerts[0]?.body).toContain(
        'Parked work:     3 message(s) sent back to the sync queue',
      );

      // The carrier syncs normally when its delay is over: nothing is lost.
      const late = await harness.run({ horizonMs: 16 * MINUTE_MS });
      expect(statuses(late)).toStrictEqual(['synced']);
      expect(harness.simulator.books.contacts(fixedOrganizationId)).toHaveLength(5);
      expect(await depth(harness.env.resources.syncQueueUrl)).toBe(0);
    });
  });

  it('hands the probe to a parked message when a probe proves nothing', async () => {
    // Prepare: open the breaker; then the carrier's CRM record is deleted, so its probe ends
    // without reaching Books.
    await harness.addConnection('probe-skip', { registerOrganization: false });
    await harness.enqueue('probe-skip', '9300000000000000001');
    await harness.enqueue('probe-skip', '9300000000000000002');
    await harness.run({ horizonMs: MINUTE_MS });
    expect(await harness.alerts()).toHaveLength(1);
    harness.simulator.deleteCrmRecord('Accounts', '9300000000000000001');

    // Act
    const outcomes = await harness.run({ horizonMs: 16 * MINUTE_MS });

    // Assess: the parked message probed next, failed the same way, and now carries the probe.
    expect(outcomes).toStrictEqual([
      { status: 'skipped', reason: 'CRM record no longer exists' },
      { status: 'parked', heldIn: 'queue' },
    ]);
    expect(await harness.cliBreaker.status('probe-skip')).toMatchObject({
      state: 'open',
      failedProbes: 1,
      parkedMessages: 0,
    });
    expect(harness.sent.at(-1)?.delaySeconds).toBe(900);
    expect(await harness.alerts()).toStrictEqual([]);
    await harness.cliBreaker.reset('probe-skip');
    await harness.alerts();
  });

  it('closes on an operator reset and releases the parked work', async () => {
    // Prepare: the organization exists but the token's user could not use it (6024); an
    // admin fixes that in Zoho, not in the secret, and resets the breaker.
    const secret = await harness.addConnection('reset-me', { registerOrganization: false });
    await harness.enqueue('reset-me', '9100000000000000001');
    await harness.enqueue('reset-me', '9100000000000000002');
    await harness.enqueue('reset-me', '9100000000000000003');
    await harness.run({ horizonMs: MINUTE_MS });
    expect((await harness.alerts()).map((alert) => alert.subject)).toStrictEqual([
      '[zoho-sync] reset-me: connection stopped - Zoho Books 6024 Invalid organization ID',
    ]);
    harness.simulator.addOrganization({
      organizationId: secret.booksOrganizationId,
      requestsPerWindow: 1_000_000,
    });

    // Act
    const reset = await harness.cliBreaker.reset('reset-me');
    const outcomes = await harness.run({ horizonMs: MINUTE_MS });

    // Assess
    expect(reset).toMatchObject({ releasedMessages: 2, remainingParked: 0 });
    expect(reset.closed?.code).toBe('6024');
    expect(statuses(outcomes)).toStrictEqual(['synced', 'synced']);
    const alerts = await harness.alerts();
    expect(alerts.map((alert) => alert.subject)).toStrictEqual([
      '[zoho-sync] reset-me: connection resumed (was 6024 Invalid organization ID)',
    ]);
    expect(alerts[0]?.body).toContain('an operator reset it');
    // A second reset is harmless and says nothing.
    expect(await harness.cliBreaker.reset('reset-me')).toStrictEqual({
      closed: undefined,
      releasedMessages: 0,
      remainingParked: 0,
    });
    expect(await harness.alerts()).toStrictEqual([]);
  });

  it('opens on a revoked refresh token without any API call, and closes on a new one', async () => {
    // Prepare: a working connection whose refresh token the Zoho user then revokes.
    const secret = await harness.addConnection('revoked');
    harness.simulator.revokeRefreshToken(secret.refreshToken);
    await harness.enqueue('revoked', '9200000000000000001');
    await harness.enqueue('revoked', '9200000000000000002');
    harness.simulator.resetStats();

    // Act
    const outcomes = await harness.run({ horizonMs: MINUTE_MS });

    // Assess: one refused refresh, then nothing: no CRM or Books call at all.
    expect(statuses(outcomes)).toStrictEqual(['parked', 'parked']);
    expect(accountsStats(harness.simulator, secret.clientId)).toMatchObject({
      tokenRequests: 1,
      invalidCode: 1,
    });
    expect(harness.zohoCalls({ path: /^\/(books|crm)\// })).toBe(0);
    const opened = await harness.alerts();
    expect(opened.map((alert) => alert.subject)).toStrictEqual([
      '[zoho-sync] revoked: connection stopped - Zoho Accounts invalid_code Invalid or revoked code',
    ]);

    // The admin re-authorizes: a new refresh token in the secret.
    const renewed = { ...secret, refreshToken: zohoCredentials().refreshToken };
    harness.simulator.addClient({
      clientId: secret.clientId,
      clientSecret: secret.clientSecret,
      refreshToken: renewed.refreshToken,
    });
    await harness.env.putConnection('revoked', renewed);
    await harness.enqueue('revoked', '9200000000000000003');

    const resumed = await harness.run({ horizonMs: MINUTE_MS });

    expect(statuses(resumed)).toStrictEqual(['synced', 'synced']);
    expect(harness.simulator.books.contacts(secret.booksOrganizationId)).toHaveLength(2);
    expect((await harness.alerts()).map((alert) => alert.subject)).toStrictEqual([
      '[zoho-sync] revoked: connection resumed (was invalid_code Invalid or revoked code)',
    ]);
  });
});
