/**
 * `zoho-sync`: the operator's command line, built on commander. Every command has --help;
 * every command that reports has --json. Exit codes: 0 ok, 1 a check or a sync failed,
 * 2 usage. `--local` works against the running local mode (.zoho-sync/local.json); without it
 * the CLI works against the deployed stack through the real AWS SDK (region and profile from the
 * environment, resource names from the stack's CloudFormation outputs or from flags).
 */
import { readFile } from 'node:fs/promises';
import { Command, CommanderError, Option } from 'commander';
import { createAwsClients } from '../aws';
import { runBackfill } from '../backfill';
import { loadSecretPrefix } from '../config';
import { runDoctor } from '../doctor/run-doctor';
import { logger, redactingJsonReplacer } from '../observability';
import { SYNCED_CRM_MODULES } from '../sync/crm-modules';
import { setupConnection } from '../tokens';
import {
  finishWebhookSecretRotation,
  migrateAllLegacyWebhookSecrets,
  migrateLegacyWebhookSecret,
  startWebhookSecretRotation,
} from '../webhooks/webhook-secret-rotation';
import { createAccountsClient } from '../zoho';
import {
  parseModules,
  parseShare,
  parseSince,
  progressLine,
  renderBackfillResult,
} from './backfill';
import { listChannels, renderChannelListings, renderRenewal, renewChannelsNow } from './channels';
import { type CliIo, EXIT, processIo, UsageError } from './cli-io';
import { type CliTarget, resolveCliTarget, type TargetOptions } from './cli-target';
import {
  breakerReset,
  breakerStatus,
  type CliContext,
  createCliContext,
  describeSetup,
  dlqExplain,
  dlqList,
  redrive,
} from './commands';
import { renderDoctorReport } from './doctor';
import { collectStatus, renderStatus } from './status';
import {
  renderMigration,
  renderRotationFinished,
  renderRotationStarted,
  rotationDeps,
} from './webhook-secret';

/** What an action needs: the target, the shared context, the output. */
export interface CliRuntime {
  readonly io: CliIo;
  target(command: Command): Promise<CliTarget>;
  context(command: Command): Promise<{ target: CliTarget; context: CliContext }>;
  /** Prints `data` as JSON with --json, else `text()`. */
  report(command: Command, data: unknown, text: () => string): void;
  /** Sets the exit code of this run (the highest wins). */
  fail(code: number): void;
}

const targetOptionsOf = (command: Command): TargetOptions => {
  const options = command.optsWithGlobals() as Record<string, unknown>;
  const text = (name: string) =>
    typeof options[name] === 'string' ? (options[name] as string) : undefined;
  const picked: Record<string, unknown> = { local: options.local === true };
  for (const name of [
    'stateFile',
    'stack',
    'region',
    'profile',
    'table',
    'queueUrl',
    'dlqUrl',
    'topicArn',
    'publicBaseUrl',
  ]) {
    const value = text(name);
    if (value !== undefined) picked[name] = value;
  }
  return picked as TargetOptions;
};

const connectionOption = () =>
  new Option('-c, --connection <id>', 'the connection id (the secret is <prefix><id>)');
const jsonOption = () => new Option('--json', 'print the result as JSON');

const requireConnection = (value: unknown): string => {
  if (typeof value !== 'string' || value === '') throw new UsageError('missing --connection <id>');
  return value;
};

