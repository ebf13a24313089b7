import { createHash, timingSafeEqual } from 'node:crypto';

/**
 * Compares a presented webhook token with the connection's secret in constant time. Both are
 * hashed first so the comparison takes the same time whatever their lengths.
 */
export const isValidWebhookToken = (
  presented: string | undefined,
  expected: string | undefined,
): boolean => {
  const presentedDigest = createHash('sha256')
    .update(presented ?? '')
    .digest();
  const expectedDigest = createHash('sha256')
    .update(expected ?? '')
    .digest();
  const equal = timingSafeEqual(presentedDigest, expectedDigest);
  return equal && presented !== undefined && expected !== undefined && expected.length > 0;
};
