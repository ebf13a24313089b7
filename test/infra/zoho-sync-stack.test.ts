import { existsSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { Match } from 'aws-cdk-lib/assertions';
import { beforeAll, describe, expect, it } from 'vitest';
import { INGEST_ROUTES } from '../../infra/constructs/http-ingest';
import { FUNCTION_ARCHITECTURE, FUNCTION_RUNTIME } from '../../infra/function-defaults';
import type { ZohoSyncStack } from '../../infra/zoho-sync-stack';
import { TABLE_KEY } from '../../lib/aws/table-keys';
import { ENV } from '../../lib/config';
import { NOTIFICATION_ROUTE } from '../../lib/notifications';
import { METRIC_NAMESPACE, METRICS } from '../../lib/observability/metric-names';
import { logicalId, type Synthesized, scheduledFunction, synthZohoSync } from './synth-zoho-sync';

type Resource = { Properties: Record<string, unknown> } & Record<string, unknown>;

// Context as `cdk deploy -c key=value` passes it: strings, and no value equal to its default,
// so each assertion below proves the value travelled from context into the template.
const CONTEXT = {
  alertEmail: 'ops@example.com, oncall@example.com',
  maxReceiveCount: '7',
  batchSize: '5',
  workerConcurrency: '30',
  workerTimeoutSeconds: '45',
  throttleRateLimit: '20',
  throttleBurstLimit: '40',
  logRetentionDays: '90',
  logLevel: 'DEBUG',
};

describe('ZohoSyncStack', () => {
  let synthesized: Synthesized;
  let stack: ZohoSyncStack;
  const id = (construct: Parameters<typeof logicalId>[1]) => logicalId(stack, construct);
  const resource = (logical: string): Resource =>
    synthesized.template.toJSON().Resources[logical] as Resource;
  const resourcesOfType = (type: string): Record<string, Resource> =>
    synthesized.template.findResources(type) as Record<string, Resource>;

  beforeAll(() => {
    // One synth for the whole file, with real esbuild bundling of every function.
    synthesized = synthZohoSync({ context: CONTEXT, bundle: true });
    stack = synthesized.stack;
  });

  describe('sync queue', () => {
    it('redrives to the dead-letter queue after maxReceiveCount receives', () => {
      synthesized.template.hasResourceProperties('AWS::SQS::Queue', {
        RedrivePolicy: {
          deadLetterTargetArn: { 'Fn::GetAtt': [id(stack.syncQueue.deadLetterQueue), 'Arn'] },
          maxReceiveCount: 7,
        },
      });
    });

    it('keeps dead letters for 14 days, longer than the 4 days of the sync queue', () => {
      expect(resource(id(stack.syncQueue.deadLetterQueue)).Properties).toMatchObject({
        MessageRetentionPeriod: 14 * 24 * 3600,
      });
      expect(resource(id(stack.syncQueue.queue)).Properties).toMatchObject({
        MessageRetentionPeriod: 4 * 24 * 3600,
      });
    });

    it('sets the visibility timeout to more than six times the worker timeout', () => {
      const workerTimeout = resource(id(stack.worker.handler.function)).Properties.Timeout;
      const visibility = resource(id(stack.syncQueue.queue)).Properties.VisibilityTimeout;
      expect(workerTimeout).toBe(45);
      expect(visibility).toBeGreaterThan(6 * 45);
    });

    it('encrypts both queues at rest and refuses requests without TLS', () => {
      for (const queue of [stack.syncQueue.queue, stack.syncQueue.deadLetterQueue]) {
        expect(resource(id(queue)).Properties).toMatchObject({ SqsManagedSseEnabled: true });
        synthesized.template.hasResourceProperties('AWS::SQS::QueuePolicy', {
          Queues: [{ Ref: id(queue) }],
          PolicyDocument: {
            Statement: Match.arrayWith([
              Match.objectLike({
                Effect: 'Deny',
                Condition: { Bool: { 'aws:SecureTransport': 'false' } },
              }),
            ]),
          },
        });
      }
    });
  });

  describe('worker event source', () => {
    it('reports partial batch failures and runs at the worker concurrency', () => {
      synthesized.template.resourceCountIs('AWS::Lambda::EventSourceMapping', 1);
      synthesized.template.hasResourceProperties('AWS::Lambda::EventSourceMapping', {
        EventSourceArn: { 'Fn::GetAtt': [id(stack.syncQueue.queue), 'Arn'] },
        FunctionName: { Ref: id(stack.worker.handler.function) },
        FunctionResponseTypes: ['ReportBatchItemFailures'],
        BatchSize: 5,
        ScalingConfig: { MaximumConcurrency: 30 },
      });
    });
  });

  describe('state table', () => {
    it('uses the pk/sk key scheme with TTL on ttl, on demand, with PITR and deletion protection', () => {
      expect(resource(id(stack.state.table)).Properties).toStrictEqual({
        AttributeDefinitions: [
          { AttributeName: TABLE_KEY.partition, AttributeType: 'S' },
          { AttributeName: TABLE_KEY.sort, AttributeType: 'S' },
        ],
        KeySchema: [
          { AttributeName: 'pk', KeyType: 'HASH' },
          { AttributeName: 'sk', KeyType: 'RANGE' },
        ],
        BillingMode: 'PAY_PER_REQUEST',
        PointInTimeRecoverySpecification: { PointInTimeRecoveryEnabled: true },
        TimeToLiveSpecification: { AttributeName: 'ttl', Enabled: true },
        DeletionProtectionEnabled: true,
      });
    });

    it('is retained when the stack is deleted or the table replaced', () => {
      expect(resource(id(stack.state.table))).toMatchObject({
        DeletionPolicy: 'Retain',
        UpdateReplacePolicy: 'Retain',
      });
    });
  });

  describe('alert topic', () => {
    it('is encrypted with its own rotating key that CloudWatch alarms may use', () => {
      expect(resource(id(stack.alerts.topic)).Properties).toMatchObject({
        KmsMasterKeyId: { 'Fn::GetAtt': [id(stack.alerts.key), 'Arn'] },
      });
      expect(resource(id(stack.alerts.key)).Properties).toMatchObject({
        EnableKeyRotation: true,
        KeyPolicy: {
          Statement: expect.arrayContaining([
            expect.objectContaining({
              Principal: { Service: 'cloudwatch.amazonaws.com' },
              Action: ['kms:Decrypt', 'kms:GenerateDataKey*'],
              Effect: 'Allow',
            }),
          ]),
        },
      });
    });

    it('refuses publishes without TLS and lets this account alarms publish', () => {
      synthesized.template.hasResourceProperties('AWS::SNS::TopicPolicy', {
        Topics: [{ Ref: id(stack.alerts.topic) }],
        PolicyDocument: {
          Statement: Match.arrayWith([
            Match.objectLike({
              Effect: 'Deny',
              Action: 'sns:Publish',
              Condition: { Bool: { 'aws:SecureTransport': 'false' } },
            }),
            Match.objectLike({
              Effect: 'Allow',
              Action: 'sns:Publish',
              Principal: { Service: 'cloudwatch.amazonaws.com' },
              Condition: Match.objectLike({
                StringEquals: { 'aws:SourceAccount': { Ref: 'AWS::AccountId' } },
              }),
            }),
          ]),
        },
      });
    });

    it('subscribes every address of the alertEmail context', () => {
      const subscriptions = Object.values(resourcesOfType('AWS::SNS::Subscription'));
      expect(subscriptions.map((subscription) => subscription.Properties)).toStrictEqual([
        {
          Protocol: 'email',
          Endpoint: 'ops@example.com',
          TopicArn: { Ref: id(stack.alerts.topic) },
        },
        {
          Protocol: 'email',
          Endpoint: 'oncall@example.com',
          TopicArn: { Ref: id(stack.alerts.topic) },
        },
      ]);
    });
  });

  describe('HTTP API', () => {
    it('routes POST /webhooks/{connectionId} and POST /notifications/{connectionId} to the webhook function', () => {
      const routes = Object.values(resourcesOfType('AWS::ApiGatewayV2::Route'));
      expect(routes.map((route) => route.Properties.RouteKey).sort()).toStrictEqual([
        'POST /notifications/{connectionId}',
        'POST /webhooks/{connectionId}',
      ]);
      const integrations = Object.values(resourcesOfType('AWS::ApiGatewayV2::Integration'));
      expect(integrations).toHaveLength(1);
      expect(integrations[0]?.Properties).toMatchObject({
        IntegrationType: 'AWS_PROXY',
        PayloadFormatVersion: '2.0',
        IntegrationUri: { 'Fn::GetAtt': [id(stack.ingest.handler.function), 'Arn'] },
      });
    });

    it('throttles the default stage and writes access logs to their own log group', () => {
      synthesized.template.hasResourceProperties('AWS::ApiGatewayV2::Stage', {
        StageName: '$default',
        AutoDeploy: true,
        DefaultRouteSettings: { ThrottlingRateLimit: 20, ThrottlingBurstLimit: 40 },
        AccessLogSettings: {
          DestinationArn: { 'Fn::GetAtt': [Match.stringLikeRegexp('^IngestAccessLogs'), 'Arn'] },
          Format: Match.stringLikeRegexp('\\$context\\.requestId'),
        },
      });
    });

    it('keeps the query string (it can carry the webhook token) out of the access log', () => {
      const stages = Object.values(resourcesOfType('AWS::ApiGatewayV2::Stage'));
      expect(stages).toHaveLength(1);
      const format = (stages[0]?.Properties.AccessLogSettings as { Format?: string } | undefined)
        ?.Format;
      expect(format).toContain('$context.path');
      expect(format).not.toMatch(/querystring|\$input|\$request\.header/i);
    });
  });

  describe('alarms', () => {
    const topicRef = () => [{ Ref: id(stack.alerts.topic) }];
    const alarmNamed = (name: string): Resource => {
      const alarm = stack.monitoring.alarms.find((candidate) => candidate.node.id === name);
      if (alarm === undefined) throw new Error(`no alarm ${name}`);
      return resource(id(alarm));
    };

    it('notifies the alert topic on alarm and on recovery, for every alarm', () => {
      const alarms = Object.values(resourcesOfType('AWS::CloudWatch::Alarm'));
      expect(alarms.length).toBe(stack.monitoring.alarms.length);
      for (const alarm of alarms) {
        expect(alarm.Properties.AlarmActions).toStrictEqual(topicRef());
        expect(alarm.Properties.OKActions).toStrictEqual(topicRef());
      }
    });

    it('alarms as soon as the dead-letter queue holds a message', () => {
      expect(alarmNamed('DeadLetterQueueNotEmpty').Properties).toMatchObject({
        Namespace: 'AWS/SQS',
        MetricName: 'ApproximateNumberOfMessagesVisible',
        Dimensions: [
          {
            Name: 'QueueName',
            Value: { 'Fn::GetAtt': [id(stack.syncQueue.deadLetterQueue), 'QueueName'] },
          },
        ],
        ComparisonOperator: 'GreaterThanThreshold',
        Threshold: 0,
        TreatMissingData: 'ignore',
      });
    });

    it('alarms on worker errors and on errors of every other function', () => {
      const functionsWithErrorAlarms = Object.values(resourcesOfType('AWS::CloudWatch::Alarm'))
        .filter((alarm) => alarm.Properties.MetricName === 'Errors')
        .map((alarm) => (alarm.Properties.Dimensions as [{ Value: { Ref: string } }])[0].Value.Ref)
        .sort();
      const allFunctions = Object.keys(resourcesOfType('AWS::Lambda::Function')).sort();
      expect(functionsWithErrorAlarms).toStrictEqual(allFunctions);
      expect(alarmNamed('WorkerErrors').Properties).toMatchObject({
        Dimensions: [{ Name: 'FunctionName', Value: { Ref: id(stack.worker.handler.function) } }],
        Threshold: 1,
      });
    });

    it.each([
      ['ZohoTooManyRequests', `SELECT SUM(${METRICS.zohoTooManyRequests})`, 5],
      ['DailyQuotaHigh', `SELECT MAX(${METRICS.dailyQuotaUsedPercent})`, 80],
      ['CircuitBreakerOpen', `SELECT MAX(${METRICS.circuitBreakerOpen})`, 1],
      ['ChannelRenewalFailed', `SELECT SUM(${METRICS.channelRenewalFailed})`, 1],
      ['AlertPublishFailed', `SELECT SUM(${METRICS.alertPublishFailed})`, 1],
    ])('alarms %s on the custom metric across all its dimensions', (name, select, threshold) => {
      expect(alarmNamed(name).Properties).toMatchObject({
        ComparisonOperator: 'GreaterThanOrEqualToThreshold',
        Threshold: threshold,
        Metrics: [
          {
            Expression: `${select} FROM "${METRIC_NAMESPACE}"`,
            Period: 300,
            ReturnData: true,
          },
        ],
      });
    });
  });

  describe('schedules', () => {
    const SCHEDULES = [
      ['ReleaseDeferred', 'rate(5 minutes)', 60],
      ['RenewChannels', 'rate(12 hours)', 300],
      ['ReconcileSweep', 'rate(1 hour)', 300],
    ] as const;

    it('has exactly one rule per scheduled function', () => {
      synthesized.template.resourceCountIs('AWS::Events::Rule', SCHEDULES.length);
      expect(stack.scheduled.map((scheduled) => scheduled.node.id)).toStrictEqual(
        SCHEDULES.map(([specId]) => specId),
      );
    });

    it.each(SCHEDULES)('runs %s on %s, targeting its function', (specId, expression) => {
      const { rule, handler } = scheduledFunction(stack, specId);
      const properties = resource(id(rule)).Properties;
      expect(properties).toMatchObject({ ScheduleExpression: expression, State: 'ENABLED' });
      expect(properties.Targets).toStrictEqual([
        expect.objectContaining({
          Arn: { 'Fn::GetAtt': [id(handler.function), 'Arn'] },
          RetryPolicy: { MaximumRetryAttempts: 0 },
        }),
      ]);
      synthesized.template.hasResourceProperties('AWS::Lambda::Permission', {
        Action: 'lambda:InvokeFunction',
        Principal: 'events.amazonaws.com',
        FunctionName: { 'Fn::GetAtt': [id(handler.function), 'Arn'] },
        SourceArn: { 'Fn::GetAtt': [id(rule), 'Arn'] },
      });
    });

    it.each(SCHEDULES)(
      'does not retry a failed %s run, reserves no concurrency, and stops it after its timeout',
      (specId, _expression, timeoutSeconds) => {
        const { handler } = scheduledFunction(stack, specId);
        const properties = resource(id(handler.function)).Properties;
        expect(properties).toMatchObject({ Timeout: timeoutSeconds });
        // A new account's quota of 10 concurrent executions leaves nothing to reserve.
        expect(properties).not.toHaveProperty('ReservedConcurrentExecutions');
        synthesized.template.hasResourceProperties('AWS::Lambda::EventInvokeConfig', {
          FunctionName: { Ref: id(handler.function) },
          MaximumRetryAttempts: 0,
        });
      },
    );

    it('gives channel renewal the HTTP API URL its notify_url is built on', () => {
      const { handler } = scheduledFunction(stack, 'RenewChannels');
      const variables = (
        resource(id(handler.function)).Properties.Environment as {
          Variables: Record<string, unknown>;
        }
      ).Variables;
      const baseUrl = variables[ENV.publicBaseUrl];
      expect(baseUrl).toStrictEqual(stack.resolve(stack.ingest.baseUrl));
      expect(JSON.stringify(baseUrl)).toContain(JSON.stringify({ Ref: id(stack.ingest.api) }));
      // The webhook function serves `<base URL>/notifications/{connectionId}`, which is where
      // lib/notifications points each channel.
      expect(`${NOTIFICATION_ROUTE}/{connectionId}`).toBe(INGEST_ROUTES.notifications);
    });
  });

  describe('functions', () => {
    it('run nodejs22.x on arm64 from an ESM bundle, logging to a log group with retention', () => {
      const functions = resourcesOfType('AWS::Lambda::Function');
      expect(Object.keys(functions)).toHaveLength(6);
      for (const fn of Object.values(functions)) {
        expect(fn.Properties).toMatchObject({
          Runtime: FUNCTION_RUNTIME.name,
          Architectures: [FUNCTION_ARCHITECTURE.name],
          Handler: 'index.handler',
          LoggingConfig: { LogGroup: { Ref: expect.any(String) } },
        });
        const logGroup = (fn.Properties.LoggingConfig as { LogGroup: { Ref: string } }).LogGroup;
        expect(resource(logGroup.Ref).Properties).toStrictEqual({ RetentionInDays: 90 });
      }
    });

    it('are bundled by esbuild into index.mjs with a source map', () => {
      const assetDirs = readdirSync(synthesized.app.outdir).filter((name) =>
        name.startsWith('asset.'),
      );
      expect(assetDirs).toHaveLength(6);
      for (const dir of assetDirs) {
        expect(readdirSync(join(synthesized.app.outdir, dir)).sort()).toStrictEqual([
          'index.mjs',
          'index.mjs.map',
        ]);
      }
      expect(existsSync(join(synthesized.app.outdir, 'node_modules'))).toBe(false);
    });

    it('get exactly the shared environment, with resource names by reference, and renewal the public base URL too', () => {
      const shared = {
        [ENV.tableName]: { Ref: id(stack.state.table) },
        [ENV.syncQueueUrl]: { Ref: id(stack.syncQueue.queue) },
        [ENV.deadLetterQueueUrl]: { Ref: id(stack.syncQueue.deadLetterQueue) },
        [ENV.alertTopicArn]: { Ref: id(stack.alerts.topic) },
        [ENV.secretPrefix]: 'zoho-sync/',
        [ENV.logLevel]: 'DEBUG',
        POWERTOOLS_SERVICE_NAME: 'zoho-sync',
        POWERTOOLS_METRICS_NAMESPACE: METRIC_NAMESPACE,
        NODE_OPTIONS: '--enable-source-maps',
      };
      const renewal = id(scheduledFunction(stack, 'RenewChannels').handler.function);
      for (const [logical, fn] of Object.entries(resourcesOfType('AWS::Lambda::Function'))) {
        const expected =
          logical === renewal
            ? { ...shared, [ENV.publicBaseUrl]: stack.resolve(stack.ingest.baseUrl) }
            : shared;
        expect(fn.Properties.Environment, logical).toStrictEqual({ Variables: expected });
      }
    });

    it('hold no value that looks like a credential in any environment', () => {
      const literals = Object.values(resourcesOfType('AWS::Lambda::Function')).flatMap((fn) =>
        Object.entries(
          (fn.Properties.Environment as { Variables: Record<string, unknown> }).Variables,
        ).filter((entry): entry is [string, string] => typeof entry[1] === 'string'),
      );
      expect(literals.length).toBeGreaterThan(0);
      for (const [name, value] of literals) {
        // Zoho tokens look like 1000.<32 hex>.<32 hex>; client secrets are long hex/base64 runs.
        expect(value, name).not.toMatch(/^1000\.|[A-Za-z0-9+/=_-]{24,}/);
        expect(name, name).not.toMatch(/TOKEN|PASSWORD|CLIENT_SECRET|REFRESH/i);
      }
    });
  });

  describe('dashboard', () => {
    it('shows webhooks in, queue depth and age, calls vs budget, quota and failures by code', () => {
      const dashboards = Object.values(resourcesOfType('AWS::CloudWatch::Dashboard'));
      expect(dashboards).toHaveLength(1);
      const body = JSON.stringify(dashboards[0]?.Properties.DashboardBody);
      for (const fragment of [
        '"AWS/ApiGateway\\",\\"Count',
        'ApproximateNumberOfMessagesVisible',
        'ApproximateAgeOfOldestMessage',
        `SUM(${METRICS.zohoCalls})`,
        `MAX(${METRICS.zohoBudget})`,
        `MAX(${METRICS.dailyQuotaUsedPercent})`,
        `SUM(${METRICS.syncFailures}) FROM \\\\\\"ZohoSync\\\\\\" GROUP BY code`,
      ]) {
        expect(body).toContain(fragment);
      }
    });
  });

  describe('outputs', () => {
    it('print the two URLs with a {connectionId} placeholder and the resource names', () => {
      const outputs = synthesized.template.toJSON().Outputs as Record<string, { Value: unknown }>;
      expect(Object.keys(outputs).sort()).toStrictEqual([
        'AlertTopicArn',
        'DeadLetterQueueUrl',
        'NotificationUrl',
        'SyncQueueUrl',
        'TableName',
        'WebhookUrl',
      ]);
      expect(JSON.stringify(outputs.WebhookUrl?.Value)).toMatch(
        /\/webhooks\/\{connectionId\}"\]\]\}$/,
      );
      expect(JSON.stringify(outputs.NotificationUrl?.Value)).toMatch(
        /\/notifications\/\{connectionId\}"\]\]\}$/,
      );
      expect(outputs.TableName?.Value).toStrictEqual({ Ref: id(stack.state.table) });
      expect(outputs.SyncQueueUrl?.Value).toStrictEqual({ Ref: id(stack.syncQueue.queue) });
      expect(outputs.DeadLetterQueueUrl?.Value).toStrictEqual({
        Ref: id(stack.syncQueue.deadLetterQueue),
      });
      expect(outputs.AlertTopicArn?.Value).toStrictEqual({ Ref: id(stack.alerts.topic) });
    });
  });
});
