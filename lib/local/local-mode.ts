/**
 * Local mode: the whole zoho-sync pipeline on this machine, as `npm start` runs it. It starts
 * the AWS stand-ins and the Zoho simulator (or uses --zoho), provisions what the CDK stack
 * provisions in AWS and runs the real Lambda handlers, each function in an event loop of its own
 * as in AWS: the webhook function behind a local HTTP API, the sync worker and the scheduled
 * functions each in a supervised child process (function-processes.ts). This process keeps the
 * stand-ins and the simulator, the parts that play AWS and Zoho.
 */
import { randomBytes } from 'node:crypto';
import { readFile, rm } from 'node:fs/promises';
import { createAwsClients } from '../aws';
import {
  type ConnectionSecret,
  connectionIdSchema,
  connectionSecretId,
  connectionSecretSchema,
  ENV,
  STACK_DEFAULTS,
} from '../config';
import { logger } from '../observability';
import {
  type AwsStandInEndpoints,
  functionEnvironment,
  provisionLocalResources,
  standInEnvironment,
  startAwsStandIns,
} from './aws-stand-ins';
import {
  DEMO_CRM_RECORDS,
  demoConnectionId,
  demoConnectionSecret,
  demoOrganizationId,
} from './demo-data';
import { findFreePort, isPortFree } from './free-port';
import {
  DYNAMODB_LOCAL_NICENESS,
  type FunctionProcess,
  lowerCpuPriority,
  startFunctionProcess,
} from './function-processes';
import type { LocalModeOptions } from './local-options';
import { LOCAL_STATE_DIR, type LocalState, localStatePath, writeLocalState } from './local-state';
import { putConnectionSecret } from './provision';
import { startZohoSimulator, type ZohoSimulator } from './zoho-simulator';

/** Local mode runs release-deferred every minute (the stack: every 5), so parked work shows soon. */
const RELEASE_DEFERRED_EVERY_MS = 60_000;
const HOUR_MS = 3_600_000;
export const WEBHOOK_TOKEN_HEADER = 'X-Zoho-Sync-Token';

export interface LocalModeRuntime {
  readonly options: LocalModeOptions;
  /** Where local.json is written. @default '.zoho-sync' */
  readonly stateDir?: string;
  /** Stand-ins already running (tests share one set); otherwise started here and stopped on stop. */
  readonly standIns?: AwsStandInEndpoints;
  /** Names of the table, queues and topic. @default 'zoho-sync-local' */
  readonly resourcePrefix?: string;
  /** @default 'zoho-sync/', as in the stack */
  readonly secretPrefix?: string;
  /** Added to every function's environment (a log level, say). */
  readonly functionEnv?: Readonly<Record<string, string>>;
}

export interface LocalConnection {
  readonly connectionId: string;
  /** Local mode always has a webhook secret, which it provisions as `<prefix><id>/webhook`. */
  readonly secret: ConnectionSecret & { readonly webhookSecret: string };
}

export interface LocalMode {
  /** What local.json holds. */
  readonly state: LocalState;
  readonly stateFile: string;
  readonly connections: readonly LocalConnection[];
  /** The embedded simulator, when no --zoho and no connection file was given. */
  readonly simulator: ZohoSimulator | undefined;
  /** The local HTTP API (API Gateway's part), served by the webhook process. */
  readonly api: { readonly url: string; readonly port: number };
  /** The functions' supervised processes. */
  readonly processes: {
    readonly webhook: FunctionProcess;
    readonly worker: FunctionProcess;
    readonly scheduled: FunctionProcess;
  };
  readonly startedInMs: number;
  /** Stops everything local mode started, children first. */
  stop(): Promise<void>;
}

/**
 * Reads one `--connection` file: the connection secret's JSON plus `"connectionId"`.
 * @throws Error naming the file and the invalid fields.
 */
export const readConnectionFile = async (path: string): Promise<LocalConnection> => {
  let json: unknown;
  try {
    json = JSON.parse(await readFile(path, 'utf8'));
  } catch (error) {
    throw new Error(
      `cannot read connection file ${path}: ${error instanceof Error ? error.message : String(error)}`,
    );
  }
  const connectionId = connectionIdSchema.safeParse(
    (json as { connectionId?: unknown } | null)?.connectionId,
  );
  const secret = connectionSecretSchema.safeParse(json);
  if (!connectionId.success || !secret.success) {
    const fields = [
      ...(connectionId.success ? [] : ['connectionId']),
      ...(secret.success ? [] : secret.error.issues.map((issue) => issue.path.join('.'))),
    ];
    throw new Error(`${path} is not a valid connection: check ${fields.join(', ')}`);
  }
  // Local mode provisions both parts; a file without a webhook secret gets a random one.
  const webhookSecret = secret.data.webhookSecret ?? randomBytes(18).toString('base64url');
  return { connectionId: connectionId.data, secret: { ...secret.data, webhookSecret } };
};

