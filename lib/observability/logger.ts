import { Logger } from '@aws-lambda-powertools/logger';
import { redactingJsonReplacer } from './redact';

/**
 * The one structured logger every zoho-sync function and local mode shares. Every value passes
 * through the redacting replacer, so a token that slips into a log attribute is still scrubbed.
 */
export const logger = new Logger({
  serviceName: 'zoho-sync',
  jsonReplacerFn: redactingJsonReplacer,
});

export type { Logger };
