import { randomBytes } from 'node:crypto';
import { ReceiveMessageCommand, type SQSClient } from '@aws-sdk/client-sqs';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import type { ConnectionSecret } from '../../lib/config';
import { logger } from '../../lib/observability';
import { readAccessTokenSecret } from '../../lib/tokens/access-token-secret';
import { runLocalCli, writeLocalState } from '../helpers/cli';
import { lambdaContext, webhookEvent } from '../helpers/events';
import { CONNECTION_ID, ORG_ID, type Pipeline, startPipeline } from '../helpers/pipeline';

/**
 * Secret scan: the whole local pipeline (webhook function -> SQS -> worker -> Books, a token
 * expiry, a revoked refresh token, a record that dead-letters with an alert, refused webhooks,
 * and the CLI) runs with planted credentials, and every log line, answer, error, alert, DLQ
 * message and CLI output is searched for them: there must be 0 hits.
 */

// The most verbose level for every function: Powertools resets a logger to the level it was
// built with on each invocation, so the environment must say DEBUG before lib/ is imported.
vi.hoisted(() => {
  process.env.POWERTOOLS_LOG_LEVEL = 'DEBUG';
});

const hex = (bytes: number) => randomBytes(bytes).toString('hex');

/** The values that must never appear, and the forms in which they could leak. */
const leakForms = (value: string): string[] => {
  const forms = new Set([value, encodeURIComponent(value), JSON.stringify(value).slice(1, -1)]);
  // A Zoho token's random parts leak it just as well as the whole token.
  for (const part of value.split('.')) if (part.length >= 16) forms.add(part);
  return [...forms];
};

const receiveAll = async (sqs: SQSClient, queueUrl: string): Promise<string[]> => {
  const bodies: string[] = [];
  // VisibilityTimeout 0 would hand back the same messages; keep them hidden while we read.
  for (;;) {
    const result = await sqs.send(
      new ReceiveMessageCommand({
        QueueUrl: queueUrl,
        MaxNumberOfMessages: 10,
        WaitTimeSeconds: 0,
        VisibilityTimeout: 60,
        MessageAttributeNames: ['All'],
        MessageSystemAttributeNames: ['All'],
      }),
    );
    const messages = result.Messages ?? [];
    if (messages.length === 0) return bodies;
    bodies.push(...messages.map((message) => JSON.stringify(message)));
  }
};

