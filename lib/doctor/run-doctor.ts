import { GetQueueAttributesCommand } from '@aws-sdk/client-sqs';
import { createAlertPublisher } from '../alerts';
import type { AwsClients } from '../aws';
import { createConfiguredBreaker } from '../breaker';
import {
  type AccessTokenRecord,
  type Config,
  type Connection,
  connectionSecretId,
  DATA_CENTERS,
  type DataCenter,
  webhookSecretId,
} from '../config';
import { createRequestLimiter, readBudgetSnapshot } from '../limits';
import {
  channelIdFor,
  createNotificationChannelStore,
  DEFAULT_RENEW_BEFORE_MS,
} from '../notifications';
import { type Logger, noMetrics, redact, logger as sharedLogger } from '../observability';
import { SYNCED_CRM_MODULES } from '../sync/crm-modules';
import { CRM_ID_CUSTOM_FIELD } from '../sync/mappers/crm-fields';
import { callZoho, type ZohoCallerDeps } from '../sync/zoho-caller';
import {
  createConnectionAccess,
  readAccessTokenSecret,
  readWebhookSecret,
  type TokenStore,
} from '../tokens';
import {
  type BooksEntity,
  type BooksOrganization,
  createBooksClient,
  createCrmClient,
  findErrorEntry,
  getErrorEntry,
  isZohoApiError,
  renderFix,
  type ZohoErrorEntry,
  type ZohoErrorId,
} from '../zoho';

export type CheckStatus = 'pass' | 'fail' | 'warn' | 'skip';

export interface DoctorCheck {
  readonly id: string;
  readonly title: string;
  readonly status: CheckStatus;
  /** What was found; never a secret. */
  readonly detail: string;
  /** The error table's row for a failure, when one describes it. */
  readonly entryId?: string;
  /** What to do, from the error table where it has a row. */
  readonly fix?: string;
}

export interface DoctorReport {
  readonly connectionId: string;
  readonly checks: readonly DoctorCheck[];
  readonly failed: number;
  /** Access-token refreshes the doctor spent (0 or 1): Zoho allows 10 per 10 minutes. */
  readonly tokenRefreshes: number;
  /** Books calls the probes spent, all through the request budget. */
  readonly booksCalls: number;
}

export interface DoctorDeps {
  readonly config: Config;
  readonly clients: AwsClients;
  readonly fetch?: typeof fetch;
  readonly now?: () => number;
  readonly logger?: Logger;
}

/** The checks in the order they print (the guide's checklist). */
export const DOCTOR_CHECKS = [
  ['secret', 'Connection secret'],
  ['webhook-secret', 'Webhook secret'],
  ['token', 'Access token (at most one refresh)'],
  ['data-centre', "Data centre vs the token's api_domain"],
  ['organization', 'Books organization id'],
  ['scopes', 'OAuth scopes'],
  ['custom-fields', 'Unique custom field cf_crm_id'],
  ['channel', 'Notification channel'],
  ['queues', 'Sync queue and dead-letter queue'],
  ['limits', 'Budget, daily quota and circuit breaker'],
] as const;

type CheckId = (typeof DOCTOR_CHECKS)[number][0];

/**
 * A value no CRM record id can have (they are numeric), so the custom-field probe addresses no
 * record and, without X-Upsert, writes nothing.
 */
const PROBE_VALUE = 'zoho-sync-doctor-probe';

const BOOKS_ENTITIES: readonly BooksEntity[] = ['contacts', 'items', 'invoices'];

/** Thrown instead of a second token refresh: the doctor spends at most one. */
class RefreshAllowanceKept extends Error {
  override readonly name = 'RefreshAllowanceKept';
}

/**
 * The token store, limited to one refresh for the whole doctor run and counting it. The first
 * token comes from the store (cache, then the stored secret, refreshing only when it is about to
 * expire); a rejection refreshes once; a second rejection is not refreshed again.
 */
