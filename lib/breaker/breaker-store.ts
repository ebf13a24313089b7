import {
  type AttributeValue,
  ConditionalCheckFailedException,
  DeleteItemCommand,
  type DynamoDBClient,
  GetItemCommand,
  PutItemCommand,
  UpdateItemCommand,
} from '@aws-sdk/client-dynamodb';
import { TABLE_KEY, tableKeys, toKeyAttributes } from '../aws';

export interface BreakerStoreDeps {
  readonly dynamodb: DynamoDBClient;
  readonly tableName: string;
}

/**
 * An open circuit breaker: the one DynamoDB item `tableKeys.circuitBreaker(connectionId)`.
 * No item means closed. Holds no credential, only a fingerprint of the connection secret.
 */
export interface BreakerState {
  readonly connectionId: string;
  /** When it opened; identifies this opening in every conditional write. */
  readonly openedAtMs: number;
  /** The error-table row (or zoho-sync failure id) that opened it, e.g. `books-6024`. */
  readonly entryId: string;
  /** Zoho code or HTTP status as the alerts print it, e.g. `6024`. */
  readonly code: string;
  readonly title: string;
  /**
   * Fingerprints of the connection secrets seen failing this way (none when the secret could
   * not even be read). A message running with any other fingerprint means an operator changed
   * the secret. A set rather than the latest one, so a container still holding the old secret
   * in its cache is not mistaken for a change.
   */
  readonly fingerprints: readonly string[];
  /** From this time on, one message may probe the connection (half-open). */
  readonly probeAtMs: number;
  /** The message kept cycling through the queue to be the next probe. */
  readonly carrierMessageId: string | undefined;
  /** The message probing now, and until when its probe blocks other probes. */
  readonly probeMessageId: string | undefined;
  readonly probeUntilMs: number | undefined;
  /** Probes that failed the same way since it opened. */
  readonly failedProbes: number;
}

export type NewBreakerState = Omit<
  BreakerState,
  'probeMessageId' | 'probeUntilMs' | 'failedProbes' | 'fingerprints'
> & { readonly fingerprint: string | undefined };

/**
 * Reads and changes a connection's breaker item. Every change is a conditional write on the
 * opening's `openedAtMs`, so a slow worker can never close or re-arm a later opening, and two
 * workers seeing the same failure open it once.
 */
export interface BreakerStore {
  get(connectionId: string): Promise<BreakerState | undefined>;
  /** @returns true when this call opened it, false when it was already open. */
  open(state: NewBreakerState): Promise<boolean>;
  /**
   * Makes `messageId` the probe until `untilMs`, unless another probe holds it. Without
   * `ignoreProbeAt`, only once `probeAtMs` has passed.
   * @returns true when `messageId` may probe.
   */
  claimProbe(
    state: BreakerState,
    messageId: string,
    nowMs: number,
    untilMs: number,
    ignoreProbeAt: boolean,
  ): Promise<boolean>;
  /** After a failed probe: the next probe after `probeAtMs`, carried by `carrierMessageId`. */
  rearm(
    state: BreakerState,
    change: { probeAtMs: number; carrierMessageId: string; fingerprint: string | undefined },
  ): Promise<boolean>;
  /** After a probe without a verdict: lets the next message probe at once. */
  releaseProbe(state: BreakerState, carrierMessageId: string | undefined): Promise<boolean>;
  /**
   * Closes it: only the opening `openedAtMs` when given, any opening otherwise (operator reset).
   * @returns the state it closed, or undefined when it was not (or no longer) open.
   */
  close(connectionId: string, openedAtMs?: number): Promise<BreakerState | undefined>;
}

const numberOf = (value: AttributeValue | undefined): number | undefined =>
  value?.N === undefined ? undefined : Number(value.N);

const toState = (
  connectionId: string,
  item: Record<string, AttributeValue>,
): BreakerState | undefined => {
  const openedAtMs = numberOf(item.openedAtMs);
  if (openedAtMs === undefined) return undefined;
  return {
    connectionId,
    openedAtMs,
    entryId: item.entryId?.S ?? 'unknown',
    code: item.code?.S ?? 'unknown',
    title: item.title?.S ?? '',
    fingerprints: item.fingerprints?.SS ?? [],
    probeAtMs: numberOf(item.probeAtMs) ?? openedAtMs,
    carrierMessageId: item.carrierMessageId?.S,
    probeMessageId: item.probeMessageId?.S,
    probeUntilMs: numberOf(item.probeUntilMs),
    failedProbes: numberOf(item.failedProbes) ?? 0,
  };
};

const n = (value: number): AttributeValue => ({ N: String(value) });

const conditionally = async (write: () => Promise<unknown>): Promise<boolean> => {
  try {
    await write();
    return true;
  } catch (error) {
    // The expected answer when another worker got there first: not a failure.
    if (error instanceof ConditionalCheckFailedException) return false;
    throw error;
  }
};