describe('secret scan: planted credentials never leave Secrets Manager', () => {
  let pipeline: Pipeline;
  const output: string[] = [];
  const planted = new Map<string, string>();
  const REVOKED_ID = 'revoked-co';

  const capture = (chunk: unknown): boolean => {
    output.push(typeof chunk === 'string' ? chunk : Buffer.from(chunk as Uint8Array).toString());
    return true;
  };

  beforeAll(async () => {
    pipeline = await startPipeline({ extraEnv: { POWERTOOLS_LOG_LEVEL: 'DEBUG' } });
    // Plant distinctive credentials on the connection the CLI's state file names, and on a
    // second connection whose refresh token Zoho revokes.
    const plantedSecret = (label: string): ConnectionSecret => {
      const credentials = {
        clientId: `1000.${hex(8).toUpperCase()}`,
        clientSecret: `${hex(21)}`,
        refreshToken: `1000.${hex(16)}.${hex(16)}`,
      };
      pipeline.simulator.addClient(credentials);
      const secret: ConnectionSecret = {
        ...pipeline.secret,
        ...credentials,
        webhookSecret: `whsec-${label}-${hex(16)}`,
      };
      planted.set(`${label} client secret`, secret.clientSecret);
      planted.set(`${label} refresh token`, secret.refreshToken);
      planted.set(`${label} webhook secret`, secret.webhookSecret ?? '');
      return secret;
    };
    await pipeline.env.putConnection(CONNECTION_ID, plantedSecret(CONNECTION_ID));
    const revoked = plantedSecret(REVOKED_ID);
    await pipeline.env.putConnection(REVOKED_ID, revoked);
    pipeline.simulator.revokeRefreshToken(revoked.refreshToken);
  });

  afterAll(async () => {
    vi.restoreAllMocks();
    await pipeline?.stop();
  });

  it('finds 0 planted secrets in logs, answers, errors, alerts, DLQ messages and CLI output', async () => {
    const { env, simulator } = pipeline;
    const secretOf = (label: string) => planted.get(label) ?? '';
    const webhookSecret = secretOf(`${CONNECTION_ID} webhook secret`);
    const answers: string[] = [];
    const errors: unknown[] = [];
    const send = async (
      connectionId: string,
      body: string,
      options: { token?: string; query?: Record<string, string>; contentType?: string } = {},
    ) => {
      const response = await pipeline.webhook(
        webhookEvent({ connectionId, body, ...options }),
        lambdaContext('crm-webhook'),
      );
      answers.push(JSON.stringify(response));
      return response.statusCode;
    };
    const drain = async () => {
      try {
        await pipeline.drain();
      } catch (error) {
        errors.push(error);
      }
    };
    const rememberAccessToken = async () => {
      const record = await readAccessTokenSecret(
        { secretsManager: env.clients.secretsManager, secretPrefix: env.config.secretPrefix },
        CONNECTION_ID,
      );
      if (record !== undefined) planted.set(`access token ${planted.size}`, record.accessToken);
    };

    const stdout = vi.spyOn(process.stdout, 'write').mockImplementation(capture);
    const stderr = vi.spyOn(process.stderr, 'write').mockImplementation(capture);
    const consoleOutputs = (['log', 'info', 'warn', 'error', 'debug'] as const).map((method) =>
      vi.spyOn(console, method).mockImplementation((...args: unknown[]) => {
        capture(args.map((arg) => (typeof arg === 'string' ? arg : JSON.stringify(arg))).join(' '));
      }),
    );
    logger.setLogLevel('DEBUG');
    let stateFile = '';
    try {
      // Act 1: a workflow webhook (token in the header) syncs an account to Books.
      simulator.putCrmRecord('Accounts', {
        id: '4100000000000000001',
        Account_Name: 'Planted Ltd',
      });
      expect(
        await send(CONNECTION_ID, 'module=Accounts&id=4100000000000000001', {
          token: webhookSecret,
        }),
      ).toBe(202);
      await drain();
      await rememberAccessToken();

      // Act 2: the access token expires mid-run (Zoho answers 57); the token sits in ?token=.
      simulator.expireAccessTokens();
      simulator.putCrmRecord('Contacts', { id: '4100000000000000002', Last_Name: 'Planted' });
      expect(
        await send(CONNECTION_ID, 'module=Contacts&id=4100000000000000002', {
          query: { token: webhookSecret },
        }),
      ).toBe(202);
      await drain();
      await rememberAccessToken();

      // Act 3: a Notification API callback with the token in its body.
      simulator.putCrmRecord('Products', {
        id: '4100000000000000003',
        Product_Name: 'Gadget',
        Unit_Price: 5,
      });
      const callback = JSON.stringify({
        module: 'Products',
        ids: ['4100000000000000003'],
        operation: 'insert',
        channel_id: '1000000068001',
        token: webhookSecret,
      });
      expect(await send(CONNECTION_ID, callback, { contentType: 'application/json' })).toBe(202);
      await drain();

      // Act 4: refused webhooks that carry secrets: wrong tenant, wrong token, a secret as module.
      expect(await send(REVOKED_ID, 'module=Accounts&id=1', { token: webhookSecret })).toBe(401);
      expect(
        await send(CONNECTION_ID, 'module=Accounts&id=1', { token: `${webhookSecret}x` }),
      ).toBe(401);
      expect(
        await send(CONNECTION_ID, `module=${webhookSecret}&id=1`, { token: webhookSecret }),
      ).toBe(422);
      expect(
        await send(
          CONNECTION_ID,
          `module=Accounts&id=${secretOf(`${CONNECTION_ID} refresh token`)}`,
          {
            token: webhookSecret,
          },
        ),
      ).toBe(400);

      // Act 5: a record that cannot sync (no name): dead-lettered at once, with one alert.
      simulator.putCrmRecord('Accounts', {
        id: '4100000000000000004',
        Website: 'https://x.example',
      });
      expect(
        await send(CONNECTION_ID, 'module=Accounts&id=4100000000000000004', {
          token: webhookSecret,
        }),
      ).toBe(202);
      await drain();

      // Act 6: the revoked refresh token: Zoho refuses it, the admin is alerted.
      simulator.putCrmRecord('Accounts', { id: '4100000000000000005', Account_Name: 'Revoked Co' });
      expect(
        await send(REVOKED_ID, 'module=Accounts&id=4100000000000000005', {
          token: secretOf(`${REVOKED_ID} webhook secret`),
        }),
      ).toBe(202);
      await drain();

      // Act 7: the CLI, human and JSON output.
      stateFile = await writeLocalState(pipeline);
      const dlqList = await runLocalCli(stateFile, ['dlq', 'list', '--json']);
      const deadLetterIds = (JSON.parse(dlqList.out) as Array<{ messageId: string }>).map(
        (entry) => entry.messageId,
      );
      expect(deadLetterIds.length).toBeGreaterThanOrEqual(1);
      const cliRuns = [
        dlqList,
        await runLocalCli(stateFile, ['dlq', 'list']),
        await runLocalCli(stateFile, ['dlq', 'explain', deadLetterIds[0] ?? '']),
        await runLocalCli(stateFile, ['status']),
        await runLocalCli(stateFile, ['status', '--json']),
        await runLocalCli(stateFile, [
          'breaker',
          'status',
          '--connection',
          CONNECTION_ID,
          '--json',
        ]),
        await runLocalCli(stateFile, ['channels', 'list', '--json']),
        await runLocalCli(stateFile, ['doctor', '--connection', CONNECTION_ID]),
      ];
      for (const run of cliRuns) answers.push(run.out, run.err);
    } finally {
      stdout.mockRestore();
      stderr.mockRestore();
      for (const spy of consoleOutputs) spy.mockRestore();
      logger.setLogLevel('WARN');
    }

    // Collect: every alert in the admin's inbox, every DLQ message, anything left queued.
    const alerts = await receiveAll(env.clients.sqs, env.resources.alertQueueUrl);
    const deadLetters = await receiveAll(env.clients.sqs, env.resources.deadLetterQueueUrl);
    const leftovers = await receiveAll(env.clients.sqs, env.resources.syncQueueUrl);
    const errorTexts = errors.map((error) =>
      error instanceof Error
        ? `${error.name} ${error.message} ${error.stack} ${JSON.stringify(error)}`
        : String(error),
    );

    // Assess: the run did what it claims, so the scan covers real output.
    expect(simulator.books.contacts(ORG_ID).length).toBeGreaterThanOrEqual(2);
    expect(simulator.books.items(ORG_ID)).toHaveLength(1);
    expect(alerts.length).toBeGreaterThanOrEqual(2);
    expect(deadLetters.length).toBeGreaterThanOrEqual(1);
    expect([...planted.keys()].filter((label) => label.startsWith('access token'))).toHaveLength(2);
    const logLevels = new Set(output.map((line) => /"level":"(\w+)"/.exec(line)?.[1]));
    expect(logLevels).toContain('DEBUG');
    expect(logLevels).toContain('INFO');
    expect(output.length).toBeGreaterThan(30);

    const sources: Record<string, string[]> = {
      'log line': output,
      'webhook answer or CLI output': answers,
      error: errorTexts,
      alert: alerts,
      'DLQ message': deadLetters,
      'queued message': leftovers,
    };
    const hits: string[] = [];
    for (const [label, value] of planted) {
      for (const form of leakForms(value)) {
        for (const [source, texts] of Object.entries(sources)) {
          const count = texts.filter((text) => text.includes(form)).length;
          if (count > 0) hits.push(`${label} in ${count} ${source}(s)`);
        }
      }
    }
    // The scanner itself finds a planted value when there is one.
    expect(leakForms(webhookSecret).some((form) => `x${webhookSecret}y`.includes(form))).toBe(true);
    expect(hits).toStrictEqual([]);
  });
});
