import type { TestProject } from 'vitest/node';
import { standInEnvironment, startAwsStandIns } from '../../lib/local/aws-stand-ins';

declare module 'vitest' {
  export interface ProvidedContext {
    standInEnv: Record<string, string>;
  }
}

/**
 * Starts the AWS stand-ins once for the whole integration project and stops them (killing
 * DynamoDB Local's Java process) when it ends. Each test file isolates itself with its own
 * table, queue and topic names.
 */
export default async function setup(project: TestProject): Promise<() => Promise<void>> {
  process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED = 'true';
  const standIns = await startAwsStandIns();
  const env = standInEnvironment(standIns.endpoints);
  Object.assign(process.env, env);
  project.provide('standInEnv', env);
  return () => standIns.stop();
}
