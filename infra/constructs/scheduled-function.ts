import type { Duration } from 'aws-cdk-lib';
import { Rule, type Schedule } from 'aws-cdk-lib/aws-events';
import { LambdaFunction } from 'aws-cdk-lib/aws-events-targets';
import { Construct } from 'constructs';
import { type FunctionDefaults, ZohoSyncFunction } from '../function-defaults';

export interface ScheduledFunctionProps {
  readonly entry: string;
  readonly description: string;
  readonly schedule: Schedule;
  readonly timeout: Duration;
  readonly defaults: FunctionDefaults;
  /** Env vars on top of `defaults.environment`. @default none */
  readonly environment?: Readonly<Record<string, string>>;
}

/**
 * A function run by an EventBridge schedule rule. The work it does is a sweep that the next run
 * repeats, so a failed run is not retried (no async retries, one EventBridge attempt). No
 * concurrency is reserved: new AWS accounts have a quota of 10 concurrent executions and cannot
 * reserve any, which would fail the deploy, and overlapping runs are harmless (release sends
 * before it deletes, renewal re-enables the same channel id, the sweep's cursor only moves after
 * its messages are sent). Failures show up through its errors alarm.
 */
export class ScheduledFunction extends Construct {
  readonly handler: ZohoSyncFunction;
  readonly rule: Rule;

  constructor(scope: Construct, id: string, props: ScheduledFunctionProps) {
    super(scope, id);
    this.handler = new ZohoSyncFunction(this, 'Function', {
      entry: props.entry,
      description: props.description,
      defaults: props.defaults,
      ...(props.environment === undefined ? {} : { environment: props.environment }),
      timeout: props.timeout,
      retryAttempts: 0,
    });
    this.rule = new Rule(this, 'Schedule', {
      description: `Runs ${props.description}`,
      schedule: props.schedule,
      targets: [new LambdaFunction(this.handler.function, { retryAttempts: 0 })],
    });
  }
}
