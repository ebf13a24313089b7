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

// A date in the future on purpose: DynamoDB Local's TTL sweeper runs on the real clock and would
// delete budget items whose ttl lies in the real past in the middle of a test.
// A window boundary: 2035-02-19T10:00:00Z. Every test gets its own organization id.
const WINDOW_START = Date.parse('2035-02-19T10:00:00.000Z');

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

/** One "container": its own limiter instance, sharing only the table. */
const container = (now: () => number, extra: Partial<RequestLimiterDeps> = {}): RequestLimiter =>
  createRequestLimiter({
    dynamodb: env.clients.dynamodb,
    tableName: env.resources.tableName,
    now,
    newId: randomUUID,
    logger,
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

const readDay = async (connection: Connection, day: string) =>
  (
    await env.clients.dynamodb.send(
      new GetItemCommand({
        TableName: env.resources.tableName,
        Key: toKeyAttributes(tableKeys.dailyQuota(connection.booksOrganizationId, day)),
        ConsistentRead: true,
      }),
    )
  ).Item;

describe('request limiter (DynamoDB Local)', () => {
  beforeAll(async () => {
    env = await createTestEnvironment();
  });

  it('grants the window budget across containers and defers the next call to the window end', async () => {
    // Prepare
    const clock = manualClock(WINDOW_START + 1_000);
    const connection = connectionFor({ rateLimit: { requests: 10, windowSeconds: 60 } });
    const containers = [container(clock.now), container(clock.now), container(clock.now)];

    // Act: ten calls spread over three containers, then an eleventh.
    for (let call = 0; call < 10; call += 1) {
      const permit = await containers[call % 3]?.acquire(connection);
      await permit?.release({ httpStatus: 200 });
    }
    const refused = await refusal(containers[0]?.acquire(connection) ?? Promise.resolve());

    // Assess
    expect(refused.budget).toBe('window');
    expect(refused.retryAfterMs).toBe(59_000);
    expect(refused.disposition).toBe('defer');
    const item = await readDay(connection, '2035-02-19');
    expect(item?.[`w${WINDOW_START}`]?.N).toBe('10');
    expect(item?.dayUsed?.N).toBe('10');
    expect(item?.leases?.M).toStrictEqual({});

    // A new window needs no reset: its counter starts by itself.
    clock.advance(60_000);
    const permit = await containers[2]?.acquire(connection);
    await permit?.release({ httpStatus: 200 });
  });

  it('refuses without asking DynamoDB once a container knows its window is full', async () => {
    const clock = manualClock(WINDOW_START + 120_000 + 500);
    const connection = connectionFor({ rateLimit: { requests: 1, windowSeconds: 60 } });
    const limiter = container(clock.now);
    const permit = await limiter.acquire(connection);
    await permit.release({ httpStatus: 200 });

    expect(() => limiter.precheck?.(connection)).toThrow(BudgetExhaustedError);
  });

  it('counts a call in the last moments of a window in the next window too', async () => {
    const clock = manualClock(WINDOW_START + 60_000 - 100);
    const connection = connectionFor({ rateLimit: { requests: 2, windowSeconds: 60 } });
    const limiter = container(clock.now);
    const permit = await limiter.acquire(connection);
    await permit.release({ httpStatus: 200 });

    const item = await readDay(connection, '2035-02-19');
    expect(item?.[`w${WINDOW_START}`]?.N).toBe('1');
    expect(item?.[`w${WINDOW_START + 60_000}`]?.N).toBe('1');
  });

  it('caps the calls in flight across containers and frees a slot on release', async () => {
    const clock = manualClock(WINDOW_START + 180_000 + 1_000);
    const connection = connectionFor({ maxConcurrency: 2 });
    const [a, b, c] = [container(clock.now), container(clock.now), container(clock.now)];
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
    const dead = container(clock.now, { leaseMs: 10_000 });
    await dead.acquire(connection); // never released

    const survivor = container(clock.now, { leaseMs: 10_000 });
    expect((await refusal(survivor.acquire(connection))).budget).toBe('in-flight');

    clock.advance(10_001);
    const permit = await survivor.acquire(connection);
    await permit.release({ httpStatus: 200 });
    const item = await readDay(connection, '2035-02-19');
    expect(item?.leases?.M).toStrictEqual({});
  });

  it('hands the lease from call to call inside a container and writes one release at the end', async () => {
    const clock = manualClock(WINDOW_START + 300_000 + 1_000);
    const connection = connectionFor();
    // A client of its own, with the benchmark's SDK middleware counting what it sends.
    const dynamodb = createAwsClients({ region: 'us-east-1' }).dynamodb;
    const calls = countDynamoDbCalls(dynamodb);
    const counting = createRequestLimiter({
      dynamodb,
      tableName: env.resources.tableName,
      now: clock.now,
      newId: randomUUID,
      logger,
    });

    // The day's item exists already (another container made today's first call).
    await (await container(clock.now).acquire(connection)).release({ httpStatus: 200 });

    // Three records of one batch want a Books call at once.
    const permits = [
      counting.acquire(connection),
      counting.acquire(connection),
      counting.acquire(connection),
    ];
    for (const permit of permits) await (await permit).release({ httpStatus: 200 });

    // Three acquire writes, and one release when the last call finds no one waiting.
    expect(calls.byCommand()).toStrictEqual({ UpdateItemCommand: 4 });
    const item = await readDay(connection, '2035-02-19');
    expect(item?.dayUsed?.N).toBe('4');
    expect(item?.leases?.M).toStrictEqual({});
  });

  it('spends the rest of the window for every container after a 429 and says when to retry', async () => {
    const clock = manualClock(WINDOW_START + 360_000 + 15_000);
    const connection = connectionFor();
    const metrics = recordingMetrics();
    const a = container(clock.now, { metrics: metrics.recorder });
    const b = container(clock.now);

    const permit = await a.acquire(connection);
    const outcome = await permit.release({ httpStatus: 429, zohoCode: 44 });

    expect(outcome.retryAfterMs).toBe(45_000);
    expect(metrics.points).toContainEqual({ name: 'ZohoTooManyRequests', value: 1 });
    expect((await refusal(b.acquire(connection))).budget).toBe('window');
    const item = await readDay(connection, '2035-02-19');
    expect(item?.[`w${WINDOW_START + 360_000}`]?.N).toBe('100');
  });

  it('spends nothing of the window after a 429 for too many calls in flight (1070)', async () => {
    const clock = manualClock(WINDOW_START + 420_000 + 1_000);
    const connection = connectionFor();
    const limiter = container(clock.now);
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
    const limiter = container(clock.now);
    for (let call = 0; call < 3; call += 1) {
      await (await limiter.acquire(connection)).release({ httpStatus: 200 });
    }
    const other = container(clock.now);
    const refused = await refusal(other.acquire(connection));
    expect(refused.budget).toBe('daily-quota');
    expect(refused.retryAfterMs).toBe(30 * 60_000);
    expect((await readDay(connection, '2035-02-19'))?.dayUsed?.N).toBe('3');

    clock.set(Date.parse('2035-02-19T18:30:00.000Z'));
    await (await other.acquire(connection)).release({ httpStatus: 200 });
    expect((await readDay(connection, '2035-02-20'))?.dayUsed?.N).toBe('1');
  });

  it("stops at Zoho's own remaining count and resumes at Zoho's reset time", async () => {
    const clock = manualClock(WINDOW_START + 480_000 + 1_000);
    const connection = connectionFor({ maxConcurrency: 1 });
    const limiter = container(clock.now);

    // Another app used the organization's quota: Zoho says 1 call is left, reset in 600 s.
    const permit = await limiter.acquire(connection);
    await permit.release({
      httpStatus: 200,
      rateLimit: { limit: 5000, remaining: 1, resetSeconds: 600 },
    });
    await (await limiter.acquire(connection)).release({ httpStatus: 200 });

    const other = container(clock.now);
    const refused = await refusal(other.acquire(connection));
    expect(refused.budget).toBe('daily-quota');
    expect(refused.retryAfterMs).toBe(600_000);
    const item = await readDay(connection, '2035-02-19');
    expect(item?.zohoRemaining?.N).toBe('1');
    expect(item?.dayCeiling?.N).toBe('2');

    clock.advance(600_000);
    await (await other.acquire(connection)).release({ httpStatus: 200 });
  });

  it('publishes the 80% and 100% alerts once each, whichever containers see them', async () => {
    const clock = manualClock(WINDOW_START + 540_000 + 1_000);
    const connection = connectionFor({ dailyLimit: 10 });
    const alerts = recordingAlerts();
    const containers = [0, 1, 2].map(() => container(clock.now, { alerts: alerts.publisher }));

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
