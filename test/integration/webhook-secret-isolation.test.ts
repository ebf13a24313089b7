import {
  CreateSecretCommand,
  GetSecretValueCommand,
  PutSecretValueCommand,
  SecretsManagerClient,
} from '@aws-sdk/client-secrets-manager';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { createAwsClients } from '../../lib/aws';
import { putConnectionSecret } from '../../lib/tokens';
import {
  createWebhookSecretStore,
  WEBHOOK_SECRET_CACHE_TTL_MS,
  WEBHOOK_SECRET_RECHECK_AFTER_MS,
  writeWebhookSecret,
} from '../../lib/tokens/webhook-secret-store';
import { createWebhookDeps, ingestWebhook, WebhookRejectedError } from '../../lib/webhooks';
import { copyLegacyWebhookSecrets } from '../../lib/webhooks/webhook-secret-rotation';
import { lambdaContext, webhookEvent } from '../helpers/events';
import { createTestEnvironment, type TestEnvironment } from '../helpers/local-environment';
import { queueDepth } from '../helpers/queues';
import {
  type SecretsManagerPolicyProxy,
  startSecretsManagerPolicyProxy,
} from '../helpers/secrets-manager-policy-proxy';
import type { PolicyStatementJson } from '../infra/iam-policy-evaluator';
import { roleStatements, synthZohoSync } from '../infra/synth-zoho-sync';

const CREDENTIALS = {
  dataCenter: 'com',
  clientId: '1000.ISOLATIONCLIENT',
  clientSecret: 'isolation-client-secret-value',
  refreshToken: `1000.${'5'.repeat(32)}.${'6'.repeat(32)}`,
  booksOrganizationId: '60012345014',
  plan: 'professional',
} as const;
const WEBHOOK_SECRET = 'isolation-webhook-secret-0001';

type WebhookHandler = typeof import('../../functions/crm-webhook')['handler'];

/**
 * The webhook function against a Secrets Manager that enforces the policy its role is deployed
 * with (taken from the synthesized template): it works with only the webhook secret readable,
 * and the credentials secret is refused to it.
 */
describe('webhook function with only its webhook secret readable', () => {
  let env: TestEnvironment;
  let proxy: SecretsManagerPolicyProxy;
  let direct: SecretsManagerClient;
  let webhook: WebhookHandler;
  let prefix: string;

  const send = (connectionId: string, token: string) =>
    webhook(
      webhookEvent({ connectionId, body: 'module=Accounts&id=4876876000001410001', token }),
      lambdaContext('crm-webhook'),
    );

  beforeAll(async () => {
    env = await createTestEnvironment();
    prefix = env.config.secretPrefix;
    const standInEndpoint = inject('standInEnv').AWS_ENDPOINT_URL_SECRETS_MANAGER ?? '';
    direct = new SecretsManagerClient({ region: 'us-east-1', endpoint: standInEndpoint });
    const synthesized = synthZohoSync();
    proxy = await startSecretsManagerPolicyProxy({
      upstream: standInEndpoint,
      statements: roleStatements(
        synthesized,
        synthesized.stack.ingest.handler.role,
      ) as PolicyStatementJson[],
      // The test's prefix stands for the deployed zoho-sync/.
      toArnName: (name) =>
        name.startsWith(prefix) ? `zoho-sync/${name.slice(prefix.length)}` : name,
    });
    await putConnectionSecret(direct, {
      secretPrefix: prefix,
      connectionId: 'acme',
      secret: { ...CREDENTIALS, webhookSecret: WEBHOOK_SECRET },
    });
    // The webhook function's clients reach Secrets Manager through the enforcing proxy only.
    process.env.AWS_ENDPOINT_URL_SECRETS_MANAGER = proxy.endpoint;
    webhook = (await import('../../functions/crm-webhook')).handler;
  }, 120_000);

  afterAll(async () => {
    direct?.destroy();
    await proxy?.stop();
  });

  it('accepts and queues a webhook, having read nothing but the webhook secret', async () => {
    proxy.calls.length = 0;
    const result = await send('acme', WEBHOOK_SECRET);
    expect(result.statusCode).toBe(202);
    expect(await queueDepth(env.clients.sqs, env.resources.syncQueueUrl)).toBe(1);
    expect(proxy.calls).toStrictEqual([
      {
        action: 'secretsmanager:GetSecretValue',
        secretId: `${prefix}acme/webhook`,
        decision: 'allowed',
      },
    ]);
  });

  it('answers 401 to a wrong token, still without touching the credentials', async () => {
    proxy.calls.length = 0;
    const result = await send('acme', 'not-the-webhook-secret-000');
    expect(result.statusCode).toBe(401);
    expect(proxy.calls.every((call) => call.secretId === `${prefix}acme/webhook`)).toBe(true);
  });

  it('is refused the credentials secret (the stand-in enforces the deployed policy)', async () => {
    const asWebhook = new SecretsManagerClient({ region: 'us-east-1', endpoint: proxy.endpoint });
    await expect(
      asWebhook.send(new GetSecretValueCommand({ SecretId: `${prefix}acme` })),
    ).rejects.toMatchObject({ name: 'AccessDeniedException' });
    await expect(
      asWebhook.send(new GetSecretValueCommand({ SecretId: `${prefix}acme/access-token` })),
    ).rejects.toMatchObject({ name: 'AccessDeniedException' });
    await expect(
      asWebhook.send(
        new PutSecretValueCommand({ SecretId: `${prefix}acme/webhook`, SecretString: '{}' }),
      ),
    ).rejects.toMatchObject({ name: 'AccessDeniedException' });
    asWebhook.destroy();
  });

  it('serves a connection kept as one legacy secret once the deploy-time copy ran', async () => {
    await direct.send(
      new CreateSecretCommand({
        Name: `${prefix}legacy`,
        SecretString: JSON.stringify({
          ...CREDENTIALS,
          webhookSecret: 'legacy-webhook-secret-0001',
        }),
      }),
    );
    // Before the copy: the webhook cannot see the secret inside the credentials.
    expect((await send('legacy', 'legacy-webhook-secret-0001')).statusCode).toBe(401);
    const summary = await copyLegacyWebhookSecrets({
      secretsManager: direct,
      secretPrefix: prefix,
    });
    expect(summary.copied).toStrictEqual(['legacy']);
    // A miss is cached; the recheck on a refused token reads again after a few seconds.
    await new Promise((resolve) => setTimeout(resolve, WEBHOOK_SECRET_RECHECK_AFTER_MS + 100));
    expect((await send('legacy', 'legacy-webhook-secret-0001')).statusCode).toBe(202);
    expect(proxy.calls.some((call) => call.secretId === `${prefix}legacy`)).toBe(false);
  });
});

