import { createHash } from 'node:crypto';
import type { Connection } from '../config';

/**
 * SHA-256 over every field of a connection secret (with defaults applied), in a fixed key
 * order. Any edit an operator makes to the secret (organization id, data centre, credentials)
 * gives another fingerprint, which is how the breaker notices a fix without keeping, logging or
 * comparing the values themselves. The hash of high-entropy credentials reveals nothing.
 */
export const connectionFingerprint = (connection: Connection): string => {
  const fields = Object.entries(connection).sort(([a], [b]) => a.localeCompare(b));
  return createHash('sha256').update(JSON.stringify(fields)).digest('hex');
};
