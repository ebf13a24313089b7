import { randomUUID } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';
import { type AwsClients, createAwsClients } from '../aws';
import { type ConnectionSecret, loadConfig } from '../config';
import { functionEnvironment, provisionLocalResources } from '../local/aws-stand-ins';
import { putConnectionSecret } from '../local/provision';
import { type SqsPoller, startSqsPoller } from '../local/sqs-poller';
import type { SimulatedMinute, ZohoSimulator } from '../local/zoho-simulator';
import { noMetrics } from '../observability';
import { naiveNoLimiter, withNaiveRetryOn429 } from './naive-books-client';
import {
  accountSyncMessages,
  backlogRecordIds,
  enqueueSyncMessages,
  seedCrmAccounts,
} from './sync-backlog';
import {
  countDynamoDbCalls,
  createWorkerContainer,
  type DynamoDbCallCounter,
} from './worker-container';

/** The shape of one benchmark run, the same for both sides. */
export interface BenchParameters {
  /** Changes in the backlog. */
  readonly changes: number;
  /** Zoho's (and our) requests per window. */
  readonly budget: number;
  readonly windowSeconds: number;
  /** Worker containers, each polled by one long-polling poller (the event source's concurrency). */
  readonly workers: number;
  /** SQS records per invocation. */
  readonly batchSize: number;
  /** In-flight calls Zoho allows per organization, and our cap. */
  readonly maxConcurrency: number;
  /** Simulated Zoho latency per call. */
  readonly latencyMs: number;
  /** Pause of the naive client before it retries a 429. */
  readonly naivePauseMs: number;
  /** Give up on a side after this long. */
  readonly timeoutMs: number;
}

/**
 * `zoho-sync` and `naive` run against the simulator's default minute (fixed, aligned to the
 * epoch); the window-modes case runs zoho-sync against a sliding minute and a fixed minute at a
 * random offset.
 */
export type BenchSideName = 'zoho-sync' | 'naive' | 'sliding' | 'fixed-random';

const SIDE_MINUTES: Record<BenchSideName, SimulatedMinute | undefined> = {
  'zoho-sync': undefined,
  naive: undefined,
  sliding: { kind: 'sliding' },
  'fixed-random': { kind: 'fixed-random' },
};

/** What one side measured. */
export interface BenchSideFigures {
  readonly side: BenchSideName;
  readonly synced: number;
  /** Books calls that reached Zoho, refused ones included. */
  readonly zohoCalls: number;
  readonly successfulCalls: number;
  readonly tooManyRequests: number;
  readonly maxCallsInAnyWindow: number;
  /** Most calls in any span of the window's length, wherever it starts. */
  readonly maxCallsInAnySpan: number;
  readonly maxInFlight: number;
  /** The window over the mean time a slot took to be used again (see slotReuseUtilization). */
  readonly utilization: number | undefined;
  /** Calls whose slot was used again during the run: the sample of the utilization. */
  readonly reusedSlots: number;
  /** The budget's clock-skew margin in this run (scaled with the compressed window). */
  readonly clockSkewMs: number;
  readonly drainMs: number;
  readonly physicalLimitMs: number;
  readonly tokenRefreshes: number;
  readonly dynamodbCalls: number;
  readonly budgetDynamodbCalls: number;
  readonly dynamodbByCommand: Readonly<Record<string, number>>;
  readonly sqsDeliveries: number;
}

export interface BenchSideContext {
  readonly simulator: ZohoSimulator;
  readonly clients: AwsClients;
  /** The stand-ins' endpoint variables. */
  readonly standInEnv: Readonly<Record<string, string>>;
  readonly parameters: BenchParameters;
}

const SIDE_IDS: Record<BenchSideName, { orgId: string; recordPrefix: string; clientId: string }> = {
  // One organization and record-id prefix per bench case: the cases share one simulator, so
  // lib/bench/backfill-bench.ts (60090000005, 48794) and bench-intake.ts (60090000006, 48795)
  // must not reuse these.
  'zoho-sync': { orgId: '60090000001', recordPrefix: '48790', clientId: '1000.BENCHZOHOSYNC' },
  naive: { orgId: '60090000002', recordPrefix: '48791', clientId: '1000.BENCHNAIVE' },
  sliding: { orgId: '60090000003', recordPrefix: '48792', clientId: '1000.BENCHSLIDING' },
  'fixed-random': { orgId: '60090000004', recordPrefix: '48793', clientId: '1000.BENCHFIXED' },
};

