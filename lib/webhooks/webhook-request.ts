/** An HTTP request as the webhook logic sees it: no API Gateway types below functions/. */
export interface WebhookRequest {
  readonly connectionId: string | undefined;
  /** Header names in lower case (API Gateway HTTP APIs and node:http both lower-case them). */
  readonly headers: Readonly<Record<string, string | undefined>>;
  readonly query: Readonly<Record<string, string | undefined>>;
  readonly body: string | undefined;
  readonly isBase64Encoded: boolean;
}

export interface WebhookAccepted {
  readonly accepted: number;
  readonly messageIds: readonly string[];
  readonly correlationId: string;
}
