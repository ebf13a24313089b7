import { CloudFormationClient, DescribeStacksCommand } from '@aws-sdk/client-cloudformation';
import { CloudWatchClient } from '@aws-sdk/client-cloudwatch';
import { type AwsClients, createAwsClients } from '../aws';
import { type Config, ENV, loadConfig } from '../config';
import { applyLocalEnvironment, LOCAL_STATE_FILE } from '../local/local-cli-environment';

/** The stack name `cdk deploy` uses (infra/zoho-sync-app.ts). */
export const DEFAULT_STACK_NAME = 'ZohoSync';

/** Options every command accepts: where zoho-sync runs. */
export interface TargetOptions {
  readonly local?: boolean;
  /** Local mode's state file. @default .zoho-sync/local.json */
  readonly stateFile?: string;
  readonly stack?: string;
  readonly region?: string;
  readonly profile?: string;
  readonly table?: string;
  readonly queueUrl?: string;
  readonly dlqUrl?: string;
  readonly topicArn?: string;
  readonly publicBaseUrl?: string;
}

/** What a command works against, local mode or a deployed stack, through the real AWS SDK. */
export interface CliTarget {
  readonly mode: 'local' | 'deployed';
  readonly config: Config;
  readonly clients: AwsClients;
  /** The HTTP API's base URL (channel renewal builds notify_url from it), when known. */
  readonly publicBaseUrl: string | undefined;
  /** CloudWatch, for metrics SQS has no attribute for; deployed stacks only. */
  readonly cloudwatch: CloudWatchClient | undefined;
  /** Where local mode's simulator shows its state, when it runs one. */
  readonly simulatorStateUrl: string | undefined;
}

/** Stack outputs (infra/zoho-sync-stack.ts) and the variables they fill in. */
const OUTPUT_VARIABLES = {
  TableName: ENV.tableName,
  SyncQueueUrl: ENV.syncQueueUrl,
  DeadLetterQueueUrl: ENV.deadLetterQueueUrl,
  AlertTopicArn: ENV.alertTopicArn,
} as const;

const NOTIFICATION_ROUTE_SUFFIX = /\/notifications\/\{connectionId\}$/;

const readStackOutputs = async (
  stackName: string,
  region: string | undefined,
): Promise<Record<string, string>> => {
  const cloudformation = new CloudFormationClient(region === undefined ? {} : { region });
  try {
    const result = await cloudformation.send(new DescribeStacksCommand({ StackName: stackName }));
    const outputs = result.Stacks?.[0]?.Outputs ?? [];
    return Object.fromEntries(
      outputs.flatMap((output) =>
        output.OutputKey === undefined || output.OutputValue === undefined
          ? []
          : [[output.OutputKey, output.OutputValue]],
      ),
    );
  } catch (error) {
    throw new Error(
      `cannot read the outputs of stack ${stackName}: ${error instanceof Error ? error.message : String(error)} ` +
        '(pass --stack, --region/--profile, or --table and --queue-url; or --local for local mode)',
    );
  } finally {
    cloudformation.destroy();
  }
};

/**
 * Resolves where the CLI works. `--local`: the running local mode, through its state file.
 * Otherwise the deployed stack: region and profile from the environment (or --region/--profile),
 * the resource names from flags, from ZOHO_SYNC_* variables, or from the stack's CloudFormation
 * outputs, in that order.
 * @throws Error saying what is missing.
 */
export const resolveCliTarget = async (options: TargetOptions): Promise<CliTarget> => {
  if (options.region !== undefined) process.env.AWS_REGION = options.region;
  if (options.profile !== undefined) process.env.AWS_PROFILE = options.profile;
  if (options.local === true) {
    const local = await applyLocalEnvironment(options.stateFile ?? LOCAL_STATE_FILE);
    return {
      mode: 'local',
      config: loadConfig(),
      clients: createAwsClients({ region: 'us-east-1' }),
      publicBaseUrl: options.publicBaseUrl ?? local.publicBaseUrl,
      cloudwatch: undefined,
      simulatorStateUrl: local.simulatorStateUrl,
    };
  }
  const flags: Record<string, string | undefined> = {
    [ENV.tableName]: options.table,
    [ENV.syncQueueUrl]: options.queueUrl,
    [ENV.deadLetterQueueUrl]: options.dlqUrl,
    [ENV.alertTopicArn]: options.topicArn,
  };
  for (const [name, value] of Object.entries(flags)) {
    if (value !== undefined) process.env[name] = value;
  }
  let publicBaseUrl = options.publicBaseUrl ?? process.env[ENV.publicBaseUrl];
  const missing = [ENV.tableName, ENV.syncQueueUrl, ENV.deadLetterQueueUrl].some(
    (name) => process.env[name] === undefined,
  );
  if (missing || options.stack !== undefined) {
    const stackName = options.stack ?? process.env.ZOHO_SYNC_STACK ?? DEFAULT_STACK_NAME;
    const outputs = await readStackOutputs(stackName, options.region);
    for (const [output, name] of Object.entries(OUTPUT_VARIABLES)) {
      const value = outputs[output];
      if (value !== undefined && process.env[name] === undefined) process.env[name] = value;
    }
    publicBaseUrl ??= outputs.NotificationUrl?.replace(NOTIFICATION_ROUTE_SUFFIX, '');
  }
  return {
    mode: 'deployed',
    config: loadConfig(),
    clients: createAwsClients(),
    publicBaseUrl,
    cloudwatch: new CloudWatchClient({}),
    simulatorStateUrl: undefined,
  };
};