/**
 * Runs one side: a backlog of `changes` Account changes queued at the start of a window, drained
 * by `workers` containers of the real worker code through the local SQS poller. `zoho-sync`
 * uses the request budget; `naive` has none: it relies on concurrency and retries 429s.
 */
export const runBenchSide = async (
  context: BenchSideContext,
  side: BenchSideName,
): Promise<BenchSideFigures> => {
  const { simulator, clients, parameters } = context;
  const ids = SIDE_IDS[side];
  const connectionId = `bench-${side}`;
  const resources = await provisionLocalResources(clients, {
    prefix: `bench-${side}-${randomUUID().slice(0, 6)}`,
    visibilityTimeoutSeconds: 60,
  });
  const secretPrefix = 'zoho-sync-bench/';
  const clockSkewMs = benchClockSkewMs(parameters.windowSeconds);
  const config = loadConfig({
    ...context.standInEnv,
    ...functionEnvironment(resources),
    ZOHO_SYNC_SECRET_PREFIX: secretPrefix,
    ZOHO_SYNC_BUDGET_CLOCK_SKEW_MS: String(clockSkewMs),
  });
  const secret: ConnectionSecret = {
    dataCenter: 'com',
    accountsUrl: simulator.baseUrl,
    clientId: ids.clientId,
    clientSecret: `bench-secret-${side}`,
    refreshToken: `1000.${randomUUID().replaceAll('-', '')}.${randomUUID().replaceAll('-', '')}`,
    booksOrganizationId: ids.orgId,
    plan: 'professional',
    rateLimit: { requests: parameters.budget, windowSeconds: parameters.windowSeconds },
    maxConcurrency: parameters.maxConcurrency,
    webhookSecret: `bench-webhook-secret-${side}`,
  };
  simulator.addClient({
    clientId: secret.clientId,
    clientSecret: secret.clientSecret,
    refreshToken: secret.refreshToken,
  });
  const minute = SIDE_MINUTES[side];
  simulator.addOrganization({
    ...(minute === undefined ? {} : { minute }),
    organizationId: ids.orgId,
    requestsPerWindow: parameters.budget,
    windowSeconds: parameters.windowSeconds,
    maxConcurrency: parameters.maxConcurrency,
  });
  await putConnectionSecret(clients.secretsManager, { secretPrefix, connectionId, secret });
  const recordIds = backlogRecordIds(ids.recordPrefix, parameters.changes);
  seedCrmAccounts(simulator, recordIds);

  // One set of clients per container, as in Lambda; the counters are SDK middleware on each.
  const counters: DynamoDbCallCounter[] = [];
  const containers = Array.from({ length: parameters.workers }, () => {
    const containerClients = createAwsClients({ region: 'us-east-1' });
    counters.push(countDynamoDbCalls(containerClients.dynamodb));
    return createWorkerContainer(
      {
        config,
        clients: containerClients,
        metrics: noMetrics,
        ...(side === 'naive' ? { limiter: naiveNoLimiter } : {}),
      },
      side === 'naive'
        ? (deps) => ({
            ...deps,
            books: withNaiveRetryOn429(deps.books, {
              pauseMs: parameters.naivePauseMs,
              maxAttempts: 1_000,
            }),
          })
        : undefined,
    );
  });

  // Start on a window boundary, so that windows and the drain line up for both sides.
  const windowMs = parameters.windowSeconds * 1000;
  await sleep(windowMs - (Date.now() % windowMs) + 20);
  const startedAtMs = Date.now();
  await enqueueSyncMessages(
    clients.sqs,
    resources.syncQueueUrl,
    accountSyncMessages(connectionId, recordIds, randomUUID, startedAtMs),
  );
  let deliveries = 0;
  const pollers: SqsPoller[] = containers.map((container) =>
    startSqsPoller({
      sqs: clients.sqs,
      queueUrl: resources.syncQueueUrl,
      queueArn: resources.syncQueueArn,
      handler: (event, lambdaContext) => {
        deliveries += event.Records.length;
        return container.handler(event, lambdaContext);
      },
      functionName: `bench-${side}`,
      batchSize: parameters.batchSize,
      maxConcurrency: 1,
      waitTimeSeconds: 1,
    }),
  );

  let drainedAtMs: number | undefined;
  while (Date.now() - startedAtMs < parameters.timeoutMs) {
    if (simulator.books.contacts(ids.orgId).length >= parameters.changes) {
      drainedAtMs = Date.now();
      break;
    }
    await sleep(50);
  }
  await Promise.all(pollers.map((poller) => poller.stop()));

  const stats = simulator.stats();
  const org = stats.organizations[ids.orgId];
  const synced = simulator.books.contacts(ids.orgId).length;
  const successful = (org?.byStatus['200'] ?? 0) + (org?.byStatus['201'] ?? 0);
  const callTimes = stats.requests
    .filter(
      (entry) =>
        entry.organizationId === ids.orgId &&
        entry.atMs >= startedAtMs &&
        (entry.status === 200 || entry.status === 201),
    )
    .map((entry) => entry.atMs);
  const utilization = slotReuseUtilization(callTimes, windowMs, parameters.budget);
  const dynamodbByCommand: Record<string, number> = {};
  for (const counter of counters) {
    for (const [command, count] of Object.entries(counter.byCommand())) {
      dynamodbByCommand[command] = (dynamodbByCommand[command] ?? 0) + count;
    }
  }
  return {
    side,
    synced,
    zohoCalls: org?.calls ?? 0,
    tooManyRequests: org?.tooManyRequests ?? 0,
    maxCallsInAnyWindow: org?.maxCallsInAnyWindow ?? 0,
    maxCallsInAnySpan: org?.maxCallsInAnySpan ?? 0,
    maxInFlight: org?.maxInFlightObserved ?? 0,
    utilization: utilization.value,
    reusedSlots: utilization.reusedSlots,
    clockSkewMs,
    drainMs: (drainedAtMs ?? Date.now()) - startedAtMs,
    physicalLimitMs: (parameters.changes / parameters.budget) * windowMs,
    tokenRefreshes: stats.accounts.byClientId[ids.clientId]?.tokensIssued ?? 0,
    dynamodbCalls: counters.reduce((sum, counter) => sum + counter.total(), 0),
    budgetDynamodbCalls: counters.reduce((sum, counter) => sum + counter.budget(), 0),
    dynamodbByCommand,
    sqsDeliveries: deliveries,
    successfulCalls: successful,
  };
};

