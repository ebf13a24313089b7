import { ArnFormat, Stack, Validations } from 'aws-cdk-lib';
import { Effect, PolicyStatement, type Role } from 'aws-cdk-lib/aws-iam';
import { Construct } from 'constructs';

/** Every zoho-sync secret's name starts with this (`ENV.secretPrefix` on every function). */
export const SECRET_PREFIX = 'zoho-sync/';

/** What the token store does with `zoho-sync/<connectionId>/access-token` secrets. */
export const TOKEN_STORE_ACTIONS = [
  'secretsmanager:GetSecretValue',
  'secretsmanager:DescribeSecret',
  'secretsmanager:PutSecretValue',
  'secretsmanager:CreateSecret',
] as const;

/** Finds the connections: the names of the `zoho-sync/<connectionId>` secrets. */
export const LIST_CONNECTIONS_ACTIONS = ['secretsmanager:ListSecrets'] as const;

/** Why {@link ConnectionSecrets.grantListConnections} allows an action on `*`. */
export const LIST_SECRETS_REASON =
  'Scheduled functions find the connections with secretsmanager:ListSecrets, which has no resource-level permissions (IAM accepts only Resource "*"). It returns secret names and metadata only, never secret values; reading a value still needs GetSecretValue, which stays limited to zoho-sync/*.';

const WILDCARD_REASON =
  'Connections are added after deploy with the setup CLI (one secret per connection, plus its access-token secret), so the stack cannot name them; the grant is limited to the zoho-sync/ prefix.';

/**
 * The Secrets Manager side of connections. The stack creates no secret and holds no secret
 * value: each connection's `zoho-sync/<connectionId>` secret (and the worker's
 * `zoho-sync/<connectionId>/access-token`) is created after deploy, encrypted with the account's
 * default `aws/secretsmanager` key, which Secrets Manager uses on the caller's behalf (so no
 * KMS grant is needed). This construct only scopes the grants to the prefix.
 */
export class ConnectionSecrets extends Construct {
  /** `arn:<partition>:secretsmanager:<region>:<account>:secret:zoho-sync/*` */
  readonly secretsArnPattern: string;
  /** The access-token secrets only (`zoho-sync/<id>/access-token` plus the random suffix). */
  readonly accessTokenArnPattern: string;

  constructor(scope: Construct, id: string) {
    super(scope, id);
    const secretArn = (resourceName: string): string =>
      Stack.of(this).formatArn({
        service: 'secretsmanager',
        resource: 'secret',
        resourceName,
        arnFormat: ArnFormat.COLON_RESOURCE_NAME,
      });
    this.secretsArnPattern = secretArn(`${SECRET_PREFIX}*`);
    this.accessTokenArnPattern = secretArn(`${SECRET_PREFIX}*/access-token-??????`);
  }

  /**
   * Read access to connection credentials (the webhook checks `webhookSecret`), with an
   * explicit deny on the access-token secrets: a webhook never needs a Zoho token.
   */
  grantReadCredentials(role: Role): void {
    role.addToPrincipalPolicy(
      new PolicyStatement({
        actions: ['secretsmanager:GetSecretValue'],
        resources: [this.secretsArnPattern],
      }),
    );
    role.addToPrincipalPolicy(
      new PolicyStatement({
        sid: 'NoZohoAccessTokens',
        effect: Effect.DENY,
        actions: ['secretsmanager:*'],
        resources: [this.accessTokenArnPattern],
      }),
    );
    this.acknowledgeWildcard(role);
  }

  /** Read credentials, and read and write access tokens (the worker's token store). */
  grantTokenStore(role: Role): void {
    role.addToPrincipalPolicy(
      new PolicyStatement({
        actions: [...TOKEN_STORE_ACTIONS],
        resources: [this.secretsArnPattern],
      }),
    );
    this.acknowledgeWildcard(role);
  }

  /**
   * Listing the connections (lib/tokens/list-connections.ts): `secretsmanager:ListSecrets` on
   * `*`, the only resource IAM accepts for it. It reveals which secrets exist, not what they
   * hold, so the function still needs {@link grantTokenStore} or {@link grantReadCredentials}.
   */
  grantListConnections(role: Role): void {
    role.addToPrincipalPolicy(
      new PolicyStatement({
        sid: 'ListConnections',
        actions: [...LIST_CONNECTIONS_ACTIONS],
        resources: ['*'],
      }),
    );
    Validations.of(role).acknowledge({
      id: 'AwsSolutions-IAM5[Resource::*]',
      reason: LIST_SECRETS_REASON,
    });
  }

  private acknowledgeWildcard(role: Role): void {
    Validations.of(role).acknowledge({
      id: `AwsSolutions-IAM5[Resource::arn:<AWS::Partition>:secretsmanager:<AWS::Region>:<AWS::AccountId>:secret:${SECRET_PREFIX}*]`,
      reason: WILDCARD_REASON,
    });
  }
}
