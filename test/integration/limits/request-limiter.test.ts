import { randomUUID } from 'node:crypto';
import { GetItemCommand } from '@aws-sdk/client-dynamodb';
import { beforeAll, describe, expect, it } from 'vitest';
import type { AdminAlert } from '../../../lib/alerts';
import { createAwsClients, tableKeys, toKeyAttributes } from '../../../lib/aws';
import { countDynamoDbCalls } from '../../../lib/bench/worker-container';
import { type Connection, type ConnectionSecret, toConnection } from '../../../lib/config';
import {
  BudgetExhaustedError,
  createRequestLimiter,
  type RequestLimiter,
  type RequestLimiterDeps,
} from '../../../lib/limits';
import { logger, type MetricsRecorder } from '../../../lib/observability';
import { createTestEnvironment, type TestEnvironment } from '../../helpers/local-environment';

// 2035-02-19T10:00:00Z. Every test gets its own organization id, so its own budget item.
const WINDOW_START = Date.parse('2035-02-19T10:00:00.000Z');
const DAY = '2035-02-19';
/** A window of 60 s plus twice the default clock skew of 200 ms. */
const SLOT_REUSE_MS = 60_400;

let env: TestEnvironment;
let orgSequence = 0;

const connectionFor = (overrides: Partial<ConnectionSecret> = {}): Connection => {
  orgSequence += 1;
  return toConnection(`conn-${orgSequence}`, {
    dataCenter: 'com',
    clientId: '1000.LIMITS',
    clientSecret: 'limits-client-secret',
    refreshToken: '1000.refresh.token',
    booksOrganizationId: `7000${Date.now() % 1_000_000}${orgSequence}`,
    plan: 'professional',
    webhookSecret: 'webhook-secret-for-limits',
    ...overrides,
  });
};

const manualClock = (startMs: number) => {
  let nowMs = startMs;
  return {
    now: () => nowMs,
    set: (ms: number) => {
      nowMs = ms;
    },
    advance: (ms: number) => {
      nowMs += ms;
    },
  };
};

const recordingAlerts = () => {
  const published: AdminAlert[] = [];
  return {
    published,
    publisher: {
      publish: async (alert: AdminAlert) => {
        published.push(alert);
        return true;
      },
    },
  };
};

const recordingMetrics = () => {
  const points: Array<{ name: string; value: number }> = [];
  const recorder: MetricsRecorder = {
    count: (name, _dimensions, value = 1) => {
      points.push({ name, value });
    },
  };
  return { points, recorder };
};

/**
 * One "container": its own limiter instance, sharing only the table. Its short waits move the
 * manual clock instead of sleeping, and its random picks are the first slot and no jitter unless
 * a test says otherwise.
 */
const container = (
  clock: ReturnType<typeof manualClock>,
  extra: Partial<RequestLimiterDeps> = {},
): RequestLimiter =>
  createRequestLimiter({
    dynamodb: env.clients.dynamodb,
    tableName: env.resources.tableName,
    now: clock.now,
    newId: randomUUID,
    logger,
    sleep: async (ms) => clock.advance(ms),
    random: () => 0,
    ...extra,
  });

const refusal = async (attempt: Promise<unknown>): Promise<BudgetExhaustedError> => {
  const error = await attempt.then(
    () => undefined,
    (caught: unknown) => caught,
  );
  expect(error).toBeInstanceOf(BudgetExhaustedError);
  return error as BudgetExhaustedError;
};

const readBudget = async (connection: Connection) =>
  (
    await env.clients.dynamodb.send(
      new GetItemCommand({
        TableName: env.resources.tableName,
        Key: toKeyAttributes(tableKeys.orgBudget(connection.booksOrganizationId)),
        ConsistentRead: true,
      }),
    )
  ).Item;

const slotStamps = (item: Awaited<ReturnType<typeof readBudget>>) =>
  Object.values(item?.slots?.M ?? {}).map((value) => Number(value.N));

