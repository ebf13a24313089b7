import { randomUUID } from 'node:crypto';
import { beforeAll, describe, expect, it } from 'vitest';
import {
  createRefreshBudget,
  DEFAULT_MAX_REFRESHES_PER_WINDOW,
  REFRESH_WINDOW_MS,
} from '../../../lib/tokens/refresh-budget';
import { createTestEnvironment, type TestEnvironment } from '../../helpers/local-environment';
import { manualClock } from '../../helpers/token-fixtures';

const MINUTE_MS = 60_000;

/**
 * Zoho counts token requests per refresh token over 10 minutes and does not say whether those
 * are fixed or rolling. The budget's counters are fixed windows, so it must hold for a rolling
 * reading too: no 10 minutes, wherever they start, may hold more than the allowance.
 */
describe('the token refresh budget', () => {
  let env: TestEnvironment;

  beforeAll(async () => {
    env = await createTestEnvironment();
  });

  it('never grants more refreshes in any rolling 10 minutes than the allowance, across a window boundary', async () => {
    // Prepare: the allowance spent in the last minute of one fixed window.
    const boundaryMs = Math.ceil(Date.now() / REFRESH_WINDOW_MS) * REFRESH_WINDOW_MS;
    const clock = manualClock(boundaryMs - MINUTE_MS);
    const budget = createRefreshBudget({
      dynamodb: env.clients.dynamodb,
      tableName: env.config.tableName,
      now: clock.now,
    });
    const connectionId = `budget-${randomUUID().slice(0, 8)}`;
    const granted: number[] = [];
    const tryReserve = async () => {
      const reservation = await budget.reserve(connectionId);
      if (reservation.granted) granted.push(clock.now());
      return reservation;
    };
    for (let index = 0; index < DEFAULT_MAX_REFRESHES_PER_WINDOW; index += 1) {
      expect((await tryReserve()).granted).toBe(true);
    }

    // Act: one attempt a minute through the next window and into the one after it.
    let refusal: Awaited<ReturnType<typeof tryReserve>> | undefined;
    for (let minute = 0; minute < 2 * 10; minute += 1) {
      clock.advance(MINUTE_MS);
      const reservation = await tryReserve();
      if (!reservation.granted && refusal === undefined) refusal = reservation;
    }

    // Assess: the fresh fixed window right after the boundary grants nothing (a rolling
    // reading would see 9 in the 10 minutes), and the refusal says when to come back.
    for (const startMs of granted) {
      const inRollingWindow = granted.filter(
        (at) => at >= startMs && at < startMs + REFRESH_WINDOW_MS,
      );
      expect(inRollingWindow.length).toBeLessThanOrEqual(DEFAULT_MAX_REFRESHES_PER_WINDOW);
    }
    expect(granted.filter((at) => at >= boundaryMs && at < boundaryMs + REFRESH_WINDOW_MS)).toEqual(
      [],
    );
    expect(granted.length).toBeGreaterThan(DEFAULT_MAX_REFRESHES_PER_WINDOW);
    expect(refusal).toMatchObject({ granted: false, reason: 'limit' });
  });
});