describe('webhook secret cache of a warm container', () => {
  let env: TestEnvironment;
  let clock: number;
  const now = () => clock;

  beforeAll(async () => {
    env = await createTestEnvironment();
  });

  const request = (connectionId: string, token: string) => ({
    connectionId,
    headers: { 'x-zoho-sync-token': token, 'content-type': 'application/x-www-form-urlencoded' },
    query: {},
    body: 'module=Accounts&id=4876876000001410002',
    isBase64Encoded: false,
  });
  const accepts = async (deps: ReturnType<typeof createWebhookDeps>, id: string, token: string) => {
    try {
      await ingestWebhook(deps, request(id, token));
      return true;
    } catch (error) {
      if (error instanceof WebhookRejectedError) return false;
      throw error;
    }
  };

  it('accepts a next secret within seconds and refuses a retired one within the TTL', async () => {
    clock = 1_000_000;
    const secrets = {
      secretsManager: env.clients.secretsManager,
      secretPrefix: env.config.secretPrefix,
    };
    await writeWebhookSecret(secrets, 'cached', { webhookSecret: 'cached-current-secret-01' });
    const deps = createWebhookDeps({ config: env.config, clients: createAwsClients(), now });

    expect(await accepts(deps, 'cached', 'cached-current-secret-01')).toBe(true);
    // rotate stores a next secret; a container that read the secret a moment ago checks again
    // after WEBHOOK_SECRET_RECHECK_AFTER_MS, which rotate waits out before handing it out.
    await writeWebhookSecret(secrets, 'cached', {
      webhookSecret: 'cached-current-secret-01',
      nextWebhookSecret: 'cached-next-secret-0002',
    });
    clock += WEBHOOK_SECRET_RECHECK_AFTER_MS;
    expect(await accepts(deps, 'cached', 'cached-next-secret-0002')).toBe(true);

    // --finish retires the old secret; the copy just read may accept it until the TTL ends.
    await writeWebhookSecret(secrets, 'cached', { webhookSecret: 'cached-next-secret-0002' });
    clock += WEBHOOK_SECRET_CACHE_TTL_MS - 1;
    expect(await accepts(deps, 'cached', 'cached-current-secret-01')).toBe(true);
    clock += 1;
    expect(await accepts(deps, 'cached', 'cached-current-secret-01')).toBe(false);
    expect(await accepts(deps, 'cached', 'cached-next-secret-0002')).toBe(true);
  });

  it('never keeps a copy longer than 30 s, whatever the configured cache TTL', async () => {
    clock = 0;
    let reads = 0;
    const counting = new SecretsManagerClient({ region: 'us-east-1' });
    counting.middlewareStack.add(
      (next) => async (args) => {
        reads += 1;
        return next(args);
      },
      { step: 'initialize', name: 'countReads' },
    );
    const store = createWebhookSecretStore({
      secretsManager: counting,
      secretPrefix: env.config.secretPrefix,
      cacheTtlMs: 3_600_000,
      now,
    });
    await store.get('cached');
    clock = WEBHOOK_SECRET_CACHE_TTL_MS - 1;
    await store.get('cached');
    expect(reads).toBe(1);
    clock = WEBHOOK_SECRET_CACHE_TTL_MS;
    await store.get('cached');
    expect(reads).toBe(2);
    counting.destroy();
  });
});
