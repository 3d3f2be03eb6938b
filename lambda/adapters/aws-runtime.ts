/**
 * The AWS side of the composition: configuration from the environment (read once, failing fast
 * with the variable's name), clients created once per container, secrets fetched once.
 */
import { SNSClient } from '@aws-sdk/client-sns';
import { ENV, oneOf, optionalEnv, readStartBudget, requireEnv, ConfigError, PUSH_TRANSPORTS, type PushTransport } from '../config';
import type { StartBudget } from '../core/start-pacing';
import type { PushSender } from '../core/push-port';
import { readSecret } from './secrets';
import { createSnsPushSender } from './push/sns-push-sender';

type Env = Record<string, string | undefined>;

export interface AwsConfig {
  activityTable: string;
  keyTable: string;
  transport: PushTransport;
  bundleId: string;
  keyTagSecretArn: string;
  sns: { sandbox?: string; production?: string };
  apns?: { keyId: string; teamId: string; keySecretArn: string; endpoint?: string };
  /** REPLICATE_API_BASE, for the functions that reconcile (sweeper, api). */
  replicateApiBase?: string;
  /** CHIRP_PUSH_TO_START_MAX / _WINDOW_MINUTES; the core's default (8 per hour) when unset. */
  startBudget?: StartBudget;
}

/** Everything but the key-tag secret: the sweeper never checks keys and is not given that secret. */
export type AwsSweeperConfig = Omit<AwsConfig, 'keyTagSecretArn'>;

export function readAwsConfig(env: Env): AwsConfig {
  return { ...readAwsSweeperConfig(env), keyTagSecretArn: requireEnv(env, ENV.keyTagSecretArn) };
}

export function readAwsSweeperConfig(env: Env): AwsSweeperConfig {
  const transport = oneOf(env, ENV.pushTransport, PUSH_TRANSPORTS, 'sns');
  if (transport === 'outbox') throw new ConfigError(`${ENV.pushTransport}=outbox is for local mode only`);
  const config: AwsSweeperConfig = {
    activityTable: requireEnv(env, ENV.activityTable),
    keyTable: requireEnv(env, ENV.keyTable),
    transport,
    bundleId: requireEnv(env, ENV.bundleId),
    sns: {},
  };
  const replicateApiBase = optionalEnv(env, ENV.replicateApiBase);
  if (replicateApiBase) config.replicateApiBase = replicateApiBase;
  const startBudget = readStartBudget(env);
  if (startBudget) config.startBudget = startBudget;
  if (transport === 'sns') {
    const sandbox = optionalEnv(env, ENV.snsPlatformAppSandbox);
    const production = optionalEnv(env, ENV.snsPlatformAppProduction);
    if (!sandbox && !production) {
      throw new ConfigError(`${ENV.snsPlatformAppSandbox} or ${ENV.snsPlatformAppProduction} must be set when ${ENV.pushTransport}=sns`);
    }
    if (sandbox) config.sns.sandbox = sandbox;
    if (production) config.sns.production = production;
  } else {
    const endpoint = optionalEnv(env, ENV.apnsEndpoint);
    config.apns = {
      keyId: requireEnv(env, ENV.apnsKeyId),
      teamId: requireEnv(env, ENV.apnsTeamId),
      keySecretArn: requireEnv(env, ENV.apnsKeySecretArn),
      ...(endpoint ? { endpoint } : {}),
    };
  }
  return config;
}

/**
 * The push transport named by the configuration. The APNs library is loaded only for the `apns`
 * transport: the stack compiles CHIRP_PUSH_TRANSPORT into each bundle, so esbuild drops the
 * unused branch and SNS bundles stay small.
 */
export async function createAwsPushSender(config: AwsSweeperConfig): Promise<PushSender> {
  if (process.env.CHIRP_PUSH_TRANSPORT === 'apns') {
    const apns = config.apns;
    if (!apns) throw new ConfigError(`${ENV.pushTransport}=apns needs the APNs settings`);
    const { createApnsPushSender } = await import('./push/apns-push-sender');
    return createApnsPushSender({ keyPem: await readSecret(apns.keySecretArn), keyId: apns.keyId, teamId: apns.teamId, ...(apns.endpoint ? { endpoint: apns.endpoint } : {}) });
  }
  return createSnsPushSender({ client: new SNSClient({}), platformApplicationArns: config.sns });
}
