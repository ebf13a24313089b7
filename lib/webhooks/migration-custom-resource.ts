import type { SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import {
  type CustomResourceRequest,
  sendCustomResourceResponse,
} from '../aws/custom-resource-response';
import { type Logger, redact } from '../observability';
import { copyLegacyWebhookSecrets } from './webhook-secret-rotation';

/** The custom resource's physical id: one per stack, never replaced. */
export const WEBHOOK_SECRET_MIGRATION_ID = 'zoho-sync-webhook-secret-migration';

export interface WebhookSecretMigrationDeps {
  readonly secretsManager: SecretsManagerClient;
  readonly secretPrefix: string;
  readonly logger: Logger;
}

/**
 * The deploy-time migration, run by CloudFormation before the webhook function's new code
 * (which reads only `<prefix><id>/webhook`) is deployed: on Create and Update it copies every
 * legacy webhook secret out of the credentials ({@link copyLegacyWebhookSecrets}); Delete does
 * nothing. A failed copy fails the resource, so the deploy rolls back with the old code still
 * serving, instead of answering 401 to that connection's first delivery.
 */
export const runWebhookSecretMigration = async (
  deps: WebhookSecretMigrationDeps,
  request: CustomResourceRequest,
): Promise<void> => {
  const physicalResourceId = request.PhysicalResourceId ?? WEBHOOK_SECRET_MIGRATION_ID;
  if (request.RequestType === 'Delete') {
    await sendCustomResourceResponse(request, { status: 'SUCCESS', physicalResourceId });
    return;
  }
  try {
    const summary = await copyLegacyWebhookSecrets(deps);
    deps.logger.info('webhook secrets migrated', {
      copied: summary.copied,
      already_split: summary.alreadySplit,
      without_webhook_secret: summary.withoutWebhookSecret,
    });
    if (summary.withoutWebhookSecret.length > 0) {
      deps.logger.warn('connections without any webhook secret: run setup for them', {
        connection_ids: summary.withoutWebhookSecret,
      });
    }
    await sendCustomResourceResponse(request, {
      status: 'SUCCESS',
      physicalResourceId,
      reason: `copied ${summary.copied.length}, already split ${summary.alreadySplit}, without webhook secret ${summary.withoutWebhookSecret.length}`,
      data: { Copied: summary.copied.length, AlreadySplit: summary.alreadySplit },
    });
  } catch (error) {
    const message = redact(error instanceof Error ? error.message : String(error));
    deps.logger.error('webhook secret migration failed', { error: message });
    await sendCustomResourceResponse(request, {
      status: 'FAILED',
      physicalResourceId,
      reason: `zoho-sync could not copy the webhook secrets to zoho-sync/<id>/webhook: ${message}`,
    });
  }
};
