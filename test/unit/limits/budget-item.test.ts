import type { AttributeValue } from '@aws-sdk/client-dynamodb';
import { describe, expect, it } from 'vitest';
import {
  acquireUpdate,
  explainRefusal,
  quotaFeedbackFrom,
  readBudgetState,
  releaseUpdate,
  viewSlots,
} from '../../../lib/limits/budget-item';

const NOW = 1_740_000_000_000;
const WINDOW_MS = 60_000;
const TIMING = { windowMs: WINDOW_MS, clockSkewMs: 200 };
const DAY = '2025-02-19';
const HOUR = 3_600_000;
const n = (value: number): AttributeValue => ({ N: String(value) });

const write = {
  slot: { index: 3, oldStamp: NOW - 70_000 },
  dayKey: DAY,
  dailyLimit: 5000,
  maxInFlight: 5,
  nowMs: NOW,
  leaseId: 'lease-mine',
  lease: 'new' as const,
};

const item = (extra: Record<string, AttributeValue> = {}): Record<string, AttributeValue> => ({
  pk: { S: 'ORG#1' },
  sk: { S: 'BUDGET' },
  [`d${DAY}`]: n(10),
  slots: { M: { '3': n(NOW - 70_000) } },
  leases: { M: {} },
  ...extra,
});

