import type { Role } from 'aws-cdk-lib/aws-iam';
import { beforeAll, describe, expect, it } from 'vitest';
import { WEBHOOK_POLICY_LOGICAL_ID } from '../../infra/constructs/http-ingest';
import {
  type Decision,
  evaluate,
  type PolicyStatementJson,
  secretArnOf,
  wildcardMatches,
} from './iam-policy-evaluator';
import {
  logicalId,
  roleStatements,
  type Synthesized,
  scheduledFunction,
  synthZohoSync,
} from './synth-zoho-sync';

/**
 * The internet-facing webhook function must never be able to read a connection's OAuth
 * credentials. These tests evaluate every role's synthesized policies against concrete secret
 * ARNs, including connection ids chosen to trip naive patterns (`webhook`, `access-token`).
 */
const CONNECTION_IDS = ['acme', 'webhook', 'access-token', 'a-b-c', 'x'.repeat(40)];
const credentials = (id: string) => secretArnOf(`zoho-sync/${id}`);
const webhookSecret = (id: string) => secretArnOf(`zoho-sync/${id}/webhook`);
const accessToken = (id: string) => secretArnOf(`zoho-sync/${id}/access-token`);
const otherAppSecret = secretArnOf('prod/database');

const SECRET_ACTIONS = [
  'secretsmanager:GetSecretValue',
  'secretsmanager:BatchGetSecretValue',
  'secretsmanager:DescribeSecret',
  'secretsmanager:PutSecretValue',
  'secretsmanager:UpdateSecret',
  'secretsmanager:CreateSecret',
  'secretsmanager:DeleteSecret',
  'secretsmanager:GetResourcePolicy',
  'secretsmanager:PutResourcePolicy',
  'secretsmanager:RotateSecret',
];

describe('the IAM evaluator the isolation tests rely on', () => {
  it('matches IAM wildcards: * spans slashes, ? is exactly one character', () => {
    expect(wildcardMatches('zoho-sync/*', 'zoho-sync/acme/webhook-Ab3dE9')).toBe(true);
    expect(wildcardMatches('zoho-sync/*/webhook-??????', 'zoho-sync/acme/webhook-Ab3dE9')).toBe(
      true,
    );
    expect(wildcardMatches('zoho-sync/*/webhook-??????', 'zoho-sync/webhook-Ab3dE9')).toBe(false);
    expect(wildcardMatches('zoho-sync/*/webhook-??????', 'zoho-sync/acme/webhook-Ab3dE')).toBe(
      false,
    );
    expect(wildcardMatches('secretsmanager:*', 'SecretsManager:GetSecretValue', true)).toBe(true);
  });

  it('would catch the grant this issue removed: GetSecretValue on zoho-sync/* reads credentials', () => {
    const before: PolicyStatementJson[] = [
      {
        Effect: 'Allow',
        Action: 'secretsmanager:GetSecretValue',
        Resource: 'arn:aws:secretsmanager:eu-west-1:123456789012:secret:zoho-sync/*',
      },
      {
        Effect: 'Deny',
        Action: 'secretsmanager:*',
        Resource:
          'arn:aws:secretsmanager:eu-west-1:123456789012:secret:zoho-sync/*/access-token-??????',
      },
    ];
    expect(evaluate(before, 'secretsmanager:GetSecretValue', credentials('acme'))).toBe('allowed');
    expect(evaluate(before, 'secretsmanager:GetSecretValue', accessToken('acme'))).toBe(
      'explicitly denied',
    );
    expect(evaluate(before, 'secretsmanager:PutSecretValue', credentials('acme'))).toBe(
      'implicitly denied',
    );
  });

  it('refuses to judge a statement with a condition', () => {
    expect(() =>
      evaluate(
        [{ Effect: 'Allow', Action: '*', Resource: '*', Condition: { Bool: { x: 'true' } } }],
        'secretsmanager:GetSecretValue',
        credentials('acme'),
      ),
    ).toThrow(/Condition/);
  });
});

