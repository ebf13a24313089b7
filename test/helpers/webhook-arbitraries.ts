import fc from 'fast-check';
import { MAX_RECORDS_PER_WEBHOOK, type WebhookRequest } from '../../lib/webhooks';

/**
 * fast-check generators for webhook requests as Zoho CRM (or anyone on the internet) could send
 * them: workflow-rule webhooks and Notification API callbacks in every body encoding zoho-sync
 * accepts, and the same requests with exactly one defect. Each generated request says what the
 * endpoint must do with it, so a property can check the answer and the queue.
 */

export interface Tenant {
  readonly connectionId: string;
  readonly webhookSecret: string;
}

export type Expectation =
  | { readonly kind: 'accept'; readonly connectionId: string; readonly crmRecordIds: string[] }
  | { readonly kind: 'reject'; readonly defect: string }
  /** Arbitrary noise: any 2xx/4xx answer, never a 5xx, never a message for another tenant. */
  | { readonly kind: 'any' };

export interface GeneratedRequest {
  readonly request: WebhookRequest;
  readonly expect: Expectation;
}

type Encoding = 'json' | 'form' | 'multipart' | 'sniffed-json' | 'sniffed-form';
type TokenPlace = 'header' | 'query' | 'body';

/** Field names that would reach Object.prototype if a decoder assigned them naively. */
export const PROTOTYPE_KEYS = [
  '__proto__',
  'constructor',
  'prototype',
  'toString',
  'valueOf',
  'hasOwnProperty',
  '__defineGetter__',
  'isPrototypeOf',
] as const;

/** Module names zoho-sync syncs, as an admin might type them, and the API name each means. */
const MODULE_SPELLINGS: ReadonlyArray<readonly [string, string]> = [
  ['Accounts', 'Accounts'],
  ['account', 'Accounts'],
  ['Contacts', 'Contacts'],
  ['contact', 'Contacts'],
  ['Products', 'Products'],
  ['PRODUCT', 'Products'],
  ['Deals', 'Deals'],
  ['Potentials', 'Deals'],
  ['Sales_Orders', 'Sales_Orders'],
  ['Sales Orders', 'Sales_Orders'],
  ['salesorder', 'Sales_Orders'],
];

const UNSUPPORTED_MODULES = [
  'Leads',
  'Invoices',
  'Quotes',
  'Tasks',
  'Accounts2',
  'Account s',
  'Dealz',
];

/** Strings over a fixed alphabet (much cheaper to generate than fc.stringMatching). */
const stringOf = (alphabet: string, minLength: number, maxLength: number) =>
  fc.string({ unit: fc.constantFrom(...alphabet), minLength, maxLength });

const DIGITS = '0123456789';
const ALPHANUMERIC = `${DIGITS}abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ`;

const randomCase = (value: string) =>
  fc
    .array(fc.boolean(), { minLength: value.length, maxLength: value.length })
    .map((upper) =>
      [...value].map((char, i) => (upper[i] ? char.toUpperCase() : char.toLowerCase())).join(''),
    );

const padded = (value: fc.Arbitrary<string>) =>
  fc
    .tuple(fc.constantFrom('', ' ', '  ', '\t'), value, fc.constantFrom('', ' ', '\n'))
    .map(([before, core, after]) => `${before}${core}${after}`);

const moduleSpelling = fc
  .constantFrom(...MODULE_SPELLINGS)
  .chain(([spelling]) => padded(randomCase(spelling)));

/** Real CRM ids are 19 digits; shorter ones appear in sandboxes and hand-written tests. */
const crmRecordId = fc.oneof(
  fc.bigInt({ min: 10n ** 18n, max: 10n ** 19n - 1n }).map(String),
  stringOf(DIGITS, 1, 30),
);

/** Text as found in CRM fields and hand-made webhooks: ASCII, accents, CJK, emoji, RTL, controls. */
export const unicodeText = (maxLength = 40) =>
  fc.oneof(
    fc.string({ maxLength }),
    fc.string({ unit: 'grapheme', maxLength }),
    fc.string({ unit: 'binary', maxLength }),
    fc.constantFrom(
      'Zürich GmbH',
      '株式会社ゾーホー',
      'شركة',
      '👩‍💻🚀',
      '\u0000\u001f',
      'a\u202eb',
      '',
    ),
  );

