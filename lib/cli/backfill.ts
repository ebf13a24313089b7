import type { BackfillProgress, BackfillResult } from '../backfill';
import { SYNCED_CRM_MODULES, type SyncedCrmModule, toSyncedCrmModule } from '../sync/crm-modules';
import { type CliIo, formatCount, formatDuration, painter, UsageError } from './cli-io';

/** `--module Accounts,Contacts`: API names or the aliases workflow webhooks accept. */
export const parseModules = (value: string | undefined): SyncedCrmModule[] => {
  if (value === undefined) return [...SYNCED_CRM_MODULES];
  const modules = value
    .split(',')
    .map((name) => name.trim())
    .filter((name) => name !== '')
    .map((name) => {
      const module = toSyncedCrmModule(name);
      if (module === undefined) {
        throw new UsageError(`unknown module ${name}: use ${SYNCED_CRM_MODULES.join(', ')}`);
      }
      return module;
    });
  if (modules.length === 0) throw new UsageError('--module names no module');
  return [...new Set(modules)];
};

export const parseSince = (value: string | undefined): number | undefined => {
  if (value === undefined) return undefined;
  const ms = Date.parse(value);
  if (Number.isNaN(ms)) throw new UsageError(`--since ${value} is not a date (e.g. 2026-01-31)`);
  return ms;
};

export const parseShare = (value: string | undefined): number => {
  const share = value === undefined ? 0.5 : Number(value);
  if (!(share > 0 && share <= 1)) throw new UsageError('--share must be above 0 and at most 1');
  return share;
};

/** "12,400 records; 100/min; 4,100 calls left today: about 2 days" */
export const describeEta = (progress: BackfillProgress): string => {
  const { eta } = progress;
  const perMinute = eta.perMinute >= 10 ? Math.round(eta.perMinute) : eta.perMinute.toFixed(1);
  return `${formatCount(eta.remaining)} records left; ${perMinute}/min; ${formatCount(eta.callsLeftToday)} calls left today: about ${formatDuration(eta.etaMs)}`;
};

const bar = (done: number, total: number, width = 24): string => {
  const filled = total === 0 ? width : Math.round((done / total) * width);
  return `[${'#'.repeat(filled)}${'-'.repeat(width - filled)}]`;
};

export const progressLine = (progress: BackfillProgress, io: CliIo): string => {
  const paint = painter(io);
  const ended = progress.synced + progress.skipped + progress.failed;
  const counts = `found ${formatCount(progress.found)}${progress.paged ? '' : '+'}, queued ${formatCount(progress.found)}, synced ${formatCount(progress.synced)}, skipped ${formatCount(progress.skipped)}, failed ${progress.failed > 0 ? paint('red', formatCount(progress.failed)) : '0'}`;
  return io.isTTY
    ? `${bar(ended, progress.found)} ${counts} | ${describeEta(progress)}`
    : `${counts}; ${describeEta(progress)}`;
};

export const renderBackfillResult = (
  result: BackfillResult,
  io: CliIo,
  command: { readonly connectionId: string; readonly wait: boolean },
): string => {
  const paint = painter(io);
  const lines = [progressLine(result, io)];
  if (result.interrupted) {
    lines.push(
      paint(
        'yellow',
        'Interrupted. The checkpoint is kept: run the same command again to carry on.',
      ),
    );
  } else if (!command.wait) {
    lines.push(
      `Queued ${formatCount(result.found)} record(s) (run ${result.runId}); the worker syncs them at the --share of the budget. Run the same command to watch them finish, or zoho-sync status --connection ${command.connectionId}.`,
    );
  } else if (result.failed > 0) {
    lines.push(
      paint(
        'red',
        `${formatCount(result.failed)} record(s) failed and were dead-lettered: zoho-sync dlq list --connection ${command.connectionId}`,
      ),
    );
  } else {
    lines.push(paint('green', `Done: every record found is in Books (run ${result.runId}).`));
  }
  return lines.join('\n');
};
