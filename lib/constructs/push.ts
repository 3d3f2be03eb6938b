/**
 * How pushes leave AWS, for one of two transports:
 *
 * - `sns` (default): one SNS platform application per APNs environment, either created here by a
 *   custom resource (Provider framework + `lambda/handlers/platform-app.ts`, which reads the .p8
 *   from Secrets Manager at deploy time) or passed in as existing ARNs; a delivery-failure topic
 *   every platform application reports to (`EventDeliveryFailure`), consumed by push-feedback.
 * - `apns`: direct HTTP/2 to Apple; the senders read the .p8 from Secrets Manager themselves.
 *
 * `grantSend(fn)` and `grantFeedback(fn)` set a function's push variables together with exactly the
 * IAM it needs; no other construct touches push configuration.
 */
import { ArnFormat, CustomResource, Duration, RemovalPolicy, Stack } from 'aws-cdk-lib';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as logs from 'aws-cdk-lib/aws-logs';
import * as secretsmanager from 'aws-cdk-lib/aws-secretsmanager';
import * as sns from 'aws-cdk-lib/aws-sns';
import * as cr from 'aws-cdk-lib/custom-resources';
import { Construct } from 'constructs';
import { ENV } from '../../lambda/config';
import {
  parsePlatformApplicationArn,
  SNS_PLATFORM,
  type ApnsEnvironmentName,
  type ChirpConfig,
} from '../config';
import { ChirpFunction } from './chirp-function';

export interface PlatformApplication {
  readonly environment: ApnsEnvironmentName;
  readonly platform: 'APNS' | 'APNS_SANDBOX';
  /** Platform application name (the `Application` dimension of SNS mobile-push metrics). */
  readonly name: string;
  /** ARN for environment variables (a custom-resource attribute when created here). */
  readonly arn: string;
  /** The same ARN as a plain formatted string, for IAM resources. */
  readonly iamArn: string;
  /** `arn:…:endpoint/<platform>/<name>/*`: every endpoint of this application. */
  readonly endpointArns: string;
  /** True when this stack created it (custom resource); false for an existing ARN from config. */
  readonly managed: boolean;
}

const ENV_VAR_FOR: Record<ApnsEnvironmentName, string> = {
  sandbox: ENV.snsPlatformAppSandbox,
  production: ENV.snsPlatformAppProduction,
};

export interface ChirpPushProps {
  readonly config: ChirpConfig;
  readonly logRetention: logs.RetentionDays;
}

export class ChirpPush extends Construct {
  readonly transport: ChirpConfig['pushTransport'];
  /** The .p8 secret, referenced (never created) by name or ARN. */
  readonly apnsKeySecret: secretsmanager.ISecret;
  /** SNS only: topic every platform application sends delivery failures to. */
  readonly feedbackTopic?: sns.Topic;
  /** SNS only: one per enabled environment. */
  readonly platformApplications: PlatformApplication[] = [];
  /** SNS only, when at least one application is created here: the custom resource's onEvent function. */
  readonly platformAppFunction?: ChirpFunction;
  /** The Provider framework behind the custom resources, if any. */
  readonly provider?: cr.Provider;

  private readonly config: ChirpConfig;