/** Builds the program. Exported for tests, which run it in-process. */
export const createProgram = (io: CliIo, onExit: (code: number) => void): Command => {
  let cachedTarget: Promise<CliTarget> | undefined;
  let cachedContext: Promise<{ target: CliTarget; context: CliContext }> | undefined;
  const runtime: CliRuntime = {
    io,
    target(command) {
      cachedTarget ??= resolveCliTarget(targetOptionsOf(command));
      return cachedTarget;
    },
    context(command) {
      cachedContext ??= runtime.target(command).then((target) => ({
        target,
        context: createCliContext({ config: target.config, clients: target.clients, logger }),
      }));
      return cachedContext;
    },
    report(command, data, text) {
      if (command.opts().json === true) {
        io.out(JSON.stringify(data, redactingJsonReplacer, 2));
      } else {
        io.out(text());
      }
    },
    fail: onExit,
  };

  const program = new Command('zoho-sync')
    .description(
      'Operate zoho-sync: set up connections, check them (doctor), watch them (status), backfill existing records, and handle failed work.',
    )
    .addOption(new Option('--local', 'work against the running local mode (npm start)'))
    .addOption(
      new Option('--state-file <path>', 'local mode state file').default('.zoho-sync/local.json'),
    )
    .addOption(
      new Option('--stack <name>', 'deployed stack whose outputs name the resources').env(
        'ZOHO_SYNC_STACK',
      ),
    )
    .addOption(new Option('--region <region>', 'AWS region (default: from the environment)'))
    .addOption(new Option('--profile <profile>', 'AWS profile (default: from the environment)'))
    .addOption(new Option('--table <name>', 'DynamoDB table (overrides the stack output)'))
    .addOption(new Option('--queue-url <url>', 'sync queue URL (overrides the stack output)'))
    .addOption(new Option('--dlq-url <url>', 'dead-letter queue URL (overrides the stack output)'))
    .addOption(new Option('--topic-arn <arn>', 'alert topic ARN (overrides the stack output)'))
    .addOption(new Option('--public-base-url <url>', 'the HTTP API base URL (for channel renewal)'))
    .showHelpAfterError('(add --help for usage)')
    .exitOverride()
    .configureOutput({
      writeOut: (text) => io.out(text.replace(/\n$/, '')),
      writeErr: (text) => io.err(text.replace(/\n$/, '')),
    });

  program
    .command('setup')
    .description(
      'validate a connection file and store its two secrets: the credentials and the webhook secret',
    )
    .addOption(connectionOption().makeOptionMandatory())
    .requiredOption('--file <connection.json>', 'the connection secret as JSON')
    .option(
      '--grant-code <code>',
      'a self-client grant code; its refresh token replaces refreshToken',
    )
    .addOption(jsonOption())
    .action(async (options: Record<string, string>, command: Command) => {
      let secret: unknown;
      try {
        secret = JSON.parse(await readFile(options.file ?? '', 'utf8'));
      } catch (error) {
        throw new UsageError(
          `cannot read ${options.file}: ${error instanceof Error ? error.message : String(error)}`,
        );
      }
      // Setup needs Secrets Manager only: a stack's table and queues may not exist yet.
      const secretsManager =
        targetOptionsOf(command).local === true
          ? (await runtime.target(command)).clients.secretsManager
          : createAwsClients().secretsManager;
      const result = await setupConnection(
        {
          secretsManager,
          accounts: createAccountsClient({ fetch, timeoutMs: 10_000 }),
          secretPrefix: loadSecretPrefix(),
        },
        {
          connectionId: requireConnection(options.connection),
          secret,
          ...(options.grantCode === undefined ? {} : { grantCode: options.grantCode }),
        },
      );
      runtime.report(command, result, () => describeSetup(result));
    });

  const dlq = program.command('dlq').description('inspect the dead-letter queue');
  dlq
    .command('list')
    .description('list dead-lettered messages with their last error')
    .addOption(connectionOption())
    .addOption(jsonOption())
    .action(async (options: Record<string, string>, command: Command) => {
      const { context } = await runtime.context(command);
      if (command.opts().json === true) {
        const deadLetters = await context.deadLetters.list(
          options.connection === undefined ? {} : { connectionId: options.connection },
        );
        runtime.report(
          command,
          deadLetters.map(({ body: _body, ...rest }) => rest),
          () => '',
        );
        return;
      }
      io.out(await dlqList(context, options.connection));
    });
  dlq
    .command('explain')
    .description('explain one dead-lettered message from the error table')
    .argument('<messageId>', 'the sync message id (or SQS message id)')
    .addOption(jsonOption())
    .action(async (messageId: string, _options: unknown, command: Command) => {
      const { context } = await runtime.context(command);
      if (command.opts().json === true) {
        const deadLetter = await context.deadLetters.find(messageId);
        if (deadLetter === undefined) {
          throw new Error(`no message ${messageId} in the dead-letter queue`);
        }
        runtime.report(command, deadLetter, () => '');
        return;
      }
      io.out(await dlqExplain(context, messageId));
    });

  program
    .command('redrive')
    .description('send dead-lettered messages back to the sync queue, attempts reset')
    .addOption(connectionOption().makeOptionMandatory())
    .option('--message <messageId>', 'only this message')
    .option('--all', 'every dead-lettered message of the connection')
    .action(async (options: Record<string, unknown>, command: Command) => {
      const connectionId = requireConnection(options.connection);
      const message = typeof options.message === 'string' ? options.message : undefined;
      if ((message === undefined) === (options.all !== true)) {
        throw new UsageError('redrive needs either --message <messageId> or --all');
      }
      const { context } = await runtime.context(command);
      io.out(
        await redrive(context, {
          connectionId,
          ...(message === undefined ? { all: true } : { messageId: message }),
        }),
      );
    });

  const breaker = program.command('breaker').description("a connection's circuit breaker");
  breaker
    .command('status')
    .description("show a connection's circuit breaker")
    .addOption(connectionOption().makeOptionMandatory())
    .addOption(jsonOption())
    .action(async (options: Record<string, string>, command: Command) => {
      const { context } = await runtime.context(command);
      const connectionId = requireConnection(options.connection);
      if (command.opts().json === true) {
        runtime.report(command, await context.breaker.status(connectionId), () => '');
        return;
      }
      io.out(await breakerStatus(context, connectionId));
    });
  breaker
    .command('reset')
    .description('close the breaker and release the parked work')
    .addOption(connectionOption().makeOptionMandatory())
    .action(async (options: Record<string, string>, command: Command) => {
      const { context } = await runtime.context(command);
      io.out(await breakerReset(context, requireConnection(options.connection)));
    });

  program
    .command('doctor')
    .description(
      'run the support checklist live: secret, token, data centre, organization, scopes, unique custom field, channel, queues, budget and breaker',
    )
    .addOption(connectionOption().makeOptionMandatory())
    .addOption(jsonOption())
    .action(async (options: Record<string, string>, command: Command) => {
      const target = await runtime.target(command);
      const report = await runDoctor(
        { config: target.config, clients: target.clients, logger },
        requireConnection(options.connection),
      );
      runtime.report(command, report, () => renderDoctorReport(report, io));
      if (report.failed > 0) runtime.fail(EXIT.failed);
    });

  program
    .command('backfill')
    .description(
      'sync the records that already exist in CRM, through the same queue, budget and quota as webhooks; resumable',
    )
    .addOption(connectionOption().makeOptionMandatory())
    .option(
      '--module <modules>',
      `comma-separated CRM modules (default: ${SYNCED_CRM_MODULES.join(',')})`,
    )
    .option('--since <date>', 'only records modified after this date (ISO 8601)')
    .option('--share <fraction>', "most of each window's Books budget the backfill may take", '0.5')
    .option('--no-wait', 'queue everything and exit; the worker syncs it at the share')
    .option('--restart', 'forget the checkpoint of this command and start over')
    .addOption(jsonOption())
    .action(async (options: Record<string, unknown>, command: Command) => {
      const text = (name: string) =>
        typeof options[name] === 'string' ? (options[name] as string) : undefined;
      const connectionId = requireConnection(options.connection);
      const backfillOptions = {
        connectionId,
        modules: parseModules(text('module')),
        sinceMs: parseSince(text('since')),
        share: parseShare(text('share')),
        wait: options.wait !== false,
        restart: options.restart === true,
      };
      const target = await runtime.target(command);
      const json = command.opts().json === true;
      let stop = false;
      const onSigint = () => {
        if (stop) process.exit(130);
        stop = true;
      };
      process.on('SIGINT', onSigint);
      let lastLineAtMs = 0;
      try {
        const result = await runBackfill(
          {
            config: target.config,
            clients: target.clients,
            logger,
            shouldStop: () => stop,
            onProgress: (progress) => {
              if (json) return;
              if (io.isTTY) {
                io.progress?.(progressLine(progress, io));
                return;
              }
              // Off a terminal, a line now and then, not a redraw.
              if (Date.now() - lastLineAtMs >= 10_000) {
                lastLineAtMs = Date.now();
                io.out(progressLine(progress, io));
              }
            },
          },
          backfillOptions,
        );
        if (io.isTTY && !json) io.progress?.('');
        runtime.report(command, result, () => {
          const text = renderBackfillResult(result, io, {
            connectionId,
            wait: backfillOptions.wait,
          });
          // On a terminal the last progress line is still on screen: do not print it twice.
          return io.isTTY ? text.split('\n').slice(1).join('\n') : text;
        });
        if (result.interrupted) runtime.fail(130);
        else if (result.failed > 0) runtime.fail(EXIT.failed);
      } finally {
        process.off('SIGINT', onSigint);
      }
    });

  program
    .command('status')
    .description(
      'per connection: quota today, budget this window, breaker, queue, deferred and parked work, DLQ, channel expiry, last sweep',
    )
    .addOption(connectionOption())
    .addOption(jsonOption())
    .action(async (options: Record<string, string>, command: Command) => {
      const { target, context } = await runtime.context(command);
      const report = await collectStatus(
        target,
        context,
        options.connection === undefined ? undefined : [options.connection],
      );
      runtime.report(command, report, () => renderStatus(report, io));
    });

  const channels = program
    .command('channels')
    .description("the connections' CRM Notification API channels");
  channels
    .command('list')
    .description("zoho-sync's record of each channel next to Zoho's own list (1 CRM credit each)")
    .addOption(connectionOption())
    .addOption(jsonOption())
    .action(async (options: Record<string, string>, command: Command) => {
      const target = await runtime.target(command);
      const listings = await listChannels(
        target,
        options.connection === undefined ? undefined : [options.connection],
      );
      runtime.report(command, listings, () => renderChannelListings(listings, io, Date.now()));
    });
  channels
    .command('renew')
    .description('run the scheduled channel renewal now (renews what is missing or expiring)')
    .addOption(connectionOption())
    .option('--force', 'enable the channel again even when it is fresh')
    .addOption(jsonOption())
    .action(async (options: Record<string, unknown>, command: Command) => {
      const target = await runtime.target(command);
      const summary = await renewChannelsNow(
        target,
        typeof options.connection === 'string' ? [options.connection] : undefined,
        options.force === true,
      );
      runtime.report(command, summary, () => renderRenewal(summary, io));
      if (summary.failed > 0) runtime.fail(EXIT.failed);
    });

  const webhookSecret = program
    .command('webhook-secret')
    .description("a connection's webhook secret (zoho-sync/<id>/webhook)");
  webhookSecret
    .command('rotate')
    .description(
      'add a next webhook secret (both accepted), move the notification channel to it and print the CRM settings to change; --finish retires the old one',
    )
    .addOption(connectionOption().makeOptionMandatory())
    .option('--finish', 'retire the old secret once every CRM webhook sends the new one')
    .action(async (options: Record<string, unknown>, command: Command) => {
      const connectionId = requireConnection(options.connection);
      const deps = rotationDeps(await runtime.target(command));
      if (options.finish === true) {
        io.out(renderRotationFinished(await finishWebhookSecretRotation(deps, connectionId)));
        return;
      }
      const started = await startWebhookSecretRotation(deps, connectionId);
      io.out(renderRotationStarted(started, deps.baseUrl));
      if (started.channel.status === 'failed') runtime.fail(EXIT.failed);
    });
  webhookSecret
    .command('migrate')
    .description(
      'move a webhook secret kept inside the credentials (before the split) to its own secret, and remove it from the credentials',
    )
    .addOption(connectionOption())
    .option('--all', 'every connection')
    .addOption(jsonOption())
    .action(async (options: Record<string, unknown>, command: Command) => {
      const connectionId = typeof options.connection === 'string' ? options.connection : undefined;
      if ((connectionId === undefined) === (options.all !== true)) {
        throw new UsageError('webhook-secret migrate needs either --connection <id> or --all');
      }
      // Secrets Manager only, as setup: no table or queue is needed.
      const deps =
        targetOptionsOf(command).local === true
          ? {
              secretsManager: (await runtime.target(command)).clients.secretsManager,
              secretPrefix: (await runtime.target(command)).config.secretPrefix,
            }
          : { secretsManager: createAwsClients().secretsManager, secretPrefix: loadSecretPrefix() };
      const results =
        connectionId === undefined
          ? await migrateAllLegacyWebhookSecrets(deps)
          : [await migrateLegacyWebhookSecret(deps, connectionId)];
      runtime.report(command, results, () => renderMigration(results, deps.secretPrefix));
      if (results.some((result) => result.outcome === 'no-webhook-secret')) {
        runtime.fail(EXIT.failed);
      }
    });

  return program;
};

/**
 * Runs the CLI once and returns its exit code; never calls process.exit, so tests run it
 * in-process.
 */
export const runCli = async (argv: readonly string[], io: CliIo = processIo()): Promise<number> => {
  let exitCode: number = EXIT.ok;
  const program = createProgram(io, (code) => {
    exitCode = Math.max(exitCode, code);
  });
  // The CLI's own output is the answer; keep routine log lines out of it.
  logger.setLogLevel('SILENT');
  try {
    await program.parseAsync([...argv], { from: 'user' });
    return exitCode;
  } catch (error) {
    if (error instanceof CommanderError) {
      if (error.code === 'commander.helpDisplayed' || error.code === 'commander.version') {
        return EXIT.ok;
      }
      return EXIT.usage;
    }
    const message = error instanceof Error ? error.message : String(error);
    io.err(`zoho-sync: ${message}`);
    return error instanceof UsageError ? EXIT.usage : EXIT.failed;
  }
};
