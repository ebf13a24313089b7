/**
 * `npm run bench`: the request budget against a naive client, side by side in one run.
 *
 * Both sides drive the real worker code (createSyncWorkerDeps + handleSyncMessage in a
 * Powertools BatchProcessor, one set of clients per container) through the local SQS poller,
 * against the Zoho simulator with a compressed window (default 100 requests per 6 s) that the
 * simulator enforces with 429s. `zoho-sync` uses the DynamoDB request budget of lib/limits;
 * `naive` has no budget and retries every 429 after a pause. Prints one table and writes the
 * figures to .zoho-sync/bench.json. Not a test: it reports what it measured. Each case prints its
 * table as soon as it ends (the window-modes sides together, side by side) and rewrites
 * bench.json, so a run stopped part-way still reports; a failing case does not stop the others.
 *
 * Cases: `window-modes` (zoho-sync against a sliding minute and a fixed minute at a random
 * offset, side by side), `naive` (the baseline without a budget, epoch-aligned fixed minute),
 * `zoho-sync` (the budget against the epoch-aligned minute) and `scale-model` (a simulation of
 * 200 organizations and 1,000 containers against the budget item's rules, no AWS).
 * `backfill` runs `zoho-sync backfill` (lib/backfill) over records that exist in CRM before
 * zoho-sync and compares its drain time with what its share of the budget allows; `intake`
 * (lib/bench/bench-intake.ts) measures what one change costs when it arrives by webhook,
 * notification and sweep. Default: every case.
 *
 * Defaults keep a plain `npm run bench` to a few minutes on a quiet 2-core machine: 300 changes
 * per side, 18 s of physical limit each with the 6 s window (800 made a plain run exceed 500 s).
 * For the 600-change burst pass `--changes 600` with `--only <case>`.
 *
 * Options: --changes N --budget N --window-seconds N --workers N --batch-size N
 *          --max-concurrency N --latency-ms N --only <case>[,<case>...]
 *          --backfill-records N --share F --intake-records N --intake-delay-seconds N
 */
import { mkdir, writeFile } from 'node:fs/promises';
import { parseArgs } from 'node:util';
import { createAwsClients } from '../aws';
import { standInEnvironment, startAwsStandIns } from '../local/aws-stand-ins';
import { startZohoSimulator } from '../local/zoho-simulator';
import { logger } from '../observability';
import {
  BACKFILL_GOAL,
  type BackfillBenchFigures,
  type BackfillBenchParameters,
  runBackfillBench,
} from './backfill-bench';
import { type IntakeBenchFigures, runIntakeBench } from './bench-intake';
import { BENCH_GOALS, benchRows, checkGoals, renderIntakeTable, renderTable } from './bench-report';
import {
  type BenchParameters,
  type BenchSideFigures,
  type BenchSideName,
  runBenchSide,
} from './bench-side';
import {
  ON_DEMAND_USD_PER_MILLION_WRITES,
  PARTITION_WCU_PER_SECOND,
  runScaleModel,
} from './scale-model';

const STATE_DIR = '.zoho-sync';

/** The scale model: 200 organizations and 1,000 containers, two simulated minutes. */
const printScaleModel = (): void => {
  let seed = 42;
  const random = () => {
    seed = (seed * 1_103_515_245 + 12_345) % 2_147_483_648;
    return seed / 2_147_483_648;
  };
  const figures = runScaleModel({
    organizations: 200,
    containers: 1_000,
    budget: 100,
    windowMs: 60_000,
    maxInFlight: 5,
    clockSkewMs: 200,
    holdMs: 5_000,
    transitMs: 1_000,
    callMs: 300,
    writeLatencyMs: 10,
    durationMs: 180_000,
    bytesPerSlot: 22,
    random,
  });
  console.log(
    '\nscale model (simulation, not AWS): 200 organizations x budget 100 per 60 s, 1,000 containers, ' +
      '5 in flight per organization, 300 ms per Zoho call, 10 ms per DynamoDB write, 3 simulated minutes\n',
  );
  console.log(
    renderTable([
      ['', 'scale model', 'limit'],
      ['Books calls', String(figures.booksCalls), ''],
      ['utilization of the budget', figures.utilization.toFixed(3), ''],
      ['conditional-write conflicts / Books call', figures.conflictsPerBooksCall.toFixed(3), ''],
      ['DynamoDB writes / Books call', figures.writesPerBooksCall.toFixed(2), '<= 2'],
      ['write units per write (item size)', String(figures.wcuPerWrite), ''],
      [
        'DynamoDB cost / million Books calls',
        `$${figures.costPerMillionBooksCallsUsd.toFixed(2)}`,
        `on-demand $${ON_DEMAND_USD_PER_MILLION_WRITES} / million WRU`,
      ],
      [
        'write units / s per budget item (mean, max)',
        `${figures.meanWcuPerSecondPerItem.toFixed(1)}, ${figures.maxWcuPerSecondPerItem}`,
        `${PARTITION_WCU_PER_SECOND} per partition`,
      ],
    ]),
  );
};

