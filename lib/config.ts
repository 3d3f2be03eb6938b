/**
 * Stack configuration: typed, merged from `chirp.config.json` and the CDK context key `chirp`
 * (context wins), and validated at synth time. Every error names the setting it is about
 * (`chirp.bundleId …`), so a bad deploy fails before CloudFormation sees anything.
 *
 * @example
 * const config = loadConfig({ bundleId: 'com.acme.chirp', teamId: 'ABCDE12345', apnsKeyId: 'KEY1234567' });
 */
import * as fs from 'node:fs';

export type ApnsEnvironmentName = 'sandbox' | 'production';
export type StackPushTransport = 'sns' | 'apns';
export type RemovalPolicyName = 'retain' | 'destroy';

export interface ThrottlingConfig {
  /** Steady-state requests per second for the whole API (default stage). */
  rateLimit: number;
  /** Burst bucket size for the whole API (default stage). */
  burstLimit: number;
}

export interface ExistingPlatformApplicationArns {
  sandbox?: string;
  production?: string;
}

export interface ChirpConfig {
  /** CloudFormation stack name. @default "Chirp" */
  stackName: string;
  /** The iOS app's bundle id; pushes go to `<bundleId>.push-type.liveactivity`. */
  bundleId: string;
  /** Apple Developer Team ID (10 characters). */
  teamId: string;
  /** The .p8 signing key's Key ID (10 characters). */
  apnsKeyId: string;
  /** Secrets Manager secret (name or ARN) whose SecretString is the .p8 file's text. @default "chirp/apns-key" */
  apnsKeySecretName: string;
  /** APNs environments to serve. @default ["sandbox"] */
  environments: ApnsEnvironmentName[];
  /** `sns` (SNS platform endpoints, default) or `apns` (direct HTTP/2 to Apple). */
  pushTransport: StackPushTransport;
  /** Platform applications you already have; for these no custom resource is created. */
  existingPlatformApplicationArns: ExistingPlatformApplicationArns;
  /** What happens to the tables when the stack is deleted. @default "retain" */
  removalPolicy: RemovalPolicyName;
  /** Reserved concurrency for the webhook function. @default undefined (unreserved) */
  webhookReservedConcurrency?: number;
  throttling: ThrottlingConfig;
  /** Minutes between sweeper runs. @default 1 */
  sweepIntervalMinutes: number;
  /** CloudWatch Logs retention for every log group of the stack. @default 30 */
  logRetentionDays: number;
  /** Subscribe this address to the alarm topic (the subscription must be confirmed by mail). */
  alarmEmail?: string;
  /** Send alarms to this existing SNS topic instead of (or as well as) a new one. */
  alarmTopicArn?: string;
  /** Override Replicate's API base URL for reconciliation (tests, proxies). */
  replicateApiBase?: string;
}

export const DEFAULT_CONFIG_FILE = 'chirp.config.json';

/** Retention values CloudWatch Logs accepts (9999 is not offered: use a real number of days). */
export const LOG_RETENTION_DAYS: readonly number[] = [
  1, 3, 5, 7, 14, 30, 60, 90, 120, 150, 180, 365, 400, 545, 731, 1096, 1827, 2192, 2557, 2922, 3288, 3653,
];

const DEFAULTS = {
  stackName: 'Chirp',
  apnsKeySecretName: 'chirp/apns-key',
  environments: ['sandbox'] as ApnsEnvironmentName[],
  pushTransport: 'sns' as StackPushTransport,
  removalPolicy: 'retain' as RemovalPolicyName,
  throttling: { rateLimit: 50, burstLimit: 100 },
  sweepIntervalMinutes: 1,
  logRetentionDays: 30,
};

const KNOWN_KEYS = [
  'stackName',
  'bundleId',
  'teamId',
  'apnsKeyId',
  'apnsKeySecretName',
  'environments',
  'pushTransport',
  'existingPlatformApplicationArns',
  'removalPolicy',
  'webhookReservedConcurrency',
  'throttling',
  'sweepIntervalMinutes',
  'logRetentionDays',
  'alarmEmail',
  'alarmTopicArn',
  'replicateApiBase',
] as const;

/** Settings that are objects: context overrides merge into them key by key. */
const NESTED_KEYS = new Set<string>(['throttling', 'existingPlatformApplicationArns']);

export class ChirpConfigError extends Error {
  constructor(readonly problems: string[]) {
    super(`Invalid Chirp configuration:\n  - ${problems.join('\n  - ')}`);
    this.name = 'ChirpConfigError';
  }
}

type Json = Record<string, unknown>;