/** Keys that are not part of the payload, including tenant names and prototype keys. */
const junkKey = fc.oneof(
  fc.constantFrom(...PROTOTYPE_KEYS),
  fc.constantFrom(
    'connectionId',
    'connection_id',
    'tenant',
    'organization_id',
    'x',
    'ID',
    'Module',
  ),
  stringOf('abcdefghijklmnopqrstuvwxyz_', 1, 12).filter((key) => !CORE_KEYS.has(key)),
);

const CORE_KEYS = new Set(['module', 'id', 'ids', 'operation', 'channel_id', 'token']);

/** Nested JSON, up to a few levels deep, with prototype keys inside objects too. */
const nestedJson: fc.Arbitrary<unknown> = fc.letrec<{ value: unknown }>((tie) => ({
  value: fc.oneof(
    { depthSize: 'small', withCrossShrink: true },
    fc.constant(null),
    fc.boolean(),
    fc.double({ noNaN: true, noDefaultInfinity: true }),
    unicodeText(20),
    fc.array(tie('value'), { maxLength: 4 }),
    fc
      .array(fc.tuple(fc.oneof(junkKey, fc.constantFrom('id', 'module')), tie('value')), {
        maxLength: 4,
      })
      .map((entries) => rawObject(entries)),
  ),
})).value;

/** An object whose keys may be `__proto__`: built the way JSON.parse builds it. */
const rawObject = (entries: ReadonlyArray<readonly [string, unknown]>): Record<string, unknown> =>
  JSON.parse(`{${entries.map(([k, v]) => `${JSON.stringify(k)}:${toJson(v)}`).join(',')}}`);

const toJson = (value: unknown): string => JSON.stringify(value) ?? 'null';

/** A payload field set: ordered entries, so prototype keys survive until encoding. */
type Entries = Array<[string, unknown]>;

interface ValidShape {
  readonly entries: Entries;
  readonly crmRecordIds: string[];
  readonly json: boolean;
}

/** The record ids of a valid webhook: `id`, `ids` (array or comma list), or both. */
const idFields = (json: boolean, smallBatchWeight: number) =>
  fc
    .tuple(
      // Mostly a few ids; now and then a batch near the limit, as Notification API callbacks send.
      fc.oneof(
        {
          weight: smallBatchWeight,
          arbitrary: fc.uniqueArray(crmRecordId, { minLength: 1, maxLength: 10 }),
        },
        {
          weight: 1,
          arbitrary: fc.uniqueArray(crmRecordId, {
            minLength: MAX_RECORDS_PER_WEBHOOK - 10,
            maxLength: MAX_RECORDS_PER_WEBHOOK,
          }),
        },
      ),
      fc.constantFrom('id', 'ids-list', 'ids-array', 'both'),
      fc.boolean(),
    )
    .map(([ids, style, asNumbers]): { entries: Entries; crmRecordIds: string[] } => {
      const asValue = (id: string): unknown =>
        json && asNumbers && Number.isSafeInteger(Number(id)) && String(Number(id)) === id
          ? Number(id)
          : id;
      if (style === 'id' || ids.length === 1) {
        return { entries: [['id', asValue(ids[0] as string)]], crmRecordIds: [ids[0] as string] };
      }
      if (style === 'ids-array' && json) {
        return { entries: [['ids', ids.map(asValue)]], crmRecordIds: ids };
      }
      if (style === 'both') {
        const [first, ...rest] = ids as [string, ...string[]];
        return {
          entries: [
            ['id', asValue(first)],
            ['ids', rest.join(', ')],
          ],
          crmRecordIds: [first, ...rest],
        };
      }
      return { entries: [['ids', ids.join(',')]], crmRecordIds: ids };
    });

const junkEntries = (json: boolean) =>
  fc.array(fc.tuple(junkKey, json ? nestedJson : unicodeText(60)), { maxLength: 6 });

