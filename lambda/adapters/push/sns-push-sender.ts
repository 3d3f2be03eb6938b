/**
 * SNS transport: one SNS platform application per APNs environment, one platform endpoint per
 * token, `Publish` with the APNs payload and the reserved `AWS.SNS.MOBILE.APNS.*` attributes.
 *
 * Endpoint lifecycle (AWS, "Creating a platform endpoint"; reference/apns-live-activities-sns.md §3.2–3.5):
 * - `CreatePlatformEndpoint` is idempotent for the same token and attributes, so it doubles as
 *   "look up the endpoint for this token". Its only attribute is `CustomUserData` naming the owner
 *   (device, token kind, activity: sns-endpoint-data.ts), always the same bytes for the same token,
 *   so every container stays on the idempotent path; the push-feedback function reads it back to
 *   retire the right token when SNS reports a failed delivery.
 * - The ARN is cached per container (environment + token → endpoint ARN): a second push to the
 *   same token is one `Publish`.
 * - "Endpoint <arn> already exists with the same Token, but different attributes" (InvalidParameter):
 *   take the ARN from the message, `SetEndpointAttributes {Token, Enabled: 'true', CustomUserData}`
 *   (the token moved to another device or came back), use it.
 * - `Publish` → NotFound (someone deleted the endpoint): create it again, publish once more.
 * - `Publish` → EndpointDisabled (APNs told SNS the token is dead): retire the token, forget the
 *   ARN and delete the endpoint, so the same token reported again later starts from a clean endpoint.
 * - `release(target)` (the token is no longer used: the activity ended, the token was rotated or
 *   retired): delete the endpoint. A token this container already deleted is not looked up again.
 *
 * Caveat: `Publish` succeeding means SNS accepted the message; APNs' verdict arrives later via
 * the platform application's EventDeliveryFailure topic and delivery-status logs (push-feedback handler).
 */
import {
  CreatePlatformEndpointCommand,
  DeleteEndpointCommand,
  PublishCommand,
  SetEndpointAttributesCommand,
  SNSServiceException,
  type MessageAttributeValue,
  type PublishCommandInput,
  type SNSClient,
} from '@aws-sdk/client-sns';
import { ENV } from '../../config';
import type { ApnsEnvironment, PushMessage, PushResult, PushSender, PushTarget } from '../../core/push-port';
import type { EndpointOwner } from '../../core/push-feedback';
import { endpointUserData } from './sns-endpoint-data';

/** The `Message` key SNS reads for each environment (also the platform of the platform application). */
export const SNS_APNS_PLATFORM: Readonly<Record<ApnsEnvironment, 'APNS' | 'APNS_SANDBOX'>> = {
  sandbox: 'APNS_SANDBOX',
  production: 'APNS',
};

const PLATFORM_APP_ENV_VAR: Readonly<Record<ApnsEnvironment, string>> = {
  sandbox: ENV.snsPlatformAppSandbox,
  production: ENV.snsPlatformAppProduction,
};

/** Minimal structured logger (the Powertools Logger fits). Never given tokens. */
export interface SnsLogger {
  debug?(message: string, data?: Record<string, unknown>): void;
  warn?(message: string, data?: Record<string, unknown>): void;
}

export interface SnsPushSenderOptions {
  client: SNSClient;
  /** Platform application ARNs (`SNS_PLATFORM_APP_ARN_SANDBOX`, `SNS_PLATFORM_APP_ARN_PRODUCTION`). */
  platformApplicationArns: { sandbox?: string; production?: string };
  /**
   * How long SNS/APNs may hold the push (the `…TTL` attribute). Default: `apns-expiration` minus
   * now, at least 0, so an update nobody could deliver in time is dropped instead of being stored
   * for SNS's default 4 weeks.
   */
  ttlSeconds?: (message: PushMessage) => number;
  /** Clock, epoch ms (tests). */
  now?: () => number;
  logger?: SnsLogger;
}

type EndpointLookup = { arn: string } | { failed: PushResult };

const EXISTING_ENDPOINT = /Endpoint (arn:[^\s]+) already exists with the same [Tt]oken/;

/** The endpoint ARN out of SNS's "already exists with the same Token, but different attributes" error. */
export function existingEndpointArn(err: unknown): string | undefined {
  if (!(err instanceof Error) || !/InvalidParameter/.test(err.name)) return undefined;
  return EXISTING_ENDPOINT.exec(err.message)?.[1];
}

function statusOf(err: unknown): number | undefined {
  return err instanceof SNSServiceException ? err.$metadata?.httpStatusCode : undefined;
}

function describeError(err: unknown): string {
  if (err instanceof Error) return err.message ? `${err.name}: ${err.message}` : err.name;
  return String(err);
}

function result(outcome: 'retire-token' | 'retry-later' | 'fix-config', err: unknown, prefix = ''): PushResult {
  const status = statusOf(err);
  return { outcome, transport: 'sns', reason: `${prefix}${describeError(err)}`, ...(status !== undefined ? { status } : {}) };
}

/**
 * An SNS error, classified. `step` says which call failed: a NotFound from `CreatePlatformEndpoint`
 * names a wrong platform application ARN (config), an InvalidParameter about the token from it
 * is a token SNS will never accept (retire).
 */
