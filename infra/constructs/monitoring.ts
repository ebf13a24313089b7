import { Duration } from 'aws-cdk-lib';
import type { HttpApi } from 'aws-cdk-lib/aws-apigatewayv2';
import {
  Alarm,
  AlarmStatusWidget,
  ComparisonOperator,
  Dashboard,
  GraphWidget,
  type IMetric,
  MathExpression,
  Stats,
  TreatMissingData,
} from 'aws-cdk-lib/aws-cloudwatch';
import { SnsAction } from 'aws-cdk-lib/aws-cloudwatch-actions';
import { Construct } from 'constructs';
import {
  METRIC_DIMENSIONS,
  METRIC_NAMESPACE,
  METRICS,
  type MetricName,
} from '../../lib/observability/metric-names';
import type { ZohoSyncFunction } from '../function-defaults';
import type { AlertTopic } from './alert-topic';
import type { SyncQueue } from './sync-queue';

/** Daily quota share that raises the quota alarm. */
export const QUOTA_ALARM_PERCENT = 80;
/** A sync message older than this means the worker is not keeping up (or not running). */
export const QUEUE_AGE_ALARM = Duration.hours(1);

const FIVE_MINUTES = Duration.minutes(5);

/** CloudWatch's dynamic label: the value a GROUP BY series stands for (a connection, a code). */
// biome-ignore lint/suspicious/noTemplateCurlyInString: CloudWatch label syntax, not JavaScript.
const GROUP_LABEL = '${LABEL}';

/**
 * A Metrics Insights query over one of our custom metrics. It aggregates over every dimension
 * set the emitter used (Powertools adds `service`; emitters add `connection` or `code`), which a
 * plain metric alarm cannot: that only matches data points with exactly its dimensions. With
 * GROUP BY, the label should contain {@link GROUP_LABEL}, or every series would carry the same
 * name.
 */
const insights = (
  aggregate: 'SUM' | 'MAX',
  metricName: MetricName,
  options: { groupBy?: string; label: string; period?: Duration },
): MathExpression =>
  new MathExpression({
    expression: `SELECT ${aggregate}(${metricName}) FROM "${METRIC_NAMESPACE}"${
      options.groupBy === undefined ? '' : ` GROUP BY ${options.groupBy}`
    }`,
    usingMetrics: {},
    label: options.label,
    period: options.period ?? FIVE_MINUTES,
  });

export interface MonitoredFunction {
  /** Short name used in alarm ids and labels, e.g. `Webhook`. */
  readonly name: string;
  readonly function: ZohoSyncFunction;
}

export interface MonitoringProps {
  readonly alerts: AlertTopic;
  readonly syncQueue: SyncQueue;
  readonly api: HttpApi;
  readonly worker: ZohoSyncFunction;
  /** Every other function; each gets an errors alarm. */
  readonly otherFunctions: readonly MonitoredFunction[];
  /** 429s from Zoho per 5 minutes that raise the alarm. */
  readonly tooManyRequestsThreshold: number;
}

/**
 * Alarms (all notify the alert topic, on alarm and on recovery) and the operations dashboard.
 */
export class Monitoring extends Construct {
  readonly alarms: Alarm[] = [];
  readonly dashboard: Dashboard;