const readConnectionFiles = async (
  options: LocalModeOptions,
): Promise<readonly LocalConnection[]> => {
  const connections: LocalConnection[] = [];
  for (const path of options.connectionFiles) {
    const connection = await readConnectionFile(path);
    if (connections.some((known) => known.connectionId === connection.connectionId)) {
      throw new Error(
        `${path}: connection id ${connection.connectionId} is already used by another --connection file`,
      );
    }
    connections.push(
      options.zohoBaseUrl === undefined
        ? connection
        : { ...connection, secret: { ...connection.secret, accountsUrl: options.zohoBaseUrl } },
    );
  }
  return connections;
};

/** The demo connections, registered with the embedded simulator when there is one. */
const demoConnections = (
  options: LocalModeOptions,
  simulator: ZohoSimulator | undefined,
): readonly LocalConnection[] => {
  // One self client for all of them, each with a refresh token of its own, as one Zoho user
  // connecting several organizations would have.
  const clientSecret = randomBytes(20).toString('hex');
  const connections = Array.from({ length: options.demoConnections }, (_, index) => ({
    connectionId: demoConnectionId(index),
    secret: demoConnectionSecret({
      accountsUrl: options.zohoBaseUrl ?? simulator?.baseUrl ?? '',
      webhookSecret: randomBytes(18).toString('base64url'),
      clientSecret,
      refreshToken: `1000.${randomBytes(16).toString('hex')}.${randomBytes(16).toString('hex')}`,
      booksOrganizationId: demoOrganizationId(index),
    }),
  }));
  if (simulator !== undefined) {
    for (const { secret } of connections) {
      simulator.addClient({
        clientId: secret.clientId,
        clientSecret: secret.clientSecret,
        refreshToken: secret.refreshToken,
      });
      simulator.addOrganization({
        organizationId: secret.booksOrganizationId,
        plan: 'professional',
      });
    }
    for (const [module, records] of Object.entries(DEMO_CRM_RECORDS)) {
      for (const record of records) simulator.putCrmRecord(module, { ...record });
    }
  }
  return connections;
};

/**
 * Starts local mode and writes local.json once every part is running (so a script that waits
 * for the file finds a pipeline that answers, with each connection's channel enabled).
 * @throws Error saying what could not start; whatever did start is stopped again.
 */
