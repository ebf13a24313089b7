import {
  CreateTableCommand,
  type DynamoDBClient,
  ResourceInUseException,
  UpdateTimeToLiveCommand,
  waitUntilTableExists,
} from '@aws-sdk/client-dynamodb';
import { CreateTopicCommand, type SNSClient, SubscribeCommand } from '@aws-sdk/client-sns';
import { CreateQueueCommand, GetQueueAttributesCommand, type SQSClient } from '@aws-sdk/client-sqs';
import { TABLE_KEY } from '../aws';

/**
 * Creates, through the real SDK clients, the resources the CDK stack creates in AWS: the one
 * table, the sync queue with its DLQ and the alert topic. Local mode and integration tests use
 * it; production uses infra/. Keep the two in step (same key schema, TTL attribute, redrive).
 */
export const createTable = async (dynamodb: DynamoDBClient, tableName: string): Promise<void> => {
  try {
    await dynamodb.send(
      new CreateTableCommand({
        TableName: tableName,
        BillingMode: 'PAY_PER_REQUEST',
        AttributeDefinitions: [
          { AttributeName: TABLE_KEY.partition, AttributeType: 'S' },
          { AttributeName: TABLE_KEY.sort, AttributeType: 'S' },
        ],
        KeySchema: [
          { AttributeName: TABLE_KEY.partition, KeyType: 'HASH' },
          { AttributeName: TABLE_KEY.sort, KeyType: 'RANGE' },
        ],
      }),
    );
  } catch (error) {
    if (!(error instanceof ResourceInUseException)) throw error;
    return;
  }
  await waitUntilTableExists({ client: dynamodb, maxWaitTime: 30 }, { TableName: tableName });
  await dynamodb.send(
    new UpdateTimeToLiveCommand({
      TableName: tableName,
      TimeToLiveSpecification: { AttributeName: TABLE_KEY.ttl, Enabled: true },
    }),
  );
};

export interface SyncQueues {
  readonly syncQueueUrl: string;
  readonly deadLetterQueueUrl: string;
  readonly deadLetterQueueArn: string;
}

export const createSyncQueues = async (
  sqs: SQSClient,
  options: { prefix: string; maxReceiveCount?: number; visibilityTimeoutSeconds?: number },
): Promise<SyncQueues> => {
  const dlq = await sqs.send(
    new CreateQueueCommand({
      QueueName: `${options.prefix}-sync-dlq`,
      Attributes: { MessageRetentionPeriod: '1209600' },
    }),
  );
  const deadLetterQueueUrl = dlq.QueueUrl ?? '';
  const dlqAttributes = await sqs.send(
    new GetQueueAttributesCommand({ QueueUrl: deadLetterQueueUrl, AttributeNames: ['QueueArn'] }),
  );
  const deadLetterQueueArn = dlqAttributes.Attributes?.QueueArn ?? '';
  const queue = await sqs.send(
    new CreateQueueCommand({
      QueueName: `${options.prefix}-sync`,
      Attributes: {
        VisibilityTimeout: String(options.visibilityTimeoutSeconds ?? 30),
        RedrivePolicy: JSON.stringify({
          deadLetterTargetArn: deadLetterQueueArn,
          maxReceiveCount: String(options.maxReceiveCount ?? 5),
        }),
      },
    }),
  );
  return { syncQueueUrl: queue.QueueUrl ?? '', deadLetterQueueUrl, deadLetterQueueArn };
};

/** Creates the alert topic and, optionally, subscribes a queue to it (to read alerts locally). */
export const createAlertTopic = async (
  sns: SNSClient,
  sqs: SQSClient,
  options: { name: string; subscribeQueueName?: string },
): Promise<{ topicArn: string; alertQueueUrl?: string }> => {
  const topic = await sns.send(new CreateTopicCommand({ Name: options.name }));
  const topicArn = topic.TopicArn ?? '';
  if (options.subscribeQueueName === undefined) return { topicArn };
  const queue = await sqs.send(new CreateQueueCommand({ QueueName: options.subscribeQueueName }));
  const alertQueueUrl = queue.QueueUrl ?? '';
  const attributes = await sqs.send(
    new GetQueueAttributesCommand({ QueueUrl: alertQueueUrl, AttributeNames: ['QueueArn'] }),
  );
  await sns.send(
    new SubscribeCommand({
      TopicArn: topicArn,
      Protocol: 'sqs',
      Endpoint: attributes.Attributes?.QueueArn ?? '',
      Attributes: { RawMessageDelivery: 'false' },
    }),
  );
  return { topicArn, alertQueueUrl };
};

export { putConnectionSecret } from '../tokens/setup-connection';
