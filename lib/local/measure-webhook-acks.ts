/**
 * Measures how fast local mode acknowledges a burst of webhooks while its worker drains them:
 * `npx tsx lib/local/measure-webhook-acks.ts [options]`. Not a test: it prints what it measured.
 *
 * It starts a Zoho simulator in a child process with N CRM accounts (before any channel exists,
 * so nothing but the webhooks announces them), then `npm start` itself (lib/local/start.ts, as a
 * child process in a scratch directory, with `--zoho` and a `--connection` file), and sends N
 * webhooks at a steady rate from this process, which does nothing else, timing each answer. It
 * reports the answer latencies, the CPU time the webhook function's process and the worker's process
 * spent during the burst (from /proc, so independent of how loaded the machine is), how many
 * accounts the worker had synced by the end of the burst (so the acks were measured while it
 * drained), the drain time and the machine's load.
 *
 * Options: --webhooks N (600) --per-second N (100: the stack's API Gateway burst limit)
 *          --budget N (100) --window-seconds N (6: a compressed minute, as the bench; 60 is Zoho's)
 *          --drain-timeout-seconds N (300; 0 skips waiting for the drain)
 *          --concurrency N (worker concurrency; default the stack's)
 */
import { type ChildProcess, fork, spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { Agent, request } from 'node:http';
import { createRequire } from 'node:module';
import { cpus, loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { parseArgs } from 'node:util';
import { type LocalState, localStatePath, readLocalState } from './local-state';
import { crmAccount, startZohoSimulator } from './zoho-simulator';

const REPO_ROOT = fileURLToPath(new URL('../..', import.meta.url));
const SELF = fileURLToPath(import.meta.url);
const START = fileURLToPath(new URL('./start.ts', import.meta.url));
const TSX_LOADER = pathToFileURL(createRequire(import.meta.url).resolve('tsx')).href;
const ORGANIZATION_ID = '80000000001';
const CLIENT = {
  clientId: '1000.MEASUREWEBHOOKACKS',
  clientSecret: 'measure-webhook-acks-client-secret',
  refreshToken: `1000.${'3'.repeat(32)}.${'4'.repeat(32)}`,
};
const WEBHOOK_SECRET = 'measure-webhook-acks-secret-0001';
const CLOCK_TICKS_PER_SECOND = 100;

type SimulatorMessage =
  | { readonly type: 'ready'; readonly baseUrl: string }
  | { readonly type: 'progress'; readonly synced: number; readonly tooManyRequests: number };

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

const percentile = (sorted: readonly number[], p: number): number =>
  sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1))] ??
  Number.NaN;

const accountIds = (count: number) =>
  Array.from({ length: count }, (_, index) => String(4876876000100000000n + BigInt(index)));

/** The simulator's own process, so the load generator's event loop does nothing but send. */
const runSimulator = async (count: number, budget: number, windowSeconds: number) => {
  const simulator = await startZohoSimulator();
  simulator.addClient(CLIENT);
  simulator.addOrganization({
    organizationId: ORGANIZATION_ID,
    requestsPerWindow: budget,
    windowSeconds,
  });
  for (const id of accountIds(count)) simulator.putCrmRecord('Accounts', crmAccount(id));
  const send = (message: SimulatorMessage) => process.send?.(message);
  process.on('message', (message: { type: string }) => {
    if (message.type === 'progress') {
      send({
        type: 'progress',
        synced: simulator.books.contacts(ORGANIZATION_ID).length,
        tooManyRequests: simulator.stats().organizations[ORGANIZATION_ID]?.tooManyRequests ?? 0,
      });
    }
  });
  process.on('disconnect', () => void simulator.stop().then(() => process.exit(0)));
  send({ type: 'ready', baseUrl: simulator.baseUrl });
};

/** utime + stime of a process in ms (Linux /proc); undefined elsewhere. */
const cpuMsOf = (pid: number | undefined): number | undefined => {
  if (pid === undefined) return undefined;
  try {
    const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]?.split(' ') ?? [];
    return ((Number(fields[11]) + Number(fields[12])) * 1000) / CLOCK_TICKS_PER_SECOND;
  } catch {
    return undefined;
  }
};

/** The child processes of `pid` (Linux /proc), with their command lines. */
const childrenOf = async (pid: number): Promise<Array<{ pid: number; argv: string[] }>> => {
  const children: Array<{ pid: number; argv: string[] }> = [];
  const tasks = await readdir(`/proc/${pid}/task`).catch(() => [] as string[]);
  for (const task of tasks) {
    const listed = await readFile(`/proc/${pid}/task/${task}/children`, 'utf8').catch(() => '');
    for (const child of listed.split(' ').filter(Boolean).map(Number)) {
      const args = await readFile(`/proc/${child}/cmdline`, 'utf8').catch(() => '');
      children.push({ pid: child, argv: args.split('\0') });
    }
  }
  return children;
};

