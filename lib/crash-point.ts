import { createHash } from 'node:crypto';

/**
 * Named points where a chaos run or a crash test may kill the worker, to prove that a crash
 * at the worst moment loses and duplicates nothing once SQS redelivers. Off unless
 * `ZOHO_SYNC_CRASH_POINTS` is set, and always off in AWS Lambda (`AWS_EXECUTION_ENV`), so in
 * production each point is one environment lookup. Hand-written: no library offers this.
 *
 * - `ZOHO_SYNC_CRASH_POINTS`: `name=chance,...`, e.g. `before-mapping-write=0.05` (chance 0..1).
 * - `ZOHO_SYNC_CRASH_SEED`: the seed of the deterministic draws. @default 0
 * - `ZOHO_SYNC_CRASH_MODE`: `kill` ends the process with SIGKILL (local mode's supervised
 *   worker processes; their supervisor starts a new one); `hang` (default) stops the code at
 *   the point for good, as a dead container would, and tells {@link onCrash} listeners, so one
 *   process can play many crashes (the caller then drops that container's state).
 */
export const CRASH_POINTS = [
  /** The Books write succeeded; the mapping (CRM id -> Books id) is not written yet. */
  'before-mapping-write',
  /** The handler finished the message; the SQS delete has not happened. */
  'before-sqs-delete',
  /** Zoho issued a new access token; it is not stored in Secrets Manager yet. */
  'during-token-refresh',
  /** A deferred copy of the message was sent; the original is not deleted yet. */
  'after-deferral-resent',
] as const;
export type CrashPoint = (typeof CRASH_POINTS)[number];

export const CRASH_ENV = {
  points: 'ZOHO_SYNC_CRASH_POINTS',
  seed: 'ZOHO_SYNC_CRASH_SEED',
  mode: 'ZOHO_SYNC_CRASH_MODE',
} as const;

export interface CrashEvent {
  readonly point: CrashPoint;
  readonly key: string;
}

/**
 * Read at each point, not once at start, so a test or chaos run can arm and disarm points
 * while the process runs; lib/config loads settings once per container, which is not that.
 */
const readEnv = (name: string): string | undefined =>
  // biome-ignore lint/style/noProcessEnv: crash points are a test hook, not configuration.
  process.env[name];

const listeners = new Set<(crash: CrashEvent) => void>();

/** Calls `listener` at every `hang` crash; returns the function that removes it. */
export const onCrash = (listener: (crash: CrashEvent) => void): (() => void) => {
  listeners.add(listener);
  return () => listeners.delete(listener);
};

interface CrashPlan {
  readonly source: string;
  readonly chances: ReadonlyMap<string, number>;
  readonly occurrences: Map<string, number>;
}
let plan: CrashPlan | undefined;

const currentPlan = (source: string): CrashPlan => {
  if (plan?.source !== source) {
    const chances = new Map<string, number>();
    for (const entry of source.split(',')) {
      const [name, chance] = entry.split('=').map((part) => part.trim());
      if (!CRASH_POINTS.includes(name as CrashPoint)) {
        throw new Error(`${CRASH_ENV.points}: unknown crash point "${name}"`);
      }
      const value = chance === undefined ? 1 : Number(chance);
      if (!(value >= 0 && value <= 1)) {
        throw new Error(`${CRASH_ENV.points}: chance for ${name} must be 0..1, got ${chance}`);
      }
      chances.set(name as string, value);
    }
    plan = { source, chances, occurrences: new Map() };
  }
  return plan;
};

/** A deterministic draw in [0, 1): the same seed crashes the same occurrence of the same key. */
const draw = (seed: string, point: CrashPoint, key: string, occurrence: number): number =>
  createHash('sha256').update(`${seed}:${point}:${key}:${occurrence}`).digest().readUInt32BE(0) /
  2 ** 32;

/**
 * Crashes here when the environment says so. `key` names what is being worked on (a message
 * or connection id) so the draws do not depend on how concurrent work interleaves.
 */
export const crashPoint = (point: CrashPoint, key: string): Promise<never> | undefined => {
  const source = readEnv(CRASH_ENV.points);
  if (source === undefined || source === '' || readEnv('AWS_EXECUTION_ENV') !== undefined) {
    return undefined;
  }
  const active = currentPlan(source);
  const chance = active.chances.get(point) ?? 0;
  if (chance === 0) return undefined;
  const occurrenceKey = `${point}:${key}`;
  const occurrence = active.occurrences.get(occurrenceKey) ?? 0;
  active.occurrences.set(occurrenceKey, occurrence + 1);
  if (draw(readEnv(CRASH_ENV.seed) ?? '0', point, key, occurrence) >= chance) return undefined;
  if (readEnv(CRASH_ENV.mode) === 'kill') process.kill(process.pid, 'SIGKILL');
  for (const listener of listeners) listener({ point, key });
  return new Promise<never>(() => undefined);
};
