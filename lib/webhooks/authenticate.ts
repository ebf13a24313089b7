import { createHash, timingSafeEqual } from 'node:crypto';
import type { WebhookSecret } from '../config';

const digest = (value: string | undefined): Buffer =>
  createHash('sha256')
    .update(value ?? '')
    .digest();

/**
 * Compares a presented webhook token with the connection's secret in constant time. Both are
 * hashed first so the comparison takes the same time whatever their lengths.
 */
export const isValidWebhookToken = (
  presented: string | undefined,
  expected: string | undefined,
): boolean => {
  const equal = timingSafeEqual(digest(presented), digest(expected));
  return equal && presented !== undefined && expected !== undefined && expected.length > 0;
};

/**
 * True when the token is the connection's current or (during a rotation) next webhook secret.
 * Both comparisons always run, each in constant time, so the answer's timing reveals neither
 * which secret matched nor whether a rotation is in progress.
 */
export const matchesWebhookSecret = (
  presented: string | undefined,
  secret: WebhookSecret | undefined,
): boolean => {
  const current = isValidWebhookToken(presented, secret?.webhookSecret);
  const next = isValidWebhookToken(presented, secret?.nextWebhookSecret);
  return current || next;
};
