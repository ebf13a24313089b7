import { ListSecretsCommand, type SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { CONNECTION_ID_PATTERN } from '../config';

export interface ListConnectionIdsDeps {
  readonly secretsManager: SecretsManagerClient;
  /** e.g. `zoho-sync/`; each connection's secret is `<prefix><connectionId>`. */
  readonly secretPrefix: string;
}

/**
 * The ids of every connection: the names of the `<prefix><connectionId>` secrets, found with
 * `ListSecrets` and a name filter. Access-token secrets (`<prefix><id>/access-token`) and names
 * that are not connection ids are skipped; secrets scheduled for deletion are not listed. Sorted,
 * so every run visits connections in the same order.
 *
 * `ListSecrets` cannot be limited to a resource in IAM: the function needs
 * `secretsmanager:ListSecrets` on `*`. It returns names and metadata only, never secret values.
 * @throws whatever the SDK throws (after its own retries).
 */
export const listConnectionIds = async (deps: ListConnectionIdsDeps): Promise<string[]> => {
  const ids = new Set<string>();
  let nextToken: string | undefined;
  do {
    const page = await deps.secretsManager.send(
      new ListSecretsCommand({
        // AWS matches the name filter as a case-insensitive prefix, so names are checked again.
        Filters: [{ Key: 'name', Values: [deps.secretPrefix] }],
        MaxResults: 100,
        ...(nextToken === undefined ? {} : { NextToken: nextToken }),
      }),
    );
    for (const secret of page.SecretList ?? []) {
      const name = secret.Name ?? '';
      if (!name.startsWith(deps.secretPrefix)) continue;
      const connectionId = name.slice(deps.secretPrefix.length);
      if (CONNECTION_ID_PATTERN.test(connectionId)) ids.add(connectionId);
    }
    nextToken = page.NextToken;
  } while (nextToken !== undefined);
  return [...ids].sort();
};
