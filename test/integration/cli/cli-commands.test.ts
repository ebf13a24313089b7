import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type CliRun, runLocalCli, writeLocalState } from '../../helpers/cli';
import { CONNECTION_ID, type Pipeline, startPipeline } from '../../helpers/pipeline';

const run = promisify(execFile);

describe('zoho-sync CLI against local mode', () => {
  let pipeline: Pipeline;
  let stateFile: string;
  const cli = (...args: string[]): Promise<CliRun> => runLocalCli(stateFile, args);

  beforeAll(async () => {
    pipeline = await startPipeline();
    stateFile = await writeLocalState(pipeline);
  });
  afterAll(async () => {
    await pipeline.stop();
  });

  it('answers --help on every command with exit 0, and usage errors with exit 2', async () => {
    for (const command of [
      [],
      ['status'],
      ['channels', 'list'],
      ['channels', 'renew'],
      ['dlq', 'list'],
      ['breaker', 'status'],
      ['redrive'],
      ['setup'],
    ]) {
      const result = await cli(...command, '--help');
      expect(result.code, command.join(' ')).toBe(0);
      expect(result.out).toContain('Usage: zoho-sync');
    }
    expect((await cli('no-such-command')).code).toBe(2);
    expect((await cli('breaker', 'status')).code).toBe(2); // --connection is mandatory
    const redrive = await cli('redrive', '--connection', CONNECTION_ID);
    expect(redrive.code).toBe(2);
    expect(redrive.err).toContain('either --message');
  });

  it('status --json reports quota, budget, breaker, queue, deferred, parked, DLQ, channel, sweep', async () => {
    const send = await pipeline.send('module=Accounts&id=4000000000001');
    expect(send.statusCode).toBe(202);
    const before = await cli('status', '--connection', CONNECTION_ID, '--json');
    expect(before.code).toBe(0);
    const queued = JSON.parse(before.out);
    expect(queued.queue.visible).toBe(1);
    expect(queued.queue.oldestMessageAgeSeconds).toBeUndefined();
    expect(queued.queue.oldestMessageAgeSource).toContain('ApproximateAgeOfOldestMessage');
    const [connection] = queued.connections;
    expect(connection).toMatchObject({
      connectionId: CONNECTION_ID,
      found: true,
      quota: { used: 0, limit: 5000 },
      budget: { used: 0, limit: 100 },
      breaker: { state: 'closed' },
      deferred: 0,
      parked: 0,
      channel: null,
      lastSweepAtMs: null,
    });

    pipeline.simulator.putCrmRecord('Accounts', {
      id: '4000000000001',
      Account_Name: 'Zylker Traders',
    });
    await pipeline.drain();
    const after = JSON.parse((await cli('status', '--json')).out);
    expect(after.queue.visible).toBe(0);
    expect(after.connections[0].quota.used).toBe(1);
    expect(after.connections[0].budget.used).toBeGreaterThanOrEqual(1);

    const text = await cli('status');
    expect(text.code).toBe(0);
    expect(text.out).toContain(`Connection ${CONNECTION_ID}`);
    expect(text.out).toContain('quota today');
    expect(text.out).toContain('1 / 5,000 Books calls');
    expect(text.out).toContain('breaker: closed');
    expect(text.out).toContain('notification channel: none');
    // No colour codes off a terminal.
    expect(text.out).not.toContain('\u001b[');
  });

  it('channels renew enables the channel at Zoho, and channels list shows both sides', async () => {
    const empty = JSON.parse((await cli('channels', 'list', '--json')).out);
    expect(empty[0]).toMatchObject({
      connectionId: CONNECTION_ID,
      stored: null,
      needsRenewal: true,
    });

    const renewed = await cli('channels', 'renew', '--connection', CONNECTION_ID);
    expect(renewed.code).toBe(0);
    expect(renewed.out).toContain('renewed (missing)');
    expect(pipeline.simulator.notificationChannels()).toHaveLength(1);

    const again = await cli('channels', 'renew', '--connection', CONNECTION_ID, '--json');
    expect(JSON.parse(again.out)).toMatchObject({ fresh: 1, renewed: 0 });
    const forced = await cli('channels', 'renew', '--connection', CONNECTION_ID, '--force');
    expect(forced.out).toContain('renewed (requested)');

    const listing = JSON.parse((await cli('channels', 'list', '--json')).out)[0];
    expect(listing.needsRenewal).toBe(false);
    expect(listing.stored.expiresAtMs).toBeGreaterThan(Date.now() + 6 * 86_400_000);
    expect(listing.atZoho.map((entry: { module: string }) => entry.module).sort()).toEqual([
      'Accounts',
      'Contacts',
      'Deals',
      'Products',
      'Sales_Orders',
    ]);
    const status = JSON.parse((await cli('status', '--json')).out);
    expect(status.connections[0].channel.channelId).toBe(listing.channelId);
  });

  it('keeps the ported commands: breaker status, dlq list, with --json', async () => {
    const breaker = await cli('breaker', 'status', '--connection', CONNECTION_ID, '--json');
    expect(JSON.parse(breaker.out)).toEqual({ state: 'closed', parkedMessages: 0 });
    const dlq = await cli('dlq', 'list');
    expect(dlq.out).toContain('The dead-letter queue is empty.');
    expect(JSON.parse((await cli('dlq', 'list', '--json')).out)).toEqual([]);
    const missing = await cli('dlq', 'explain', 'no-such-message');
    expect(missing.code).toBe(1);
  });

  it('reads the older state file with the connection keys at the top level', async () => {
    const older = await writeLocalState(pipeline, { topLevelOnly: true });
    const result = await runLocalCli(older, ['status', '--json']);
    expect(result.code).toBe(0);
    expect(JSON.parse(result.out).connections[0].connectionId).toBe(CONNECTION_ID);
  });

  it('runs as the package bin (npx zoho-sync) with the same exit codes', async () => {
    const result = await run(
      process.execPath,
      ['bin/zoho-sync.mjs', '--local', '--state-file', stateFile, 'status', '--json'],
      { env: { ...process.env } },
    );
    expect(JSON.parse(result.stdout).connections[0].connectionId).toBe(CONNECTION_ID);
    await expect(
      run(process.execPath, ['bin/zoho-sync.mjs', 'status', '--no-such-flag']),
    ).rejects.toMatchObject({ code: 2 });
  });
});