/** A workflow webhook or a Notification API callback that zoho-sync must accept. */
const validShape = (json: boolean, smallBatchWeight = 9): fc.Arbitrary<ValidShape> =>
  fc
    .tuple(
      moduleSpelling,
      idFields(json, smallBatchWeight),
      fc.option(fc.constantFrom('insert', 'update', 'delete', 'edit'), { nil: undefined }),
      fc.option(fc.oneof(stringOf(DIGITS, 1, 15), fc.integer({ min: 1, max: 2 ** 40 })), {
        nil: undefined,
      }),
      junkEntries(json),
      fc.boolean(),
    )
    .map(([module, ids, operation, channelId, junk, junkFirst]) => {
      const core: Entries = [['module', module], ...ids.entries];
      if (operation !== undefined) core.push(['operation', operation]);
      if (channelId !== undefined) core.push(['channel_id', json ? channelId : String(channelId)]);
      if (json && channelId !== undefined) {
        core.push(['server_time', 1718115953625], ['affected_fields', []], ['query_params', {}]);
      }
      // Junk never repeats a core key, so the last-one-wins rules of each decoder do not matter.
      const entries = junkFirst ? [...junk, ...core] : [...core, ...junk];
      return { entries, crmRecordIds: ids.crmRecordIds, json };
    });

/** Encodes entries as a body of the given encoding, with a matching content type. */
const encodeBody = (
  entries: Entries,
  encoding: Encoding,
  boundaryParameter: string,
  contentTypeSpelling: number,
): { body: string; contentType: string | undefined } => {
  switch (encoding) {
    case 'json':
    case 'sniffed-json': {
      const body = `{${entries.map(([k, v]) => `${JSON.stringify(k)}:${toJson(v)}`).join(',')}}`;
      if (encoding === 'sniffed-json') {
        return {
          body,
          contentType: [undefined, 'text/plain', 'text/plain; charset=utf-8'][
            contentTypeSpelling % 3
          ],
        };
      }
      const types = [
        'application/json',
        'application/json; charset=UTF-8',
        'Application/JSON',
        'text/json',
      ];
      return { body, contentType: types[contentTypeSpelling % types.length] };
    }
    case 'form':
    case 'sniffed-form': {
      const params = new URLSearchParams();
      for (const [k, v] of entries) params.append(k, String(v));
      const body = params.toString();
      if (encoding === 'sniffed-form') {
        return { body, contentType: [undefined, 'text/plain'][contentTypeSpelling % 2] };
      }
      const types = [
        'application/x-www-form-urlencoded',
        'application/x-www-form-urlencoded; charset=UTF-8',
        'APPLICATION/X-WWW-FORM-URLENCODED',
      ];
      return { body, contentType: types[contentTypeSpelling % types.length] };
    }
    case 'multipart': {
      // A leading `"` marks a boundary that must be sent quoted.
      const mustQuote = boundaryParameter.startsWith('"');
      const boundary = mustQuote ? boundaryParameter.slice(1) : boundaryParameter;
      const body = [
        ...entries.map(
          ([k, v]) =>
            `--${boundary}\r\nContent-Disposition: form-data; name="${k}"\r\n\r\n${String(v)}\r\n`,
        ),
        `--${boundary}--\r\n`,
      ].join('');
      const quoted = !mustQuote && contentTypeSpelling % 2 === 0 ? boundary : `"${boundary}"`;
      return { body, contentType: `multipart/form-data; boundary=${quoted}` };
    }
  }
};

interface Delivery {
  readonly tenant: Tenant;
  readonly encoding: Encoding;
  readonly tokenPlace: TokenPlace;
  readonly base64: boolean;
  readonly boundary: string;
  readonly contentTypeSpelling: number;
  readonly correlationId: string | undefined;
}

const delivery = (tenants: readonly Tenant[]): fc.Arbitrary<Delivery> =>
  fc.record({
    tenant: fc.constantFrom(...tenants),
    encoding: fc.constantFrom<Encoding>(
      'json',
      'form',
      'multipart',
      'sniffed-json',
      'sniffed-form',
    ),
    tokenPlace: fc.constantFrom<TokenPlace>('header', 'query', 'body'),
    base64: fc.boolean(),
    // RFC 2046 boundary characters; those that are not HTTP token characters need quotes.
    boundary: fc.oneof(
      stringOf(`${ALPHANUMERIC}'+_.-`, 24, 60),
      stringOf(`${ALPHANUMERIC}'()+_,./:=?-`, 24, 60).map((b) => `"${b}`),
    ),
    contentTypeSpelling: fc.nat(11),
    correlationId: fc.option(fc.oneof(fc.uuid(), unicodeText(300)), { nil: undefined }),
  });

const isJson = (encoding: Encoding) => encoding === 'json' || encoding === 'sniffed-json';