  constructor(scope: Construct, id: string, props: MonitoringProps) {
    super(scope, id);
    const { syncQueue, api, worker } = props;
    const notify = new SnsAction(props.alerts.topic);
    const alarm = (
      alarmId: string,
      options: {
        metric: IMetric;
        threshold: number;
        comparison: ComparisonOperator;
        description: string;
        missingData?: TreatMissingData;
      },
    ): Alarm => {
      const created = new Alarm(this, alarmId, {
        metric: options.metric,
        threshold: options.threshold,
        comparisonOperator: options.comparison,
        evaluationPeriods: 1,
        // Custom metrics and Lambda errors only exist when something happened.
        treatMissingData: options.missingData ?? TreatMissingData.NOT_BREACHING,
        alarmDescription: options.description,
      });
      created.addAlarmAction(notify);
      created.addOkAction(notify);
      this.alarms.push(created);
      return created;
    };
    const atLeast = ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD;

    alarm('DeadLetterQueueNotEmpty', {
      metric: syncQueue.deadLetterQueue.metricApproximateNumberOfMessagesVisible({
        period: Duration.minutes(1),
        statistic: Stats.MAXIMUM,
      }),
      threshold: 0,
      comparison: ComparisonOperator.GREATER_THAN_THRESHOLD,
      // SQS stops publishing metrics for a queue that sees no activity for six hours; keep the
      // last state then, so a DLQ that still holds messages does not read as recovered.
      missingData: TreatMissingData.IGNORE,
      description:
        'zoho-sync dead-lettered at least one sync message. Each carries its error; the admin alert for it names the fix. Redrive from the DLQ once fixed.',
    });
    alarm('WorkerErrors', {
      metric: worker.function.metricErrors({ period: FIVE_MINUTES, statistic: Stats.SUM }),
      threshold: 1,
      comparison: atLeast,
      description:
        'The zoho-sync worker crashed or timed out (record failures are not errors: they go back to the queue). See its log group.',
    });
    for (const other of props.otherFunctions) {
      alarm(`${other.name}Errors`, {
        metric: other.function.function.metricErrors({
          period: FIVE_MINUTES,
          statistic: Stats.SUM,
        }),
        threshold: 1,
        comparison: atLeast,
        description: `The zoho-sync ${other.name} function failed. See its log group.`,
      });
    }
    alarm('SyncQueueBacklog', {
      metric: syncQueue.queue.metricApproximateAgeOfOldestMessage({
        period: FIVE_MINUTES,
        statistic: Stats.MAXIMUM,
      }),
      threshold: QUEUE_AGE_ALARM.toSeconds(),
      comparison: atLeast,
      description:
        'A sync message has waited over an hour: the worker is failing, throttled or not keeping up.',
    });
    alarm('ZohoTooManyRequests', {
      metric: insights('SUM', METRICS.zohoTooManyRequests, { label: '429s from Zoho' }),
      threshold: props.tooManyRequestsThreshold,
      comparison: atLeast,
      description:
        'Zoho answered 429 repeatedly. Lower rateLimit.requests or maxConcurrency in the connection secret, and look for other integrations sharing the Books organization.',
    });
    alarm('DailyQuotaHigh', {
      metric: insights('MAX', METRICS.dailyQuotaUsedPercent, { label: 'Daily quota used (%)' }),
      threshold: QUOTA_ALARM_PERCENT,
      comparison: atLeast,
      description: `A Books organization has used ${QUOTA_ALARM_PERCENT}% or more of its daily API quota; further work is parked until the quota resets.`,
    });
    alarm('CircuitBreakerOpen', {
      metric: insights('MAX', METRICS.circuitBreakerOpen, { label: 'Circuit breakers opened' }),
      threshold: 1,
      comparison: atLeast,
      description:
        'A connection circuit breaker opened: zoho-sync stopped calling Zoho for it after repeated failures. See the admin alert for the cause.',
    });
    alarm('ChannelRenewalFailed', {
      metric: insights('SUM', METRICS.channelRenewalFailed, { label: 'Channel renewals failed' }),
      threshold: 1,
      comparison: atLeast,
      description:
        'Renewing a CRM notification channel failed; notifications stop when the channel expires.',
    });
    alarm('AlertPublishFailed', {
      metric: insights('SUM', METRICS.alertPublishFailed, { label: 'Admin alerts not published' }),
      threshold: 1,
      comparison: atLeast,
      description:
        'SNS refused an admin alert from zoho-sync, so its recipients did not get it. The worker log has the alert and the SNS error.',
    });
    alarm('ApiServerErrors', {
      metric: api.metricServerError({ period: FIVE_MINUTES, statistic: Stats.SUM }),
      threshold: 1,
      comparison: atLeast,
      description:
        'The webhook API answered 5xx; Zoho retries a few times, then drops the webhook.',
    });

    this.dashboard = new Dashboard(this, 'Dashboard', {
      defaultInterval: Duration.hours(24),
    });
    const allFunctions = [{ name: 'Worker', function: worker }, ...props.otherFunctions];
    this.dashboard.addWidgets(
      new GraphWidget({
        title: 'Webhooks in',
        left: [
          api.metricCount({ period: FIVE_MINUTES, statistic: Stats.SUM, label: 'Requests' }),
          api.metricClientError({ period: FIVE_MINUTES, statistic: Stats.SUM, label: '4xx' }),
          api.metricServerError({ period: FIVE_MINUTES, statistic: Stats.SUM, label: '5xx' }),
        ],
        width: 8,
      }),
      new GraphWidget({
        title: 'Queue depth',
        left: [
          syncQueue.queue.metricApproximateNumberOfMessagesVisible({
            period: FIVE_MINUTES,
            statistic: Stats.MAXIMUM,
            label: 'Sync queue',
          }),
          syncQueue.queue.metricApproximateNumberOfMessagesNotVisible({
            period: FIVE_MINUTES,
            statistic: Stats.MAXIMUM,
            label: 'In flight',
          }),
          syncQueue.deadLetterQueue.metricApproximateNumberOfMessagesVisible({
            period: FIVE_MINUTES,
            statistic: Stats.MAXIMUM,
            label: 'Dead-letter queue',
          }),
        ],
        width: 8,
      }),
      new GraphWidget({
        title: 'Age of oldest message (s)',
        left: [
          syncQueue.queue.metricApproximateAgeOfOldestMessage({
            period: FIVE_MINUTES,
            statistic: Stats.MAXIMUM,
            label: 'Sync queue',
          }),
        ],
        width: 8,
      }),
    );
    this.dashboard.addWidgets(
      new GraphWidget({
        title: 'Zoho calls vs budget per connection',
        left: [
          insights('SUM', METRICS.zohoCalls, {
            groupBy: METRIC_DIMENSIONS.connection,
            label: `Calls ${GROUP_LABEL}`,
          }),
          insights('MAX', METRICS.zohoBudget, {
            groupBy: METRIC_DIMENSIONS.connection,
            label: `Budget ${GROUP_LABEL}`,
          }),
        ],
        width: 12,
      }),
      new GraphWidget({
        title: 'Daily quota used (%) per connection',
        left: [
          insights('MAX', METRICS.dailyQuotaUsedPercent, {
            groupBy: METRIC_DIMENSIONS.connection,
            label: GROUP_LABEL,
          }),
        ],
        leftYAxis: { min: 0, max: 100 },
        leftAnnotations: [{ value: QUOTA_ALARM_PERCENT, label: 'Alarm' }],
        width: 12,
      }),
    );
    this.dashboard.addWidgets(
      new GraphWidget({
        title: 'Sync failures by code',
        left: [
          insights('SUM', METRICS.syncFailures, {
            groupBy: METRIC_DIMENSIONS.code,
            label: GROUP_LABEL,
          }),
        ],
        stacked: true,
        width: 8,
      }),
      new GraphWidget({
        title: '429s from Zoho',
        left: [insights('SUM', METRICS.zohoTooManyRequests, { label: '429s' })],
        width: 8,
      }),
      new GraphWidget({
        title: 'Function errors',
        left: allFunctions.map((monitored) =>
          monitored.function.function.metricErrors({
            period: FIVE_MINUTES,
            statistic: Stats.SUM,
            label: monitored.name,
          }),
        ),
        width: 8,
      }),
    );
    this.dashboard.addWidgets(
      new AlarmStatusWidget({ title: 'Alarms', alarms: this.alarms, width: 24 }),
    );
  }
}
