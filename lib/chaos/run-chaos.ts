/**
 * `npm run chaos [-- --seed N --changes 3000 --connections K]`: a seeded fault campaign through
 * local mode (the real functions in supervised processes, the AWS stand-ins, the simulator):
 * 500s, timeouts, dropped connections, 429s and slow answers from Zoho, an access-token expiry
 * (57) mid-run, a revoked refresh token on one connection, and the worker killed (SIGKILL) at
 * the named crash points. At the end it reconciles CRM against Books, the DLQ and the alerts,
 * prints the table and writes it to `.zoho-sync/chaos.json`.
 */
import { mkdir, mkdtemp, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import {
  GetQueueAttributesCommand,
  ReceiveMessageCommand,
  type SQSClient,
} from '@aws-sdk/client-sqs';
import { uniformFloat64 } from 'pure-rand/distribution/uniformFloat64';
import { xoroshiro128plus } from 'pure-rand/generator/xoroshiro128plus';
import { createAwsClients } from '../aws';
import { CRASH_ENV } from '../crash-point';
import { startLocalMode } from '../local/local-mode';
import { parseLocalOptions } from '../local/local-options';
import {
  crmAccount,
  crmContact,
  crmDeal,
  crmProduct,
  crmSalesOrder,
  type ZohoSimulator,
} from '../local/zoho-simulator';
import { logger } from '../observability';

export interface ChaosOptions {
  readonly seed: number;
  readonly changes: number;
  readonly connections: number;
  /** Where chaos.json goes. @default .zoho-sync */
  readonly outputDir?: string;
}

type Module = 'Accounts' | 'Contacts' | 'Products' | 'Deals' | 'Sales_Orders';
const MODULES: readonly Module[] = ['Accounts', 'Contacts', 'Products', 'Deals', 'Sales_Orders'];

interface CrmChange {
  readonly connectionId: string;
  readonly module: Module;
  readonly crmRecordId: string;
  /** The Books name the latest version must have (invoices are created once, never renamed). */
  readonly expectedName: string | undefined;
}

export interface ChaosTable {
  readonly seed: number;
  readonly connections: number;
  readonly changes: number;
  readonly records: number;
  readonly synced: number;
  readonly deadLettered: number;
  readonly deadLetteredWithExactlyOneAlert: number;
  readonly parkedOnStoppedConnection: number;
  /** Records whose message is still delayed in the queue when the run ends (not lost). */
  readonly pendingDelayed: number;
  readonly stoppedConnectionAlerts: number;
  readonly lost: number;
  readonly duplicateBooksRecords: number;
  readonly tooManyRequestsFromPacing: number;
  readonly tokenRefusals: number;
  readonly revokedTokenRefusals: number;
  readonly booksCallsPerChange: number;
  readonly injected: Readonly<Record<string, number>>;
  readonly workerRestarts: number;
  readonly durationSeconds: number;
}

/** The seeded choices of the run: which connection, module and record each change touches. */
const planChanges = (
  seed: number,
  count: number,
  connectionIds: readonly string[],
): { changes: CrmChange[]; put: Array<(simulator: ZohoSimulator) => void> } => {
  // pure-rand generators advance in place: one stream of draws for the whole plan.
  const rng = xoroshiro128plus(seed);
  const next = () => uniformFloat64(rng);
  const pick = <T>(items: readonly T[]): T => items[Math.floor(next() * items.length)] as T;
  const existing = new Map<string, string[]>();
  const changes: CrmChange[] = [];
  const put: Array<(simulator: ZohoSimulator) => void> = [];
  let counter = 0;
  for (let index = 0; index < count; index += 1) {
    const connectionIndex = Math.floor(next() * connectionIds.length);
    const connectionId = connectionIds[connectionIndex] as string;
    const key = (module: Module) => `${connectionId}/${module}`;
    const accounts = existing.get(key('Accounts')) ?? [];
    const products = existing.get(key('Products')) ?? [];
    let module = pick(MODULES);
    // Invoices need a customer (and a sales order a product) in the CRM first.
    if ((module === 'Deals' || module === 'Sales_Orders') && accounts.length === 0) {
      module = 'Accounts';
    }
    if (module === 'Sales_Orders' && products.length === 0) module = 'Products';
    const pool = existing.get(key(module)) ?? [];
    const update =
      pool.length > 0 && module !== 'Deals' && module !== 'Sales_Orders' && next() < 0.3;
    counter += 1;
    const crmRecordId = update
      ? pick(pool)
      : `48${connectionIndex}${MODULES.indexOf(module)}${String(counter).padStart(15, '0')}`;
    if (!update) existing.set(key(module), [...pool, crmRecordId]);
    const version = index;
    const account = pick(accounts.length > 0 ? accounts : [crmRecordId]);
    const product = pick(products.length > 0 ? products : [crmRecordId]);
    const expectedName =
      module === 'Accounts'
        ? `Account ${crmRecordId} v${version}`
        : module === 'Contacts'
          ? `Ada Contact ${crmRecordId} v${version}`
          : module === 'Products'
            ? `Product ${crmRecordId} v${version}`
            : undefined;
    changes.push({ connectionId, module, crmRecordId, expectedName });
    put.push((simulator) => {
      // Each connection is its own CRM org in reality; one simulator CRM holds them all here,
      // which is fine because record ids are unique per connection.
      if (module === 'Accounts') {
        simulator.putCrmRecord(module, crmAccount(crmRecordId, { Account_Name: expectedName }));
      } else if (module === 'Contacts') {
        simulator.putCrmRecord(
          module,
          crmContact(crmRecordId, { Full_Name: expectedName, Last_Name: `Contact v${version}` }),
        );
      } else if (module === 'Products') {
        simulator.putCrmRecord(module, crmProduct(crmRecordId, { Product_Name: expectedName }));
      } else if (module === 'Deals') {
        simulator.putCrmRecord(
          module,
          crmDeal(crmRecordId, { id: account, name: `Account ${account}` }),
        );
      } else {
        simulator.putCrmRecord(
          module,
          crmSalesOrder(crmRecordId, { id: account, name: `Account ${account}` }, [
            { product: { id: product, name: `Product ${product}` }, quantity: 2, listPrice: 10 },
          ]),
        );
      }
    });
  }
  return { changes, put };
};

const receiveAll = async (sqs: SQSClient, queueUrl: string): Promise<string[]> => {
  const bodies: string[] = [];
  for (;;) {
    const result = await sqs.send(
      new ReceiveMessageCommand({
        QueueUrl: queueUrl,
        MaxNumberOfMessages: 10,
        WaitTimeSeconds: 0,
        VisibilityTimeout: 300,
      }),
    );
    const messages = result.Messages ?? [];
    if (messages.length === 0) return bodies;
    bodies.push(...messages.map((message) => message.Body ?? ''));
  }
};

const queueDepths = async (sqs: SQSClient, queueUrl: string) => {
  const result = await sqs.send(
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
  return {
    visible: Number(attributes.ApproximateNumberOfMessages ?? 0),
    inFlight: Number(attributes.ApproximateNumberOfMessagesNotVisible ?? 0),
    delayed: Number(attributes.ApproximateNumberOfMessagesDelayed ?? 0),
  };
};

export const runChaos = async (options: ChaosOptions): Promise<ChaosTable> => {
  const startedAt = Date.now();
  const local = await startLocalMode({
    options: {
      ...(parseLocalOptions([]) as Exclude<ReturnType<typeof parseLocalOptions>, 'help'>),
      demoConnections: options.connections,
      port: 0,
      portGiven: false,
      // Sweeps would find every change again; this run is about webhooks.
      sweepEverySeconds: 3_600,
    },
    stateDir: await mkdtemp(join(tmpdir(), 'zoho-sync-chaos-')),
    resourcePrefix: `chaos${options.seed}`,
    functionEnv: {
      POWERTOOLS_LOG_LEVEL: 'ERROR',
      POWERTOOLS_METRICS_DISABLED: 'true',
      AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: 'true',
      ZOHO_SYNC_ZOHO_TIMEOUT_MS: '3000',
      ZOHO_SYNC_BACKOFF_BASE_SECONDS: '1',
      [CRASH_ENV.points]:
        'before-mapping-write=0.01,before-sqs-delete=0.01,during-token-refresh=0.05,after-deferral-resent=0.01',
      [CRASH_ENV.seed]: String(options.seed),
      [CRASH_ENV.mode]: 'kill',
    },
  });
  const simulator = local.simulator;
  if (simulator === undefined) throw new Error('chaos needs the embedded Zoho simulator');
  const sqs = createAwsClients({ region: 'us-east-1' }).sqs;
  try {
    const connectionIds = local.connections.map((connection) => connection.connectionId);
    const revoked = local.connections.length > 1 ? local.connections.at(-1) : undefined;
    simulator.seedFaults({
      seed: options.seed,
      rates: {
        'server-error': 0.03,
        timeout: 0.01,
        'dropped-connection': 0.02,
        'too-many-requests': 0.01,
        slow: 0.05,
      },
      timeoutMs: 4_000,
      slowMs: 400,
    });
    if (revoked !== undefined) simulator.revokeRefreshToken(revoked.secret.refreshToken);

    const { changes, put } = planChanges(options.seed, options.changes, connectionIds);
    const secretOf = new Map(
      local.connections.map((c) => [c.connectionId, c.secret.webhookSecret]),
    );
    let sent = 0;
    const send = async (index: number) => {
      const change = changes[index] as CrmChange;
      put[index]?.(simulator);
      for (let attempt = 0; ; attempt += 1) {
        const response = await fetch(`${local.api.url}/webhooks/${change.connectionId}`, {
          method: 'POST',
          headers: {
            'content-type': 'application/x-www-form-urlencoded',
            'x-zoho-sync-token': secretOf.get(change.connectionId) ?? '',
          },
          body: `module=${change.module}&id=${change.crmRecordId}`,
        }).catch(() => undefined);
        if (response?.status === 202) break;
        // Zoho retries a failed webhook; so do we, and count nothing as sent until accepted.
        if (attempt > 5) throw new Error(`webhook for ${change.crmRecordId} not accepted`);
        await sleep(200);
      }
      sent += 1;
    };
    // In order per record (an update after its create), a few at a time across records.
    for (let start = 0; start < changes.length; start += 10) {
      await Promise.all(
        Array.from({ length: Math.min(10, changes.length - start) }, (_, i) => send(start + i)),
      );
      if (start <= changes.length / 2 && start + 10 > changes.length / 2) {
        // Every access token expires mid-run: the next Books call of each connection gets 57.
        simulator.expireAccessTokens();
      }
    }

    // Drained: nothing visible or in flight for longer than the visibility timeout (a killed
    // worker's messages reappear after it) and the record leases (30 s). Delayed messages
    // (backoffs, deferrals, a stopped connection's probe) get two more minutes, then count.
    const queueUrl = local.state.queues.syncQueueUrl;
    let quietSince: number | undefined;
    let stillDelayed = 0;
    const deadline = Date.now() + Math.max(600_000, options.changes * 1_000);
    while (Date.now() < deadline) {
      const depth = await queueDepths(sqs, queueUrl);
      if (depth.visible + depth.inFlight > 0) quietSince = undefined;
      else quietSince ??= Date.now();
      stillDelayed = depth.delayed;
      const quietMs = quietSince === undefined ? 0 : Date.now() - quietSince;
      if (quietMs > 45_000 && (depth.delayed === 0 || quietMs > 165_000)) break;
      await sleep(2_000);
    }

    return await reconcile({
      options,
      simulator,
      changes,
      sent,
      revokedConnectionId: revoked?.connectionId,
      organizationOf: new Map(
        local.connections.map((c) => [c.connectionId, c.secret.booksOrganizationId]),
      ),
      deadLetters: (await receiveAll(sqs, local.state.queues.deadLetterQueueUrl)).map(
        (body) =>
          JSON.parse(body) as { connectionId: string; crmModule: string; crmRecordId: string },
      ),
      alerts: (await receiveAll(sqs, local.state.queues.alertInboxQueueUrl)).map(
        (body) => (JSON.parse(body) as { Message?: string; Subject?: string }) ?? {},
      ),
      workerRestarts: local.processes.worker.restarts(),
      stillDelayed,
      startedAt,
    });
  } finally {
    await local.stop();
  }
};

const reconcile = async (input: {
  options: ChaosOptions;
  simulator: ZohoSimulator;
  changes: readonly CrmChange[];
  sent: number;
  revokedConnectionId: string | undefined;
  organizationOf: ReadonlyMap<string, string>;
  deadLetters: ReadonlyArray<{ connectionId: string; crmModule: string; crmRecordId: string }>;
  alerts: ReadonlyArray<{ Message?: string; Subject?: string }>;
  workerRestarts: number;
  stillDelayed: number;
  startedAt: number;
}): Promise<ChaosTable> => {
  const { simulator, changes } = input;
  const latest = new Map<string, CrmChange>();
  for (const change of changes) {
    latest.set(`${change.connectionId}/${change.module}/${change.crmRecordId}`, change);
  }
  const booksFor = (connectionId: string, module: Module) => {
    const org = input.organizationOf.get(connectionId) ?? '';
    if (module === 'Products') return simulator.books.items(org);
    if (module === 'Deals' || module === 'Sales_Orders') return simulator.books.invoices(org);
    return simulator.books.contacts(org);
  };
  let synced = 0;
  let duplicates = 0;
  let deadLettered = 0;
  let withOneAlert = 0;
  let parked = 0;
  let pending = 0;
  let lost = 0;
  for (const change of latest.values()) {
    const copies = booksFor(change.connectionId, change.module).filter(
      (record) => record.cf_crm_id === change.crmRecordId,
    );
    duplicates += Math.max(0, copies.length - 1);
    const name = copies[0]?.contact_name ?? copies[0]?.name;
    if (copies.length > 0 && (change.expectedName === undefined || name === change.expectedName)) {
      synced += 1;
      continue;
    }
    const dead = input.deadLetters.some(
      (message) =>
        message.connectionId === change.connectionId && message.crmRecordId === change.crmRecordId,
    );
    if (dead) {
      deadLettered += 1;
      const alerts = input.alerts.filter((alert) =>
        (alert.Message ?? '').includes(`${change.module} ${change.crmRecordId}`),
      ).length;
      if (alerts === 1) withOneAlert += 1;
      continue;
    }
    if (change.connectionId === input.revokedConnectionId) {
      parked += 1;
      continue;
    }
    // A record whose message still waits in the queue (delayed) is pending, not lost.
    if (pending < input.stillDelayed) pending += 1;
    else lost += 1;
  }
  const stats = simulator.stats();
  const injected = simulator.seededFaultCounts();
  let booksCalls = 0;
  let booksTooMany = 0;
  for (const org of input.organizationOf.values()) {
    booksCalls += stats.organizations[org]?.calls ?? 0;
    booksTooMany += stats.organizations[org]?.byStatus['429'] ?? 0;
  }
  const table: ChaosTable = {
    seed: input.options.seed,
    connections: input.options.connections,
    changes: input.sent,
    records: latest.size,
    synced,
    deadLettered,
    deadLetteredWithExactlyOneAlert: withOneAlert,
    parkedOnStoppedConnection: parked,
    pendingDelayed: pending,
    stoppedConnectionAlerts: input.alerts.filter((alert) =>
      (alert.Subject ?? '').includes(`${input.revokedConnectionId}: connection stopped`),
    ).length,
    lost,
    duplicateBooksRecords: duplicates,
    // Injected 429s are Zoho's doing; the rest would be ours (pacing over the budget).
    tooManyRequestsFromPacing: Math.max(0, booksTooMany - (injected['too-many-requests'] ?? 0)),
    tokenRefusals: stats.accounts.total.accessDenied,
    revokedTokenRefusals: stats.accounts.total.invalidCode,
    booksCallsPerChange: Math.round((booksCalls / Math.max(1, input.sent)) * 100) / 100,
    injected,
    workerRestarts: input.workerRestarts,
    durationSeconds: Math.round((Date.now() - input.startedAt) / 1000),
  };
  return table;
};

export const formatChaosTable = (table: ChaosTable): string =>
  [
    `zoho-sync chaos run: seed ${table.seed}, ${table.connections} connections, ${table.durationSeconds} s`,
    `  changes (webhooks accepted)       ${table.changes}`,
    `  records                           ${table.records}`,
    `  synced (Books = latest CRM)       ${table.synced}`,
    `  deferred, then synced             not counted (workers log it; not collected yet)`,
    `  dead-lettered                     ${table.deadLettered} (${table.deadLetteredWithExactlyOneAlert} with exactly one alert)`,
    `  parked: revoked connection        ${table.parkedOnStoppedConnection} (${table.stoppedConnectionAlerts} alert)`,
    `  still delayed in the queue        ${table.pendingDelayed}`,
    `  lost                              ${table.lost}`,
    `  duplicate Books records           ${table.duplicateBooksRecords}`,
    `  429s (our pacing)                 ${table.tooManyRequestsFromPacing}`,
    `  token refusals (Access Denied)    ${table.tokenRefusals}`,
    `  revoked-token refusals (planted)  ${table.revokedTokenRefusals}`,
    `  Books calls per change            ${table.booksCallsPerChange}`,
    `  injected faults                   ${Object.entries(table.injected)
      .map(([kind, count]) => `${kind} ${count}`)
      .join(', ')}`,
    `  worker processes killed/restarted ${table.workerRestarts}`,
  ].join('\n');

const readFlag = (args: readonly string[], name: string, fallback: number): number => {
  const index = args.indexOf(`--${name}`);
  if (index < 0) return fallback;
  const value = Number(args[index + 1]);
  if (!Number.isInteger(value) || value < 1) throw new Error(`--${name} needs a positive integer`);
  return value;
};

const main = async () => {
  const args = process.argv.slice(2);
  const options: ChaosOptions = {
    seed: readFlag(args, 'seed', 1),
    changes: readFlag(args, 'changes', 3_000),
    connections: readFlag(args, 'connections', 3),
  };
  logger.setLogLevel('ERROR');
  const table = await runChaos(options);
  console.log(formatChaosTable(table));
  const dir = options.outputDir ?? '.zoho-sync';
  await mkdir(dir, { recursive: true });
  await writeFile(join(dir, 'chaos.json'), `${JSON.stringify(table, null, 2)}\n`);
  const broken =
    table.lost +
    table.duplicateBooksRecords +
    table.tooManyRequestsFromPacing +
    table.tokenRefusals;
  process.exitCode =
    broken === 0 && table.deadLettered === table.deadLetteredWithExactlyOneAlert ? 0 : 1;
};

if (process.argv[1]?.endsWith('run-chaos.ts')) {
  main().catch((error: unknown) => {
    console.error(`chaos: ${error instanceof Error ? error.message : String(error)}`);
    process.exitCode = 1;
  });
}