const oneRefreshTokens = (
  tokens: TokenStore,
  stored: AccessTokenRecord | undefined,
): TokenStore & { refreshes(): number } => {
  let refreshes = 0;
  let current: AccessTokenRecord | undefined;
  return {
    refreshes: () => refreshes,
    async getAccessToken(connection) {
      if (current !== undefined) return current;
      current = await tokens.getAccessToken(connection);
      if (current.accessToken !== stored?.accessToken) refreshes += 1;
      return current;
    },
    async refreshAfterRejection(connection, rejected) {
      if (refreshes >= 1) throw new RefreshAllowanceKept('the one token refresh is spent');
      refreshes += 1;
      current = await tokens.refreshAfterRejection(connection, rejected);
      return current;
    },
    reportRejected: (connection, rejected) => tokens.reportRejected(connection, rejected),
  };
};

const hostOf = (url: string): string | undefined => {
  try {
    return new URL(url).host.toLowerCase();
  } catch {
    return undefined;
  }
};

/** The data centre a Zoho host belongs to (www.zohoapis.eu, accounts.zohocloud.ca ...). */
const dataCenterOfHost = (
  host: string | undefined,
  kind: 'apiDomain' | 'accountsUrl',
): DataCenter | undefined => {
  if (host === undefined) return undefined;
  const match = Object.entries(DATA_CENTERS).find(([, urls]) => hostOf(urls[kind]) === host);
  return match?.[0] as DataCenter | undefined;
};

/**
 * Runs the guide's checklist against one connection, live: each check passes or fails, and a
 * failure carries its fix from the error table. Never prints a secret; spends at most one
 * token refresh and a handful of Books calls (through the request budget, so never a 429).
 * Writes nothing to Zoho: the custom-field probe addresses a value no record holds, without
 * X-Upsert.
 */
