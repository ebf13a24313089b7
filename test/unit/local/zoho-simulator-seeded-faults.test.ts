import { afterEach, describe, expect, it } from 'vitest';
import {
  type SeededFaultPlan,
  startZohoSimulator,
  type ZohoSimulator,
} from '../../../lib/local/zoho-simulator';

/**
 * The seeded fault campaign a chaos run uses: the same seed faults the same calls, whatever
 * order they arrive in; the faults answer with the error bodies Zoho documents.
 */

const ORG_ID = '700900001';
const CLIENT = {
  clientId: '1000.SEEDEDFAULTS',
  clientSecret: 'seeded-faults-secret',
  refreshToken: '1000.seeded.refresh',
};

const simulators: ZohoSimulator[] = [];
afterEach(async () => {
  await Promise.all(simulators.splice(0).map((simulator) => simulator.stop()));
});

const start = async () => {
  const simulator = await startZohoSimulator();
  simulators.push(simulator);
  simulator.addClient(CLIENT);
  simulator.addOrganization({
    organizationId: ORG_ID,
    requestsPerWindow: 100_000,
    dailyLimit: 1_000_000,
  });
  const response = await fetch(`${simulator.baseUrl}/oauth/v2/token`, {
    method: 'POST',
    body: new URLSearchParams({
      grant_type: 'refresh_token',
      client_id: CLIENT.clientId,
      client_secret: CLIENT.clientSecret,
      refresh_token: CLIENT.refreshToken,
    }),
  });
  const { access_token: token } = (await response.json()) as { access_token: string };
  return { simulator, token };
};

/** One Books call for one record: its status and Zoho code, or how the connection failed. */
const callBooks = async (
  simulator: ZohoSimulator,
  token: string,
  crmRecordId: string,
  timeoutMs = 2_000,
): Promise<string> => {
  const url = `${simulator.baseUrl}/books/v3/contacts?organization_id=${ORG_ID}`;
  try {
    const response = await fetch(url, {
      method: 'POST',
      headers: { authorization: `Zoho-oauthtoken ${token}`, 'content-type': 'application/json' },
      body: JSON.stringify({
        contact_name: `Customer ${crmRecordId}`,
        custom_fields: [{ api_name: 'cf_crm_id', value: crmRecordId }],
      }),
      signal: AbortSignal.timeout(timeoutMs),
    });
    const body = (await response.json()) as { code?: unknown };
    return `${response.status}/${String(body.code)}`;
  } catch (error) {
    return (error as Error).name === 'TimeoutError' ? 'timeout' : 'dropped';
  }
};

const ids = Array.from({ length: 60 }, (_, index) =>
  String(4_900_000_000_000_000_000n + BigInt(index)),
);
const PLAN: SeededFaultPlan = {
  seed: 57,
  rates: { 'server-error': 0.15, 'dropped-connection': 0.1, 'too-many-requests': 0.1 },
};

