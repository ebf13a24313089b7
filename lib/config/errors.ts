import { ZohoSyncError } from '../errors';

/** Thrown by {@link loadConfig} or a connection parser when configuration is missing or invalid. */
export class ConfigError extends ZohoSyncError {
  override readonly name = 'ConfigError';
  constructor(message: string, options?: ErrorOptions) {
    super(message, { disposition: 'fail-alert', ...options });
  }
}
