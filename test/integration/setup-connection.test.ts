import { GetSecretValueCommand } from '@aws-sdk/client-secrets-manager';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ConfigError } from '../../lib/config';
import { startZohoSimulator, type ZohoSimulator } from '../../lib/local/zoho-simulator';
import { setupConnection } from '../../lib/tokens';
import { createAccountsClient } from '../../lib/zoho';
import { createTestEnvironment, type TestEnvironment } from '../helpers/local-environment';

describe('setupConnection', () => {
  let env: TestEnvironment;
  let simulator: ZohoSimulator;
  const clientId = '1000.SETUPCLIENT';
  const clientSecret = 'setup-client-secret-value';

  beforeAll(async () => {
    env = await createTestEnvironment();
    simulator = await startZohoSimulator();
    simulator.addClient({
      clientId,
      clientSecret,
      refreshToken: `1000.${'3'.repeat(32)}.${'4'.repeat(32)}`,
    });
  });

  afterAll(async () => {
    await simulator?.stop();
  });

  const deps = () => ({
    secretsManager: env.clients.secretsManager,
    accounts: createAccountsClient({ fetch, timeoutMs: 5000 }),
    secretPrefix: env.config.secretPrefix,
  });

  const connectionFile = () => ({
    dataCenter: 'eu',
    accountsUrl: simulator.baseUrl,
    clientId,
    clientSecret,
    booksOrganizationId: '60012345678',
    plan: 'standard',
    webhookSecret: 'setup-webhook-secret-000',
  });

  const readSecret = async (connectionId: string) => {
    const result = await env.clients.secretsManager.send(
      new GetSecretValueCommand({ SecretId: `${env.config.secretPrefix}${connectionId}` }),
    );
    return JSON.parse(result.SecretString ?? '{}') as Record<string, unknown>;
  };

  it('exchanges a grant code for the refresh token and stores the secret', async () => {
    const grantCode = simulator.createGrantCode(
      clientId,
      'ZohoBooks.contacts.ALL,ZohoCRM.modules.READ',
    );
    const result = await setupConnection(deps(), {
      connectionId: 'setup-a',
      secret: connectionFile(),
      grantCode,
    });
    expect(result).toStrictEqual({
      secretId: `${env.config.secretPrefix}setup-a`,
      created: true,
      webhookSecretId: `${env.config.secretPrefix}setup-a/webhook`,
      webhookSecret: 'created',
    });
    const stored = await readSecret('setup-a');
    expect(stored.refreshToken).toMatch(/^1000\./);
    expect(stored.dataCenter).toBe('eu');
  });

  it('stores the webhook secret apart from the credentials', async () => {
    await setupConnection(deps(), {
      connectionId: 'setup-split',
      secret: { ...connectionFile(), refreshToken: 'an-existing-refresh-token' },
    });
    expect(await readSecret('setup-split')).not.toHaveProperty('webhookSecret');
    expect(await readSecret('setup-split/webhook')).toStrictEqual({
      webhookSecret: 'setup-webhook-secret-000',
    });
  });

  it('keeps an existing webhook secret, so a rerun never undoes a rotation', async () => {
    const file = { ...connectionFile(), refreshToken: 'an-existing-refresh-token' };
    await setupConnection(deps(), { connectionId: 'setup-keep', secret: file });
    const again = await setupConnection(deps(), {
      connectionId: 'setup-keep',
      secret: { ...file, webhookSecret: 'another-webhook-secret-1' },
    });
    expect(again.webhookSecret).toBe('kept');
    expect((await readSecret('setup-keep/webhook')).webhookSecret).toBe('setup-webhook-secret-000');
  });

  it('generates a webhook secret when the file has none, and returns it once', async () => {
    const { webhookSecret: _none, ...file } = connectionFile();
    const result = await setupConnection(deps(), {
      connectionId: 'setup-gen',
      secret: { ...file, refreshToken: 'an-existing-refresh-token' },
    });
    expect(result.webhookSecret).toBe('generated');
    expect(result.newWebhookSecret).toMatch(/^[A-Za-z0-9_-]{32}$/);
    expect((await readSecret('setup-gen/webhook')).webhookSecret).toBe(result.newWebhookSecret);
  });

  it('replaces the secret of an existing connection', async () => {
    const file = { ...connectionFile(), refreshToken: 'an-existing-refresh-token' };
    await setupConnection(deps(), { connectionId: 'setup-b', secret: file });
    const again = await setupConnection(deps(), {
      connectionId: 'setup-b',
      secret: { ...file, plan: 'elite' },
    });
    expect(again.created).toBe(false);
    expect((await readSecret('setup-b')).plan).toBe('elite');
  });

  it('refuses an invalid connection without echoing its values', async () => {
    const attempt = setupConnection(deps(), {
      connectionId: 'setup-c',
      secret: { ...connectionFile(), refreshToken: 'x-secret-refresh', plan: 'gold' },
    });
    await expect(attempt).rejects.toThrow(ConfigError);
    await expect(attempt).rejects.toThrow(/check plan/);
    await expect(attempt).rejects.not.toThrow(/x-secret-refresh/);
  });

  it('refuses a connection with neither refresh token nor grant code', async () => {
    await expect(
      setupConnection(deps(), { connectionId: 'setup-d', secret: connectionFile() }),
    ).rejects.toThrow(/refreshToken/);
  });
});