export function classifySnsError(err: unknown, step: 'create-endpoint' | 'set-endpoint' | 'publish'): PushResult {
  if (!(err instanceof Error)) return result('retry-later', err);
  const name = err.name;
  if (name === 'EndpointDisabledException' || name === 'EndpointDisabled') return result('retire-token', err);
  if (/^KMS/.test(name) || /Throttl|TooManyRequests|RequestLimitExceeded/i.test(name)) return result('retry-later', err);
  if (name === 'PlatformApplicationDisabledException' || name === 'AuthorizationErrorException' || name === 'InvalidSecurityException') {
    return result('fix-config', err);
  }
  if (name === 'NotFoundException') {
    return step === 'publish' ? result('retry-later', err) : result('fix-config', err, step === 'create-endpoint' ? 'platform application not found: ' : '');
  }
  if (name === 'InvalidParameterException' || name === 'InvalidParameterValueException') {
    // "Invalid parameter: Token Reason: iOS device tokens must be no more than 400 hexadecimal characters"
    if (step === 'create-endpoint' && /Invalid parameter: Token\b/.test(err.message)) return result('retire-token', err);
    return result('fix-config', err);
  }
  if (name === 'InternalErrorException') return result('retry-later', err);
  if (err instanceof SNSServiceException) {
    const status = statusOf(err);
    if (err.$fault === 'server' || (status !== undefined && status >= 500)) return result('retry-later', err);
    return result('fix-config', err);
  }
  // Not an SNS answer at all: DNS, socket, timeout, credentials provider hiccup.
  return result('retry-later', err);
}

function attribute(value: string): MessageAttributeValue {
  return { DataType: 'String', StringValue: value };
}

