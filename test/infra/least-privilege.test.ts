import type { Role } from 'aws-cdk-lib/aws-iam';
import { beforeAll, describe, expect, it } from 'vitest';
import type { ZohoSyncStack } from '../../infra/zoho-sync-stack';
import { logicalId, type Synthesized, scheduledFunction, synthZohoSync } from './synth-zoho-sync';

interface Statement {
  readonly Effect: 'Allow' | 'Deny';
  readonly Action: string | string[];
  readonly Resource?: unknown;
  readonly NotResource?: unknown;
  readonly Sid?: string;
}

const actionsOf = (statement: Statement): string[] =>
  Array.isArray(statement.Action) ? statement.Action : [statement.Action];

// The ARN pattern `Stack.formatArn` renders for `secret:zoho-sync/*` and its access tokens.
const secretArn = (resourceName: string) => ({
  'Fn::Join': [
    '',
    [
      'arn:',
      { Ref: 'AWS::Partition' },
      ':secretsmanager:',
      { Ref: 'AWS::Region' },
      ':',
      { Ref: 'AWS::AccountId' },
      `:secret:${resourceName}`,
    ],
  ],
});
const ALL_CONNECTION_SECRETS = secretArn('zoho-sync/*');
const WEBHOOK_SECRETS = secretArn('zoho-sync/*/webhook-??????');

/** The token store's grants: credentials read, access tokens written, webhook secrets denied. */
const TOKEN_STORE_STATEMENTS = [
  {
    Effect: 'Allow',
    Action: 'secretsmanager:GetSecretValue',
    Resource: ALL_CONNECTION_SECRETS,
  },
  {
    Sid: 'NoWebhookSecrets',
    Effect: 'Deny',
    Action: 'secretsmanager:*',
    Resource: WEBHOOK_SECRETS,
  },
  {
    Effect: 'Allow',
    Action: 'secretsmanager:PutSecretValue',
    Resource: secretArn('zoho-sync/*/access-token-??????'),
  },
  {
    Effect: 'Allow',
    Action: 'secretsmanager:CreateSecret',
    Resource: secretArn('zoho-sync/*/access-token*'),
  },
];

