import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  crmAccount,
  type SimulatedOrganization,
  startZohoSimulator,
  type ZohoSimulator,
} from '../../../lib/local/zoho-simulator';

// 2026-01-05T10:00:00Z: aligned to a minute, well inside a UTC day.
const T0 = Date.UTC(2026, 0, 5, 10, 0, 0);
const MINUTE = 60_000;
const DAY = 86_400_000;
const TOKEN_FORMAT = /^1000\.[0-9a-f]{32}\.[0-9a-f]{32}$/;

describe('zoho-simulator', () => {
  let clock = T0;
  let zoho: ZohoSimulator;
  let sequence = 0;

  beforeAll(async () => {
    zoho = await startZohoSimulator({ now: () => clock });
  });

  afterAll(async () => {
    await zoho.stop();
  });

  // Each test registers its own client and organization, so throttles and limits never leak
  // from one test into another.
  const newClient = (extra: { apiDomain?: string; scope?: string } = {}) => {
    sequence += 1;
    const client = {
      clientId: `1000.CLIENT${sequence}`,
      clientSecret: `secret-${sequence}`,
      refreshToken: `1000.refresh.${sequence}`,
      ...extra,
    };
    zoho.addClient(client);
    return client;
  };
  const newOrg = (options: Omit<SimulatedOrganization, 'organizationId'> = {}) => {
    sequence += 1;
    const organizationId = String(700_000_000 + sequence);
    zoho.addOrganization({ organizationId, ...options });
    return organizationId;
  };

  type Client = ReturnType<typeof newClient>;
  const refresh = (client: Client, overrides: Record<string, string> = {}) =>
    fetch(`${zoho.baseUrl}/oauth/v2/token`, {
      method: 'POST',
      body: new URLSearchParams({
        grant_type: 'refresh_token',
        client_id: client.clientId,
        client_secret: client.clientSecret,
        refresh_token: client.refreshToken,
        ...overrides,
      }),
    });
  const tokenBody = async (response: Response) =>
    (await response.json()) as Record<string, unknown>;
  const accessTokenFor = async (client: Client): Promise<string> => {
    const body = await tokenBody(await refresh(client));
    if (typeof body.access_token !== 'string') throw new Error(`no token: ${JSON.stringify(body)}`);
    return body.access_token;
  };

  interface CallOptions {
    method?: string;
    orgId?: string | null;
    body?: unknown;
    headers?: Record<string, string>;
    base?: string;
  }
  const books = (token: string, path: string, options: CallOptions = {}) => {
    const url = new URL(`${options.base ?? zoho.baseUrl}/books/v3${path}`);
    if (options.orgId !== null && options.orgId !== undefined) {
      url.searchParams.set('organization_id', options.orgId);
    }
    return fetch(url, {
      method: options.method ?? 'GET',
      headers: {
        Authorization: `Zoho-oauthtoken ${token}`,
        ...(options.body === undefined ? {} : { 'Content-Type': 'application/json' }),
        ...options.headers,
      },
      ...(options.body === undefined
        ? {}
        : { body: typeof options.body === 'string' ? options.body : JSON.stringify(options.body) }),
    });
  };
  const crm = (token: string, path: string) =>
    fetch(`${zoho.baseUrl}/crm/v8${path}`, {
      headers: { Authorization: `Zoho-oauthtoken ${token}` },
    });
  const jsonOf = async (response: Response) => (await response.json()) as Record<string, unknown>;

  /** A client, an organization and a token: what most Books tests start from. */
  const booksSetup = async (org: Omit<SimulatedOrganization, 'organizationId'> = {}) => {
    const client = newClient();
    return { client, orgId: newOrg(org), token: await accessTokenFor(client) };
  };

  describe('accounts server', () => {
    it('issues a Zoho-shaped access token for a refresh token, without a new refresh token', async () => {
      const client = newClient();

      const response = await refresh(client);

      expect(response.status).toBe(200);
      const body = await tokenBody(response);
      expect(body).toStrictEqual({
        access_token: expect.stringMatching(TOKEN_FORMAT),
        api_domain: zoho.baseUrl,
        token_type: 'Bearer',
        expires_in: 3600,
      });
      expect(zoho.stats().accounts.byClientId[client.clientId]).toMatchObject({
        tokenRequests: 1,
        tokensIssued: 1,
      });
    });

    it('accepts the parameters in the query string', async () => {
      const client = newClient();
      const query = new URLSearchParams({
        grant_type: 'refresh_token',
        client_id: client.clientId,
        client_secret: client.clientSecret,
        refresh_token: client.refreshToken,
      });

      const body = await tokenBody(
        await fetch(`${zoho.baseUrl}/oauth/v2/token?${query}`, { method: 'POST' }),
      );

      expect(body.access_token).toMatch(TOKEN_FORMAT);
    });

    it('answers Access Denied to the 11th refresh within 10 minutes, and again allows it later', async () => {
      const client = newClient();
      for (let i = 0; i < 10; i++) {
        expect((await tokenBody(await refresh(client))).access_token).toMatch(TOKEN_FORMAT);
      }

      const denied = await refresh(client);

      expect(denied.status).toBe(200);
      expect(await tokenBody(denied)).toStrictEqual({
        error: 'Access Denied',
        error_description:
          'You have made too many requests continuously. Please try again after some time.',
        status: 'failure',
      });
      expect(zoho.stats().accounts.byClientId[client.clientId]?.accessDenied).toBe(1);

      clock += 10 * MINUTE;
      expect((await tokenBody(await refresh(client))).access_token).toMatch(TOKEN_FORMAT);
    });

    it('answers invalid_client to an unknown client id or a wrong secret', async () => {
      const client = newClient();

      const unknown = await tokenBody(await refresh(client, { client_id: '1000.NOSUCHCLIENT' }));
      const wrongSecret = await tokenBody(await refresh(client, { client_secret: 'wrong' }));

      expect(unknown).toStrictEqual({ error: 'invalid_client' });
      expect(wrongSecret).toStrictEqual({ error: 'invalid_client' });
      expect(zoho.stats().accounts.byClientId[client.clientId]?.invalidClient).toBe(1);
    });

    it('answers invalid_code after the refresh token is revoked, and its access tokens stop working', async () => {
      const { client, orgId, token } = await booksSetup();
      const revoke = await fetch(
        `${zoho.baseUrl}/oauth/v2/token/revoke?token=${client.refreshToken}`,
        { method: 'POST' },
      );
      expect(revoke.status).toBe(200);

      expect(await tokenBody(await refresh(client))).toStrictEqual({ error: 'invalid_code' });
      expect((await books(token, '/contacts', { orgId })).status).toBe(401);
      expect(zoho.stats().accounts.byClientId[client.clientId]?.invalidCode).toBe(1);
    });

    it('invalidates the oldest access token when an 11th becomes active', async () => {
      const client = newClient();
      const orgId = newOrg();
      const tokens: string[] = [];
      for (let i = 0; i < 10; i++) tokens.push(await accessTokenFor(client));
      clock += 10 * MINUTE; // past the refresh throttle, well inside the tokens' hour

      const eleventh = await accessTokenFor(client);

      expect((await books(tokens[0] ?? '', '/contacts', { orgId })).status).toBe(401);
      expect((await books(tokens[1] ?? '', '/contacts', { orgId })).status).toBe(200);
      expect((await books(eleventh, '/contacts', { orgId })).status).toBe(200);
    });

    it('expires access tokens an hour after issue, and all at once on expireAccessTokens()', async () => {
      const { client, orgId, token } = await booksSetup();
      clock += 59 * MINUTE;
      expect((await books(token, '/contacts', { orgId })).status).toBe(200);

      clock += MINUTE;
      const expired = await books(token, '/contacts', { orgId });
      expect(expired.status).toBe(401);
      expect(await jsonOf(expired)).toStrictEqual({
        code: 57,
        message: 'You are not authorized to perform this operation',
      });

      const fresh = await accessTokenFor(client);
      zoho.expireAccessTokens();
      expect((await books(fresh, '/contacts', { orgId })).status).toBe(401);
    });

    it('exchanges a grant code once for a refresh and an access token', async () => {
      const client = newClient();
      const code = zoho.createGrantCode(client.clientId, 'ZohoBooks.contacts.ALL');
      const exchange = () =>
        fetch(`${zoho.baseUrl}/oauth/v2/token`, {
          method: 'POST',
          body: new URLSearchParams({
            grant_type: 'authorization_code',
            client_id: client.clientId,
            client_secret: client.clientSecret,
            code,
          }),
        });

      const first = await tokenBody(await exchange());
      const reused = await tokenBody(await exchange());

      expect(first).toStrictEqual({
        access_token: expect.stringMatching(TOKEN_FORMAT),
        refresh_token: expect.stringMatching(TOKEN_FORMAT),
        scope: 'ZohoBooks.contacts.ALL',
        api_domain: zoho.baseUrl,
        token_type: 'Bearer',
        expires_in: 3600,
      });
      expect(reused).toStrictEqual({ error: 'invalid_code' });
    });

    it('answers invalid_code to a grant code older than 3 minutes', async () => {
      const client = newClient();
      const code = zoho.createGrantCode(client.clientId, 'ZohoBooks.contacts.ALL');
      clock += 3 * MINUTE;

      const body = await tokenBody(
        await fetch(`${zoho.baseUrl}/oauth/v2/token`, {
          method: 'POST',
          body: new URLSearchParams({
            grant_type: 'authorization_code',
            client_id: client.clientId,
            client_secret: client.clientSecret,
            code,
          }),
        }),
      );

      expect(body).toStrictEqual({ error: 'invalid_code' });
    });
  });

  describe('API authentication', () => {
    it('rejects the Bearer prefix: Books with code 57, CRM with INVALID_TOKEN', async () => {
      const { orgId, token } = await booksSetup();

      const booksResponse = await fetch(
        `${zoho.baseUrl}/books/v3/contacts?organization_id=${orgId}`,
        { headers: { Authorization: `Bearer ${token}` } },
      );
      const crmResponse = await fetch(`${zoho.baseUrl}/crm/v8/Accounts/123`, {
        headers: { Authorization: `Bearer ${token}` },
      });

      expect(booksResponse.status).toBe(401);
      expect(await jsonOf(booksResponse)).toStrictEqual({
        code: 57,
        message: 'You are not authorized to perform this operation',
      });
      expect(crmResponse.status).toBe(401);
      expect(await jsonOf(crmResponse)).toStrictEqual({
        code: 'INVALID_TOKEN',
        details: {},
        message: 'invalid oauth token',
        status: 'error',
      });
    });

    it("rejects a token on a host other than its api_domain's, as a wrong data centre would", async () => {
      const apiDomain = `http://localhost:${zoho.port}`;
      const client = newClient({ apiDomain });
      const orgId = newOrg();
      const body = await tokenBody(await refresh(client));
      expect(body.api_domain).toBe(apiDomain);
      const token = String(body.access_token);

      const wrongHost = await books(token, '/contacts', { orgId });
      const rightHost = await books(token, '/contacts', { orgId, base: apiDomain });

      expect(wrongHost.status).toBe(401);
      expect(rightHost.status).toBe(200);
    });

    it('rejects calls outside the scopes of the token', async () => {
      const client = newClient({ scope: 'ZohoBooks.contacts.READ' });
      const orgId = newOrg();
      const token = await accessTokenFor(client);

      const read = await books(token, '/contacts', { orgId });
      const create = await books(token, '/contacts', {
        orgId,
        method: 'POST',
        body: { contact_name: 'Scoped Ltd' },
      });
      const crmRead = await crm(token, '/Accounts/123');

      expect(read.status).toBe(200);
      expect(create.status).toBe(401);
      expect((await jsonOf(create)).code).toBe(57);
      expect(crmRead.status).toBe(401);
      expect((await jsonOf(crmRead)).code).toBe('OAUTH_SCOPE_MISMATCH');
    });
  });

  describe('Books', () => {
    it('answers code 6024 without organization_id and for an unknown organization', async () => {
      const { token } = await booksSetup();

      const missing = await books(token, '/contacts', { orgId: null });
      const unknown = await books(token, '/contacts', { orgId: '999999' });

      expect(missing.status).toBe(400);
      expect(await jsonOf(missing)).toStrictEqual({
        code: 6024,
        message: 'Invalid value passed for organization_id.',
      });
      expect((await jsonOf(unknown)).code).toBe(6024);
    });

    it('creates, lists, gets and updates a contact', async () => {
      const { orgId, token } = await booksSetup();

      const created = await books(token, '/contacts', {
        orgId,
        method: 'POST',
        body: {
          contact_name: 'Acme Ltd',
          company_name: 'Acme',
          contact_persons: [{ first_name: 'Ada', email: 'ada@acme.test' }],
          custom_fields: [{ api_name: 'cf_crm_id', value: '4150868000000000001' }],
        },
      });
      expect(created.status).toBe(201);
      const createdBody = await jsonOf(created);
      expect(createdBody).toMatchObject({ code: 0, message: 'The contact has been added.' });
      const contact = createdBody.contact as Record<string, unknown>;
      expect(contact).toMatchObject({
        contact_name: 'Acme Ltd',
        company_name: 'Acme',
        contact_type: 'customer',
        status: 'active',
        cf_crm_id: '4150868000000000001',
        custom_fields: [
          expect.objectContaining({
            api_name: 'cf_crm_id',
            value: '4150868000000000001',
            index: 1,
          }),
        ],
      });
      expect(contact.contact_id).toMatch(/^\d{19}$/);
      expect(contact.primary_contact_id).toMatch(/^\d{19}$/);
      const contactId = String(contact.contact_id);

      const listed = await jsonOf(await books(token, '/contacts', { orgId }));
      expect(listed.contacts).toStrictEqual([contact]);
      expect(listed.page_context).toMatchObject({ page: 1, per_page: 200, has_more_page: false });

      const got = await jsonOf(await books(token, `/contacts/${contactId}`, { orgId }));
      expect(got).toStrictEqual({ code: 0, message: 'success', contact });

      const updated = await books(token, `/contacts/${contactId}`, {
        orgId,
        method: 'PUT',
        body: { company_name: 'Acme Holdings' },
      });
      expect(updated.status).toBe(200);
      expect((await jsonOf(updated)).contact).toMatchObject({
        contact_id: contactId,
        contact_name: 'Acme Ltd',
        company_name: 'Acme Holdings',
        cf_crm_id: '4150868000000000001',
      });
      expect(zoho.books.contacts(orgId)).toHaveLength(1);
    });

    it('filters and pages lists', async () => {
      const { orgId, token } = await booksSetup();
      for (const name of ['Alpha One', 'Alpha Two', 'Beta']) {
        await books(token, '/contacts', {
          orgId,
          method: 'POST',
          body: {
            contact_name: name,
            custom_fields: [{ api_name: 'cf_crm_id', value: `crm-${name}` }],
          },
        });
      }
      const names = async (query: string) => {
        const body = await jsonOf(await books(token, `/contacts?${query}`, { orgId }));
        return {
          names: (body.contacts as { contact_name: string }[]).map((c) => c.contact_name),
          more: (body.page_context as { has_more_page: boolean }).has_more_page,
        };
      };

      expect(await names('contact_name_startswith=alpha')).toStrictEqual({
        names: ['Alpha One', 'Alpha Two'],
        more: false,
      });
      expect(await names('contact_name=beta')).toStrictEqual({ names: ['Beta'], more: false });
      expect(await names('cf_crm_id=crm-Alpha%20Two')).toStrictEqual({
        names: ['Alpha Two'],
        more: false,
      });
      expect(await names('per_page=2&page=1')).toStrictEqual({
        names: ['Alpha One', 'Alpha Two'],
        more: true,
      });
      expect(await names('per_page=2&page=2')).toStrictEqual({ names: ['Beta'], more: false });
    });

    it('upserts by X-Unique-Identifier: creates once, then updates the same record', async () => {
      const { orgId, token } = await booksSetup();
      const upsert = (rate: number) =>
        books(token, '/items', {
          orgId,
          method: 'PUT',
          headers: {
            'X-Unique-Identifier-Key': 'cf_crm_id',
            'X-Unique-Identifier-Value': '4150868000000000777',
            'X-Upsert': 'true',
          },
          body: { name: 'Widget', rate },
        });

      const first = await upsert(10);
      const second = await upsert(12.5);

      expect(first.status).toBe(201);
      expect(second.status).toBe(200);
      const item = (await jsonOf(second)).item as Record<string, unknown>;
      expect(item).toMatchObject({ name: 'Widget', rate: 12.5, cf_crm_id: '4150868000000000777' });
      expect((await jsonOf(first)).item).toMatchObject({ item_id: item.item_id });
      expect(zoho.books.items(orgId)).toHaveLength(1);
    });

    it('answers 1002 to a unique-key update that finds no record and has no X-Upsert', async () => {
      const { orgId, token } = await booksSetup();

      const response = await books(token, '/contacts', {
        orgId,
        method: 'PUT',
        headers: { 'X-Unique-Identifier-Key': 'cf_crm_id', 'X-Unique-Identifier-Value': '1' },
        body: { contact_name: 'Nobody' },
      });

      expect(response.status).toBe(404);
      expect(await jsonOf(response)).toStrictEqual({
        code: 1002,
        message: 'Contact does not exist.',
      });
    });

    it('refuses the unique-key update when the organization has no unique custom field', async () => {
      const { orgId, token } = await booksSetup({ uniqueCustomFields: false });

      const response = await books(token, '/contacts', {
        orgId,
        method: 'PUT',
        headers: {
          'X-Unique-Identifier-Key': 'cf_crm_id',
          'X-Unique-Identifier-Value': '1',
          'X-Upsert': 'true',
        },
        body: { contact_name: 'Nobody' },
      });

      expect(response.status).toBe(400);
      expect((await jsonOf(response)).code).toBe(2);
    });

    it('answers 3062 to a second contact with the same name, and 1001 to a taken unique value', async () => {
      const { orgId, token } = await booksSetup();
      const create = (name: string, crmId: string) =>
        books(token, '/contacts', {
          orgId,
          method: 'POST',
          body: { contact_name: name, custom_fields: [{ api_name: 'cf_crm_id', value: crmId }] },
        });
      await create('Acme Ltd', '1');

      const sameName = await create('acme ltd', '2');
      const sameCrmId = await create('Other Ltd', '1');

      expect(sameName.status).toBe(400);
      expect((await jsonOf(sameName)).code).toBe(3062);
      expect(sameCrmId.status).toBe(400);
      expect((await jsonOf(sameCrmId)).code).toBe(1001);
      expect(zoho.books.contacts(orgId)).toHaveLength(1);
    });

    it('answers 404 with code 1002 and the official message for an unknown invoice', async () => {
      const { orgId, token } = await booksSetup();

      const response = await books(token, '/invoices/1000000000000000001', { orgId });

      expect(response.status).toBe(404);
      expect(await jsonOf(response)).toStrictEqual({
        code: 1002,
        message: 'Invoice does not exist.',
      });
    });

    it('numbers and totals invoices, and refuses to edit a void one', async () => {
      const { orgId, token } = await booksSetup();
      const contact = (
        await jsonOf(
          await books(token, '/contacts', {
            orgId,
            method: 'POST',
            body: { contact_name: 'Buyer' },
          }),
        )
      ).contact as { contact_id: string };
      const createInvoice = (customerId: string) =>
        books(token, '/invoices', {
          orgId,
          method: 'POST',
          body: {
            customer_id: customerId,
            reference_number: 'SO-1',
            line_items: [
              { name: 'Widget', rate: 12.5, quantity: 2 },
              { name: 'Service', rate: 100, quantity: 1 },
            ],
          },
        });

      const created = await createInvoice(contact.contact_id);
      const unknownCustomer = await createInvoice('1000000000000000099');

      expect(created.status).toBe(201);
      const invoice = (await jsonOf(created)).invoice as Record<string, unknown>;
      expect(invoice).toMatchObject({
        invoice_number: 'INV-000001',
        status: 'draft',
        customer_name: 'Buyer',
        total: 125,
        balance: 125,
      });
      expect(unknownCustomer.status).toBe(400);
      expect((await jsonOf(unknownCustomer)).code).toBe(2);

      const invoiceId = String(invoice.invoice_id);
      const voided = await books(token, `/invoices/${invoiceId}/status/void`, {
        orgId,
        method: 'POST',
      });
      expect((await jsonOf(voided)).code).toBe(0);
      const edit = await books(token, `/invoices/${invoiceId}`, {
        orgId,
        method: 'PUT',
        body: { reference_number: 'SO-2' },
      });
      expect(edit.status).toBe(400);
      expect((await jsonOf(edit)).code).not.toBe(0);
      expect(zoho.books.invoices(orgId)[0]).toMatchObject({
        status: 'void',
        reference_number: 'SO-1',
      });
    });

    it('answers 1038 to a body that is not JSON, and code 5 to an unknown path', async () => {
      const { orgId, token } = await booksSetup();

      const malformed = await books(token, '/contacts', {
        orgId,
        method: 'POST',
        body: 'contact_name=Acme',
      });
      const unknownPath = await books(token, '/nonsense', { orgId });

      expect(malformed.status).toBe(400);
      expect(await jsonOf(malformed)).toStrictEqual({
        code: 1038,
        message: 'JSON is not well formed',
      });
      expect(unknownPath.status).toBe(404);
      expect(await jsonOf(unknownPath)).toStrictEqual({ code: 5, message: 'Invalid URL Passed' });
    });

    it('sends the daily X-Rate-Limit headers on successes and errors', async () => {
      const { orgId, token } = await booksSetup({ plan: 'standard' });

      const ok = await books(token, '/contacts', { orgId });
      const notFound = await books(token, '/contacts/1', { orgId });

      expect(ok.headers.get('x-rate-limit-limit')).toBe('2000');
      expect(ok.headers.get('x-rate-limit-remaining')).toBe('1999');
      const secondsToUtcMidnight = ((Math.floor(clock / DAY) + 1) * DAY - clock) / 1000;
      expect(ok.headers.get('x-rate-limit-reset')).toBe(String(Math.ceil(secondsToUtcMidnight)));
      expect(notFound.status).toBe(404);
      expect(notFound.headers.get('x-rate-limit-remaining')).toBe('1998');
    });
  });

  describe('Books limits', () => {
    it('answers 429 code 44 after requestsPerWindow calls in one window, and resets in the next', async () => {
      clock = T0 + 24 * 3600_000; // a fresh, minute-aligned window
      const windowStart = clock;
      const { orgId, token } = await booksSetup({
        requestsPerWindow: 5,
        minute: { kind: 'fixed' },
      });
      for (let i = 0; i < 5; i++)
        expect((await books(token, '/contacts', { orgId })).status).toBe(200);

      const limited = await books(token, '/contacts', { orgId });

      expect(limited.status).toBe(429);
      expect((await jsonOf(limited)).code).toBe(44);
      clock += MINUTE;
      expect((await books(token, '/contacts', { orgId })).status).toBe(200);
      expect(zoho.stats().organizations[orgId]).toMatchObject({
        calls: 7,
        tooManyRequests: 1,
        maxCallsInAnyWindow: 5,
        windows: [
          { startMs: windowStart, calls: 5 },
          { startMs: windowStart + MINUTE, calls: 1 },
        ],
        dailyUsed: 6,
        byStatus: { '200': 6, '429': 1 },
      });
    });

    it('plays a sliding minute: any span of windowSeconds holds at most requestsPerWindow calls', async () => {
      clock = T0 + 25 * 3600_000;
      const { orgId, token } = await booksSetup({
        requestsPerWindow: 3,
        windowSeconds: 5,
        minute: { kind: 'sliding' },
      });
      const status = async () => (await books(token, '/contacts', { orgId })).status;
      expect(await status()).toBe(200); // t = 0
      clock += 3_000;
      expect(await status()).toBe(200); // t = 3 s
      expect(await status()).toBe(200);
      // A fixed 5 s window would have begun afresh at t = 5 s; the sliding one still holds the
      // calls of t = 3 s, and frees the call of t = 0 only once 5 s have passed.
      clock += 1_999;
      expect(await status()).toBe(429); // t = 4.999 s
      clock += 1;
      expect(await status()).toBe(200); // t = 5 s: the first call has left the span
      expect(await status()).toBe(429);
      clock += 3_000;
      expect(await status()).toBe(200); // t = 8 s: the calls of t = 3 s have left
      expect(await status()).toBe(200);
      expect(zoho.stats().organizations[orgId]).toMatchObject({
        tooManyRequests: 2,
        maxCallsInAnyWindow: 3,
        maxCallsInAnySpan: 3,
      });
      expect(zoho.stats().organizations[orgId]?.callTimes).toHaveLength(6);
    });

    it('plays a fixed minute shifted by an offset, and reports spans that straddle its windows', async () => {
      clock = T0 + 26 * 3600_000;
      const { orgId, token } = await booksSetup({
        requestsPerWindow: 3,
        windowSeconds: 5,
        minute: { kind: 'fixed', offsetMs: 2_000 },
      });
      const status = async () => (await books(token, '/contacts', { orgId })).status;
      // Windows are [T-3 s, T+2 s), [T+2 s, T+7 s): three calls fit before T+2 s, and three more
      // right after, although an epoch-aligned window would have refused the fourth.
      clock += 1_000;
      for (let i = 0; i < 3; i++) expect(await status()).toBe(200);
      expect(await status()).toBe(429);
      clock += 1_000; // T+2 s: a new window of this offset
      for (let i = 0; i < 3; i++) expect(await status()).toBe(200);
      expect(await status()).toBe(429);
      const stats = zoho.stats().organizations[orgId];
      expect(stats?.windows.map((window) => window.startMs - clock)).toEqual([-5_000, 0]);
      expect(stats?.maxCallsInAnyWindow).toBe(3);
      expect(stats?.maxCallsInAnySpan).toBe(6); // what a client sees if it assumed another reading
    });

    it('reads the minute from ZOHO_SIMULATOR_MINUTE', async () => {
      const { parseSimulatedMinute } = await import('../../../lib/local/zoho-simulator');
      expect(parseSimulatedMinute(undefined)).toEqual({ kind: 'fixed' });
      expect(parseSimulatedMinute('sliding')).toEqual({ kind: 'sliding' });
      expect(parseSimulatedMinute('fixed-offset:1500')).toEqual({ kind: 'fixed', offsetMs: 1500 });
      expect(parseSimulatedMinute('fixed-random')).toEqual({ kind: 'fixed-random' });
      expect(() => parseSimulatedMinute('hourly')).toThrow(/ZOHO_SIMULATOR_MINUTE/);
    });

    it('answers 429 code 45 once the daily quota is spent, until the next UTC day', async () => {
      const { orgId, token } = await booksSetup({ dailyLimit: 3 });
      for (let i = 0; i < 3; i++)
        expect((await books(token, '/contacts', { orgId })).status).toBe(200);

      const spent = await books(token, '/contacts', { orgId });

      expect(spent.status).toBe(429);
      expect((await jsonOf(spent)).code).toBe(45);
      expect(spent.headers.get('x-rate-limit-remaining')).toBe('0');
      expect(zoho.stats().organizations[orgId]?.dailyUsed).toBe(3);

      clock = (Math.floor(clock / DAY) + 1) * DAY; // the next UTC midnight
      const accessToken = await accessTokenFor(newClient()); // the old token has expired meanwhile
      expect((await books(accessToken, '/contacts', { orgId })).status).toBe(200);
    });

    it('answers 429 code 1070 to calls beyond maxConcurrency while others are in flight', async () => {
      const slow = await startZohoSimulator({ now: () => clock, latencyMs: 300 });
      try {
        slow.addClient({ clientId: 'c', clientSecret: 's', refreshToken: '1000.slow.token' });
        slow.addOrganization({ organizationId: '42', maxConcurrency: 2 });
        const tokenResponse = await fetch(`${slow.baseUrl}/oauth/v2/token`, {
          method: 'POST',
          body: new URLSearchParams({
            grant_type: 'refresh_token',
            client_id: 'c',
            client_secret: 's',
            refresh_token: '1000.slow.token',
          }),
        });
        const token = String((await tokenBody(tokenResponse)).access_token);
        const call = () =>
          books(token, '/contacts', { orgId: '42', base: slow.baseUrl }).then(async (r) => ({
            status: r.status,
            code: (await jsonOf(r)).code,
          }));

        const results = await Promise.all([call(), call(), call(), call(), call()]);

        expect(results.filter((r) => r.status === 200)).toHaveLength(2);
        expect(results.filter((r) => r.status === 429 && r.code === 1070)).toHaveLength(3);
        expect(slow.stats().organizations['42']).toMatchObject({
          maxInFlightObserved: 2,
          dailyUsed: 2,
        });
        expect((await call()).status).toBe(200); // the slots were released
      } finally {
        await slow.stop();
      }
    });
  });

  describe('faults', () => {
    it('answers an injected 500 twice, then the real response; the 500s count as calls', async () => {
      const { orgId, token } = await booksSetup();
      zoho.injectFault({
        method: 'GET',
        pathPattern: '^/books/v3/contacts$',
        organizationId: orgId,
        times: 2,
        response: { status: 500, body: { code: 1000, message: 'Internal error' } },
      });

      const statuses: number[] = [];
      for (let i = 0; i < 3; i++)
        statuses.push((await books(token, '/contacts', { orgId })).status);

      expect(statuses).toStrictEqual([500, 500, 200]);
      expect(zoho.stats().organizations[orgId]).toMatchObject({
        dailyUsed: 3,
        byStatus: { '500': 2, '200': 1 },
      });
    });

    it('drops the connection without counting the call', async () => {
      const { orgId, token } = await booksSetup();
      zoho.injectFault({
        pathPattern: /\/contacts$/,
        organizationId: orgId,
        times: 1,
        dropConnection: true,
      });

      await expect(books(token, '/contacts', { orgId })).rejects.toThrow();

      expect((await books(token, '/contacts', { orgId })).status).toBe(200);
      expect(zoho.stats().organizations[orgId]).toMatchObject({
        dailyUsed: 1,
        byStatus: { dropped: 1, '200': 1 },
      });
    });

    it('faults the token endpoint too', async () => {
      const client = newClient();
      const faultId = zoho.injectFault({
        pathPattern: '^/oauth/v2/token$',
        response: { status: 503 },
      });

      expect((await refresh(client)).status).toBe(503);

      zoho.removeFault(faultId);
      expect((await refresh(client)).status).toBe(200);
    });
  });

  describe('CRM', () => {
    it('returns a record under data, keeping only the requested fields', async () => {
      const token = await accessTokenFor(newClient());
      zoho.putCrmRecord('Accounts', crmAccount('4150868000000001001', { Account_Name: 'Acme' }));

      const whole = await crm(token, '/Accounts/4150868000000001001');
      const projected = await crm(token, '/Accounts/4150868000000001001?fields=Account_Name,Phone');

      expect(whole.status).toBe(200);
      expect(((await jsonOf(whole)).data as unknown[])[0]).toMatchObject({
        id: '4150868000000001001',
        Account_Name: 'Acme',
        Billing_City: 'Springfield',
      });
      expect(await jsonOf(projected)).toStrictEqual({
        data: [{ id: '4150868000000001001', Account_Name: 'Acme', Phone: '+1 555 0100' }],
      });
    });

    it('answers 204 with no body for a missing record and for ids that match nothing', async () => {
      const token = await accessTokenFor(newClient());
      zoho.putCrmRecord('Deals', { id: '4150868000000002001', Deal_Name: 'Gone' });
      zoho.deleteCrmRecord('Deals', '4150868000000002001');

      const byId = await crm(token, '/Deals/4150868000000002001');
      const byIds = await crm(token, '/Deals?ids=4150868000000002001&fields=Deal_Name');

      expect(byId.status).toBe(204);
      expect(await byId.text()).toBe('');
      expect(byIds.status).toBe(204);
    });

    it('reads several records by ids, and needs fields for it', async () => {
      const token = await accessTokenFor(newClient());
      zoho.putCrmRecord('Products', { id: '4150868000000003001', Product_Name: 'A' });
      zoho.putCrmRecord('Products', { id: '4150868000000003002', Product_Name: 'B' });

      const found = await jsonOf(
        await crm(
          token,
          '/Products?ids=4150868000000003002,4150868000000003001&fields=Product_Name',
        ),
      );
      const withoutFields = await crm(token, '/Products?ids=4150868000000003001');

      expect(found).toStrictEqual({
        data: [
          { id: '4150868000000003002', Product_Name: 'B' },
          { id: '4150868000000003001', Product_Name: 'A' },
        ],
        info: { per_page: 2, count: 2, page: 1, more_records: false },
      });
      expect(withoutFields.status).toBe(400);
      expect((await jsonOf(withoutFields)).code).toBe('REQUIRED_PARAM_MISSING');
    });

    it('answers INVALID_MODULE to an unknown module', async () => {
      const token = await accessTokenFor(newClient());

      const response = await crm(token, '/Widgets/1');

      expect(response.status).toBe(400);
      expect(await jsonOf(response)).toStrictEqual({
        code: 'INVALID_MODULE',
        details: { resource_path_index: 0 },
        message: 'The module name given seems to be invalid',
        status: 'error',
      });
    });
  });

  describe('admin endpoints', () => {
    const admin = (method: string, path: string, body?: unknown) =>
      fetch(`${zoho.baseUrl}/__simulator${path}`, {
        method,
        ...(body === undefined
          ? {}
          : { headers: { 'Content-Type': 'application/json' }, body: JSON.stringify(body) }),
      });

    it('upserts CRM records and injects and clears faults, without being counted', async () => {
      const { orgId, token } = await booksSetup();

      expect(
        (
          await admin('POST', '/crm/Accounts', {
            id: '4150868000000004001',
            Account_Name: 'Via admin',
          })
        ).status,
      ).toBe(200);
      const fault = await admin('POST', '/faults', {
        pathPattern: '^/books/v3/items$',
        organizationId: orgId,
        response: { status: 500, body: { code: 1000, message: 'Internal error' } },
      });
      expect(fault.status).toBe(201);
      expect((await books(token, '/items', { orgId })).status).toBe(500);
      expect((await admin('DELETE', '/faults')).status).toBe(200);
      expect((await books(token, '/items', { orgId })).status).toBe(200);
      expect((await jsonOf(await crm(token, '/Accounts/4150868000000004001'))).data).toStrictEqual([
        // Modified_Time is stamped from the simulator clock, as a CRM save would.
        { id: '4150868000000004001', Account_Name: 'Via admin', Modified_Time: expect.any(String) },
      ]);
      expect(zoho.stats().organizations[orgId]?.calls).toBe(2);
    });

    it('rejects a CRM record without a numeric id and a fault without an effect', async () => {
      expect((await admin('POST', '/crm/Accounts', { id: 'acc-1' })).status).toBe(400);
      expect((await admin('POST', '/crm/Nonsense', { id: '1' })).status).toBe(400);
      expect((await admin('POST', '/faults', { pathPattern: '/x' })).status).toBe(400);
    });

    it('expires tokens and reports the state', async () => {
      const { orgId, token } = await booksSetup();
      await books(token, '/contacts', {
        orgId,
        method: 'POST',
        body: { contact_name: 'State Ltd' },
      });

      expect((await admin('POST', '/expire-tokens')).status).toBe(200);
      expect((await books(token, '/contacts', { orgId })).status).toBe(401);

      const state = await jsonOf(await admin('GET', '/state'));
      const organizations = state.organizations as {
        organizationId: string;
        contacts: unknown[];
      }[];
      expect(organizations.find((o) => o.organizationId === orgId)?.contacts).toStrictEqual([
        expect.objectContaining({ contact_name: 'State Ltd' }),
      ]);
      expect(state.stats).toMatchObject({
        organizations: { [orgId]: { calls: 1, dailyUsed: 1 } },
      });
    });
  });
});
