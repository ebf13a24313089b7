import {
  GetSecretValueCommand,
  ResourceNotFoundException,
  type SecretsManagerClient,
} from '@aws-sdk/client-secrets-manager';
import type * as z from 'zod';
import { ConfigError } from '../config';

/**
 * Reads a JSON secret and validates it with `schema`; undefined when the secret does not exist.
 * @throws {ConfigError} when it exists but is not valid JSON or not valid for the schema. The
 * message names the failing fields, never their values: these secrets hold credentials.
 */
export const readJsonSecret = async <Schema extends z.ZodType>(
  secretsManager: SecretsManagerClient,
  secretId: string,
  schema: Schema,
): Promise<z.infer<Schema> | undefined> => {
  let secretString: string | undefined;
  try {
    const result = await secretsManager.send(new GetSecretValueCommand({ SecretId: secretId }));
    secretString = result.SecretString;
  } catch (error) {
    if (error instanceof ResourceNotFoundException) return undefined;
    throw error;
  }
  let json: unknown;
  try {
    json = JSON.parse(secretString ?? '');
  } catch {
    throw new ConfigError(`secret ${secretId} is not valid JSON`);
  }
  const parsed = schema.safeParse(json);
  if (!parsed.success) {
    const fields = parsed.error.issues.map((issue) => issue.path.join('.') || '(root)');
    throw new ConfigError(`secret ${secretId} is invalid: check ${fields.join(', ')}`);
  }
  return parsed.data;
};
