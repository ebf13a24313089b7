import { fileURLToPath } from 'node:url';
import { type Duration, RemovalPolicy, Validations } from 'aws-cdk-lib';
import { Role, ServicePrincipal } from 'aws-cdk-lib/aws-iam';
import { Architecture, Runtime, Tracing } from 'aws-cdk-lib/aws-lambda';
import { type BundlingOptions, NodejsFunction, OutputFormat } from 'aws-cdk-lib/aws-lambda-nodejs';
import { LogGroup, type RetentionDays } from 'aws-cdk-lib/aws-logs';
import { Construct } from 'constructs';
import type { BuildOptions } from 'esbuild';

/** The repository root: NodejsFunction's projectRoot, and the base of every function entry. */
export const PROJECT_ROOT = fileURLToPath(new URL('..', import.meta.url));

/** Absolute path of a handler below `functions/`, e.g. `functionEntry('sync-worker')`. */
export const functionEntry = (name: string): string =>
  fileURLToPath(new URL(`../functions/${name}.ts`, import.meta.url));

/**
 * The esbuild options of every function bundle, in esbuild's own API shape. NodejsFunction gets
 * them through {@link toNodejsBundling}; `npm run bundle-size` (infra/print-bundle-sizes.ts)
 * builds with this very object, so the printed sizes are the deployed ones.
 *
 * - ESM for Node 22, minified, tree-shaken (esbuild always shakes a bundle), with an external
 *   source map that `NODE_OPTIONS=--enable-source-maps` applies to stack traces
 *   (`sourcesContent: false`: file names and lines are enough, the sources stay out of it).
 * - `@aws-sdk/*` is external: the nodejs22.x runtime ships the whole AWS SDK v3. Bundled, the
 *   four clients we use (DynamoDB, SQS, SNS, Secrets Manager) and their Smithy core add ~380 KB
 *   minified to each function, which alone would break the 300 KB budget per function. The
 *   price is that Lambda runs the runtime's SDK version, not the one in package-lock.json; the
 *   calls we make (GetItem, SendMessage, Publish, GetSecretValue, ...) are long stable.
 * - Tree shaking only reaches into namespaces imported as `import * as ns`: zod must be imported
 *   as `import * as z from 'zod'` (zod 4's documented form). `import { z } from 'zod'` pulls
 *   all of zod including its ~50 locales (~440 KB minified) into the bundle, because esbuild
 *   cannot shake the members of a namespace object that is re-exported (`export * as`).
 * - The banner gives bundled CommonJS dependencies a working `require` for Node built-ins,
 *   which esbuild's ESM output otherwise turns into a "Dynamic require is not supported" throw.
 */
export const FUNCTION_BUNDLE_OPTIONS = {
  platform: 'node',
  target: 'node22',
  format: 'esm',
  minify: true,
  sourcemap: true,
  sourcesContent: false,
  mainFields: ['module', 'main'],
  external: ['@aws-sdk/*'],
  banner: {
    js: "import { createRequire as __zsCreateRequire } from 'node:module'; const require = __zsCreateRequire(import.meta.url);",
  },
} as const satisfies BuildOptions;

/** Maps {@link FUNCTION_BUNDLE_OPTIONS} onto NodejsFunction's bundling props (local esbuild). */
export const toNodejsBundling = (options: typeof FUNCTION_BUNDLE_OPTIONS): BundlingOptions => ({
  forceDockerBundling: false,
  target: options.target,
  format: options.format === 'esm' ? OutputFormat.ESM : OutputFormat.CJS,
  minify: options.minify,
  sourceMap: options.sourcemap,
  sourcesContent: options.sourcesContent,
  mainFields: [...options.mainFields],
  externalModules: [...options.external],
  banner: options.banner.js,
});

export const FUNCTION_RUNTIME = Runtime.NODEJS_22_X;
export const FUNCTION_ARCHITECTURE = Architecture.ARM_64;

/** What every function of the stack shares; built once by the stack. */
export interface FunctionDefaults {
  /** Env vars every function gets (table, queues, topic, secret prefix, Powertools). */
  readonly environment: Readonly<Record<string, string>>;
  readonly logRetention: RetentionDays;
  /** Turns on active X-Ray tracing. */
  readonly tracing: boolean;
}

