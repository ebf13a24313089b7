import { parseArgs } from 'node:util';
import { STACK_DEFAULTS } from '../config';

/** What `npm start -- ...` asks for, validated. */
export interface LocalModeOptions {
  /** An external Zoho-compatible base URL (accounts server and API) instead of the simulator. */
  readonly zohoBaseUrl: string | undefined;
  /** One connection per file, in the order given; empty for generated demo connections. */
  readonly connectionFiles: readonly string[];
  /** Generated demo connections when no file is given (`--connections <n>`). @default 1 */
  readonly demoConnections: number;
  /** Port of the local webhook API; 0 picks a free one. @default 3000 */
  readonly port: number;
  /** True when `--port` was given: a taken port is then an error, not a reason to pick another. */
  readonly portGiven: boolean;
  /** Sync-worker invocations at once. @default STACK_DEFAULTS.workerConcurrency */
  readonly workerConcurrency: number;
  /** SQS records per worker invocation. @default STACK_DEFAULTS.batchSize */
  readonly batchSize: number;
  /** Seconds between reconciliation sweeps; 0 turns the sweep off. @default 60 */
  readonly sweepEverySeconds: number;
  /** Base URL Zoho should call for Notification API callbacks. @default the local API's URL */
  readonly publicBaseUrl: string | undefined;
}

export const DEFAULT_LOCAL_PORT = 3000;
export const DEFAULT_SWEEP_EVERY_SECONDS = 60;

export const LOCAL_USAGE = `usage: npm start -- [options]
  --zoho <baseUrl>        use an external Zoho-compatible endpoint (accounts and API on that base)
                          instead of the embedded simulator
  --connection <file>     load a connection (the secret's JSON plus "connectionId") instead of the
                          demo one; repeat it for several connections, one per file
  --connections <n>       generate n demo connections (without --connection; default 1)
  --port <n>              port of the local webhook API (default ${DEFAULT_LOCAL_PORT}; 0 picks a free one)
  --sweep-every <s>       seconds between reconciliation sweeps (default ${DEFAULT_SWEEP_EVERY_SECONDS}; 0 turns it off)
  --public-url <url>      base URL Zoho calls back for Notification API channels (e.g. a tunnel
                          to the local API); default the local API's own URL
  --concurrency <n>       worker invocations in parallel (default ${STACK_DEFAULTS.workerConcurrency}, as the stack)
  --batch-size <n>        SQS records per worker invocation (default ${STACK_DEFAULTS.batchSize}, as the stack)`;

/** A command line local mode cannot run with; the message says which option and why. */
export class LocalOptionsError extends Error {
  override readonly name = 'LocalOptionsError';
}

const integer = (
  name: string,
  raw: string | undefined,
  fallback: number,
  min: number,
  max: number,
): number => {
  if (raw === undefined) return fallback;
  const value = Number(raw);
  if (!Number.isInteger(value) || value < min || value > max) {
    throw new LocalOptionsError(
      `--${name} must be a whole number from ${min} to ${max}, got ${raw}`,
    );
  }
  return value;
};

const httpUrl = (name: string, raw: string | undefined): string | undefined => {
  if (raw === undefined) return undefined;
  let url: URL;
  try {
    url = new URL(raw);
  } catch {
    throw new LocalOptionsError(`--${name} must be an http(s) URL, got ${raw}`);
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') {
    throw new LocalOptionsError(`--${name} must be an http(s) URL, got ${raw}`);
  }
  return raw.replace(/\/+$/, '');
};

/**
 * Reads `npm start`'s arguments. Returns `'help'` for `--help`.
 * @throws {LocalOptionsError} naming the first bad option (unknown options included).
 */
export const parseLocalOptions = (args: readonly string[]): LocalModeOptions | 'help' => {
  let values: ReturnType<typeof parse>['values'];
  try {
    ({ values } = parse(args));
  } catch (error) {
    throw new LocalOptionsError(error instanceof Error ? error.message : String(error));
  }
  if (values.help) return 'help';
  const connectionFiles = values.connection ?? [];
  if (connectionFiles.length > 0 && values.connections !== undefined) {
    throw new LocalOptionsError(
      '--connections generates demo connections; with --connection files, give one file per connection instead',
    );
  }
  return {
    zohoBaseUrl: httpUrl('zoho', values.zoho),
    connectionFiles,
    demoConnections: integer('connections', values.connections, 1, 1, 50),
    port: integer('port', values.port, DEFAULT_LOCAL_PORT, 0, 65_535),
    portGiven: values.port !== undefined,
    workerConcurrency: integer(
      'concurrency',
      values.concurrency,
      STACK_DEFAULTS.workerConcurrency,
      1,
      1000,
    ),
    batchSize: integer('batch-size', values['batch-size'], STACK_DEFAULTS.batchSize, 1, 10),
    sweepEverySeconds: integer(
      'sweep-every',
      values['sweep-every'],
      DEFAULT_SWEEP_EVERY_SECONDS,
      0,
      86_400,
    ),
    publicBaseUrl: httpUrl('public-url', values['public-url']),
  };
};

const parse = (args: readonly string[]) =>
  parseArgs({
    args: [...args],
    strict: true,
    allowPositionals: false,
    options: {
      zoho: { type: 'string' },
      connection: { type: 'string', multiple: true },
      connections: { type: 'string' },
      port: { type: 'string' },
      concurrency: { type: 'string' },
      'batch-size': { type: 'string' },
      'sweep-every': { type: 'string' },
      'public-url': { type: 'string' },
      help: { type: 'boolean', default: false },
    },
  });
