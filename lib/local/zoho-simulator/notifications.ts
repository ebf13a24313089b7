/**
 * Zoho CRM's Notification API ("instant notifications", reference zoho-crm-api.md §4; shapes from
 * Zoho's OpenAPI file zoho-crm-oas/v8.0/notifications.json):
 *
 *   POST   /crm/v8/actions/watch   enable channels: {watch:[{channel_id, events, notify_url, ...}]}
 *   GET    /crm/v8/actions/watch   list them (one item per channel and module), 204 when none
 *   PUT    /crm/v8/actions/watch   replace a channel's subscription (omitted fields are dropped)
 *   PATCH  /crm/v8/actions/watch   change some details; `_delete_events: true` removes events
 *   DELETE /crm/v8/actions/watch?channel_ids=1,2
 *
 * and the callbacks: when a record of a watched module is created, edited or deleted while the
 * channel has not expired, the simulator POSTs the documented JSON to the channel's notify_url,
 * fire and forget. Zoho documents no retry of a failed callback (§4, unconfirmed), so there is none.
 * The simulator has one CRM organization, so channels are global, keyed by channel_id. It has no
 * record relations either, so `notify_on_related_action` is stored and listed but no callback is
 * ever sent for a related record.
 */
import { CRM_ROOT, type CrmModule, canonicalModule } from './crm-modules';
import { json, parseJsonObject, type SimRequest, type SimResponse } from './http-io';
import { crmTimestamp } from './ids';
import { allowsCrmNotifications, type ScopeOperation } from './scopes';
import type { AccessTokenState, NotificationChannelState, SimulatorState } from './state';
import { logCallback } from './stats';
import type { CrmRecord, SimulatedNotificationChannel } from './types';

export const WATCH_PATH = `${CRM_ROOT}/actions/watch`;

const HOUR_MS = 3_600_000;
/** API v4 and later: default 1 hour, at most 1 week; omitted or beyond the max -> 1 hour (§4). */
const DEFAULT_EXPIRY_MS = HOUR_MS;
const MAX_EXPIRY_MS = 7 * 24 * HOUR_MS;
/** `token` is at most 50 characters (§4). */
const MAX_TOKEN_LENGTH = 50;
/** Event operations (§4): `{module}.{create|edit|delete|all}`. */
const EVENT_OPERATIONS = ['create', 'edit', 'delete', 'all'] as const;
const MAX_PER_PAGE = 200;

/** OAS Success_Response messages (notifications.json). */
const MESSAGES = {
  subscribed: 'Successfully subscribed for actions-watch of the given module',
  updated: 'Successfully updated the subscribe details',
  removed: 'Successfully removed the subscribe details',
  unsubscribed: 'Successfully un-subscribed from actions-watch',
} as const;

type ErrorItem = {
  readonly code: string;
  readonly details: Record<string, unknown>;
  readonly message: string;
  readonly status: 'error';
};

const errorItem = (code: string, message: string, details: Record<string, unknown>): ErrorItem => ({
  code,
  details,
  message,
  status: 'error',
});

/** OAS MandatoryError: details {api_name, json_path}. The message is unconfirmed. */
const mandatory = (field: string, index: number): ErrorItem =>
  errorItem('MANDATORY_NOT_FOUND', 'required field not found', {
    api_name: field,
    json_path: `$.watch[${index}].${field}`,
  });

/** OAS InvalidValueError: details {api_name, json_path, ...}. */
const invalid = (field: string, index: number, extra: Record<string, unknown> = {}): ErrorItem =>
  errorItem('INVALID_DATA', 'invalid data', {
    api_name: field,
    json_path: `$.watch[${index}].${field}`,
    ...extra,
  });

/** OAS InvalidParamError (code NOT_SUBSCRIBED); the message is ours (unconfirmed). */
const notSubscribed = (channelId: string): ErrorItem =>
  errorItem('NOT_SUBSCRIBED', 'Not subscribed for actions-watch of the given channel', {
    channel_id: channelId,
  });

/** The whole-request error shape `{code, details, message, status:'error'}` (OAS ErrorResponse). */
const requestError = (
  status: number,
  code: string,
  message: string,
  details: Record<string, unknown>,
): SimResponse => json(status, { code, details, message, status: 'error' });