export const runDoctor = async (deps: DoctorDeps, connectionId: string): Promise<DoctorReport> => {
  const { config, clients } = deps;
  const now = deps.now ?? Date.now;
  const logger = deps.logger ?? sharedLogger;
  const access = createConnectionAccess({
    config,
    clients,
    now,
    logger,
    ...(deps.fetch === undefined ? {} : { fetch: deps.fetch }),
  });
  const secretId = connectionSecretId(config.secretPrefix, connectionId);
  const results = new Map<CheckId, DoctorCheck>();
  const titleOf = (id: CheckId) => DOCTOR_CHECKS.find(([checkId]) => checkId === id)?.[1] ?? id;
  const pass = (id: CheckId, detail: string) =>
    results.set(id, { id, title: titleOf(id), status: 'pass', detail });
  const warn = (id: CheckId, detail: string) =>
    results.set(id, { id, title: titleOf(id), status: 'warn', detail });
  const skip = (id: CheckId, detail: string) =>
    results.set(id, { id, title: titleOf(id), status: 'skip', detail });
  const fail = (id: CheckId, detail: string, entry?: ZohoErrorEntry | string) => {
    const row = typeof entry === 'string' ? undefined : entry;
    results.set(id, {
      id,
      title: titleOf(id),
      status: 'fail',
      detail: redact(detail),
      ...(row === undefined
        ? {}
        : { entryId: row.id, fix: renderFix(row, { connectionId, secretId }) }),
      ...(typeof entry === 'string' ? { fix: entry } : {}),
    });
  };
  const row = (id: ZohoErrorId) => getErrorEntry(id);
  const describe = (error: unknown): { message: string; entry: ZohoErrorEntry | undefined } => {
    if (isZohoApiError(error)) {
      return {
        message: `${error.entry.title} (${[error.httpStatus, error.zohoCode].filter((part) => part !== undefined).join(' / ')}): ${error.zohoMessage ?? error.message}`,
        entry: error.entry,
      };
    }
    return { message: error instanceof Error ? error.message : String(error), entry: undefined };
  };

  /**
   * The webhook function may read only `<prefix><id>/webhook` (never the credentials), so
   * without it every webhook is refused with 401 even when everything else passes.
   */
  const checkWebhookSecret = async () => {
    const id = webhookSecretId(config.secretPrefix, connectionId);
    try {
      const secret = await readWebhookSecret(
        { secretsManager: clients.secretsManager, secretPrefix: config.secretPrefix },
        connectionId,
      );
      if (secret === undefined) {
        fail(
          'webhook-secret',
          `no secret ${id}: the webhook function answers 401 to every webhook of this connection`,
          `Run: zoho-sync webhook-secret migrate --connection ${connectionId} (it copies a legacy webhookSecret out of the connection secret). If it finds none, rerun: zoho-sync setup --connection ${connectionId} --file connection.json (it generates one), then put it in the CRM webhook's token parameter.`,
        );
      } else if (secret.nextWebhookSecret !== undefined) {
        warn(
          'webhook-secret',
          `${id}: a rotation is in progress (the current and the next secret are both accepted); once CRM sends the next one, run: zoho-sync webhook-secret rotate --connection ${connectionId} --finish`,
        );
      } else {
        pass('webhook-secret', `${id}: present`);
      }
    } catch (error) {
      fail(
        'webhook-secret',
        describe(error).message,
        `Correct ${id}: it must be {"webhookSecret": "<at least 16 characters>"}; zoho-sync webhook-secret rotate --connection ${connectionId} writes a valid one.`,
      );
    }
  };

  // ------------------------------------------------------------ AWS side, needs no Zoho call
  const queueCheck = checkQueues(clients, config);
  let found: Connection | undefined;
  try {
    found = await access.connections.get(connectionId);
    if (found === undefined) {
      fail(
        'secret',
        `no secret ${secretId}`,
        `Create it: zoho-sync setup --connection ${connectionId} --file connection.json`,
      );
    } else {
      pass(
        'secret',
        `${secretId}: data centre ${found.dataCenter}, Books organization ${found.booksOrganizationId}, plan ${found.plan}`,
      );
    }
  } catch (error) {
    fail(
      'secret',
      describe(error).message,
      `Correct the fields named above in secret ${secretId} (zoho-sync setup validates a file before storing it).`,
    );
  }
  if (found !== undefined) await checkWebhookSecret();
  const queues = await queueCheck;
  if (queues.ok) pass('queues', queues.detail);
  else fail('queues', queues.detail, queues.fix);

  const report = (tokens?: ReturnType<typeof oneRefreshTokens>, booksCalls = 0): DoctorReport => {
    for (const [id] of DOCTOR_CHECKS) {
      if (!results.has(id)) skip(id, 'not checked: an earlier check failed');
    }
    const checks = DOCTOR_CHECKS.map(([id]) => results.get(id) as DoctorCheck);
    return {
      connectionId,
      checks,
      failed: checks.filter((check) => check.status === 'fail').length,
      tokenRefreshes: tokens?.refreshes() ?? 0,
      booksCalls,
    };
  };
  if (found === undefined) return report();
  const connection = found;

  // ------------------------------------------------------------ budget, quota, breaker
  const [budget, breakerStatus] = await Promise.all([
    readBudgetSnapshot(
      { dynamodb: clients.dynamodb, tableName: config.tableName },
      connection,
      now(),
    ),
    createConfiguredBreaker({
      config,
      clients,
      alerts: createAlertPublisher({ sns: clients.sns, topicArn: config.alertTopicArn, logger }),
      metrics: noMetrics,
      logger,
      now,
    }).status(connectionId),
  ]);
  const limitsDetail = `quota ${budget.quota.used} / ${budget.quota.limit} today (${budget.quota.day}), this window ${budget.window.used} / ${budget.window.limit}, breaker ${breakerStatus.state}`;
  if (breakerStatus.state !== 'closed') {
    const entry = findErrorEntry(breakerStatus.entryId);
    fail(
      'limits',
      `${limitsDetail} since ${new Date(breakerStatus.openedAtMs).toISOString()} (${breakerStatus.code} ${breakerStatus.title}); ${breakerStatus.parkedMessages} message(s) parked`,
      entry ?? `Fix the cause, then: zoho-sync breaker reset --connection ${connectionId}`,
    );
  } else if (budget.quota.spent) {
    fail(
      'limits',
      `${limitsDetail}: the daily quota is spent until ${new Date(budget.quota.resetsAtMs).toISOString()}`,
      row('books-45'),
    );
  } else {
    pass('limits', limitsDetail);
  }

  // ------------------------------------------------------------ token and data centre
  const stored = await readAccessTokenSecret(
    { secretsManager: clients.secretsManager, secretPrefix: config.secretPrefix },
    connectionId,
  ).catch(() => undefined);
  const tokens = oneRefreshTokens(access.tokens, stored);
  const limiter = createRequestLimiter({
    dynamodb: clients.dynamodb,
    tableName: config.tableName,
    now,
    newId: access.newId,
    logger,
    secretPrefix: config.secretPrefix,
  });
  let booksCalls = 0;
  const callerDeps: ZohoCallerDeps = {
    tokens,
    limiter: {
      acquire: async (target) => {
        booksCalls += 1;
        return limiter.acquire(target);
      },
    },
    logger,
  };
  const books = createBooksClient(access.http);
  const crm = createCrmClient(access.http);

  let token: AccessTokenRecord;
  try {
    token = await tokens.getAccessToken(connection);
  } catch (error) {
    const { message, entry } = describe(error);
    fail('token', message, entry ?? 'Wait ten minutes and run doctor again.');
    return report(tokens, booksCalls);
  }
  const tokenSource =
    tokens.refreshes() === 0
      ? `reused the stored token (expires ${new Date(token.expiresAt).toISOString()})`
      : 'refreshed once (no usable stored token)';

  const expectedApi = DATA_CENTERS[connection.dataCenter].apiDomain;
  const apiHost = hostOf(token.apiDomain);
  const tokenDataCenter = dataCenterOfHost(apiHost, 'apiDomain');
  const accountsDataCenter = dataCenterOfHost(hostOf(connection.accountsUrl), 'accountsUrl');
  if (tokenDataCenter !== undefined && tokenDataCenter !== connection.dataCenter) {
    fail(
      'data-centre',
      `the secret says dataCenter "${connection.dataCenter}" (${expectedApi}), but Zoho issued the token for api_domain ${token.apiDomain} (data centre "${tokenDataCenter}")`,
      row('wrong-data-centre'),
    );
  } else if (accountsDataCenter !== undefined && accountsDataCenter !== connection.dataCenter) {
    fail(
      'data-centre',
      `the secret says dataCenter "${connection.dataCenter}" but accountsUrl ${connection.accountsUrl} is the accounts server of "${accountsDataCenter}"`,
      row('wrong-data-centre'),
    );
  } else if (tokenDataCenter === undefined) {
    pass(
      'data-centre',
      `api_domain ${token.apiDomain} is not a Zoho host (custom accountsUrl, e.g. the simulator): checked by the calls below`,
    );
  } else {
    pass('data-centre', `"${connection.dataCenter}": api_domain ${token.apiDomain}`);
  }
  if (results.get('data-centre')?.status === 'fail') {
    pass('token', tokenSource);
    return report(tokens, booksCalls);
  }

  // ------------------------------------------------------------ token accepted, organization
  let organizations: readonly BooksOrganization[] | undefined;
  try {
    organizations = (
      await callZoho(callerDeps, connection, 'books', (target) => books.listOrganizations(target))
    ).organizations;
  } catch (error) {
    if (isZohoApiError(error) && error.service === 'accounts') {
      const { message, entry } = describe(error);
      fail('token', `${tokenSource}; Zoho then refused the refresh: ${message}`, entry);
      return report(tokens, booksCalls);
    }
    // Without ZohoBooks.settings.READ the list is refused; the contacts probe below decides.
  }
  const orgList =
    organizations === undefined
      ? ''
      : ` The token's Zoho user can use: ${organizations.map((org) => `${org.organizationId}${org.name === undefined ? '' : ` (${org.name})`}`).join(', ') || 'no organization'}.`;

  const probe = async <T>(
    call: () => Promise<T>,
  ): Promise<{ ok: true; value: T } | { ok: false; error: unknown }> => {
    try {
      return { ok: true, value: await call() };
    } catch (error) {
      return { ok: false, error };
    }
  };
  const contacts = await probe(() =>
    callZoho(callerDeps, connection, 'books', (target) =>
      books.list(target, 'contacts', { per_page: '1' }),
    ),
  );
  if (contacts.ok) {
    pass('token', `${tokenSource}; accepted by Zoho Books`);
    const name = organizations?.find(
      (org) => org.organizationId === connection.booksOrganizationId,
    )?.name;
    pass(
      'organization',
      `${connection.booksOrganizationId}${name === undefined ? '' : ` (${name})`}`,
    );
  } else {
    const { message, entry } = describe(contacts.error);
    if (isZohoApiError(contacts.error) && contacts.error.service === 'accounts') {
      fail('token', `${tokenSource}; Zoho then refused the refresh: ${message}`, entry);
      return report(tokens, booksCalls);
    }
    if (entry?.id === 'books-6024' || entry?.id === 'books-6041') {
      pass('token', `${tokenSource}; accepted by Zoho`);
      fail(
        'organization',
        `Zoho Books refused organization ${connection.booksOrganizationId}: ${message}.${orgList}`,
        entry,
      );
    } else if (
      contacts.error instanceof RefreshAllowanceKept ||
      entry?.action === 'refresh-token-and-retry'
    ) {
      fail(
        'token',
        `${tokenSource}; Zoho Books still rejects the token after one refresh: the data centre, the scopes or the user's access to the organization is wrong.${orgList}`,
        row('books-57'),
      );
      return report(tokens, booksCalls);
    } else {
      pass('token', tokenSource);
      fail('organization', message, entry);
    }
  }

  // ------------------------------------------------------------ scopes (read probes)
  const missing: string[] = [];
  let scopeEntry: ZohoErrorEntry | undefined;
  if (results.get('organization')?.status === 'pass') {
    for (const entity of ['items', 'invoices'] as const) {
      const result = await probe(() =>
        callZoho(callerDeps, connection, 'books', (target) =>
          books.list(target, entity, { per_page: '1' }),
        ),
      );
      if (!result.ok) {
        missing.push(`Books ${entity}: ${describe(result.error).message}`);
        scopeEntry ??= row('books-57');
      }
    }
  }
  const modifiedSinceMs = now();
  for (const module of SYNCED_CRM_MODULES) {
    const result = await probe(() =>
      callZoho(callerDeps, connection, 'crm', (target) =>
        crm.listRecordsModifiedSince(target, module, {
          modifiedSinceMs,
          perPage: 1,
          fields: ['id'],
        }),
      ),
    );
    if (!result.ok) {
      const { message, entry } = describe(result.error);
      missing.push(`CRM ${module}: ${message}`);
      scopeEntry = entry?.id === 'crm-oauth-scope-mismatch' ? entry : (scopeEntry ?? entry);
    }
  }
  const channelId = channelIdFor(connectionId);
  const notifications = await probe(() =>
    callZoho(callerDeps, connection, 'crm', (target) =>
      crm.getNotifications(target, { channelId }),
    ),
  );
  if (!notifications.ok) {
    const { message, entry } = describe(notifications.error);
    missing.push(`CRM notifications: ${message}`);
    scopeEntry ??= entry;
  }
  if (missing.length === 0) {
    pass(
      'scopes',
      results.get('organization')?.status === 'pass'
        ? 'Books contacts, items, invoices and CRM Accounts, Contacts, Products, Deals, Sales_Orders and notifications can be read (write access is probed by the custom-field check)'
        : 'CRM modules and notifications can be read',
    );
  } else {
    fail('scopes', missing.join('; '), scopeEntry ?? row('crm-oauth-scope-mismatch'));
  }

  // ------------------------------------------------------------ unique custom field (writes nothing)
  if (results.get('organization')?.status === 'pass') {
    const lacking: string[] = [];
    const fallback: string[] = [];
    const other: string[] = [];
    for (const entity of BOOKS_ENTITIES) {
      const result = await probe(() =>
        callZoho(callerDeps, connection, 'books', (target) =>
          books.upsertByUniqueField(
            target,
            entity,
            { apiName: CRM_ID_CUSTOM_FIELD, value: PROBE_VALUE },
            {},
            { upsert: false },
          ),
        ),
      );
      if (result.ok) continue; // a record holds the probe value: the field works
      const error = result.error;
      if (isZohoApiError(error) && error.entry.id === 'books-1002') continue; // unique, no match
      if (isZohoApiError(error) && (error.httpStatus === 404 || error.httpStatus === 405)) {
        fallback.push(entity);
      } else if (
        isZohoApiError(error) &&
        (error.entry.id === 'books-2' || /unique|identifier/i.test(error.zohoMessage ?? ''))
      ) {
        lacking.push(entity);
      } else {
        other.push(`${entity}: ${describe(error).message}`);
      }
    }
    if (lacking.length > 0) {
      fail(
        'custom-fields',
        `no unique custom field ${CRM_ID_CUSTOM_FIELD} on ${lacking.join(', ')} (Zoho refused X-Unique-Identifier-Key: ${CRM_ID_CUSTOM_FIELD})`,
        row('unique-custom-field-missing'),
      );
    } else if (other.length > 0) {
      fail('custom-fields', other.join('; '), row('unique-custom-field-missing'));
    } else if (fallback.length > 0) {
      warn(
        'custom-fields',
        `Books does not offer the update by unique field on ${fallback.join(', ')}: zoho-sync searches by ${CRM_ID_CUSTOM_FIELD} and then writes (two calls instead of one)`,
      );
    } else {
      pass(
        'custom-fields',
        `${CRM_ID_CUSTOM_FIELD} rejects duplicates on contacts, items and invoices (probe wrote nothing)`,
      );
    }
  }

  // ------------------------------------------------------------ notification channel
  const storedChannel = await createNotificationChannelStore({
    dynamodb: clients.dynamodb,
    tableName: config.tableName,
  }).get(connectionId);
  const renewBy = now() + DEFAULT_RENEW_BEFORE_MS;
  const atZoho = notifications.ok
    ? notifications.value.subscriptions.filter(
        (subscription) => subscription.channelId === channelId,
      )
    : undefined;
  const channelFix = `${renderFix(row('crm-not-subscribed'), { connectionId, secretId })} Now: zoho-sync channels renew --connection ${connectionId}`;
  if (storedChannel === undefined) {
    fail('channel', `no channel enabled for ${connectionId} (channel ${channelId})`, channelFix);
  } else if (atZoho !== undefined && atZoho.length === 0) {
    fail('channel', `channel ${channelId} is recorded but Zoho does not list it`, channelFix);
  } else if (storedChannel.expiresAtMs < renewBy) {
    fail(
      'channel',
      `channel ${channelId} expires ${new Date(storedChannel.expiresAtMs).toISOString()}, in less than two days`,
      channelFix,
    );
  } else {
    pass(
      'channel',
      `channel ${channelId} expires ${new Date(storedChannel.expiresAtMs).toISOString()}${atZoho === undefined ? '' : `; Zoho lists ${atZoho.length} module(s)`}`,
    );
  }
  return report(tokens, booksCalls);
};

