/**
 * `npm start`: the whole zoho-sync pipeline on this machine. Starts the AWS stand-ins and
 * the Zoho simulator (or uses --zoho), provisions what the CDK stack provisions in AWS, runs
 * the real Lambda handlers behind a local HTTP API and an SQS poller, and stays in the
 * foreground until Ctrl-C, when it stops everything it started.
 */
import { randomBytes, randomUUID } from 'node:crypto';
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { parseArgs } from 'node:util';
import { createAwsClients } from '../aws';
import { type ConnectionSecret, connectionIdSchema, connectionSecretSchema } from '../config';
import { logger } from '../observability';
import { startLocalHttpApi } from './api-gateway-adapter';
import {
  functionEnvironment,
  provisionLocalResources,
  standInEnvironment,
  startAwsStandIns,
} from './aws-stand-ins';
import { DEMO_BOOKS_ORGANIZATION_ID, DEMO_CRM_RECORDS, demoConnectionSecret } from './demo-data';
import { fakeLambdaContext } from './lambda-context';
import { putConnectionSecret } from './provision';
import { startSqsPoller } from './sqs-poller';
import { startZohoSimulator, type ZohoSimulator } from './zoho-simulator';

const USAGE = `usage: npm start -- [--zoho <baseUrl>] [--connection <file.json>] [--port <n>]
  --zoho <baseUrl>        use an external Zoho-compatible endpoint (accounts and API on that base)
                          instead of the embedded simulator
  --connection <file>     load a connection (the secret's JSON plus "connectionId") instead of the demo one
  --port <n>              port of the local webhook API (default 3000; 0 picks a free one)
  --concurrency <n>       worker invocations in parallel (default 2)
  --batch-size <n>        SQS records per worker invocation (default 10)`;

const STATE_DIR = '.zoho-sync';
/** How often local mode runs release-deferred (the stack schedules it every 5 minutes). */
const RELEASE_DEFERRED_EVERY_MS = 60_000;

const readConnectionFile = async (
  path: string,
): Promise<{ connectionId: string; secret: ConnectionSecret }> => {
  const json: unknown = JSON.parse(await readFile(path, 'utf8'));
  const connectionId = connectionIdSchema.safeParse(
    (json as { connectionId?: unknown }).connectionId,
  );
  const secret = connectionSecretSchema.safeParse(json);
  if (!connectionId.success || !secret.success) {
    const fields = [
      ...(connectionId.success ? [] : ['connectionId']),
      ...(secret.success ? [] : secret.error.issues.map((issue) => issue.path.join('.'))),
    ];
    throw new Error(`${path} is not a valid connection: check ${fields.join(', ')}`);
  }
  return { connectionId: connectionId.data, secret: secret.data };
};

