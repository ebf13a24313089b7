/**
 * A local stand-in for AWS Secrets Manager that speaks the real AWS JSON 1.1 wire protocol, so the
 * real `@aws-sdk/client-secrets-manager` client works against it unchanged.
 *
 * Hand-written on purpose: no emulator package for Secrets Manager exists on npm (LocalStack and
 * moto need Docker or Python, and DynamoDB Local / fauxqs cover other services only). It implements
 * the operations zoho-sync and its tests use, following AWS's documented behaviour: staging labels
 * (AWSCURRENT / AWSPREVIOUS), ClientRequestToken idempotency, recovery windows, and the error names
 * the SDK maps to its exception classes. SigV4 signatures are not checked. State is in memory, per
 * instance, and every request is handled synchronously once its body is read, so concurrent calls
 * are applied one at a time as on AWS.
 */
import { randomInt, randomUUID } from 'node:crypto';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import * as z from 'zod';

export interface SecretsManagerStandInOptions {
  /** @default 0 (an ephemeral port) */
  readonly port?: number;
  /** @default '127.0.0.1' */
  readonly host?: string;
  /** Region written into ARNs. @default 'us-east-1' */
  readonly region?: string;
  /** Account id written into ARNs. @default '000000000000' */
  readonly accountId?: string;
}

export interface SecretsManagerStandIn {
  /** Base URL to pass as the SDK client's `endpoint`, e.g. `http://127.0.0.1:45678`. */
  readonly endpoint: string;
  readonly port: number;
  stop(): Promise<void>;
}

const CURRENT = 'AWSCURRENT';
const PREVIOUS = 'AWSPREVIOUS';
const DAY_MS = 86_400_000;
const ALPHANUMERICS = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789';
const NOT_FOUND = "Secrets Manager can't find the specified secret.";
const MARKED_FOR_DELETION =
  "You can't perform this operation on the secret because it was marked for deletion.";

/** An AWS error to send back: `errorType` becomes `__type` and `x-amzn-ErrorType`. */
class StandInError extends Error {
  override readonly name = 'StandInError';
  constructor(
    readonly errorType: string,
    message: string,
    options?: ErrorOptions,
  ) {
    super(message, options);
  }
}

interface Tag {
  Key: string;
  Value?: string | undefined;
}

interface SecretValue {
  readonly secretString?: string | undefined;
  readonly secretBinary?: string | undefined;
}

interface SecretVersion extends SecretValue {
  readonly versionId: string;
  readonly createdMs: number;
  stages: string[];
}

interface Secret {
  readonly arn: string;
  readonly name: string;
  readonly createdMs: number;
  readonly versions: Map<string, SecretVersion>;
  description: string | undefined;
  tags: Tag[];
  lastChangedMs: number;
  /** Set while the secret is scheduled for deletion (the end of its recovery window). */
  deletionMs: number | undefined;
}

const secretId = z.string().min(1);
const token = z.string().min(32).max(64).optional();
const tagList = z.array(z.object({ Key: z.string().min(1), Value: z.string().optional() }));
const valueFields = { SecretString: z.string().optional(), SecretBinary: z.base64().optional() };
const filterKey = z.enum([
  'all',
  'description',
  'name',
  'owning-service',
  'primary-region',
  'tag-key',
  'tag-value',
]);

const schemas = {
  CreateSecret: z.object({
    Name: z.string().regex(/^[A-Za-z0-9/_+=.@-]{1,512}$/),
    ClientRequestToken: token,
    Description: z.string().optional(),
    Tags: tagList.optional(),
    ...valueFields,
  }),
  GetSecretValue: z.object({
    SecretId: secretId,
    VersionId: z.string().optional(),
    VersionStage: z.string().optional(),
  }),
  PutSecretValue: z.object({
    SecretId: secretId,
    ClientRequestToken: token,
    VersionStages: z.array(z.string().min(1)).min(1).optional(),
    ...valueFields,
  }),
  UpdateSecret: z.object({
    SecretId: secretId,
    ClientRequestToken: token,
    Description: z.string().optional(),
    ...valueFields,
  }),
  SecretIdOnly: z.object({ SecretId: secretId }),
  ListSecrets: z.object({
    Filters: z.array(z.object({ Key: filterKey, Values: z.array(z.string()).min(1) })).optional(),
    MaxResults: z.number().int().min(1).max(100).optional(),
    NextToken: z.string().optional(),
    IncludePlannedDeletion: z.boolean().optional(),
    SortOrder: z.enum(['asc', 'desc']).optional(),
  }),
  DeleteSecret: z.object({
    SecretId: secretId,
    ForceDeleteWithoutRecovery: z.boolean().optional(),
    RecoveryWindowInDays: z.number().int().min(7).max(30).optional(),
  }),
  TagResource: z.object({ SecretId: secretId, Tags: tagList }),
  UntagResource: z.object({ SecretId: secretId, TagKeys: z.array(z.string()) }),
};

