import { styleText } from 'node:util';

/** Where the CLI writes; a test passes its own and reads what was written. */
export interface CliIo {
  out(text: string): void;
  err(text: string): void;
  /** Colour and progress lines only on a terminal. */
  readonly isTTY: boolean;
  /** Redraws the one progress line (terminals only); an empty line ends it. */
  progress?(line: string): void;
}

export const processIo = (): CliIo => ({
  out: (text) => process.stdout.write(text.endsWith('\n') ? text : `${text}\n`),
  err: (text) => process.stderr.write(text.endsWith('\n') ? text : `${text}\n`),
  isTTY: process.stdout.isTTY === true && process.env.NO_COLOR === undefined,
  progress: (line) => {
    const width = process.stdout.columns ?? 120;
    process.stdout.write(line === '' ? '\n' : `\r\u001b[2K${line.slice(0, width - 1)}\u001b[0m`);
  },
});

type Colour = 'green' | 'red' | 'yellow' | 'dim' | 'bold' | 'cyan';

/** Colours text on a terminal and leaves it alone elsewhere (pipes, files, --json, tests). */
export const painter =
  (io: CliIo) =>
  (colour: Colour, text: string): string =>
    io.isTTY ? styleText(colour, text) : text;

/** A usage error: exit code 2. */
export class UsageError extends Error {
  override readonly name = 'UsageError';
}

/** Exit codes: 0 ok, 1 a check or a sync failed, 2 usage. */
export const EXIT = { ok: 0, failed: 1, usage: 2 } as const;

export const formatTime = (epochMs: number | undefined): string =>
  epochMs === undefined ? '-' : new Date(epochMs).toISOString().replace('.000Z', 'Z');

/** "3 h 20 min", "45 s", "2 days". */
export const formatDuration = (ms: number): string => {
  if (!Number.isFinite(ms)) return 'never';
  const seconds = Math.max(0, Math.round(ms / 1000));
  if (seconds < 90) return `${seconds} s`;
  const minutes = Math.round(seconds / 60);
  if (minutes < 90) return `${minutes} min`;
  const hours = Math.floor(minutes / 60);
  if (hours < 48) return `${hours} h ${minutes % 60} min`;
  return `${Math.round(hours / 24)} days`;
};

export const formatCount = (value: number): string => value.toLocaleString('en-US');
