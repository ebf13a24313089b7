import { randomUUID } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';
import { type AwsClients, createAwsClients } from '../aws';
import { runBackfill } from '../backfill';
import { type ConnectionSecret, loadConfig } from '../config';
import { functionEnvironment, provisionLocalResources } from '../local/aws-stand-ins';
import { putConnectionSecret } from '../local/provision';
import { type SqsPoller, startSqsPoller } from '../local/sqs-poller';
import { crmAccount, type ZohoSimulator } from '../local/zoho-simulator';
import { logger, noMetrics } from '../observability';
import { backlogRecordIds } from './sync-backlog';
import { createWorkerContainer } from './worker-container';

/** The backfill case's goal (issue 12): drain time within 5% of what the share allows. */
export const BACKFILL_GOAL = { maxDrainOverPhysical: 1.05, tooManyRequests: 0 } as const;

export interface BackfillBenchParameters {
  readonly records: number;
  readonly share: number;
  readonly budget: number;
  readonly windowSeconds: number;
  readonly workers: number;
  readonly batchSize: number;
  readonly maxConcurrency: number;
  readonly timeoutMs: number;
}

export interface BackfillBenchFigures {
  readonly records: number;
  readonly synced: number;
  readonly booksCalls: number;
  readonly booksCallsPerRecord: number;
  readonly tooManyRequests: number;
  readonly maxCallsInAnyWindow: number;
  /** From the backfill's start to the last record synced (the CLI's own wait included). */
  readonly drainMs: number;
  /** records / (share x budget) windows: the fastest the share of the budget allows. */
  readonly physicalLimitMs: number;
  readonly drainOverPhysical: number;
  readonly goalsMet: boolean;
}

const ORG_ID = '60090000005';
const CLIENT_ID = '1000.BENCHBACKFILL';

/**
 * The backfill case: `records` CRM Accounts that exist before zoho-sync, backfilled by the real
 * backfill (lib/backfill, as `zoho-sync backfill` runs it) through the real worker code in
 * `workers` containers, against the simulator enforcing `budget` per window. Measures the drain
 * time against the physical limit of the share: `records / floor(share * budget)` windows.
 */
export const runBackfillBench = async (
  context: {
    readonly simulator: ZohoSimulator;
    readonly clients: AwsClients;
    readonly standInEnv: Readonly<Record<string, string>>;
  },
  parameters: BackfillBenchParameters,
): Promise<BackfillBenchFigures> => {
  const { simulator, clients } = context;
  const connectionId = 'bench-backfill';
  const resources = await provisionLocalResources(clients, {
    prefix: `bench-backfill-${randomUUID().slice(0, 6)}`,
    visibilityTimeoutSeconds: 60,
  });
  const secretPrefix = 'zoho-sync-bench/';
  const config = loadConfig({
    ...context.standInEnv,
    ...functionEnvironment(resources),
    ZOHO_SYNC_SECRET_PREFIX: secretPrefix,
  });
  const secret: ConnectionSecret = {
    dataCenter: 'com',
    accountsUrl: simulator.baseUrl,
    clientId: CLIENT_ID,
    clientSecret: 'bench-secret-backfill',
    refreshToken: `1000.${randomUUID().replaceAll('-', '')}.${randomUUID().replaceAll('-', '')}`,
    booksOrganizationId: ORG_ID,
    plan: 'professional',
    rateLimit: { requests: parameters.budget, windowSeconds: parameters.windowSeconds },
    maxConcurrency: parameters.maxConcurrency,
    webhookSecret: 'bench-webhook-secret-backfill',
  };
  simulator.addClient({
    clientId: secret.clientId,
    clientSecret: secret.clientSecret,
    refreshToken: secret.refreshToken,
  });
  simulator.addOrganization({
    organizationId: ORG_ID,
    requestsPerWindow: parameters.budget,
    windowSeconds: parameters.windowSeconds,
    maxConcurrency: parameters.maxConcurrency,
  });
  await putConnectionSecret(clients.secretsManager, { secretPrefix, connectionId, secret });
  const base = Date.parse('2025-01-01T00:00:00Z');
  backlogRecordIds('48794', parameters.records).forEach((id, index) => {
    const modified = new Date(base + index * 1000).toISOString().replace('.000Z', '+00:00');
    simulator.putCrmRecord('Accounts', crmAccount(id, { Modified_Time: modified }));
  });

  const pollers: SqsPoller[] = Array.from({ length: parameters.workers }, () => {
    const container = createWorkerContainer({
      config,
      clients: createAwsClients({ region: 'us-east-1' }),
      metrics: noMetrics,
    });
    return startSqsPoller({
      sqs: clients.sqs,
      queueUrl: resources.syncQueueUrl,
      queueArn: resources.syncQueueArn,
      handler: container.handler,
      functionName: 'bench-backfill',
      batchSize: parameters.batchSize,
      maxConcurrency: 1,
      waitTimeSeconds: 1,
    });
  });

  // Start on a window boundary, as the other cases do.
  const windowMs = parameters.windowSeconds * 1000;
  await sleep(windowMs - (Date.now() % windowMs) + 20);
  const startedAtMs = Date.now();
  const stopAtMs = startedAtMs + parameters.timeoutMs;
  const result = await runBackfill(
    {
      config,
      clients,
      logger,
      shouldStop: () => Date.now() > stopAtMs,
      pollMs: 200,
    },
    {
      connectionId,
      modules: ['Accounts'],
      share: parameters.share,
      wait: true,
    },
  );
  const drainMs = Date.now() - startedAtMs;
  await Promise.all(pollers.map((poller) => poller.stop()));

  const org = simulator.stats().organizations[ORG_ID];
  const perWindow = Math.max(1, Math.floor(parameters.share * parameters.budget));
  const physicalLimitMs = (parameters.records / perWindow) * windowMs;
  const booksCalls = org?.calls ?? 0;
  const drainOverPhysical = drainMs / physicalLimitMs;
  const tooManyRequests = org?.tooManyRequests ?? 0;
  return {
    records: parameters.records,
    synced: result.synced,
    booksCalls,
    booksCallsPerRecord: booksCalls / parameters.records,
    tooManyRequests,
    maxCallsInAnyWindow: org?.maxCallsInAnyWindow ?? 0,
    drainMs,
    physicalLimitMs,
    drainOverPhysical,
    goalsMet:
      result.synced === parameters.records &&
      tooManyRequests === BACKFILL_GOAL.tooManyRequests &&
      drainOverPhysical <= BACKFILL_GOAL.maxDrainOverPhysical,
  };
};
