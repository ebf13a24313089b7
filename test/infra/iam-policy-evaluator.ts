/**
 * A small evaluator of identity-based IAM policy statements over a synthesized template, for the
 * questions the least-privilege tests ask ("may this role call GetSecretValue on that ARN?").
 * It follows IAM's documented rules for what it supports: an explicit Deny wins, else an Allow
 * grants, else the request is implicitly denied; `Action`/`NotAction` and `Resource`/`NotResource`
 * match case-insensitively for actions and case-sensitively for ARNs, where `*` matches any run
 * of characters (slashes included) and `?` exactly one. Conditions are not supported: a
 * statement with one makes the evaluator throw, so a test can never pass on a misread policy.
 * Written by hand: no maintained npm package evaluates IAM policies offline.
 */

export interface PolicyStatementJson {
  readonly Sid?: string;
  readonly Effect: 'Allow' | 'Deny';
  readonly Action?: string | readonly string[];
  readonly NotAction?: string | readonly string[];
  readonly Resource?: unknown;
  readonly NotResource?: unknown;
  readonly Condition?: unknown;
}

/** Values for the pseudo parameters a rendered ARN may contain. */
export const EVALUATION_CONTEXT = {
  'AWS::Partition': 'aws',
  'AWS::Region': 'eu-west-1',
  'AWS::AccountId': '123456789012',
} as const;

/** Renders a CloudFormation string (plain, Fn::Join of pseudo refs) into a concrete pattern. */
export const renderValue = (value: unknown): string => {
  if (typeof value === 'string') return value;
  if (typeof value === 'object' && value !== null) {
    const record = value as Record<string, unknown>;
    if (typeof record.Ref === 'string') {
      const pseudo = EVALUATION_CONTEXT[record.Ref as keyof typeof EVALUATION_CONTEXT];
      // A resource's Ref or GetAtt renders as a name no secret ARN can equal.
      return pseudo ?? `<ref:${record.Ref}>`;
    }
    if (Array.isArray(record['Fn::GetAtt'])) return `<getatt:${record['Fn::GetAtt'].join('.')}>`;
    if (Array.isArray(record['Fn::Join'])) {
      const [separator, parts] = record['Fn::Join'] as [string, unknown[]];
      return parts.map(renderValue).join(separator);
    }
  }
  throw new Error(`cannot render ${JSON.stringify(value)}`);
};

const asList = (value: unknown): unknown[] =>
  value === undefined ? [] : Array.isArray(value) ? value : [value];

/** IAM's wildcard match: `*` any run of characters, `?` exactly one. */
export const wildcardMatches = (pattern: string, value: string, ignoreCase = false): boolean => {
  const escaped = pattern
    .split('')
    .map((char) =>
      char === '*' ? '.*' : char === '?' ? '.' : char.replace(/[.+^${}()|[\]\\]/g, '\\$&'),
    )
    .join('');
  return new RegExp(`^${escaped}$`, ignoreCase ? 'is' : 's').test(value);
};

const statementApplies = (statement: PolicyStatementJson, action: string, arn: string): boolean => {
  if (statement.Condition !== undefined) {
    throw new Error(`statement ${statement.Sid ?? ''} has a Condition the evaluator cannot judge`);
  }
  const actionMatches = (patterns: unknown) =>
    asList(patterns).some((pattern) => wildcardMatches(renderValue(pattern), action, true));
  const resourceMatches = (patterns: unknown) =>
    asList(patterns).some((pattern) => wildcardMatches(renderValue(pattern), arn));
  const actionHit =
    statement.Action !== undefined
      ? actionMatches(statement.Action)
      : !actionMatches(statement.NotAction);
  const resourceHit =
    statement.Resource !== undefined
      ? resourceMatches(statement.Resource)
      : !resourceMatches(statement.NotResource);
  return actionHit && resourceHit;
};

export type Decision = 'allowed' | 'explicitly denied' | 'implicitly denied';

/** What IAM decides for one action on one resource ARN, given a role's statements. */
export const evaluate = (
  statements: readonly PolicyStatementJson[],
  action: string,
  arn: string,
): Decision => {
  const applying = statements.filter((statement) => statementApplies(statement, action, arn));
  if (applying.some((statement) => statement.Effect === 'Deny')) return 'explicitly denied';
  if (applying.some((statement) => statement.Effect === 'Allow')) return 'allowed';
  return 'implicitly denied';
};

/** A secret's ARN as Secrets Manager forms it: the name plus `-` and six random characters. */
export const secretArnOf = (name: string, suffix = 'Ab3dE9'): string =>
  `arn:${EVALUATION_CONTEXT['AWS::Partition']}:secretsmanager:${EVALUATION_CONTEXT['AWS::Region']}:${EVALUATION_CONTEXT['AWS::AccountId']}:secret:${name}-${suffix}`;