describe('connection secrets per role (synthesized template)', () => {
  let synthesized: Synthesized;
  const decide = (role: Role, action: string, arn: string): Decision =>
    evaluate(roleStatements(synthesized, role) as PolicyStatementJson[], action, arn);
  const canRead = (role: Role, arn: string) =>
    decide(role, 'secretsmanager:GetSecretValue', arn) === 'allowed';

  beforeAll(() => {
    synthesized = synthZohoSync();
  });

  describe('webhook function', () => {
    const role = () => synthesized.stack.ingest.handler.role;

    it('cannot read any connection credentials secret', () => {
      for (const id of CONNECTION_IDS) {
        expect(decide(role(), 'secretsmanager:GetSecretValue', credentials(id)), id).not.toBe(
          'allowed',
        );
      }
    });

    it('reads every connection webhook secret', () => {
      for (const id of CONNECTION_IDS) expect(canRead(role(), webhookSecret(id)), id).toBe(true);
    });

    it('can do nothing else in Secrets Manager: no other action, no other secret', () => {
      for (const action of SECRET_ACTIONS) {
        for (const id of CONNECTION_IDS) {
          for (const arn of [credentials(id), accessToken(id), otherAppSecret]) {
            expect(decide(role(), action, arn), `${action} ${arn}`).not.toBe('allowed');
          }
          if (action !== 'secretsmanager:GetSecretValue') {
            expect(decide(role(), action, webhookSecret(id)), `${action} webhook`).not.toBe(
              'allowed',
            );
          }
        }
      }
      expect(decide(role(), 'secretsmanager:ListSecrets', '*')).not.toBe('allowed');
    });
  });

  describe.each([
    ['worker', () => synthesized.stack.worker.handler.role],
    ['reconcile-sweep', () => scheduledFunction(synthesized.stack, 'ReconcileSweep').handler.role],
  ])('%s function', (_name, role) => {
    it('reads credentials and access tokens, and writes access tokens only', () => {
      for (const id of CONNECTION_IDS) {
        expect(canRead(role(), credentials(id)), id).toBe(true);
        expect(canRead(role(), accessToken(id)), id).toBe(true);
        expect(decide(role(), 'secretsmanager:PutSecretValue', accessToken(id))).toBe('allowed');
        expect(decide(role(), 'secretsmanager:CreateSecret', accessToken(id))).toBe('allowed');
        expect(decide(role(), 'secretsmanager:PutSecretValue', credentials(id))).not.toBe(
          'allowed',
        );
        expect(decide(role(), 'secretsmanager:CreateSecret', credentials(id))).not.toBe('allowed');
      }
    });

    it('cannot read or write a webhook secret, which it does not need', () => {
      for (const id of CONNECTION_IDS) {
        for (const action of SECRET_ACTIONS) {
          expect(decide(role(), action, webhookSecret(id)), `${action} ${id}`).not.toBe('allowed');
        }
      }
    });
  });

  describe('renew-channels function', () => {
    const role = () => scheduledFunction(synthesized.stack, 'RenewChannels').handler.role;

    it('reads the webhook secret (a channel token is the secret) but cannot change it', () => {
      for (const id of CONNECTION_IDS) {
        expect(canRead(role(), webhookSecret(id)), id).toBe(true);
        for (const action of ['secretsmanager:PutSecretValue', 'secretsmanager:CreateSecret']) {
          expect(decide(role(), action, webhookSecret(id)), action).not.toBe('allowed');
          expect(decide(role(), action, credentials(id)), action).not.toBe('allowed');
        }
        expect(canRead(role(), credentials(id))).toBe(true);
      }
    });
  });

  describe('deploy-time migration function', () => {
    const role = () => synthesized.stack.webhookSecretMigration.handler.role;

    it('reads credentials and creates webhook secrets, but never overwrites or deletes one', () => {
      for (const id of CONNECTION_IDS) {
        expect(canRead(role(), credentials(id)), id).toBe(true);
        expect(canRead(role(), webhookSecret(id)), id).toBe(true);
        expect(decide(role(), 'secretsmanager:CreateSecret', webhookSecret(id))).toBe('allowed');
        for (const action of SECRET_ACTIONS.filter(
          (candidate) =>
            candidate !== 'secretsmanager:GetSecretValue' &&
            candidate !== 'secretsmanager:CreateSecret',
        )) {
          for (const arn of [credentials(id), webhookSecret(id), accessToken(id)]) {
            expect(decide(role(), action, arn), `${action} ${arn}`).not.toBe('allowed');
          }
        }
        expect(decide(role(), 'secretsmanager:CreateSecret', credentials(id))).not.toBe('allowed');
        expect(canRead(role(), accessToken(id))).toBe(false);
      }
    });
  });

  it('no function reads a secret outside zoho-sync/', () => {
    const roles = [
      synthesized.stack.ingest.handler.role,
      synthesized.stack.webhookSecretMigration.handler.role,
      synthesized.stack.worker.handler.role,
      ...synthesized.stack.scheduled.map((scheduled) => scheduled.handler.role),
    ];
    for (const role of roles) {
      expect(canRead(role, otherAppSecret), role.node.path).toBe(false);
    }
  });

  it('release-deferred has no secret at all', () => {
    const role = scheduledFunction(synthesized.stack, 'ReleaseDeferred').handler.role;
    for (const id of CONNECTION_IDS) {
      for (const arn of [credentials(id), webhookSecret(id), accessToken(id)]) {
        expect(canRead(role, arn)).toBe(false);
      }
    }
  });
});

describe('deploy order of the upgrade to split secrets', () => {
  let synthesized: Synthesized;
  beforeAll(() => {
    synthesized = synthZohoSync();
  });
  const resources = () =>
    synthesized.template.toJSON().Resources as Record<
      string,
      { Type: string; DependsOn?: string[]; Properties?: Record<string, unknown> }
    >;

  it('updates the webhook code only after the migration copied the legacy webhook secrets', () => {
    const { stack } = synthesized;
    const webhook = resources()[logicalId(stack, stack.ingest.handler.function)];
    const migration = logicalId(stack, stack.webhookSecretMigration.resource);
    expect(resources()[migration]?.Type).toBe('Custom::ZohoSyncWebhookSecretMigration');
    expect(webhook?.DependsOn).toContain(migration);
  });

  it("moves the webhook role's permissions to a new policy resource, which the code waits for", () => {
    const { stack } = synthesized;
    const webhook = resources()[logicalId(stack, stack.ingest.handler.function)];
    const policy = resources()[WEBHOOK_POLICY_LOGICAL_ID];
    expect(policy?.Type).toBe('AWS::IAM::Policy');
    expect(policy?.Properties?.Roles).toStrictEqual([
      { Ref: logicalId(stack, stack.ingest.handler.role) },
    ]);
    expect(webhook?.DependsOn).toContain(WEBHOOK_POLICY_LOGICAL_ID);
    // The old one (the role's DefaultPolicy id) is gone from the template, so CloudFormation
    // deletes it only in the cleanup phase, after the new code serves.
    const webhookRolePolicies = Object.entries(resources()).filter(
      ([, resource]) =>
        resource.Type === 'AWS::IAM::Policy' &&
        JSON.stringify(resource.Properties?.Roles) ===
          JSON.stringify([{ Ref: logicalId(stack, stack.ingest.handler.role) }]),
    );
    expect(webhookRolePolicies.map(([logical]) => logical)).toStrictEqual([
      WEBHOOK_POLICY_LOGICAL_ID,
    ]);
  });
});
