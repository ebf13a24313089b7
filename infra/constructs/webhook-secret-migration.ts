import { CustomResource, Duration } from 'aws-cdk-lib';
import { Construct } from 'constructs';
import { WEBHOOK_SECRET_MIGRATION_ID } from '../../lib/webhooks/migration-custom-resource';
import { type FunctionDefaults, functionEntry, ZohoSyncFunction } from '../function-defaults';
import type { ConnectionSecrets } from './connection-secrets';

export interface WebhookSecretMigrationProps {
  readonly defaults: FunctionDefaults;
  readonly secrets: ConnectionSecrets;
}

/**
 * A custom resource that copies every legacy webhook secret (kept inside the credentials before
 * the split) into `zoho-sync/<id>/webhook` during the deploy. The stack makes the webhook
 * function depend on it, so CloudFormation updates the function's code only once every
 * connection has the secret the new code reads: the first delivery after the upgrade is
 * accepted. It runs on the deploy that creates it and whenever its properties change; it never
 * replaces an existing webhook secret, so running it again is harmless.
 *
 * Its Lambda function answers CloudFormation itself (lib/aws/custom-resource-response.ts): the
 * CDK Provider framework would add another function with a managed policy.
 */
export class WebhookSecretMigration extends Construct {
  readonly handler: ZohoSyncFunction;
  readonly resource: CustomResource;

  constructor(scope: Construct, id: string, props: WebhookSecretMigrationProps) {
    super(scope, id);
    this.handler = new ZohoSyncFunction(this, 'Function', {
      entry: functionEntry('migrate-webhook-secrets'),
      description:
        'zoho-sync webhook-secret migration: copies legacy webhook secrets to zoho-sync/<id>/webhook at deploy',
      defaults: props.defaults,
      timeout: Duration.minutes(5),
    });
    props.secrets.grantListConnections(this.handler.role);
    props.secrets.grantMigrateWebhookSecrets(this.handler.role);
    this.resource = new CustomResource(this, 'Resource', {
      serviceToken: this.handler.function.functionArn,
      resourceType: 'Custom::ZohoSyncWebhookSecretMigration',
      // Bump to run the copy again on the next deploy.
      properties: { MigrationVersion: '1', PhysicalId: WEBHOOK_SECRET_MIGRATION_ID },
    });
    // The copy needs its permissions in place before CloudFormation invokes it.
    this.resource.node.addDependency(this.handler.role);
  }
}
