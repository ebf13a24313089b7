import { classifyZohoFailure, type ZohoErrorId } from './error-table';
import { isZohoApiError, unreadableResponseError, ZohoApiError } from './errors';
import type { RateLimitInfo } from './rate-limit-headers';
import {
  type ZohoHttpDeps,
  type ZohoHttpMethod,
  type ZohoHttpResponse,
  zohoRequest,
} from './zoho-http';

/** Which CRM organization to call, and with which token. */
export interface CrmTarget {
  /** `api_domain` from the token response, e.g. `https://www.zohoapis.eu`. */
  readonly apiDomain: string;
  readonly accessToken: string;
}

/** A CRM record as Zoho returns it; fields are read by the mappers in lib/sync. */
export type CrmRecord = Readonly<Record<string, unknown>>;

export interface CrmRecordResult {
  /** `null` when the record no longer exists (HTTP 204, `NO_CONTENT` or `NOT_FOUND`). */
  readonly record: CrmRecord | null;
  readonly rateLimit?: RateLimitInfo;
}

export interface CrmRecordsResult {
  /** The records Zoho returned; deleted ones are simply absent. */
  readonly records: readonly CrmRecord[];
  readonly rateLimit?: RateLimitInfo;
}

/** One page of records listed by modification time. */
export interface CrmRecordPage {
  /** In the order asked for; empty when nothing changed (HTTP 204 or 304). */
  readonly records: readonly CrmRecord[];
  /** Zoho's `info.more_records`: another page follows. */
  readonly moreRecords: boolean;
  readonly rateLimit?: RateLimitInfo;
}

/** What {@link CrmClient.listRecordsModifiedSince} asks for. */
export interface ModifiedSinceQuery {
  /** Only records modified strictly after this instant (epoch ms), sent as `If-Modified-Since`. */
  readonly modifiedSinceMs: number;
  /** Field API names to return besides `id`; `Modified_Time` is always added. */
  readonly fields?: readonly string[];
  /** @default 'asc' (oldest change first, so a cursor can advance page by page) */
  readonly sortOrder?: 'asc' | 'desc';
  /** 1-based. @default 1 */
  readonly page?: number;
  /** At most {@link CRM_MAX_PER_PAGE}. @default CRM_MAX_PER_PAGE */
  readonly perPage?: number;
}

/** One Notification API channel to enable (zoho-crm-api.md §4). */
export interface NotificationChannelRequest {
  /** A number of our choosing (Zoho's `long`), as a digit string. */
  readonly channelId: string;
  /** `{module}.{create|edit|delete|all}`, e.g. `Accounts.all`. */
  readonly events: readonly string[];
  /** Zoho POSTs every callback here; its query parameters come back in `query_params`. */
  readonly notifyUrl: string;
  /** Echoed in every callback body; at most {@link CRM_MAX_CHANNEL_TOKEN_LENGTH} characters. */
  readonly token?: string;
  /**
   * When the channel lapses (epoch ms). Zoho allows at most a week ahead and gives anything
   * later (or nothing) one hour, so ask for a little less than a week.
   */
  readonly channelExpiryMs?: number;
  /** Include changed values (`affected_values`) in callbacks. */
  readonly returnAffectedFieldValues?: boolean;
  /** `false` stops callbacks for related records; Zoho's default is true. */
  readonly notifyOnRelatedAction?: boolean;
}

/** One module subscription of a channel, as Zoho reports it. Never carries the token or URL. */
export interface NotificationSubscription {
  readonly channelId: string;
  /** `resource_name`, e.g. `Accounts`. */
  readonly module: string;
  /** `channel_expiry` in epoch ms; undefined when Zoho sent none or an unreadable one. */
  readonly channelExpiryMs: number | undefined;
  /** The module's subscribed events; only `getNotifications` reports them. */
  readonly events: readonly string[];
}

export interface NotificationSubscriptionsResult {
  readonly subscriptions: readonly NotificationSubscription[];
  readonly rateLimit?: RateLimitInfo;
}

export interface DisableNotificationsResult {
  readonly rateLimit?: RateLimitInfo;
}

/** Zoho's limit on a channel's `token` (zoho-crm-api.md §4). */
export const CRM_MAX_CHANNEL_TOKEN_LENGTH = 50;

/** The largest `per_page` of a CRM list (reference §5, unconfirmed for v8). */
export const CRM_MAX_PER_PAGE = 200;

/**
 * A CRM date-time: ISO 8601 to the second with a coloned offset, as CRM writes them
 * (`2024-05-01T09:30:00+05:30`, OAS record.json); UTC here.
 */
export const formatCrmDateTime = (epochMs: number): string =>
  `${new Date(epochMs).toISOString().slice(0, 19)}+00:00`;

