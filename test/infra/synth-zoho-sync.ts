import { readFileSync } from 'node:fs';
import type { App, CfnElement, CfnResource } from 'aws-cdk-lib';
import { Template } from 'aws-cdk-lib/assertions';
import type { IConstruct } from 'constructs';
import type { ScheduledFunction } from '../../infra/constructs/scheduled-function';
import { createZohoSyncApp } from '../../infra/zoho-sync-app';
import type { ScheduledFunctionSpec, ZohoSyncStack } from '../../infra/zoho-sync-stack';

/** cdk.json's context, which the CLI passes to the app, so tests synthesize what the CLI does. */
const cdkJsonContext = (): Record<string, unknown> =>
  (
    JSON.parse(readFileSync(new URL('../../cdk.json', import.meta.url), 'utf8')) as {
      context?: Record<string, unknown>;
    }
  ).context ?? {};

export interface SynthOptions {
  /** `-c` style context on top of cdk.json's. */
  readonly context?: Record<string, unknown>;
  /**
   * Run esbuild for every function. Off, the template is the same except for asset hashes, and
   * a synth takes about a second instead of several.
   * @default false
   */
  readonly bundle?: boolean;
  /** @default the stack's DEFAULT_SCHEDULED_FUNCTIONS (the real handlers) */
  readonly scheduledFunctions?: readonly ScheduledFunctionSpec[];
}

export interface Synthesized {
  readonly app: App;
  readonly stack: ZohoSyncStack;
  readonly template: Template;
}

/** Builds the app the way infra/app.ts does and synthesizes it (cdk-nag runs as part of it). */
export const synthZohoSync = (options: SynthOptions = {}): Synthesized => {
  const { app, stack } = createZohoSyncApp({
    context: {
      ...cdkJsonContext(),
      ...(options.bundle === true ? {} : { 'aws:cdk:bundling-stacks': [] }),
      ...options.context,
    },
    ...(options.scheduledFunctions === undefined
      ? {}
      : { scheduledFunctions: options.scheduledFunctions }),
  });
  return { app, stack, template: Template.fromStack(stack) };
};

/** The logical id CloudFormation knows a construct's resource by. */
export const logicalId = (stack: ZohoSyncStack, construct: IConstruct): string => {
  const resource = (construct.node.defaultChild ?? construct) as CfnResource;
  return stack.getLogicalId(resource as CfnElement);
};

/** The scheduled function built from the spec with this construct id, e.g. `RenewChannels`. */
export const scheduledFunction = (stack: ZohoSyncStack, specId: string): ScheduledFunction => {
  const scheduled = stack.scheduled.find((candidate) => candidate.node.id === specId);
  if (scheduled === undefined) throw new Error(`no ${specId} scheduled function`);
  return scheduled;
};

/** Every statement of every policy attached to the role (inline or AWS::IAM::Policy). */
export const roleStatements = (
  synthesized: Synthesized,
  role: IConstruct,
): Array<{ Effect: 'Allow' | 'Deny'; [key: string]: unknown }> => {
  const roleRef = JSON.stringify({ Ref: logicalId(synthesized.stack, role) });
  const resources = synthesized.template.toJSON().Resources as Record<
    string,
    { Type: string; Properties?: Record<string, unknown> }
  >;
  const attached = Object.values(resources).filter(
    (resource) =>
      resource.Type === 'AWS::IAM::Policy' &&
      ((resource.Properties?.Roles as unknown[] | undefined) ?? []).some(
        (r) => JSON.stringify(r) === roleRef,
      ),
  );
  const inline =
    (resources[logicalId(synthesized.stack, role)]?.Properties?.Policies as
      | Array<{ PolicyDocument: { Statement: [] } }>
      | undefined) ?? [];
  return [
    ...attached.map((policy) => policy.Properties?.PolicyDocument),
    ...inline.map((p) => p.PolicyDocument),
  ].flatMap((document) => (document as { Statement: [] }).Statement);
};
