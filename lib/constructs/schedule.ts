/**
 * The sweeper's EventBridge schedule. Runs are idempotent and safe to overlap (ARCHITECTURE §2.6),
 * so a missed or late run is simply covered by the next one: no retries, short event age.
 */
import { Duration } from 'aws-cdk-lib';
import * as events from 'aws-cdk-lib/aws-events';
import * as targets from 'aws-cdk-lib/aws-events-targets';
import type * as lambda from 'aws-cdk-lib/aws-lambda';
import { Construct } from 'constructs';

export interface SweepScheduleProps {
  readonly sweeper: lambda.IFunction;
  readonly intervalMinutes: number;
}

export class SweepSchedule extends Construct {
  readonly rule: events.Rule;

  constructor(scope: Construct, id: string, props: SweepScheduleProps) {
    super(scope, id);
    this.rule = new events.Rule(this, 'Rule', {
      description: `Runs the Chirp sweeper every ${props.intervalMinutes} minute(s)`,
      schedule: events.Schedule.rate(Duration.minutes(props.intervalMinutes)),
      targets: [
        new targets.LambdaFunction(props.sweeper, {
          retryAttempts: 0,
          maxEventAge: Duration.minutes(Math.max(1, props.intervalMinutes)),
        }),
      ],
    });
  }
}
