/**
 * `npm start`: the whole zoho-sync pipeline on this machine (local-mode.ts), in the foreground
 * until Ctrl-C, when it stops everything it started.
 */
import { logger } from '../observability';
import { DEMO_CRM_RECORDS } from './demo-data';
import { type LocalMode, startLocalMode } from './local-mode';
import { LOCAL_USAGE, LocalOptionsError, parseLocalOptions } from './local-options';

const banner = (local: LocalMode): string => {
  const { state, simulator } = local;
  const sampleRecordId = DEMO_CRM_RECORDS.Accounts[0].id;
  const curl = `curl -sS -X POST '${state.webhookUrl}' -H '${state.webhookTokenHeader}: ${state.webhookSecret}' -H 'Content-Type: application/x-www-form-urlencoded' --data 'module=Accounts&id=${sampleRecordId}'`;
  const others = state.connections.slice(1);
  return [
    '',
    `zoho-sync is running locally (started in ${local.startedInMs} ms).`,
    '',
    `  Webhook URL:   ${state.webhookUrl}`,
    ...others.map((connection) => `                 ${connection.webhookUrl}`),
    `  Zoho:          ${simulator ? `embedded simulator at ${simulator.baseUrl}` : state.zohoBaseUrl}`,
    `  Functions:     webhook (process ${local.processes.webhook.pid()}), sync worker (${local.processes.worker.pid()}), scheduled (${local.processes.scheduled.pid()}); each restarted if it dies`,
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
    `  - everything a script needs (every connection's URLs and secret): ${local.stateFile}`,
    '',
    'Ctrl-C stops everything.',
    '',
  ].join('\n');
};

const main = async (): Promise<void> => {
  // Node 20 is supported until 2027; keep the SDK's reminder out of the log stream.
  process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= 'true';
  let options: ReturnType<typeof parseLocalOptions>;
  try {
    options = parseLocalOptions(process.argv.slice(2));
  } catch (error) {
    if (!(error instanceof LocalOptionsError)) throw error;
    console.error(`${error.message}\n\n${LOCAL_USAGE}`);
    process.exit(2);
  }
  if (options === 'help') {
    console.log(LOCAL_USAGE);
    return;
  }
  let local: LocalMode | undefined;
  let stopping = false;
  const shutdown = (signal: string) => {
    if (stopping) return;
    stopping = true;
    logger.info('local mode stopping', { signal });
    void (local?.stop() ?? Promise.resolve()).finally(() => process.exit(0));
  };
  process.on('SIGINT', () => shutdown('SIGINT'));
  process.on('SIGTERM', () => shutdown('SIGTERM'));
  try {
    local = await startLocalMode({ options });
  } catch (error) {
    console.error(
      `zoho-sync local mode failed to start: ${error instanceof Error ? error.message : String(error)}`,
    );
    process.exit(1);
  }
  if (stopping) {
    await local.stop();
    return;
  }
  console.log(banner(local));
};

void main();