describe('least privilege', () => {
  let synthesized: Synthesized;
  let stack: ZohoSyncStack;
  const id = (construct: Parameters<typeof logicalId>[1]) => logicalId(stack, construct);
  const getAtt = (construct: Parameters<typeof logicalId>[1], attribute = 'Arn') => ({
    'Fn::GetAtt': [id(construct), attribute],
  });

  /** Every statement of every policy attached to the role, inline or not. */
  const statementsOf = (role: Role): Statement[] => {
    const roleRef = { Ref: id(role) };
    const policies = Object.values(synthesized.template.findResources('AWS::IAM::Policy')).filter(
      (policy) =>
        (policy.Properties.Roles as unknown[]).some(
          (attached) => JSON.stringify(attached) === JSON.stringify(roleRef),
        ),
    );
    const inline = (
      synthesized.template.toJSON().Resources[id(role)].Properties.Policies ?? []
    ).flatMap(
      (policy: { PolicyDocument: { Statement: Statement[] } }) => policy.PolicyDocument.Statement,
    );
    return [
      ...inline,
      ...policies.flatMap((policy) => policy.Properties.PolicyDocument.Statement as Statement[]),
    ];
  };
  const allowedActions = (role: Role): string[] =>
    statementsOf(role)
      .filter((statement) => statement.Effect === 'Allow')
      .flatMap(actionsOf)
      .sort();
  const resourcesAllowedFor = (role: Role, action: string): unknown[] =>
    statementsOf(role)
      .filter((statement) => statement.Effect === 'Allow' && actionsOf(statement).includes(action))
      .map((statement) => statement.Resource);

  beforeAll(() => {
    synthesized = synthZohoSync();
    stack = synthesized.stack;
  });

  it('gives no role a managed policy', () => {
    for (const role of Object.values(synthesized.template.findResources('AWS::IAM::Role'))) {
      expect(role.Properties.ManagedPolicyArns).toBeUndefined();
    }
  });

  it('allows nothing on every resource ("*") but ListSecrets, and that only to the functions that list connections, when tracing is off', () => {
    const onEveryResource = Object.values(
      synthesized.template.findResources('AWS::IAM::Policy'),
    ).flatMap((policy) =>
      (policy.Properties.PolicyDocument.Statement as Statement[])
        .filter((statement) => [statement.Resource].flat().includes('*'))
        .map((statement) => ({ roles: policy.Properties.Roles as unknown, statement })),
    );
    expect(onEveryResource).toStrictEqual(
      [
        stack.webhookSecretMigration.handler.role,
        ...['RenewChannels', 'ReconcileSweep'].map(
          (specId) => scheduledFunction(stack, specId).handler.role,
        ),
      ].map((role) => ({
        roles: [{ Ref: id(role) }],
        statement: {
          Sid: 'ListConnections',
          Effect: 'Allow',
          Action: 'secretsmanager:ListSecrets',
          Resource: '*',
        },
      })),
    );
  });

  describe('webhook function', () => {
    const role = () => stack.ingest.handler.role;

    it('may only write its logs, send to the sync queue and read connection secrets', () => {
      expect(allowedActions(role())).toStrictEqual([
        'logs:CreateLogStream',
        'logs:PutLogEvents',
        'secretsmanager:GetSecretValue',
        'sqs:SendMessage',
      ]);
    });

    it('may not list secrets', () => {
      expect(resourcesAllowedFor(role(), 'secretsmanager:ListSecrets')).toStrictEqual([]);
    });

    it('has no DynamoDB, SNS or KMS action at all', () => {
      const actions = statementsOf(role()).flatMap(actionsOf);
      expect(actions.filter((action) => /^(dynamodb|sns|kms):/.test(action))).toStrictEqual([]);
    });

    it('sends only to the sync queue, not to the dead-letter queue', () => {
      expect(resourcesAllowedFor(role(), 'sqs:SendMessage')).toStrictEqual([
        getAtt(stack.syncQueue.queue),
      ]);
    });

    it('reads the webhook secrets only: no other secret is named, nothing is denied', () => {
      expect(resourcesAllowedFor(role(), 'secretsmanager:GetSecretValue')).toStrictEqual([
        WEBHOOK_SECRETS,
      ]);
      // No deny: while a stack is upgraded, the old policy (credentials readable) must still
      // serve the old code until CloudFormation's cleanup (see the deploy-order test).
      expect(statementsOf(role()).filter((statement) => statement.Effect === 'Deny')).toStrictEqual(
        [],
      );
    });

    it('writes only to its own log group', () => {
      expect(resourcesAllowedFor(role(), 'logs:PutLogEvents')).toStrictEqual([
        getAtt(stack.ingest.handler.logGroup),
      ]);
    });
  });

  describe('worker function', () => {
    const role = () => stack.worker.handler.role;

    it('reads credentials, writes access tokens only, and is denied the webhook secrets', () => {
      const secretStatements = statementsOf(role()).filter((statement) =>
        actionsOf(statement).some((action) => action.startsWith('secretsmanager:')),
      );
      expect(secretStatements).toStrictEqual(TOKEN_STORE_STATEMENTS);
    });

    it('uses item-level DynamoDB actions on its table only (no Scan, no table admin)', () => {
      const dynamo = statementsOf(role()).filter((statement) =>
        actionsOf(statement).some((action) => action.startsWith('dynamodb:')),
      );
      expect(dynamo).toHaveLength(1);
      expect(dynamo[0]?.Resource).toStrictEqual([getAtt(stack.state.table)]);
      expect(actionsOf(dynamo[0] as Statement).sort()).toStrictEqual([
        'dynamodb:BatchGetItem',
        'dynamodb:BatchWriteItem',
        'dynamodb:ConditionCheckItem',
        'dynamodb:DeleteItem',
        'dynamodb:GetItem',
        'dynamodb:PutItem',
        'dynamodb:Query',
        'dynamodb:UpdateItem',
      ]);
    });

    it('consumes the sync queue and sends to it and to the dead-letter queue only', () => {
      expect(resourcesAllowedFor(role(), 'sqs:SendMessage')).toStrictEqual([
        getAtt(stack.syncQueue.queue),
        getAtt(stack.syncQueue.deadLetterQueue),
      ]);
      for (const action of [
        'sqs:ReceiveMessage',
        'sqs:DeleteMessage',
        'sqs:ChangeMessageVisibility',
      ]) {
        expect(resourcesAllowedFor(role(), action)).toStrictEqual([getAtt(stack.syncQueue.queue)]);
      }
    });

    it('publishes to the alert topic only, with just the key actions SNS needs', () => {
      expect(resourcesAllowedFor(role(), 'sns:Publish')).toStrictEqual([
        { Ref: id(stack.alerts.topic) },
      ]);
      const kms = statementsOf(role()).filter((statement) =>
        actionsOf(statement).some((action) => action.startsWith('kms:')),
      );
      expect(kms).toStrictEqual([
        {
          Effect: 'Allow',
          Action: ['kms:GenerateDataKey', 'kms:Decrypt'],
          Resource: getAtt(stack.alerts.key),
        },
      ]);
    });

    it('has nothing beyond logs, queue, table, topic and secrets', () => {
      const services = new Set(allowedActions(role()).map((action) => action.split(':')[0]));
      expect([...services].sort()).toStrictEqual([
        'dynamodb',
        'kms',
        'logs',
        'secretsmanager',
        'sns',
        'sqs',
      ]);
    });
  });

  describe('release-deferred function', () => {
    const role = () => scheduledFunction(stack, 'ReleaseDeferred').handler.role;

    it('reaches only its logs, the table and the sync queue', () => {
      const services = new Set(allowedActions(role()).map((action) => action.split(':')[0]));
      expect([...services].sort()).toStrictEqual(['dynamodb', 'logs', 'sqs']);
      expect(resourcesAllowedFor(role(), 'sqs:SendMessage')).toStrictEqual([
        getAtt(stack.syncQueue.queue),
      ]);
      expect(resourcesAllowedFor(role(), 'dynamodb:Query')).toStrictEqual([
        [getAtt(stack.state.table)],
      ]);
    });
  });
  /** Secrets statements of a function that lists connections and keeps their tokens. */
  const expectListAndTokenStoreOnly = (role: Role, options: { readsWebhookSecrets: boolean }) => {
    expect(resourcesAllowedFor(role, 'secretsmanager:ListSecrets')).toStrictEqual(['*']);
    const secretStatements = statementsOf(role).filter(
      (statement) =>
        actionsOf(statement).some((action) => action.startsWith('secretsmanager:')) &&
        statement.Sid !== 'ListConnections',
    );
    expect(secretStatements).toStrictEqual(
      options.readsWebhookSecrets
        ? TOKEN_STORE_STATEMENTS.filter((statement) => statement.Sid !== 'NoWebhookSecrets')
        : TOKEN_STORE_STATEMENTS,
    );
  };

  describe('renew-channels function', () => {
    const role = () => scheduledFunction(stack, 'RenewChannels').handler.role;

    it('reaches only its logs, the table and connection secrets', () => {
      const services = new Set(allowedActions(role()).map((action) => action.split(':')[0]));
      expect([...services].sort()).toStrictEqual(['dynamodb', 'logs', 'secretsmanager']);
      expect(resourcesAllowedFor(role(), 'dynamodb:GetItem')).toStrictEqual([
        [getAtt(stack.state.table)],
      ]);
    });

    it('has no SQS or SNS action at all', () => {
      const actions = statementsOf(role()).flatMap(actionsOf);
      expect(actions.filter((action) => /^(sqs|sns):/.test(action))).toStrictEqual([]);
    });

    it('lists secrets on "*" only, reads credentials and webhook secrets, writes access tokens only', () => {
      expectListAndTokenStoreOnly(role(), { readsWebhookSecrets: true });
    });
  });

  describe('reconcile-sweep function', () => {
    const role = () => scheduledFunction(stack, 'ReconcileSweep').handler.role;

    it('reaches only its logs, the table, the sync queue and connection secrets', () => {
      const services = new Set(allowedActions(role()).map((action) => action.split(':')[0]));
      expect([...services].sort()).toStrictEqual(['dynamodb', 'logs', 'secretsmanager', 'sqs']);
      expect(resourcesAllowedFor(role(), 'dynamodb:GetItem')).toStrictEqual([
        [getAtt(stack.state.table)],
      ]);
    });

    it('may only send to the sync queue, not to the dead-letter queue', () => {
      expect(allowedActions(role()).filter((action) => action.startsWith('sqs:'))).toStrictEqual([
        'sqs:SendMessage',
      ]);
      expect(resourcesAllowedFor(role(), 'sqs:SendMessage')).toStrictEqual([
        getAtt(stack.syncQueue.queue),
      ]);
    });

    it('has no SNS action at all', () => {
      const actions = statementsOf(role()).flatMap(actionsOf);
      expect(actions.filter((action) => action.startsWith('sns:'))).toStrictEqual([]);
    });

    it('lists secrets on "*" only, reads credentials, writes access tokens, no webhook secret', () => {
      expectListAndTokenStoreOnly(role(), { readsWebhookSecrets: false });
    });
  });
});