/** Epoch ms of a CRM date-time, or undefined when the value is not one. */
export const parseCrmDateTime = (value: unknown): number | undefined => {
  if (typeof value !== 'string' || value === '') return undefined;
  const ms = Date.parse(value);
  return Number.isNaN(ms) ? undefined : ms;
};

/**
 * At most this many ids per `getRecords` call (the v1 API's documented limit; the v8 limit was
 * not found, zoho-crm-api.md §5).
 */
export const CRM_MAX_IDS_PER_CALL = 100;

/** Rows meaning "the record is gone": reading it returns null instead of throwing. */
const RECORD_GONE_ROWS: ReadonlySet<string> = new Set<ZohoErrorId>([
  'crm-no-content',
  'crm-not-found',
]);

const isRecord = (value: unknown): value is Record<string, unknown> =>
  typeof value === 'object' && value !== null && !Array.isArray(value);

/** The CRM client's calls; each makes exactly one HTTP request. */
export interface CrmClient {
  /**
   * `GET /crm/v8/{module}/{recordId}`. Resolves `record: null` when the record no longer exists.
   * @throws {ZohoApiError} for any other failure.
   */
  getRecord(
    target: CrmTarget,
    module: string,
    recordId: string,
    fields?: readonly string[],
  ): Promise<CrmRecordResult>;
  /**
   * `GET /crm/v8/{module}?ids=...&fields=...`: up to {@link CRM_MAX_IDS_PER_CALL} records in one
   * call (1 credit). Pass `fields`: v8 list calls are reported to require it.
   * @throws {RangeError} when `ids` is empty or too long (a bug in the caller).
   * @throws {ZohoApiError} for any failure of the call.
   */
  getRecords(
    target: CrmTarget,
    module: string,
    ids: readonly string[],
    fields?: readonly string[],
  ): Promise<CrmRecordsResult>;
  /**
   * `GET /crm/v8/{module}?fields=...&sort_by=Modified_Time&sort_order=asc&page&per_page` with
   * `If-Modified-Since`: one page of the records changed after a point in time (1 credit).
   * Nothing changed (204, or 304 Not Modified) is an empty page.
   * @throws {RangeError} for a page below 1 or a per_page outside 1..{@link CRM_MAX_PER_PAGE}.
   * @throws {ZohoApiError} for any failure of the call, or a body without a `data` list.
   */
  listRecordsModifiedSince(
    target: CrmTarget,
    module: string,
    query: ModifiedSinceQuery,
  ): Promise<CrmRecordPage>;
  /**
   * `POST /crm/v8/actions/watch`: enables (or, for a channel id that exists, re-enables with the
   * new details) Notification API channels. Returns one subscription per channel and module,
   * with the expiry Zoho granted (it may be shorter than asked).
   * @throws {RangeError} when no channel is given or a token is longer than 50 characters.
   * @throws {ZohoApiError} for a failed call, or for the first channel Zoho refused (a 202 with
   *   per-item errors: `MANDATORY_NOT_FOUND`, `INVALID_DATA`, ...).
   */
  enableNotifications(
    target: CrmTarget,
    channels: readonly NotificationChannelRequest[],
  ): Promise<NotificationSubscriptionsResult>;
  /**
   * `GET /crm/v8/actions/watch[?channel_id=]`: the subscriptions Zoho holds (first page, up to
   * 200 channel-module pairs); none is an empty list (204).
   * @throws {ZohoApiError} for any failure of the call.
   */
  getNotifications(
    target: CrmTarget,
    options?: { readonly channelId?: string; readonly module?: string },
  ): Promise<NotificationSubscriptionsResult>;
  /**
   * `DELETE /crm/v8/actions/watch?channel_ids=...`. A channel Zoho does not know
   * (`NOT_SUBSCRIBED`) counts as disabled.
   * @throws {RangeError} when no channel id is given.
   * @throws {ZohoApiError} for any other failure.
   */
  disableNotifications(
    target: CrmTarget,
    channelIds: readonly string[],
  ): Promise<DisableNotificationsResult>;
}

/**
 * Builds the Zoho CRM v8 client: record reads and the Notification API. Base URL
 * `${apiDomain}/crm/v8`; every call sends `Authorization: Zoho-oauthtoken <token>`. Each method
 * makes exactly one HTTP request and never retries (see `zohoRequest`).
 */
