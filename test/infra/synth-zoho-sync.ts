import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import type { App, CfnElement, CfnResource } from 'aws-cdk-lib';
import { Template } from 'aws-cdk-lib/assertions';
import type { IConstruct } from 'constructs';
import { createZohoSyncApp } from '../../infra/zoho-sync-app';
import type { ZohoSyncStack } from '../../infra/zoho-sync-stack';
import { RELEASE_DEFERRED, type ScheduledFunctionSpec } from '../../infra/zoho-sync-stack';

/** A handler that bundles in milliseconds, for wiring tests of functions not written yet. */
export const NOOP_HANDLER = fileURLToPath(new URL('./fixtures/noop-handler.ts', import.meta.url));

/**
 * release-deferred's spec with the stand-in handler: the schedule, grants and alarm under test
 * come from the spec, not from the handler's code (functions/release-deferred.ts is written in
 * parallel; once it exists, tests can use RELEASE_DEFERRED itself).
 */
export const RELEASE_DEFERRED_WIRING: ScheduledFunctionSpec = {
  ...RELEASE_DEFERRED,
  entry: NOOP_HANDLER,
};

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
  /** @default [RELEASE_DEFERRED_WIRING] */
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
    scheduledFunctions: options.scheduledFunctions ?? [RELEASE_DEFERRED_WIRING],
  });
  return { app, stack, template: Template.fromStack(stack) };
};

/** The logical id CloudFormation knows a construct's resource by. */
export const logicalId = (stack: ZohoSyncStack, construct: IConstruct): string => {
  const resource = (construct.node.defaultChild ?? construct) as CfnResource;
  return stack.getLogicalId(resource as CfnElement);
};
