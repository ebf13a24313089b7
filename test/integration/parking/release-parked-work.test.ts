import { PutItemCommand } from '@aws-sdk/client-dynamodb';
import { ReceiveMessageCommand } from '@aws-sdk/client-sqs';
import { beforeAll, describe, expect, it } from 'vitest';
import { tableKeys, toKeyAttributes } from '../../../lib/aws';
import { logger } from '../../../lib/observability';
import {
  breakerShelf,
  createParkedWorkStore,
  type ParkedWorkStore,
  releaseParkedWork,
  SCHEDULED_SHELF,
} from '../../../lib/parking';
import { createTestEnvironment, type TestEnvironment } from '../../helpers/local-environment';
import { queueDepth } from '../../helpers/queues';

const NOW = Date.parse('2035-02-20T00:00:00.000Z');

describe('releaseParkedWork', () => {
  let env: TestEnvironment;
  let store: ParkedWorkStore;

  const park = (messageId: string, releaseAtMs: number) =>
    store.park(SCHEDULED_SHELF, {
      messageId,
      connectionId: 'acme',
      body: JSON.stringify({ messageId }),
      atMs: releaseAtMs,
    });
  const due = async (dueByMs: number, limit: number) =>
    store.list(SCHEDULED_SHELF, { dueByMs, limit });
  const release = (parked: ParkedWorkStore = store) =>
    releaseParkedWork({
      parked,
      sqs: env.clients.sqs,
      syncQueueUrl: env.resources.syncQueueUrl,
      now: () => NOW,
      logger,
    });
  const visibleBodies = async (): Promise<string[]> => {
    const result = await env.clients.sqs.send(
      new ReceiveMessageCommand({
        QueueUrl: env.resources.syncQueueUrl,
        MaxNumberOfMessages: 10,
        WaitTimeSeconds: 0,
        VisibilityTimeout: 0,
      }),
    );
    return (result.Messages ?? []).map((message) => message.Body ?? '');
  };

  beforeAll(async () => {
    env = await createTestEnvironment();
    store = createParkedWorkStore({
      dynamodb: env.clients.dynamodb,
      tableName: env.resources.tableName,
    });
  });

  it('releases what is due now and what falls due within the look-ahead, and nothing later', async () => {
    await park('due-already', NOW - 1_000);
    await park('due-in-ten-minutes', NOW + 600_000);
    await park('due-in-an-hour', NOW + 3_600_000);

    expect(await release()).toStrictEqual({ released: 2, more: false });

    // The one due now is visible at once; the other waits in SQS for the rest of its time.
    expect(await visibleBodies()).toStrictEqual([JSON.stringify({ messageId: 'due-already' })]);
    expect(await queueDepth(env.clients.sqs, env.resources.syncQueueUrl)).toBe(2);
    expect((await due(NOW + 86_400_000, 10)).map((message) => message.messageId)).toStrictEqual([
      'due-in-an-hour',
    ]);
  });

  it('sends a message again rather than lose it when a run dies between send and delete', async () => {
    await park('crash-victim', NOW - 5_000);
    const before = await queueDepth(env.clients.sqs, env.resources.syncQueueUrl);
    const crashing: ParkedWorkStore = {
      ...store,
      remove: async () => {
        throw new Error('the function timed out');
      },
    };

    await expect(release(crashing)).rejects.toThrow('the function timed out');
    expect(await queueDepth(env.clients.sqs, env.resources.syncQueueUrl)).toBe(before + 1);
    expect((await due(NOW, 10)).map((message) => message.messageId)).toStrictEqual([
      'crash-victim',
    ]);

    // The next run sends it again (a harmless duplicate: every Books write is an upsert) and
    // this time removes it.
    expect(await release()).toStrictEqual({ released: 1, more: false });
    expect(await queueDepth(env.clients.sqs, env.resources.syncQueueUrl)).toBe(before + 2);
    expect(await due(NOW, 10)).toStrictEqual([]);
  });

  it('parks the same message for the same time only once', async () => {
    await park('twice', NOW + 7_200_000);
    await park('twice', NOW + 7_200_000);
    const parked = await due(NOW + 86_400_000, 10);
    expect(parked.filter((message) => message.messageId === 'twice')).toHaveLength(1);
  });

  it('leaves work parked behind a breaker to the breaker, and parks it only while the condition holds', async () => {
    const shelf = breakerShelf('held-by-breaker');
    const work = {
      messageId: 'behind',
      connectionId: 'held-by-breaker',
      body: '{}',
      atMs: NOW - 60_000,
    };
    const breakerKey = tableKeys.circuitBreaker('held-by-breaker');
    await env.clients.dynamodb.send(
      new PutItemCommand({
        TableName: env.resources.tableName,
        Item: { ...toKeyAttributes(breakerKey), openedAtMs: { N: '1' } },
      }),
    );
    const openedAt = (openedAtMs: number) => ({
      key: breakerKey,
      expression: 'openedAtMs = :opened',
      values: { ':opened': { N: String(openedAtMs) } },
    });

    expect(await store.park(shelf, work, openedAt(2))).toBe(false);
    expect(await store.count(shelf)).toBe(0);
    expect(await store.park(shelf, work, openedAt(1))).toBe(true);

    await release();
    expect((await store.list(shelf)).map((message) => message.messageId)).toStrictEqual(['behind']);
    expect(await store.count(shelf)).toBe(1);
  });
});
