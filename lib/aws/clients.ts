import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { SNSClient } from '@aws-sdk/client-sns';
import { SQSClient } from '@aws-sdk/client-sqs';

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
}

/**
 * Builds every client once. Endpoints are not set here on purpose: the SDK reads the standard
 * AWS_ENDPOINT_URL_DYNAMODB / _SQS / _SNS / _SECRETS_MANAGER variables itself, so local
 * stand-ins and real AWS differ only in environment, never in code path.
 */
export const createAwsClients = (options: AwsClientsOptions = {}): AwsClients => {
  const common = {
    maxAttempts: options.maxAttempts ?? 3,
    ...(options.region ? { region: options.region } : {}),
  };
  return {
    dynamodb: new DynamoDBClient(common),
    // Queue URLs name the queue; the endpoint (AWS or a stand-in whose URL hosts need not
    // resolve) decides where calls go, as in every SDK before this option existed.
    sqs: new SQSClient({ ...common, useQueueUrlAsEndpoint: false }),
    sns: new SNSClient(common),
    secretsManager: new SecretsManagerClient(common),
  };
};
