import { type ChildProcess, spawn } from 'node:child_process';
import { once } from 'node:events';
import { setTimeout as sleep } from 'node:timers/promises';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { backfillRunKey, createBackfillStore } from '../../../lib/backfill';
import { type SqsPoller, startSqsPoller } from '../../../lib/local/sqs-poller';
import { crmAccount, crmProduct } from '../../../lib/local/zoho-simulator';
import { runLocalCli, writeLocalState } from '../../helpers/cli';
import { CONNECTION_ID, ORG_ID, type Pipeline, startPipeline } from '../../helpers/pipeline';

/**
 * N records, a Books budget compressed to 200 calls per 2-second window (the simulator enforces
 * the same window with 429s), and the default share 0.5: the backfill may take 100 calls per
 * window, so N = 1,000 drains in about 20 s at the share's physical limit.
 */
const N = 1_000;
const WINDOW_SECONDS = 2;
const BUDGET = 200;
// The default --share 0.5 of each window.
const SHARE_PER_WINDOW = BUDGET / 2;

const spawnCli = (
  stateFile: string,
  args: readonly string[],
): ChildProcess & { output: () => string } => {
  const child = spawn(
    process.execPath,
    ['bin/zoho-sync.mjs', '--local', '--state-file', stateFile, ...args],
    { env: { ...process.env }, stdio: ['ignore', 'pipe', 'pipe'] },
  );
  let output = '';
  child.stdout?.on('data', (chunk: Buffer) => {
    output += chunk.toString();
  });
  child.stderr?.on('data', (chunk: Buffer) => {
    output += chunk.toString();
  });
  return Object.assign(child, { output: () => output });
};

const exitCodeOf = async (child: ChildProcess): Promise<number | null> => {
  if (child.exitCode !== null) return child.exitCode;
  const [code] = (await once(child, 'exit')) as [number | null];
  return code;
};