/** Builds the HTTP request: token where the delivery puts it, body encoded and maybe base64. */
const toRequest = (
  entries: Entries,
  d: Delivery,
  overrides: { token?: string | null; connectionId?: string | undefined } = {},
): WebhookRequest => {
  const token = overrides.token === undefined ? d.tenant.webhookSecret : overrides.token;
  const withToken: Entries =
    d.tokenPlace === 'body' && token !== null ? [...entries, ['token', token]] : entries;
  const { body, contentType } = encodeBody(
    withToken,
    d.encoding,
    d.boundary,
    d.contentTypeSpelling,
  );
  const headers: Record<string, string> = {};
  if (contentType !== undefined) headers['content-type'] = contentType;
  if (d.tokenPlace === 'header' && token !== null) headers['x-zoho-sync-token'] = token;
  if (d.correlationId !== undefined) headers['x-correlation-id'] = d.correlationId;
  return {
    connectionId: 'connectionId' in overrides ? overrides.connectionId : d.tenant.connectionId,
    headers,
    query: d.tokenPlace === 'query' && token !== null ? { token } : {},
    body: d.base64 ? Buffer.from(body, 'utf8').toString('base64') : body,
    isBase64Encoded: d.base64,
  };
};

/** Requests that must be accepted, queueing exactly their record ids for their own tenant. */
export const validWebhook = (
  tenants: readonly Tenant[],
  options: { nearLimitBatchesOneIn?: number } = {},
): fc.Arbitrary<GeneratedRequest> =>
  delivery(tenants).chain((d) =>
    validShape(isJson(d.encoding), (options.nearLimitBatchesOneIn ?? 10) - 1).map((shape) => ({
      request: toRequest(shape.entries, d),
      expect: {
        kind: 'accept' as const,
        connectionId: d.tenant.connectionId,
        crmRecordIds: [...new Set(shape.crmRecordIds.map((id) => id.trim()))],
      },
    })),
  );

const replaceEntry = (entries: Entries, key: string, value: unknown): Entries => [
  ...entries.filter(([k]) => k !== key),
  [key, value],
];
const withoutEntries = (entries: Entries, ...keys: string[]): Entries =>
  entries.filter(([k]) => !keys.includes(k));

/** A bad record id: text, signs, decimals, other scripts' digits, too long, unsafe numbers. */
const badRecordId = (json: boolean): fc.Arbitrary<unknown> =>
  fc.oneof(
    fc.constantFrom(
      'abc',
      '12a',
      '1.5',
      '-5',
      '+5',
      '1e5',
      '１２３',
      '١٢٣',
      '0x1F',
      '12 34',
      '9'.repeat(31),
    ),
    fc
      .string({ minLength: 1, maxLength: 20 })
      .filter((s) => !/^\s*\d{1,30}\s*$/.test(s) && !s.includes(',')),
    ...(json
      ? [
          fc.constantFrom<unknown>(-1, -4876876000000345000, 1.5, 2 ** 53, 1e21, true, null, {}, [
            [],
          ]),
          fc.integer({ max: -1 }),
          nestedJson.filter((v) => typeof v === 'object' && v !== null && !Array.isArray(v)),
        ]
      : []),
  );

type Defect = (
  shape: ValidShape,
  d: Delivery,
  others: readonly Tenant[],
) => fc.Arbitrary<{
  readonly request: WebhookRequest;
  readonly defect: string;
}>;

const same = (request: WebhookRequest, defect: string) => fc.constant({ request, defect });