function isRecord(value: unknown): value is Json {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** The platform-app and endpoint names SNS uses for each environment. */
export const SNS_PLATFORM: Record<ApnsEnvironmentName, 'APNS' | 'APNS_SANDBOX'> = {
  sandbox: 'APNS_SANDBOX',
  production: 'APNS',
};

const PLATFORM_APP_ARN = /^arn:aws[a-z-]*:sns:[a-z0-9-]+:\d{12}:app\/(APNS|APNS_SANDBOX)\/([A-Za-z0-9_.-]{1,256})$/;
const SECRET_ARN = /^arn:aws[a-z-]*:secretsmanager:[a-z0-9-]+:\d{12}:secret:[A-Za-z0-9/_+=.@-]+$/;
const SECRET_NAME = /^[A-Za-z0-9/_+=.@-]{1,512}$/;
const TOPIC_ARN = /^arn:aws[a-z-]*:sns:[a-z0-9-]+:\d{12}:[A-Za-z0-9_-]{1,256}$/;
const BUNDLE_ID = /^[A-Za-z0-9-]+(\.[A-Za-z0-9-]+)+$/;
const APPLE_ID = /^[A-Z0-9]{10}$/;
const EMAIL = /^[^\s@]+@[^\s@]+\.[^\s@]+$/;
const STACK_NAME = /^[A-Za-z][A-Za-z0-9-]{0,127}$/;

/** Splits a platform application ARN into the platform and name SNS uses in endpoint ARNs and metrics. */
export function parsePlatformApplicationArn(arn: string): { platform: 'APNS' | 'APNS_SANDBOX'; name: string } | undefined {
  const m = PLATFORM_APP_ARN.exec(arn);
  if (!m) return undefined;
  return { platform: m[1] as 'APNS' | 'APNS_SANDBOX', name: m[2] };
}

/**
 * Merges configuration sources left to right (later wins; `throttling` and
 * `existingPlatformApplicationArns` merge key by key), applies defaults and validates.
 * Each source may be a plain object, a JSON string (as `-c chirp='{"…"}'` delivers it), or undefined.
 *
 * @throws ChirpConfigError listing every problem, each naming its setting.
 */
export function loadConfig(...sources: unknown[]): ChirpConfig {
  const problems: string[] = [];
  const merged: Json = {};
  sources.forEach((source, index) => {
    const obj = normaliseSource(source, index, problems);
    if (!obj) return;
    for (const [key, value] of Object.entries(obj)) {
      if (key.startsWith('$') || key.startsWith('_')) continue; // "$schema", "_comment"
      if (NESTED_KEYS.has(key) && isRecord(value) && isRecord(merged[key])) {
        merged[key] = { ...(merged[key] as Json), ...value };
      } else {
        merged[key] = value;
      }
    }
  });
  return validate(merged, problems);
}

function normaliseSource(source: unknown, index: number, problems: string[]): Json | undefined {
  if (source === undefined || source === null) return undefined;
  let value: unknown = source;
  if (typeof value === 'string') {
    try {
      value = JSON.parse(value) as unknown;
    } catch {
      problems.push(`chirp (source ${index + 1}) must be a JSON object, got a string that is not JSON`);
      return undefined;
    }
  }
  if (!isRecord(value)) {
    problems.push(`chirp (source ${index + 1}) must be an object of settings`);
    return undefined;
  }
  return value;
}

function validate(raw: Json, problems: string[]): ChirpConfig {
  for (const key of Object.keys(raw)) {
    if (!(KNOWN_KEYS as readonly string[]).includes(key)) {
      problems.push(`chirp.${key} is not a known setting (known: ${KNOWN_KEYS.join(', ')})`);
    }
  }

  const str = (key: string, fallback?: string): string | undefined => {
    const v = raw[key];
    if (v === undefined || v === null || v === '') return fallback;
    if (typeof v !== 'string') {
      problems.push(`chirp.${key} must be a string`);
      return fallback;
    }
    return v.trim();
  };
  const int = (key: string, min: number, max: number, fallback?: number): number | undefined => {
    const v = raw[key];
    if (v === undefined || v === null) return fallback;
    if (typeof v !== 'number' || !Number.isInteger(v) || v < min || v > max) {
      problems.push(`chirp.${key} must be a whole number from ${min} to ${max} (got ${JSON.stringify(v)})`);
      return fallback;
    }
    return v;
  };

  const stackName = str('stackName', DEFAULTS.stackName) ?? DEFAULTS.stackName;
  if (!STACK_NAME.test(stackName)) {
    problems.push(`chirp.stackName must start with a letter and contain only letters, digits and hyphens (got "${stackName}")`);
  }

  const pushTransportRaw = str('pushTransport', DEFAULTS.pushTransport);
  let pushTransport: StackPushTransport = DEFAULTS.pushTransport;
  if (pushTransportRaw === 'sns' || pushTransportRaw === 'apns') {
    pushTransport = pushTransportRaw;
  } else {
    problems.push(`chirp.pushTransport must be "sns" or "apns" (got "${pushTransportRaw}")`);
  }

  let environments: ApnsEnvironmentName[] = [...DEFAULTS.environments];
  const envRaw = raw.environments;
  if (envRaw !== undefined) {
    if (
      !Array.isArray(envRaw) ||
      envRaw.length === 0 ||
      envRaw.some((e) => e !== 'sandbox' && e !== 'production') ||
      new Set(envRaw).size !== envRaw.length
    ) {
      problems.push(`chirp.environments must be ["sandbox"], ["production"] or ["sandbox", "production"] (got ${JSON.stringify(envRaw)})`);
    } else {
      environments = envRaw as ApnsEnvironmentName[];
    }
  }

  const existing: ExistingPlatformApplicationArns = {};
  const existingRaw = raw.existingPlatformApplicationArns;
  if (existingRaw !== undefined) {
    if (!isRecord(existingRaw)) {
      problems.push('chirp.existingPlatformApplicationArns must be an object like {"sandbox": "arn:aws:sns:…:app/APNS_SANDBOX/MyApp"}');
    } else {
      for (const [env, arn] of Object.entries(existingRaw)) {
        if (env !== 'sandbox' && env !== 'production') {
          problems.push(`chirp.existingPlatformApplicationArns.${env} is not an environment (use "sandbox" or "production")`);
          continue;
        }
        if (arn === undefined || arn === null || arn === '') continue;
        const parsed = typeof arn === 'string' ? parsePlatformApplicationArn(arn) : undefined;
        if (!parsed) {
          problems.push(
            `chirp.existingPlatformApplicationArns.${env} must be an SNS platform application ARN like arn:aws:sns:us-east-1:123456789012:app/${SNS_PLATFORM[env]}/MyApp`,
          );
          continue;
        }
        if (parsed.platform !== SNS_PLATFORM[env]) {
          problems.push(`chirp.existingPlatformApplicationArns.${env} must be an ${SNS_PLATFORM[env]} platform application (got ${parsed.platform})`);
          continue;
        }
        if (!environments.includes(env)) {
          problems.push(`chirp.existingPlatformApplicationArns.${env} is set but chirp.environments does not include "${env}"`);
          continue;
        }
        existing[env] = arn as string;
      }
      if (pushTransport !== 'sns' && Object.keys(existing).length > 0) {
        problems.push('chirp.existingPlatformApplicationArns only applies when chirp.pushTransport is "sns"');
      }
    }
  }

  const bundleId = str('bundleId');
  if (!bundleId) {
    problems.push('chirp.bundleId is required: the iOS app\'s reverse-DNS bundle id like com.example.app');
  } else if (!BUNDLE_ID.test(bundleId)) {
    problems.push(`chirp.bundleId must be a reverse-DNS bundle id like com.example.app (got "${bundleId}")`);
  }

  // The key, team and secret are needed to talk to Apple: always for direct APNs, and for SNS
  // whenever the stack creates at least one platform application itself.
  const needsKey = pushTransport === 'apns' || environments.some((env) => existing[env] === undefined);
  const teamId = str('teamId');
  const apnsKeyId = str('apnsKeyId');
  if (teamId !== undefined && !APPLE_ID.test(teamId)) {
    problems.push(`chirp.teamId must be your 10-character Apple Team ID like ABCDE12345 (got "${teamId}")`);
  } else if (teamId === undefined && needsKey) {
    problems.push('chirp.teamId is required: your 10-character Apple Team ID (Membership details in the Apple Developer portal)');
  }
  if (apnsKeyId !== undefined && !APPLE_ID.test(apnsKeyId)) {
    problems.push(`chirp.apnsKeyId must be the 10-character Key ID of your .p8 key like ABC123DEFG (got "${apnsKeyId}")`);
  } else if (apnsKeyId === undefined && needsKey) {
    problems.push('chirp.apnsKeyId is required: the 10-character Key ID of your APNs .p8 key');
  }
  const apnsKeySecretName = str('apnsKeySecretName', DEFAULTS.apnsKeySecretName) ?? DEFAULTS.apnsKeySecretName;
  if (apnsKeySecretName.startsWith('arn:') ? !SECRET_ARN.test(apnsKeySecretName) : !SECRET_NAME.test(apnsKeySecretName)) {
    problems.push(`chirp.apnsKeySecretName must be a Secrets Manager secret name like chirp/apns-key or its ARN (got "${apnsKeySecretName}")`);
  }

  const removalRaw = str('removalPolicy', DEFAULTS.removalPolicy);
  let removalPolicy: RemovalPolicyName = DEFAULTS.removalPolicy;
  if (removalRaw === 'retain' || removalRaw === 'destroy') {
    removalPolicy = removalRaw;
  } else {
    problems.push(`chirp.removalPolicy must be "retain" or "destroy" (got "${removalRaw}")`);
  }

  const webhookReservedConcurrency = int('webhookReservedConcurrency', 1, 10000);

  const throttling = { ...DEFAULTS.throttling };
  const throttlingRaw = raw.throttling;
  if (throttlingRaw !== undefined) {
    if (!isRecord(throttlingRaw)) {
      problems.push('chirp.throttling must be an object like {"rateLimit": 50, "burstLimit": 100}');
    } else {
      for (const [key, value] of Object.entries(throttlingRaw)) {
        if (key !== 'rateLimit' && key !== 'burstLimit') {
          problems.push(`chirp.throttling.${key} is not a known setting (known: rateLimit, burstLimit)`);
        } else if (typeof value !== 'number' || !Number.isFinite(value) || value <= 0 || (key === 'burstLimit' && !Number.isInteger(value))) {
          problems.push(`chirp.throttling.${key} must be a positive ${key === 'burstLimit' ? 'whole ' : ''}number (got ${JSON.stringify(value)})`);
        } else {
          throttling[key] = value;
        }
      }
    }
  }

  const sweepIntervalMinutes = int('sweepIntervalMinutes', 1, 60, DEFAULTS.sweepIntervalMinutes) ?? DEFAULTS.sweepIntervalMinutes;

  let logRetentionDays = DEFAULTS.logRetentionDays;
  if (raw.logRetentionDays !== undefined) {
    if (typeof raw.logRetentionDays !== 'number' || !LOG_RETENTION_DAYS.includes(raw.logRetentionDays)) {
      problems.push(`chirp.logRetentionDays must be one of ${LOG_RETENTION_DAYS.join(', ')} (got ${JSON.stringify(raw.logRetentionDays)})`);
    } else {
      logRetentionDays = raw.logRetentionDays;
    }
  }

  const alarmEmail = str('alarmEmail');
  if (alarmEmail !== undefined && !EMAIL.test(alarmEmail)) {
    problems.push(`chirp.alarmEmail must be an email address (got "${alarmEmail}")`);
  }
  const alarmTopicArn = str('alarmTopicArn');
  if (alarmTopicArn !== undefined && !TOPIC_ARN.test(alarmTopicArn)) {
    problems.push(`chirp.alarmTopicArn must be an SNS topic ARN like arn:aws:sns:us-east-1:123456789012:alerts (got "${alarmTopicArn}")`);
  }
  const replicateApiBase = str('replicateApiBase');
  if (replicateApiBase !== undefined && !/^https?:\/\/[^\s/]+/.test(replicateApiBase)) {
    problems.push(`chirp.replicateApiBase must be an http(s) URL like https://api.replicate.com (got "${replicateApiBase}")`);
  }

  if (problems.length > 0) throw new ChirpConfigError(problems);

  return {
    stackName,
    bundleId: bundleId as string,
    teamId: teamId ?? '',
    apnsKeyId: apnsKeyId ?? '',
    apnsKeySecretName,
    environments,
    pushTransport,
    existingPlatformApplicationArns: existing,
    removalPolicy,
    webhookReservedConcurrency,
    throttling,
    sweepIntervalMinutes,
    logRetentionDays,
    alarmEmail,
    alarmTopicArn,
    replicateApiBase,
  };
}

/**
 * Context overrides from the CDK app: the whole `chirp` key (object or JSON string, as
 * `-c chirp='{"bundleId":"com.acme.app"}'` gives it) and single settings as `-c chirp.<setting>=<value>`
 * (values are parsed as JSON when they can be, so `-c chirp.sweepIntervalMinutes=5` is a number).
 */
export function contextOverrides(tryGetContext: (key: string) => unknown, contextKeys: string[]): unknown[] {
  const whole = tryGetContext('chirp');
  const single: Json = {};
  for (const key of contextKeys) {
    if (!key.startsWith('chirp.')) continue;
    const path = key.slice('chirp.'.length).split('.');
    let value = tryGetContext(key);
    if (typeof value === 'string') {
      try {
        value = JSON.parse(value) as unknown;
      } catch {
        // a plain string setting such as a bundle id
      }
    }
    if (path.length === 1) {
      single[path[0]] = value;
    } else if (path.length === 2) {
      const inner = isRecord(single[path[0]]) ? (single[path[0]] as Json) : {};
      inner[path[1]] = value;
      single[path[0]] = inner;
    }
  }
  return [whole, Object.keys(single).length > 0 ? single : undefined];
}

/** Reads the committed configuration file, or nothing when it is absent. */
export function readConfigFile(path: string): unknown {
  if (!fs.existsSync(path)) return undefined;
  const text = fs.readFileSync(path, 'utf8');
  try {
    return JSON.parse(text) as unknown;
  } catch (err) {
    throw new ChirpConfigError([`${path} is not valid JSON: ${(err as Error).message}`]);
  }
}
