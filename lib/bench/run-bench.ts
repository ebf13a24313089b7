/**
 * `npm run bench`: the request budget against a naive client, side by side in one run.
 *
 * Both sides drive the real worker code (createSyncWorkerDeps + handleSyncMessage in a
 * Powertools BatchProcessor, one set of clients per container) through the local SQS poller,
 * against the Zoho simulator with a compressed window (default 100 requests per 6 s) that the
 * simulator enforces with 429s. `zoho-sync` uses the DynamoDB request budget of lib/limits;
 * `naive` has no budget and retries every 429 after a pause. Prints one table and writes the
 * figures to .zoho-sync/bench.json. Not a test: it reports what it measured.
 *
 * A third case, `backfill`, runs `zoho-sync backfill` (lib/backfill) over records that exist in
 * CRM before zoho-sync and compares its drain time with what its share of the budget allows.
 *
 * A fourth case, `intake` (lib/bench/bench-intake.ts), measures what one change costs when it
 * arrives by webhook, notification and sweep, with bursts of edits and repeated webhooks.
 *
 * Options: --changes N --budget N --window-seconds N --workers N --batch-size N
 *          --max-concurrency N --latency-ms N --only zoho-sync|naive|backfill|intake
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

const STATE_DIR = '.zoho-sync';

const main = async (): Promise<void> => {
  const { values } = parseArgs({
    options: {
      changes: { type: 'string', default: '800' },
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
  const sides: BenchSideName[] =
    values.only === 'zoho-sync' || values.only === 'naive'
      ? [values.only]
      : values.only === 'backfill' || values.only === 'intake'
        ? []
        : ['zoho-sync', 'naive'];
  const runBackfillCase = values.only === undefined || values.only === 'backfill';
  const runIntakeCase = values.only === undefined || values.only === 'intake';
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
  const standIns = await startAwsStandIns();
  const standInEnv = standInEnvironment(standIns.endpoints);
  Object.assign(process.env, standInEnv);
  const simulator = await startZohoSimulator({ latencyMs: parameters.latencyMs });
  const figures: BenchSideFigures[] = [];
  try {
    const clients = createAwsClients({ region: 'us-east-1' });
    for (const side of sides) {
      process.stderr.write(`bench: running ${side} ...\n`);
      figures.push(await runBenchSide({ simulator, clients, standInEnv, parameters }, side));
    }
    if (runBackfillCase) {
      process.stderr.write('bench: running backfill ...\n');
      backfill = await runBackfillBench({ simulator, clients, standInEnv }, backfillParameters);
    }
    if (runIntakeCase) {
      process.stderr.write('bench: running intake ...\n');
      intake = await runIntakeBench(
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
    }
  } finally {
    await simulator.stop();
    await standIns.stop();
  }

  console.log(
    `\nzoho-sync benchmark: ${parameters.changes} changes, budget ${parameters.budget} requests per ${parameters.windowSeconds} s window, ` +
      `${parameters.workers} workers x batch ${parameters.batchSize}, Zoho latency ${parameters.latencyMs} ms, ` +
      `max ${parameters.maxConcurrency} in flight (physical limit ${parameters.changes} / ${parameters.budget} x ${parameters.windowSeconds} s)\n`,
  );
  if (figures.length > 0) console.log(renderTable(benchRows(parameters, figures)));
  const ours = figures.find((side) => side.side === 'zoho-sync');
  const goals = ours === undefined ? undefined : checkGoals(ours);
  if (goals !== undefined) {
    console.log(
      `\ngoals (zoho-sync): ${Object.entries(goals)
        .map(([goal, met]) => `${goal} ${met ? 'met' : 'NOT met'}`)
        .join(', ')}`,
    );
  }
  if (backfill !== undefined) {
    console.log(
      `\nbackfill: ${backfill.records} CRM records, --share ${backfillParameters.share} of ${parameters.budget} per ${parameters.windowSeconds} s window: ` +
        `synced ${backfill.synced}, drain ${(backfill.drainMs / 1000).toFixed(1)} s vs physical limit ${(backfill.physicalLimitMs / 1000).toFixed(1)} s ` +
        `= ${backfill.drainOverPhysical.toFixed(3)} (goal <= ${BACKFILL_GOAL.maxDrainOverPhysical}), ` +
        `${backfill.booksCalls} Books calls (${backfill.booksCallsPerRecord.toFixed(3)}/record), ${backfill.tooManyRequests} x 429, ` +
        `max ${backfill.maxCallsInAnyWindow} calls in a window: goals ${backfill.goalsMet ? 'met' : 'NOT met'}`,
    );
  }
  if (intake !== undefined) {
    console.log(
      `\nintake: ${intake.records} records changed (${intake.announced} by webhook + notification, ${intake.burstEdited} of them edited 3 times, ${intake.silent} with no event), ` +
        `${intake.events} events, then ${intake.repeatWebhooks} webhooks for unchanged records; ${parameters.workers} workers x batch ${parameters.batchSize}, intake delay ${values['intake-delay-seconds']} s\n`,
    );
    console.log(renderIntakeTable(intake));
  }
  console.log(`run time ${((Date.now() - startedAt) / 1000).toFixed(0)} s`);

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
      },
      null,
      2,
    )}\n`,
  );
};

main().then(
  () => process.exit(0),
  (error: unknown) => {
    console.error(`bench failed: ${error instanceof Error ? error.stack : String(error)}`);
    process.exit(1);
  },
);