describe('zoho-simulator: seeded fault campaign', () => {
  it('faults the same calls for the same seed, whatever order the calls arrive in', async () => {
    // Prepare: two fresh simulators with the same seed.
    const first = await start();
    const second = await start();
    first.simulator.seedFaults(PLAN);
    second.simulator.seedFaults(PLAN);

    // Act: the same calls, in order on one, concurrently and reversed on the other.
    const inOrder: string[] = [];
    for (const id of ids) inOrder.push(await callBooks(first.simulator, first.token, id));
    const reversed = await Promise.all(
      [...ids].reverse().map((id) => callBooks(second.simulator, second.token, id)),
    );

    // Assess
    expect(reversed.reverse()).toStrictEqual(inOrder);
    expect(first.simulator.seededFaultCounts()).toStrictEqual(second.simulator.seededFaultCounts());
    const faulted = inOrder.filter((outcome) => outcome !== '201/0');
    expect(faulted.length).toBeGreaterThan(5);
    expect(faulted.length).toBeLessThan(40);
  });

  it('draws another campaign for another seed, and faults a retried call independently', async () => {
    const first = await start();
    const second = await start();
    first.simulator.seedFaults(PLAN);
    second.simulator.seedFaults({ ...PLAN, seed: 58 });
    const a = await Promise.all(ids.map((id) => callBooks(first.simulator, first.token, id)));
    const b = await Promise.all(ids.map((id) => callBooks(second.simulator, second.token, id)));
    expect(a).not.toStrictEqual(b);
    // The second attempt of each call is a fresh draw: a faulted record gets through in time.
    const retried = await Promise.all(ids.map((id) => callBooks(first.simulator, first.token, id)));
    expect(retried).not.toStrictEqual(a);
  });

  it("answers with Zoho's documented bodies: 500 code 1000, 429 code 44, CRM INTERNAL_ERROR", async () => {
    const { simulator, token } = await start();
    simulator.seedFaults({ seed: 1, rates: { 'server-error': 1 } });
    const books = await fetch(`${simulator.baseUrl}/books/v3/contacts?organization_id=${ORG_ID}`, {
      headers: { authorization: `Zoho-oauthtoken ${token}` },
    });
    expect(books.status).toBe(500);
    expect(await books.json()).toStrictEqual({ code: 1000, message: 'Internal error' });
    const crm = await fetch(`${simulator.baseUrl}/crm/v8/Accounts/4876876000000345001`, {
      headers: { authorization: `Zoho-oauthtoken ${token}` },
    });
    expect(crm.status).toBe(500);
    expect(await crm.json()).toMatchObject({ code: 'INTERNAL_ERROR', status: 'error' });

    simulator.seedFaults({ seed: 1, rates: { 'too-many-requests': 1 } });
    const throttled = await fetch(
      `${simulator.baseUrl}/books/v3/contacts?organization_id=${ORG_ID}`,
      {
        headers: { authorization: `Zoho-oauthtoken ${token}` },
      },
    );
    expect(throttled.status).toBe(429);
    expect(((await throttled.json()) as { code: number }).code).toBe(44);
    expect(simulator.seededFaultCounts()['too-many-requests']).toBe(1);
  });

  it('times out a call that is still carried out, and slows one that is answered', async () => {
    const { simulator, token } = await start();
    simulator.seedFaults({ seed: 2, rates: { timeout: 1 }, timeoutMs: 600 });
    expect(await callBooks(simulator, token, '4900000000000000999', 200)).toBe('timeout');
    // The client gave up; Zoho still created the contact (the answer was lost, not the write).
    await new Promise((resolve) => setTimeout(resolve, 700));
    expect(simulator.books.contacts(ORG_ID).map((contact) => contact.cf_crm_id)).toContain(
      '4900000000000000999',
    );

    simulator.seedFaults({ seed: 2, rates: { slow: 1 }, slowMs: 300 });
    const startedAt = performance.now();
    expect(await callBooks(simulator, token, '4900000000000000998')).toBe('201/0');
    expect(performance.now() - startedAt).toBeGreaterThanOrEqual(290);
  });

  it('faults only the organizations and paths it is told to, and stops when unseeded', async () => {
    const { simulator, token } = await start();
    simulator.seedFaults({ seed: 3, rates: { 'dropped-connection': 1 }, organizationIds: ['1'] });
    expect(await callBooks(simulator, token, '4900000000000000001')).toBe('201/0');
    simulator.seedFaults({ seed: 3, rates: { 'dropped-connection': 1 } });
    expect(await callBooks(simulator, token, '4900000000000000002')).toBe('dropped');
    simulator.seedFaults(undefined);
    expect(await callBooks(simulator, token, '4900000000000000003')).toBe('201/0');
    expect(() => simulator.seedFaults({ seed: 1, rates: { slow: 0.6, timeout: 0.6 } })).toThrow(
      /at most 1/,
    );
  });
});
