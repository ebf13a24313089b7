import { ZohoSyncError } from '../errors';

/**
 * Thrown when a webhook request is refused. Follows middy's HttpError shape (`statusCode`,
 * `expose`) so @middy/http-error-handler answers it; the message is the JSON body.
 */
export class WebhookRejectedError extends ZohoSyncError {
  override readonly name = 'WebhookRejectedError';
  readonly statusCode: number;
  readonly expose = true;
  readonly errorCode: string;

  constructor(statusCode: number, errorCode: string, description: string) {
    super(JSON.stringify({ error: { code: errorCode, message: description } }), {
      disposition: 'fail-quiet',
    });
    this.statusCode = statusCode;
    this.errorCode = errorCode;
  }
}