const scopeMismatch = (): SimResponse =>
  requestError(401, 'OAUTH_SCOPE_MISMATCH', 'invalid oauth scope to access this URL', {});

/** A stable fake module id for `resource_id` (CRM answers the module's own id there). */
const resourceIdOf = (module: string): string => {
  let sum = 0;
  for (const char of module) sum = (sum * 31 + char.charCodeAt(0)) % 1_000_000;
  return `4150868000000${String(sum).padStart(6, '0')}`;
};

/** An unexpired channel, or undefined; an expired one is forgotten, as Zoho drops it. */
const liveChannel = (
  state: SimulatorState,
  channelId: string,
): NotificationChannelState | undefined => {
  const channel = state.channels.get(channelId);
  if (channel === undefined) return undefined;
  if (channel.expiresAtMs > state.now()) return channel;
  state.channels.delete(channelId);
  return undefined;
};

const liveChannels = (state: SimulatorState): NotificationChannelState[] =>
  [...state.channels.keys()]
    .map((channelId) => liveChannel(state, channelId))
    .filter((channel): channel is NotificationChannelState => channel !== undefined);

/** `Accounts.create` -> `Accounts`. */
const moduleOf = (event: string): string => event.slice(0, event.lastIndexOf('.'));

const modulesOf = (channel: NotificationChannelState): string[] => [
  ...new Set([...channel.events].map(moduleOf)),
];

/** OAS `event` items of a success response's `details.events`: one per watched module. */
const eventDetails = (state: SimulatorState, channel: NotificationChannelState) =>
  modulesOf(channel).map((module) => ({
    channel_expiry: crmTimestamp(channel.expiresAtMs),
    resource_uri: `${state.baseUrl}${CRM_ROOT}/${module}`,
    resource_id: resourceIdOf(module),
    resource_name: module,
    channel_id: channel.channelId,
  }));

const success = (message: string, details: Record<string, unknown>) => ({
  status: 'success',
  code: 'SUCCESS',
  message,
  details,
});

// ------------------------------------------------------------------------------ request items

/** One watch item, read; a field left undefined was not given. */
interface WatchItem {
  readonly channelId: string;
  readonly events?: Set<string>;
  readonly notifyUrl?: string;
  readonly token?: string;
  readonly expiresAtMs?: number;
  readonly returnAffectedFieldValues?: boolean;
  readonly notifyOnRelatedAction?: boolean;
  readonly deleteEvents: boolean;
}

/**
 * `channel_id` is a long (§4): a JSON number or a digit string. Kept as a string, as CRM echoes
 * it in callbacks.
 */
const channelIdOf = (value: unknown): string | undefined => {
  if (typeof value === 'number' && Number.isSafeInteger(value) && value > 0) return String(value);
  if (typeof value === 'string' && /^[1-9]\d{0,18}$/.test(value)) return value;
  return undefined;
};

/** `Module.operation` with a known module and operation, in canonical spelling. */
const eventOf = (value: unknown): string | undefined => {
  if (typeof value !== 'string') return undefined;
  const dot = value.lastIndexOf('.');
  const module = canonicalModule(value.slice(0, dot));
  const operation = value.slice(dot + 1).toLowerCase();
  if (dot < 1 || module === undefined) return undefined;
  if (!(EVENT_OPERATIONS as readonly string[]).includes(operation)) return undefined;
  return `${module}.${operation}`;
};

const isHttpUrl = (value: string): boolean => {
  try {
    const url = new URL(value);
    return url.protocol === 'http:' || url.protocol === 'https:';
  } catch {
    return false;
  }
};

/**
 * `channel_expiry` in epoch ms. Omitted, in the past or more than a week ahead -> one hour from
 * now (§4 states it for "omitted or beyond the max"; the past is our choice, unconfirmed).
 */
const expiryOf = (value: string | undefined, nowMs: number): number | undefined => {
  if (value === undefined) return nowMs + DEFAULT_EXPIRY_MS;
  const ms = Date.parse(value);
  if (Number.isNaN(ms)) return undefined;
  return ms <= nowMs || ms - nowMs > MAX_EXPIRY_MS ? nowMs + DEFAULT_EXPIRY_MS : ms;
};

