import { GetMetricStatisticsCommand } from '@aws-sdk/client-cloudwatch';
import { QueryCommand } from '@aws-sdk/client-dynamodb';
import { GetQueueAttributesCommand } from '@aws-sdk/client-sqs';
import { parkingShelfPk, TABLE_KEY, tableKeys } from '../aws';
import type { Connection } from '../config';
import { readBudgetSnapshot } from '../limits';
import { createNotificationChannelStore } from '../notifications';
import { SCHEDULED_SHELF } from '../parking';
import { createConnectionAccess } from '../tokens';
import { type CliIo, formatCount, formatDuration, formatTime, painter } from './cli-io';
import type { CliTarget } from './cli-target';
import type { CliContext } from './commands';

/** The queues are shared by every connection: their figures are the same in each report. */
export interface QueueStatus {
  readonly visible: number;
  /** Received by a worker and not yet deleted. */
  readonly inFlight: number;
  /** Sent with a delay: mostly work deferred to the next budget window. */
  readonly delayed: number;
  /**
   * Age of the oldest message, from CloudWatch's `ApproximateAgeOfOldestMessage` (SQS has no
   * attribute for it). Undefined locally, or when CloudWatch has no datapoint yet.
   */
  readonly oldestMessageAgeSeconds: number | undefined;
  readonly oldestMessageAgeSource: string;
  readonly deadLettered: number;
}

export interface ConnectionStatus {
  readonly connectionId: string;
  /** False when no valid secret exists for the id. */
  readonly found: boolean;
  readonly problem?: string;
  readonly booksOrganizationId?: string;
  readonly quota?: {
    readonly day: string;
    readonly used: number;
    readonly limit: number;
    /** Zoho's own remaining count, from its X-Rate-Limit headers, when it sent them. */
    readonly zohoRemaining: number | undefined;
    readonly resetsAtMs: number;
  };
  readonly budget?: {
    readonly windowStartMs: number;
    readonly windowEndMs: number;
    readonly used: number;
    readonly limit: number;
    readonly inFlight: number;
    readonly maxInFlight: number;
  };
  readonly breaker?: { readonly state: string; readonly since?: number; readonly code?: string };
  /** Messages deferred past SQS's 15-minute delay (a spent day), waiting in the table. */
  readonly deferred?: number;
  /** Messages held back by an open circuit breaker. */
  readonly parked?: number;
  readonly channel?: { readonly channelId: string; readonly expiresAtMs: number } | null;
  /** When the reconciliation sweep last moved a cursor of this connection. */
  readonly lastSweepAtMs?: number | null;
}

export interface StatusReport {
  readonly atMs: number;
  readonly queue: QueueStatus;
  readonly connections: readonly ConnectionStatus[];
}

const queueName = (queueUrl: string): string => queueUrl.split('/').pop() ?? queueUrl;

const queueAttributes = async (target: CliTarget, queueUrl: string) => {
  const result = await target.clients.sqs.send(
    new GetQueueAttributesCommand({
      QueueUrl: queueUrl,
      AttributeNames: [
        'ApproximateNumberOfMessages',
        'ApproximateNumberOfMessagesNotVisible',
        'ApproximateNumberOfMessagesDelayed',
      ],
    }),
  );
  const attributes = result.Attributes ?? {};
  return {
    visible: Number(attributes.ApproximateNumberOfMessages ?? 0),
    inFlight: Number(attributes.ApproximateNumberOfMessagesNotVisible ?? 0),
    delayed: Number(attributes.ApproximateNumberOfMessagesDelayed ?? 0),
  };
};

const oldestMessageAge = async (
  target: CliTarget,
  nowMs: number,
): Promise<{ seconds: number | undefined; source: string }> => {
  if (target.cloudwatch === undefined) {
    return {
      seconds: undefined,
      source:
        'not available locally: SQS has no attribute for it; a deployed stack reads the CloudWatch metric ApproximateAgeOfOldestMessage',
    };
  }
  const result = await target.cloudwatch.send(
    new GetMetricStatisticsCommand({
      Namespace: 'AWS/SQS',
      MetricName: 'ApproximateAgeOfOldestMessage',
      Dimensions: [{ Name: 'QueueName', Value: queueName(target.config.syncQueueUrl) }],
      StartTime: new Date(nowMs - 15 * 60_000),
      EndTime: new Date(nowMs),
      Period: 60,
      Statistics: ['Maximum'],
    }),
  );
  const latest = [...(result.Datapoints ?? [])]
    .filter((point) => point.Timestamp !== undefined && point.Maximum !== undefined)
    .sort((a, b) => (b.Timestamp?.getTime() ?? 0) - (a.Timestamp?.getTime() ?? 0))[0];
  return {
    seconds: latest?.Maximum,
    source: 'CloudWatch AWS/SQS ApproximateAgeOfOldestMessage (1-minute maximum, latest point)',
  };
};