export const startLocalMode = async (runtime: LocalModeRuntime): Promise<LocalMode> => {
  const { options } = runtime;
  const startedAt = Date.now();
  const secretPrefix = runtime.secretPrefix ?? 'zoho-sync/';
  const stops: Array<() => Promise<void>> = [];
  const stopAll = async () => {
    for (const stop of stops.splice(0).reverse()) await stop().catch(() => undefined);
  };
  try {
    // A state file from an earlier run would point scripts at a pipeline that is gone; the new
    // one appears only once this run is up.
    await rm(localStatePath(runtime.stateDir ?? LOCAL_STATE_DIR), { force: true });
    let endpoints = runtime.standIns;
    if (endpoints === undefined) {
      const standIns = await startAwsStandIns();
      stops.push(() => standIns.stop());
      lowerCpuPriority(standIns.dynamodbPid, DYNAMODB_LOCAL_NICENESS, 'dynamodb-local', logger);
      endpoints = standIns.endpoints;
    }
    const standInEnv = standInEnvironment(endpoints);
    Object.assign(process.env, standInEnv);

    let simulator: ZohoSimulator | undefined;
    let connections: readonly LocalConnection[];
    if (options.connectionFiles.length > 0) {
      connections = await readConnectionFiles(options);
    } else {
      if (options.zohoBaseUrl === undefined) {
        const started = await startZohoSimulator();
        stops.push(() => started.stop());
        simulator = started;
      }
      connections = demoConnections(options, simulator);
    }

    const clients = createAwsClients({ region: 'us-east-1' });
    const resources = await provisionLocalResources(clients, {
      prefix: runtime.resourcePrefix ?? 'zoho-sync-local',
      maxReceiveCount: STACK_DEFAULTS.maxReceiveCount,
      visibilityTimeoutSeconds: 30,
    });
    for (const { connectionId, secret } of connections) {
      await putConnectionSecret(clients.secretsManager, { secretPrefix, connectionId, secret });
    }
    const functionEnv: Record<string, string> = {
      ...standInEnv,
      ...functionEnvironment(resources),
      [ENV.secretPrefix]: secretPrefix,
      ...runtime.functionEnv,
    };
    Object.assign(process.env, functionEnv);

    const host = '127.0.0.1';
    const port = await choosePort(options, host);
    const api = { url: `http://${host}:${port}`, port };

    // Each function process sees what a deployed function would, plus this process's basics.
    const childEnv = { ...inheritedEnvironment(), ...functionEnv };
    // All start at once: each loads its handlers (and the scheduled one enables the channels).
    const started = await startAll(stops, [
      startFunctionProcess({ role: 'webhook', env: childEnv, settings: { port, host } }, logger),
      startFunctionProcess(
        {
          role: 'sync-worker',
          env: childEnv,
          settings: {
            queueUrl: resources.syncQueueUrl,
            queueArn: resources.syncQueueArn,
            batchSize: options.batchSize,
            maxConcurrency: options.workerConcurrency,
          },
        },
        logger,
      ),
      startFunctionProcess(
        {
          role: 'scheduled',
          env: { ...childEnv, [ENV.publicBaseUrl]: options.publicBaseUrl ?? api.url },
          settings: {
            reconcileSweepEveryMs: options.sweepEverySeconds * 1000,
            renewChannelsEveryMs: STACK_DEFAULTS.schedules.renewChannelsHours * HOUR_MS,
            releaseDeferredEveryMs: RELEASE_DEFERRED_EVERY_MS,
          },
        },
        logger,
      ),
    ]);
    const [webhook, worker, scheduled] = started as [
      FunctionProcess,
      FunctionProcess,
      FunctionProcess,
    ];

    const connectionStates = connections.map(({ connectionId, secret }) => ({
      connectionId,
      webhookUrl: `${api.url}/webhooks/${connectionId}`,
      notificationUrl: `${api.url}/notifications/${connectionId}`,
      secretId: connectionSecretId(secretPrefix, connectionId),
      booksOrganizationId: secret.booksOrganizationId,
      webhookSecret: secret.webhookSecret,
    }));
    const [first] = connectionStates;
    if (first === undefined) throw new Error('local mode needs at least one connection');
    const state: LocalState = {
      webhookUrl: first.webhookUrl,
      notificationUrl: first.notificationUrl,
      connectionId: first.connectionId,
      webhookSecret: first.webhookSecret,
      webhookTokenHeader: WEBHOOK_TOKEN_HEADER,
      zohoBaseUrl:
        simulator?.baseUrl ??
        options.zohoBaseUrl ??
        connections[0]?.secret.accountsUrl ??
        'https://accounts.zoho.com',
      ...(simulator ? { simulatorStateUrl: `${simulator.baseUrl}/__simulator/state` } : {}),
      endpoints,
      queues: {
        syncQueueUrl: resources.syncQueueUrl,
        deadLetterQueueUrl: resources.deadLetterQueueUrl,
        alertInboxQueueUrl: resources.alertQueueUrl,
      },
      tables: { state: resources.tableName },
      alertTopicArn: resources.alertTopicArn,
      secretId: first.secretId,
      booksOrganizationId: first.booksOrganizationId,
      connections: connectionStates,
    };
    const stateFile = await writeLocalState(runtime.stateDir ?? LOCAL_STATE_DIR, state);
    return {
      state,
      stateFile,
      connections,
      simulator,
      api,
      processes: { webhook, worker, scheduled },
      startedInMs: Date.now() - startedAt,
      stop: stopAll,
    };
  } catch (error) {
    await stopAll();
    throw error;
  }
};

/** Waits for processes started together; if one fails, those that started are stopped too. */
const startAll = async (
  stops: Array<() => Promise<void>>,
  starting: readonly Promise<FunctionProcess>[],
): Promise<FunctionProcess[]> => {
  const settled = await Promise.allSettled(starting);
  const started: FunctionProcess[] = [];
  for (const result of settled) {
    if (result.status === 'fulfilled') {
      started.push(result.value);
      stops.push(() => result.value.stop());
    }
  }
  for (const result of settled) if (result.status === 'rejected') throw result.reason;
  return started;
};

/**
 * The local API's port: `--port` as given (taken is then an error), 0 for a free one, and the
 * default 3000 unless it is taken (scripts read the real URL from local.json).
 */
const choosePort = async (options: LocalModeOptions, host: string): Promise<number> => {
  if (options.port === 0) return findFreePort();
  if (options.portGiven || (await isPortFree(options.port, host))) return options.port;
  logger.warn('port taken; using a free one', { port: options.port });
  return findFreePort();
};

/** What a child needs from this process's environment besides the function environment. */
const inheritedEnvironment = (): Record<string, string> =>
  Object.fromEntries(
    Object.entries(process.env).filter(
      (entry): entry is [string, string] => entry[1] !== undefined,
    ),
  );