export const createCrmClient = (deps: ZohoHttpDeps): CrmClient => {
  const call = (
    target: CrmTarget,
    method: ZohoHttpMethod,
    path: string,
    options: {
      readonly query?: Record<string, string>;
      readonly headers?: Record<string, string>;
      readonly jsonBody?: unknown;
    } = {},
  ) =>
    zohoRequest(deps, {
      service: 'crm',
      method,
      url: `${target.apiDomain.replace(/\/+$/, '')}/crm/v8${path}`,
      ...(options.query === undefined ? {} : { query: options.query }),
      ...(options.jsonBody === undefined ? {} : { jsonBody: options.jsonBody }),
      headers: { ...options.headers, Authorization: `Zoho-oauthtoken ${target.accessToken}` },
    });
  const get = (target: CrmTarget, path: string, query: Record<string, string>) =>
    call(target, 'GET', path, { query });

  const dataOf = (response: ZohoHttpResponse, endpoint: string): readonly CrmRecord[] => {
    // 204 No Content: nothing there.
    if (response.body === undefined) return [];
    const data = isRecord(response.body) ? response.body.data : undefined;
    if (Array.isArray(data) && data.every(isRecord)) return data;
    throw unreadableResponseError(
      {
        service: 'crm',
        method: 'GET',
        endpoint,
        httpStatus: response.status,
        rateLimit: response.rateLimit,
      },
      'no "data" list in the body',
    );
  };

  const fieldsQuery = (fields: readonly string[] | undefined): Record<string, string> =>
    fields === undefined || fields.length === 0 ? {} : { fields: fields.join(',') };

  return {
    getRecord: async (target, module, recordId, fields) => {
      const path = `/${encodeURIComponent(module)}/${encodeURIComponent(recordId)}`;
      try {
        const response = await get(target, path, fieldsQuery(fields));
        const [record] = dataOf(response, `/crm/v8${path}`);
        return { record: record ?? null, rateLimit: response.rateLimit };
      } catch (error) {
        if (isZohoApiError(error) && RECORD_GONE_ROWS.has(error.entry.id)) {
          return { record: null, rateLimit: error.rateLimit };
        }
        throw error;
      }
    },
    getRecords: async (target, module, ids, fields) => {
      if (ids.length === 0 || ids.length > CRM_MAX_IDS_PER_CALL) {
        throw new RangeError(
          `getRecords takes 1 to ${CRM_MAX_IDS_PER_CALL} ids, got ${ids.length}`,
        );
      }
      const path = `/${encodeURIComponent(module)}`;
      const response = await get(target, path, { ids: ids.join(','), ...fieldsQuery(fields) });
      return { records: dataOf(response, `/crm/v8${path}`), rateLimit: response.rateLimit };
    },
    listRecordsModifiedSince: async (target, module, query) => {
      const page = query.page ?? 1;
      const perPage = query.perPage ?? CRM_MAX_PER_PAGE;
      if (!Number.isInteger(page) || page < 1) throw new RangeError(`page must be >= 1: ${page}`);
      if (!Number.isInteger(perPage) || perPage < 1 || perPage > CRM_MAX_PER_PAGE) {
        throw new RangeError(`perPage must be 1 to ${CRM_MAX_PER_PAGE}, got ${perPage}`);
      }
      const path = `/${encodeURIComponent(module)}`;
      const fields = [...new Set(['Modified_Time', ...(query.fields ?? [])])];
      let response: ZohoHttpResponse;
      try {
        response = await call(target, 'GET', path, {
          query: {
            fields: fields.join(','),
            sort_by: 'Modified_Time',
            sort_order: query.sortOrder ?? 'asc',
            page: String(page),
            per_page: String(perPage),
          },
          headers: { 'If-Modified-Since': formatCrmDateTime(query.modifiedSinceMs) },
        });
      } catch (error) {
        // 304 Not Modified: HTTP allows no body, so no row of the table can name it; it means
        // "nothing changed", which is an empty page here, never a failure.
        if (isNotModified(error)) return { records: [], moreRecords: false, rateLimit: undefined };
        throw error;
      }
      const records = dataOf(response, `/crm/v8${path}`);
      const info = isRecord(response.body) ? response.body.info : undefined;
      return {
        records,
        moreRecords: isRecord(info) && info.more_records === true,
        rateLimit: response.rateLimit,
      };
    },
    enableNotifications: async (target, channels) => {
      if (channels.length === 0) throw new RangeError('enableNotifications needs a channel');
      for (const channel of channels) {
        if ((channel.token?.length ?? 0) > CRM_MAX_CHANNEL_TOKEN_LENGTH) {
          throw new RangeError(
            `a channel token has at most ${CRM_MAX_CHANNEL_TOKEN_LENGTH} characters`,
          );
        }
      }
      const response = await call(target, 'POST', WATCH_PATH, {
        jsonBody: { watch: channels.map(toWatchItem) },
      });
      const items = watchItemsOf(response, 'POST');
      throwFirstItemError(items, response, 'POST');
      return {
        subscriptions: items.flatMap(subscriptionsOfSuccess),
        rateLimit: response.rateLimit,
      };
    },
    getNotifications: async (target, options = {}) => {
      const query: Record<string, string> = {};
      if (options.channelId !== undefined) query.channel_id = options.channelId;
      if (options.module !== undefined) query.module = options.module;
      const response = await call(target, 'GET', WATCH_PATH, { query });
      // 204 No Content: no channel.
      if (response.body === undefined) return { subscriptions: [], rateLimit: response.rateLimit };
      return {
        subscriptions: watchItemsOf(response, 'GET').flatMap(subscriptionOfListItem),
        rateLimit: response.rateLimit,
      };
    },
    disableNotifications: async (target, channelIds) => {
      if (channelIds.length === 0) throw new RangeError('disableNotifications needs a channel id');
      const response = await call(target, 'DELETE', WATCH_PATH, {
        query: { channel_ids: channelIds.join(',') },
      });
      if (response.body !== undefined) {
        const items = watchItemsOf(response, 'DELETE').filter(
          (item) => item.code !== 'NOT_SUBSCRIBED',
        );
        throwFirstItemError(items, response, 'DELETE');
      }
      return { rateLimit: response.rateLimit };
    },
  };
};

