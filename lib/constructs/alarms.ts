/**
 * CloudWatch alarms, optionally delivered to an SNS topic (new, with an email subscription) and/or
 * an existing topic:
 *
 * - API 5xx (API Gateway `5xx`, whole stage) and webhook-route 5xx (a metric filter on the access
 *   log: per-route API Gateway metrics need paid detailed metrics on every route);
 * - each function's Errors and Throttles; the sweeper failing repeatedly or not running at all;
 * - push failures: `Chirp/PushFailures` with dimension `Transport`, emitted by the app via EMF;
 * - SNS `NumberOfNotificationsFailed` for each platform application (sns transport).
 */
import { Duration, Stack } from 'aws-cdk-lib';
import type * as apigwv2 from 'aws-cdk-lib/aws-apigatewayv2';
import * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';
import * as actions from 'aws-cdk-lib/aws-cloudwatch-actions';
import * as logs from 'aws-cdk-lib/aws-logs';
import * as sns from 'aws-cdk-lib/aws-sns';
import * as subscriptions from 'aws-cdk-lib/aws-sns-subscriptions';
import { Construct } from 'constructs';
import type { ChirpConfig } from '../config';
import { WEBHOOK_PATH } from './api';
import type { ChirpFunction } from './chirp-function';
import type { PlatformApplication } from './push';

/** The application's custom metrics (namespace and names the handlers emit with EMF). */
export const CHIRP_METRICS = {
  namespace: 'Chirp',
  pushFailures: 'PushFailures',
  /** Dimension of PushFailures: the transport that failed (`sns` | `apns`). */
  transportDimension: 'Transport',
  webhookRoute5xx: 'WebhookRoute5xx',
} as const;

export interface ChirpAlarmsProps {
  readonly config: ChirpConfig;
  readonly stage: apigwv2.HttpStage;
  readonly accessLogs: logs.ILogGroup;
  readonly functions: { name: string; fn: ChirpFunction }[];
  readonly sweeper: ChirpFunction;
  readonly platformApplications: PlatformApplication[];
}

export class ChirpAlarms extends Construct {
  /** Created when `alarmEmail` is set. */
  readonly topic?: sns.Topic;
  readonly alarms: cloudwatch.Alarm[] = [];
  private readonly actions: actions.SnsAction[] = [];
  private readonly prefix: string;

  constructor(scope: Construct, id: string, props: ChirpAlarmsProps) {
    super(scope, id);
    const { config } = props;
    this.prefix = Stack.of(this).stackName;

    if (config.alarmEmail !== undefined) {
      this.topic = new sns.Topic(this, 'AlarmTopic', { displayName: 'Chirp alarms', enforceSSL: true });
      this.topic.addSubscription(new subscriptions.EmailSubscription(config.alarmEmail));
      this.actions.push(new actions.SnsAction(this.topic));
    }
    if (config.alarmTopicArn !== undefined) {
      this.actions.push(new actions.SnsAction(sns.Topic.fromTopicArn(this, 'ExistingAlarmTopic', config.alarmTopicArn)));
    }

    const fiveMinutes = Duration.minutes(5);

    this.alarm('Api5xx', 'The HTTP API returned 5xx responses (any route).', props.stage.metricServerError({ period: fiveMinutes, statistic: 'Sum' }), 5);

    const webhook5xx = new logs.MetricFilter(this, 'WebhookRoute5xxFilter', {
      logGroup: props.accessLogs,
      filterPattern: logs.FilterPattern.all(
        logs.FilterPattern.stringValue('$.path', '=', WEBHOOK_PATH),
        logs.FilterPattern.numberValue('$.status', '>=', 500),
      ),
      metricNamespace: CHIRP_METRICS.namespace,
      metricName: CHIRP_METRICS.webhookRoute5xx,
      metricValue: '1',
      defaultValue: 0,
    });
    this.alarm(
      'WebhookRoute5xx',
      'The webhook route answered 5xx: state could not be saved (Replicate will retry) or the function failed.',
      webhook5xx.metric({ period: fiveMinutes, statistic: 'Sum' }),
      1,
    );

    for (const { name, fn } of props.functions) {
      if (fn !== props.sweeper) {
        this.alarm(`${name}Errors`, `The ${name} function threw errors.`, fn.metricErrors({ period: fiveMinutes, statistic: 'Sum' }), 1);
      }
      this.alarm(`${name}Throttles`, `The ${name} function was throttled.`, fn.metricThrottles({ period: fiveMinutes, statistic: 'Sum' }), 1);
    }

    // The sweeper runs every few minutes and is idempotent: one failed run is noise, three in a row is not.
    this.alarm(
      'SweeperErrors',
      'The sweeper failed in 3 consecutive 5-minute periods: hung activities are not being ended.',
      props.sweeper.metricErrors({ period: fiveMinutes, statistic: 'Sum' }),
      1,
      { evaluationPeriods: 3, datapointsToAlarm: 3 },
    );
    // A window of at least three scheduled runs, so one late run never looks like a stopped schedule.
    const quietMinutes = Math.max(15, 3 * config.sweepIntervalMinutes);
    this.alarm(
      'SweeperNotRunning',
      `The sweeper was not invoked for ${quietMinutes} minutes (schedule disabled or broken).`,
      props.sweeper.metricInvocations({ period: Duration.minutes(quietMinutes), statistic: 'Sum' }),
      1,
      {
        comparisonOperator: cloudwatch.ComparisonOperator.LESS_THAN_THRESHOLD,
        treatMissingData: cloudwatch.TreatMissingData.BREACHING,
      },
    );

    this.alarm(
      'PushFailures',
      `Pushes failed (${CHIRP_METRICS.namespace}/${CHIRP_METRICS.pushFailures}, ${CHIRP_METRICS.transportDimension}=${config.pushTransport}).`,
      new cloudwatch.Metric({
        namespace: CHIRP_METRICS.namespace,
        metricName: CHIRP_METRICS.pushFailures,
        dimensionsMap: { [CHIRP_METRICS.transportDimension]: config.pushTransport },
        period: fiveMinutes,
        statistic: 'Sum',
      }),
      10,
    );

    for (const app of props.platformApplications) {
      const env = app.environment === 'sandbox' ? 'Sandbox' : 'Production';
      this.alarm(
        `Sns${env}DeliveryFailures`,
        `SNS could not deliver pushes through platform application ${app.name} (see its delivery-status logs for APNs' reason).`,
        new cloudwatch.Metric({
          namespace: 'AWS/SNS',
          metricName: 'NumberOfNotificationsFailed',
          dimensionsMap: { Application: app.name },
          period: fiveMinutes,
          statistic: 'Sum',
        }),
        10,
      );
    }
  }

  private alarm(
    id: string,
    description: string,
    metric: cloudwatch.IMetric,
    threshold: number,
    extra: Partial<cloudwatch.CreateAlarmOptions> = {},
  ): cloudwatch.Alarm {
    const alarm = new cloudwatch.Alarm(this, id, {
      alarmName: `${this.prefix}-${id}`,
      alarmDescription: description,
      metric,
      threshold,
      evaluationPeriods: 1,
      comparisonOperator: cloudwatch.ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
      treatMissingData: cloudwatch.TreatMissingData.NOT_BREACHING,
      ...extra,
    });
    for (const action of this.actions) alarm.addAlarmAction(action);
    this.alarms.push(alarm);
    return alarm;
  }
}
