import { mkdir, readFile, rename, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import * as z from 'zod';

/** Where `npm start` keeps its state, relative to the directory it runs in. */
export const LOCAL_STATE_DIR = '.zoho-sync';
export const LOCAL_STATE_FILE_NAME = 'local.json';

/**
 * One connection of a running local mode, as `.zoho-sync/local.json` lists it under
 * `connections`. Public contract (scripts and `zoho-sync --local` read it): add keys, never
 * rename or remove one.
 */
export const localConnectionStateSchema = z.object({
  connectionId: z.string(),
  /** `POST` workflow-rule webhooks here (with the webhook secret). */
  webhookUrl: z.string(),
  /** The Notification API callback route; local mode's channel for the connection calls it. */
  notificationUrl: z.string(),
  /** Secrets Manager id of the connection's credentials on the local stand-in. */
  secretId: z.string(),
  booksOrganizationId: z.string(),
  /** What a webhook must present in `X-Zoho-Sync-Token` (local stand-in data only). */
  webhookSecret: z.string(),
});

/**
 * `.zoho-sync/local.json`, written by `npm start` once everything is up. The top-level
 * connection keys (`connectionId`, `webhookUrl`, `notificationUrl`, `webhookSecret`, `secretId`,
 * `booksOrganizationId`) describe the first connection, as they did before local mode had
 * several; `connections` lists every connection, the first one first.
 */
export const localStateSchema = z.object({
  webhookUrl: z.string(),
  notificationUrl: z.string(),
  connectionId: z.string(),
  webhookSecret: z.string(),
  webhookTokenHeader: z.string(),
  zohoBaseUrl: z.string(),
  /** Only with the embedded simulator. */
  simulatorStateUrl: z.string().optional(),
  endpoints: z.object({
    dynamodb: z.string(),
    sqs: z.string(),
    sns: z.string(),
    secretsManager: z.string(),
  }),
  queues: z.object({
    syncQueueUrl: z.string(),
    deadLetterQueueUrl: z.string(),
    alertInboxQueueUrl: z.string(),
  }),
  tables: z.object({ state: z.string() }),
  alertTopicArn: z.string(),
  secretId: z.string(),
  booksOrganizationId: z.string(),
  connections: z.array(localConnectionStateSchema).min(1),
});

export type LocalConnectionState = z.infer<typeof localConnectionStateSchema>;
export type LocalState = z.infer<typeof localStateSchema>;

/**
 * What a reader of the file may rely on, from the same keys as {@link localStateSchema}: every
 * version of local mode wrote the stand-ins' endpoints and resource names, and at least one
 * connection, either as the top-level keys (before local mode had several) or in `connections`.
 * The other keys are optional here, so a file from an older `npm start` still works.
 */
const localStateReadSchema = localStateSchema
  .partial({
    webhookUrl: true,
    notificationUrl: true,
    connectionId: true,
    webhookSecret: true,
    webhookTokenHeader: true,
    zohoBaseUrl: true,
    secretId: true,
    booksOrganizationId: true,
    connections: true,
  })
  .extend({
    queues: localStateSchema.shape.queues.partial({ alertInboxQueueUrl: true }),
    connections: z
      .array(
        localConnectionStateSchema.partial({
          webhookUrl: true,
          notificationUrl: true,
          secretId: true,
          booksOrganizationId: true,
          webhookSecret: true,
        }),
      )
      .optional(),
  })
  .refine((state) => state.connectionId !== undefined || (state.connections?.length ?? 0) > 0, {
    message: 'no connection',
  });

type LocalStateRead = z.infer<typeof localStateReadSchema>;

/** A connection as a reader sees it: only its id is sure to be there. */
export type LocalConnectionEntry = NonNullable<LocalStateRead['connections']>[number];

/** The file as a reader sees it, with `connections` always listing every connection. */
export type LocalStateEntries = Omit<LocalStateRead, 'connections'> & {
  readonly connections: readonly LocalConnectionEntry[];
};

const readJson = async (path: string): Promise<unknown> => {
  try {
    return JSON.parse(await readFile(path, 'utf8'));
  } catch {
    throw new Error(`cannot read ${path}: start local mode first (npm start)`);
  }
};

export const localStatePath = (stateDir: string = LOCAL_STATE_DIR): string =>
  join(stateDir, LOCAL_STATE_FILE_NAME);

/** Writes the state file in one go (a reader never sees half of it). */
export const writeLocalState = async (stateDir: string, state: LocalState): Promise<string> => {
  await mkdir(stateDir, { recursive: true });
  const path = localStatePath(stateDir);
  const partial = `${path}.${process.pid}.tmp`;
  await writeFile(partial, `${JSON.stringify(state, null, 2)}\n`, { mode: 0o600 });
  await rename(partial, path);
  return path;
};

/**
 * Reads a running local mode's state file, as the current `npm start` writes it.
 * @throws Error naming the file when it is missing or not what `npm start` writes.
 */
export const readLocalState = async (path: string = localStatePath()): Promise<LocalState> => {
  const parsed = localStateSchema.safeParse(await readJson(path));
  if (!parsed.success) throw new Error(`${path} is not a local-mode state file`);
  return parsed.data;
};

/**
 * Reads the state file as any version of local mode wrote it (`zoho-sync --local` and scripts):
 * the keys it needs, the connections as a list (the list wins when both shapes are there).
 * @throws Error naming the file when it is missing or lacks what every version wrote.
 */
export const readLocalStateEntries = async (
  path: string = localStatePath(),
): Promise<LocalStateEntries> => {
  const parsed = localStateReadSchema.safeParse(await readJson(path));
  if (!parsed.success) throw new Error(`${path} is not a local-mode state file`);
  const state = parsed.data;
  const listed = state.connections ?? [];
  const connections: LocalConnectionEntry[] =
    listed.length > 0
      ? listed
      : [
          {
            connectionId: state.connectionId ?? '',
            ...(state.webhookUrl === undefined ? {} : { webhookUrl: state.webhookUrl }),
            ...(state.notificationUrl === undefined
              ? {}
              : { notificationUrl: state.notificationUrl }),
            ...(state.secretId === undefined ? {} : { secretId: state.secretId }),
            ...(state.booksOrganizationId === undefined
              ? {}
              : { booksOrganizationId: state.booksOrganizationId }),
            ...(state.webhookSecret === undefined ? {} : { webhookSecret: state.webhookSecret }),
          },
        ];
  return { ...state, connections };
};
