/**
 * The four application functions and exactly what each may touch:
 *
 * | function      | ActivityTable | KeyTable   | secrets               | push                             |
 * |---------------|---------------|------------|-----------------------|----------------------------------|
 * | webhook       | read/write    | read, update | key-tag             | send                             |
 * | api           | read/write    | read/write | admin token, key-tag  | send                             |
 * | sweeper       | read/write    | read, update | —                   | send                             |
 * | push-feedback | read/write    | read/write | —                     | read/delete endpoints (sns only) |
 *
 * "send": with sns, the platform application ARNs and endpoint permissions; with apns, the .p8 secret.
 */
import { Duration } from 'aws-cdk-lib';
import type * as logs from 'aws-cdk-lib/aws-logs';
import type * as secretsmanager from 'aws-cdk-lib/aws-secretsmanager';
import { LambdaSubscription } from 'aws-cdk-lib/aws-sns-subscriptions';
import { Construct } from 'constructs';
import { ENV } from '../../lambda/config';
import type { ChirpConfig } from '../config';
import { bundlingDefines, ChirpFunction } from './chirp-function';
import type { ChirpPush } from './push';
import type { ChirpTables } from './tables';

export interface ChirpFunctionsProps {
  readonly config: ChirpConfig;
  readonly tables: ChirpTables;
  readonly push: ChirpPush;
  readonly adminTokenSecret: secretsmanager.ISecret;
  readonly keyTagSecret: secretsmanager.ISecret;
  readonly logRetention: logs.RetentionDays;
}

export class ChirpFunctions extends Construct {
  readonly webhook: ChirpFunction;
  readonly api: ChirpFunction;
  readonly sweeper: ChirpFunction;
  /** Only with the sns transport. */
  readonly pushFeedback?: ChirpFunction;

  constructor(scope: Construct, id: string, props: ChirpFunctionsProps) {
    super(scope, id);
    const { config, tables, push, logRetention } = props;
    const define = bundlingDefines(config.pushTransport);

    this.webhook = new ChirpFunction(this, 'Webhook', {
      entry: 'lambda/handlers/webhook.ts',
      description: 'Replicate webhook ingest: POST /v1/webhooks/replicate',
      timeout: Duration.seconds(10),
      logRetention,
      reservedConcurrentExecutions: config.webhookReservedConcurrency,
      bundling: { define },
    })
      .bindTable(ENV.activityTable, tables.activityTable, 'readwrite')
      .bindTable(ENV.keyTable, tables.keyTable, 'read-update')
      .bindSecret(ENV.keyTagSecretArn, props.keyTagSecret);
    push.grantSend(this.webhook);

    this.api = new ChirpFunction(this, 'Api', {
      entry: 'lambda/handlers/api.ts',
      description: 'Chirp HTTP API: devices, activities, inspectors, admin, OpenAPI and the inspector page',
      // API Gateway gives up at 30 s; /v1/admin/sweep and /v1/inspectors/{id}/test do the most work.
      timeout: Duration.seconds(28),
      logRetention,
      bundling: {
        define,
        // The inspector page's assets, whichever way the handler loads them: imported as text, or
        // read from `web/` next to the bundle at run time.
        loader: { '.html': 'text', '.css': 'text', '.svg': 'text' },
        commandHooks: {
          beforeBundling: () => [],
          beforeInstall: () => [],
          afterBundling: (inputDir: string, outputDir: string) => [`if [ -d "${inputDir}/web" ]; then cp -R "${inputDir}/web" "${outputDir}/web"; fi`],
        },
      },
    })
      .bindTable(ENV.activityTable, tables.activityTable, 'readwrite')
      .bindTable(ENV.keyTable, tables.keyTable, 'readwrite')
      .bindSecret(ENV.adminTokenSecretArn, props.adminTokenSecret)
      .bindSecret(ENV.keyTagSecretArn, props.keyTagSecret);
    push.grantSend(this.api);

    this.sweeper = new ChirpFunction(this, 'Sweeper', {
      entry: 'lambda/handlers/sweeper.ts',
      description: 'Ends hung activities, reconciles with Replicate, flushes coalesced updates',
      timeout: Duration.seconds(60),
      logRetention,
      bundling: { define },
    })
      .bindTable(ENV.activityTable, tables.activityTable, 'readwrite')
      .bindTable(ENV.keyTable, tables.keyTable, 'read-update');
    push.grantSend(this.sweeper);

    if (config.replicateApiBase !== undefined) {
      // Reconciliation runs in the sweeper and in POST /v1/admin/sweep.
      this.sweeper.addEnvironment(ENV.replicateApiBase, config.replicateApiBase);
      this.api.addEnvironment(ENV.replicateApiBase, config.replicateApiBase);
    }

    if (push.feedbackTopic) {
      this.pushFeedback = new ChirpFunction(this, 'PushFeedback', {
        entry: 'lambda/handlers/push-feedback.ts',
        description: 'SNS EventDeliveryFailure events: retires dead tokens',
        timeout: Duration.seconds(30),
        logRetention,
        bundling: { define },
      })
        .bindTable(ENV.activityTable, tables.activityTable, 'readwrite')
        .bindTable(ENV.keyTable, tables.keyTable, 'readwrite');
      push.grantFeedback(this.pushFeedback);
      push.feedbackTopic.addSubscription(new LambdaSubscription(this.pushFeedback));
    }
  }

  /** Every function of the application (not the custom-resource handler). */
  get all(): ChirpFunction[] {
    return [this.webhook, this.api, this.sweeper, ...(this.pushFeedback ? [this.pushFeedback] : [])];
  }
}