interface ReadOptions {
  /** POST and PUT need events and notify_url; PATCH does not. */
  readonly complete: boolean;
}

/** Reads one item of `watch`, or says what is wrong with it, in Zoho's per-item error shape. */
const readItem = (
  raw: unknown,
  index: number,
  nowMs: number,
  options: ReadOptions,
): WatchItem | ErrorItem => {
  if (typeof raw !== 'object' || raw === null || Array.isArray(raw)) {
    return errorItem('INVALID_DATA', 'invalid data', { json_path: `$.watch[${index}]` });
  }
  const item = raw as Record<string, unknown>;
  if (item.channel_id === undefined || item.channel_id === null) {
    return mandatory('channel_id', index);
  }
  const channelId = channelIdOf(item.channel_id);
  if (channelId === undefined) return invalid('channel_id', index, { expected_data_type: 'long' });

  let events: Set<string> | undefined;
  if (item.events === undefined || (Array.isArray(item.events) && item.events.length === 0)) {
    if (options.complete) return mandatory('events', index);
  } else {
    if (!Array.isArray(item.events)) return invalid('events', index);
    const parsed = item.events.map(eventOf);
    if (parsed.some((event) => event === undefined)) return invalid('events', index);
    events = new Set(parsed as string[]);
  }

  if (item.notify_url === undefined && options.complete) return mandatory('notify_url', index);
  if (item.notify_url !== undefined) {
    if (typeof item.notify_url !== 'string' || !isHttpUrl(item.notify_url)) {
      return invalid('notify_url', index);
    }
  }
  if (item.token !== undefined && item.token !== null) {
    if (typeof item.token !== 'string') return invalid('token', index);
    if (item.token.length > MAX_TOKEN_LENGTH) {
      return invalid('token', index, { maximum_length: MAX_TOKEN_LENGTH });
    }
  }
  const expiryText = item.channel_expiry ?? undefined;
  if (expiryText !== undefined && typeof expiryText !== 'string') {
    return invalid('channel_expiry', index);
  }
  const expiresAtMs =
    expiryText === undefined && !options.complete ? undefined : expiryOf(expiryText, nowMs);
  if (expiryText !== undefined && expiresAtMs === undefined) {
    return invalid('channel_expiry', index, { expected_data_type: 'datetime' });
  }
  for (const flag of ['return_affected_field_values', 'notify_on_related_action'] as const) {
    if (item[flag] !== undefined && typeof item[flag] !== 'boolean') return invalid(flag, index);
  }
  if (item._delete_events !== undefined && item._delete_events !== true) {
    return invalid('_delete_events', index);
  }
  return {
    channelId,
    ...(events === undefined ? {} : { events }),
    ...(typeof item.notify_url === 'string' ? { notifyUrl: item.notify_url } : {}),
    ...(typeof item.token === 'string' ? { token: item.token } : {}),
    ...(expiresAtMs === undefined ? {} : { expiresAtMs }),
    ...(typeof item.return_affected_field_values === 'boolean'
      ? { returnAffectedFieldValues: item.return_affected_field_values }
      : {}),
    ...(typeof item.notify_on_related_action === 'boolean'
      ? { notifyOnRelatedAction: item.notify_on_related_action }
      : {}),
    deleteEvents: item._delete_events === true,
  };
};

const isError = (value: WatchItem | ErrorItem): value is ErrorItem => 'status' in value;

/** The `watch` list of a request body, or the whole-request error. */
const watchItemsOf = (req: SimRequest): unknown[] | SimResponse => {
  const body = parseJsonObject(req.rawBody);
  if (body === undefined) {
    return requestError(400, 'INVALID_DATA', 'body', { json_path: '$' });
  }
  if (!Array.isArray(body.watch) || body.watch.length === 0) {
    return requestError(400, 'MANDATORY_NOT_FOUND', 'required field not found', {
      api_name: 'watch',
      json_path: '$.watch',
    });
  }
  return body.watch;
};

/** 201/200 when every item succeeded, 202 with the per-item errors otherwise (OAS, §4). */
const answer = (okStatus: number, results: readonly object[]): SimResponse =>
  json(
    results.every((result) => (result as { status?: string }).status === 'success')
      ? okStatus
      : 202,
    { watch: results },
  );

