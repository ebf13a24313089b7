import {
  CreateSecretCommand,
  GetSecretValueCommand,
  PutSecretValueCommand,
  ResourceExistsException,
  ResourceNotFoundException,
  type SecretsManagerClient,
} from '@aws-sdk/client-secrets-manager';
import { type AccessTokenRecord, accessTokenRecordSchema, accessTokenSecretId } from '../config';
import { registerSecretValues } from '../observability';

export interface AccessTokenSecretDeps {
  readonly secretsManager: SecretsManagerClient;
  readonly secretPrefix: string;
}

/**
 * Reads `<prefix><connectionId>/access-token`. A missing, non-JSON or malformed secret reads
 * as no token: the next refresh overwrites it.
 */
export const readAccessTokenSecret = async (
  deps: AccessTokenSecretDeps,
  connectionId: string,
): Promise<AccessTokenRecord | undefined> => {
  let secretString: string | undefined;
  try {
    const result = await deps.secretsManager.send(
      new GetSecretValueCommand({ SecretId: accessTokenSecretId(deps.secretPrefix, connectionId) }),
    );
    secretString = result.SecretString;
  } catch (error) {
    if (error instanceof ResourceNotFoundException) return undefined;
    throw error;
  }
  let json: unknown;
  try {
    json = JSON.parse(secretString ?? '');
  } catch {
    return undefined;
  }
  const parsed = accessTokenRecordSchema.safeParse(json);
  if (!parsed.success) return undefined;
  registerSecretValues(parsed.data.accessToken);
  return parsed.data;
};

/**
 * Writes the access token to its own secret, creating it on first use. It never touches the
 * operator's credential secret `<prefix><connectionId>`: the ids differ by `/access-token`.
 */
export const writeAccessTokenSecret = async (
  deps: AccessTokenSecretDeps,
  connectionId: string,
  record: AccessTokenRecord,
): Promise<void> => {
  const SecretId = accessTokenSecretId(deps.secretPrefix, connectionId);
  const SecretString = JSON.stringify(record);
  try {
    await deps.secretsManager.send(new PutSecretValueCommand({ SecretId, SecretString }));
    return;
  } catch (error) {
    if (!(error instanceof ResourceNotFoundException)) throw error;
  }
  try {
    await deps.secretsManager.send(
      new CreateSecretCommand({
        Name: SecretId,
        SecretString,
        Description: `zoho-sync access token of connection ${connectionId}; written by zoho-sync, do not edit`,
      }),
    );
  } catch (error) {
    // Created by another writer since our put: write our value as a new version.
    if (!(error instanceof ResourceExistsException)) throw error;
    await deps.secretsManager.send(new PutSecretValueCommand({ SecretId, SecretString }));
  }
};