export function createSnsPushSender(opts: SnsPushSenderOptions): PushSender {
  const { client } = opts;
  const now = opts.now ?? (() => Date.now());
  /** environment + lower-case token → endpoint ARN (SNS reports APNs tokens in lower case). */
  const endpoints = new Map<string, string>();
  const pending = new Map<string, Promise<EndpointLookup>>();
  /** Keys whose endpoint this container deleted (retired or released): `release` skips them. Bounded. */
  const deleted = new Set<string>();
  const forget = (key: string): void => {
    endpoints.delete(key);
    deleted.delete(key);
    deleted.add(key);
    if (deleted.size > 1000) deleted.delete(deleted.values().next().value as string);
  };

  const keyOf = (target: PushTarget): string => `${target.environment}:${target.token.toLowerCase()}`;

  function missingApp(environment: ApnsEnvironment): PushResult {
    return {
      outcome: 'fix-config',
      transport: 'sns',
      reason: `no SNS platform application for ${environment}: set ${PLATFORM_APP_ENV_VAR[environment]}`,
    };
  }

  /**
   * `userData` set: create (or find) the endpoint for sending; on "already exists … different
   * attributes", set the token, the owner and Enabled=true. Undefined: only find it (deleting),
   * taking the ARN from that error without changing the endpoint.
   */
  async function createEndpoint(appArn: string, token: string, userData: string | undefined): Promise<EndpointLookup> {
    try {
      const out = await client.send(
        new CreatePlatformEndpointCommand({ PlatformApplicationArn: appArn, Token: token, ...(userData !== undefined ? { CustomUserData: userData } : {}) }),
      );
      if (!out.EndpointArn) return { failed: { outcome: 'retry-later', transport: 'sns', reason: 'CreatePlatformEndpoint returned no EndpointArn' } };
      return { arn: out.EndpointArn };
    } catch (err) {
      const existing = existingEndpointArn(err);
      if (!existing) return { failed: classifySnsError(err, 'create-endpoint') };
      if (userData === undefined) return { arn: existing };
      try {
        await client.send(new SetEndpointAttributesCommand({ EndpointArn: existing, Attributes: { Token: token, Enabled: 'true', CustomUserData: userData } }));
        return { arn: existing };
      } catch (setErr) {
        return { failed: classifySnsError(setErr, 'set-endpoint') };
      }
    }
  }

  /** Cached ARN, or one CreatePlatformEndpoint shared by concurrent pushes to the same token. */
  async function endpointFor(appArn: string, target: PushTarget, userData: string): Promise<EndpointLookup> {
    const key = keyOf(target);
    const cached = endpoints.get(key);
    if (cached) return { arn: cached };
    let lookup = pending.get(key);
    if (!lookup) {
      lookup = createEndpoint(appArn, target.token, userData).finally(() => pending.delete(key));
      pending.set(key, lookup);
    }
    const found = await lookup;
    if ('arn' in found) endpoints.set(key, found.arn);
    return found;
  }

  async function deleteEndpoint(arn: string, why: string): Promise<boolean> {
    try {
      await client.send(new DeleteEndpointCommand({ EndpointArn: arn }));
      return true;
    } catch (err) {
      opts.logger?.warn?.('sns DeleteEndpoint failed', { why, error: describeError(err) });
      return false;
    }
  }

  function ttlFor(message: PushMessage): number | PushResult {
    if (opts.ttlSeconds) {
      const ttl = opts.ttlSeconds(message);
      if (!Number.isFinite(ttl)) return { outcome: 'fix-config', transport: 'sns', reason: `ttlSeconds returned ${ttl} (not sent)` };
      return Math.max(0, Math.floor(ttl));
    }
    const expiration = Number(message.headers['apns-expiration']);
    if (!Number.isInteger(expiration) || expiration < 0) {
      return { outcome: 'fix-config', transport: 'sns', reason: `apns-expiration "${message.headers['apns-expiration']}" is not epoch seconds (not sent)` };
    }
    if (expiration === 0) return 0; // APNs: "0" = deliver once, store nothing
    return Math.max(0, expiration - Math.floor(now() / 1000));
  }

  function publishInput(arn: string, message: PushMessage, ttl: number): PublishCommandInput {
    const platform = SNS_APNS_PLATFORM[message.target.environment];
    return {
      TargetArn: arn,
      MessageStructure: 'json',
      // `default` is required with MessageStructure=json; SNS only uses it when no platform key matches.
      Message: JSON.stringify({ default: `Chirp ${message.kind} ${message.jobId}`, [platform]: JSON.stringify(message.payload) }),
      MessageAttributes: {
        'AWS.SNS.MOBILE.APNS.PUSH_TYPE': attribute(message.headers['apns-push-type']),
        'AWS.SNS.MOBILE.APNS.TOPIC': attribute(message.headers['apns-topic']),
        'AWS.SNS.MOBILE.APNS.PRIORITY': attribute(message.headers['apns-priority']),
        [`AWS.SNS.MOBILE.${platform}.TTL`]: attribute(String(ttl)),
      },
    };
  }

  function log(message: PushMessage, outcome: PushResult): PushResult {
    const data = {
      outcome: outcome.outcome,
      activityId: message.activityId,
      jobId: message.jobId,
      kind: message.kind,
      environment: message.target.environment,
      deviceId: message.target.deviceId,
      ...(outcome.outcome === 'sent' ? { messageId: outcome.id } : { reason: outcome.reason, status: outcome.status }),
    };
    if (outcome.outcome === 'sent') opts.logger?.debug?.('sns push sent', data);
    else opts.logger?.warn?.('sns push not delivered', data);
    return outcome;
  }

  async function publish(arn: string, message: PushMessage, ttl: number): Promise<{ sent: PushResult } | { error: unknown }> {
    try {
      const out = await client.send(new PublishCommand(publishInput(arn, message, ttl)));
      return { sent: { outcome: 'sent', transport: 'sns', ...(out.MessageId ? { id: out.MessageId } : {}) } };
    } catch (error) {
      return { error };
    }
  }

  return {
    transport: 'sns',

    async send(message: PushMessage): Promise<PushResult> {
      const { target } = message;
      const appArn = opts.platformApplicationArns[target.environment];
      if (!appArn) return log(message, missingApp(target.environment));
      const ttl = ttlFor(message);
      if (typeof ttl !== 'number') return log(message, ttl);

      const key = keyOf(target);
      deleted.delete(key); // in use (again): a later release must look it up
      const owner: EndpointOwner =
        target.tokenKind === 'update' ? { deviceId: target.deviceId, tokenKind: 'update', activityId: message.activityId } : { deviceId: target.deviceId, tokenKind: 'push-to-start' };
      const userData = endpointUserData(owner);
      let found = await endpointFor(appArn, target, userData);
      if (!('arn' in found)) return log(message, found.failed);

      let attempt = await publish(found.arn, message, ttl);
      if ('error' in attempt && attempt.error instanceof Error && attempt.error.name === 'NotFoundException') {
        // The endpoint was deleted behind our back: create it again, once.
        endpoints.delete(key);
        found = await endpointFor(appArn, target, userData);
        if (!('arn' in found)) return log(message, found.failed);
        attempt = await publish(found.arn, message, ttl);
      }
      if ('sent' in attempt) return log(message, attempt.sent);

      const outcome = classifySnsError(attempt.error, 'publish');
      if (outcome.outcome === 'retire-token') {
        forget(key);
        await deleteEndpoint(found.arn, 'endpoint disabled');
      }
      return log(message, outcome);
    },

    async release(target: PushTarget): Promise<void> {
      const appArn = opts.platformApplicationArns[target.environment];
      const key = keyOf(target);
      if (deleted.has(key)) return; // this container deleted it already (retired, or released before)
      let arn = endpoints.get(key);
      endpoints.delete(key);
      if (!arn && appArn) {
        // Another container created it: CreatePlatformEndpoint is the idempotent lookup (without
        // attributes, an existing endpoint answers "already exists" with its ARN, unchanged).
        const found = await createEndpoint(appArn, target.token, undefined);
        if ('arn' in found) arn = found.arn;
        else opts.logger?.warn?.('sns endpoint lookup for release failed', { outcome: found.failed.outcome, reason: found.failed.outcome === 'sent' ? undefined : found.failed.reason, deviceId: target.deviceId });
      }
      if (arn && (await deleteEndpoint(arn, 'released'))) forget(key);
    },
  };
}
