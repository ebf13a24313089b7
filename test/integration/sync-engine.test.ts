import { setTimeout as sleep } from 'node:timers/promises';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createReconcileSweepDeps, reconcileSweep } from '../../lib/reconcile';
import { createSyncWorkerDeps, handleSyncMessage, type SyncMessage } from '../../lib/sync';
import { lambdaContext, webhookEvent } from '../helpers/events';
import {
  CONNECTION_ID,
  ORG_ID,
  type Pipeline,
  startPipeline,
  WEBHOOK_SECRET,
} from '../helpers/pipeline';
import { queueDepth } from '../helpers/queues';

const MAPPED_CONNECTION_ID = 'acme-mapped';

/** CRM's format: whole seconds, coloned offset. */
const crmTime = (ms: number) => `${new Date(ms).toISOString().slice(0, 19)}+00:00`;

/**
 * The sync engine end to end (webhook handler -> SQS -> worker -> simulator): one Books write
 * per net change whichever way the change arrives, deletes, contact persons, the duplicate-name
 * policy and a custom-field mapping.
 */
describe('sync engine', () => {
  let pipeline: Pipeline;

  beforeAll(async () => {
    pipeline = await startPipeline({
      organization: { customFields: { contacts: ['cf_industry'] } },
    });
    await pipeline.env.putConnection(MAPPED_CONNECTION_ID, {
      ...pipeline.secret,
      mapping: {
        Accounts: {
          fields: { website: 'Company_Site' },
          customFields: { cf_industry: 'Industry' },
        },
      },
    });
  });

  afterAll(async () => {
    await pipeline?.stop();
  });

  const requests = () => pipeline.simulator.stats().requests;
  /** Requests made by `act`, as `METHOD path` strings. */
  const callsDuring = async (act: () => Promise<unknown>) => {
    const before = requests().length;
    await act();
    return requests()
      .slice(before)
      .map((request) => `${request.method} ${request.path}`);
  };
  const booksCalls = (calls: readonly string[]) => calls.filter((call) => call.includes('/books/'));
  const crmCalls = (calls: readonly string[]) => calls.filter((call) => call.includes('/crm/'));

  const webhook = (crmModule: string, id: string, connectionId = CONNECTION_ID) =>
    pipeline.send(`module=${crmModule}&id=${id}`, { token: WEBHOOK_SECRET, connectionId });
  const notification = (crmModule: string, ids: string[], operation = 'update') =>
    pipeline.webhook(
      webhookEvent({
        connectionId: CONNECTION_ID,
        route: 'notifications',
        contentType: 'application/json',
        token: WEBHOOK_SECRET,
        body: JSON.stringify({
          module: crmModule,
          ids,
          operation,
          channel_id: '1000000068001',
          token: WEBHOOK_SECRET,
        }),
      }),
      lambdaContext('crm-webhook'),
    );
  const sweep = () =>
    reconcileSweep(
      createReconcileSweepDeps({ config: pipeline.env.config, clients: pipeline.env.clients }),
      { connectionIds: [CONNECTION_ID] },
    );
  /** Drains until nothing is left, deferred (briefly delayed) messages included. */
  const settle = async () => {
    for (let round = 0; round < 40; round += 1) {
      await pipeline.drain();
      if ((await queueDepth(pipeline.env.clients.sqs, pipeline.env.resources.syncQueueUrl)) === 0) {
        return;
      }
      await sleep(250);
    }
    throw new Error('the sync queue did not empty');
  };
  const contactOf = (crmRecordId: string) => pipeline.contactsFor(crmRecordId);

  it('writes Books once for one change announced by webhook, notification and sweep', async () => {
    pipeline.simulator.putCrmRecord('Accounts', { id: '5101', Account_Name: 'Three Paths Ltd' });
    const first = await callsDuring(async () => {
      await webhook('Accounts', '5101');
      await settle();
    });
    const later = await callsDuring(async () => {
      await notification('Accounts', ['5101']);
      await settle();
      const summary = await sweep();
      await settle();
      expect(summary.enqueued).toBe(0);
    });
    expect(booksCalls(first)).toStrictEqual(['PUT /books/v3/contacts']);
    // The notification's copy read CRM and found Books up to date; the sweep did not enqueue.
    expect(booksCalls(later)).toStrictEqual([]);
    expect(contactOf('5101')).toHaveLength(1);
  });

  it('writes Books once when all three copies arrive before the worker runs', async () => {
    pipeline.simulator.putCrmRecord('Accounts', { id: '5102', Account_Name: 'All At Once Ltd' });
    const calls = await callsDuring(async () => {
      await webhook('Accounts', '5102');
      await notification('Accounts', ['5102']);
      expect((await sweep()).enqueued).toBeGreaterThanOrEqual(1);
      await settle();
    });
    expect(booksCalls(calls)).toStrictEqual(['PUT /books/v3/contacts']);
    expect(crmCalls(calls).filter((call) => call.includes('/Accounts/5102'))).toHaveLength(1);
    expect(contactOf('5102')).toHaveLength(1);
  });

  it('writes five quick edits once, with the last version', async () => {
    const calls = await callsDuring(async () => {
      for (let edit = 1; edit <= 5; edit += 1) {
        pipeline.simulator.putCrmRecord('Accounts', {
          id: '5201',
          Account_Name: `Edit ${edit} Ltd`,
        });
        await webhook('Accounts', '5201');
      }
      await settle();
    });
    expect(booksCalls(calls)).toHaveLength(1);
    expect(crmCalls(calls)).toStrictEqual(['GET /crm/v8/Accounts/5201']);
    expect(contactOf('5201')).toStrictEqual([
      expect.objectContaining({ contact_name: 'Edit 5 Ltd' }),
    ]);
  });

  it('never leaves the older of an out-of-order pair in Books', async () => {
    const nowMs = Math.floor(Date.now() / 1000) * 1000;
    const older = { id: '5301', Account_Name: 'Older Ltd', Modified_Time: crmTime(nowMs - 10_000) };
    const newer = { id: '5301', Account_Name: 'Newer Ltd', Modified_Time: crmTime(nowMs) };
    pipeline.simulator.putCrmRecord('Accounts', newer);
    await webhook('Accounts', '5301');
    await settle();

    // A worker that read the record before the newer write landed (a batch read), late.
    const deps = createSyncWorkerDeps({
      config: pipeline.env.config,
      clients: pipeline.env.clients,
    });
    const message: SyncMessage = {
      version: 1,
      messageId: 'late-copy',
      correlationId: 'late-copy',
      connectionId: CONNECTION_ID,
      crmModule: 'Accounts',
      crmRecordId: '5301',
      source: 'notification',
      receivedAtMs: nowMs - 10_000,
      attempt: 0,
      deferrals: 0,
    };
    const calls = await callsDuring(async () => {
      const late = await handleSyncMessage(deps, JSON.stringify(message), { prefetched: older });
      expect(late).toMatchObject({ status: 'unchanged' });
      // Same second as Books holds, other content: re-read under the lease, which finds "Newer".
      const sameSecond = { ...older, Modified_Time: newer.Modified_Time };
      const tie = await handleSyncMessage(deps, JSON.stringify(message), {
        prefetched: sameSecond,
      });
      expect(tie).toMatchObject({ status: 'unchanged' });
    });
    expect(booksCalls(calls)).toStrictEqual([]);
    expect(contactOf('5301')).toStrictEqual([
      expect.objectContaining({ contact_name: 'Newer Ltd' }),
    ]);
  });

  it('marks the Books contact and item inactive when CRM deletes them, and keeps invoices', async () => {
    pipeline.simulator.putCrmRecord('Accounts', { id: '5401', Account_Name: 'Deleted Ltd' });
    pipeline.simulator.putCrmRecord('Products', { id: '5402', Product_Name: 'Deleted Widget' });
    pipeline.simulator.putCrmRecord('Deals', {
      id: '5403',
      Deal_Name: 'Deleted Deal',
      Stage: 'Closed Won',
      Amount: 250,
      Account_Name: { id: '5401', name: 'Deleted Ltd' },
    });
    await webhook('Accounts', '5401');
    await webhook('Products', '5402');
    await webhook('Deals', '5403');
    await settle();
    const invoice = pipeline.simulator.books
      .invoices(ORG_ID)
      .find((entry) => entry.cf_crm_id === '5403');
    expect(invoice).toBeDefined();

    for (const [crmModule, id] of [
      ['Accounts', '5401'],
      ['Products', '5402'],
      ['Deals', '5403'],
    ] as const) {
      pipeline.simulator.deleteCrmRecord(crmModule, id);
      await notification(crmModule, [id], 'delete');
    }
    await settle();

    expect(contactOf('5401')).toStrictEqual([expect.objectContaining({ status: 'inactive' })]);
    const items = pipeline.simulator.books
      .items(ORG_ID)
      .filter((item) => item.cf_crm_id === '5402');
    expect(items).toStrictEqual([expect.objectContaining({ status: 'inactive' })]);
    expect(
      pipeline.simulator.books.invoices(ORG_ID).filter((entry) => entry.cf_crm_id === '5403'),
    ).toStrictEqual([expect.objectContaining({ invoice_id: invoice?.invoice_id })]);

    // A repeated delete event costs no Books call.
    const again = await callsDuring(async () => {
      await notification('Accounts', ['5401'], 'delete');
      await settle();
    });
    expect(booksCalls(again)).toStrictEqual([]);
  });

  it("makes an Account's CRM Contacts contact persons of its Books contact", async () => {
    pipeline.simulator.putCrmRecord('Accounts', { id: '5501', Account_Name: 'Persons Ltd' });
    const account = { id: '5501', name: 'Persons Ltd' };
    pipeline.simulator.putCrmRecord('Contacts', {
      id: '5502',
      First_Name: 'Ann',
      Last_Name: 'Lee',
      Email: 'ann@persons.example',
      Account_Name: account,
    });
    pipeline.simulator.putCrmRecord('Contacts', {
      id: '5503',
      First_Name: 'Bob',
      Last_Name: 'Ray',
      Email: 'bob@persons.example',
      Account_Name: account,
    });
    pipeline.simulator.putCrmRecord('Contacts', {
      id: '5504',
      First_Name: 'Solo',
      Last_Name: 'Sam',
    });
    await notification('Contacts', ['5502', '5503', '5504']);
    await settle();

    const [company] = contactOf('5501');
    const persons = () =>
      ((contactOf('5501')[0]?.contact_persons ?? []) as Record<string, unknown>[]).map(
        (person) => ({ id: person.contact_person_id, email: person.email, phone: person.phone }),
      );
    expect(company).toBeDefined();
    expect(
      persons()
        .map((person) => person.email)
        .sort(),
    ).toStrictEqual(['ann@persons.example', 'bob@persons.example']);
    expect(contactOf('5502')).toStrictEqual([]);
    expect(contactOf('5503')).toStrictEqual([]);
    expect(contactOf('5504')).toStrictEqual([
      expect.objectContaining({ contact_name: 'Solo Sam' }),
    ]);

    const annId = persons().find((person) => person.email === 'ann@persons.example')?.id;
    pipeline.simulator.putCrmRecord('Contacts', {
      id: '5502',
      First_Name: 'Ann',
      Last_Name: 'Lee',
      Email: 'ann@persons.example',
      Phone: '+1 555 0100',
      Account_Name: account,
    });
    await webhook('Contacts', '5502');
    await settle();
    expect(persons()).toHaveLength(2);
    expect(persons().find((person) => person.id === annId)?.phone).toBe('+1 555 0100');
  });

  it('links or renames on a duplicate contact name, as the default policy says', async () => {
    // Contacts created in Books by hand: one unlinked, one linked to another CRM record.
    const deps = createSyncWorkerDeps({
      config: pipeline.env.config,
      clients: pipeline.env.clients,
    });
    const connection = await deps.connections.get(CONNECTION_ID);
    if (connection === undefined) throw new Error('no connection');
    const token = await deps.tokens.getAccessToken(connection);
    const target = {
      apiDomain: token.apiDomain,
      accessToken: token.accessToken,
      organizationId: ORG_ID,
    };
    const unlinked = await deps.books.create(target, 'contacts', { contact_name: 'Linkable Ltd' });
    await deps.books.create(target, 'contacts', {
      contact_name: 'Taken Ltd',
      custom_fields: [{ api_name: 'cf_crm_id', value: '999999' }],
    });

    pipeline.simulator.putCrmRecord('Accounts', { id: '5601', Account_Name: 'Linkable Ltd' });
    pipeline.simulator.putCrmRecord('Accounts', { id: '5602', Account_Name: 'Taken Ltd' });
    await webhook('Accounts', '5601');
    await webhook('Accounts', '5602');
    await settle();

    expect(contactOf('5601')).toStrictEqual([
      expect.objectContaining({ contact_id: unlinked.booksId, contact_name: 'Linkable Ltd' }),
    ]);
    expect(contactOf('5602')).toStrictEqual([
      expect.objectContaining({ contact_name: 'Taken Ltd (CRM 5602)' }),
    ]);
    expect(contactOf('999999')).toStrictEqual([
      expect.objectContaining({ contact_name: 'Taken Ltd' }),
    ]);
  });

  it("maps CRM fields to Books fields and custom fields from the connection's mapping", async () => {
    pipeline.simulator.putCrmRecord('Accounts', {
      id: '5701',
      Account_Name: 'Mapped Mining Ltd',
      Website: 'https://default.example',
      Company_Site: 'https://mapped.example',
      Industry: 'Mining',
    });
    await webhook('Accounts', '5701', MAPPED_CONNECTION_ID);
    await settle();
    expect(contactOf('5701')).toStrictEqual([
      expect.objectContaining({ website: 'https://mapped.example', cf_industry: 'Mining' }),
    ]);
  });
});