/** Work parked past SQS's maximum delay (tableKeys.parkedWork), for one connection. */
const countDeferred = async (target: CliTarget, connectionId: string): Promise<number> => {
  let count = 0;
  let startKey: Record<string, import('@aws-sdk/client-dynamodb').AttributeValue> | undefined;
  do {
    const page = await target.clients.dynamodb.send(
      new QueryCommand({
        TableName: target.config.tableName,
        KeyConditionExpression: '#pk = :pk',
        FilterExpression: 'connectionId = :connection',
        ExpressionAttributeNames: { '#pk': TABLE_KEY.partition },
        ExpressionAttributeValues: {
          ':pk': { S: parkingShelfPk(SCHEDULED_SHELF) },
          ':connection': { S: connectionId },
        },
        Select: 'COUNT',
        ...(startKey === undefined ? {} : { ExclusiveStartKey: startKey }),
      }),
    );
    count += page.Count ?? 0;
    startKey = page.LastEvaluatedKey;
  } while (startKey !== undefined);
  return count;
};

const lastSweep = async (target: CliTarget, connectionId: string): Promise<number | null> => {
  const prefix = tableKeys.reconcileCursor(connectionId, '');
  const page = await target.clients.dynamodb.send(
    new QueryCommand({
      TableName: target.config.tableName,
      KeyConditionExpression: '#pk = :pk AND begins_with(#sk, :sk)',
      ExpressionAttributeNames: { '#pk': TABLE_KEY.partition, '#sk': TABLE_KEY.sort },
      ExpressionAttributeValues: { ':pk': { S: prefix.pk }, ':sk': { S: prefix.sk } },
    }),
  );
  const times = (page.Items ?? []).flatMap((item) =>
    item.updatedAtMs?.N === undefined ? [] : [Number(item.updatedAtMs.N)],
  );
  return times.length === 0 ? null : Math.max(...times);
};

/** Everything `status` shows, read without calling Zoho. */
export const collectStatus = async (
  target: CliTarget,
  context: CliContext,
  connectionIds: readonly string[] | undefined,
): Promise<StatusReport> => {
  const nowMs = context.now();
  const access = createConnectionAccess({ config: target.config, clients: target.clients });
  const ids = connectionIds ?? (await access.listConnectionIds());
  const channels = createNotificationChannelStore({
    dynamodb: target.clients.dynamodb,
    tableName: target.config.tableName,
  });
  const [sync, dead, age] = await Promise.all([
    queueAttributes(target, target.config.syncQueueUrl),
    queueAttributes(target, target.config.deadLetterQueueUrl ?? ''),
    oldestMessageAge(target, nowMs),
  ]);
  const connections: ConnectionStatus[] = [];
  for (const connectionId of ids) {
    let connection: Connection | undefined;
    try {
      connection = await access.connections.get(connectionId);
    } catch (error) {
      connections.push({
        connectionId,
        found: false,
        problem: error instanceof Error ? error.message : String(error),
      });
      continue;
    }
    if (connection === undefined) {
      connections.push({ connectionId, found: false, problem: 'no connection secret' });
      continue;
    }
    const [limits, breaker, deferred, channel, sweptAt] = await Promise.all([
      readBudgetSnapshot(
        { dynamodb: target.clients.dynamodb, tableName: target.config.tableName },
        connection,
        nowMs,
      ),
      context.breaker.status(connectionId),
      countDeferred(target, connectionId),
      channels.get(connectionId),
      lastSweep(target, connectionId),
    ]);
    connections.push({
      connectionId,
      found: true,
      booksOrganizationId: connection.booksOrganizationId,
      quota: {
        day: limits.quota.day,
        used: limits.quota.used,
        limit: limits.quota.limit,
        zohoRemaining: limits.quota.zohoRemaining,
        resetsAtMs: limits.quota.resetsAtMs,
      },
      budget: {
        windowStartMs: limits.window.startMs,
        windowEndMs: limits.window.endMs,
        used: limits.window.used,
        limit: limits.window.limit,
        inFlight: limits.window.inFlight,
        maxInFlight: limits.window.maxInFlight,
      },
      breaker:
        breaker.state === 'closed'
          ? { state: 'closed' }
          : { state: breaker.state, since: breaker.openedAtMs, code: breaker.code },
      deferred,
      parked: breaker.parkedMessages,
      channel:
        channel === undefined
          ? null
          : { channelId: channel.channelId, expiresAtMs: channel.expiresAtMs },
      lastSweepAtMs: sweptAt,
    });
  }
  return {
    atMs: nowMs,
    queue: {
      ...sync,
      oldestMessageAgeSeconds: age.seconds,
      oldestMessageAgeSource: age.source,
      deadLettered: dead.visible + dead.inFlight + dead.delayed,
    },
    connections,
  };
};

