/**
 * SNS delivery-failure feedback (ARCHITECTURE §2.3 "delivery-failure feedback retire the token").
 *
 * With the SNS transport, `Publish` succeeding only means SNS accepted the push; APNs' verdict
 * comes later. The platform applications report permanent failures (`EventDeliveryFailure`) to an
 * SNS topic that the push-feedback function is subscribed to. Each message names the endpoint:
 *
 *   {"DeliveryAttempts":1,"EndpointArn":"arn:aws:sns:…:endpoint/APNS/…","EventType":"DeliveryFailure",
 *    "FailureMessage":"Platform token associated with the endpoint is not valid",
 *    "FailureType":"InvalidPlatformToken","MessageId":"…","Resource":"arn:aws:sns:…:app/APNS/…",
 *    "Service":"SNS","Time":"2026-…Z"}
 *
 * The endpoint's attributes (one GetEndpointAttributes) give the token (in lower case) and the
 * owner Chirp recorded in `CustomUserData` when it created the endpoint (device, token kind,
 * activity). Then:
 * - a push-to-start token is forgotten on the device (only if it is still the current one: a
 *   rotation that raced the failure wins), so no new card tries it;
 * - an update token stops that device for that activity (`update token retired: …`, the same
 *   mark APNs' 410 leaves, which a newly reported token lifts), with a line in the inspector's
 *   events log;
 * - the endpoint is deleted.
 *
 * Which failures retire: `InvalidPlatformToken` and `DeliveryFailedPerm` always; any other type
 * (`EndpointDisabled`, or one SNS adds later) only when SNS has disabled the endpoint, which is
 * SNS's own word that APNs called the token invalid. `NotificationTTLExpired` (the push aged out,
 * e.g. a phone offline) and `EndpointNotFound` say nothing about the token and are only logged.
 *
 * Handling is idempotent: a repeated event finds the endpoint gone (or the token already
 * retired) and changes nothing, so the function may throw to have Lambda retry a failed record.
 */
import type { ActivityRecord } from './activity';
import { ConcurrentUpdateError } from './errors';
import type { Log } from './log';
import type { ActivityStore, EventEntry, KeyStore } from './store-ports';

/** Who a token belongs to, as recorded on its SNS endpoint. */
export type EndpointOwner =
  | { deviceId: string; tokenKind: 'push-to-start' }
  | { deviceId: string; tokenKind: 'update'; activityId: string };

export interface EndpointInfo {
  /** The device token (SNS returns APNs tokens in lower case). */
  token?: string;
  enabled?: boolean;
  /** Undefined for endpoints Chirp did not create. */
  owner?: EndpointOwner;
}

/** The platform endpoints, as far as feedback needs them (the SNS adapter implements it). */
export interface EndpointDirectory {
  /** Null when the endpoint no longer exists. */
  describe(endpointArn: string): Promise<EndpointInfo | null>;
  remove(endpointArn: string): Promise<void>;
}

export interface DeliveryFailure {
  endpointArn: string;
  failureType: string;
  failureMessage?: string;
  deliveryAttempts?: number;
  /** The platform application ARN. */
  resource?: string;
  messageId?: string;
  time?: string;
}

export interface FeedbackDeps {
  activities: Pick<ActivityStore, 'get' | 'put' | 'appendEvent'>;
  keys: Pick<KeyStore, 'retirePushToStartToken' | 'getInspector'>;
  endpoints: EndpointDirectory;
  log: Log;
  /** Epoch ms. */
  clock: () => number;
}

export type FeedbackOutcome =
  | { action: 'retired'; tokenKind: EndpointOwner['tokenKind']; deviceId: string; activityId?: string }
  | { action: 'ignored'; reason: string };

export type ParsedFeedback = { failure: DeliveryFailure } | { skip: string };