const parse = <T extends z.ZodType>(schema: T, input: unknown): z.infer<T> => {
  const result = schema.safeParse(input);
  if (!result.success) {
    const problems = result.error.issues.map(
      (i) => `${i.path.join('.') || '(body)'}: ${i.message}`,
    );
    throw new StandInError(
      'InvalidParameterException',
      `Invalid parameter: ${problems.join('; ')}`,
    );
  }
  return result.data;
};

const toValue = (input: { SecretString?: string; SecretBinary?: string }) => {
  if (input.SecretString !== undefined && input.SecretBinary !== undefined) {
    throw new StandInError(
      'InvalidParameterException',
      "You can't specify both a binary secret value and a string secret value in the same secret.",
    );
  }
  if (input.SecretString === undefined && input.SecretBinary === undefined) return undefined;
  return { secretString: input.SecretString, secretBinary: input.SecretBinary } as SecretValue;
};

const seconds = (epochMs: number): number => epochMs / 1000;

/** The operations of one stand-in, each taking the parsed JSON body and returning the response. */
const createOperations = (region: string, accountId: string, now: () => number) => {
  const secrets = new Map<string, Secret>(); // by name

  // Accepts a name, a full ARN, or a partial ARN (without the random suffix), as AWS does.
  const find = (id: string): Secret | undefined => {
    const secret =
      secrets.get(id) ??
      [...secrets.values()].find((s) => s.arn === id || s.arn.slice(0, -7) === id);
    // A recovery window that has ended deletes the secret for good.
    if (secret?.deletionMs !== undefined && secret.deletionMs <= now()) {
      secrets.delete(secret.name);
      return undefined;
    }
    return secret;
  };
  const existing = (id: string): Secret => {
    const secret = find(id);
    if (!secret) throw new StandInError('ResourceNotFoundException', NOT_FOUND);
    return secret;
  };
  const live = (id: string): Secret => {
    const secret = existing(id);
    if (secret.deletionMs !== undefined) {
      throw new StandInError('InvalidRequestException', MARKED_FOR_DELETION);
    }
    return secret;
  };

  const moveStage = (secret: Secret, stage: string, target: SecretVersion): void => {
    const holder = [...secret.versions.values()].find((v) => v.stages.includes(stage));
    if (holder === target) return;
    if (holder) holder.stages = holder.stages.filter((s) => s !== stage);
    target.stages.push(stage);
    // AWS keeps the version that loses AWSCURRENT as AWSPREVIOUS.
    if (stage === CURRENT && holder) moveStage(secret, PREVIOUS, holder);
  };

  // ClientRequestToken becomes the VersionId. Reusing a token with the same value is a no-op;
  // with another value it is an error, since versions are immutable.
  const addVersion = (
    secret: Secret,
    versionId: string,
    value: SecretValue,
    stages: readonly string[],
  ): SecretVersion => {
    const prior = secret.versions.get(versionId);
    if (prior) {
      if (prior.secretString === value.secretString && prior.secretBinary === value.secretBinary) {
        return prior;
      }
      throw new StandInError(
        'ResourceExistsException',
        "You can't modify an existing version, you can only create a new version.",
      );
    }
    const version: SecretVersion = { ...value, versionId, createdMs: now(), stages: [] };
    secret.versions.set(versionId, version);
    for (const stage of stages) moveStage(secret, stage, version);
    secret.lastChangedMs = now();
    return version;
  };

  const stagesByVersion = (secret: Secret) =>
    Object.fromEntries(
      [...secret.versions.values()]
        .filter((v) => v.stages.length > 0)
        .map((v) => [v.versionId, v.stages]),
    );
  const summary = (secret: Secret) => ({
    ARN: secret.arn,
    Name: secret.name,
    Description: secret.description,
    CreatedDate: seconds(secret.createdMs),
    LastChangedDate: seconds(secret.lastChangedMs),
    DeletedDate: secret.deletionMs === undefined ? undefined : seconds(secret.deletionMs),
    Tags: secret.tags.length > 0 ? secret.tags : undefined,
  });

  type Filter = { Key: z.infer<typeof filterKey>; Values: string[] };
  const fieldsFor = (secret: Secret, key: Filter['Key']): string[] => {
    const tagKeys = secret.tags.map((t) => t.Key);
    const tagValues = secret.tags.map((t) => t.Value ?? '');
    const description = secret.description === undefined ? [] : [secret.description];
    if (key === 'name') return [secret.name];
    if (key === 'description') return description;
    if (key === 'tag-key') return tagKeys;
    if (key === 'tag-value') return tagValues;
    if (key === 'all') return [secret.name, ...description, ...tagKeys, ...tagValues];
    return [];
  };
  // Values of one filter are ORed, filters are ANDed; prefix match, '!' negates (AWS ListSecrets).
  const matches = (secret: Secret, filter: Filter): boolean =>
    filter.Values.some((raw) => {
      const negate = raw.startsWith('!');
      const wanted = negate ? raw.slice(1) : raw;
      const caseSensitive = filter.Key === 'tag-key' || filter.Key === 'tag-value';
      const norm = (s: string) => (caseSensitive ? s : s.toLowerCase());
      const hit = fieldsFor(secret, filter.Key).some((f) => norm(f).startsWith(norm(wanted)));
      return negate ? !hit : hit;
    });

  return {
    CreateSecret: (input: unknown) => {
      const request = parse(schemas.CreateSecret, input);
      const clash = find(request.Name);
      if (clash?.deletionMs !== undefined) {
        throw new StandInError(
          'InvalidRequestException',
          "You can't create this secret because a secret with this name is already scheduled for deletion.",
        );
      }
      if (clash) {
        throw new StandInError(
          'ResourceExistsException',
          `The operation failed because the secret ${request.Name} already exists.`,
        );
      }
      const value = toValue(request);
      const suffix = Array.from({ length: 6 }, () => ALPHANUMERICS[randomInt(62)]).join('');
      const secret: Secret = {
        arn: `arn:aws:secretsmanager:${region}:${accountId}:secret:${request.Name}-${suffix}`,
        name: request.Name,
        createdMs: now(),
        versions: new Map(),
        description: request.Description,
        tags: request.Tags ?? [],
        lastChangedMs: now(),
        deletionMs: undefined,
      };
      secrets.set(secret.name, secret);
      const version = value
        ? addVersion(secret, request.ClientRequestToken ?? randomUUID(), value, [CURRENT])
        : undefined;
      return { ARN: secret.arn, Name: secret.name, VersionId: version?.versionId };
    },

    GetSecretValue: (input: unknown) => {
      const request = parse(schemas.GetSecretValue, input);
      const secret = live(request.SecretId);
      const stage = request.VersionStage ?? (request.VersionId ? undefined : CURRENT);
      const version = request.VersionId
        ? secret.versions.get(request.VersionId)
        : [...secret.versions.values()].find(
            (v) => stage !== undefined && v.stages.includes(stage),
          );
      if (!version || (stage !== undefined && !version.stages.includes(stage))) {
        const what =
          stage === undefined ? `VersionId: ${request.VersionId}` : `staging label: ${stage}`;
        throw new StandInError(
          'ResourceNotFoundException',
          `Secrets Manager can't find the specified secret value for ${what}`,
        );
      }
      return {
        ARN: secret.arn,
        Name: secret.name,
        VersionId: version.versionId,
        SecretString: version.secretString,
        SecretBinary: version.secretBinary,
        VersionStages: version.stages,
        CreatedDate: seconds(version.createdMs),
      };
    },

    PutSecretValue: (input: unknown) => {
      const request = parse(schemas.PutSecretValue, input);
      const secret = live(request.SecretId);
      const value = toValue(request);
      if (!value) {
        throw new StandInError(
          'InvalidParameterException',
          'You must provide either SecretString or SecretBinary.',
        );
      }
      const versionId = request.ClientRequestToken ?? randomUUID();
      const version = addVersion(secret, versionId, value, request.VersionStages ?? [CURRENT]);
      return {
        ARN: secret.arn,
        Name: secret.name,
        VersionId: version.versionId,
        VersionStages: version.stages,
      };
    },

    UpdateSecret: (input: unknown) => {
      const request = parse(schemas.UpdateSecret, input);
      const secret = live(request.SecretId);
      if (request.Description !== undefined) {
        secret.description = request.Description;
        secret.lastChangedMs = now();
      }
      const value = toValue(request);
      const version = value
        ? addVersion(secret, request.ClientRequestToken ?? randomUUID(), value, [CURRENT])
        : undefined;
      return { ARN: secret.arn, Name: secret.name, VersionId: version?.versionId };
    },

    DescribeSecret: (input: unknown) => {
      const secret = existing(parse(schemas.SecretIdOnly, input).SecretId);
      return { ...summary(secret), VersionIdsToStages: stagesByVersion(secret) };
    },

    ListSecrets: (input: unknown) => {
      const request = parse(schemas.ListSecrets, input);
      const all = [...secrets.keys()]
        .map((name) => find(name))
        .filter((s): s is Secret => s !== undefined)
        .filter((s) => request.IncludePlannedDeletion || s.deletionMs === undefined)
        .filter((s) => (request.Filters ?? []).every((f) => matches(s, f)))
        .sort((a, b) => (a.createdMs - b.createdMs) * (request.SortOrder === 'desc' ? -1 : 1));
      const start = request.NextToken === undefined ? 0 : Number(request.NextToken);
      if (!Number.isInteger(start) || start < 0 || start > all.length) {
        throw new StandInError('InvalidNextTokenException', 'The NextToken value is invalid.');
      }
      const end = start + (request.MaxResults ?? 100);
      return {
        SecretList: all
          .slice(start, end)
          .map((s) => ({ ...summary(s), SecretVersionsToStages: stagesByVersion(s) })),
        NextToken: end < all.length ? String(end) : undefined,
      };
    },

    DeleteSecret: (input: unknown) => {
      const request = parse(schemas.DeleteSecret, input);
      const secret = existing(request.SecretId);
      if (request.ForceDeleteWithoutRecovery && request.RecoveryWindowInDays !== undefined) {
        throw new StandInError(
          'InvalidParameterException',
          "You can't use ForceDeleteWithoutRecovery in conjunction with RecoveryWindowInDays.",
        );
      }
      if (request.ForceDeleteWithoutRecovery) {
        secrets.delete(secret.name);
        return { ARN: secret.arn, Name: secret.name, DeletionDate: seconds(now()) };
      }
      if (secret.deletionMs !== undefined) {
        throw new StandInError('InvalidRequestException', MARKED_FOR_DELETION);
      }
      secret.deletionMs = now() + (request.RecoveryWindowInDays ?? 30) * DAY_MS;
      return { ARN: secret.arn, Name: secret.name, DeletionDate: seconds(secret.deletionMs) };
    },

    RestoreSecret: (input: unknown) => {
      const secret = existing(parse(schemas.SecretIdOnly, input).SecretId);
      secret.deletionMs = undefined;
      return { ARN: secret.arn, Name: secret.name };
    },

    TagResource: (input: unknown) => {
      const request = parse(schemas.TagResource, input);
      const secret = live(request.SecretId);
      const newKeys = new Set(request.Tags.map((t) => t.Key));
      secret.tags = [...secret.tags.filter((t) => !newKeys.has(t.Key)), ...request.Tags];
      return {};
    },

    UntagResource: (input: unknown) => {
      const request = parse(schemas.UntagResource, input);
      const secret = live(request.SecretId);
      secret.tags = secret.tags.filter((t) => !request.TagKeys.includes(t.Key));
      return {};
    },
  } satisfies Record<string, (input: unknown) => object>;
};

