import type { DoctorReport } from '../doctor/run-doctor';
import { type CliIo, painter } from './cli-io';

const LABELS = { pass: 'PASS', fail: 'FAIL', warn: 'WARN', skip: 'SKIP' } as const;
const COLOURS = { pass: 'green', fail: 'red', warn: 'yellow', skip: 'dim' } as const;

/** The doctor's checklist as text: one line per check, failures with their fix. */
export const renderDoctorReport = (report: DoctorReport, io: CliIo): string => {
  const paint = painter(io);
  const width = Math.max(...report.checks.map((check) => check.title.length));
  const lines = [paint('bold', `zoho-sync doctor: connection ${report.connectionId}`), ''];
  for (const check of report.checks) {
    lines.push(
      `  ${paint(COLOURS[check.status], LABELS[check.status])}  ${check.title.padEnd(width)}  ${check.detail}`,
    );
    if (check.fix !== undefined) {
      lines.push(
        `        ${' '.repeat(width)}  ${paint('cyan', 'fix:')} ${check.fix}${check.entryId === undefined ? '' : ` [${check.entryId}]`}`,
      );
    }
  }
  lines.push(
    '',
    `Token refreshes spent: ${report.tokenRefreshes} (Zoho allows 10 per 10 minutes). Books calls: ${report.booksCalls}, all through the request budget.`,
    report.failed === 0
      ? paint('green', 'All checks passed.')
      : paint('red', `${report.failed} check(s) failed.`),
  );
  return lines.join('\n');
};