  constructor(scope: Construct, id: string, props: ChirpPushProps) {
    super(scope, id);
    const { config } = props;
    this.config = config;
    this.transport = config.pushTransport;
    this.apnsKeySecret = importSecret(this, 'ApnsKeySecret', config.apnsKeySecretName);

    if (config.pushTransport !== 'sns') return;

    this.feedbackTopic = new sns.Topic(this, 'PushFeedbackTopic', {
      displayName: 'Chirp push delivery failures',
      enforceSSL: true,
    });

    const toCreate = config.environments.filter((env) => config.existingPlatformApplicationArns[env] === undefined);
    if (toCreate.length > 0) {
      this.platformAppFunction = new ChirpFunction(this, 'PlatformAppHandler', {
        entry: 'lambda/handlers/platform-app.ts',
        description: 'Custom resource: creates, updates and deletes SNS platform applications for APNs',
        timeout: Duration.seconds(30),
        logRetention: props.logRetention,
      });
      // GetSecretValue on the .p8 secret only; the secret's value never reaches the template.
      this.apnsKeySecret.grantRead(this.platformAppFunction);
      const providerLogs = new logs.LogGroup(this, 'PlatformAppProviderLogs', {
        retention: props.logRetention,
        removalPolicy: RemovalPolicy.DESTROY,
      });
      this.provider = new cr.Provider(this, 'PlatformAppProvider', {
        onEventHandler: this.platformAppFunction,
        logGroup: providerLogs,
      });
    }

    const stack = Stack.of(this);
    for (const environment of config.environments) {
      const existing = config.existingPlatformApplicationArns[environment];
      if (existing !== undefined) {
        const parsed = parsePlatformApplicationArn(existing);
        if (!parsed) throw new Error(`unreachable: ${existing} was validated as a platform application ARN`);
        this.platformApplications.push({
          environment,
          platform: parsed.platform,
          name: parsed.name,
          arn: existing,
          iamArn: existing,
          endpointArns: `${existing.replace(':app/', ':endpoint/')}/*`,
          managed: false,
        });
        continue;
      }
      const platform = SNS_PLATFORM[environment];
      const name = `${config.stackName}-${environment}`;
      const iamArn = stack.formatArn({
        service: 'sns',
        resource: 'app',
        resourceName: `${platform}/${name}`,
        arnFormat: ArnFormat.SLASH_RESOURCE_NAME,
      });
      const endpointArns = stack.formatArn({
        service: 'sns',
        resource: 'endpoint',
        resourceName: `${platform}/${name}/*`,
        arnFormat: ArnFormat.SLASH_RESOURCE_NAME,
      });
      const resource = new CustomResource(this, environment === 'sandbox' ? 'SandboxPlatformApp' : 'ProductionPlatformApp', {
        serviceToken: (this.provider as cr.Provider).serviceToken,
        resourceType: 'Custom::SnsPlatformApplication',
        properties: {
          Name: name,
          Platform: platform,
          KeySecretId: this.apnsKeySecret.secretArn,
          KeyId: config.apnsKeyId,
          TeamId: config.teamId,
          BundleId: config.bundleId,
          EventDeliveryFailure: this.feedbackTopic.topicArn,
        },
      });
      this.platformAppFunction?.allow(
        new iam.PolicyStatement({
          actions: ['sns:CreatePlatformApplication', 'sns:SetPlatformApplicationAttributes', 'sns:DeletePlatformApplication'],
          resources: [iamArn],
        }),
      );
      this.platformApplications.push({
        environment,
        platform,
        name,
        arn: resource.getAttString('PlatformApplicationArn'),
        iamArn,
        endpointArns,
        managed: true,
      });
    }
  }

  /**
   * For functions that send pushes (webhook, api, sweeper): transport, bundle id and either the
   * platform application ARNs with endpoint permissions (sns) or the .p8 secret (apns).
   */
  grantSend(fn: ChirpFunction): void {
    fn.addEnvironment(ENV.pushTransport, this.transport);
    fn.addEnvironment(ENV.bundleId, this.config.bundleId);
    if (this.transport === 'apns') {
      fn.bindSecret(ENV.apnsKeySecretArn, this.apnsKeySecret);
      fn.addEnvironment(ENV.apnsKeyId, this.config.apnsKeyId);
      fn.addEnvironment(ENV.apnsTeamId, this.config.teamId);
      return;
    }
    this.addPlatformAppEnvironment(fn);
    fn.allow(
      new iam.PolicyStatement({
        actions: ['sns:CreatePlatformEndpoint'],
        resources: this.platformApplications.map((app) => app.iamArn),
      }),
    );
    fn.allow(
      new iam.PolicyStatement({
        actions: ['sns:Publish', 'sns:GetEndpointAttributes', 'sns:SetEndpointAttributes', 'sns:DeleteEndpoint'],
        resources: this.platformApplications.map((app) => app.endpointArns),
      }),
    );
  }

  /** For push-feedback (sns only): read and delete the endpoints whose deliveries failed; no publishing. */
  grantFeedback(fn: ChirpFunction): void {
    fn.addEnvironment(ENV.pushTransport, this.transport);
    fn.addEnvironment(ENV.bundleId, this.config.bundleId);
    this.addPlatformAppEnvironment(fn);
    fn.allow(
      new iam.PolicyStatement({
        actions: ['sns:GetEndpointAttributes', 'sns:DeleteEndpoint'],
        resources: this.platformApplications.map((app) => app.endpointArns),
      }),
    );
  }

  private addPlatformAppEnvironment(fn: ChirpFunction): void {
    for (const app of this.platformApplications) fn.addEnvironment(ENV_VAR_FOR[app.environment], app.arn);
  }
}

/**
 * Imports the .p8 secret by name or ARN. A name grants `<name>-??????` (Secrets Manager appends a
 * 6-character suffix); an ARN that ends in that suffix is treated as complete, otherwise as partial.
 */
export function importSecret(scope: Construct, id: string, nameOrArn: string): secretsmanager.ISecret {
  if (!nameOrArn.startsWith('arn:')) return secretsmanager.Secret.fromSecretNameV2(scope, id, nameOrArn);
  return /-[A-Za-z0-9]{6}$/.test(nameOrArn)
    ? secretsmanager.Secret.fromSecretCompleteArn(scope, id, nameOrArn)
    : secretsmanager.Secret.fromSecretPartialArn(scope, id, nameOrArn);
}