const DEFECTS: Record<string, Defect> = {
  'no token': (shape, d) => same(toRequest(shape.entries, d, { token: null }), 'no token'),
  "another tenant's token": (shape, d, others) =>
    fc
      .constantFrom(...(others.length > 0 ? others : [{ connectionId: 'x', webhookSecret: 'x' }]))
      .map((other) => ({
        request: toRequest(shape.entries, d, { token: other.webhookSecret }),
        defect: "another tenant's token",
      })),
  'near-miss token': (shape, d) =>
    fc
      .constantFrom(
        `${d.tenant.webhookSecret} `,
        d.tenant.webhookSecret.slice(0, -1),
        d.tenant.webhookSecret.toUpperCase(),
        '',
        `${d.tenant.webhookSecret}\u0000`,
      )
      .map((token) => ({
        request: toRequest(shape.entries, d, { token }),
        defect: 'near-miss token',
      })),
  'random token': (shape, d) =>
    unicodeText(60).map((token) => ({
      request: toRequest(shape.entries, d, { token }),
      defect: 'random token',
    })),
  'wrong header token, right body token': (shape, d) => {
    const request = toRequest(shape.entries, { ...d, tokenPlace: 'body' });
    return same(
      { ...request, headers: { ...request.headers, 'x-zoho-sync-token': 'not-the-secret' } },
      'wrong header token, right body token',
    );
  },
  'unknown or malformed connection': (shape, d) =>
    fc
      .constantFrom<string | undefined>(
        'initech',
        'ACME',
        `${d.tenant.connectionId}/../x`,
        `${d.tenant.connectionId} `,
        '',
        undefined,
        'a'.repeat(41),
        '__proto__',
        'constructor',
        `${d.tenant.connectionId}\u0000`,
      )
      .map((connectionId) => ({
        request: toRequest(shape.entries, d, { connectionId }),
        defect: 'unknown or malformed connection',
      })),
  'no module': (shape, d) =>
    same(toRequest(withoutEntries(shape.entries, 'module'), d), 'no module'),
  'unsupported module': (shape, d) =>
    fc
      .oneof(
        fc.constantFrom(...UNSUPPORTED_MODULES),
        fc.constantFrom(...PROTOTYPE_KEYS),
        fc.constant(''),
      )
      .map((module) => ({
        request: toRequest(replaceEntry(shape.entries, 'module', module), d),
        defect: 'unsupported module',
      })),
  'module of the wrong type': (shape, d) =>
    isJson(d.encoding)
      ? fc
          .constantFrom<unknown>(1, null, ['Accounts'], { name: 'Accounts' }, true)
          .map((module) => ({
            request: toRequest(replaceEntry(shape.entries, 'module', module), d),
            defect: 'module of the wrong type',
          }))
      : same(toRequest(replaceEntry(shape.entries, 'module', '   '), d), 'blank module'),
  'no record id': (shape, d) =>
    same(toRequest(withoutEntries(shape.entries, 'id', 'ids'), d), 'no record id'),
  'bad record id': (shape, d) =>
    badRecordId(isJson(d.encoding)).map((id) => ({
      request: toRequest(replaceEntry(withoutEntries(shape.entries, 'ids'), 'id', id), d),
      defect: 'bad record id',
    })),
  'bad id in a list': (shape, d) =>
    fc
      .tuple(
        badRecordId(false).filter((v) => typeof v === 'string' && v.trim() !== ''),
        fc.boolean(),
      )
      .map(([bad, asArray]) => {
        const ids = [...shape.crmRecordIds.slice(0, 5), String(bad)];
        const value = asArray && isJson(d.encoding) ? ids : ids.join(',');
        return {
          request: toRequest(replaceEntry(withoutEntries(shape.entries, 'id'), 'ids', value), d),
          defect: 'bad id in a list',
        };
      }),
  'too many records': (shape, d) =>
    fc
      .uniqueArray(fc.bigInt({ min: 10n ** 18n, max: 10n ** 19n - 1n }).map(String), {
        minLength: MAX_RECORDS_PER_WEBHOOK + 1,
        maxLength: MAX_RECORDS_PER_WEBHOOK + 40,
      })
      .map((ids) => ({
        request: toRequest(
          replaceEntry(withoutEntries(shape.entries, 'id'), 'ids', ids.join(',')),
          d,
        ),
        defect: 'too many records',
      })),
  'body too large': (shape, d) =>
    fc.integer({ min: 66 * 1024, max: 120 * 1024 }).map((size) => ({
      request: toRequest([...shape.entries, ['padding', 'x'.repeat(size)]], d),
      defect: 'body too large',
    })),
  'unsupported content type': (shape, d) =>
    fc
      .constantFrom(
        'application/xml',
        'text/html',
        'multipart/mixed; boundary=x',
        'image/png',
        'application/jsonp',
      )
      .map((contentType) => {
        const request = toRequest(shape.entries, d);
        return {
          request: { ...request, headers: { ...request.headers, 'content-type': contentType } },
          defect: 'unsupported content type',
        };
      }),
  'broken body': (shape, d) =>
    fc
      .constantFrom(
        { body: '{"module":"Accounts","id":"1"', contentType: 'application/json' },
        { body: '[{"module":"Accounts","id":"1"}]', contentType: 'application/json' },
        { body: '"module=Accounts&id=1"', contentType: 'application/json' },
        { body: 'null', contentType: 'application/json' },
        { body: `${'['.repeat(20000)}${']'.repeat(20000)}`, contentType: 'application/json' },
        { body: '{"module":"Accounts","id":"1"}', contentType: 'multipart/form-data' },
        {
          body: '--b\r\nContent-Disposition: form-data; name="module"\r\n\r\nAccounts',
          contentType: 'multipart/form-data; boundary=b',
        },
        {
          body: '--b\r\nContent-Disposition: form-data; name="f"; filename="a.txt"\r\n\r\nmodule=Accounts\r\n--b--\r\n',
          contentType: 'multipart/form-data; boundary=b',
        },
      )
      .map(({ body, contentType }) => {
        const request = toRequest(shape.entries, { ...d, tokenPlace: 'header' });
        return {
          request: {
            ...request,
            body,
            isBase64Encoded: false,
            headers: { ...request.headers, 'content-type': contentType },
          },
          defect: 'broken body',
        };
      }),
};

