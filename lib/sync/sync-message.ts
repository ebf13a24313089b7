import * as z from 'zod';
import { connectionIdSchema } from '../config';
import { SYNCED_CRM_MODULES } from './crm-modules';

/** CRM record ids are long numeric strings; never numbers (they exceed 2^53). */
export const crmRecordIdSchema = z.string().regex(/^\d{1,30}$/, {
  message: 'CRM record id must be a numeric string',
});

export const SYNC_SOURCES = [
  'workflow-webhook',
  'notification',
  'reconciliation',
  'redrive',
  'backfill',
] as const;

export const lastErrorSchema = z.object({
  entryId: z.string(),
  action: z.string(),
  httpStatus: z.number().optional(),
  zohoCode: z.union([z.number(), z.string()]).optional(),
  message: z.string(),
  atMs: z.number(),
});

/**
 * One unit of sync work on the queue: "bring this CRM record into Books". It names the record,
 * never carries its data (the worker reads the current record), so a late or repeated message
 * can never write stale data. Attempts are carried here, not inferred from SQS receive counts,
 * because deferrals re-send the message and would inflate those.
 */
export const syncMessageSchema = z.object({
  version: z.literal(1),
  messageId: z.string().min(1),
  correlationId: z.string().min(1),
  connectionId: connectionIdSchema,
  crmModule: z.enum(SYNCED_CRM_MODULES),
  crmRecordId: crmRecordIdSchema,
  source: z.enum(SYNC_SOURCES),
  receivedAtMs: z.number().int(),
  /** Failed attempts classified `backoff` so far. */
  attempt: z.number().int().min(0).default(0),
  /** Times the message was deferred (rate budget, quota); informational. */
  deferrals: z.number().int().min(0).default(0),
  /** When the message was first deferred: deferrals end after a maximum age. */
  firstDeferredAtMs: z.number().int().optional(),
  lastError: lastErrorSchema.optional(),
  /** Set by `zoho-sync backfill`: the run whose progress this message's outcome counts in. */
  backfillRunId: z.string().min(1).max(200).optional(),
  /** Part of the window budget this work may take, (0, 1] (backfill `--share`). @default 1 */
  share: z.number().gt(0).max(1).optional(),
});

export type SyncMessage = z.infer<typeof syncMessageSchema>;
export type SyncMessageInput = z.input<typeof syncMessageSchema>;
export type LastError = z.infer<typeof lastErrorSchema>;
