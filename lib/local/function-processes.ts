import { type ChildProcess, fork } from 'node:child_process';
import { readdirSync } from 'node:fs';
import { createRequire } from 'node:module';
import { setPriority } from 'node:os';
import { fileURLToPath, pathToFileURL } from 'node:url';
import type { Logger } from '../observability';
import type {
  FunctionProcessMessage,
  FunctionProcessRole,
  ScheduledProcessSettings,
  SyncWorkerProcessSettings,
  WebhookProcessSettings,
} from './function-process';

const ENTRY = fileURLToPath(new URL('./function-process.ts', import.meta.url));
/** tsx's ESM loader, so the child runs the TypeScript sources as `npm start` itself does. */
const TSX_LOADER = pathToFileURL(createRequire(import.meta.url).resolve('tsx')).href;

/** A crash-looping process is restarted after at most this long. */
const MAX_RESTART_DELAY_MS = 5_000;
const FIRST_RESTART_DELAY_MS = 200;
/** A process that ran this long before dying was not crash-looping: restart it at once. */
const STABLE_AFTER_MS = 10_000;
const START_TIMEOUT_MS = 120_000;
/**
 * Deployed, each function has CPUs of its own; locally they share the machine's (often two)
 * cores with DynamoDB Local's JVM. The webhook function answers people and Zoho, and a late
 * answer makes Zoho retry, while the worker and the scheduled functions wait on Zoho's budget
 * anyway: so these run at a lower CPU priority (a higher nice value) than the webhook process,
 * and a busy worker cannot queue webhook answers behind its own CPU work.
 */
const NICENESS: Record<FunctionProcessRole, number> = {
  webhook: 0,
  'sync-worker': 10,
  scheduled: 10,
};
const STOP_TIMEOUT_MS = 10_000;

/**
 * Lowers a local process's CPU priority to `niceness` (see NICENESS). Only a hint to the
 * scheduler: if the system refuses, everything still works, just less evenly.
 */
export const lowerCpuPriority = (
  pid: number | undefined,
  niceness: number,
  name: string,
  logger: Logger,
): void => {
  if (pid === undefined || niceness === 0) return;
  try {
    setPriority(pid, niceness);
    // On Linux a priority belongs to a thread: threads already running (a JVM's) keep theirs
    // unless each is lowered; threads started later inherit from the thread that starts them.
    let threads: string[] = [];
    try {
      threads = readdirSync(`/proc/${pid}/task`);
    } catch {
      // Not Linux, or the process is gone: the main thread's priority is all there is to set.
    }
    for (const thread of threads) setPriority(Number(thread), niceness);
  } catch (error) {
    logger.warn('could not lower a local process priority', {
      local_process: name,
      error: error instanceof Error ? error.message : String(error),
    });
  }
};

/** DynamoDB Local's JVM serves only the worker and the scheduled functions, never a webhook. */
export const DYNAMODB_LOCAL_NICENESS = 10;

export type FunctionProcessSpec =
  | {
      readonly role: 'webhook';
      readonly settings: WebhookProcessSettings;
      readonly env: Readonly<Record<string, string>>;
    }
  | {
      readonly role: 'sync-worker';
      readonly settings: SyncWorkerProcessSettings;
      readonly env: Readonly<Record<string, string>>;
    }
  | {
      readonly role: 'scheduled';
      readonly settings: ScheduledProcessSettings;
      readonly env: Readonly<Record<string, string>>;
    };

export interface FunctionProcess {
  readonly role: FunctionProcessRole;
  /** The running child's pid, undefined between a death and its restart. */
  pid(): number | undefined;
  /** Restarts so far (deaths not asked for). */
  restarts(): number;
  /** Resolves when a child with another pid than `previousPid` has reported ready. */
  readyAfter(previousPid: number | undefined): Promise<number>;
  stop(): Promise<void>;
}