export interface ZohoSyncFunctionProps {
  /** Absolute path of the handler file; see {@link functionEntry}. */
  readonly entry: string;
  readonly description: string;
  readonly defaults: FunctionDefaults;
  /**
   * Env vars this function needs on top of `defaults.environment` (e.g. the public base URL of
   * channel renewal). They may not redefine a shared variable.
   * @default none
   */
  readonly environment?: Readonly<Record<string, string>>;
  readonly timeout: Duration;
  /** @default 256 */
  readonly memorySize?: number;
  /**
   * Asynchronous invoke retries (EventBridge targets).
   * @default 2 (Lambda's own default)
   */
  readonly retryAttempts?: number;
  /** @default no reserved concurrency */
  readonly reservedConcurrentExecutions?: number;
}

/**
 * One zoho-sync Lambda function: NodejsFunction on nodejs22.x/arm64 bundled by a local esbuild
 * (no Docker), its own log group with retention, and its own role that starts with nothing but
 * write access to that log group (no AWSLambdaBasicExecutionRole), so every other permission
 * is a visible grant in the stack.
 */
export class ZohoSyncFunction extends Construct {
  readonly function: NodejsFunction;
  readonly role: Role;
  readonly logGroup: LogGroup;

  constructor(scope: Construct, id: string, props: ZohoSyncFunctionProps) {
    super(scope, id);
    const { defaults } = props;
    const sharedEnvironment = { ...defaults.environment, NODE_OPTIONS: '--enable-source-maps' };
    const extraEnvironment = props.environment ?? {};
    const redefined = Object.keys(extraEnvironment).filter((name) => name in sharedEnvironment);
    if (redefined.length > 0) {
      throw new Error(
        `${this.node.path}: environment redefines shared variable(s) ${redefined.join(', ')}`,
      );
    }

    this.logGroup = new LogGroup(this, 'Logs', {
      retention: defaults.logRetention,
      // Logs outlive a `cdk destroy` for audit; the retention still expires them.
      removalPolicy: RemovalPolicy.RETAIN,
    });
    this.role = new Role(this, 'Role', {
      assumedBy: new ServicePrincipal('lambda.amazonaws.com'),
      description: `Execution role of ${props.description}`,
    });
    this.logGroup.grantWrite(this.role);

    this.function = new NodejsFunction(this, 'Function', {
      entry: props.entry,
      handler: 'handler',
      description: props.description,
      runtime: FUNCTION_RUNTIME,
      architecture: FUNCTION_ARCHITECTURE,
      memorySize: props.memorySize ?? 256,
      timeout: props.timeout,
      role: this.role,
      logGroup: this.logGroup,
      tracing: defaults.tracing ? Tracing.ACTIVE : Tracing.DISABLED,
      environment: { ...sharedEnvironment, ...extraEnvironment },
      projectRoot: PROJECT_ROOT,
      depsLockFilePath: fileURLToPath(new URL('../package-lock.json', import.meta.url)),
      bundling: toNodejsBundling(FUNCTION_BUNDLE_OPTIONS),
      ...(props.retryAttempts === undefined ? {} : { retryAttempts: props.retryAttempts }),
      ...(props.reservedConcurrentExecutions === undefined
        ? {}
        : { reservedConcurrentExecutions: props.reservedConcurrentExecutions }),
    });

    Validations.of(this.function).acknowledge({
      id: 'AwsSolutions-L1',
      reason:
        'nodejs22.x is the runtime zoho-sync is built and tested for (the design card fixes it); move to a newer runtime deliberately, with the tests, not by lint.',
    });
    if (defaults.tracing) {
      // Added by `tracing: ACTIVE`; X-Ray's PutTraceSegments/PutTelemetryRecords have no
      // resource-level permissions.
      Validations.of(this.role).acknowledge({
        id: 'AwsSolutions-IAM5[Resource::*]',
        reason: 'X-Ray PutTraceSegments and PutTelemetryRecords support only Resource "*".',
      });
    }
  }
}