describe('request limiter (DynamoDB Local)', () => {
  beforeAll(async () => {
    env = await createTestEnvironment();
  });

  it('grants N calls per window across containers and defers the next to when a slot frees', async () => {
    // Prepare
    const clock = manualClock(WINDOW_START + 1_000);
    const connection = connectionFor({ rateLimit: { requests: 10, windowSeconds: 60 } });
    const containers = [container(clock), container(clock), container(clock)];

    // Act: ten calls spread over three containers, then an eleventh.
    for (let call = 0; call < 10; call += 1) {
      const permit = await containers[call % 3]?.acquire(connection);
      await permit?.release({ httpStatus: 200 });
    }
    const refused = await refusal(containers[0]?.acquire(connection) ?? Promise.resolve());

    // Assess: the eleventh comes back when the first slot frees, not at some window's end.
    expect(refused.budget).toBe('window');
    expect(refused.retryAfterMs).toBe(SLOT_REUSE_MS);
    expect(refused.disposition).toBe('defer');
    const item = await readBudget(connection);
    // Each slot holds its call's end, not the pessimistic grant stamp.
    expect(slotStamps(item)).toStrictEqual(Array(10).fill(WINDOW_START + 1_000));
    expect(item?.[`d${DAY}`]?.N).toBe('10');
    expect(item?.leases?.M).toStrictEqual({});

    // Sliding: one moment too early is still refused, then the slot is free.
    clock.advance(SLOT_REUSE_MS - 1_001); // more than the short wait away
    expect((await refusal(containers[1]?.acquire(connection) ?? Promise.resolve())).budget).toBe(
      'window',
    );
    clock.advance(1_001);
    const permit = await containers[2]?.acquire(connection);
    await permit?.release({ httpStatus: 200 });
  });

  it('spreads deferred calls over the moments the busy slots free', async () => {
    const clock = manualClock(WINDOW_START + 30_000);
    const connection = connectionFor({ rateLimit: { requests: 4, windowSeconds: 60 } });
    const early = container(clock);
    for (let call = 0; call < 4; call += 1) {
      await (await early.acquire(connection)).release({ httpStatus: 200 });
      clock.advance(10_000);
    }
    // Slots free at +60.4 s, +70.4 s, +80.4 s, +90.4 s from the calls' start.
    const deferredAt = async (pick: number) => {
      const late = container(clock, { random: () => pick });
      return (await refusal(late.acquire(connection))).retryAfterMs + clock.now();
    };
    const start = WINDOW_START + 30_000;
    expect(await deferredAt(0)).toBe(start + SLOT_REUSE_MS);
    // The last of four slots, plus up to one slot interval (60 s / 4) of jitter.
    expect(await deferredAt(0.99)).toBe(Math.ceil(start + 30_000 + SLOT_REUSE_MS + 0.99 * 15_000));
  });

  it("books a container's deferrals beyond its share of the next turn into the turn after", async () => {
    const clock = manualClock(WINDOW_START + 200_000);
    const connection = connectionFor({ rateLimit: { requests: 2, windowSeconds: 60 } });
    const busy = container(clock);
    // This container's share: both slots of the window.
    for (let call = 0; call < 2; call += 1) {
      await (await busy.acquire(connection)).release({ httpStatus: 200 });
    }
    const comeBack = async () => (await refusal(busy.acquire(connection))).retryAfterMs;

    // A probe (a batch asking which records could go) is refused but books nothing.
    for (let probe = 0; probe < 5; probe += 1) {
      expect(() => busy.precheck?.(connection, { probe: true })).toThrow(BudgetExhaustedError);
    }

    // Act: seven calls deferred in a row.
    const delays: number[] = [];
    for (let call = 0; call < 7; call += 1) delays.push(await comeBack());

    // Assess: 1.5 x its two grants (3) into the next turn, the rest one turn later, never
    // farther (a misjudged share must not push work a window past free slots).
    expect(delays).toStrictEqual([
      ...Array(3).fill(SLOT_REUSE_MS),
      ...Array(4).fill(2 * SLOT_REUSE_MS),
    ]);
  });
  it('waits in memory instead of deferring when the next slot frees within a second', async () => {
    const clock = manualClock(WINDOW_START + 60_000);
    const connection = connectionFor({ rateLimit: { requests: 1, windowSeconds: 60 } });
    const limiter = container(clock);
    await (await limiter.acquire(connection)).release({ httpStatus: 200 });
    clock.advance(SLOT_REUSE_MS - 700);

    const permit = await container(clock).acquire(connection);

    expect(clock.now()).toBe(WINDOW_START + 60_000 + SLOT_REUSE_MS);
    await permit.release({ httpStatus: 200 });
  });

  it('refuses without asking DynamoDB once a container knows every slot is busy', async () => {
    const clock = manualClock(WINDOW_START + 120_000 + 500);
    const connection = connectionFor({ rateLimit: { requests: 1, windowSeconds: 60 } });
    const limiter = container(clock);
    const permit = await limiter.acquire(connection);
    await permit.release({ httpStatus: 200 });

    expect(() => limiter.precheck?.(connection)).toThrow(BudgetExhaustedError);
  });

  it('shares one budget between two connections to the same organization', async () => {
    const clock = manualClock(WINDOW_START + 150_000);
    const first = connectionFor({ rateLimit: { requests: 2, windowSeconds: 60 } });
    const second = toConnection('conn-same-org', {
      dataCenter: 'com',
      clientId: '1000.OTHER',
      clientSecret: 'other-client-secret',
      refreshToken: '1000.refresh.other',
      booksOrganizationId: first.booksOrganizationId,
      plan: 'professional',
      webhookSecret: 'webhook-secret-for-the-other-connection',
      rateLimit: { requests: 2, windowSeconds: 60 },
    });
    const limiter = container(clock);
    for (let call = 0; call < 2; call += 1) {
      await (await limiter.acquire(first)).release({ httpStatus: 200 });
    }
    expect((await refusal(container(clock).acquire(second))).budget).toBe('window');
  });

  it('gives an unused permit back: its slot and its daily count', async () => {
    const clock = manualClock(WINDOW_START + 170_000);
    const connection = connectionFor({ rateLimit: { requests: 1, windowSeconds: 60 } });
    const permit = await container(clock).acquire(connection);
    expect(permit.usableUntilMs).toBe(clock.now() + 5_000); // the permit-hold margin

    await permit.release({ unused: true });

    const again = await container(clock).acquire(connection);
    await again.release({ httpStatus: 200 });
    expect((await readBudget(connection))?.[`d${DAY}`]?.N).toBe('1');
  });

  it('grants a call of a smaller share only while the window is used below that share', async () => {
    const clock = manualClock(WINDOW_START + 175_000);
    const connection = connectionFor({ rateLimit: { requests: 10, windowSeconds: 60 } });
    const limiter = container(clock);
    for (let call = 0; call < 5; call += 1) {
      await (await limiter.acquire(connection, { share: 0.5 })).release({ httpStatus: 200 });
      clock.advance(1_000);
    }

    const refused = await refusal(container(clock).acquire(connection, { share: 0.5 }));
    // The first of the five slots must free before the window is below half again.
    expect(refused.retryAfterMs).toBe(WINDOW_START + 175_000 + SLOT_REUSE_MS - clock.now());
    const live = await limiter.acquire(connection); // share 1: the other half is there
    await live.release({ httpStatus: 200 });
  });

  it('caps the calls in flight across containers and frees a place on release', async () => {
    const clock = manualClock(WINDOW_START + 180_000 + 1_000);
    const connection = connectionFor({ maxConcurrency: 2 });
    const [a, b, c] = [container(clock), container(clock), container(clock)];
    const first = await a.acquire(connection);
    await b.acquire(connection);

    const refused = await refusal(c.acquire(connection));
    expect(refused.budget).toBe('in-flight');
    expect(refused.retryAfterMs).toBe(1_000);

    await first.release({ httpStatus: 200 });
    const third = await c.acquire(connection);
    await third.release({ httpStatus: 200 });
  });

  it('drops the lease of a container that died between acquire and release once it expires', async () => {
    const clock = manualClock(WINDOW_START + 240_000 + 1_000);
    const connection = connectionFor({ maxConcurrency: 1 });
    const dead = container(clock, { leaseMs: 10_000 });
    await dead.acquire(connection); // never released

    const survivor = container(clock, { leaseMs: 10_000 });
    expect((await refusal(survivor.acquire(connection))).budget).toBe('in-flight');

    clock.advance(10_001);
    const permit = await survivor.acquire(connection);
    await permit.release({ httpStatus: 200 });
    const item = await readBudget(connection);
    expect(item?.leases?.M).toStrictEqual({});
  });

  it('hands the lease from call to call inside a container and writes one release at the end', async () => {
    const clock = manualClock(WINDOW_START + 300_000 + 1_000);
    const connection = connectionFor();
    // A client of its own, with the benchmark's SDK middleware counting what it sends.
    const dynamodb = createAwsClients({ region: 'us-east-1' }).dynamodb;
    const calls = countDynamoDbCalls(dynamodb);
    const counting = container(clock, { dynamodb });

    // The item exists already (another container made the organization's first call).
    await (await container(clock).acquire(connection)).release({ httpStatus: 200 });

    // Three records of one batch want a Books call at once.
    const permits = [
      counting.acquire(connection),
      counting.acquire(connection),
      counting.acquire(connection),
    ];
    for (const permit of permits) {
      clock.advance(100);
      await (await permit).release({ httpStatus: 200 });
    }

    // A first read, three acquire writes (each restamping the previous call's slot), and one
    // release when the last call finds no one waiting.
    expect(calls.byCommand()).toStrictEqual({ GetItemCommand: 1, UpdateItemCommand: 4 });
    const item = await readBudget(connection);
    expect(item?.[`d${DAY}`]?.N).toBe('4');
    expect(item?.leases?.M).toStrictEqual({});
    // Every slot holds its call's end: none is left at its grant stamp (grant + 3 s).
    expect(slotStamps(item).every((stamp) => stamp <= clock.now())).toBe(true);
  });

  it('blocks the window for every container after a 429 and says when to retry', async () => {
    const clock = manualClock(WINDOW_START + 360_000 + 15_000);
    const connection = connectionFor();
    const metrics = recordingMetrics();
    const a = container(clock, { metrics: metrics.recorder });
    const b = container(clock);

    const permit = await a.acquire(connection);
    const outcome = await permit.release({ httpStatus: 429, zohoCode: 44 });

    expect(outcome.retryAfterMs).toBe(SLOT_REUSE_MS);
    expect(metrics.points).toContainEqual({ name: 'ZohoTooManyRequests', value: 1 });
    expect((await refusal(b.acquire(connection))).budget).toBe('window');
    const item = await readBudget(connection);
    expect(item?.blockedUntilMs?.N).toBe(String(clock.now() + SLOT_REUSE_MS));
  });

  it('blocks nothing after a 429 for too many calls in flight (1070)', async () => {
    const clock = manualClock(WINDOW_START + 420_000 + 1_000);
    const connection = connectionFor();
    const limiter = container(clock);
    const permit = await limiter.acquire(connection);
    const outcome = await permit.release({ httpStatus: 429, zohoCode: 1070 });
    expect(outcome.retryAfterMs).toBe(1_000);
    const next = await limiter.acquire(connection);
    await next.release({ httpStatus: 200 });
  });

  it('defers to the next quota day in the connection time zone when the daily limit is spent', async () => {
    // 2035-02-19T18:00Z is 23:30 in Kolkata: the quota day ends at 18:30Z.
    const clock = manualClock(Date.parse('2035-02-19T18:00:00.000Z'));
    const connection = connectionFor({ dailyLimit: 3, quotaTimeZone: 'Asia/Kolkata' });
    const limiter = container(clock);
    for (let call = 0; call < 3; call += 1) {
      await (await limiter.acquire(connection)).release({ httpStatus: 200 });
    }
    const other = container(clock);
    const refused = await refusal(other.acquire(connection));
    expect(refused.budget).toBe('daily-quota');
    expect(refused.retryAfterMs).toBe(30 * 60_000);
    expect((await readBudget(connection))?.[`d${DAY}`]?.N).toBe('3');

    clock.set(Date.parse('2035-02-19T18:30:00.000Z'));
    await (await other.acquire(connection)).release({ httpStatus: 200 });
    expect((await readBudget(connection))?.['d2035-02-20']?.N).toBe('1');
  });

  it("stops at Zoho's own remaining count and resumes at Zoho's reset time", async () => {
    const clock = manualClock(WINDOW_START + 480_000 + 1_000);
    const connection = connectionFor({ maxConcurrency: 1 });
    const limiter = container(clock);

    // Another app used the organization's quota: Zoho says 1 call is left, reset in 600 s.
    const permit = await limiter.acquire(connection);
    await permit.release({
      httpStatus: 200,
      rateLimit: { limit: 5000, remaining: 1, resetSeconds: 600 },
    });
    await (await limiter.acquire(connection)).release({ httpStatus: 200 });

    const other = container(clock);
    const refused = await refusal(other.acquire(connection));
    expect(refused.budget).toBe('daily-quota');
    expect(refused.retryAfterMs).toBe(600_000);
    const item = await readBudget(connection);
    expect(item?.zohoRemaining?.N).toBe('1');
    expect(item?.dayCeiling?.N).toBe('2');

    clock.advance(600_000);
    await (await other.acquire(connection)).release({ httpStatus: 200 });
  });

  it('publishes the 80% and 100% alerts once each, whichever containers see them', async () => {
    const clock = manualClock(WINDOW_START + 540_000 + 1_000);
    const connection = connectionFor({ dailyLimit: 10 });
    const alerts = recordingAlerts();
    const containers = [0, 1, 2].map(() => container(clock, { alerts: alerts.publisher }));

    for (let call = 0; call < 10; call += 1) {
      await (await containers[call % 3]?.acquire(connection))?.release({ httpStatus: 200 });
    }
    for (const limiter of containers) await refusal(limiter.acquire(connection));

    expect(alerts.published.map((alert) => alert.attributes.code)).toStrictEqual([
      'daily-quota-80',
      'daily-quota-100',
    ]);
    expect(alerts.published[1]?.subject).toBe(
      `[zoho-sync] ${connection.connectionId}: Zoho Books daily quota spent (2035-02-19)`,
    );
  });
});
