export { isValidWebhookToken, matchesWebhookSecret } from './authenticate';
export { WebhookRejectedError } from './errors';
export { type IngestWebhookDeps, ingestWebhook, WEBHOOK_TOKEN_HEADER } from './ingest-webhook';
export { parseWebhookBody } from './parse-webhook-body';
export { createWebhookDeps } from './webhook-deps';
export { MAX_RECORDS_PER_WEBHOOK, toWebhookPayload, type WebhookPayload } from './webhook-payload';
export type { WebhookAccepted, WebhookRequest } from './webhook-request';
export {
  copyLegacyWebhookSecrets,
  finishWebhookSecretRotation,
  type LegacyCopySummary,
  type MigrationOutcome,
  type MigrationResult,
  migrateAllLegacyWebhookSecrets,
  migrateLegacyWebhookSecret,
  type RotationFinished,
  type RotationStarted,
  startWebhookSecretRotation,
  type WebhookSecretRotationDeps,
} from './webhook-secret-rotation';
