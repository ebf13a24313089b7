import { GetItemCommand } from '@aws-sdk/client-dynamodb';
import { GetSecretValueCommand } from '@aws-sdk/client-secrets-manager';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createAwsClients } from '../../../lib/aws';
import { ConfigError, loadAwsTimeouts } from '../../../lib/config';
import { createHttpTestServer, type HttpTestServer } from '../../helpers/http-test-server';

describe('AWS SDK clients', () => {
  let server: HttpTestServer;
  const saved: Record<string, string | undefined> = {};
  const ENDPOINT_ENV = [
    'AWS_ENDPOINT_URL_DYNAMODB',
    'AWS_ENDPOINT_URL_SECRETS_MANAGER',
    'AWS_ACCESS_KEY_ID',
    'AWS_SECRET_ACCESS_KEY',
  ];

  beforeAll(async () => {
    // An AWS endpoint that accepts every request and never answers.
    server = await createHttpTestServer();
    server.respondWith({ hang: true });
    for (const name of ENDPOINT_ENV) saved[name] = process.env[name];
    process.env.AWS_ENDPOINT_URL_DYNAMODB = server.url;
    process.env.AWS_ENDPOINT_URL_SECRETS_MANAGER = server.url;
    process.env.AWS_ACCESS_KEY_ID = 'test';
    process.env.AWS_SECRET_ACCESS_KEY = 'test';
  });

  afterAll(async () => {
    for (const name of ENDPOINT_ENV) {
      if (saved[name] === undefined) delete process.env[name];
      else process.env[name] = saved[name];
    }
    server.reset();
    await server.close();
  });

  it('end a call that gets no answer with a timeout instead of waiting for ever', async () => {
    const clients = createAwsClients({
      region: 'us-east-1',
      maxAttempts: 1,
      timeouts: loadAwsTimeouts({ ZOHO_SYNC_AWS_REQUEST_TIMEOUT_MS: '200' }),
    });

    await expect(
      clients.dynamodb.send(
        new GetItemCommand({ TableName: 't', Key: { pk: { S: 'a' }, sk: { S: 'b' } } }),
      ),
    ).rejects.toMatchObject({ name: 'TimeoutError' });
    await expect(
      clients.secretsManager.send(new GetSecretValueCommand({ SecretId: 'zoho-sync/x' })),
    ).rejects.toMatchObject({ name: 'TimeoutError' });
    expect(server.requests.length).toBe(2);
  });

  it('time out after 2 s to connect and 5 s to answer unless the environment says otherwise', () => {
    expect(loadAwsTimeouts({})).toStrictEqual({
      connectionTimeoutMs: 2_000,
      requestTimeoutMs: 5_000,
    });
    expect(
      loadAwsTimeouts({
        ZOHO_SYNC_AWS_CONNECT_TIMEOUT_MS: '500',
        ZOHO_SYNC_AWS_REQUEST_TIMEOUT_MS: '9000',
      }),
    ).toStrictEqual({ connectionTimeoutMs: 500, requestTimeoutMs: 9_000 });
    expect(() => loadAwsTimeouts({ ZOHO_SYNC_AWS_REQUEST_TIMEOUT_MS: 'never' })).toThrow(
      ConfigError,
    );
  });
});
