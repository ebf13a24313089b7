export { type Logger, logger } from './logger';
export { redact, redactingJsonReplacer, registerSecretValues } from './redact';