const percent = (used: number, limit: number): string =>
  limit === 0 ? '-' : `${Math.round((used / limit) * 100)}%`;

export const renderStatus = (report: StatusReport, io: CliIo): string => {
  const paint = painter(io);
  const { queue } = report;
  const lines = [
    `Sync queue (all connections): ${formatCount(queue.visible)} waiting, ${formatCount(queue.inFlight)} in flight, ${formatCount(queue.delayed)} delayed`,
    `  oldest message: ${
      queue.oldestMessageAgeSeconds === undefined
        ? `unknown (${queue.oldestMessageAgeSource})`
        : `${formatDuration(queue.oldestMessageAgeSeconds * 1000)} old (${queue.oldestMessageAgeSource})`
    }`,
    `Dead-letter queue (all connections): ${formatCount(queue.deadLettered)} message(s)`,
  ];
  if (report.connections.length === 0) lines.push('', 'No connections.');
  for (const status of report.connections) {
    lines.push('', paint('bold', `Connection ${status.connectionId}`));
    if (!status.found) {
      lines.push(`  ${paint('red', status.problem ?? 'not found')}`);
      continue;
    }
    const { quota, budget, breaker } = status;
    if (quota !== undefined) {
      lines.push(
        `  quota today (${quota.day}): ${formatCount(quota.used)} / ${formatCount(quota.limit)} Books calls (${percent(quota.used, quota.limit)})${
          quota.zohoRemaining === undefined
            ? ''
            : `; Zoho says ${formatCount(quota.zohoRemaining)} left`
        }; resets ${formatTime(quota.resetsAtMs)} (in ${formatDuration(quota.resetsAtMs - report.atMs)})`,
      );
    }
    if (budget !== undefined) {
      lines.push(
        `  budget this window: ${budget.used} / ${budget.limit} (window ends ${formatTime(budget.windowEndMs)}); in flight ${budget.inFlight} / ${budget.maxInFlight}`,
      );
    }
    if (breaker !== undefined) {
      lines.push(
        `  breaker: ${
          breaker.state === 'closed'
            ? paint('green', 'closed')
            : paint(
                'red',
                `${breaker.state.toUpperCase()} since ${formatTime(breaker.since)} (${breaker.code})`,
              )
        }`,
      );
    }
    lines.push(
      `  deferred (parked until the budget frees): ${formatCount(status.deferred ?? 0)}; held by the breaker: ${formatCount(status.parked ?? 0)}`,
    );
    lines.push(
      `  notification channel: ${
        status.channel === null || status.channel === undefined
          ? paint('yellow', 'none')
          : `${status.channel.channelId}, expires ${formatTime(status.channel.expiresAtMs)} (in ${formatDuration(status.channel.expiresAtMs - report.atMs)})`
      }`,
    );
    lines.push(
      `  last sweep: ${
        status.lastSweepAtMs === null || status.lastSweepAtMs === undefined
          ? 'never'
          : `${formatTime(status.lastSweepAtMs)} (${formatDuration(report.atMs - status.lastSweepAtMs)} ago)`
      }`,
    );
  }
  return lines.join('\n');
};