const ENDPOINT_ARN = /^arn:aws[a-z-]*:sns:[a-z0-9-]+:\d{12}:endpoint\/[A-Z_]+\/[^/\s]+\/[^/\s]+$/;
/** Failures that condemn the token whatever the endpoint's state. */
const PERMANENT_FAILURES = new Set(['InvalidPlatformToken', 'DeliveryFailedPerm']);
/** Failures that say nothing about the token. */
const NOT_ABOUT_THE_TOKEN = new Set(['NotificationTTLExpired', 'EndpointNotFound']);
const WRITE_ATTEMPTS = 4;
const REASON_MAX = 200;

function text(value: unknown): string | undefined {
  return typeof value === 'string' && value !== '' ? value : undefined;
}

/**
 * The `Message` of one SNS notification from the EventDeliveryFailure topic. Other application
 * events (EndpointCreated, …) and anything that is not such a message are skipped, never thrown:
 * a malformed message would fail the same way on every retry.
 */
export function parseDeliveryFailure(message: string): ParsedFeedback {
  let value: unknown;
  try {
    value = JSON.parse(message);
  } catch {
    return { skip: 'message is not JSON' };
  }
  if (typeof value !== 'object' || value === null || Array.isArray(value)) return { skip: 'message is not a JSON object' };
  const v = value as Record<string, unknown>;
  const eventType = text(v.EventType);
  if (eventType !== undefined && eventType !== 'DeliveryFailure') return { skip: `not a delivery failure (${eventType.slice(0, 40)})` };
  const endpointArn = text(v.EndpointArn);
  if (endpointArn === undefined || !ENDPOINT_ARN.test(endpointArn)) return { skip: 'no platform endpoint ARN in the message' };
  const failure: DeliveryFailure = { endpointArn, failureType: text(v.FailureType) ?? 'UnknownFailure' };
  const failureMessage = text(v.FailureMessage);
  if (failureMessage !== undefined) failure.failureMessage = failureMessage.slice(0, REASON_MAX);
  if (typeof v.DeliveryAttempts === 'number' && Number.isFinite(v.DeliveryAttempts)) failure.deliveryAttempts = v.DeliveryAttempts;
  const resource = text(v.Resource);
  if (resource !== undefined) failure.resource = resource;
  const messageId = text(v.MessageId);
  if (messageId !== undefined) failure.messageId = messageId;
  const time = text(v.Time);
  if (time !== undefined) failure.time = time;
  return { failure };
}

export type FailureVerdict = 'retire' | 'retire-if-disabled' | 'ignore';

export function failureVerdict(failureType: string): FailureVerdict {
  if (PERMANENT_FAILURES.has(failureType)) return 'retire';
  if (NOT_ABOUT_THE_TOKEN.has(failureType)) return 'ignore';
  return 'retire-if-disabled';
}

function describeFailure(failure: DeliveryFailure): string {
  const text_ = failure.failureMessage ? `${failure.failureType}: ${failure.failureMessage}` : failure.failureType;
  return `SNS ${text_}`.slice(0, REASON_MAX);
}

/** Stops the device's delivery for the activity when `token` is still its update token. */
async function retireUpdateToken(
  deps: FeedbackDeps,
  owner: Extract<EndpointOwner, { tokenKind: 'update' }>,
  token: string,
  reason: string,
): Promise<{ retired: ActivityRecord; kind: 'update' | 'end' } | { notRetired: string }> {
  for (let attempt = 1; attempt <= WRITE_ATTEMPTS; attempt++) {
    const current = await deps.activities.get(owner.activityId);
    if (!current) return { notRetired: 'the activity no longer exists' };
    const device = current.value.devices[owner.deviceId];
    if (!device || device.token === undefined || device.token.toLowerCase() !== token) return { notRetired: 'the token is no longer this device\'s update token for the activity' };
    const next = structuredClone(current.value);
    const target = next.devices[owner.deviceId]!;
    // The same mark an APNs 410 leaves: a newly reported token lifts it (activity-token.ts).
    target.stopped = `update token retired: ${reason}`;
    delete target.token;
    delete target.releaseAt;
    try {
      await deps.activities.put(next, current.version);
      return { retired: next, kind: device.ended ? 'end' : 'update' };
    } catch (err) {
      if (err instanceof ConcurrentUpdateError && attempt < WRITE_ATTEMPTS) continue;
      throw err;
    }
  }
  throw new ConcurrentUpdateError();
}

