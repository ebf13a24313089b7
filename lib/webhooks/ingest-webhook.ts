import { CONNECTION_ID_PATTERN, type WebhookSecret } from '../config';
import type { Logger } from '../observability';
import type { SyncMessage } from '../sync/sync-message';
import { WEBHOOK_SECRET_RECHECK_AFTER_MS } from '../tokens/webhook-secret-store';
import { matchesWebhookSecret } from './authenticate';
import { WebhookRejectedError } from './errors';
import { parseWebhookBody } from './parse-webhook-body';
import { toWebhookPayload } from './webhook-payload';
import type { WebhookAccepted, WebhookRequest } from './webhook-request';

export const WEBHOOK_TOKEN_HEADER = 'x-zoho-sync-token';

export interface IngestWebhookDeps {
  /**
   * The connection's webhook secret (`zoho-sync/<id>/webhook`), or undefined for an unknown
   * connection; may be cached, but for no longer than `maxAgeMs` when that is given.
   */
  readonly getWebhookSecret: (
    connectionId: string,
    options?: { maxAgeMs?: number },
  ) => Promise<WebhookSecret | undefined>;
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
  const knownShape = CONNECTION_ID_PATTERN.test(connectionId);
  const secret = knownShape ? await deps.getWebhookSecret(connectionId) : undefined;

  let presentedToken = request.headers[WEBHOOK_TOKEN_HEADER] ?? request.query.token;
  if (presentedToken === undefined) presentedToken = await readBodyToken(request);
  let authorized = matchesWebhookSecret(presentedToken, secret);
  if (!authorized && knownShape && presentedToken !== undefined) {
    // The secret may have changed since this container read it (`webhook-secret rotate` just
    // added a next secret, or setup just created the connection): read it again, but at most
    // once per few seconds, so wrong tokens cannot multiply Secrets Manager calls.
    const fresher = await deps.getWebhookSecret(connectionId, {
      maxAgeMs: WEBHOOK_SECRET_RECHECK_AFTER_MS,
    });
    authorized = matchesWebhookSecret(presentedToken, fresher);
  }
  if (!authorized) {
    deps.logger.warn('webhook rejected: unauthorized', {
      connection_id: connectionId.slice(0, 40),
    });
    throw unauthorized();
  }

  const payload = toWebhookPayload(await parseWebhookBody(request));
  const correlationId = readCorrelationId(request) ?? deps.newId();
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

/**
 * A caller's correlation id is kept only when it looks like one: it lands in every message and
 * log line, and SQS refuses bodies with some Unicode characters (U+FFFE, U+FFFF).
 */
const CORRELATION_ID_PATTERN = /^[\w.:-]{1,128}$/;

const readCorrelationId = (request: WebhookRequest): string | undefined => {
  const presented = request.headers['x-correlation-id'];
  return presented !== undefined && CORRELATION_ID_PATTERN.test(presented) ? presented : undefined;
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