type Operations = Record<string, ((input: unknown) => object) | undefined>;

const readBody = (request: IncomingMessage): Promise<string> =>
  new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    request.on('data', (chunk: Buffer) => chunks.push(chunk));
    request.on('end', () => resolve(Buffer.concat(chunks).toString('utf8')));
    request.on('error', reject);
  });

const dispatch = (operations: Operations, target: string | undefined, body: string): object => {
  const name = target?.startsWith('secretsmanager.') ? target.slice('secretsmanager.'.length) : '';
  const operation = Object.hasOwn(operations, name) ? operations[name] : undefined;
  if (!operation) {
    throw new StandInError(
      'UnknownOperationException',
      `Operation ${target ?? '(missing X-Amz-Target)'} is not supported.`,
    );
  }
  let input: unknown;
  try {
    input = body.trim() === '' ? {} : JSON.parse(body);
  } catch (error) {
    throw new StandInError('SerializationException', 'The request body is not valid JSON.', {
      cause: error,
    });
  }
  if (typeof input !== 'object' || input === null || Array.isArray(input)) {
    throw new StandInError('SerializationException', 'The request body must be a JSON object.');
  }
  return operation(input);
};

const respond = (response: ServerResponse, status: number, body: object, errorType?: string) => {
  response.writeHead(status, {
    'content-type': 'application/x-amz-json-1.1',
    'x-amzn-requestid': randomUUID(),
    ...(errorType === undefined ? {} : { 'x-amzn-errortype': errorType }),
  });
  response.end(JSON.stringify(body));
};

