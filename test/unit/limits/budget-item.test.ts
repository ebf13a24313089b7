import type { AttributeValue } from '@aws-sdk/client-dynamodb';
import { describe, expect, it } from 'vitest';
import {
  acquireUpdate,
  explainRefusal,
  quotaFeedbackFrom,
  readBudgetState,
  releaseUpdate,
} from '../../../lib/limits/budget-item';

const WINDOW = 1_740_000_000_000;
const NOW = WINDOW + 1_000;
const HOUR = 3_600_000;
const n = (value: number): AttributeValue => ({ N: String(value) });

const write = {
  windowStartMs: WINDOW,
  windowBudget: 100,
  dailyLimit: 5000,
  maxInFlight: 5,
  nowMs: NOW,
  leaseId: 'lease-mine',
  lease: 'new' as const,
};

const item = (extra: Record<string, AttributeValue> = {}): Record<string, AttributeValue> => ({
  pk: { S: 'ORG#1' },
  sk: { S: 'DAY#2025-02-19' },
  dayUsed: n(10),
  [`w${WINDOW}`]: n(10),
  leases: { M: {} },
  ...extra,
});

describe('budget-item', () => {
  describe('explainRefusal', () => {
    it.each([
      ['the item does not exist', undefined, { kind: 'no-item' }],
      ['the day reached our limit', item({ dayUsed: n(5000) }), { kind: 'daily-limit' }],
      [
        "Zoho's remaining count is used up",
        item({ dayCeiling: n(10), zohoResetAtMs: n(NOW + 60_000) }),
        { kind: 'zoho-quota', resetAtMs: NOW + 60_000 },
      ],
      [
        'the window is full',
        item({ [`w${WINDOW}`]: n(100) }),
        { kind: 'window', windowStartMs: WINDOW },
      ],
    ])('says why when %s', (_case, old, expected) => {
      expect(explainRefusal(old, write)).toStrictEqual(expected);
    });

    it("ignores Zoho's spent count once Zoho's reset time has passed", () => {
      const old = item({
        dayCeiling: n(10),
        zohoResetAtMs: n(NOW - 1),
        leases: { M: { a: n(NOW + 1) } },
      });
      expect(explainRefusal(old, { ...write, maxInFlight: 1 }).kind).toBe('in-flight');
    });

    it('blames the next window when a call in the guard band would overfill it', () => {
      const old = item({ [`w${WINDOW + 60_000}`]: n(100) });
      expect(explainRefusal(old, { ...write, spillWindowStartMs: WINDOW + 60_000 })).toStrictEqual({
        kind: 'window',
        windowStartMs: WINDOW + 60_000,
      });
    });

    it('lists expired leases and the earliest live expiry when every slot is taken', () => {
      const old = item({
        leases: { M: { dead: n(NOW - 5), live1: n(NOW + 3_000), live2: n(NOW + 9_000) } },
      });
      expect(explainRefusal(old, { ...write, maxInFlight: 3 })).toStrictEqual({
        kind: 'in-flight',
        expired: ['dead'],
        earliestExpiryMs: NOW + 3_000,
      });
    });

    it('says the lease was lost when a renewal finds it gone', () => {
      expect(explainRefusal(item(), { ...write, lease: 'held' })).toStrictEqual({
        kind: 'lease-lost',
      });
    });
  });

  describe('acquireUpdate', () => {
    it('counts the call in its window and day and takes a lease in one conditional write', () => {
      const input = acquireUpdate({
        ...write,
        tableName: 'state',
        key: { pk: 'ORG#1', sk: 'DAY#2025-02-19' },
        leaseExpiresAtMs: NOW + 30_000,
      });
      expect(input.UpdateExpression).toBe(
        'SET #win = if_not_exists(#win, :zero) + :one, dayUsed = dayUsed + :one, leases.#lease = :leaseExp',
      );
      expect(input.ConditionExpression).toContain('size(leases) < :maxInFlight');
      expect(input.ExpressionAttributeNames).toMatchObject({
        '#win': `w${WINDOW}`,
        '#lease': 'lease-mine',
      });
      expect(input.ReturnValuesOnConditionCheckFailure).toBe('ALL_OLD');
    });

    it('renews a held lease without checking the cap, and drops dead leases only if still there', () => {
      const held = acquireUpdate({
        ...write,
        lease: 'held',
        tableName: 'state',
        key: { pk: 'ORG#1', sk: 'DAY#x' },
        leaseExpiresAtMs: NOW + 30_000,
      });
      expect(held.ConditionExpression).toContain('attribute_exists(leases.#lease)');
      expect(held.ConditionExpression).not.toContain('size(leases)');

      const cleanup = acquireUpdate({
        ...write,
        expiredLeases: ['dead'],
        tableName: 'state',
        key: { pk: 'ORG#1', sk: 'DAY#x' },
        leaseExpiresAtMs: NOW + 30_000,
      });
      expect(cleanup.UpdateExpression).toContain('REMOVE leases.#dead0');
      expect(cleanup.ConditionExpression).toContain('attribute_exists(leases.#dead0)');
      expect(cleanup.ExpressionAttributeValues?.[':maxInFlight']).toStrictEqual(n(6));
    });
  });

  describe('releaseUpdate', () => {
    it('writes nothing when there is nothing to give back', () => {
      expect(releaseUpdate({ tableName: 't', key: { pk: 'a', sk: 'b' } })).toBeUndefined();
    });

    it('spends the window and gives the lease back after a 429', () => {
      const input = releaseUpdate({
        tableName: 't',
        key: { pk: 'a', sk: 'b' },
        leaseId: 'l1',
        spendWindow: { windowStartMs: WINDOW, windowBudget: 100 },
      });
      expect(input?.UpdateExpression).toBe('SET #spent = :spentBudget REMOVE leases.#lease');
      expect(input?.ExpressionAttributeNames).toMatchObject({
        '#spent': `w${WINDOW}`,
        '#lease': 'l1',
      });
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
    it('reads the window counters and leases of an item', () => {
      const state = readBudgetState(item({ leases: { M: { a: n(5) } }, dayCeiling: n(42) }));
      expect(state.windows).toStrictEqual(new Map([[WINDOW, 10]]));
      expect(state.leases).toStrictEqual(new Map([['a', 5]]));
      expect(state.dayCeiling).toBe(42);
    });
  });
});
