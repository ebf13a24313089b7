import { UpdateItemCommand } from '@aws-sdk/client-dynamodb';
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import { tableKeys, toKeyAttributes } from '../../lib/aws';
import { CRASH_ENV, type CrashEvent, type CrashPoint, onCrash } from '../../lib/crash-point';
import { CONNECTION_ID, type Pipeline, startPipeline } from '../helpers/pipeline';
import { drainQueue, queueDepth } from '../helpers/queues';

/**
 * Kills the worker at each named crash point (lib/crash-point.ts, `hang` mode: the code stops
 * there for good, as in a dead container), then lets SQS redeliver to a new container: one
 * Books record, its mapping, an empty queue and DLQ, and no extra Books write.
 */

type WorkerHandler = typeof import('../../functions/sync-worker')['handler'];

describe('crash points: a worker killed at the worst moments loses and duplicates nothing', () => {
  let pipeline: Pipeline;

  beforeAll(async () => {
    pipeline = await startPipeline({ visibilityTimeoutSeconds: 1 });
  });
  afterEach(() => {
    delete process.env[CRASH_ENV.points];
  });
  afterAll(async () => {
    await pipeline?.stop();
  });

  /** A new Lambda container: fresh module state, as after a real crash. */
  const newContainer = async (): Promise<{
    worker: WorkerHandler;
    onCrashHere: typeof onCrash;
  }> => {
    vi.resetModules();
    const worker = (await import('../../functions/sync-worker')).handler;
    const { onCrash: onCrashHere } = await import('../../lib/crash-point');
    return { worker, onCrashHere };
  };

  const drainWith = (worker: WorkerHandler) =>
    drainQueue({
      sqs: pipeline.env.clients.sqs,
      queueUrl: pipeline.env.resources.syncQueueUrl,
      queueArn: pipeline.env.resources.syncQueueArn,
      handler: (event, context) => worker(event, context),
    });

  /** Runs one container with the point armed until it crashes there. */
  const crashAt = async (point: CrashPoint): Promise<CrashEvent> => {
    process.env[CRASH_ENV.points] = `${point}=1`;
    const { worker, onCrashHere } = await newContainer();
    const offs: Array<() => void> = [];
    const crashed = new Promise<CrashEvent>((resolve) => {
      // The local SQS poller (static import) and the new container each have their module.
      offs.push(onCrash(resolve), onCrashHere(resolve));
    });
    const drained = drainWith(worker).then(() => 'drained without crashing' as const);
    const outcome = await Promise.race([crashed, drained]);
    for (const off of offs) off();
    delete process.env[CRASH_ENV.points];
    if (outcome === 'drained without crashing') throw new Error(`never reached ${point}`);
    return outcome;
  };

  /** What time does to a dead worker's leases (30 s): run out. The test moves them to the past. */
  const expireLeases = async (crmRecordId: string) => {
    const { dynamodb } = pipeline.env.clients;
    const TableName = pipeline.env.resources.tableName;
    await dynamodb
      .send(
        new UpdateItemCommand({
          TableName,
          Key: toKeyAttributes(tableKeys.recordMapping(CONNECTION_ID, 'Accounts', crmRecordId)),
          UpdateExpression: 'SET leaseUntilMs = :past',
          ConditionExpression: 'attribute_exists(leaseUntilMs)',
          ExpressionAttributeValues: { ':past': { N: '0' } },
        }),
      )
      .catch(() => undefined);
    await dynamodb
      .send(
        new UpdateItemCommand({
          TableName,
          Key: toKeyAttributes(tableKeys.tokenRefreshLease(CONNECTION_ID)),
          UpdateExpression: 'SET leaseExpiresAtMs = :past',
          ConditionExpression: 'attribute_exists(leaseExpiresAtMs)',
          ExpressionAttributeValues: { ':past': { N: '0' } },
        }),
      )
      .catch(() => undefined);
  };

  /** A new container drains until SQS has redelivered everything and the queue is empty. */
  const recover = async (crmRecordId: string) => {
    await expireLeases(crmRecordId);
    const { worker } = await newContainer();
    await vi.waitFor(
      async () => {
        await drainWith(worker);
        expect(
          await queueDepth(pipeline.env.clients.sqs, pipeline.env.resources.syncQueueUrl),
        ).toBe(0);
      },
      { timeout: 20_000, interval: 300 },
    );
  };

  /** Books contact writes so far (each test syncs one record, so differences are its own). */
  const booksWrites = () =>
    pipeline.simulator
      .stats()
      .requests.filter(
        (request) =>
          /^\/books\/v3\/contacts/.test(request.path) &&
          (request.method === 'POST' || request.method === 'PUT') &&
          request.status < 300,
      ).length;

  const expectOneSyncedContact = async (crmRecordId: string) => {
    const contacts = pipeline.contactsFor(crmRecordId);
    expect(contacts).toHaveLength(1);
    expect(
      await queueDepth(pipeline.env.clients.sqs, pipeline.env.resources.deadLetterQueueUrl),
    ).toBe(0);
    return contacts[0];
  };

  const newAccount = async (crmRecordId: string) => {
    pipeline.simulator.putCrmRecord('Accounts', {
      id: crmRecordId,
      Account_Name: `Crash ${crmRecordId}`,
    });
    expect((await pipeline.send(`module=Accounts&id=${crmRecordId}`)).statusCode).toBe(202);
  };

  it('between the Books write and the mapping write: the replay finds the Books record', async () => {
    await newAccount('5300000000000000001');
    expect((await crashAt('before-mapping-write')).point).toBe('before-mapping-write');
    expect(pipeline.contactsFor('5300000000000000001')).toHaveLength(1);

    await recover('5300000000000000001');

    await expectOneSyncedContact('5300000000000000001');
  });

  it('after the Books write, before the SQS delete: the redelivered copy writes nothing', async () => {
    const writesBefore = booksWrites();
    await newAccount('5300000000000000002');
    await crashAt('before-sqs-delete');
    expect(booksWrites() - writesBefore).toBe(1);

    await recover('5300000000000000002');

    await expectOneSyncedContact('5300000000000000002');
    expect(booksWrites() - writesBefore).toBe(1);
  });

  it('during a token refresh: the next container refreshes again and syncs', async () => {
    pipeline.simulator.expireAccessTokens();
    await newAccount('5300000000000000003');
    const mintedBefore = pipeline.simulator.stats().accounts.total;
    await crashAt('during-token-refresh');

    await recover('5300000000000000003');

    await expectOneSyncedContact('5300000000000000003');
    // The orphaned token costs one more refresh, and Zoho refused none.
    const accounts = pipeline.simulator.stats().accounts.total;
    expect(accounts.tokensIssued - mintedBefore.tokensIssued).toBe(2);
    expect(accounts.accessDenied + accounts.invalidClient + accounts.invalidCode).toBe(
      mintedBefore.accessDenied + mintedBefore.invalidClient + mintedBefore.invalidCode,
    );
  });

  it('while a deferral is re-sent: both copies arrive, one Books record, one write', async () => {
    // Prepare: another worker holds the record's lease for 2 s, so this one defers.
    const writesBefore = booksWrites();
    await newAccount('5300000000000000004');
    await pipeline.env.clients.dynamodb.send(
      new UpdateItemCommand({
        TableName: pipeline.env.resources.tableName,
        Key: toKeyAttributes(
          tableKeys.recordMapping(CONNECTION_ID, 'Accounts', '5300000000000000004'),
        ),
        UpdateExpression: 'SET leaseOwner = :other, leaseUntilMs = :until',
        ExpressionAttributeValues: {
          ':other': { S: 'another-worker' },
          ':until': { N: String(Date.now() + 2_000) },
        },
      }),
    );
    await crashAt('after-deferral-resent');

    await new Promise((resolve) => setTimeout(resolve, 2_100));
    await recover('5300000000000000004');

    await expectOneSyncedContact('5300000000000000004');
    expect(booksWrites() - writesBefore).toBe(1);
  });
});