// ------------------------------------------------------------------------------ operations

/**
 * POST: creates each channel, or replaces it when the channel_id exists (re-enabling is how a
 * channel is renewed, §4). Items are independent: a bad item fails alone and the good ones are
 * applied (unconfirmed whether Zoho applies the good items of a 202).
 */
const enable = (state: SimulatorState, req: SimRequest): SimResponse => {
  const items = watchItemsOf(req);
  if (!Array.isArray(items)) return items;
  const nowMs = state.now();
  const results = items.map((raw, index) => {
    const item = readItem(raw, index, nowMs, { complete: true });
    if (isError(item)) return item;
    const channel: NotificationChannelState = {
      channelId: item.channelId,
      events: item.events ?? new Set(),
      notifyUrl: item.notifyUrl ?? '',
      token: item.token,
      expiresAtMs: item.expiresAtMs ?? nowMs + DEFAULT_EXPIRY_MS,
      returnAffectedFieldValues: item.returnAffectedFieldValues ?? false,
      // Default true (§4, Kaizen #170).
      notifyOnRelatedAction: item.notifyOnRelatedAction ?? true,
    };
    state.channels.set(channel.channelId, channel);
    return success(MESSAGES.subscribed, { events: eventDetails(state, channel) });
  });
  return answer(201, results);
};

/** PUT replaces the whole subscription (omitted fields are dropped, §4); PATCH keeps them. */
const update = (state: SimulatorState, req: SimRequest, replace: boolean): SimResponse => {
  const items = watchItemsOf(req);
  if (!Array.isArray(items)) return items;
  const nowMs = state.now();
  const results = items.map((raw, index) => {
    const item = readItem(raw, index, nowMs, { complete: replace });
    if (isError(item)) return item;
    const channel = liveChannel(state, item.channelId);
    if (channel === undefined) return notSubscribed(item.channelId);
    if (item.deleteEvents) {
      for (const event of item.events ?? []) channel.events.delete(event);
      if (channel.events.size === 0) state.channels.delete(channel.channelId);
      return success(MESSAGES.removed, { events: eventDetails(state, channel) });
    }
    if (replace) {
      channel.events = item.events ?? new Set();
      channel.notifyUrl = item.notifyUrl ?? channel.notifyUrl;
      channel.token = item.token;
      channel.expiresAtMs = item.expiresAtMs ?? nowMs + DEFAULT_EXPIRY_MS;
      channel.returnAffectedFieldValues = item.returnAffectedFieldValues ?? false;
      channel.notifyOnRelatedAction = item.notifyOnRelatedAction ?? true;
    } else {
      for (const event of item.events ?? []) channel.events.add(event);
      if (item.notifyUrl !== undefined) channel.notifyUrl = item.notifyUrl;
      if (item.token !== undefined) channel.token = item.token;
      if (item.expiresAtMs !== undefined) channel.expiresAtMs = item.expiresAtMs;
      if (item.returnAffectedFieldValues !== undefined) {
        channel.returnAffectedFieldValues = item.returnAffectedFieldValues;
      }
      if (item.notifyOnRelatedAction !== undefined) {
        channel.notifyOnRelatedAction = item.notifyOnRelatedAction;
      }
    }
    return success(MESSAGES.updated, { events: eventDetails(state, channel) });
  });
  return answer(200, results);
};

/** DELETE `?channel_ids=1,2` (required, OAS). */
const remove = (state: SimulatorState, req: SimRequest): SimResponse => {
  const ids = (req.query.get('channel_ids') ?? '')
    .split(',')
    .map((id) => id.trim())
    .filter((id) => id !== '');
  if (ids.length === 0) {
    return requestError(400, 'REQUIRED_PARAM_MISSING', 'One of the expected parameter is missing', {
      param_name: 'channel_ids',
      param: 'channel_ids',
    });
  }
  const results = ids.map((channelId) => {
    if (liveChannel(state, channelId) === undefined) return notSubscribed(channelId);
    state.channels.delete(channelId);
    return success(MESSAGES.unsubscribed, { channel_id: channelId });
  });
  return answer(200, results);
};

/**
 * GET: one item per channel and module, as CRM lists subscriptions per resource (OAS
 * Notification), filtered by `channel_id` and `module`; 204 when there is none.
 */
