import { ArnFormat, Stack, Validations } from 'aws-cdk-lib';
import { Effect, PolicyStatement, type Role } from 'aws-cdk-lib/aws-iam';
import { Construct } from 'constructs';

/** Every zoho-sync secret's name starts with this (`ENV.secretPrefix` on every function). */
export const SECRET_PREFIX = 'zoho-sync/';

/** What the token store does with `zoho-sync/<connectionId>/access-token` secrets. */
export const TOKEN_STORE_ACTIONS = [
  'secretsmanager:GetSecretValue',
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

const WEBHOOK_WILDCARD_REASON =
  'Connections are added after deploy, so the stack cannot name their webhook secrets; the grant matches only names zoho-sync/<id>/webhook (plus the 6-character suffix Secrets Manager appends), never a connection credentials secret zoho-sync/<id>, whose id has no slash.';

const ACCESS_TOKEN_WILDCARD_REASON =
  'Connections are added after deploy, so the stack cannot name their access-token secrets; the writes are limited to names zoho-sync/<id>/access-token, which the token store creates and updates.';

/** The resource names (after `:secret:`) of the ARN patterns the grants use. */
export const SECRET_NAME_PATTERNS = {
  all: `${SECRET_PREFIX}*`,
  accessTokens: `${SECRET_PREFIX}*/access-token-??????`,
  webhooks: `${SECRET_PREFIX}*/webhook-??????`,
  // CreateSecret is authorized before the suffix exists, so these match with or without it.
  createAccessToken: `${SECRET_PREFIX}*/access-token*`,
  createWebhook: `${SECRET_PREFIX}*/webhook*`,
} as const;

/** The sid of the statement that keeps a role away from the webhook secrets. */
export const NO_WEBHOOK_SECRETS_SID = 'NoWebhookSecrets';

/**
 * The Secrets Manager side of connections. The stack creates no secret and holds no secret
 * value. Each connection has up to three secrets, created after deploy and encrypted with the
 * account's default `aws/secretsmanager` key (used on the caller's behalf, so no KMS grant):
 *
 * - `zoho-sync/<id>`: the OAuth credentials (client secret, refresh token). Never readable by
 *   the internet-facing webhook function.
 * - `zoho-sync/<id>/webhook`: the webhook secret(s), the only secret the webhook function reads.
 * - `zoho-sync/<id>/access-token`: the worker's access token.
 *
 * IAM wildcards cannot say "no slash", so `zoho-sync/*` also matches the other two. The grants
 * therefore match the webhook secrets by their second path segment (`zoho-sync/*\/webhook-??????`
 * cannot match `zoho-sync/<id>-??????`, as connection ids have no slash), and every role that
 * reads credentials with `zoho-sync/*` but needs no webhook secret is denied them explicitly.
 */
export class ConnectionSecrets extends Construct {
  /** `arn:<partition>:secretsmanager:<region>:<account>:secret:zoho-sync/*` */
  readonly secretsArnPattern: string;
  /** The access-token secrets only (`zoho-sync/<id>/access-token` plus the random suffix). */
  readonly accessTokenArnPattern: string;
  /** The webhook secrets only (`zoho-sync/<id>/webhook` plus the random suffix). */
  readonly webhookArnPattern: string;
  /** Where an access-token secret may be created (with or without the suffix). */
  readonly accessTokenCreatePattern: string;
  /** Where a webhook secret may be created (with or without the suffix). */
  readonly webhookCreatePattern: string;

  constructor(scope: Construct, id: string) {
    super(scope, id);
    const secretArn = (resourceName: string): string =>
      Stack.of(this).formatArn({
        service: 'secretsmanager',
        resource: 'secret',
        resourceName,
        arnFormat: ArnFormat.COLON_RESOURCE_NAME,
      });
    this.secretsArnPattern = secretArn(SECRET_NAME_PATTERNS.all);
    this.accessTokenArnPattern = secretArn(SECRET_NAME_PATTERNS.accessTokens);
    this.webhookArnPattern = secretArn(SECRET_NAME_PATTERNS.webhooks);
    this.accessTokenCreatePattern = secretArn(SECRET_NAME_PATTERNS.createAccessToken);
    this.webhookCreatePattern = secretArn(SECRET_NAME_PATTERNS.createWebhook);
  }

  /**
   * The webhook function: reads the webhook secrets and nothing else in Secrets Manager (no
   * other statement of its role names a secret; test/infra/webhook-secret-isolation.test.ts
   * proves it against concrete ARNs). No explicit deny of the other secrets: during the deploy
   * that introduces this grant, the webhook role keeps its previous policy until CloudFormation's
   * cleanup, so the previous code can still read the credentials while it serves, and a deny
   * would cut it off before the new code is in place.
   */
  grantReadWebhookSecrets(role: Role): void {
    role.addToPrincipalPolicy(
      new PolicyStatement({
        actions: ['secretsmanager:GetSecretValue'],
        resources: [this.webhookArnPattern],
      }),
    );
    this.acknowledge(role, SECRET_NAME_PATTERNS.webhooks, WEBHOOK_WILDCARD_REASON);
  }

  /**
   * Read access to connection credentials only: the access tokens are denied and, unless
   * `webhookSecrets` is `read`, so are the webhook secrets.
   */
  grantReadCredentials(role: Role, options: { webhookSecrets?: 'read' } = {}): void {
    this.allowCredentials(role, options);
    role.addToPrincipalPolicy(
      new PolicyStatement({
        sid: 'NoZohoAccessTokens',
        effect: Effect.DENY,
        actions: ['secretsmanager:*'],
        resources: [this.accessTokenArnPattern],
      }),
    );
  }

  /**
   * The token store (worker, channel renewal, sweep): reads credentials, reads and writes the
   * access-token secrets (and nothing else). The webhook secrets are denied unless
   * `webhookSecrets` is `read` (channel renewal: a channel's token is the webhook secret).
   */
  grantTokenStore(role: Role, options: { webhookSecrets?: 'read' } = {}): void {
    this.allowCredentials(role, options);
    role.addToPrincipalPolicy(
      new PolicyStatement({
        actions: ['secretsmanager:PutSecretValue'],
        resources: [this.accessTokenArnPattern],
      }),
    );
    role.addToPrincipalPolicy(
      new PolicyStatement({
        actions: ['secretsmanager:CreateSecret'],
        resources: [this.accessTokenCreatePattern],
      }),
    );
    this.acknowledge(role, SECRET_NAME_PATTERNS.accessTokens, ACCESS_TOKEN_WILDCARD_REASON);
    this.acknowledge(role, SECRET_NAME_PATTERNS.createAccessToken, ACCESS_TOKEN_WILDCARD_REASON);
  }

  /**
   * The deploy-time migration: reads credentials (a legacy one still holds `webhookSecret`) and
   * webhook secrets, and creates missing webhook secrets. It never overwrites one.
   */
  grantMigrateWebhookSecrets(role: Role): void {
    this.allowCredentials(role, { webhookSecrets: 'read' });
    role.addToPrincipalPolicy(
      new PolicyStatement({
        actions: ['secretsmanager:CreateSecret'],
        resources: [this.webhookCreatePattern],
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
    this.acknowledge(role, SECRET_NAME_PATTERNS.createWebhook, WEBHOOK_WILDCARD_REASON);
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

  private allowCredentials(role: Role, options: { webhookSecrets?: 'read' }): void {
    role.addToPrincipalPolicy(
      new PolicyStatement({
        actions: ['secretsmanager:GetSecretValue'],
        resources: [this.secretsArnPattern],
      }),
    );
    if (options.webhookSecrets !== 'read') {
      role.addToPrincipalPolicy(
        new PolicyStatement({
          sid: NO_WEBHOOK_SECRETS_SID,
          effect: Effect.DENY,
          actions: ['secretsmanager:*'],
          resources: [this.webhookArnPattern],
        }),
      );
    }
    this.acknowledge(role, SECRET_NAME_PATTERNS.all, WILDCARD_REASON);
  }

  private acknowledge(role: Role, resourceName: string, reason: string): void {
    Validations.of(role).acknowledge({
      id: `AwsSolutions-IAM5[Resource::arn:<AWS::Partition>:secretsmanager:<AWS::Region>:<AWS::AccountId>:secret:${resourceName}]`,
      reason,
    });
  }
}
