import { CfnOutput, Duration, Stack, type StackProps } from 'aws-cdk-lib';
import { Schedule } from 'aws-cdk-lib/aws-events';
import type { Construct } from 'constructs';
import { ENV, STACK_DEFAULTS } from '../lib/config';
import { METRIC_NAMESPACE } from '../lib/observability/metric-names';
import { AlertTopic } from './constructs/alert-topic';
import { ConnectionSecrets, SECRET_PREFIX } from './constructs/connection-secrets';
import { HttpIngest } from './constructs/http-ingest';
import { Monitoring } from './constructs/monitoring';
import { ScheduledFunction } from './constructs/scheduled-function';
import { StateTable } from './constructs/state-table';
import { SyncQueue } from './constructs/sync-queue';
import { SyncWorker } from './constructs/sync-worker';
import { WebhookSecretMigration } from './constructs/webhook-secret-migration';
import { type FunctionDefaults, functionEntry } from './function-defaults';
import type { ZohoSyncSettings } from './settings';

/** Powertools' service name, the same as lib/observability/logger.ts uses. */
export const SERVICE_NAME = 'zoho-sync';

/** What a scheduled function may reach; everything else stays out of its role. */
export interface ScheduledFunctionAccess {
  /** Item reads and writes on the state table. */
  readonly table?: boolean;
  /** sqs:SendMessage on the sync queue. */
  readonly sendToSyncQueue?: boolean;
  /** sns:Publish on the alert topic. */
  readonly publishAlerts?: boolean;
  /** Connection secrets: `read` (credentials only) or `token-store` (also access tokens). */
  readonly connectionSecrets?: 'read' | 'token-store';
  /**
   * Read the webhook secrets `zoho-sync/<id>/webhook` too (channel renewal: a channel's token is
   * the webhook secret). Without it a role with connection secrets is denied them.
   */
  readonly readWebhookSecrets?: boolean;
  /** secretsmanager:ListSecrets (on `*`, the only resource it accepts), to find the connections. */
  readonly listConnections?: boolean;
  /** The HTTP API's public base URL in `ZOHO_SYNC_PUBLIC_BASE_URL` (ENV.publicBaseUrl). */
  readonly publicBaseUrl?: boolean;
}

export interface ScheduledFunctionSpec {
  /** Construct id, PascalCase, e.g. `ReleaseDeferred`; also the alarm's name. */
  readonly id: string;
  readonly entry: string;
  readonly description: string;
  readonly schedule: Schedule;
  readonly timeout: Duration;
  readonly access: ScheduledFunctionAccess;
}

/** Every 5 minutes: moves parked work whose release time has come back to the sync queue. */
export const RELEASE_DEFERRED: ScheduledFunctionSpec = {
  id: 'ReleaseDeferred',
  entry: functionEntry('release-deferred'),
  description: 'zoho-sync release-deferred: re-queues parked work once the daily quota resets',
  schedule: Schedule.rate(Duration.minutes(STACK_DEFAULTS.schedules.releaseDeferredMinutes)),
  timeout: Duration.seconds(60),
  access: { table: true, sendToSyncQueue: true },
};

/**
 * Every 12 hours: keeps each connection's Zoho CRM Notification API channel alive (it renews a
 * channel with less than two days left, so one failed run still leaves time for the next). It
 * builds each channel's notify_url from the API's public base URL.
 */
export const RENEW_CHANNELS: ScheduledFunctionSpec = {
  id: 'RenewChannels',
  entry: functionEntry('renew-channels'),
  description: 'zoho-sync renew-channels: keeps each CRM notification channel alive',
  schedule: Schedule.rate(Duration.hours(STACK_DEFAULTS.schedules.renewChannelsHours)),
  timeout: Duration.minutes(5),
  access: {
    table: true,
    connectionSecrets: 'token-store',
    readWebhookSecrets: true,
    listConnections: true,
    publicBaseUrl: true,
  },
};

/**
 * Every hour: enqueues the CRM records modified since each connection's cursor, catching
 * changes whose webhook or notification never arrived.
 */
export const RECONCILE_SWEEP: ScheduledFunctionSpec = {
  id: 'ReconcileSweep',
  entry: functionEntry('reconcile-sweep'),
  description: 'zoho-sync reconcile-sweep: enqueues CRM records changed since the last sweep',
  schedule: Schedule.rate(Duration.hours(STACK_DEFAULTS.schedules.reconcileSweepHours)),
  timeout: Duration.minutes(5),
  access: {
    table: true,
    sendToSyncQueue: true,
    connectionSecrets: 'token-store',
    listConnections: true,
  },
};

/** The scheduled functions of a full deployment. */
export const DEFAULT_SCHEDULED_FUNCTIONS: readonly ScheduledFunctionSpec[] = [
  RELEASE_DEFERRED,
  RENEW_CHANNELS,
  RECONCILE_SWEEP,
];

export interface ZohoSyncStackProps extends StackProps {
  readonly settings: ZohoSyncSettings;
  /** @default DEFAULT_SCHEDULED_FUNCTIONS */
  readonly scheduledFunctions?: readonly ScheduledFunctionSpec[];
}

/**
 * zoho-sync in one stack: HTTP API -> webhook function -> sync queue -> worker -> Zoho, state in
 * DynamoDB, credentials in Secrets Manager (created after deploy), alerts on SNS, alarms and a
 * dashboard in CloudWatch. The stack only composes the constructs in ./constructs.
 */
export class ZohoSyncStack extends Stack {
  readonly state: StateTable;
  readonly syncQueue: SyncQueue;
  readonly alerts: AlertTopic;
  readonly secrets: ConnectionSecrets;
  readonly ingest: HttpIngest;
  readonly webhookSecretMigration: WebhookSecretMigration;
  readonly worker: SyncWorker;
  readonly scheduled: readonly ScheduledFunction[];
  readonly monitoring: Monitoring;

