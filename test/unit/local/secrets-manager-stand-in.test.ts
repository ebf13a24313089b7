import { randomUUID } from 'node:crypto';
import {
  CreateSecretCommand,
  DeleteSecretCommand,
  DescribeSecretCommand,
  GetSecretValueCommand,
  InvalidParameterException,
  InvalidRequestException,
  ListSecretsCommand,
  PutSecretValueCommand,
  ResourceExistsException,
  ResourceNotFoundException,
  RestoreSecretCommand,
  SecretsManagerClient,
  SecretsManagerServiceException,
  TagResourceCommand,
  UpdateSecretCommand,
} from '@aws-sdk/client-secrets-manager';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  type SecretsManagerStandIn,
  startSecretsManagerStandIn,
} from '../../../lib/local/secrets-manager-stand-in';

describe('secrets-manager-stand-in', () => {
  let standIn: SecretsManagerStandIn;
  let client: SecretsManagerClient;

  // Each test uses its own secret names, so tests share one stand-in without interfering.
  const uniqueName = (label: string) => `zoho-sync/test/${label}-${randomUUID().slice(0, 8)}`;
  const createSecret = (name: string, value: string) =>
    client.send(new CreateSecretCommand({ Name: name, SecretString: value }));
  const rawPost = (target: string | undefined, body: string) =>
    fetch(`${standIn.endpoint}/`, {
      method: 'POST',
      headers: {
        'content-type': 'application/x-amz-json-1.1',
        ...(target === undefined ? {} : { 'x-amz-target': target }),
      },
      body,
    });

  beforeAll(async () => {
    standIn = await startSecretsManagerStandIn();
    client = new SecretsManagerClient({
      endpoint: standIn.endpoint,
      region: 'us-east-1',
      credentials: { accessKeyId: 'test', secretAccessKey: 'test' },
      maxAttempts: 1,
    });
  });

  afterAll(async () => {
    client.destroy();
    await standIn.stop();
  });

  it('listens on an ephemeral port on 127.0.0.1 when given no options', () => {
    expect(standIn.port).toBeGreaterThan(0);
    expect(standIn.endpoint).toBe(`http://127.0.0.1:${standIn.port}`);
  });

  it('returns the value by name and by ARN after CreateSecret', async () => {
    const name = uniqueName('create');
    const created = await createSecret(name, '{"refresh_token":"r1"}');

    const byName = await client.send(new GetSecretValueCommand({ SecretId: name }));
    const byArn = await client.send(new GetSecretValueCommand({ SecretId: created.ARN }));

    expect(created.ARN).toMatch(
      new RegExp(`^arn:aws:secretsmanager:us-east-1:000000000000:secret:${name}-[A-Za-z0-9]{6}$`),
    );
    expect(created.Name).toBe(name);
    for (const value of [byName, byArn]) {
      expect(value).toMatchObject({
        ARN: created.ARN,
        Name: name,
        VersionId: created.VersionId,
        SecretString: '{"refresh_token":"r1"}',
        VersionStages: ['AWSCURRENT'],
      });
      expect(value.CreatedDate).toBeInstanceOf(Date);
    }
  });

  it('round-trips SecretBinary as bytes', async () => {
    const name = uniqueName('binary');
    const bytes = new Uint8Array([0, 1, 2, 250, 255]);
    await client.send(new CreateSecretCommand({ Name: name, SecretBinary: bytes }));

    const value = await client.send(new GetSecretValueCommand({ SecretId: name }));

    expect(value.SecretString).toBeUndefined();
    expect(Array.from(value.SecretBinary ?? [])).toStrictEqual(Array.from(bytes));
  });

  it('moves AWSCURRENT to the new version and AWSPREVIOUS to the old one on PutSecretValue', async () => {
    // Prepare
    const name = uniqueName('rotate');
    const first = await createSecret(name, 'v1');
    const second = await client.send(
      new PutSecretValueCommand({ SecretId: name, SecretString: 'v2' }),
    );

    // Act
    const third = await client.send(
      new PutSecretValueCommand({ SecretId: name, SecretString: 'v3' }),
    );
    const described = await client.send(new DescribeSecretCommand({ SecretId: name }));
    const current = await client.send(new GetSecretValueCommand({ SecretId: name }));
    const previous = await client.send(
      new GetSecretValueCommand({ SecretId: name, VersionStage: 'AWSPREVIOUS' }),
    );
    const oldest = await client.send(
      new GetSecretValueCommand({ SecretId: name, VersionId: first.VersionId }),
    );

    // Assess
    expect(third.VersionStages).toStrictEqual(['AWSCURRENT']);
    expect(described.VersionIdsToStages).toStrictEqual({
      [String(second.VersionId)]: ['AWSPREVIOUS'],
      [String(third.VersionId)]: ['AWSCURRENT'],
    });
    expect(current.SecretString).toBe('v3');
    expect(previous).toMatchObject({ SecretString: 'v2', VersionId: second.VersionId });
    expect(oldest).toMatchObject({ SecretString: 'v1', VersionStages: [] });
    expect(described.LastChangedDate).toBeInstanceOf(Date);
  });

  it('returns the same version without a new one when a ClientRequestToken is reused with the same value', async () => {
    const name = uniqueName('idempotent');
    await createSecret(name, 'v1');
    const token = randomUUID();

    const first = await client.send(
      new PutSecretValueCommand({ SecretId: name, SecretString: 'v2', ClientRequestToken: token }),
    );
    const again = await client.send(
      new PutSecretValueCommand({ SecretId: name, SecretString: 'v2', ClientRequestToken: token }),
    );
    const described = await client.send(new DescribeSecretCommand({ SecretId: name }));

    expect(first.VersionId).toBe(token);
    expect(again.VersionId).toBe(token);
    expect(again.VersionStages).toStrictEqual(['AWSCURRENT']);
    expect(Object.keys(described.VersionIdsToStages ?? {})).toHaveLength(2);
  });

  it('throws ResourceExistsException when a ClientRequestToken is reused with another value', async () => {
    const name = uniqueName('token-clash');
    await createSecret(name, 'v1');
    const token = randomUUID();
    await client.send(
      new PutSecretValueCommand({ SecretId: name, SecretString: 'v2', ClientRequestToken: token }),
    );

    const reused = client.send(
      new PutSecretValueCommand({ SecretId: name, SecretString: 'v3', ClientRequestToken: token }),
    );

    await expect(reused).rejects.toBeInstanceOf(ResourceExistsException);
  });

  it('throws the SDK ResourceNotFoundException class for an unknown secret', async () => {
    const error = await client
      .send(new GetSecretValueCommand({ SecretId: uniqueName('missing') }))
      .catch((caught: unknown) => caught);

    expect(error).toBeInstanceOf(ResourceNotFoundException);
    expect(error).toBeInstanceOf(SecretsManagerServiceException);
    expect(error).toMatchObject({
      name: 'ResourceNotFoundException',
      message: "Secrets Manager can't find the specified secret.",
      $metadata: { httpStatusCode: 400 },
    });
  });

  it('throws ResourceNotFoundException when the requested staging label has no version', async () => {
    const name = uniqueName('no-previous');
    await createSecret(name, 'v1');

    const error = await client
      .send(new GetSecretValueCommand({ SecretId: name, VersionStage: 'AWSPREVIOUS' }))
      .catch((caught: unknown) => caught);

    expect(error).toBeInstanceOf(ResourceNotFoundException);
    expect(error).toMatchObject({
      message:
        "Secrets Manager can't find the specified secret value for staging label: AWSPREVIOUS",
    });
  });

  it('throws ResourceExistsException when CreateSecret repeats a name', async () => {
    const name = uniqueName('duplicate');
    await createSecret(name, 'v1');

    await expect(createSecret(name, 'v2')).rejects.toBeInstanceOf(ResourceExistsException);
  });

  it('lists only secrets whose name starts with the filter prefix, page by page', async () => {
    // Prepare
    const prefix = uniqueName('list');
    await createSecret(`${prefix}/a`, 'a');
    await createSecret(`${prefix}/b`, 'b');
    await createSecret(`${prefix}/c`, 'c');
    await createSecret(uniqueName('other'), 'x');
    const filters = [{ Key: 'name' as const, Values: [prefix] }];

    // Act
    const page1 = await client.send(new ListSecretsCommand({ Filters: filters, MaxResults: 2 }));
    const page2 = await client.send(
      new ListSecretsCommand({ Filters: filters, MaxResults: 2, NextToken: page1.NextToken }),
    );

    // Assess
    expect(page1.SecretList?.map((s) => s.Name)).toStrictEqual([`${prefix}/a`, `${prefix}/b`]);
    expect(page1.NextToken).toBeTypeOf('string');
    expect(page2.SecretList?.map((s) => s.Name)).toStrictEqual([`${prefix}/c`]);
    expect(page2.NextToken).toBeUndefined();
    expect(Object.values(page2.SecretList?.[0]?.SecretVersionsToStages ?? {})).toStrictEqual([
      ['AWSCURRENT'],
    ]);
  });

  it('refuses reads of a secret in its recovery window and serves it again after RestoreSecret', async () => {
    // Prepare
    const name = uniqueName('soft-delete');
    await createSecret(name, 'v1');

    // Act
    const deleted = await client.send(
      new DeleteSecretCommand({ SecretId: name, RecoveryWindowInDays: 7 }),
    );
    const read = await client
      .send(new GetSecretValueCommand({ SecretId: name }))
      .catch((caught: unknown) => caught);
    const described = await client.send(new DescribeSecretCommand({ SecretId: name }));
    const listed = await client.send(
      new ListSecretsCommand({ Filters: [{ Key: 'name', Values: [name] }] }),
    );
    const recreate = await createSecret(name, 'v2').catch((caught: unknown) => caught);
    await client.send(new RestoreSecretCommand({ SecretId: name }));
    const restored = await client.send(new GetSecretValueCommand({ SecretId: name }));

    // Assess
    const windowMs = (deleted.DeletionDate?.getTime() ?? 0) - Date.now();
    expect(windowMs).toBeGreaterThan(6.9 * 86_400_000);
    expect(windowMs).toBeLessThanOrEqual(7 * 86_400_000);
    expect(read).toBeInstanceOf(InvalidRequestException);
    expect(read).toMatchObject({
      message: "You can't perform this operation on the secret because it was marked for deletion.",
    });
    expect(described.DeletedDate).toStrictEqual(deleted.DeletionDate);
    expect(listed.SecretList).toStrictEqual([]);
    expect(recreate).toBeInstanceOf(InvalidRequestException);
    expect(restored.SecretString).toBe('v1');
  });

  it('forgets a force-deleted secret so its name can be created again', async () => {
    const name = uniqueName('force-delete');
    const original = await createSecret(name, 'v1');

    await client.send(
      new DeleteSecretCommand({ SecretId: name, ForceDeleteWithoutRecovery: true }),
    );
    const read = client.send(new GetSecretValueCommand({ SecretId: name }));
    await expect(read).rejects.toBeInstanceOf(ResourceNotFoundException);
    const recreated = await createSecret(name, 'v2');
    const value = await client.send(new GetSecretValueCommand({ SecretId: name }));

    expect(recreated.ARN).not.toBe(original.ARN);
    expect(value.SecretString).toBe('v2');
  });

  it('keeps exactly one AWSCURRENT version when 20 PutSecretValue calls run at once', async () => {
    // Prepare
    const name = uniqueName('concurrent');
    const created = await createSecret(name, 'v0');

    // Act
    const puts = await Promise.all(
      Array.from({ length: 20 }, (_, i) =>
        client.send(new PutSecretValueCommand({ SecretId: name, SecretString: `v${i + 1}` })),
      ),
    );
    const described = await client.send(new DescribeSecretCommand({ SecretId: name }));
    const current = await client.send(new GetSecretValueCommand({ SecretId: name }));

    // Assess
    const stages = Object.values(described.VersionIdsToStages ?? {}).flat();
    const versionIds = new Set([created.VersionId, ...puts.map((p) => p.VersionId)]);
    expect(versionIds.size).toBe(21);
    expect(stages.filter((s) => s === 'AWSCURRENT')).toHaveLength(1);
    expect(stages.filter((s) => s === 'AWSPREVIOUS')).toHaveLength(1);
    expect(puts.map((p) => p.VersionId)).toContain(current.VersionId);
  });

  it('updates the description and adds a version on UpdateSecret, and merges tags on TagResource', async () => {
    const name = uniqueName('update');
    await createSecret(name, 'v1');

    const updated = await client.send(
      new UpdateSecretCommand({ SecretId: name, SecretString: 'v2', Description: 'zoho oauth' }),
    );
    await client.send(
      new TagResourceCommand({ SecretId: name, Tags: [{ Key: 'app', Value: 'zoho-sync' }] }),
    );
    const described = await client.send(new DescribeSecretCommand({ SecretId: name }));

    expect(described.Description).toBe('zoho oauth');
    expect(described.Tags).toStrictEqual([{ Key: 'app', Value: 'zoho-sync' }]);
    expect(described.VersionIdsToStages?.[String(updated.VersionId)]).toStrictEqual(['AWSCURRENT']);
  });

  it('throws InvalidParameterException when a required parameter is missing', async () => {
    const missing = client.send(new GetSecretValueCommand({ SecretId: undefined }));

    await expect(missing).rejects.toBeInstanceOf(InvalidParameterException);
  });

  it.each([
    ['an unknown operation', 'secretsmanager.FlyToTheMoon', '{}', 'UnknownOperationException'],
    ['no X-Amz-Target header', undefined, '{}', 'UnknownOperationException'],
    [
      'a malformed JSON body',
      'secretsmanager.GetSecretValue',
      '{"SecretId":',
      'SerializationException',
    ],
  ])('answers 400 with the AWS error shape for %s', async (_case, target, body, errorType) => {
    const response = await rawPost(target, body);

    expect(response.status).toBe(400);
    expect(response.headers.get('x-amzn-errortype')).toBe(errorType);
    expect(await response.json()).toMatchObject({ __type: errorType, message: expect.any(String) });
  });
});