/** Defects only the authentication step can see; the body parsers cannot tell. */
export const AUTH_DEFECTS = new Set([
  'no token',
  "another tenant's token",
  'near-miss token',
  'random token',
  'wrong header token, right body token',
  'unknown or malformed connection',
]);

/** A valid request with exactly one defect: it must be refused with a 4xx and queue nothing. */
export const invalidWebhook = (
  tenants: readonly Tenant[],
  options: { bodyDefectsOnly?: boolean } = {},
): fc.Arbitrary<GeneratedRequest> =>
  fc
    .tuple(
      delivery(tenants),
      fc.constantFrom(
        ...Object.keys(DEFECTS).filter(
          (name) => !(options.bodyDefectsOnly && AUTH_DEFECTS.has(name)),
        ),
      ),
    )
    .chain(([d, defectName]) =>
      validShape(isJson(d.encoding)).chain((shape) =>
        (DEFECTS[defectName] as Defect)(
          shape,
          d,
          tenants.filter((t) => t.connectionId !== d.tenant.connectionId),
        ),
      ),
    )
    .map(({ request, defect }) => ({ request, expect: { kind: 'reject' as const, defect } }));

/** Anything at all: bytes, text, odd headers. Only "no 5xx" and tenant isolation must hold. */
export const noiseWebhook = (tenants: readonly Tenant[]): fc.Arbitrary<GeneratedRequest> =>
  fc
    .record({
      connectionId: fc.oneof(
        fc.constantFrom(...tenants.map((t) => t.connectionId)),
        fc.option(unicodeText(50), { nil: undefined }),
      ),
      token: fc.option(
        fc.oneof(fc.constantFrom(...tenants.map((t) => t.webhookSecret)), unicodeText(60)),
        {
          nil: undefined,
        },
      ),
      tokenInQuery: fc.boolean(),
      contentType: fc.option(
        fc.oneof(
          fc.constantFrom(
            'application/json',
            'application/x-www-form-urlencoded',
            'multipart/form-data; boundary=zz',
            'text/plain',
            'application/octet-stream',
            ';;;',
            'multipart/form-data; boundary=',
          ),
          unicodeText(40),
        ),
        { nil: undefined },
      ),
      body: fc.option(
        fc.oneof(
          unicodeText(400),
          fc.json({ maxDepth: 4 }),
          fc.jsonValue({ maxDepth: 3 }).map((v) => JSON.stringify({ module: 'Accounts', id: v })),
          fc.uint8Array({ maxLength: 400 }).map((bytes) => Buffer.from(bytes).toString('latin1')),
        ),
        { nil: undefined },
      ),
      base64: fc.boolean(),
    })
    .map((n) => {
      const headers: Record<string, string> = {};
      if (n.contentType !== undefined) headers['content-type'] = n.contentType;
      if (n.token !== undefined && !n.tokenInQuery) headers['x-zoho-sync-token'] = n.token;
      const request: WebhookRequest = {
        connectionId: n.connectionId,
        headers,
        query: n.token !== undefined && n.tokenInQuery ? { token: n.token } : {},
        body: n.body === undefined || !n.base64 ? n.body : Buffer.from(n.body).toString('base64'),
        isBase64Encoded: n.base64 && n.body !== undefined,
      };
      return { request, expect: { kind: 'any' as const } };
    });