const WATCH_PATH = '/actions/watch';

const isNotModified = (error: unknown): boolean =>
  isZohoApiError(error) && (error.httpStatus === 304 || error.entry.id === 'crm-not-modified');

/** `channel_id` as a JSON number when it is a safe integer (Zoho's `long`), else as sent. */
const channelIdValue = (channelId: string): number | string => {
  const value = Number(channelId);
  return /^\d+$/.test(channelId) && Number.isSafeInteger(value) ? value : channelId;
};

const toWatchItem = (channel: NotificationChannelRequest): Record<string, unknown> => ({
  channel_id: channelIdValue(channel.channelId),
  events: [...channel.events],
  notify_url: channel.notifyUrl,
  ...(channel.token === undefined ? {} : { token: channel.token }),
  ...(channel.channelExpiryMs === undefined
    ? {}
    : { channel_expiry: formatCrmDateTime(channel.channelExpiryMs) }),
  ...(channel.returnAffectedFieldValues === undefined
    ? {}
    : { return_affected_field_values: channel.returnAffectedFieldValues }),
  ...(channel.notifyOnRelatedAction === undefined
    ? {}
    : { notify_on_related_action: channel.notifyOnRelatedAction }),
});

const textOf = (value: unknown): string | undefined =>
  typeof value === 'string' && value !== ''
    ? value
    : typeof value === 'number'
      ? String(value)
      : undefined;

/** The `watch` list of a Notification API answer. */
const watchItemsOf = (
  response: ZohoHttpResponse,
  method: ZohoHttpMethod,
): Record<string, unknown>[] => {
  const items = isRecord(response.body) ? response.body.watch : undefined;
  if (Array.isArray(items) && items.every(isRecord)) return items;
  throw unreadableResponseError(
    {
      service: 'crm',
      method,
      endpoint: `/crm/v8${WATCH_PATH}`,
      httpStatus: response.status,
      rateLimit: response.rateLimit,
    },
    'no "watch" list in the body',
  );
};

/**
 * A 2xx (202) answer can still hold per-item errors: the first one becomes the error the
 * error table gives its code, as if Zoho had failed the whole call.
 */
const throwFirstItemError = (
  items: readonly Record<string, unknown>[],
  response: ZohoHttpResponse,
  method: ZohoHttpMethod,
): void => {
  const failed = items.find((item) => item.status === 'error');
  if (failed === undefined) return;
  const code = textOf(failed.code);
  const { entry, unknown } = classifyZohoFailure({
    service: 'crm',
    httpStatus: response.status,
    code,
  });
  throw new ZohoApiError({
    service: 'crm',
    method,
    endpoint: `/crm/v8${WATCH_PATH}`,
    entry,
    unknown,
    httpStatus: response.status,
    zohoCode: code,
    zohoMessage: textOf(failed.message),
    rateLimit: response.rateLimit,
  });
};

/** `details.events` of a success item: one entry per module (OAS `event`). */
const subscriptionsOfSuccess = (item: Record<string, unknown>): NotificationSubscription[] => {
  const details = isRecord(item.details) ? item.details : {};
  const events = Array.isArray(details.events) ? details.events.filter(isRecord) : [];
  return events.map((event) => ({
    channelId: textOf(event.channel_id) ?? '',
    module: textOf(event.resource_name) ?? '',
    channelExpiryMs: parseCrmDateTime(event.channel_expiry),
    events: [],
  }));
};

/** A GET item (OAS `Notification`); its token and notify_url are left behind on purpose. */
const subscriptionOfListItem = (item: Record<string, unknown>): NotificationSubscription[] => [
  {
    channelId: textOf(item.channel_id) ?? '',
    module: textOf(item.resource_name) ?? '',
    channelExpiryMs: parseCrmDateTime(item.channel_expiry),
    events: Array.isArray(item.events)
      ? item.events.filter((event): event is string => typeof event === 'string')
      : [],
  },
];