/**
 * The clock-skew margin of the budget in a bench run. The bench compresses Zoho's minute to a few
 * seconds, but the margin is an absolute time (200 ms by default, against a 60 s minute): kept
 * as is, it would cost the bench ten times its share of the window that it costs in production.
 * It is scaled with the window, so that it takes the same 0.67% of the window as in production
 * (20 ms of a 6 s window). All bench containers share one clock, so any margin is safe here.
 */
export const benchClockSkewMs = (windowSeconds: number): number =>
  Math.round((200 * windowSeconds) / 60);

/**
 * How fully a backlog used the budget, whatever Zoho's minute is: the window divided by the
 * mean time a slot took to be used again, i.e. from each call to the call `budget` calls later
 * (successful, quota-consuming calls, in the order Zoho admitted them).
 *
 * Why not calls per window: the budget allows at most `budget` calls in *any* span of a
 * window, so call i and call i + budget are at least a window apart, and a budget used to the
 * full makes each such gap exactly a window (utilization 1). Counting calls per fixed window
 * instead depends on where the windows lie against the run: the first and last windows of a
 * run hold part of a burst and look half empty without any slot having been idle, and a fixed
 * minute at a random offset has no window aligned with the run at all. The gap measure has no
 * windows, so it reads the same under every minute; any moment a free slot waits for a caller
 * (a late deferral, an idle worker, a margin) lengthens a gap and lowers it.
 * Undefined when the run had no more calls than the budget (no slot was used twice).
 */
export const slotReuseUtilization = (
  callTimes: readonly number[],
  windowMs: number,
  budget: number,
): { value: number | undefined; reusedSlots: number } => {
  const times = [...callTimes].sort((a, b) => a - b);
  const reusedSlots = Math.max(0, times.length - budget);
  if (reusedSlots === 0) return { value: undefined, reusedSlots };
  let gaps = 0;
  for (let index = 0; index < reusedSlots; index += 1) {
    gaps += (times[index + budget] ?? 0) - (times[index] ?? 0);
  }
  return { value: windowMs / (gaps / reusedSlots), reusedSlots };
};
