import * as z from 'zod';
import { type SyncedCrmModule, toSyncedCrmModule } from '../sync/crm-modules';
import { WebhookRejectedError } from './errors';

/** At most this many records per webhook; Zoho's notification callbacks batch ids. */
export const MAX_RECORDS_PER_WEBHOOK = 100;

const recordIdSchema = z.union([
  z
    .string()
    .trim()
    .regex(/^\d{1,30}$/, { message: 'must be a numeric CRM record id' }),
  z
    .number()
    .int()
    .nonnegative({ message: 'must be a numeric CRM record id' })
    .refine(Number.isSafeInteger, {
      // A 19-digit CRM id loses digits as a JSON number; refuse rather than sync the wrong record.
      message: 'CRM record ids longer than 15 digits must be sent as strings',
    })
    .transform(String),
]);

const idListSchema = z.union([
  z.array(recordIdSchema),
  z.string().transform((value, context) => {
    const parts = value
      .split(',')
      .map((part) => part.trim())
      .filter((part) => part !== '');
    const parsed = z.array(recordIdSchema).safeParse(parts);
    if (!parsed.success) {
      context.addIssue({ code: 'custom', message: 'ids must be numeric CRM record ids' });
      return z.NEVER;
    }
    return parsed.data;
  }),
]);

/**
 * A workflow-rule webhook (`module` + `id`, parameter names set by the admin) or a Notification
 * API callback (`module` + `ids`, see zoho-crm-api.md §4). Unknown keys are ignored.
 */
const webhookPayloadSchema = z
  .object({
    module: z.string().trim().min(1, { message: 'is required' }),
    id: recordIdSchema.optional(),
    ids: idListSchema.optional(),
    operation: z.string().optional(),
    channel_id: z.union([z.string(), z.number()]).optional(),
    token: z.string().optional(),
  })
  .refine((payload) => payload.id !== undefined || (payload.ids?.length ?? 0) > 0, {
    message: 'is required (the CRM record id)',
    path: ['id'],
  });

export interface WebhookPayload {
  readonly crmModule: SyncedCrmModule;
  readonly crmRecordIds: readonly string[];
  readonly operation: string | undefined;
  /** The Notification API echoes the channel's `token` in the body. */
  readonly bodyToken: string | undefined;
  /** Only Notification API callbacks carry a channel id. */
  readonly channelId: string | undefined;
}

/**
 * Validates a decoded webhook body.
 * @throws {WebhookRejectedError} 400 naming the bad fields, 422 for a module zoho-sync does
 * not sync.
 */
export const toWebhookPayload = (body: Record<string, unknown>): WebhookPayload => {
  const parsed = webhookPayloadSchema.safeParse(body);
  if (!parsed.success) {
    const problems = parsed.error.issues.map(
      (issue) => `${issue.path.join('.') || 'body'} ${issue.message}`,
    );
    throw new WebhookRejectedError(
      400,
      'invalid_payload',
      `Invalid webhook: ${problems.join('; ')}.`,
    );
  }
  const payload = parsed.data;
  const crmModule = toSyncedCrmModule(payload.module);
  if (crmModule === undefined) {
    throw new WebhookRejectedError(
      422,
      'unsupported_module',
      'zoho-sync syncs Accounts, Contacts, Products, Deals and Sales_Orders only.',
    );
  }
  const ids = [
    ...new Set([...(payload.id === undefined ? [] : [payload.id]), ...(payload.ids ?? [])]),
  ];
  if (ids.length > MAX_RECORDS_PER_WEBHOOK) {
    throw new WebhookRejectedError(
      400,
      'too_many_records',
      `At most ${MAX_RECORDS_PER_WEBHOOK} record ids per webhook.`,
    );
  }
  return {
    crmModule,
    crmRecordIds: ids,
    operation: payload.operation,
    bodyToken: payload.token,
    channelId: payload.channel_id === undefined ? undefined : String(payload.channel_id),
  };
};