const list = (state: SimulatorState, req: SimRequest): SimResponse => {
  const channelFilter = req.query.get('channel_id');
  const moduleParam = req.query.get('module');
  const moduleFilter = moduleParam === null ? undefined : canonicalModule(moduleParam);
  if (moduleParam !== null && moduleFilter === undefined) {
    return requestError(400, 'INVALID_MODULE', 'The module name given seems to be invalid', {
      param_name: 'module',
    });
  }
  const page = Number(req.query.get('page') ?? '1');
  const perPage = Number(req.query.get('per_page') ?? String(MAX_PER_PAGE));
  if (!Number.isInteger(page) || page < 1 || !Number.isInteger(perPage) || perPage < 1) {
    return requestError(400, 'INVALID_DATA', 'invalid data', { param_name: 'page' });
  }
  const items = liveChannels(state)
    .filter((channel) => channelFilter === null || channel.channelId === channelFilter)
    .flatMap((channel) =>
      modulesOf(channel)
        .filter((module) => moduleFilter === undefined || module === moduleFilter)
        .map((module) => ({
          channel_id: channel.channelId,
          resource_name: module,
          resource_uri: `${state.baseUrl}${CRM_ROOT}/${module}`,
          resource_id: resourceIdOf(module),
          events: [...channel.events].filter((event) => moduleOf(event) === module),
          channel_expiry: crmTimestamp(channel.expiresAtMs),
          notify_url: channel.notifyUrl,
          token: channel.token ?? null,
          notify_on_related_action: channel.notifyOnRelatedAction,
          return_affected_field_values: channel.returnAffectedFieldValues,
        })),
    );
  const slice = items.slice((page - 1) * perPage, page * perPage);
  if (slice.length === 0) return { status: 204 };
  return json(200, {
    watch: slice,
    info: {
      per_page: perPage,
      page,
      count: slice.length,
      more_records: items.length > page * perPage,
    },
  });
};

const OPERATION_OF_METHOD: Readonly<Record<string, ScopeOperation>> = {
  GET: 'READ',
  POST: 'CREATE',
  PUT: 'UPDATE',
  PATCH: 'UPDATE',
  DELETE: 'DELETE',
};

/** Routes `/crm/v8/actions/watch` by method after the scope check. */
export const handleWatchRequest = (
  state: SimulatorState,
  token: AccessTokenState,
  req: SimRequest,
): SimResponse => {
  const operation = OPERATION_OF_METHOD[req.method];
  if (operation === undefined) {
    return requestError(
      405,
      'INVALID_REQUEST_METHOD',
      'The http request method type is not a valid one',
      {},
    );
  }
  if (!allowsCrmNotifications(token.scope, operation)) return scopeMismatch();
  switch (req.method) {
    case 'GET':
      return list(state, req);
    case 'POST':
      return enable(state, req);
    case 'PUT':
      return update(state, req, true);
    case 'PATCH':
      return update(state, req, false);
    default:
      return remove(state, req);
  }
};

// ------------------------------------------------------------------------------ callbacks

/** What happened to a record, as the callback's `operation` names it. */
export type RecordOperation = 'insert' | 'update' | 'delete';

const EVENT_OPERATION: Readonly<Record<RecordOperation, string>> = {
  insert: 'create',
  update: 'edit',
  delete: 'delete',
};

export interface RecordChange {
  readonly operation: RecordOperation;
  readonly crmRecordId: string;
  readonly before?: CrmRecord;
  readonly after?: CrmRecord;
}

/**
 * Fields CRM changes itself on every save; not reported as affected (our choice: Zoho's example
 * lists only the edited field, §4).
 */
const SYSTEM_FIELDS: ReadonlySet<string> = new Set([
  'id',
  'Modified_Time',
  'Modified_By',
  'Created_Time',
  'Created_By',
]);

/** The fields an update changed (by JSON value). Inserts and deletes report none (unconfirmed). */
const changedFields = (change: RecordChange): string[] => {
  if (change.operation !== 'update' || !change.before || !change.after) return [];
  const { before, after } = change;
  const names = new Set([...Object.keys(before), ...Object.keys(after)]);
  return [...names].filter(
    (name) =>
      !SYSTEM_FIELDS.has(name) && JSON.stringify(before[name]) !== JSON.stringify(after[name]),
  );
};

