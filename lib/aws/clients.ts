import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { SNSClient } from '@aws-sdk/client-sns';
import { SQSClient } from '@aws-sdk/client-sqs';
import { type AwsTimeouts, loadAwsTimeouts } from '../config';

/** The AWS SDK v3 clients zoho-sync uses, built once per container and passed as deps. */
export interface AwsClients {
  readonly dynamodb: DynamoDBClient;
  readonly sqs: SQSClient;
  readonly sns: SNSClient;
  readonly secretsManager: SecretsManagerClient;
}

export interface AwsClientsOptions {
  /** @default the SDK's own resolution (AWS_REGION), else us-east-1 */
  readonly region?: string;
  /**
   * SDK-level retries of AWS calls. This is the only retry of AWS calls in zoho-sync.
   * @default 3
   */
  readonly maxAttempts?: number;
  /**
   * Connection and request timeouts of every AWS call, so a stuck connection fails (and is
   * retried by the SDK) instead of holding a Lambda until its own timeout.
   * @default ZOHO_SYNC_AWS_CONNECT_TIMEOUT_MS (2 s) and ZOHO_SYNC_AWS_REQUEST_TIMEOUT_MS (5 s)
   */
  readonly timeouts?: AwsTimeouts;
}

/** SQS holds a long poll open for up to 20 s; the SQS client's request timeout allows for it. */
const SQS_LONGEST_POLL_MS = 20_000;

/**
 * Builds every client once. Endpoints are not set here on purpose: the SDK reads the standard
 * AWS_ENDPOINT_URL_DYNAMODB / _SQS / _SNS / _SECRETS_MANAGER variables itself, so local
 * stand-ins and real AWS differ only in environment, never in code path.
 */
export const createAwsClients = (options: AwsClientsOptions = {}): AwsClients => {
  const timeouts = options.timeouts ?? loadAwsTimeouts();
  // The SDK builds its NodeHttpHandler from these options (no handler import needed). Without
  // throwOnRequestTimeout, a request over its timeout only logs a warning and waits on.
  const requestHandler = {
    connectionTimeout: timeouts.connectionTimeoutMs,
    requestTimeout: timeouts.requestTimeoutMs,
    throwOnRequestTimeout: true,
  };
  const common = {
    maxAttempts: options.maxAttempts ?? 3,
    requestHandler,
    ...(options.region ? { region: options.region } : {}),
  };
  return {
    dynamodb: new DynamoDBClient(common),
    // Queue URLs name the queue; the endpoint (AWS or a stand-in whose URL hosts need not
    // resolve) decides where calls go, as in every SDK before this option existed.
    sqs: new SQSClient({
      ...common,
      requestHandler: {
        ...requestHandler,
        requestTimeout: timeouts.requestTimeoutMs + SQS_LONGEST_POLL_MS,
      },
      useQueueUrlAsEndpoint: false,
    }),
    sns: new SNSClient(common),
    secretsManager: new SecretsManagerClient(common),
  };
};
