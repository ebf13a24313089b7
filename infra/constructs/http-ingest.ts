import { Duration, RemovalPolicy, Validations } from 'aws-cdk-lib';
import { AccessLogFormat } from 'aws-cdk-lib/aws-apigateway';
import {
  DomainName,
  HttpApi,
  HttpMethod,
  type HttpStage,
  LogGroupLogDestination,
} from 'aws-cdk-lib/aws-apigatewayv2';
import { HttpLambdaIntegration } from 'aws-cdk-lib/aws-apigatewayv2-integrations';
import { Certificate } from 'aws-cdk-lib/aws-certificatemanager';
import type { CfnPolicy, Policy } from 'aws-cdk-lib/aws-iam';
import { LogGroup } from 'aws-cdk-lib/aws-logs';
import { Construct } from 'constructs';
import { type FunctionDefaults, functionEntry, ZohoSyncFunction } from '../function-defaults';
import type { ConnectionSecrets } from './connection-secrets';
import type { SyncQueue } from './sync-queue';

/** The webhook role's policy (webhook secrets only, since the secrets were split). */
export const WEBHOOK_POLICY_LOGICAL_ID = 'IngestWebhookPolicyWebhookSecretsOnly';

/** The two routes; both reach the same handler (functions/crm-webhook.ts). */
export const INGEST_ROUTES = {
  webhooks: '/webhooks/{connectionId}',
  notifications: '/notifications/{connectionId}',
} as const;

export interface HttpIngestProps {
  readonly defaults: FunctionDefaults;
  readonly syncQueue: SyncQueue;
  readonly secrets: ConnectionSecrets;
  /** Steady-state requests per second of the whole API. */
  readonly throttleRateLimit: number;
  readonly throttleBurstLimit: number;
  readonly customDomain?: { readonly domainName: string; readonly certificateArn: string };
}

const NO_AUTHORIZER_REASON =
  'Zoho CRM workflow webhooks and Notification API callbacks cannot sign requests or send IAM/JWT credentials. The handler authenticates every request with the per-connection webhook secret (header X-Zoho-Sync-Token or query parameter token, constant-time compare) and answers the same 401 for a wrong token and an unknown connection.';

/**
 * Ingest: an HTTP API (payload v2) with `POST /webhooks/{connectionId}` (CRM workflow rules)
 * and `POST /notifications/{connectionId}` (CRM Notification API), both served by the webhook
 * function, which authenticates, validates and enqueues onto the sync queue. Stage throttling
 * bounds what a flood of webhooks can cost; access logs go to their own log group.
 */
export class HttpIngest extends Construct {
  readonly handler: ZohoSyncFunction;
  readonly api: HttpApi;
  readonly stage: HttpStage;
  /** Base URL ending in `/`: the custom domain if one is configured, else the execute-api URL. */
  readonly baseUrl: string;
  /** Target of the DNS CNAME/alias record for the custom domain, if one is configured. */
  readonly customDomainTarget: string | undefined;

  constructor(scope: Construct, id: string, props: HttpIngestProps) {
    super(scope, id);

    this.handler = new ZohoSyncFunction(this, 'WebhookFunction', {
      entry: functionEntry('crm-webhook'),
      description: 'zoho-sync webhook: authenticates CRM webhooks and notifications, enqueues them',
      defaults: props.defaults,
      // API Gateway gives up after 30 s; the handler does one secret read and one SQS send.
      timeout: Duration.seconds(10),
      memorySize: 256,
    });
    props.syncQueue.grantSend(this.handler.function);
    props.secrets.grantReadWebhookSecrets(this.handler.role);
    // A new logical id for the role's policy, so upgrading a stack whose webhook role could read
    // the credentials adds this policy before the function's code changes and deletes the old
    // one only in CloudFormation's cleanup, after the new code serves: the old code never runs
    // without the permission it needs.
    const policy = this.handler.role.node.tryFindChild('DefaultPolicy') as Policy | undefined;
    (policy?.node.defaultChild as CfnPolicy | undefined)?.overrideLogicalId(
      WEBHOOK_POLICY_LOGICAL_ID,
    );

    this.api = new HttpApi(this, 'Api', {
      description: 'zoho-sync: Zoho CRM webhooks and notifications',
      createDefaultStage: false,
    });
    const integration = new HttpLambdaIntegration('WebhookIntegration', this.handler.function);
    for (const path of Object.values(INGEST_ROUTES)) {
      const [route] = this.api.addRoutes({ path, methods: [HttpMethod.POST], integration });
      if (route !== undefined) {
        Validations.of(route).acknowledge({
          id: 'AwsSolutions-APIG4',
          reason: NO_AUTHORIZER_REASON,
        });
      }
    }

    const accessLogs = new LogGroup(this, 'AccessLogs', {
      retention: props.defaults.logRetention,
      removalPolicy: RemovalPolicy.RETAIN,
    });
    const domain =
      props.customDomain === undefined
        ? undefined
        : new DomainName(this, 'DomainName', {
            domainName: props.customDomain.domainName,
            certificate: Certificate.fromCertificateArn(
              this,
              'Certificate',
              props.customDomain.certificateArn,
            ),
          });
    this.stage = this.api.addStage('DefaultStage', {
      stageName: '$default',
      autoDeploy: true,
      throttle: { rateLimit: props.throttleRateLimit, burstLimit: props.throttleBurstLimit },
      accessLogSettings: {
        destination: new LogGroupLogDestination(accessLogs),
        format: accessLogFormat(),
      },
      ...(domain === undefined ? {} : { domainMapping: { domainName: domain } }),
    });

    this.baseUrl =
      props.customDomain === undefined
        ? this.stage.url
        : `https://${props.customDomain.domainName}/`;
    this.customDomainTarget = domain?.regionalDomainName;
  }

  /** Public URL of a route, with `{connectionId}` left as a placeholder. */
  routeUrl(route: keyof typeof INGEST_ROUTES): string {
    return `${this.baseUrl}${INGEST_ROUTES[route].slice(1)}`;
  }
}

/**
 * One JSON line per request. It leaves out the query string (the `token` parameter is a
 * credential) and every header; the path carries only the connection id.
 */
const accessLogFormat = (): AccessLogFormat =>
  AccessLogFormat.custom(
    JSON.stringify({
      requestId: '$context.requestId',
      requestTime: '$context.requestTime',
      ip: '$context.identity.sourceIp',
      routeKey: '$context.routeKey',
      path: '$context.path',
      status: '$context.status',
      responseLength: '$context.responseLength',
      latencyMs: '$context.responseLatency',
      integrationStatus: '$context.integrationStatus',
      integrationLatencyMs: '$context.integrationLatency',
      integrationError: '$context.integrationErrorMessage',
      error: '$context.error.message',
    }),
  );
