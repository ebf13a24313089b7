import type { IntakeBenchFigures } from './bench-intake';
import type { BenchParameters, BenchSideFigures } from './bench-side';

/** The benchmark's goals (issue 5). */
export const BENCH_GOALS = {
  tooManyRequests: 0,
  minUtilization: 0.97,
  maxDrainOverPhysical: 1.03,
  maxDynamoDbCallsPerZohoCall: 2,
} as const;

const perCall = (calls: number, zohoCalls: number): string =>
  zohoCalls === 0 ? 'n/a' : (calls / zohoCalls).toFixed(2);

const seconds = (ms: number): string => `${(ms / 1000).toFixed(1)} s`;

/** The rows of the one table, side by side. */
export const benchRows = (
  parameters: BenchParameters,
  sides: readonly BenchSideFigures[],
): string[][] => {
  const row = (label: string, value: (side: BenchSideFigures) => string, goal = '') => [
    label,
    ...sides.map(value),
    goal,
  ];
  return [
    ['', ...sides.map((side) => side.side), 'goal (zoho-sync)'],
    row('changes synced', (s) => `${s.synced} / ${parameters.changes}`),
    row('Zoho Books calls made', (s) => String(s.zohoCalls)),
    row('429s received', (s) => String(s.tooManyRequests), '0'),
    row('max calls in any window', (s) => `${s.maxCallsInAnyWindow} / ${parameters.budget}`),
    row(
      'max calls in any span of a window',
      (s) => `${s.maxCallsInAnySpan} / ${parameters.budget}`,
      `<= ${parameters.budget}`,
    ),
    row('max calls in flight', (s) => `${s.maxInFlight} / ${parameters.maxConcurrency}`),
    // Window / mean gap from each call to the call a budget later (bench-side.ts says why).
    row(
      'utilization (window / slot reuse gap)',
      (s) =>
        s.utilization === undefined
          ? 'n/a'
          : `${s.utilization.toFixed(3)} (${s.reusedSlots} reuses)`,
      '>= 0.97',
    ),
    row('clock-skew margin (scaled to the window)', (s) => `${s.clockSkewMs} ms`),
    row(
      'drain time vs physical limit',
      (s) =>
        `${seconds(s.drainMs)} / ${seconds(s.physicalLimitMs)} = ${(s.drainMs / s.physicalLimitMs).toFixed(3)}`,
      '<= 1.03',
    ),
    row('token refreshes', (s) => String(s.tokenRefreshes)),
    row(
      'DynamoDB calls / Zoho call (budget)',
      (s) => perCall(s.budgetDynamodbCalls, s.zohoCalls),
      '<= 2',
    ),
    row('DynamoDB calls / Zoho call (all)', (s) => perCall(s.dynamodbCalls, s.zohoCalls)),
    row('SQS deliveries / change', (s) => (s.sqsDeliveries / parameters.changes).toFixed(2)),
  ];
};

/** Renders rows as a plain text table (first column left-aligned, the rest right-aligned). */
export const renderTable = (rows: readonly string[][]): string => {
  const widths =
    rows[0]?.map((_, column) => Math.max(...rows.map((row) => (row[column] ?? '').length))) ?? [];
  const line = (row: readonly string[]) =>
    `| ${row
      .map((cell, column) =>
        column === 0 ? cell.padEnd(widths[column] ?? 0) : cell.padStart(widths[column] ?? 0),
      )
      .join(' | ')} |`;
  const rule = `|${widths.map((width) => '-'.repeat(width + 2)).join('|')}|`;
  const [header, ...body] = rows;
  return [line(header ?? []), rule, ...body.map(line)].join('\n');
};

/** Which goals the zoho-sync side met. */
export const checkGoals = (figures: BenchSideFigures) => ({
  zeroTooManyRequests: figures.tooManyRequests === BENCH_GOALS.tooManyRequests,
  utilization: (figures.utilization ?? 0) >= BENCH_GOALS.minUtilization,
  drainTime: figures.drainMs / figures.physicalLimitMs <= BENCH_GOALS.maxDrainOverPhysical,
  dynamodbPerZohoCall:
    figures.zohoCalls > 0 &&
    figures.budgetDynamodbCalls / figures.zohoCalls <= BENCH_GOALS.maxDynamoDbCallsPerZohoCall,
});

/** Goals of the intake case (issue: one Books write per net change). */
export const INTAKE_GOALS = {
  maxBooksCallsPerChangedRecord: 1.02,
  noOpWrites: 0,
  staleRecords: 0,
} as const;

/** The intake case's figures with their goals, as a table. */
export const renderIntakeTable = (figures: IntakeBenchFigures): string => {
  const met = (ok: boolean) => (ok ? 'met' : 'NOT met');
  return renderTable([
    ['intake figure', 'value', 'goal'],
    [
      'Books calls per changed record',
      figures.booksCallsPerChangedRecord.toFixed(3),
      `<= ${INTAKE_GOALS.maxBooksCallsPerChangedRecord} (${met(figures.booksCallsPerChangedRecord <= INTAKE_GOALS.maxBooksCallsPerChangedRecord)})`,
    ],
    ['CRM calls per changed record', figures.crmCallsPerChangedRecord.toFixed(3), ''],
    ['Books calls / CRM calls', `${figures.booksCalls} / ${figures.crmCalls}`, ''],
    [
      'no-op writes (repeat writes of a record)',
      String(figures.noOpWrites),
      `${INTAKE_GOALS.noOpWrites} (${met(figures.noOpWrites === INTAKE_GOALS.noOpWrites)})`,
    ],
    [
      'stale records at the end',
      String(figures.staleRecords),
      `${INTAKE_GOALS.staleRecords} (${met(figures.staleRecords === INTAKE_GOALS.staleRecords)})`,
    ],
    [
      'sweep heal time (lost events)',
      figures.sweepHealMs === undefined
        ? 'not healed'
        : `${(figures.sweepHealMs / 1000).toFixed(1)} s (sweep run ${(figures.sweepRunMs / 1000).toFixed(1)} s)`,
      'from the sweep start',
    ],
    ['records the sweep enqueued', `${figures.sweepEnqueued} (of ${figures.silent} silent)`, ''],
  ]);
};