describe('zoho-sync backfill', () => {
  let pipeline: Pipeline;
  let stateFile: string;
  let poller: SqsPoller;

  beforeAll(async () => {
    pipeline = await startPipeline({
      organization: { requestsPerWindow: BUDGET, windowSeconds: WINDOW_SECONDS },
      secret: { rateLimit: { requests: BUDGET, windowSeconds: WINDOW_SECONDS } },
    });
    stateFile = await writeLocalState(pipeline);
    const base = Date.parse('2025-01-01T00:00:00Z');
    for (let index = 0; index < N; index += 1) {
      // Pairs share a second, so keyset paging meets ties at page boundaries too.
      const modified = new Date(base + Math.floor(index / 2) * 1000).toISOString();
      pipeline.simulator.putCrmRecord(
        'Accounts',
        crmAccount(String(5_000_000_000_000 + index), {
          Modified_Time: modified.replace('.000Z', '+00:00'),
        }),
      );
    }
    pipeline.simulator.putCrmRecord('Products', crmProduct('6000000000001'));
    poller = startSqsPoller({
      sqs: pipeline.env.clients.sqs,
      queueUrl: pipeline.env.resources.syncQueueUrl,
      queueArn: pipeline.env.resources.syncQueueArn,
      handler: pipeline.worker,
      functionName: 'sync-worker',
      batchSize: 10,
      maxConcurrency: 8,
    });
  });
  afterAll(async () => {
    await poller?.stop();
    await pipeline.stop();
  });

  it('usage errors exit 2 before touching anything', async () => {
    const badModule = await runLocalCli(stateFile, [
      'backfill',
      '-c',
      CONNECTION_ID,
      '--module',
      'Leads',
    ]);
    expect(badModule.code).toBe(2);
    expect(badModule.err).toContain('unknown module Leads');
    expect(
      (await runLocalCli(stateFile, ['backfill', '-c', CONNECTION_ID, '--share', '1.5'])).code,
    ).toBe(2);
    expect(
      (await runLocalCli(stateFile, ['backfill', '-c', CONNECTION_ID, '--since', 'soon'])).code,
    ).toBe(2);
  });

  it(`interrupted with SIGINT and resumed, puts each of ${N} records in Books once, within budget, while a live webhook syncs`, async () => {
    pipeline.simulator.resetStats();
    const store = createBackfillStore({
      dynamodb: pipeline.env.clients.dynamodb,
      tableName: pipeline.env.resources.tableName,
      now: Date.now,
    });
    const runKey = backfillRunKey(['Accounts'], undefined);
    const ended = async () => {
      const checkpoint = await store.getCheckpoint(CONNECTION_ID, runKey);
      if (checkpoint === undefined) return { ended: 0, found: 0 };
      const counts = await store.countOutcomes(CONNECTION_ID, checkpoint.runId);
      return { ended: counts.synced + counts.skipped + counts.failed, found: checkpoint.found };
    };
    const args = ['backfill', '--connection', CONNECTION_ID, '--module', 'Accounts'];

    const first = spawnCli(stateFile, args);
    while ((await ended()).ended < N / 4) {
      expect(first.exitCode, first.output()).toBeNull();
      await sleep(200);
    }
    first.kill('SIGINT');
    expect(await exitCodeOf(first)).toBe(130);
    expect(first.output()).toContain('Interrupted');
    const atInterrupt = await ended();
    expect(atInterrupt.ended).toBeLessThan(N);
    const interruptedRun = await store.getCheckpoint(CONNECTION_ID, runKey);
    expect(interruptedRun?.found).toBeLessThan(N);
    // What Books held when the first run stopped: none of it may be written again after the resume.
    const beforeResume = new Map(
      pipeline.simulator.books
        .contacts(ORG_ID)
        .map((contact) => [String(contact.cf_crm_id), String(contact.last_modified_time)]),
    );
    expect(beforeResume.size).toBeGreaterThan(0);

    const second = spawnCli(stateFile, args);
    // A live change while the backfill runs: it must reach Books before the backfill ends.
    while ((await ended()).ended <= atInterrupt.ended) await sleep(100);
    const atSend = await ended();
    const send = await pipeline.send('module=Products&id=6000000000001');
    expect(send.statusCode).toBe(202);
    const sentAtMs = Date.now();
    while (pipeline.simulator.books.items(ORG_ID).length === 0) await sleep(100);
    const liveLatencyMs = Date.now() - sentAtMs;
    const atLiveSync = await ended();
    expect(atLiveSync.ended).toBeLessThan(N);
    // Within one window: no more than one window's share of backfill records ended while the
    // live change waited (counted in records, not timed).
    expect(atLiveSync.ended - atSend.ended).toBeLessThanOrEqual(SHARE_PER_WINDOW);

    expect(await exitCodeOf(second), second.output()).toBe(0);
    expect(second.output()).toContain('Done: every record found is in Books');

    const contacts = pipeline.simulator.books.contacts(ORG_ID);
    const crmIds = contacts.map((contact) => contact.cf_crm_id);
    expect(new Set(crmIds).size).toBe(N);
    expect(crmIds).toHaveLength(N);
    // Each record written once: created and never modified again, and what was in Books at the
    // interrupt is untouched (a resume that redid synced records would rewrite them seconds later).
    for (const contact of contacts) {
      expect(contact.last_modified_time, String(contact.cf_crm_id)).toBe(contact.created_time);
      const atStop = beforeResume.get(String(contact.cf_crm_id));
      if (atStop !== undefined) expect(contact.last_modified_time).toBe(atStop);
    }
    const stats = pipeline.simulator.stats().organizations[ORG_ID];
    const backfillCalls = (stats?.calls ?? 0) - 1; // less the live product's one upsert
    expect(stats?.tooManyRequests).toBe(0);
    expect(backfillCalls / N).toBeLessThanOrEqual(1.02);
    // No window ever held more than the budget.
    expect(stats?.maxCallsInAnyWindow).toBeLessThanOrEqual(BUDGET);
    process.stdout.write(
      `backfill test: ${N} records, ${backfillCalls} Books calls (${(backfillCalls / N).toFixed(3)}/record), ` +
        `0 x 429, max ${stats?.maxCallsInAnyWindow} calls in a ${WINDOW_SECONDS} s window, ` +
        `interrupted at ${atInterrupt.ended}, live webhook synced in ${liveLatencyMs} ms with ${N - atLiveSync.ended} backfill records pending\n`,
    );

    // The resume carried on the same run and queued each record once in all: a resume that
    // re-read CRM from the start (or started a new run) would queue synced records again. (Books
    // alone would not show it: the worker finds an unchanged record and makes no Books call.)
    const finished = await store.getCheckpoint(CONNECTION_ID, runKey);
    expect(finished?.runId).toBe(interruptedRun?.runId);
    expect(finished?.found).toBe(N);
    expect(await store.countOutcomes(CONNECTION_ID, finished?.runId ?? '')).toEqual({
      synced: N,
      skipped: 0,
      failed: 0,
    });

    // The same command again: nothing left to do, no Books call.
    const before = pipeline.simulator.stats().organizations[ORG_ID]?.calls ?? 0;
    const again = await runLocalCli(stateFile, [...args, '--json']);
    expect(again.code).toBe(0);
    expect(JSON.parse(again.out)).toMatchObject({ found: N, synced: N, failed: 0, pending: 0 });
    expect(pipeline.simulator.stats().organizations[ORG_ID]?.calls ?? 0).toBe(before);
  }, 180_000);
});
