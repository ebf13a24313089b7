import { CONNECTION_ID_PATTERN, type Connection } from '../config';
import type { Logger } from '../observability';
import type { SyncMessage } from '../sync/sync-message';
import { isValidWebhookToken } from './authenticate';
import { WebhookRejectedError } from './errors';
import { parseWebhookBody } from './parse-webhook-body';
import { toWebhookPayload } from './webhook-payload';
import type { WebhookAccepted, WebhookRequest } from './webhook-request';

export const WEBHOOK_TOKEN_HEADER = 'x-zoho-sync-token';

export interface IngestWebhookDeps {
  readonly getConnection: (connectionId: string) => Promise<Connection | undefined>;
  readonly enqueue: (messages: readonly SyncMessage[]) => Promise<void>;
  readonly newId: () => string;
  readonly now: () => number;
  readonly logger: Logger;
}

/** One answer for a wrong token and an unknown connection: no hint of which connections exist. */
const unauthorized = (): WebhookRejectedError =>
  new WebhookRejectedError(401, 'unauthorized', 'Missing or invalid webhook token.');

/**
 * Authenticates a Zoho CRM webhook (workflow rule or Notification API callback), validates it
 * and queues one sync message per record. Nothing is queued unless every check passes.
 * @throws {WebhookRejectedError} 401 (unknown connection or bad token), 400/413/415/422 (bad body).
 */
export const ingestWebhook = async (
  deps: IngestWebhookDeps,
  request: WebhookRequest,
): Promise<WebhookAccepted> => {
  const connectionId = request.connectionId ?? '';
  const connection = CONNECTION_ID_PATTERN.test(connectionId)
    ? await deps.getConnection(connectionId)
    : undefined;

  let presentedToken = request.headers[WEBHOOK_TOKEN_HEADER] ?? request.query.token;
  if (presentedToken === undefined) presentedToken = await readBodyToken(request);
  if (!isValidWebhookToken(presentedToken, connection?.webhookSecret) || connection === undefined) {
    deps.logger.warn('webhook rejected: unauthorized', {
      connection_id: connectionId.slice(0, 40),
    });
    throw unauthorized();
  }

  const payload = toWebhookPayload(await parseWebhookBody(request));
  const correlationId = request.headers['x-correlation-id'] ?? deps.newId();
  const receivedAtMs = deps.now();
  const messages: SyncMessage[] = payload.crmRecordIds.map((crmRecordId) => ({
    version: 1,
    messageId: deps.newId(),
    correlationId,
    connectionId,
    crmModule: payload.crmModule,
    crmRecordId,
    source: payload.channelId === undefined ? 'workflow-webhook' : 'notification',
    receivedAtMs,
    attempt: 0,
    deferrals: 0,
  }));
  await deps.enqueue(messages);
  deps.logger.info('webhook accepted', {
    connection_id: connectionId,
    crm_module: payload.crmModule,
    records: messages.length,
    correlation_id: correlationId,
  });
  return {
    accepted: messages.length,
    messageIds: messages.map((message) => message.messageId),
    correlationId,
  };
};

/** Notification API callbacks carry the channel's token in the JSON body. */
const readBodyToken = async (request: WebhookRequest): Promise<string | undefined> => {
  try {
    const token = (await parseWebhookBody(request)).token;
    return typeof token === 'string' ? token : undefined;
  } catch {
    return undefined;
  }
};
