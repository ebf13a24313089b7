/**
 * `npm run cli -- <command>`: the operator's tools for failed work. Reads the same
 * configuration as the Lambda functions (ZOHO_SYNC_* variables, AWS credentials and region from
 * the environment), or, with `--local`, the running local mode's `.zoho-sync/local.json`.
 */
import { readFile } from 'node:fs/promises';
import { parseArgs } from 'node:util';
import { createAwsClients } from '../aws';
import { loadConfig, loadSecretPrefix } from '../config';
import { applyLocalEnvironment } from '../local/local-cli-environment';
import { logger } from '../observability';
import { setupConnection } from '../tokens';
import { createAccountsClient } from '../zoho';
import {
  breakerReset,
  breakerStatus,
  createCliContext,
  dlqExplain,
  dlqList,
  redrive,
} from './commands';

const USAGE = `usage: npm run cli -- <command> [--local]
  setup --connection <id> --file <connection.json> [--grant-code <code>]
                                                   validate a connection and store its secret
                                                   (a self-client grant code replaces refreshToken)
  dlq list [--connection <id>]                     list dead-lettered messages with their last error
  dlq explain <messageId>                          explain one from the error table
  redrive --connection <id> --message <messageId>  send one back to the sync queue (attempts reset)
  redrive --connection <id> --all                  send all of a connection back
  breaker status --connection <id>                 show a connection's circuit breaker
  breaker reset --connection <id>                  close it and release the parked work
  --local                                          use the running local mode (.zoho-sync/local.json)`;

class UsageError extends Error {
  override readonly name = 'UsageError';
}

const requireValue = (value: string | undefined, what: string): string => {
  if (value === undefined || value === '') throw new UsageError(`missing ${what}`);
  return value;
};

const main = async (argv: readonly string[]): Promise<string> => {
  const { values, positionals } = parseArgs({
    args: [...argv],
    allowPositionals: true,
    options: {
      connection: { type: 'string' },
      file: { type: 'string' },
      'grant-code': { type: 'string' },
      message: { type: 'string' },
      all: { type: 'boolean', default: false },
      local: { type: 'boolean', default: false },
      help: { type: 'boolean', default: false },
    },
  });
  const [command, subcommand, argument] = positionals;
  if (values.help || command === undefined) return USAGE;
  if (values.local) await applyLocalEnvironment();
  // The CLI's own output is the answer; keep routine log lines out of it.
  logger.setLogLevel('ERROR');
  if (command === 'setup') {
    const connectionId = requireValue(values.connection, '--connection');
    const secret: unknown = JSON.parse(await readFile(requireValue(values.file, '--file'), 'utf8'));
    const result = await setupConnection(
      {
        secretsManager: createAwsClients().secretsManager,
        accounts: createAccountsClient({ fetch, timeoutMs: 10_000 }),
        secretPrefix: loadSecretPrefix(),
      },
      {
        connectionId,
        secret,
        ...(values['grant-code'] === undefined ? {} : { grantCode: values['grant-code'] }),
      },
    );
    return `${result.created ? 'created' : 'updated'} secret ${result.secretId}`;
  }
  const context = createCliContext({ config: loadConfig(), clients: createAwsClients(), logger });
  const key = command === 'redrive' ? command : `${command} ${subcommand ?? ''}`;
  switch (key) {
    case 'dlq list':
      return dlqList(context, values.connection);
    case 'dlq explain':
      return dlqExplain(context, requireValue(argument, 'message id'));
    case 'redrive': {
      const connectionId = requireValue(values.connection, '--connection');
      if ((values.message === undefined) === !values.all) {
        throw new UsageError('redrive needs either --message <messageId> or --all');
      }
      return redrive(context, {
        connectionId,
        ...(values.message === undefined ? { all: true } : { messageId: values.message }),
      });
    }
    case 'breaker status':
      return breakerStatus(context, requireValue(values.connection, '--connection'));
    case 'breaker reset':
      return breakerReset(context, requireValue(values.connection, '--connection'));
    default:
      throw new UsageError(`unknown command: ${positionals.join(' ')}`);
  }
};

main(process.argv.slice(2)).then(
  (output) => {
    console.log(output);
  },
  (error: unknown) => {
    const message = error instanceof Error ? error.message : String(error);
    console.error(`zoho-sync: ${message}`);
    if (error instanceof UsageError) console.error(USAGE);
    process.exitCode = error instanceof UsageError ? 2 : 1;
  },
);