const main = async (): Promise<void> => {
  const { values } = parseArgs({
    options: {
      webhooks: { type: 'string', default: '600' },
      'per-second': { type: 'string', default: '100' },
      budget: { type: 'string', default: '100' },
      'window-seconds': { type: 'string', default: '6' },
      'drain-timeout-seconds': { type: 'string', default: '300' },
      concurrency: { type: 'string' },
      'simulator-process': { type: 'boolean', default: false },
    },
  });
  const webhooks = Number(values.webhooks);
  const perSecond = Number(values['per-second']);
  const budget = Number(values.budget);
  const windowSeconds = Number(values['window-seconds']);
  const drainTimeoutMs = Number(values['drain-timeout-seconds']) * 1000;
  if (values['simulator-process']) {
    await runSimulator(webhooks, budget, windowSeconds);
    return;
  }

  const simulatorProcess = fork(
    SELF,
    [
      '--simulator-process',
      '--webhooks',
      String(webhooks),
      '--budget',
      String(budget),
      '--window-seconds',
      String(windowSeconds),
    ],
    { execArgv: ['--import', TSX_LOADER], stdio: ['ignore', 'inherit', 'inherit', 'ipc'] },
  );
  let simulatorExited = false;
  simulatorProcess.once('exit', () => {
    simulatorExited = true;
  });
  const simulatorMessage = <T extends SimulatorMessage['type']>(type: T) =>
    new Promise<Extract<SimulatorMessage, { type: T }>>((resolve, reject) => {
      if (simulatorExited) reject(new Error('the simulator process exited'));
      const onMessage = (message: SimulatorMessage) => {
        if (message.type !== type) return;
        simulatorProcess.off('message', onMessage);
        resolve(message as Extract<SimulatorMessage, { type: T }>);
      };
      simulatorProcess.on('message', onMessage);
    });
  const progress = async () => {
    const answer = simulatorMessage('progress');
    simulatorProcess.send({ type: 'progress' });
    return answer;
  };
  const { baseUrl } = await simulatorMessage('ready');

  const scratch = await mkdtemp(join(tmpdir(), 'zoho-sync-measure-'));
  const connectionFile = join(scratch, 'measure.json');
  await writeFile(
    connectionFile,
    JSON.stringify({
      connectionId: 'measure',
      dataCenter: 'com',
      ...CLIENT,
      booksOrganizationId: ORGANIZATION_ID,
      plan: 'professional',
      rateLimit: { requests: budget, windowSeconds },
      webhookSecret: WEBHOOK_SECRET,
    }),
  );
  const local: ChildProcess = spawn(
    process.execPath,
    [
      '--import',
      TSX_LOADER,
      START,
      '--zoho',
      baseUrl,
      '--connection',
      connectionFile,
      '--port',
      '0',
      '--sweep-every',
      '0',
      ...(values.concurrency === undefined ? [] : ['--concurrency', values.concurrency]),
    ],
    {
      cwd: scratch,
      env: {
        ...process.env,
        TSX_TSCONFIG_PATH: join(REPO_ROOT, 'tsconfig.json'),
        POWERTOOLS_LOG_LEVEL: 'ERROR',
        POWERTOOLS_METRICS_DISABLED: 'true',
      },
      stdio: ['ignore', 'ignore', 'inherit'],
    },
  );
  let exited = false;
  local.on('exit', () => {
    exited = true;
  });
  try {
    const startedAt = Date.now();
    let state: LocalState | undefined;
    while (state === undefined) {
      if (exited) throw new Error('npm start exited before it was ready');
      if (Date.now() - startedAt > 180_000) throw new Error('npm start was not ready within 180 s');
      state = await readLocalState(localStatePath(join(scratch, '.zoho-sync'))).catch(
        () => undefined,
      );
      if (state === undefined) await sleep(200);
    }
    const children = await childrenOf(local.pid ?? 0);
    const workerPid = children.find((child) => child.argv.includes('sync-worker'))?.pid;
    const apiPid = children.find((child) => child.argv.includes('webhook'))?.pid;
    console.log(
      `npm start ready in ${Date.now() - startedAt} ms (webhook process ${apiPid}, worker process ${workerPid}); sending ${webhooks} webhooks at ${perSecond}/s`,
    );

    const url = new URL(state.webhookUrl);
    const agent = new Agent({ keepAlive: true, maxSockets: 64 });
    const post = (id: string) =>
      new Promise<number>((resolve) => {
        const body = `module=Accounts&id=${id}`;
        const outgoing = request(
          {
            agent,
            host: url.hostname,
            port: url.port,
            path: url.pathname,
            method: 'POST',
            headers: {
              [state.webhookTokenHeader]: WEBHOOK_SECRET,
              'content-type': 'application/x-www-form-urlencoded',
              'content-length': Buffer.byteLength(body),
            },
          },
          (response) => {
            response.resume();
            response.on('end', () => resolve(response.statusCode ?? 0));
          },
        );
        outgoing.on('error', () => resolve(0));
        outgoing.end(body);
      });

    const loadBefore = loadavg();
    const apiCpuBefore = cpuMsOf(apiPid);
    const workerCpuBefore = cpuMsOf(workerPid);
    const latencies: number[] = [];
    const statuses = new Map<number, number>();
    const burstStart = performance.now();
    const sends: Promise<void>[] = [];
    for (const [index, id] of accountIds(webhooks).entries()) {
      const due = burstStart + (index * 1000) / perSecond;
      const wait = due - performance.now();
      if (wait > 0) await sleep(wait);
      sends.push(
        (async () => {
          const sentAt = performance.now();
          const status = await post(id);
          latencies.push(performance.now() - sentAt);
          statuses.set(status, (statuses.get(status) ?? 0) + 1);
        })(),
      );
    }
    await Promise.all(sends);
    const burstMs = performance.now() - burstStart;
    const apiCpuMs = (cpuMsOf(apiPid) ?? Number.NaN) - (apiCpuBefore ?? Number.NaN);
    const workerCpuMs = (cpuMsOf(workerPid) ?? Number.NaN) - (workerCpuBefore ?? Number.NaN);
    const loadAfter = loadavg();
    const atBurstEnd = await progress();
    agent.destroy();

    let drainMs: number | undefined;
    let last = atBurstEnd;
    if (drainTimeoutMs > 0) {
      const drainStart = Date.now();
      while (last.synced < webhooks && Date.now() - drainStart < drainTimeoutMs) {
        await sleep(500);
        last = await progress();
      }
      if (last.synced >= webhooks) drainMs = burstMs + (Date.now() - drainStart);
    }
    const sorted = [...latencies].sort((a, b) => a - b);
    const format = (ms: number) => `${ms.toFixed(1)} ms`;
    console.log(
      [
        '',
        `webhook acks: ${latencies.length} sent in ${(burstMs / 1000).toFixed(1)} s (${(latencies.length / (burstMs / 1000)).toFixed(0)}/s), statuses ${JSON.stringify(Object.fromEntries(statuses))}`,
        `  p50 ${format(percentile(sorted, 50))}  p95 ${format(percentile(sorted, 95))}  p99 ${format(percentile(sorted, 99))}  max ${format(sorted.at(-1) ?? Number.NaN)}`,
        `CPU during the burst: webhook process ${apiCpuMs.toFixed(0)} ms (${(apiCpuMs / webhooks).toFixed(2)} ms per webhook), worker process ${workerCpuMs.toFixed(0)} ms`,
        `worker while the burst ran: ${atBurstEnd.synced} of ${webhooks} accounts synced by its end`,
        drainTimeoutMs > 0
          ? `drain: ${drainMs === undefined ? `not done after ${drainTimeoutMs / 1000} s (${last.synced} synced)` : `${(drainMs / 1000).toFixed(1)} s from the first webhook to the last Books contact`} (budget ${budget} per ${windowSeconds} s, physical limit ${((webhooks / budget) * windowSeconds).toFixed(0)} s; Books 429s: ${last.tooManyRequests})`
          : 'drain: not waited for',
        `machine: ${cpus().length} CPUs, load average (1/5/15 min) before ${loadBefore.map((n) => n.toFixed(2)).join('/')}, after ${loadAfter.map((n) => n.toFixed(2)).join('/')}`,
        '',
      ].join('\n'),
    );
  } finally {
    if (!exited) {
      local.kill('SIGINT');
      await new Promise((resolve) => local.once('exit', resolve));
    }
    simulatorProcess.disconnect();
    await rm(scratch, { recursive: true, force: true });
  }
};

main().catch((error: unknown) => {
  console.error(`measure failed: ${error instanceof Error ? error.stack : String(error)}`);
  process.exit(1);
});