const checkQueues = async (
  clients: AwsClients,
  config: Config,
): Promise<{ ok: boolean; detail: string; fix?: string }> => {
  const queues = [
    ['sync queue', config.syncQueueUrl],
    ['dead-letter queue', config.deadLetterQueueUrl],
  ] as const;
  const problems: string[] = [];
  const depths: string[] = [];
  for (const [name, url] of queues) {
    if (url === undefined) {
      problems.push(`no ${name} configured`);
      continue;
    }
    try {
      const result = await clients.sqs.send(
        new GetQueueAttributesCommand({
          QueueUrl: url,
          AttributeNames: ['ApproximateNumberOfMessages'],
        }),
      );
      depths.push(`${name} ${result.Attributes?.ApproximateNumberOfMessages ?? '?'} waiting`);
    } catch (error) {
      problems.push(`${name} ${url}: ${error instanceof Error ? error.message : String(error)}`);
    }
  }
  return problems.length === 0
    ? { ok: true, detail: depths.join(', ') }
    : {
        ok: false,
        detail: problems.join('; '),
        fix: 'Check the queue URLs (the stack outputs SyncQueueUrl and DeadLetterQueueUrl, or --queue-url/--dlq-url), the region, and that your AWS identity may call sqs:GetQueueAttributes.',
      };
};
