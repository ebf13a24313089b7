import { randomUUID } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';
import { GetQueueAttributesCommand } from '@aws-sdk/client-sqs';
import { type AwsClients, createAwsClients } from '../aws';
import { type ConnectionSecret, loadConfig } from '../config';
import { functionEnvironment, provisionLocalResources } from '../local/aws-stand-ins';
import { putConnectionSecret } from '../local/provision';
import { type SqsPoller, startSqsPoller } from '../local/sqs-poller';
import { crmAccount, type ZohoSimulator } from '../local/zoho-simulator';
import { noMetrics, logger as sharedLogger } from '../observability';
import { createReconcileSweepDeps, reconcileSweep } from '../reconcile';
import { createWebhookDeps, ingestWebhook, WEBHOOK_TOKEN_HEADER } from '../webhooks';
import { backlogRecordIds } from './sync-backlog';
import { createWorkerContainer } from './worker-container';

/** The intake case's shape. */
export interface IntakeBenchParameters {
  /** Records that change. */
  readonly records: number;
  /** Worker containers polling the queue. */
  readonly workers: number;
  readonly batchSize: number;
  /** The webhook's SQS delay (ZOHO_SYNC_INTAKE_DELAY_SECONDS). */
  readonly intakeDelaySeconds: number;
  readonly latencyMs: number;
  /** Give up waiting for a phase after this long. */
  readonly timeoutMs: number;
}

/** What the intake case measured. */
export interface IntakeBenchFigures {
  readonly records: number;
  /** Records announced by webhook and notification (the rest only by the sweep). */
  readonly announced: number;
  /** Records edited three times in quick succession. */
  readonly burstEdited: number;
  /** Records changed with no event at all. */
  readonly silent: number;
  /** Webhook and notification callbacks sent for changed records. */
  readonly events: number;
  /** Webhooks sent again afterwards for records that had not changed since. */
  readonly repeatWebhooks: number;
  readonly booksCalls: number;
  readonly crmCalls: number;
  readonly booksCallsPerChangedRecord: number;
  readonly crmCallsPerChangedRecord: number;
  /**
   * Books writes beyond the first per record in the measured part. Each record changed once
   * in net, so these are writes of something Books already held, or of an edit a later one
   * superseded: an upper bound of no-op writes.
   */
  readonly noOpWrites: number;
  /** Records whose Books contact does not show their last CRM state at the end. */
  readonly staleRecords: number;
  /** Sweep start to the last silent record showing its change in Books. */
  readonly sweepHealMs: number | undefined;
  readonly sweepEnqueued: number;
  /** How long the sweep itself ran (listing every module, enqueueing); the rest is the worker. */
  readonly sweepRunMs: number;
  readonly runMs: number;
}

const ORG_ID = '60090000006';
const CLIENT_ID = '1000.BENCHINTAKE';
const CONNECTION_ID = 'bench-intake';
const RECORD_PREFIX = '48795';

/**
 * The intake case of `npm run bench`: the three ways one change reaches the worker (workflow
 * webhook, Notification API callback, reconcile sweep) and bursts of edits, through the real
 * webhook logic, queue, worker and sweep against the simulator. Every record is synced once
 * before the measured part, so the changes are updates, as in daily use.
 */
