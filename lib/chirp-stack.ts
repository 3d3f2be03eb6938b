/**
 * The whole Chirp backend in one stack (ARCHITECTURE §1, §5): HTTP API → webhook / api functions,
 * DynamoDB tables, the sweeper on a schedule, push through SNS platform applications or direct
 * APNs, generated secrets, alarms, and the outputs a user needs after `cdk deploy`.
 *
 * The stack never creates the App (see bin/app.ts), so tests can build it with any configuration.
 */
import { Aws, CfnOutput, RemovalPolicy, Stack, type StackProps } from 'aws-cdk-lib';
import type * as logs from 'aws-cdk-lib/aws-logs';
import type { Construct } from 'constructs';
import type { ChirpConfig } from './config';
import { ChirpAlarms } from './constructs/alarms';
import { ChirpApi, WEBHOOK_PATH } from './constructs/api';
import { ChirpFunctions } from './constructs/functions';
import { ChirpPush } from './constructs/push';
import { SweepSchedule } from './constructs/schedule';
import { ChirpSecrets } from './constructs/secrets';
import { ChirpTables } from './constructs/tables';
import { acknowledgeNagFindings } from './nag';

export interface ChirpStackProps extends StackProps {
  readonly config: ChirpConfig;
}

export class ChirpStack extends Stack {
  readonly config: ChirpConfig;
  readonly tables: ChirpTables;
  readonly secrets: ChirpSecrets;
  readonly push: ChirpPush;
  readonly functions: ChirpFunctions;
  readonly api: ChirpApi;
  readonly schedule: SweepSchedule;
  readonly alarms: ChirpAlarms;

  constructor(scope: Construct, id: string, props: ChirpStackProps) {
    super(scope, id, {
      description: 'Chirp: Replicate webhooks become iOS Live Activity pushes',
      ...props,
    });
    const { config } = props;
    this.config = config;
    const logRetention = config.logRetentionDays as logs.RetentionDays;

    this.tables = new ChirpTables(this, 'Tables', { removalPolicy: config.removalPolicy });
    this.secrets = new ChirpSecrets(this, 'Secrets', {
      removalPolicy: config.removalPolicy === 'retain' ? RemovalPolicy.RETAIN : RemovalPolicy.DESTROY,
    });
    this.push = new ChirpPush(this, 'Push', { config, logRetention });
    this.functions = new ChirpFunctions(this, 'Functions', {
      config,
      tables: this.tables,
      push: this.push,
      adminTokenSecret: this.secrets.adminToken,
      keyTagSecret: this.secrets.keyTag,
      logRetention,
    });
    this.api = new ChirpApi(this, 'Api', {
      webhookFunction: this.functions.webhook,
      apiFunction: this.functions.api,
      throttling: config.throttling,
      logRetention,
    });
    this.schedule = new SweepSchedule(this, 'SweepSchedule', {
      sweeper: this.functions.sweeper,
      intervalMinutes: config.sweepIntervalMinutes,
    });
    this.alarms = new ChirpAlarms(this, 'Alarms', {
      config,
      stage: this.api.stage,
      accessLogs: this.api.accessLogs,
      functions: [
        { name: 'Webhook', fn: this.functions.webhook },
        { name: 'Api', fn: this.functions.api },
        { name: 'Sweeper', fn: this.functions.sweeper },
        ...(this.functions.pushFeedback ? [{ name: 'PushFeedback', fn: this.functions.pushFeedback }] : []),
      ],
      sweeper: this.functions.sweeper,
      platformApplications: this.push.platformApplications,
    });

    this.addOutputs();
    acknowledgeNagFindings(this);
  }

  private addOutputs(): void {
    const url = this.api.url;
    const adminArn = this.secrets.adminToken.secretArn;
    new CfnOutput(this, 'ApiUrl', { description: 'Base URL of the Chirp API', value: url });
    new CfnOutput(this, 'WebhookUrlTemplate', {
      description: 'Paste into the webhook field of a Replicate prediction, with an inspector key (POST /v1/inspectors returns it)',
      value: `${url}${WEBHOOK_PATH}?key=<inspector key>`,
    });
    new CfnOutput(this, 'InspectorUrl', { description: 'The web inspector (needs the admin token)', value: `${url}/inspector` });
    new CfnOutput(this, 'AdminTokenSecretArn', { description: 'Secrets Manager secret holding the admin token', value: adminArn });
    new CfnOutput(this, 'AdminTokenCommand', {
      description: 'Prints the admin token',
      value: `aws secretsmanager get-secret-value --secret-id ${adminArn} --query SecretString --output text --region ${Aws.REGION}`,
    });
    new CfnOutput(this, 'ActivityTableName', { value: this.tables.activityTable.tableName });
    new CfnOutput(this, 'KeyTableName', { value: this.tables.keyTable.tableName });
    new CfnOutput(this, 'PushTransport', { value: this.config.pushTransport });
    if (this.push.feedbackTopic) {
      new CfnOutput(this, 'PushFeedbackTopicArn', {
        description: 'EventDeliveryFailure topic (set it on platform applications you brought yourself)',
        value: this.push.feedbackTopic.topicArn,
      });
    }
    for (const app of this.push.platformApplications) {
      const env = app.environment === 'sandbox' ? 'Sandbox' : 'Production';
      new CfnOutput(this, `PlatformApplicationArn${env}`, { description: `SNS platform application (${app.platform})`, value: app.arn });
    }
    if (this.alarms.topic) {
      new CfnOutput(this, 'AlarmTopicArn', { description: 'Alarm notifications (confirm the email subscription)', value: this.alarms.topic.topicArn });
    }
  }
}
