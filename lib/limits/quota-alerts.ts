import {
  ConditionalCheckFailedException,
  type DynamoDBClient,
  PutItemCommand,
} from '@aws-sdk/client-dynamodb';
import type { AlertPublisher } from '../alerts/alert-publisher';
import { renderQuotaAlert } from '../alerts/quota-alert';
import { TABLE_KEY, tableKeys, toKeyAttributes, ttlAttribute } from '../aws';
import { type Connection, connectionSecretId } from '../config';
import type { Logger } from '../observability';
import type { QuotaDay } from './budget-calendar';

/** Daily-quota shares that raise an admin alert, once per connection and quota day. */
export const QUOTA_ALERT_THRESHOLDS = [80, 100] as const;

export interface QuotaAlertsDeps {
  readonly dynamodb: DynamoDBClient;
  readonly tableName: string;
  readonly alerts: AlertPublisher;
  readonly logger: Logger;
  readonly secretPrefix: string;
}

/** Where a connection's daily quota stands, as the limiter last saw it. */
export interface QuotaReading {
  readonly connection: Connection;
  readonly day: QuotaDay;
  /** Calls counted today and our limit for them. */
  readonly used: number;
  readonly limit: number;
  /** Zoho's own count from its headers, when it sent them. */
  readonly zohoLimit?: number;
  readonly zohoRemaining?: number;
  /** When work held back by a spent quota resumes. */
  readonly resumesAtMs: number;
  /** The quota is known to be spent (a refused call), whatever the counts say. */
  readonly spent?: boolean;
}

/** The share of the daily quota spent, 0-100: ours or Zoho's, whichever is higher. */
export const quotaUsedPercent = (
  reading: Omit<QuotaReading, 'connection' | 'day' | 'resumesAtMs'>,
): number => {
  if (reading.spent === true) return 100;
  const ours = reading.limit > 0 ? (reading.used / reading.limit) * 100 : 100;
  const zohos =
    reading.zohoLimit !== undefined && reading.zohoRemaining !== undefined && reading.zohoLimit > 0
      ? ((reading.zohoLimit - reading.zohoRemaining) / reading.zohoLimit) * 100
      : 0;
  return Math.min(100, Math.max(ours, zohos));
};

export interface QuotaAlerts {
  /**
   * Publishes the 80% and 100% alerts the reading has reached and no one has sent today. A
   * conditional put (`tableKeys.quotaThresholdAlert`, expiring with TTL) makes "once per
   * connection and day" hold across containers; this container also remembers what it saw
   * sent, so a busy day costs one put per threshold, not one per call.
   */
  check(reading: QuotaReading): Promise<void>;
}

const RETAIN_AFTER_DAY_MS = 2 * 86_400_000;

export const createQuotaAlerts = (deps: QuotaAlertsDeps): QuotaAlerts => {
  const handled = new Set<string>();

  const claim = async (connectionId: string, day: QuotaDay, percent: number): Promise<boolean> => {
    try {
      await deps.dynamodb.send(
        new PutItemCommand({
          TableName: deps.tableName,
          Item: {
            ...toKeyAttributes(tableKeys.quotaThresholdAlert(connectionId, day.key, percent)),
            [TABLE_KEY.ttl]: ttlAttribute(day.endMs + RETAIN_AFTER_DAY_MS),
          },
          ConditionExpression: 'attribute_not_exists(#pk)',
          ExpressionAttributeNames: { '#pk': TABLE_KEY.partition },
        }),
      );
      return true;
    } catch (error) {
      if (error instanceof ConditionalCheckFailedException) return false;
      throw error;
    }
  };

  return {
    async check(reading) {
      const percent = quotaUsedPercent(reading);
      const { connectionId, booksOrganizationId, quotaTimeZone } = reading.connection;
      for (const threshold of QUOTA_ALERT_THRESHOLDS) {
        const memo = `${connectionId}#${reading.day.key}#${threshold}`;
        if (percent < threshold || handled.has(memo)) continue;
        handled.add(memo);
        try {
          if (!(await claim(connectionId, reading.day, threshold))) continue;
        } catch (error) {
          // The alert is advice; a failed claim must not fail the call it rides on.
          handled.delete(memo);
          deps.logger.warn('quota alert not claimed', {
            connection_id: connectionId,
            error: error instanceof Error ? error.message : String(error),
          });
          continue;
        }
        deps.logger.info('daily quota threshold reached', {
          connection_id: connectionId,
          org_id: booksOrganizationId,
          quota_used: reading.used,
          quota_limit: reading.limit,
          threshold_percent: threshold,
        });
        await deps.alerts.publish(
          renderQuotaAlert({
            connectionId,
            booksOrganizationId,
            day: reading.day.key,
            timeZone: quotaTimeZone,
            thresholdPercent: threshold,
            used: reading.used,
            limit: reading.limit,
            ...(reading.zohoRemaining === undefined
              ? {}
              : { zohoRemaining: reading.zohoRemaining }),
            resumesAtIso: new Date(reading.resumesAtMs).toISOString(),
            secretId: connectionSecretId(deps.secretPrefix, connectionId),
          }),
        );
      }
    },
  };
};