  constructor(scope: Construct, id: string, props: ZohoSyncStackProps) {
    super(scope, id, props);
    const { settings } = props;
    const workerTimeout = Duration.seconds(settings.workerTimeoutSeconds);

    this.state = new StateTable(this, 'State');
    this.syncQueue = new SyncQueue(this, 'Sync', {
      workerTimeout,
      maxReceiveCount: settings.maxReceiveCount,
    });
    this.alerts = new AlertTopic(this, 'Alerts', { emails: settings.alertEmails });
    this.secrets = new ConnectionSecrets(this, 'ConnectionSecrets');

    const defaults: FunctionDefaults = {
      environment: {
        [ENV.tableName]: this.state.table.tableName,
        [ENV.syncQueueUrl]: this.syncQueue.queue.queueUrl,
        [ENV.deadLetterQueueUrl]: this.syncQueue.deadLetterQueue.queueUrl,
        [ENV.alertTopicArn]: this.alerts.topic.topicArn,
        [ENV.secretPrefix]: SECRET_PREFIX,
        [ENV.logLevel]: settings.logLevel,
        POWERTOOLS_SERVICE_NAME: SERVICE_NAME,
        POWERTOOLS_METRICS_NAMESPACE: METRIC_NAMESPACE,
      },
      logRetention: settings.logRetention,
      tracing: settings.tracing,
    };

    this.ingest = new HttpIngest(this, 'Ingest', {
      defaults,
      syncQueue: this.syncQueue,
      secrets: this.secrets,
      throttleRateLimit: settings.throttleRateLimit,
      throttleBurstLimit: settings.throttleBurstLimit,
      ...(settings.customDomain === undefined ? {} : { customDomain: settings.customDomain }),
    });
    this.webhookSecretMigration = new WebhookSecretMigration(this, 'WebhookSecretMigration', {
      defaults,
      secrets: this.secrets,
    });
    // The webhook's new code reads only zoho-sync/<id>/webhook: deploy it after the copy.
    this.ingest.handler.function.node.addDependency(this.webhookSecretMigration.resource);
    this.worker = new SyncWorker(this, 'Worker', {
      defaults,
      timeout: workerTimeout,
      syncQueue: this.syncQueue,
      table: this.state,
      alerts: this.alerts,
      secrets: this.secrets,
      batchSize: settings.batchSize,
      workerConcurrency: settings.workerConcurrency,
    });
    this.scheduled = (props.scheduledFunctions ?? DEFAULT_SCHEDULED_FUNCTIONS).map((spec) =>
      this.addScheduledFunction(spec, defaults),
    );

    this.monitoring = new Monitoring(this, 'Monitoring', {
      alerts: this.alerts,
      syncQueue: this.syncQueue,
      api: this.ingest.api,
      worker: this.worker.handler,
      otherFunctions: [
        { name: 'Webhook', function: this.ingest.handler },
        { name: 'WebhookSecretMigration', function: this.webhookSecretMigration.handler },
        ...this.scheduled.map((scheduled) => ({
          name: scheduled.node.id,
          function: scheduled.handler,
        })),
      ],
      tooManyRequestsThreshold: settings.tooManyRequestsAlarmThreshold,
    });

    new CfnOutput(this, 'WebhookUrl', {
      description: 'Zoho CRM workflow-rule webhook URL; replace {connectionId}',
      value: this.ingest.routeUrl('webhooks'),
    });
    new CfnOutput(this, 'NotificationUrl', {
      description: 'Zoho CRM Notification API notify_url; replace {connectionId}',
      value: this.ingest.routeUrl('notifications'),
    });
    if (this.ingest.customDomainTarget !== undefined) {
      new CfnOutput(this, 'CustomDomainTarget', {
        description: 'Point a CNAME (or alias) record for the custom domain here',
        value: this.ingest.customDomainTarget,
      });
    }
    new CfnOutput(this, 'AlertTopicArn', { value: this.alerts.topic.topicArn });
    new CfnOutput(this, 'SyncQueueUrl', { value: this.syncQueue.queue.queueUrl });
    new CfnOutput(this, 'DeadLetterQueueUrl', {
      value: this.syncQueue.deadLetterQueue.queueUrl,
    });
    new CfnOutput(this, 'TableName', { value: this.state.table.tableName });
  }

  private addScheduledFunction(
    spec: ScheduledFunctionSpec,
    defaults: FunctionDefaults,
  ): ScheduledFunction {
    const scheduled = new ScheduledFunction(this, spec.id, {
      entry: spec.entry,
      description: spec.description,
      schedule: spec.schedule,
      timeout: spec.timeout,
      defaults,
      ...(spec.access.publicBaseUrl === true
        ? { environment: { [ENV.publicBaseUrl]: this.ingest.baseUrl } }
        : {}),
    });
    const { function: fn, role } = scheduled.handler;
    if (spec.access.table === true) this.state.grantData(fn);
    if (spec.access.sendToSyncQueue === true) this.syncQueue.grantSend(fn);
    if (spec.access.publishAlerts === true) this.alerts.grantPublish(fn);
    const webhookSecrets =
      spec.access.readWebhookSecrets === true ? { webhookSecrets: 'read' as const } : {};
    if (spec.access.connectionSecrets === 'read') {
      this.secrets.grantReadCredentials(role, webhookSecrets);
    }
    if (spec.access.connectionSecrets === 'token-store') {
      this.secrets.grantTokenStore(role, webhookSecrets);
    }
    if (spec.access.listConnections === true) this.secrets.grantListConnections(role);
    return scheduled;
  }
}
