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
}

/**
 * A function run by an EventBridge schedule rule. The work it does is a sweep that the next run
 * repeats, so a failed run is not retried (no async retries, one EventBridge attempt) and only
 * one run at a time is allowed (reserved concurrency 1), which keeps two sweeps from moving the
 * same items. Failures show up through its errors alarm.
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
      timeout: props.timeout,
      retryAttempts: 0,
      reservedConcurrentExecutions: 1,
    });
    this.rule = new Rule(this, 'Schedule', {
      description: `Runs ${props.description}`,
      schedule: props.schedule,
      targets: [new LambdaFunction(this.handler.function, { retryAttempts: 0 })],
    });
  }
}