const main = async (): Promise<void> => {
  const { values } = parseArgs({
    options: {
      changes: { type: 'string', default: '300' },
      budget: { type: 'string', default: '100' },
      'window-seconds': { type: 'string', default: '6' },
      workers: { type: 'string', default: '10' },
      'batch-size': { type: 'string', default: '10' },
      'max-concurrency': { type: 'string', default: '10' },
      'latency-ms': { type: 'string', default: '50' },
      only: { type: 'string' },
      'backfill-records': { type: 'string', default: '400' },
      share: { type: 'string', default: '0.5' },
      'intake-records': { type: 'string', default: '200' },
      'intake-delay-seconds': { type: 'string', default: '2' },
    },
  });
  const parameters: BenchParameters = {
    changes: Number(values.changes),
    budget: Number(values.budget),
    windowSeconds: Number(values['window-seconds']),
    workers: Number(values.workers),
    batchSize: Number(values['batch-size']),
    maxConcurrency: Number(values['max-concurrency']),
    latencyMs: Number(values['latency-ms']),
    naivePauseMs: 1_000,
    timeoutMs: 150_000,
  };
  const cases = (values.only ?? 'window-modes,naive,scale-model,backfill,intake')
    .split(',')
    .map((name) => name.trim());
  const sides: BenchSideName[] = cases.flatMap((name): BenchSideName[] =>
    name === 'window-modes'
      ? ['sliding', 'fixed-random']
      : name === 'zoho-sync' || name === 'naive'
        ? [name]
        : [],
  );
  if (cases.includes('scale-model')) printScaleModel();
  const runBackfillCase = cases.includes('backfill');
  const runIntakeCase = cases.includes('intake');
  const backfillParameters: BackfillBenchParameters = {
    records: Number(values['backfill-records']),
    share: Number(values.share),
    budget: parameters.budget,
    windowSeconds: parameters.windowSeconds,
    workers: parameters.workers,
    batchSize: parameters.batchSize,
    maxConcurrency: parameters.maxConcurrency,
    timeoutMs: 300_000,
  };
  let backfill: BackfillBenchFigures | undefined;
  let intake: IntakeBenchFigures | undefined;

  // The table is the output: per-record logs would drown it.
  logger.setLogLevel('ERROR');
  process.removeAllListeners('warning');

  const startedAt = Date.now();
  if (sides.length === 0 && !runBackfillCase && !runIntakeCase) return;
  const figures: BenchSideFigures[] = [];
  let goals: Record<string, boolean>[] | undefined;
  const failures: string[] = [];
  // Rewritten after every case, so a run stopped part-way still leaves what it measured.
  const writeReport = async () => {
    await mkdir(STATE_DIR, { recursive: true });
    await writeFile(
      `${STATE_DIR}/bench.json`,
      `${JSON.stringify(
        {
          ranAt: new Date(startedAt).toISOString(),
          parameters,
          goals: BENCH_GOALS,
          goalsMet: goals,
          sides: figures,
          ...(backfill === undefined
            ? {}
            : { backfill: { parameters: backfillParameters, figures: backfill } }),
          ...(intake === undefined ? {} : { intake }),
          ...(failures.length === 0 ? {} : { failures }),
        },
        null,
        2,
      )}\n`,
    );
  };
  /** One case's failure is reported and the others still run; the exit code says so. */
  const runCase = async (name: string, run: () => Promise<void>) => {
    process.stderr.write(`bench: running ${name} ...\n`);
    try {
      await run();
    } catch (error) {
      failures.push(`${name}: ${error instanceof Error ? error.message : String(error)}`);
      console.error(
        `\nbench case ${name} failed: ${error instanceof Error ? error.stack : String(error)}`,
      );
    }
    await writeReport();
  };

  const standIns = await startAwsStandIns();
  const standInEnv = standInEnvironment(standIns.endpoints);
  Object.assign(process.env, standInEnv);
  const simulator = await startZohoSimulator({ latencyMs: parameters.latencyMs });
  try {
    const clients = createAwsClients({ region: 'us-east-1' });
    if (sides.length > 0) {
      console.log(
        `\nzoho-sync benchmark: ${parameters.changes} changes, budget ${parameters.budget} requests per ${parameters.windowSeconds} s window, ` +
          `${parameters.workers} workers x batch ${parameters.batchSize}, Zoho latency ${parameters.latencyMs} ms, ` +
          `max ${parameters.maxConcurrency} in flight (physical limit ${parameters.changes} / ${parameters.budget} x ${parameters.windowSeconds} s)\n`,
      );
    }
    for (const side of sides) {
      await runCase(side, async () => {
        figures.push(await runBenchSide({ simulator, clients, standInEnv, parameters }, side));
      });
    }
    if (figures.length > 0) {
      // The sides print together, as one side-by-side table, once the last of them ends.
      console.log(renderTable(benchRows(parameters, figures)));
      const ours = figures.filter((side) => side.side !== 'naive');
      goals = ours.length === 0 ? undefined : ours.map(checkGoals);
      ours.forEach((side, index) => {
        console.log(
          `\ngoals (${side.side}): ${Object.entries(goals?.[index] ?? {})
            .map(([goal, met]) => `${goal} ${met ? 'met' : 'NOT met'}`)
            .join(', ')}`,
        );
      });
      await writeReport();
    }
    if (runBackfillCase) {
      await runCase('backfill', async () => {
        const measured = await runBackfillBench(
          { simulator, clients, standInEnv },
          backfillParameters,
        );
        backfill = measured;
        console.log(
          `\nbackfill: ${measured.records} CRM records, --share ${backfillParameters.share} of ${parameters.budget} per ${parameters.windowSeconds} s window: ` +
            `synced ${measured.synced}, drain ${(measured.drainMs / 1000).toFixed(1)} s vs physical limit ${(measured.physicalLimitMs / 1000).toFixed(1)} s ` +
            `= ${measured.drainOverPhysical.toFixed(3)} (goal <= ${BACKFILL_GOAL.maxDrainOverPhysical}), ` +
            `${measured.booksCalls} Books calls (${measured.booksCallsPerRecord.toFixed(3)}/record), ${measured.tooManyRequests} x 429, ` +
            `max ${measured.maxCallsInAnyWindow} calls in a window: goals ${measured.goalsMet ? 'met' : 'NOT met'}`,
        );
      });
    }
    if (runIntakeCase) {
      await runCase('intake', async () => {
        const measured = await runIntakeBench(
          { simulator, clients, standInEnv },
          {
            records: Number(values['intake-records']),
            workers: parameters.workers,
            batchSize: parameters.batchSize,
            intakeDelaySeconds: Number(values['intake-delay-seconds']),
            latencyMs: parameters.latencyMs,
            timeoutMs: 300_000,
          },
        );
        intake = measured;
        console.log(
          `\nintake: ${measured.records} records changed (${measured.announced} by webhook + notification, ${measured.burstEdited} of them edited 3 times, ${measured.silent} with no event), ` +
            `${measured.events} events, then ${measured.repeatWebhooks} webhooks for unchanged records; ${parameters.workers} workers x batch ${parameters.batchSize}, intake delay ${values['intake-delay-seconds']} s\n`,
        );
        console.log(renderIntakeTable(measured));
      });
    }
  } finally {
    await simulator.stop();
    await standIns.stop();
  }
  console.log(`run time ${((Date.now() - startedAt) / 1000).toFixed(0)} s`);
  await writeReport();
  if (failures.length > 0)
    throw new Error(`${failures.length} case(s) failed: ${failures.join('; ')}`);
};

main().then(
  () => process.exit(0),
  (error: unknown) => {
    console.error(`bench failed: ${error instanceof Error ? error.stack : String(error)}`);
    process.exit(1);
  },
);
