import { GetQueueAttributesCommand } from '@aws-sdk/client-sqs';
import type { AwsClients } from '../aws';
import { ENV } from '../config';
import { startDynamoDbLocal } from './dynamodb-local';
import { createAlertTopic, createSyncQueues, createTable } from './provision';
import { startSecretsManagerStandIn } from './secrets-manager-stand-in';
import { startSqsSnsLocal } from './sqs-sns-local';

export interface AwsStandInEndpoints {
  readonly dynamodb: string;
  readonly sqs: string;
  readonly sns: string;
  readonly secretsManager: string;
}

export interface AwsStandIns {
  readonly endpoints: AwsStandInEndpoints;
  /** DynamoDB Local's JVM. */
  readonly dynamodbPid: number | undefined;
  stop(): Promise<void>;
}

/**
 * Starts every AWS stand-in: DynamoDB Local, fauxqs (SQS + SNS) and the Secrets Manager
 * stand-in. Stops whatever did start if a later one fails, so no Java process is left behind.
 */
export const startAwsStandIns = async (): Promise<AwsStandIns> => {
  const started: Array<{ stop(): Promise<void> }> = [];
  const stop = async () => {
    await Promise.allSettled(started.reverse().map((standIn) => standIn.stop()));
  };
  try {
    const [dynamodb, sqsSns, secretsManager] = await Promise.all([
      startDynamoDbLocal().then((standIn) => {
        started.push(standIn);
        return standIn;
      }),
      startSqsSnsLocal().then((standIn) => {
        started.push(standIn);
        return standIn;
      }),
      startSecretsManagerStandIn().then((standIn) => {
        started.push(standIn);
        return standIn;
      }),
    ]);
    return {
      endpoints: {
        dynamodb: dynamodb.endpoint,
        sqs: sqsSns.endpoint,
        sns: sqsSns.endpoint,
        secretsManager: secretsManager.endpoint,
      },
      dynamodbPid: dynamodb.pid,
      stop,
    };
  } catch (error) {
    await stop();
    throw error;
  }
};

/**
 * The standard variables that point the AWS SDK v3 at the stand-ins. The SDK reads them itself,
 * so code under test runs exactly as in AWS.
 */
export const standInEnvironment = (endpoints: AwsStandInEndpoints): Record<string, string> => ({
  AWS_ENDPOINT_URL_DYNAMODB: endpoints.dynamodb,
  AWS_ENDPOINT_URL_SQS: endpoints.sqs,
  AWS_ENDPOINT_URL_SNS: endpoints.sns,
  AWS_ENDPOINT_URL_SECRETS_MANAGER: endpoints.secretsManager,
  AWS_REGION: 'us-east-1',
  AWS_ACCESS_KEY_ID: 'local',
  AWS_SECRET_ACCESS_KEY: 'local',
  AWS_EC2_METADATA_DISABLED: 'true',
});

export interface LocalResources {
  readonly tableName: string;
  readonly syncQueueUrl: string;
  readonly syncQueueArn: string;
  readonly deadLetterQueueUrl: string;
  readonly deadLetterQueueArn: string;
  readonly alertTopicArn: string;
  /** A queue subscribed to the alert topic, standing in for the admin's inbox. */
  readonly alertQueueUrl: string;
}

/** Creates one isolated set of resources (table, queues, topic) named with `prefix`. */
export const provisionLocalResources = async (
  clients: AwsClients,
  options: { prefix: string; maxReceiveCount?: number; visibilityTimeoutSeconds?: number },
): Promise<LocalResources> => {
  const tableName = `${options.prefix}-state`;
  const [queues, topic] = await Promise.all([
    createSyncQueues(clients.sqs, options),
    createAlertTopic(clients.sns, clients.sqs, {
      name: `${options.prefix}-alerts`,
      subscribeQueueName: `${options.prefix}-alert-inbox`,
    }),
    createTable(clients.dynamodb, tableName),
  ]);
  const attributes = await clients.sqs.send(
    new GetQueueAttributesCommand({ QueueUrl: queues.syncQueueUrl, AttributeNames: ['QueueArn'] }),
  );
  return {
    tableName,
    syncQueueUrl: queues.syncQueueUrl,
    syncQueueArn: attributes.Attributes?.QueueArn ?? '',
    deadLetterQueueUrl: queues.deadLetterQueueUrl,
    deadLetterQueueArn: queues.deadLetterQueueArn,
    alertTopicArn: topic.topicArn,
    alertQueueUrl: topic.alertQueueUrl ?? '',
  };
};

/** The zoho-sync function environment for a set of local resources. */
export const functionEnvironment = (resources: LocalResources): Record<string, string> => ({
  [ENV.tableName]: resources.tableName,
  [ENV.syncQueueUrl]: resources.syncQueueUrl,
  [ENV.deadLetterQueueUrl]: resources.deadLetterQueueUrl,
  [ENV.alertTopicArn]: resources.alertTopicArn,
});
