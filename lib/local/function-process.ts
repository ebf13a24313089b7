/**
 * The entry point of local mode's function processes. Each runs one part of the stack in an event
 * loop of its own, as separate Lambda functions do, so a busy worker never delays a webhook's
 * answer: `webhook` (API Gateway's HTTP API and the webhook handler), `sync-worker` (the SQS
 * event source mapping and the worker handler) and `scheduled` (the EventBridge rules and the
 * three scheduled handlers). The supervisor in
 * function-processes.ts forks it with the function environment and restarts it if it dies.
 *
 * Messages on the IPC channel: `{type:'ready'}` to the parent once running; `{type:'stop'}` from
 * it to finish the work in hand and exit. Ctrl-C reaches the whole process group, so SIGINT is
 * left to the parent, which stops its children in order; a lost parent (IPC disconnect) stops
 * this process too.
 */
import { randomUUID } from 'node:crypto';
import type { Context, ScheduledEvent } from 'aws-lambda';
import { createAwsClients } from '../aws';
import { logger } from '../observability';
import { startLocalHttpApi } from './api-gateway-adapter';
import { fakeLambdaContext } from './lambda-context';
import { startSqsPoller } from './sqs-poller';

export type FunctionProcessRole = 'webhook' | 'sync-worker' | 'scheduled';

export interface WebhookProcessSettings {
  /** Chosen by the parent, so a restarted process listens where the first one did. */
  readonly port: number;
  readonly host: string;
}

export interface SyncWorkerProcessSettings {
  readonly queueUrl: string;
  readonly queueArn: string;
  readonly batchSize: number;
  readonly maxConcurrency: number;
}

export interface ScheduledProcessSettings {
  /** 0 turns the sweep off. */
  readonly reconcileSweepEveryMs: number;
  readonly renewChannelsEveryMs: number;
  readonly releaseDeferredEveryMs: number;
}

export type FunctionProcessMessage = { readonly type: 'ready' } | { readonly type: 'stop' };

const errorMessage = (error: unknown) => (error instanceof Error ? error.message : String(error));

const scheduledEvent = (): ScheduledEvent => ({
  version: '0',
  id: randomUUID(),
  'detail-type': 'Scheduled Event',
  source: 'aws.events',
  account: '000000000000',
  time: new Date().toISOString(),
  region: 'us-east-1',
  resources: [],
  detail: {},
});

type ScheduledHandler = (event: ScheduledEvent, context: Context) => Promise<unknown>;

/**
 * Runs `handler` every `everyMs`, never two runs at once (an EventBridge rule may overlap runs;
 * the handlers tolerate it, but locally there is no reason to). A failed run is logged; the next
 * one comes on schedule, as the stack's rules have no retries.
 */
const every = (
  functionName: string,
  everyMs: number,
  handler: ScheduledHandler,
  options: { runNow: boolean },
): { stop(): Promise<void>; run(): Promise<void> } => {
  let timer: NodeJS.Timeout | undefined;
  let running: Promise<void> | undefined;
  let stopped = false;
  const run = async (): Promise<void> => {
    if (running !== undefined) return running;
    running = handler(scheduledEvent(), fakeLambdaContext(functionName, randomUUID()))
      .then(() => undefined)
      .catch((error: unknown) =>
        logger.error('local scheduled run failed', {
          function_name: functionName,
          error: errorMessage(error),
        }),
      )
      .finally(() => {
        running = undefined;
      });
    return running;
  };
  const schedule = () => {
    if (stopped) return;
    timer = setTimeout(() => {
      void run().then(schedule);
    }, everyMs);
  };
  const first = options.runNow ? run() : Promise.resolve();
  void first.then(schedule);
  return {
    run: () => first,
    stop: async () => {
      stopped = true;
      clearTimeout(timer);
      await running;
    },
  };
};

const startWebhook = async (settings: WebhookProcessSettings) => {
  // Imported only now: handlers read their configuration at module scope, as in Lambda.
  const webhook = await import('../../functions/crm-webhook');
  const api = await startLocalHttpApi({
    port: settings.port,
    host: settings.host,
    routes: [
      {
        method: 'POST',
        path: '/webhooks/{connectionId}',
        handler: webhook.handler,
        functionName: 'crm-webhook',
      },
      // Notification API callbacks (token in the body) reach the same function, as in the stack.
      {
        method: 'POST',
        path: '/notifications/{connectionId}',
        handler: webhook.handler,
        functionName: 'crm-webhook',
      },
    ],
  });
  return { stop: () => api.stop() };
};

const startSyncWorker = async (settings: SyncWorkerProcessSettings) => {
  // Imported only now: handlers read their configuration at module scope, as in Lambda.
  const worker = await import('../../functions/sync-worker');
  const poller = startSqsPoller({
    sqs: createAwsClients().sqs,
    queueUrl: settings.queueUrl,
    queueArn: settings.queueArn,
    handler: worker.handler,
    functionName: 'sync-worker',
    batchSize: settings.batchSize,
    maxConcurrency: settings.maxConcurrency,
    onError: (error) => logger.error('local poller error', { error: errorMessage(error) }),
  });
  return { stop: () => poller.stop() };
};

const startScheduled = async (settings: ScheduledProcessSettings) => {
  const [releaseDeferred, renewChannels, reconcileSweep] = await Promise.all([
    import('../../functions/release-deferred'),
    import('../../functions/renew-channels'),
    import('../../functions/reconcile-sweep'),
  ]);
  // At start, as a fresh deployment's first renew-channels run would: every connection gets its
  // Notification API channel before local mode reports itself ready.
  const renew = every('renew-channels', settings.renewChannelsEveryMs, renewChannels.handler, {
    runNow: true,
  });
  await renew.run();
  const schedules = [
    renew,
    every('release-deferred', settings.releaseDeferredEveryMs, releaseDeferred.handler, {
      runNow: false,
    }),
    ...(settings.reconcileSweepEveryMs > 0
      ? [
          every('reconcile-sweep', settings.reconcileSweepEveryMs, reconcileSweep.handler, {
            runNow: false,
          }),
        ]
      : []),
  ];
  return { stop: () => Promise.all(schedules.map((schedule) => schedule.stop())) };
};

const main = async (): Promise<void> => {
  const [role, rawSettings] = process.argv.slice(2);
  const send = (message: FunctionProcessMessage) => process.send?.(message);
  let stopping = false;
  let running: { stop(): Promise<unknown> } | undefined;
  const stop = async (exitCode: number) => {
    if (stopping) return;
    stopping = true;
    await running?.stop().catch(() => undefined);
    process.exit(exitCode);
  };
  process.on('SIGINT', () => undefined);
  process.on('SIGTERM', () => void stop(0));
  process.on('disconnect', () => void stop(0));
  process.on('message', (message: FunctionProcessMessage) => {
    if (message.type === 'stop') void stop(0);
  });
  const settings: unknown = JSON.parse(rawSettings ?? '{}');
  if (role === 'webhook') running = await startWebhook(settings as WebhookProcessSettings);
  else if (role === 'sync-worker')
    running = await startSyncWorker(settings as SyncWorkerProcessSettings);
  else if (role === 'scheduled')
    running = await startScheduled(settings as ScheduledProcessSettings);
  else throw new Error(`unknown function process role ${String(role)}`);
  if (stopping) return;
  send({ type: 'ready' });
};

main().catch((error: unknown) => {
  logger.error('local function process failed to start', { error: errorMessage(error) });
  process.exit(1);
});
