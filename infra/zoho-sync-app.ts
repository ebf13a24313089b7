import { App, type AppProps, Validations } from 'aws-cdk-lib';
import { AwsSolutionsChecks } from 'cdk-nag';
import { readSettings } from './settings';
import { type ScheduledFunctionSpec, ZohoSyncStack } from './zoho-sync-stack';

/** The stack name `cdk deploy` shows and CloudFormation uses. */
export const STACK_NAME = 'ZohoSync';

export interface ZohoSyncAppOptions {
  /** Context on top of what the CLI passes (tests use it instead of `-c`). */
  readonly context?: AppProps['context'];
  /** Cloud assembly directory. @default the CLI's, or a temporary directory */
  readonly outdir?: string;
  /** @default the stack's default list (see ZohoSyncStackProps) */
  readonly scheduledFunctions?: readonly ScheduledFunctionSpec[];
}

/**
 * Builds the zoho-sync CDK app: the one stack, configured from context, checked by cdk-nag's
 * AwsSolutions pack. cdk-nag 3 is a policy-validation plugin: it runs when the app synthesizes,
 * writes its findings to the assembly's validation report, and an unacknowledged error fails
 * the synth. Acknowledgements (`Validations.of(construct).acknowledge({ id, reason })`) sit next
 * to the resource they excuse.
 */
export const createZohoSyncApp = (
  options: ZohoSyncAppOptions = {},
): { readonly app: App; readonly stack: ZohoSyncStack } => {
  const app = new App({
    ...(options.context === undefined ? {} : { context: options.context }),
    ...(options.outdir === undefined ? {} : { outdir: options.outdir }),
  });
  const account = process.env.CDK_DEFAULT_ACCOUNT;
  const region = process.env.CDK_DEFAULT_REGION;
  const stack = new ZohoSyncStack(app, STACK_NAME, {
    description: 'zoho-sync: Zoho CRM -> Zoho Books sync (HTTP API, SQS, Lambda, DynamoDB)',
    settings: readSettings(app.node),
    // Environment-agnostic unless the CLI knows the target (offline synth needs no account).
    ...(account !== undefined && region !== undefined ? { env: { account, region } } : {}),
    ...(options.scheduledFunctions === undefined
      ? {}
      : { scheduledFunctions: options.scheduledFunctions }),
  });
  Validations.of(app).addPlugins(new AwsSolutionsChecks(app, { verbose: true }));
  return { app, stack };
};