async function logRetirement(deps: FeedbackDeps, activity: ActivityRecord, deviceId: string, kind: 'update' | 'end', reason: string): Promise<void> {
  try {
    const inspector = await deps.keys.getInspector(activity.inspectorId);
    if (!inspector || inspector.revokedAt !== undefined) return;
    const entry: EventEntry = {
      inspectorId: activity.inspectorId,
      at: deps.clock(),
      source: 'feedback',
      activityId: activity.activityId,
      jobId: activity.job.jobId,
      status: activity.job.status,
      outcome: 'token',
      reason: `update token of device ${deviceId} retired after a failed delivery (${reason})`,
      pushes: [{ deviceId, kind, outcome: 'retire-token', transport: 'sns', reason }],
    };
    await deps.activities.appendEvent(entry, inspector.retentionDays);
  } catch (err) {
    deps.log.warn('could not append to the events log', { activityId: activity.activityId, error: err instanceof Error ? err.message : String(err) });
  }
}

async function removeEndpoint(deps: FeedbackDeps, endpointArn: string): Promise<void> {
  try {
    await deps.endpoints.remove(endpointArn);
  } catch (err) {
    // The token is already retired on our side; a disabled endpoint left behind costs nothing.
    deps.log.warn('could not delete the failed SNS endpoint', { endpointArn, error: err instanceof Error ? err.message : String(err) });
  }
}

/** Acts on one delivery failure. Throws only when the store could not be read or written (retry). */
export async function handleDeliveryFailure(deps: FeedbackDeps, failure: DeliveryFailure): Promise<FeedbackOutcome> {
  const logData = { endpointArn: failure.endpointArn, failureType: failure.failureType, deliveryAttempts: failure.deliveryAttempts };
  const verdict = failureVerdict(failure.failureType);
  if (verdict === 'ignore') {
    deps.log.info('sns delivery failure not about the token', logData);
    return { action: 'ignored', reason: `${failure.failureType} says nothing about the token` };
  }
  const info = await deps.endpoints.describe(failure.endpointArn);
  if (!info) return { action: 'ignored', reason: 'the endpoint no longer exists (already handled or released)' };
  if (verdict === 'retire-if-disabled' && info.enabled !== false) {
    deps.log.info('sns delivery failure on an enabled endpoint: token kept', logData);
    return { action: 'ignored', reason: `${failure.failureType} and the endpoint is still enabled` };
  }
  const owner = info.owner;
  const token = info.token?.toLowerCase();
  if (!owner || !token) {
    // Not created by Chirp (a shared platform application, or an older Chirp): not ours to delete.
    deps.log.warn('sns delivery failure on an endpoint without Chirp owner data', logData);
    return { action: 'ignored', reason: 'the endpoint carries no Chirp owner data' };
  }
  const reason = describeFailure(failure);
  if (owner.tokenKind === 'push-to-start') {
    await deps.keys.retirePushToStartToken(owner.deviceId, token);
    await removeEndpoint(deps, failure.endpointArn);
    deps.log.info('push-to-start token retired by sns feedback', { ...logData, deviceId: owner.deviceId });
    return { action: 'retired', tokenKind: 'push-to-start', deviceId: owner.deviceId };
  }
  const result = await retireUpdateToken(deps, owner, token, reason);
  await removeEndpoint(deps, failure.endpointArn);
  if ('notRetired' in result) {
    deps.log.info('sns delivery failure for an update token no longer in use', { ...logData, deviceId: owner.deviceId, activityId: owner.activityId });
    return { action: 'ignored', reason: result.notRetired };
  }
  await logRetirement(deps, result.retired, owner.deviceId, result.kind, reason);
  deps.log.info('update token retired by sns feedback', { ...logData, deviceId: owner.deviceId, activityId: owner.activityId });
  return { action: 'retired', tokenKind: 'update', deviceId: owner.deviceId, activityId: owner.activityId };
}