describe('budget-item', () => {
  describe('viewSlots', () => {
    it('frees a slot a window plus twice the clock skew after its stamp, not before', () => {
      const state = readBudgetState(
        item({
          slots: {
            M: {
              '0': n(NOW - WINDOW_MS - 400), // exactly free
              '1': n(NOW - WINDOW_MS - 399), // 1 ms short
              '2': n(NOW - 1_000),
            },
          },
        }),
      );
      const view = viewSlots(state, 4, NOW, TIMING);
      expect(view.free.map((slot) => slot.index)).toStrictEqual([0, 3]);
      expect(view.used).toBe(2);
      expect(view.freeTimes).toStrictEqual([NOW + 1, NOW - 1_000 + WINDOW_MS + 400]);
    });

    it('ignores slots beyond the budget', () => {
      const state = readBudgetState(item({ slots: { M: { '7': n(NOW) } } }));
      expect(viewSlots(state, 2, NOW, TIMING).used).toBe(0);
    });
  });

  describe('explainRefusal', () => {
    it.each([
      ['the item does not exist', undefined, { kind: 'no-item' }],
      ['the day reached our limit', item({ [`d${DAY}`]: n(5000) }), { kind: 'daily-limit' }],
      [
        "Zoho's remaining count is used up",
        item({ dayCeiling: n(10), zohoDay: { S: DAY }, zohoResetAtMs: n(NOW + 60_000) }),
        { kind: 'zoho-quota', resetAtMs: NOW + 60_000 },
      ],
      [
        'Zoho refused a call (429, code 44) a moment ago',
        item({ blockedUntilMs: n(NOW + 5_000) }),
        { kind: 'blocked', untilMs: NOW + 5_000 },
      ],
      [
        'another caller took the slot first',
        item({ slots: { M: { '3': n(NOW - 10) } } }),
        { kind: 'slot-taken' },
      ],
    ])('says why when %s', (_case, old, expected) => {
      expect(explainRefusal(old, write)).toStrictEqual(expected);
    });

    it("ignores Zoho's spent count of another day, and once Zoho's reset time has passed", () => {
      const leases = { M: { a: n(NOW + 1) } };
      const otherDay = item({ dayCeiling: n(10), zohoDay: { S: '2025-02-18' }, leases });
      const afterReset = item({
        dayCeiling: n(10),
        zohoDay: { S: DAY },
        zohoResetAtMs: n(NOW - 1),
        leases,
      });
      expect(explainRefusal(otherDay, { ...write, maxInFlight: 1 }).kind).toBe('in-flight');
      expect(explainRefusal(afterReset, { ...write, maxInFlight: 1 }).kind).toBe('in-flight');
    });

    it('names the expired leases a retry may drop', () => {
      const old = item({ leases: { M: { dead: n(NOW - 1), live: n(NOW + 10) } } });
      expect(explainRefusal(old, { ...write, maxInFlight: 2 })).toStrictEqual({
        kind: 'in-flight',
        expired: ['dead'],
      });
    });
  });

  describe('acquireUpdate', () => {
    const full = {
      ...write,
      tableName: 'state',
      key: { pk: 'ORG#1', sk: 'BUDGET' },
      stampMs: NOW + 3_000,
      leaseExpiresAtMs: NOW + 30_000,
    };

    it('takes the slot only if it still holds the value seen, and counts the day', () => {
      const input = acquireUpdate(full);
      expect(input.UpdateExpression).toContain('slots.#slot = :stamp');
      expect(input.UpdateExpression).toContain('#day = if_not_exists(#day, :zero) + :one');
      expect(input.ConditionExpression).toContain('slots.#slot = :oldStamp');
      expect(input.ConditionExpression).toContain('size(leases) < :maxInFlight');
      expect(input.ExpressionAttributeValues?.[':oldStamp']).toStrictEqual(n(NOW - 70_000));
      expect(input.ExpressionAttributeNames?.['#slot']).toBe('3');
      expect(input.ExpressionAttributeNames?.['#day']).toBe(`d${DAY}`);
    });

    it('takes a never-used slot only while it is still unused', () => {
      const input = acquireUpdate({ ...full, slot: { index: 9, oldStamp: undefined } });
      expect(input.ConditionExpression).toContain('attribute_not_exists(slots.#slot)');
    });

    it("restamps the previous call's slot with its end while renewing a held lease", () => {
      const input = acquireUpdate({
        ...full,
        lease: 'held',
        restamp: { index: 1, grantStampMs: NOW + 100, endMs: NOW - 50 },
      });
      expect(input.UpdateExpression).toContain('slots.#prev = :prevEnd');
      expect(input.ConditionExpression).toContain('slots.#prev = :prevGrant');
      expect(input.ConditionExpression).toContain('attribute_exists(leases.#lease)');
      expect(input.ConditionExpression).not.toContain('size(leases)');
    });

    it('drops expired leases, each only if still there', () => {
      const cleanup = acquireUpdate({ ...full, expiredLeases: ['dead'] });
      expect(cleanup.UpdateExpression).toContain('REMOVE leases.#dead0');
      expect(cleanup.ConditionExpression).toContain('attribute_exists(leases.#dead0)');
      expect(cleanup.ExpressionAttributeValues?.[':maxInFlight']).toStrictEqual(n(6));
    });
  });

  describe('releaseUpdate', () => {
    it('writes nothing when there is nothing to give back', () => {
      expect(releaseUpdate({ tableName: 't', key: { pk: 'a', sk: 'b' } })).toBeUndefined();
    });

    it('blocks the window and gives the lease back after a 429', () => {
      const input = releaseUpdate({
        tableName: 't',
        key: { pk: 'a', sk: 'b' },
        leaseId: 'l1',
        blockUntilMs: NOW + 60_400,
      });
      expect(input?.UpdateExpression).toBe('SET blockedUntilMs = :blockUntil REMOVE leases.#lease');
    });

    it('gives an unused slot its old value back and uncounts the day', () => {
      const input = releaseUpdate({
        tableName: 't',
        key: { pk: 'a', sk: 'b' },
        leaseId: 'l1',
        giveBack: { slot: { index: 2, oldStamp: NOW - 90_000 }, stampMs: NOW + 3_000, dayKey: DAY },
      });
      expect(input?.UpdateExpression).toBe(
        'SET slots.#back = :backOld REMOVE leases.#lease ADD #backDay :minusOne',
      );
      expect(input?.ConditionExpression).toContain('slots.#back = :backStamp');
    });
  });

  describe('quotaFeedbackFrom', () => {
    it("turns Zoho's remaining count into a ceiling that allows for calls still on their way", () => {
      expect(
        quotaFeedbackFrom({
          rateLimit: { limit: 7500, remaining: 6775, resetSeconds: 34_881 },
          dayKey: '2025-02-19',
          dayEndMs: NOW + 40_000_000,
          dayUsedAtGrant: 700,
          maxInFlight: 5,
          nowMs: NOW,
        }),
      ).toStrictEqual({
        dayKey: '2025-02-19',
        dayCeiling: 700 + 6775 - 4,
        zohoRemaining: 6775,
        zohoLimit: 7500,
        zohoResetAtMs: NOW + 34_881_000,
        observedAtMs: NOW,
      });
    });

    it('corrects nothing when Zoho sent no remaining count', () => {
      expect(
        quotaFeedbackFrom({
          rateLimit: { limit: 7500 },
          dayKey: 'd',
          dayEndMs: NOW + 40_000_000,
          dayUsedAtGrant: 1,
          maxInFlight: 5,
          nowMs: NOW,
        }),
      ).toBeUndefined();
    });

    it.each([
      ['a reset far beyond the next quota day', { resetSeconds: 90_000 }, NOW + 3_600_000 + HOUR],
      [
        'a reset sent as epoch seconds, years ahead',
        { resetAtEpochMs: NOW + 400 * 86_400_000 },
        NOW + 3_600_000 + HOUR,
      ],
      ['a reset sent as epoch seconds, already past', { resetAtEpochMs: NOW - 5_000 }, NOW],
      ['a reset before the next quota day', { resetAtEpochMs: NOW + 600_000 }, NOW + 600_000],
    ])('clamps %s to [now, next quota day + 1 h]', (_case, reset, expectedResetAtMs) => {
      const feedback = quotaFeedbackFrom({
        rateLimit: { limit: 7500, remaining: 0, ...reset },
        dayKey: 'd',
        // The next quota day starts in an hour.
        dayEndMs: NOW + 3_600_000,
        dayUsedAtGrant: 7500,
        maxInFlight: 5,
        nowMs: NOW,
      });
      expect(feedback?.zohoResetAtMs).toBe(expectedResetAtMs);
    });
  });

  describe('readBudgetState', () => {
    it('reads slots, day counts and leases of an item', () => {
      const state = readBudgetState(item({ leases: { M: { a: n(5) } }, dayCeiling: n(42) }));
      expect(state.slots).toStrictEqual(new Map([[3, NOW - 70_000]]));
      expect(state.days).toStrictEqual(new Map([[DAY, 10]]));
      expect(state.leases).toStrictEqual(new Map([['a', 5]]));
      expect(state.dayCeiling).toBe(42);
    });
  });
});