export const createBreakerStore = (deps: BreakerStoreDeps): BreakerStore => {
  const key = (connectionId: string) => toKeyAttributes(tableKeys.circuitBreaker(connectionId));
  const sameOpening = {
    ConditionExpression: 'openedAtMs = :opened',
  } as const;

  return {
    async get(connectionId) {
      const result = await deps.dynamodb.send(
        new GetItemCommand({
          TableName: deps.tableName,
          Key: key(connectionId),
          ConsistentRead: true,
        }),
      );
      return result.Item === undefined ? undefined : toState(connectionId, result.Item);
    },

    open(state) {
      return conditionally(() =>
        deps.dynamodb.send(
          new PutItemCommand({
            TableName: deps.tableName,
            Item: {
              ...key(state.connectionId),
              openedAtMs: n(state.openedAtMs),
              entryId: { S: state.entryId },
              code: { S: state.code },
              title: { S: state.title },
              probeAtMs: n(state.probeAtMs),
              failedProbes: n(0),
              ...(state.fingerprint === undefined
                ? {}
                : { fingerprints: { SS: [state.fingerprint] } }),
              ...(state.carrierMessageId === undefined
                ? {}
                : { carrierMessageId: { S: state.carrierMessageId } }),
            },
            ConditionExpression: 'attribute_not_exists(#pk)',
            ExpressionAttributeNames: { '#pk': TABLE_KEY.partition },
          }),
        ),
      );
    },

    claimProbe(state, messageId, nowMs, untilMs, ignoreProbeAt) {
      // A redelivery of the probing message (its worker crashed) may take the probe back.
      const free =
        '(attribute_not_exists(probeUntilMs) OR probeUntilMs <= :now OR probeMessageId = :msg)';
      return conditionally(() =>
        deps.dynamodb.send(
          new UpdateItemCommand({
            TableName: deps.tableName,
            Key: key(state.connectionId),
            UpdateExpression: 'SET probeMessageId = :msg, probeUntilMs = :until',
            ConditionExpression: `openedAtMs = :opened AND ${free}${ignoreProbeAt ? '' : ' AND probeAtMs <= :now'}`,
            ExpressionAttributeValues: {
              ':opened': n(state.openedAtMs),
              ':now': n(nowMs),
              ':until': n(untilMs),
              ':msg': { S: messageId },
            },
          }),
        ),
      );
    },

    rearm(state, change) {
      return conditionally(() =>
        deps.dynamodb.send(
          new UpdateItemCommand({
            TableName: deps.tableName,
            Key: key(state.connectionId),
            UpdateExpression: `SET probeAtMs = :probeAt, carrierMessageId = :carrier REMOVE probeMessageId, probeUntilMs ADD failedProbes :one${
              change.fingerprint === undefined ? '' : ', fingerprints :fingerprint'
            }`,
            ...sameOpening,
            ExpressionAttributeValues: {
              ':opened': n(state.openedAtMs),
              ':probeAt': n(change.probeAtMs),
              ':carrier': { S: change.carrierMessageId },
              ':one': n(1),
              ...(change.fingerprint === undefined
                ? {}
                : { ':fingerprint': { SS: [change.fingerprint] } }),
            },
          }),
        ),
      );
    },

    releaseProbe(state, carrierMessageId) {
      return conditionally(() =>
        deps.dynamodb.send(
          new UpdateItemCommand({
            TableName: deps.tableName,
            Key: key(state.connectionId),
            UpdateExpression:
              carrierMessageId === undefined
                ? 'REMOVE probeMessageId, probeUntilMs, carrierMessageId'
                : 'SET carrierMessageId = :carrier REMOVE probeMessageId, probeUntilMs',
            ...sameOpening,
            ExpressionAttributeValues: {
              ':opened': n(state.openedAtMs),
              ...(carrierMessageId === undefined ? {} : { ':carrier': { S: carrierMessageId } }),
            },
          }),
        ),
      );
    },

    async close(connectionId, openedAtMs) {
      try {
        const result = await deps.dynamodb.send(
          new DeleteItemCommand({
            TableName: deps.tableName,
            Key: key(connectionId),
            ReturnValues: 'ALL_OLD',
            ...(openedAtMs === undefined
              ? {
                  ConditionExpression: 'attribute_exists(#pk)',
                  ExpressionAttributeNames: { '#pk': TABLE_KEY.partition },
                }
              : { ...sameOpening, ExpressionAttributeValues: { ':opened': n(openedAtMs) } }),
          }),
        );
        return result.Attributes === undefined
          ? undefined
          : toState(connectionId, result.Attributes);
      } catch (error) {
        if (error instanceof ConditionalCheckFailedException) return undefined;
        throw error;
      }
    },
  };
};
