/**
 * Configuration, read once per container and validated up front: a missing or malformed variable
 * fails the cold start with the variable's name instead of surfacing later as `undefined`.
 * The CDK stack sets these together with the IAM grant for the resource they name.
 */

export const ENV = {
  activityTable: 'ACTIVITY_TABLE_NAME',
  keyTable: 'KEY_TABLE_NAME',
  pushTransport: 'CHIRP_PUSH_TRANSPORT',
  bundleId: 'APNS_BUNDLE_ID',
  apnsKeyId: 'APNS_KEY_ID',
  apnsTeamId: 'APNS_TEAM_ID',
  /** Secrets Manager secret whose SecretString is the .p8 file's text (direct APNs transport). */
  apnsKeySecretArn: 'APNS_KEY_SECRET_ARN',
  apnsEndpoint: 'APNS_ENDPOINT',
  snsPlatformAppSandbox: 'SNS_PLATFORM_APP_ARN_SANDBOX',
  snsPlatformAppProduction: 'SNS_PLATFORM_APP_ARN_PRODUCTION',
  /** Secrets Manager secret holding the admin token (api function only). */
  adminTokenSecretArn: 'ADMIN_TOKEN_SECRET_ARN',
  /** Secrets Manager secret holding the HMAC key that tags webhook and device keys. */
  keyTagSecretArn: 'KEY_TAG_SECRET_ARN',
  replicateApiBase: 'REPLICATE_API_BASE',
} as const;

export class ConfigError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'ConfigError';
  }
}

type Env = Record<string, string | undefined>;

export function requireEnv(env: Env, name: string): string {
  const value = env[name];
  if (value === undefined || value.trim() === '') {
    throw new ConfigError(`${name} environment variable is not set`);
  }
  return value.trim();
}

export function optionalEnv(env: Env, name: string): string | undefined {
  const value = env[name];
  return value === undefined || value.trim() === '' ? undefined : value.trim();
}

export function oneOf<T extends string>(env: Env, name: string, allowed: readonly T[], fallback: T): T {
  const value = optionalEnv(env, name) ?? fallback;
  if (!(allowed as readonly string[]).includes(value)) {
    throw new ConfigError(`${name} must be one of ${allowed.join(', ')} (got "${value}")`);
  }
  return value as T;
}

export type PushTransport = 'sns' | 'apns' | 'outbox';
export const PUSH_TRANSPORTS: readonly PushTransport[] = ['sns', 'apns', 'outbox'];