const main = async (): Promise<void> => {
  // Node 20 is supported until 2027; keep the SDK's reminder out of the log stream.
  process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= 'true';
  const { values } = parseArgs({
    options: {
      zoho: { type: 'string' },
      connection: { type: 'string' },
      port: { type: 'string', default: '3000' },
      concurrency: { type: 'string', default: '2' },
      'batch-size': { type: 'string', default: '10' },
      help: { type: 'boolean', default: false },
    },
  });
  if (values.help) {
    console.log(USAGE);
    return;
  }
  const stops: Array<() => Promise<void>> = [];
  const stopAll = async () => {
    for (const stop of stops.reverse()) await stop().catch(() => undefined);
  };
  let stopping = false;
  const shutdown = (signal: string) => {
    if (stopping) return;
    stopping = true;
    logger.info('local mode stopping', { signal });
    void stopAll().then(() => process.exit(0));
  };
  process.on('SIGINT', () => shutdown('SIGINT'));
  process.on('SIGTERM', () => shutdown('SIGTERM'));

  try {
    const startedAt = Date.now();
    const standIns = await startAwsStandIns();
    stops.push(() => standIns.stop());
    Object.assign(process.env, standInEnvironment(standIns.endpoints));

    let simulator: ZohoSimulator | undefined;
    let connectionId: string;
    let secret: ConnectionSecret;
    if (values.connection !== undefined) {
      ({ connectionId, secret } = await readConnectionFile(values.connection));
      if (values.zoho !== undefined) secret = { ...secret, accountsUrl: values.zoho };
    } else {
      const credentials = {
        webhookSecret: randomBytes(18).toString('base64url'),
        clientSecret: randomBytes(20).toString('hex'),
        refreshToken: `1000.${randomBytes(16).toString('hex')}.${randomBytes(16).toString('hex')}`,
      };
      if (values.zoho === undefined) {
        const started = await startZohoSimulator();
        stops.push(() => started.stop());
        simulator = started;
      }
      connectionId = 'demo';
      secret = demoConnectionSecret({
        accountsUrl: values.zoho ?? simulator?.baseUrl ?? '',
        ...credentials,
      });
      if (simulator !== undefined) {
        simulator.addClient({
          clientId: secret.clientId,
          clientSecret: secret.clientSecret,
          refreshToken: secret.refreshToken,
        });
        simulator.addOrganization({
          organizationId: DEMO_BOOKS_ORGANIZATION_ID,
          plan: 'professional',
        });
        for (const [module, records] of Object.entries(DEMO_CRM_RECORDS)) {
          for (const record of records) simulator.putCrmRecord(module, { ...record });
        }
      }
    }

    const clients = createAwsClients({ region: 'us-east-1' });
    const resources = await provisionLocalResources(clients, {
      prefix: 'zoho-sync-local',
      visibilityTimeoutSeconds: 30,
    });
    await putConnectionSecret(clients.secretsManager, {
      secretPrefix: 'zoho-sync/',
      connectionId,
      secret,
    });
    Object.assign(process.env, functionEnvironment(resources), {
      ZOHO_SYNC_SECRET_PREFIX: 'zoho-sync/',
    });

    // Imported only now: handlers read their configuration at module scope, as in Lambda.
    const webhook = await import('../../functions/crm-webhook');
    const worker = await import('../../functions/sync-worker');

    const routing = {
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
    };
    const requestedPort = Number(values.port);
    const api = await startLocalHttpApi({ port: requestedPort, ...routing }).catch(
      async (error: NodeJS.ErrnoException) => {
        // The default port may be taken; scripts read the real URL from .zoho-sync/local.json.
        if (error.code !== 'EADDRINUSE' || process.argv.includes('--port')) throw error;
        logger.warn('port taken; using a free one', { port: requestedPort });
        return startLocalHttpApi({ port: 0, ...routing });
      },
    );
    stops.push(() => api.stop());
    const poller = startSqsPoller({
      sqs: clients.sqs,
      queueUrl: resources.syncQueueUrl,
      queueArn: resources.syncQueueArn,
      handler: worker.handler,
      functionName: 'sync-worker',
      batchSize: Number(values['batch-size']),
      maxConcurrency: Number(values.concurrency),
      onError: (error) =>
        logger.error('local poller error', {
          error: error instanceof Error ? error.message : String(error),
        }),
    });
    stops.push(() => poller.stop());
    // The schedule the stack gives release-deferred (parked work back onto the queue), locally.
    const releaseDeferred = await import('../../functions/release-deferred');
    const releaseTimer = setInterval(() => {
      const event = {
        version: '0',
        id: randomUUID(),
        'detail-type': 'Scheduled Event' as const,
        source: 'aws.events' as const,
        account: '000000000000',
        time: new Date().toISOString(),
        region: 'us-east-1',
        resources: [],
        detail: {},
      };
      releaseDeferred
        .handler(event, fakeLambdaContext('release-deferred', randomUUID()))
        .catch((error: unknown) =>
          logger.error('local release-deferred run failed', {
            error: error instanceof Error ? error.message : String(error),
          }),
        );
    }, RELEASE_DEFERRED_EVERY_MS);
    stops.push(async () => clearInterval(releaseTimer));

    // The embedded simulator plays CRM's Notification API: subscribe the demo connection once, as
    // the renew-channels schedule does in AWS, so a CRM edit in the simulator syncs by itself.
    if (simulator !== undefined) {
      const { loadConfig } = await import('../config');
      const { createRenewChannelsDeps, renewChannels } = await import('../notifications');
      await renewChannels(
        createRenewChannelsDeps({ config: loadConfig(), clients, publicBaseUrl: api.url }),
        { connectionIds: [connectionId] },
      );
    }

    const webhookUrl = `${api.url}/webhooks/${connectionId}`;
    const zohoBaseUrl = simulator?.baseUrl ?? values.zoho ?? secret.accountsUrl;
    await mkdir(STATE_DIR, { recursive: true });
    await writeFile(
      `${STATE_DIR}/local.json`,
      `${JSON.stringify(
        {
          webhookUrl,
          notificationUrl: `${api.url}/notifications/${connectionId}`,
          connectionId,
          webhookSecret: secret.webhookSecret,
          webhookTokenHeader: 'X-Zoho-Sync-Token',
          zohoBaseUrl,
          simulatorStateUrl: simulator ? `${simulator.baseUrl}/__simulator/state` : undefined,
          endpoints: standIns.endpoints,
          queues: {
            syncQueueUrl: resources.syncQueueUrl,
            deadLetterQueueUrl: resources.deadLetterQueueUrl,
            alertInboxQueueUrl: resources.alertQueueUrl,
          },
          tables: { state: resources.tableName },
          alertTopicArn: resources.alertTopicArn,
          secretId: `zoho-sync/${connectionId}`,
          booksOrganizationId: secret.booksOrganizationId,
        },
        null,
        2,
      )}\n`,
    );

    const sampleRecordId = DEMO_CRM_RECORDS.Accounts[0].id;
    const curl = `curl -sS -X POST '${webhookUrl}' -H 'X-Zoho-Sync-Token: ${secret.webhookSecret}' -H 'Content-Type: application/x-www-form-urlencoded' --data 'module=Accounts&id=${sampleRecordId}'`;
    console.log(
      [
        '',
        `zoho-sync is running locally (started in ${Date.now() - startedAt} ms).`,
        '',
        `  Webhook URL:   ${webhookUrl}`,
        `  Zoho:          ${simulator ? `embedded simulator at ${simulator.baseUrl}` : zohoBaseUrl}`,
        '',
        'Send a sample CRM webhook (Accounts record in the demo CRM):',
        '',
        `  ${curl}`,
        '',
        'Where to look:',
        '  - this terminal: structured JSON logs; "record synced" names the Books contact id',
        ...(simulator ? [`  - Books state:  curl -s ${simulator.baseUrl}/__simulator/state`] : []),
        ...(simulator
          ? [
              `  - CRM edits sync by themselves (Notification API channel): curl -sS -X POST '${simulator.baseUrl}/__simulator/crm/Accounts' -H 'Content-Type: application/json' --data '{"id":"${sampleRecordId}","Account_Name":"Zylker Traders Ltd"}'`,
            ]
          : []),
        `  - everything a script needs: ${STATE_DIR}/local.json`,
        '',
        'Ctrl-C stops everything.',
        '',
      ].join('\n'),
    );
  } catch (error) {
    console.error(
      `zoho-sync local mode failed to start: ${error instanceof Error ? error.message : String(error)}`,
    );
    await stopAll();
    process.exit(1);
  }
};

void main();
