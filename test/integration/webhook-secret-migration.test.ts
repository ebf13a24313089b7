import { createServer, type IncomingHttpHeaders } from 'node:http';
import { CreateSecretCommand, GetSecretValueCommand } from '@aws-sdk/client-secrets-manager';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { logger } from '../../lib/observability';
import { writeWebhookSecret } from '../../lib/tokens/webhook-secret-store';
import { runWebhookSecretMigration } from '../../lib/webhooks/migration-custom-resource';
import {
  migrateAllLegacyWebhookSecrets,
  migrateLegacyWebhookSecret,
} from '../../lib/webhooks/webhook-secret-rotation';
import { createTestEnvironment, type TestEnvironment } from '../helpers/local-environment';

const CREDENTIALS = {
  dataCenter: 'eu',
  clientId: '1000.MIGRATIONCLIENT',
  clientSecret: 'migration-client-secret-value',
  refreshToken: `1000.${'7'.repeat(32)}.${'8'.repeat(32)}`,
  booksOrganizationId: '60012345015',
  plan: 'standard',
};

/** CloudFormation's side of a custom resource: the pre-signed URL the function PUTs to. */
const startResponseUrl = async () => {
  const received: {
    method: string;
    headers: IncomingHttpHeaders;
    body: Record<string, unknown>;
  }[] = [];
  const server = createServer((request, response) => {
    const chunks: Buffer[] = [];
    request.on('data', (chunk: Buffer) => chunks.push(chunk));
    request.on('end', () => {
      received.push({
        method: request.method ?? '',
        headers: request.headers,
        body: JSON.parse(Buffer.concat(chunks).toString('utf8')) as Record<string, unknown>,
      });
      response.writeHead(200);
      response.end();
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const address = server.address();
  if (address === null || typeof address === 'string') throw new Error('no address');
  return {
    url: `http://127.0.0.1:${address.port}/cfn-response?X-Amz-Signature=abc`,
    received,
    stop: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
};

describe('migration from one secret to two', () => {
  let env: TestEnvironment;
  let responses: Awaited<ReturnType<typeof startResponseUrl>>;
  let secrets: {
    secretsManager: TestEnvironment['clients']['secretsManager'];
    secretPrefix: string;
  };

  const putLegacy = (connectionId: string, extra: Record<string, unknown> = {}) =>
    env.clients.secretsManager.send(
      new CreateSecretCommand({
        Name: `${secrets.secretPrefix}${connectionId}`,
        SecretString: JSON.stringify({ ...CREDENTIALS, ...extra }),
      }),
    );
  const read = async (name: string) =>
    JSON.parse(
      (
        await env.clients.secretsManager.send(
          new GetSecretValueCommand({ SecretId: `${secrets.secretPrefix}${name}` }),
        )
      ).SecretString ?? '{}',
    ) as Record<string, unknown>;
  const request = (requestType: 'Create' | 'Update' | 'Delete') => ({
    RequestType: requestType,
    ResponseURL: responses.url,
    StackId: 'arn:aws:cloudformation:eu-west-1:123456789012:stack/ZohoSync/1',
    RequestId: `request-${requestType}`,
    LogicalResourceId: 'WebhookSecretMigration',
  });

  beforeAll(async () => {
    env = await createTestEnvironment();
    secrets = { secretsManager: env.clients.secretsManager, secretPrefix: env.config.secretPrefix };
    responses = await startResponseUrl();
    await putLegacy('legacy-a', { webhookSecret: 'legacy-a-webhook-secret-01' });
    await putLegacy('legacy-b', { webhookSecret: 'legacy-b-webhook-secret-01', custom: 'kept' });
    // Already split, mid-rotation: the deploy must not undo it.
    await putLegacy('split', { webhookSecret: 'split-stale-webhook-secret' });
    await writeWebhookSecret(secrets, 'split', {
      webhookSecret: 'split-current-secret-0001',
      nextWebhookSecret: 'split-next-secret-000002',
    });
    await putLegacy('nothing');
  });

  afterAll(async () => {
    await responses?.stop();
  });

  it('deploy: copies each legacy webhook secret, keeps existing ones, answers CloudFormation', async () => {
    await runWebhookSecretMigration({ ...secrets, logger }, request('Create'));

    expect(await read('legacy-a/webhook')).toStrictEqual({
      webhookSecret: 'legacy-a-webhook-secret-01',
    });
    expect(await read('legacy-b/webhook')).toStrictEqual({
      webhookSecret: 'legacy-b-webhook-secret-01',
    });
    expect(await read('split/webhook')).toStrictEqual({
      webhookSecret: 'split-current-secret-0001',
      nextWebhookSecret: 'split-next-secret-000002',
    });
    // The credentials are left as they were: the webhook no longer reads them anyway.
    expect((await read('legacy-a')).webhookSecret).toBe('legacy-a-webhook-secret-01');

    const [response] = responses.received;
    expect(response?.method).toBe('PUT');
    expect(response?.headers['content-type']).toBe('');
    expect(response?.body).toMatchObject({
      Status: 'SUCCESS',
      PhysicalResourceId: 'zoho-sync-webhook-secret-migration',
      RequestId: 'request-Create',
      LogicalResourceId: 'WebhookSecretMigration',
      Data: { Copied: 2, AlreadySplit: 1 },
    });
    expect(JSON.stringify(response?.body)).not.toContain('webhook-secret-01');
  });

  it('deploy again (Update) changes nothing; Delete does nothing', async () => {
    await runWebhookSecretMigration({ ...secrets, logger }, request('Update'));
    await runWebhookSecretMigration(
      { ...secrets, logger },
      { ...request('Delete'), PhysicalResourceId: 'zoho-sync-webhook-secret-migration' },
    );
    expect(responses.received.slice(1).map((response) => response.body.Status)).toStrictEqual([
      'SUCCESS',
      'SUCCESS',
    ]);
    expect(responses.received[1]?.body.Data).toStrictEqual({ Copied: 0, AlreadySplit: 3 });
    expect(await read('split/webhook')).toMatchObject({
      webhookSecret: 'split-current-secret-0001',
    });
  });

  it('answers FAILED (never hangs the deploy) when Secrets Manager fails', async () => {
    const broken = { ...secrets, secretPrefix: 'zoho-sync-nonexistent/' };
    const failing = {
      ...broken,
      secretsManager: {
        send: () => Promise.reject(new Error('throttled by Secrets Manager')),
      } as unknown as TestEnvironment['clients']['secretsManager'],
      logger,
    };
    await runWebhookSecretMigration(failing, request('Update'));
    const last = responses.received.at(-1);
    expect(last?.body.Status).toBe('FAILED');
    expect(String(last?.body.Reason)).toContain('throttled by Secrets Manager');
  });

  it('webhook-secret migrate: removes the legacy copy from the credentials, keeping every other key', async () => {
    const result = await migrateLegacyWebhookSecret(secrets, 'legacy-b');
    expect(result).toStrictEqual({
      connectionId: 'legacy-b',
      outcome: 'removed-from-credentials',
    });
    const credentials = await read('legacy-b');
    expect(credentials).not.toHaveProperty('webhookSecret');
    expect(credentials).toStrictEqual({ ...CREDENTIALS, custom: 'kept' });
    expect(await read('legacy-b/webhook')).toStrictEqual({
      webhookSecret: 'legacy-b-webhook-secret-01',
    });
  });

  it('webhook-secret migrate --all: moves what the deploy did not copy and reports the rest', async () => {
    await putLegacy('late', { webhookSecret: 'late-webhook-secret-00001' });
    const results = await migrateAllLegacyWebhookSecrets(secrets);
    expect(Object.fromEntries(results.map((r) => [r.connectionId, r.outcome]))).toStrictEqual({
      late: 'migrated',
      'legacy-a': 'removed-from-credentials',
      'legacy-b': 'already-split',
      nothing: 'no-webhook-secret',
      split: 'removed-from-credentials',
    });
    // The mid-rotation secret won over the stale copy in the credentials.
    expect(await read('split/webhook')).toMatchObject({
      nextWebhookSecret: 'split-next-secret-000002',
    });
    expect(await read('late/webhook')).toStrictEqual({
      webhookSecret: 'late-webhook-secret-00001',
    });
    for (const id of ['late', 'legacy-a', 'split']) {
      expect(await read(id)).not.toHaveProperty('webhookSecret');
    }
  });
});
