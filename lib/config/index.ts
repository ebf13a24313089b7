export {
  type AwsTimeouts,
  type Config,
  ENV,
  loadAwsTimeouts,
  loadConfig,
  loadSecretPrefix,
} from './config';
export {
  type AccessTokenRecord,
  accessTokenRecordSchema,
  accessTokenSecretId,
  BOOKS_REQUESTS_PER_MINUTE,
  type BooksPlan,
  CONNECTION_ID_PATTERN,
  type Connection,
  type ConnectionSecret,
  connectionIdSchema,
  connectionSecretId,
  connectionSecretSchema,
  DAILY_LIMIT_BY_PLAN,
  DATA_CENTERS,
  type DataCenter,
  DEFAULT_MAX_CONCURRENCY,
  toConnection,
  type WebhookSecret,
  webhookSecretId,
  webhookSecretSchema,
} from './connection';
export { ConfigError } from './errors';
export {
  DUPLICATE_CONTACT_NAME_POLICIES,
  type DuplicateContactNamePolicy,
  type FieldMapping,
  fieldMappingSchema,
  type ModuleFieldMapping,
} from './field-mapping';
export { STACK_DEFAULTS } from './stack-defaults';