/**
 * Starts a Secrets Manager stand-in on `host:port` with an empty in-memory store.
 * @example
 * const standIn = await startSecretsManagerStandIn();
 * const client = new SecretsManagerClient({ endpoint: standIn.endpoint, region: 'us-east-1',
 *   credentials: { accessKeyId: 'test', secretAccessKey: 'test' } });
 */
export const startSecretsManagerStandIn = async (
  options: SecretsManagerStandInOptions = {},
): Promise<SecretsManagerStandIn> => {
  const host = options.host ?? '127.0.0.1';
  const operations: Operations = createOperations(
    options.region ?? 'us-east-1',
    options.accountId ?? '000000000000',
    Date.now,
  );

  const handle = async (request: IncomingMessage, response: ServerResponse): Promise<void> => {
    try {
      const body = await readBody(request);
      if (request.method !== 'POST') {
        throw new StandInError('UnknownOperationException', 'Only POST / is supported.');
      }
      const target = request.headers['x-amz-target'];
      const result = dispatch(operations, typeof target === 'string' ? target : undefined, body);
      respond(response, 200, result);
    } catch (error) {
      if (error instanceof StandInError) {
        respond(
          response,
          400,
          { __type: error.errorType, message: error.message },
          error.errorType,
        );
        return;
      }
      // A bug in the stand-in: a server fault, which the SDK maps to InternalServiceError.
      const message = 'The stand-in failed to handle the request.';
      respond(response, 500, { __type: 'InternalServiceError', message }, 'InternalServiceError');
    }
  };
  const server = createServer((request, response) => {
    void handle(request, response);
  });

  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port ?? 0, host, () => {
      server.off('error', reject);
      resolve();
    });
  });
  const address = server.address();
  if (address === null || typeof address === 'string') {
    throw new Error('secrets-manager stand-in: server has no TCP address');
  }
  const urlHost = host.includes(':') ? `[${host}]` : host;
  return {
    endpoint: `http://${urlHost}:${address.port}`,
    port: address.port,
    stop: () =>
      new Promise<void>((resolve, reject) => {
        server.close((error) => (error ? reject(error) : resolve()));
        // The SDK keeps sockets alive; close them so stop() does not wait for their timeout.
        server.closeAllConnections();
      }),
  };
};
