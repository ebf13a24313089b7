import { describe, expect, it } from 'vitest';
import { MAX_SUBJECT_LENGTH, renderAdminAlert, toSnsSubject } from '../../../lib/alerts';
import type { FailureDescription } from '../../../lib/failures';

const failure: FailureDescription = {
  entryId: 'books-6024',
  action: 'fail-alert',
  title: 'Invalid organization ID',
  meaning: 'The organization_id does not name an organization this token can reach.',
  fix: 'Check booksOrganizationId in secret {secretId}.',
  scope: 'connection',
  service: 'books',
  httpStatus: 400,
  zohoCode: 6024,
  zohoMessage: 'Invalid value passed for organization_id.',
  endpoint: 'PUT /books/v3/contacts',
  unknown: false,
};

describe('renderAdminAlert', () => {
  it('names the connection, service, code and title in the subject', () => {
    const alert = renderAdminAlert(failure, {
      connectionId: 'acme',
      crmModule: 'Accounts',
      crmRecordId: '42',
    });
    expect(alert.subject).toBe('[zoho-sync] acme: Zoho Books 6024 Invalid organization ID');
    expect(alert.attributes).toStrictEqual({
      connection: 'acme',
      code: '6024',
      severity: 'critical',
    });
  });

  it('puts meaning, fix with the secret id, correlation id and replay command in the body', () => {
    const alert = renderAdminAlert(failure, {
      connectionId: 'acme',
      crmModule: 'Accounts',
      crmRecordId: '42',
      correlationId: 'corr-1',
      messageId: 'msg-1',
      secretId: 'zoho-sync/acme',
    });
    expect(alert.body).toContain('CRM record:      Accounts 42');
    expect(alert.body).toContain('Zoho code:       6024');
    expect(alert.body).toContain('Check booksOrganizationId in secret zoho-sync/acme.');
    expect(alert.body).toContain('corr-1');
    expect(alert.body).toContain('redrive --connection acme --message msg-1');
  });

  it('keeps subjects within the SNS limits', () => {
    const subject = toSnsSubject(`[zoho-sync] ${'ü'.repeat(10)}\nline two ${'x'.repeat(200)}`);
    expect(subject.length).toBeLessThanOrEqual(MAX_SUBJECT_LENGTH);
    expect(subject).toMatch(/^[\x20-\x7E]+$/);
    expect(subject).not.toContain('\n');
  });
});
