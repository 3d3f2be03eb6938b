/**
 * Configuration, read once per container and validated up front: a missing or malformed variable
 * fails the cold start with the variable's name instead of surfacing later as `undefined`.
 * The CDK stack sets these together with the IAM grant for the resource they name.
 */
import { DEFAULT_START_BUDGET, START_BUDGET_LIMITS, type StartBudget } from './core/start-pacing';

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
  /**
   * Local mode only: a PEM file of extra CA certificates to trust for `APNS_ENDPOINT`, *in
   * addition to* the public roots (a test server, a private relay). Never needed for Apple.
   */
  apnsCaFile: 'APNS_CA_FILE',
  /** Push-to-start budget per device (start-pacing.ts): starts per window; default 8. */
  pushToStartMax: 'CHIRP_PUSH_TO_START_MAX',
  /** …and the window in minutes; default 60. */
  pushToStartWindowMinutes: 'CHIRP_PUSH_TO_START_WINDOW_MINUTES',
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

function integerWithin(env: Env, name: string, limits: { min: number; max: number }): number | undefined {
  const raw = optionalEnv(env, name);
  if (raw === undefined) return undefined;
  const value = Number(raw);
  if (!/^\d+$/.test(raw) || value < limits.min || value > limits.max) {
    throw new ConfigError(`${name} must be a whole number from ${limits.min} to ${limits.max} (got "${raw}")`);
  }
  return value;
}

/**
 * The push-to-start budget from CHIRP_PUSH_TO_START_MAX / CHIRP_PUSH_TO_START_WINDOW_MINUTES;
 * undefined when neither is set (the core's default applies).
 */
export function readStartBudget(env: Env): StartBudget | undefined {
  const maxStarts = integerWithin(env, ENV.pushToStartMax, START_BUDGET_LIMITS.maxStarts);
  const windowMinutes = integerWithin(env, ENV.pushToStartWindowMinutes, START_BUDGET_LIMITS.windowMinutes);
  if (maxStarts === undefined && windowMinutes === undefined) return undefined;
  return {
    maxStarts: maxStarts ?? DEFAULT_START_BUDGET.maxStarts,
    windowSeconds: windowMinutes !== undefined ? windowMinutes * 60 : DEFAULT_START_BUDGET.windowSeconds,
  };
}
