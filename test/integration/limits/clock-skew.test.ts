import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type Connection, toConnection } from '../../../lib/config';
import { createRequestLimiter, isBudgetExhaustedError } from '../../../lib/limits';
import {
  type SimulatedMinute,
  startZohoSimulator,
  type ZohoSimulator,
} from '../../../lib/local/zoho-simulator';
import { logger } from '../../../lib/observability';
import { createTestEnvironment, type TestEnvironment } from '../../helpers/local-environment';

/**
 * The budget's margins, proven: 20 workers whose clocks are off Zoho's by up to ±200 ms (the
 * default ZOHO_SYNC_BUDGET_CLOCK_SKEW_MS), each a container with its own limiter, hammer one
 * organization for a few windows (a budget of 10 per 4 s keeps DynamoDB Local, two writes per call,
 * within what a loaded two-core machine serves). Zoho (the simulator, on the true clock) plays its minute as a
 * sliding window for one organization and as a fixed window at a random offset for another.
 * Neither may ever see more than the budget in any span of the window's length, nor answer 429.
 */
const WORKERS = 20;
const BUDGET = 10;
const WINDOW_SECONDS = 4;
const RUN_MS = 10_000;
const SKEW_MS = 200;

const MODES: ReadonlyArray<{ readonly name: string; readonly minute: SimulatedMinute }> = [
  { name: 'sliding', minute: { kind: 'sliding' } },
  { name: 'fixed at a random offset', minute: { kind: 'fixed-random' } },
];

describe('the request budget under clock skew, in every reading of the minute', () => {
  let env: TestEnvironment;
  let simulator: ZohoSimulator;
  let accessToken: string;

  beforeAll(async () => {
    env = await createTestEnvironment();
    simulator = await startZohoSimulator({ latencyMs: 20 });
    const client = {
      clientId: '1000.CLOCKSKEW',
      clientSecret: 'clock-skew-client-secret',
      refreshToken: `1000.${'c'.repeat(32)}.${'d'.repeat(32)}`,
    };
    simulator.addClient(client);
    const token = await fetch(`${simulator.baseUrl}/oauth/v2/token`, {
      method: 'POST',
      body: new URLSearchParams({
        grant_type: 'refresh_token',
        client_id: client.clientId,
        client_secret: client.clientSecret,
        refresh_token: client.refreshToken,
      }),
    });
    accessToken = ((await token.json()) as { access_token: string }).access_token;
  });

  afterAll(async () => {
    await simulator?.stop();
  });

  const connectionFor = (organizationId: string): Connection =>
    toConnection(`skew-${organizationId}`, {
      dataCenter: 'com',
      clientId: '1000.CLOCKSKEW',
      clientSecret: 'clock-skew-client-secret',
      refreshToken: '1000.refresh.token',
      booksOrganizationId: organizationId,
      plan: 'professional',
      webhookSecret: 'webhook-secret-for-clock-skew',
      rateLimit: { requests: BUDGET, windowSeconds: WINDOW_SECONDS },
      maxConcurrency: WORKERS,
    });

  /** One worker: its own clock and limiter; calls Zoho in a loop until the run ends. */
  const runWorker = async (connection: Connection, skewMs: number, untilMs: number) => {
    const limiter = createRequestLimiter({
      // One SDK client for all: a client's first request is slow on a loaded machine, and the
      // limiters' state (the containers' memory) is what must be separate.
      dynamodb: env.clients.dynamodb,
      tableName: env.resources.tableName,
      now: () => Date.now() + skewMs,
      newId: randomUUID,
      logger,
    });
    let refusals = 0;
    while (Date.now() < untilMs) {
      let permit: Awaited<ReturnType<typeof limiter.acquire>>;
      try {
        permit = await limiter.acquire(connection);
      } catch (error) {
        if (!isBudgetExhaustedError(error)) throw error;
        refusals += 1;
        // A deferred message comes back after retryAfterMs (SQS delay); here, the worker waits.
        await new Promise((resolve) => setTimeout(resolve, Math.min(error.retryAfterMs, 2_000)));
        continue;
      }
      if (Date.now() + skewMs > permit.usableUntilMs) {
        await permit.release({ unused: true }); // as callZoho does with a permit held too long
        continue;
      }
      const response = await fetch(
        `${simulator.baseUrl}/books/v3/contacts?organization_id=${connection.booksOrganizationId}`,
        { headers: { Authorization: `Zoho-oauthtoken ${accessToken}` } },
      );
      const body = (await response.json()) as { code?: number };
      await permit.release({
        httpStatus: response.status,
        ...(body.code === undefined ? {} : { zohoCode: body.code }),
      });
    }
    return refusals;
  };

  it('never lets Zoho see more than the budget in any window, with clocks skewed by ±200 ms', async () => {
    // Prepare: one organization per reading of the minute, run side by side.
    const runs = MODES.map((mode, index) => {
      const organizationId = `6007000000${index}${Date.now() % 100_000}`;
      simulator.addOrganization({
        organizationId,
        requestsPerWindow: BUDGET,
        windowSeconds: WINDOW_SECONDS,
        // Not the limit under test: every worker may be in flight at once.
        maxConcurrency: WORKERS,
        minute: mode.minute,
      });
      return { mode, organizationId, connection: connectionFor(organizationId) };
    });

    // Act: 20 workers per organization, clocks spread evenly over -200 ms .. +200 ms.
    const untilMs = Date.now() + RUN_MS;
    await Promise.all(
      runs.flatMap((run) =>
        Array.from({ length: WORKERS }, (_, worker) =>
          runWorker(run.connection, -SKEW_MS + (2 * SKEW_MS * worker) / (WORKERS - 1), untilMs),
        ),
      ),
    );

    // Assess, per reading: Zoho's own call log.
    for (const run of runs) {
      const stats = simulator.stats().organizations[run.organizationId];
      const label = run.mode.name;
      expect({ label, tooManyRequests: stats?.tooManyRequests }).toStrictEqual({
        label,
        tooManyRequests: 0,
      });
      // Any span of 4 s, wherever it starts, held at most the budget ...
      expect({ label, max: Math.min(BUDGET, stats?.maxCallsInAnySpan ?? 0) }).toStrictEqual({
        label,
        max: stats?.maxCallsInAnySpan,
      });
      // ... while slots were really reused from window to window, where skew would show.
      expect(stats?.calls ?? 0).toBeGreaterThan(BUDGET);
    }
  });
});
