export { isValidWebhookToken, matchesWebhookSecret } from './authenticate';
export { WebhookRejectedError } from './errors';
export { type IngestWebhookDeps, ingestWebhook, WEBHOOK_TOKEN_HEADER } from './ingest-webhook';
export { parseWebhookBody } from './parse-webhook-body';
export { createWebhookDeps } from './webhook-deps';
export { MAX_RECORDS_PER_WEBHOOK, toWebhookPayload, type WebhookPayload } from './webhook-payload';
export type { WebhookAccepted, WebhookRequest } from './webhook-request';