export const runIntakeBench = async (
  context: {
    readonly simulator: ZohoSimulator;
    readonly clients: AwsClients;
    readonly standInEnv: Readonly<Record<string, string>>;
  },
  parameters: IntakeBenchParameters,
): Promise<IntakeBenchFigures> => {
  const { simulator, clients } = context;
  const startedAt = Date.now();
  const resources = await provisionLocalResources(clients, {
    prefix: `bench-intake-${randomUUID().slice(0, 6)}`,
    visibilityTimeoutSeconds: 60,
  });
  const secretPrefix = 'zoho-sync-bench/';
  const config = loadConfig({
    ...context.standInEnv,
    ...functionEnvironment(resources),
    ZOHO_SYNC_SECRET_PREFIX: secretPrefix,
    ZOHO_SYNC_INTAKE_DELAY_SECONDS: String(parameters.intakeDelaySeconds),
  });
  const webhookSecret = 'bench-intake-webhook-secret';
  const secret: ConnectionSecret = {
    dataCenter: 'com',
    accountsUrl: simulator.baseUrl,
    clientId: CLIENT_ID,
    clientSecret: 'bench-intake-secret',
    refreshToken: `1000.${randomUUID().replaceAll('-', '')}.${randomUUID().replaceAll('-', '')}`,
    booksOrganizationId: ORG_ID,
    plan: 'ultimate',
    // Call counts are what this case measures, not pacing: a budget it never reaches.
    rateLimit: { requests: 10_000, windowSeconds: 60 },
    dailyLimit: 1_000_000,
    maxConcurrency: 10,
    webhookSecret,
  };
  simulator.addClient({
    clientId: secret.clientId,
    clientSecret: secret.clientSecret,
    refreshToken: secret.refreshToken,
  });
  simulator.addOrganization({
    organizationId: ORG_ID,
    plan: 'ultimate',
    requestsPerWindow: 10_000,
    dailyLimit: 1_000_000,
  });
  await putConnectionSecret(clients.secretsManager, {
    secretPrefix,
    connectionId: CONNECTION_ID,
    secret,
  });

  const ids = backlogRecordIds(RECORD_PREFIX, parameters.records);
  const nameOf = new Map<string, string>();
  const put = (id: string, name: string) => {
    nameOf.set(id, name);
    // Without a pinned Modified_Time the simulator stamps the save with its clock, as CRM does.
    const { Modified_Time: _pinned, ...record } = crmAccount(id);
    simulator.putCrmRecord('Accounts', { ...record, Account_Name: name });
  };
  for (const id of ids) put(id, `Intake ${id}`);

  const webhookDeps = createWebhookDeps({ config, clients, logger: sharedLogger });
  const post = async (body: Record<string, unknown>, route: 'webhook' | 'notification') =>
    ingestWebhook(webhookDeps, {
      connectionId: CONNECTION_ID,
      headers: {
        'content-type': 'application/json',
        ...(route === 'webhook' ? { [WEBHOOK_TOKEN_HEADER]: webhookSecret } : {}),
      },
      query: {},
      body: JSON.stringify(
        route === 'webhook'
          ? body
          : { ...body, channel_id: '1000000068099', operation: 'update', token: webhookSecret },
      ),
      isBase64Encoded: false,
    });
  /** One workflow webhook per record, 20 in flight at a time (as many as a CRM org sends). */
  const webhooks = async (batch: readonly string[]) => {
    for (let start = 0; start < batch.length; start += 20) {
      await Promise.all(
        batch.slice(start, start + 20).map((id) => post({ module: 'Accounts', id }, 'webhook')),
      );
    }
  };
  /** The workflow webhooks and the Notification API callbacks of a change, sent side by side. */
  const announce = async (batch: readonly string[]) => {
    const notifications = async () => {
      // Zoho batches notification ids per module; up to 100 per callback.
      for (let start = 0; start < batch.length; start += 100) {
        await post({ module: 'Accounts', ids: batch.slice(start, start + 100) }, 'notification');
      }
    };
    await Promise.all([webhooks(batch), notifications()]);
  };

  const containers = Array.from({ length: parameters.workers }, () =>
    createWorkerContainer({
      config,
      clients: createAwsClients({ region: 'us-east-1' }),
      metrics: noMetrics,
    }),
  );
  const pollers: SqsPoller[] = containers.map((container) =>
    startSqsPoller({
      sqs: clients.sqs,
      queueUrl: resources.syncQueueUrl,
      queueArn: resources.syncQueueArn,
      handler: container.handler,
      functionName: 'bench-intake',
      batchSize: parameters.batchSize,
      maxConcurrency: 1,
      waitTimeSeconds: 1,
    }),
  );
  const stale = () =>
    ids.filter((id) => {
      const contact = simulator.books.contacts(ORG_ID).find((entry) => entry.cf_crm_id === id);
      return contact?.contact_name !== nameOf.get(id);
    });
  const until = async (done: () => boolean | Promise<boolean>) => {
    const deadline = Date.now() + parameters.timeoutMs;
    while (Date.now() < deadline) {
      if (await done()) return true;
      await sleep(100);
    }
    return false;
  };
  const queueIdleFor = async (ms: number) => {
    let idleSince: number | undefined;
    return until(async () => {
      const busy = (await queueDepth(clients, resources.syncQueueUrl)) > 0;
      if (busy) idleSince = undefined;
      else idleSince ??= Date.now();
      return idleSince !== undefined && Date.now() - idleSince >= ms;
    });
  };

  try {
    // Not measured: every record synced once, by webhook.
    await webhooks(ids);
    await until(() => stale().length === 0);
    await queueIdleFor(1_500);
    // CRM times have whole seconds: the changes must land in a later second than the seed.
    await sleep(1_100);

    const measuredFrom = simulator.stats().requests.length;
    const silent = ids.filter((_, index) => index % 10 === 9);
    const burst = ids.filter((_, index) => index % 5 === 0 && index % 10 !== 9);
    const announced = ids.filter((id) => !silent.includes(id));
    let events = 0;
    // A fifth are edited three times in quick succession, each edit announced both ways.
    for (const id of burst) {
      for (const edit of [1, 2, 3]) {
        put(id, `Intake ${id} v${edit}`);
        await announce([id]);
        events += 2;
      }
    }
    const once = announced.filter((id) => !burst.includes(id));
    for (const id of [...once, ...silent]) put(id, `Intake ${id} v1`);
    await announce(once);
    events += once.length * 2;
    await until(() => stale().every((id) => silent.includes(id)));
    await queueIdleFor(1_500);

    // Webhooks again, for records that have not changed since they were synced.
    await webhooks(announced);
    await queueIdleFor(parameters.intakeDelaySeconds * 1000 + 1_500);

    // The sweep heals what no event announced.
    const sweepStartedAt = Date.now();
    const summary = await reconcileSweep(
      createReconcileSweepDeps({ config, clients, logger: sharedLogger }),
      { connectionIds: [CONNECTION_ID] },
    );
    const sweepRunMs = Date.now() - sweepStartedAt;
    const healed = await until(() => stale().length === 0);
    const sweepHealMs = healed ? Date.now() - sweepStartedAt : undefined;
    await queueIdleFor(1_500);

    const measured = simulator.stats().requests.slice(measuredFrom);
    const books = measured.filter((request) => request.path.startsWith('/books/'));
    const crm = measured.filter((request) => request.path.startsWith('/crm/'));
    const writesPerContact = new Map<string, number>();
    for (const request of books) {
      if (request.method === 'GET') continue;
      writesPerContact.set(request.path, (writesPerContact.get(request.path) ?? 0) + 1);
    }
    // Every record changed once in net; its first write is the real one.
    const noOpWrites = [...writesPerContact.values()].reduce(
      (sum, writes) => sum + Math.max(0, writes - 1),
      0,
    );
    return {
      records: ids.length,
      announced: announced.length,
      burstEdited: burst.length,
      silent: silent.length,
      events,
      repeatWebhooks: announced.length,
      booksCalls: books.length,
      crmCalls: crm.length,
      booksCallsPerChangedRecord: books.length / ids.length,
      crmCallsPerChangedRecord: crm.length / ids.length,
      noOpWrites,
      staleRecords: stale().length,
      sweepHealMs,
      sweepEnqueued: summary.enqueued,
      sweepRunMs,
      runMs: Date.now() - startedAt,
    };
  } finally {
    await Promise.all(pollers.map((poller) => poller.stop()));
  }
};

const queueDepth = async (clients: AwsClients, queueUrl: string): Promise<number> => {
  const result = await clients.sqs.send(
    new GetQueueAttributesCommand({
      QueueUrl: queueUrl,
      AttributeNames: [
        'ApproximateNumberOfMessages',
        'ApproximateNumberOfMessagesNotVisible',
        'ApproximateNumberOfMessagesDelayed',
      ],
    }),
  );
  const attributes = result.Attributes ?? {};
  return (
    Number(attributes.ApproximateNumberOfMessages ?? 0) +
    Number(attributes.ApproximateNumberOfMessagesNotVisible ?? 0) +
    Number(attributes.ApproximateNumberOfMessagesDelayed ?? 0)
  );
};