const queryParamsOf = (notifyUrl: string): Record<string, string> =>
  Object.fromEntries(new URL(notifyUrl).searchParams);

/**
 * The callback body (§4, fields of Zoho's v7 example): `server_time` in epoch ms, `channel_id`
 * as a string, `query_params` from notify_url, `token` only when the channel has one,
 * `affected_values` only with `return_affected_field_values`.
 */
const callbackBody = (
  state: SimulatorState,
  channel: NotificationChannelState,
  module: CrmModule,
  change: RecordChange,
  nowMs: number,
): Record<string, unknown> => {
  const fields = changedFields(change);
  const id = change.crmRecordId;
  return {
    server_time: nowMs,
    module,
    resource_uri: `${state.baseUrl}${CRM_ROOT}/${module}`,
    ids: [id],
    operation: change.operation,
    affected_fields: fields.length === 0 ? [] : [{ [id]: fields }],
    ...(channel.returnAffectedFieldValues
      ? {
          affected_values:
            fields.length === 0
              ? []
              : [
                  {
                    record_id: id,
                    values: Object.fromEntries(
                      fields.map((field) => [field, change.after?.[field] ?? null]),
                    ),
                  },
                ],
        }
      : {}),
    query_params: queryParamsOf(channel.notifyUrl),
    channel_id: channel.channelId,
    ...(channel.token === undefined ? {} : { token: channel.token }),
  };
};

/** POSTs one callback and records how it went; never throws. */
const deliver = async (
  state: SimulatorState,
  channel: NotificationChannelState,
  module: CrmModule,
  change: RecordChange,
  body: Record<string, unknown>,
  atMs: number,
): Promise<void> => {
  const url = new URL(channel.notifyUrl);
  const delivery = {
    channelId: channel.channelId,
    module,
    operation: change.operation,
    crmRecordIds: [change.crmRecordId],
    // The query usually carries a secret: keep it out of the stats.
    url: `${url.origin}${url.pathname}`,
    atMs,
  };
  try {
    const response = await fetch(url, {
      method: 'POST',
      headers: { 'Content-Type': 'application/json' },
      body: JSON.stringify(body),
      redirect: 'manual',
      signal: AbortSignal.timeout(state.callbackTimeoutMs),
    });
    await response.arrayBuffer().catch(() => undefined);
    logCallback(state, { ...delivery, status: response.status });
  } catch (error) {
    const reason = error instanceof Error ? error.name : 'Error';
    logCallback(state, { ...delivery, status: 0, error: reason });
  }
};

/**
 * Tells every live channel that watches this module and operation. Returns at once: deliveries
 * run in the background and are tracked for {@link flushNotifications}.
 */
export const notifyRecordChange = (
  state: SimulatorState,
  module: CrmModule,
  change: RecordChange,
): void => {
  const nowMs = state.now();
  const event = `${module}.${EVENT_OPERATION[change.operation]}`;
  for (const channel of liveChannels(state)) {
    if (!channel.events.has(`${module}.all`) && !channel.events.has(event)) continue;
    const body = callbackBody(state, channel, module, change, nowMs);
    const pending: Promise<void> = deliver(state, channel, module, change, body, nowMs).finally(
      () => state.pendingCallbacks.delete(pending),
    );
    state.pendingCallbacks.add(pending);
  }
};

/** Resolves when every callback sent so far (and any sent meanwhile) has finished. */
export const flushNotifications = async (state: SimulatorState): Promise<void> => {
  while (state.pendingCallbacks.size > 0) {
    await Promise.allSettled([...state.pendingCallbacks]);
  }
};

/** The live channels, for tests and the admin state. */
export const snapshotChannels = (state: SimulatorState): SimulatedNotificationChannel[] =>
  liveChannels(state).map((channel) => ({
    channelId: channel.channelId,
    events: [...channel.events],
    notifyUrl: channel.notifyUrl,
    ...(channel.token === undefined ? {} : { token: channel.token }),
    expiresAtMs: channel.expiresAtMs,
    returnAffectedFieldValues: channel.returnAffectedFieldValues,
    notifyOnRelatedAction: channel.notifyOnRelatedAction,
  }));