/**
 * Forks a function process (function-process.ts) and keeps it running, as Lambda keeps a
 * function available: when the child dies without being asked to, it is started again, at once
 * after a long life and with a growing delay (up to 5 s) when it keeps dying. Its in-flight SQS
 * messages come back after their visibility timeout, exactly as when Lambda loses a container.
 * Resolves once the first child reports ready.
 * @throws Error when the first child dies or hangs before it is ready (a broken setup, not a
 *   crash to restart).
 */
export const startFunctionProcess = async (
  spec: FunctionProcessSpec,
  logger: Logger,
): Promise<FunctionProcess> => {
  let child: ChildProcess | undefined;
  let readyPid: number | undefined;
  let stopping = false;
  let restarts = 0;
  let delayMs = FIRST_RESTART_DELAY_MS;
  let restartTimer: NodeJS.Timeout | undefined;
  const readyWaiters = new Set<() => void>();

  const spawnChild = (): ChildProcess => {
    const started = Date.now();
    const forked = fork(ENTRY, [spec.role, JSON.stringify(spec.settings)], {
      execArgv: ['--import', TSX_LOADER],
      env: spec.env,
      stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
    });
    child = forked;
    lowerCpuPriority(forked.pid, NICENESS[spec.role], spec.role, logger);
    forked.on('message', (message: FunctionProcessMessage) => {
      if (message.type !== 'ready') return;
      readyPid = forked.pid;
      logger.info('local function process ready', { function_process: spec.role, pid: forked.pid });
      for (const wake of readyWaiters) wake();
    });
    forked.on('exit', (code, signal) => {
      if (child === forked) child = undefined;
      if (readyPid === forked.pid) readyPid = undefined;
      if (stopping) return;
      if (Date.now() - started > STABLE_AFTER_MS) delayMs = FIRST_RESTART_DELAY_MS;
      const restartInMs = delayMs;
      delayMs = Math.min(MAX_RESTART_DELAY_MS, delayMs * 2);
      restarts += 1;
      logger.warn('local function process died; restarting it', {
        function_process: spec.role,
        pid: forked.pid,
        exit_code: code,
        signal,
        restart_in_ms: restartInMs,
      });
      restartTimer = setTimeout(() => {
        if (!stopping) spawnChild();
      }, restartInMs);
    });
    return forked;
  };

  const readyAfter = (previousPid: number | undefined): Promise<number> =>
    new Promise((resolve) => {
      const check = () => {
        if (readyPid !== undefined && readyPid !== previousPid) {
          readyWaiters.delete(check);
          resolve(readyPid);
        }
      };
      readyWaiters.add(check);
      check();
    });

  const stop = async (): Promise<void> => {
    stopping = true;
    clearTimeout(restartTimer);
    const running = child;
    if (running === undefined || running.exitCode !== null || running.signalCode !== null) return;
    await new Promise<void>((resolve) => {
      const kill = setTimeout(() => running.kill('SIGKILL'), STOP_TIMEOUT_MS);
      running.once('exit', () => {
        clearTimeout(kill);
        resolve();
      });
      if (running.connected) running.send({ type: 'stop' } satisfies FunctionProcessMessage);
      else running.kill('SIGTERM');
    });
  };

  const first = spawnChild();
  let startTimeout: NodeJS.Timeout | undefined;
  try {
    await Promise.race([
      readyAfter(undefined),
      new Promise<never>((_resolve, reject) => {
        startTimeout = setTimeout(
          () =>
            reject(
              new Error(`the ${spec.role} process did not start within ${START_TIMEOUT_MS} ms`),
            ),
          START_TIMEOUT_MS,
        );
        first.once('exit', (code, signal) =>
          reject(
            new Error(
              `the ${spec.role} process exited during start-up (${signal ?? `exit code ${code}`}); its log above says why`,
            ),
          ),
        );
      }),
    ]);
  } catch (error) {
    await stop();
    throw error;
  } finally {
    clearTimeout(startTimeout);
  }
  return {
    role: spec.role,
    pid: () => child?.pid,
    restarts: () => restarts,
    readyAfter,
    stop,
  };
};
