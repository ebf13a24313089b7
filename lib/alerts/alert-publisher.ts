import { PublishCommand, type SNSClient } from '@aws-sdk/client-sns';
import type { Logger, MetricsRecorder } from '../observability';
import { METRICS, redact } from '../observability';
import type { AdminAlert } from './admin-alert';

export interface AlertPublisher {
  /**
   * Publishes an alert. Never throws: a failed publish is logged and counted, and must not make
   * the sync message fail a second time.
   */
  publish(alert: AdminAlert): Promise<boolean>;
}

export const createAlertPublisher = (deps: {
  readonly sns: SNSClient;
  readonly topicArn: string | undefined;
  readonly logger: Logger;
  /** Counts failed publishes (`AlertPublishFailed`). @default no metrics */
  readonly metrics?: MetricsRecorder;
}): AlertPublisher => ({
  async publish(alert) {
    const countFailure = () =>
      deps.metrics?.count(METRICS.alertPublishFailed, { connection: alert.attributes.connection });
    if (deps.topicArn === undefined) {
      deps.logger.error('alert not published: no alert topic configured', {
        subject: alert.subject,
      });
      countFailure();
      return false;
    }
    try {
      await deps.sns.send(
        new PublishCommand({
          TopicArn: deps.topicArn,
          Subject: alert.subject,
          Message: redact(alert.body),
          MessageAttributes: {
            connection: { DataType: 'String', StringValue: alert.attributes.connection },
            code: { DataType: 'String', StringValue: alert.attributes.code },
            severity: { DataType: 'String', StringValue: alert.attributes.severity },
          },
        }),
      );
      deps.logger.info('alert published', { subject: alert.subject });
      return true;
    } catch (error) {
      deps.logger.error('alert publish failed', {
        subject: alert.subject,
        error: error instanceof Error ? error.message : String(error),
      });
      countFailure();
      return false;
    }
  },
});
