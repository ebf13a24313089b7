import { ArnFormat, Stack } from 'aws-cdk-lib';
import {
  type Grant,
  type IGrantable,
  PolicyStatement,
  ServicePrincipal,
} from 'aws-cdk-lib/aws-iam';
import { Key } from 'aws-cdk-lib/aws-kms';
import { Topic } from 'aws-cdk-lib/aws-sns';
import { EmailSubscription } from 'aws-cdk-lib/aws-sns-subscriptions';
import { Construct } from 'constructs';

export interface AlertTopicProps {
  /** One email subscription per address; each recipient confirms once. */
  readonly emails: readonly string[];
}

/**
 * The admin alert topic: admin alerts from the worker (code, meaning, fix) and every CloudWatch
 * alarm. Encrypted with its own customer-managed key (rotated yearly), because an AWS-managed
 * SNS key cannot grant CloudWatch the use it needs to publish alarms to an encrypted topic.
 */
export class AlertTopic extends Construct {
  readonly topic: Topic;
  readonly key: Key;

  constructor(scope: Construct, id: string, props: AlertTopicProps) {
    super(scope, id);
    const stack = Stack.of(this);
    const cloudWatch = new ServicePrincipal('cloudwatch.amazonaws.com');
    const fromThisAccountsAlarms = {
      StringEquals: { 'aws:SourceAccount': stack.account },
      ArnLike: {
        'aws:SourceArn': stack.formatArn({
          service: 'cloudwatch',
          resource: 'alarm',
          resourceName: '*',
          arnFormat: ArnFormat.COLON_RESOURCE_NAME,
        }),
      },
    };

    this.key = new Key(this, 'Key', {
      description: 'zoho-sync alert topic encryption',
      enableKeyRotation: true,
    });
    this.key.addToResourcePolicy(
      new PolicyStatement({
        sid: 'AllowCloudWatchAlarmsToPublishToTheEncryptedTopic',
        principals: [cloudWatch],
        actions: ['kms:Decrypt', 'kms:GenerateDataKey*'],
        resources: ['*'],
        conditions: { StringEquals: { 'aws:SourceAccount': stack.account } },
      }),
    );

    this.topic = new Topic(this, 'Topic', {
      displayName: 'zoho-sync alerts',
      masterKey: this.key,
      enforceSSL: true,
    });
    // enforceSSL gives the topic a resource policy, which replaces SNS's default one; alarms
    // publish as the CloudWatch service, so it needs its own allow.
    this.topic.addToResourcePolicy(
      new PolicyStatement({
        sid: 'AllowCloudWatchAlarmsToPublish',
        principals: [cloudWatch],
        actions: ['sns:Publish'],
        resources: [this.topic.topicArn],
        conditions: fromThisAccountsAlarms,
      }),
    );
    for (const email of props.emails) {
      this.topic.addSubscription(new EmailSubscription(email));
    }
  }

  /**
   * sns:Publish on this topic plus the two key actions SNS performs for a publisher of an
   * encrypted topic. Topic.grantPublish would grant `kms:GenerateDataKey*`, a wildcard that also
   * covers GenerateDataKeyPair and friends, which publishing never uses.
   */
  grantPublish(grantee: IGrantable): Grant {
    return this.topic.grants.actions(grantee, ['sns:Publish'], {
      keyActions: ['kms:GenerateDataKey', 'kms:Decrypt'],
    });
  }
}
