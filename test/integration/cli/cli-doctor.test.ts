import { DeleteSecretCommand } from '@aws-sdk/client-secrets-manager';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type ConnectionSecret, webhookSecretId } from '../../../lib/config';
import type { DoctorReport } from '../../../lib/doctor/run-doctor';
import { getErrorEntry, renderFix, type ZohoErrorId } from '../../../lib/zoho';
import { runLocalCli, writeLocalState } from '../../helpers/cli';
import { CONNECTION_ID, ORG_ID, type Pipeline, startPipeline } from '../../helpers/pipeline';

/** Each fault is its own connection, with its own OAuth client so token requests count apart. */
const faultConnection = (
  pipeline: Pipeline,
  name: string,
  overrides: Partial<ConnectionSecret>,
) => {
  const secret: ConnectionSecret = {
    ...pipeline.secret,
    clientId: `1000.DOCTOR${name.toUpperCase().replaceAll('-', '')}`,
    clientSecret: `doctor-client-secret-${name}`,
    refreshToken: `1000.${name.replaceAll('-', '').padEnd(32, '7').slice(0, 32)}.${'8'.repeat(32)}`,
    webhookSecret: `doctor-webhook-secret-${name}`,
    ...overrides,
  };
  return secret;
};

describe('zoho-sync doctor', () => {
  let pipeline: Pipeline;
  let stateFile: string;
  const doctor = async (connectionId: string) => {
    const result = await runLocalCli(stateFile, ['doctor', '--connection', connectionId, '--json']);
    return { ...result, report: JSON.parse(result.out) as DoctorReport };
  };
  const check = (report: DoctorReport, id: string) => report.checks.find((c) => c.id === id);
  const fixOf = (connectionId: string, id: ZohoErrorId) =>
    renderFix(getErrorEntry(id), {
      connectionId,
      secretId: `${pipeline.env.config.secretPrefix}${connectionId}`,
    });
  const tokenRequests = (clientId: string) =>
    pipeline.simulator.stats().accounts.byClientId[clientId]?.tokenRequests ?? 0;
  const addConnection = async (
    connectionId: string,
    secret: ConnectionSecret,
    client: { apiDomain?: string; organizationIds?: string[] } = {},
  ) => {
    pipeline.simulator.addClient({
      clientId: secret.clientId,
      clientSecret: secret.clientSecret,
      refreshToken: secret.refreshToken,
      ...client,
    });
    await pipeline.env.putConnection(connectionId, secret);
  };

  beforeAll(async () => {
    pipeline = await startPipeline();
    stateFile = await writeLocalState(pipeline);
  });
  afterAll(async () => {
    await pipeline.stop();
  });

  it('passes every check on a healthy connection, exits 0 and prints no secret', async () => {
    expect((await runLocalCli(stateFile, ['channels', 'renew', '-c', CONNECTION_ID])).code).toBe(0);
    pipeline.simulator.resetStats();
    const { code, report } = await doctor(CONNECTION_ID);
    expect(report.checks.map((c) => [c.id, c.status])).toEqual([
      ['secret', 'pass'],
      ['webhook-secret', 'pass'],
      ['token', 'pass'],
      ['data-centre', 'pass'],
      ['organization', 'pass'],
      ['scopes', 'pass'],
      ['custom-fields', 'pass'],
      ['channel', 'pass'],
      ['queues', 'pass'],
      ['limits', 'pass'],
    ]);
    expect(code).toBe(0);
    // The channel renewal left a stored token: the doctor reuses it.
    expect(report.tokenRefreshes).toBe(0);
    expect(tokenRequests(pipeline.secret.clientId)).toBe(0);
    // The probe wrote nothing to Books.
    expect(pipeline.simulator.books.contacts(ORG_ID)).toHaveLength(0);
    expect(pipeline.simulator.books.items(ORG_ID)).toHaveLength(0);
    expect(pipeline.simulator.books.invoices(ORG_ID)).toHaveLength(0);
    expect(pipeline.simulator.stats().organizations[ORG_ID]?.tooManyRequests ?? 0).toBe(0);

    const text = await runLocalCli(stateFile, ['doctor', '--connection', CONNECTION_ID]);
    expect(text.code).toBe(0);
    expect(text.out).toContain('PASS  Unique custom field cf_crm_id');
    expect(text.out).toContain('All checks passed.');
    for (const secret of [
      pipeline.secret.clientSecret,
      pipeline.secret.refreshToken,
      pipeline.secret.webhookSecret,
    ]) {
      expect(text.out).not.toContain(secret);
    }
  });

  it('catches a wrong data centre with its fix, without calling the wrong host', async () => {
    const secret = faultConnection(pipeline, 'wrong-dc', { dataCenter: 'com' });
    // The account lives in the EU: Zoho's token names the EU API host.
    await addConnection('wrong-dc', secret, { apiDomain: 'https://www.zohoapis.eu' });
    const { code, report } = await doctor('wrong-dc');
    expect(code).toBe(1);
    const failed = check(report, 'data-centre');
    expect(failed?.status).toBe('fail');
    expect(failed?.detail).toContain('https://www.zohoapis.eu');
    expect(failed?.fix).toBe(fixOf('wrong-dc', 'wrong-data-centre'));
    expect(check(report, 'organization')?.status).toBe('skip');
    expect(tokenRequests(secret.clientId)).toBe(1);
  });

  it('catches an invalid organization id (6024) with its fix', async () => {
    const secret = faultConnection(pipeline, 'bad-org', { booksOrganizationId: '60099999999' });
    await addConnection('bad-org', secret, { organizationIds: [ORG_ID] });
    const { code, report, out } = await doctor('bad-org');
    expect(code).toBe(1);
    const failed = check(report, 'organization');
    expect(failed?.status).toBe('fail');
    expect(failed?.entryId).toBe('books-6024');
    expect(failed?.fix).toBe(fixOf('bad-org', 'books-6024'));
    expect(failed?.detail).toContain(`can use: ${ORG_ID}`);
    expect(check(report, 'token')?.status).toBe('pass');
    expect(tokenRequests(secret.clientId)).toBe(1);
    expect(out).not.toContain(secret.clientSecret);
  });

  it('catches a revoked refresh token with its fix, spending one refresh', async () => {
    const secret = faultConnection(pipeline, 'revoked', {});
    await addConnection('revoked', secret);
    const first = await doctor('revoked');
    expect(check(first.report, 'token')?.status).toBe('pass');
    expect(first.report.tokenRefreshes).toBe(1);

    // The stored access token still looks fresh; Zoho revoked it with its refresh token.
    pipeline.simulator.revokeRefreshToken(secret.refreshToken);
    pipeline.simulator.resetStats();
    const { code, report } = await doctor('revoked');
    expect(code).toBe(1);
    const failed = check(report, 'token');
    expect(failed?.status).toBe('fail');
    expect(failed?.entryId).toBe('accounts-invalid-code');
    expect(failed?.fix).toBe(fixOf('revoked', 'accounts-invalid-code'));
    expect(report.tokenRefreshes).toBe(1);
    expect(tokenRequests(secret.clientId)).toBe(1);

    // Run again: the refused credentials are remembered, so no refresh at all is spent.
    pipeline.simulator.resetStats();
    const again = await doctor('revoked');
    expect(check(again.report, 'token')?.entryId).toBe('accounts-invalid-code');
    expect(tokenRequests(secret.clientId)).toBe(0);
  });

  it('catches a missing unique custom field with its fix, writing nothing', async () => {
    const orgId = '60055555555';
    pipeline.simulator.addOrganization({ organizationId: orgId, uniqueCustomFields: false });
    const secret = faultConnection(pipeline, 'no-cf', { booksOrganizationId: orgId });
    await addConnection('no-cf', secret);
    const { code, report } = await doctor('no-cf');
    expect(code).toBe(1);
    const failed = check(report, 'custom-fields');
    expect(failed?.status).toBe('fail');
    expect(failed?.detail).toContain('contacts, items, invoices');
    expect(failed?.fix).toBe(fixOf('no-cf', 'unique-custom-field-missing'));
    expect(check(report, 'organization')?.status).toBe('pass');
    expect(pipeline.simulator.books.contacts(orgId)).toHaveLength(0);
    expect(tokenRequests(secret.clientId)).toBe(1);
    // No channel was ever enabled for it: that is reported too, with the renewal command.
    expect(check(report, 'channel')?.status).toBe('fail');
    expect(check(report, 'channel')?.fix).toContain('zoho-sync channels renew --connection no-cf');
  });

  it('fails the webhook-secret check when the webhook function would refuse every webhook', async () => {
    const secret = faultConnection(pipeline, 'no-webhook', {});
    await addConnection('no-webhook', secret);
    await pipeline.env.clients.secretsManager.send(
      new DeleteSecretCommand({
        SecretId: webhookSecretId(pipeline.env.config.secretPrefix, 'no-webhook'),
        ForceDeleteWithoutRecovery: true,
      }),
    );
    const { code, report, out } = await doctor('no-webhook');
    expect(code).toBe(1);
    const failed = check(report, 'webhook-secret');
    expect(failed?.status).toBe('fail');
    expect(failed?.detail).toContain('401');
    expect(failed?.fix).toContain('zoho-sync webhook-secret migrate --connection no-webhook');
    // The Zoho side is still checked: one missing secret does not hide the rest.
    expect(check(report, 'token')?.status).toBe('pass');
    expect(out).not.toContain(secret.webhookSecret);
  });

  it('warns, without failing, while a webhook-secret rotation is in progress', async () => {
    const secret = faultConnection(pipeline, 'rotating', {});
    await addConnection('rotating', secret);
    const rotate = await runLocalCli(stateFile, ['webhook-secret', 'rotate', '-c', 'rotating']);
    expect(rotate.code).toBe(0);
    const { report } = await doctor('rotating');
    const rotating = check(report, 'webhook-secret');
    expect(rotating?.status).toBe('warn');
    expect(rotating?.detail).toContain('webhook-secret rotate --connection rotating --finish');
  });

  it('fails the secret check for an unknown connection and skips the rest', async () => {
    const { code, report } = await doctor('nobody');
    expect(code).toBe(1);
    expect(check(report, 'secret')?.status).toBe('fail');
    expect(check(report, 'token')?.status).toBe('skip');
    expect(check(report, 'queues')?.status).toBe('pass');
  });
});
