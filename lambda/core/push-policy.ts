/**
 * Push policy: given an activity after a state change, which pushes go to which device, now.
 *
 * - `start` (priority 10) to each bound device's push-to-start token, once per device.
 * - `update` (priority 5) to the activity's update token, coalesced per activity: at most one
 *   per `coalesceSeconds`; the latest state wins and stays pending until the next chance
 *   (another webhook, the sweeper, or the token arriving).
 * - `end` (priority 10) with the final state, exactly once per device.
 * - `timestamp` strictly increasing per activity; `stale-date` on start/update; `dismissal-date` on end.
 *
 * Pure: the clock comes in as `now` (epoch seconds). Bookkeeping is applied optimistically to
 * the returned activity (so the conditional write records it) and undone by
 * `applyPushOutcomes` when a transport answers "retry later".
 */
import { attributesOf, contentStateOf, isDevicePending, type ActivityRecord, type DeviceDelivery } from './activity';
import { isTerminal } from './job-state';
import { buildApnsPayload, endAlert, startAlert } from './card';
import { liveActivityTopic, type ApnsHeaders, type PushKind } from './live-activity';
import type { ApnsEnvironment, PushMessage, PushResult, PushTarget } from './push-port';
import { reconcileDueAt } from './reconcile-schedule';

/** iOS ends a Live Activity after 8 h; we end ours before that with the latest state. */
export const MAX_ACTIVITY_SECONDS = 8 * 3600;
export const END_BEFORE_SECONDS = MAX_ACTIVITY_SECONDS - 10 * 60;
/** How long an ended card stays on the lock screen (Apple allows up to 4 h). */
export const DISMISS_AFTER_SECONDS = 3600;
/** End pushes of jobs that ran at least this long carry an alert: worth lighting the screen. */
export const END_ALERT_MIN_SECONDS = 60;
/**
 * A start deferred by the push-to-start budget (start-pacing.ts) is dropped when the job has been
 * over for longer than this by the time the budget allows it: a card that appears long after the
 * job ended would spend a scarce start on news nobody needs.
 */
export const LATE_START_SECONDS = 10 * 60;
/**
 * The update token of a device whose `end` went out is forgotten (and its SNS endpoint deleted)
 * this long after the end. SNS delivers after `Publish` returns; deleting the endpoint at once
 * could race the delivery of the end itself.
 */
export const RELEASE_AFTER_END_SECONDS = 15 * 60;
/** APNs stores a push this long when the phone is offline; a stale update is worthless. */
const EXPIRATION_SECONDS: Record<PushKind, number> = { start: 600, update: 300, end: 4 * 3600 };

export interface PolicySettings {
  bundleId: string;
  coalesceSeconds: number;
  hangTimeoutSeconds: number;
  /** The inspector holds a Replicate API token: the sweeper's first look follows the reconciliation schedule. */
  reconcile?: boolean;
}

/** What the policy needs to know about a bound device (from the key table). */
export interface DeviceInfo {
  id: string;
  environment: ApnsEnvironment;
  pushToStartToken?: string;
}

export interface PlannedPush {
  message: PushMessage;
  /** Bookkeeping before this push, to undo it if the transport says "retry later". */
  before: DeviceDelivery;
}

export interface PushPlan {
  activity: ActivityRecord;
  pushes: PlannedPush[];
  /**
   * Update tokens of ended devices whose grace period passed: already removed from `activity`;
   * pass them to `deliverPushes` so the transport lets go of them (SNS deletes the endpoint).
   */
  releases: PushTarget[];
}

/**
 * Per-device times the sweeper must honour besides the activity-level horizons: a deferred start
 * (the push-to-start budget allows it again) and the release of an ended device's update token.
 * The sweeper's own `dueAt` recompute must include these too.
 */
export function deviceDueTimes(activity: ActivityRecord): number[] {
  const times: number[] = [];
  for (const device of Object.values(activity.devices)) {
    if (device.ended) {
      if (device.token !== undefined && device.releaseAt !== undefined) times.push(device.releaseAt);
      continue;
    }
    if (device.stopped === undefined && device.startedAt === undefined && device.startDeferredUntil !== undefined) times.push(device.startDeferredUntil);
  }
  return times;
}

/** Epoch s by which this activity must have ended (8-hour rule), counted from its first start push. */
export function endDeadline(activity: ActivityRecord): number {
  const starts = Object.values(activity.devices)
    .map((d) => d.startedAt)
    .filter((t): t is number => t !== undefined);
  const firstStart = starts.length > 0 ? Math.min(...starts) : activity.createdAt;
  return firstStart + END_BEFORE_SECONDS;
}

function headersFor(kind: PushKind, bundleId: string, now: number): ApnsHeaders {
  return {
    'apns-push-type': 'liveactivity',
    'apns-topic': liveActivityTopic(bundleId),
    'apns-priority': kind === 'update' ? '5' : '10',
    'apns-expiration': String(now + EXPIRATION_SECONDS[kind]),
  };
}

/** The phone shows the card as stale when no word came for as long as the hang timeout. */
export function staleDateFor(activity: ActivityRecord, settings: PolicySettings, now: number): number {
  const horizon = Math.min(activity.lastEventAt + settings.hangTimeoutSeconds, endDeadline(activity));
  return Math.max(horizon, now + 60);
}

/**
 * The first whole second at which another update may go out. Times here are whole seconds, so a
 * push at 12.9 s is recorded as 12: waiting `coalesceSeconds + 1` whole seconds guarantees that
 * at least `coalesceSeconds` really passed (the minimum interval is a promise, not an average).
 */
export function coalescedUntil(activity: Pick<ActivityRecord, 'lastPushAt'>, settings: Pick<PolicySettings, 'coalesceSeconds'>): number | undefined {
  return activity.lastPushAt === undefined ? undefined : activity.lastPushAt + settings.coalesceSeconds + 1;
}

/** When the sweeper must look next: a pending flush, the hang horizon, or the 8-hour deadline. */
export function nextDueAt(activity: ActivityRecord, settings: PolicySettings): number | undefined {
  const candidates: number[] = [];
  const pending = Object.values(activity.devices).some((d) => isDevicePending(activity, d));
  if (pending) candidates.push(coalescedUntil(activity, settings) ?? activity.lastEventAt);
  candidates.push(...deviceDueTimes(activity));
  if (!isTerminal(activity.job.status)) {
    candidates.push(activity.lastEventAt + settings.hangTimeoutSeconds, endDeadline(activity));
    if (settings.reconcile) candidates.push(reconcileDueAt(activity));
  }
  return candidates.length > 0 ? Math.min(...candidates) : undefined;
}

function message(activity: ActivityRecord, kind: PushKind, deviceId: string, device: DeviceDelivery, token: string, settings: PolicySettings, now: number): PushMessage {
  const timestamp = Math.max(now, activity.lastTimestamp + 1);
  activity.lastTimestamp = timestamp;
  const contentState = contentStateOf(activity);
  const attributes = attributesOf(activity);
  const job = activity.job;
  const ranFor = (job.endedAt ?? now) - job.startedAt;
  const { payload } = buildApnsPayload({
    event: kind,
    contentState,
    timestamp,
    ...(kind === 'start'
      ? { attributes, alert: startAlert(attributes, contentState), inputPushToken: true, staleDate: staleDateFor(activity, settings, now) }
      : {}),
    ...(kind === 'update' ? { staleDate: staleDateFor(activity, settings, now) } : {}),
    ...(kind === 'end' ? { dismissalDate: now + DISMISS_AFTER_SECONDS } : {}),
    ...(kind === 'end' && (job.status === 'failed' || ranFor >= END_ALERT_MIN_SECONDS) ? { alert: endAlert(attributes, contentState) } : {}),
  });
  return {
    activityId: activity.activityId,
    jobId: job.jobId,
    kind,
    target: { deviceId, environment: device.environment, token, tokenKind: kind === 'start' ? 'push-to-start' : 'update' },
    headers: headersFor(kind, settings.bundleId, now),
    payload,
  };
}

/**
 * Decides the pushes for the activity's current state. `devices` describes the bound devices
 * (tokens come from the key table); `options.flush` ignores the coalescing interval (token
 * arrival, the sweeper's 8-hour end).
 */
export function planPushes(
  input: ActivityRecord,
  devices: ReadonlyMap<string, DeviceInfo>,
  settings: PolicySettings,
  now: number,
  options: { flush?: boolean } = {},
): PushPlan {
  const activity: ActivityRecord = structuredClone(input);
  const pushes: PlannedPush[] = [];
  const releases: PushTarget[] = [];
  const terminal = isTerminal(activity.job.status);
  const coalesced = !options.flush && now < (coalescedUntil(activity, settings) ?? now);

  for (const [deviceId, device] of Object.entries(activity.devices)) {
    if (device.ended && device.token !== undefined && device.releaseAt !== undefined && now >= device.releaseAt) {
      releases.push({ deviceId, environment: device.environment, token: device.token, tokenKind: 'update' });
      delete device.token;
      delete device.releaseAt;
      continue;
    }
    if (device.stopped !== undefined || device.ended) continue;
    const before = { ...device };
    if (device.startedAt === undefined) {
      if (device.startDeferredUntil !== undefined) {
        // Deferred (push-to-start budget, or a start that must be retried): not before its time,
        // whatever the caller flushes, so webhooks in the meantime cost nothing extra.
        if (now < device.startDeferredUntil) continue;
        if (terminal && now - (activity.job.endedAt ?? activity.lastEventAt) > LATE_START_SECONDS) {
          delete device.startDeferredUntil;
          device.stopped = 'no card: the start waited for the push-to-start budget until the job had long ended';
          continue;
        }
      }
      const info = devices.get(deviceId);
      if (!info?.pushToStartToken) {
        device.stopped = info ? 'device has no push-to-start token' : 'device no longer registered';
        continue;
      }
      // A job that is already over still gets a card: it starts with the final state and ends
      // as soon as the app reports the activity's update token.
      pushes.push({ message: message(activity, 'start', deviceId, device, info.pushToStartToken, settings, now), before });
      delete device.startDeferredUntil;
      device.startedAt = now;
      device.sentSeq = activity.seq;
      activity.lastPushAt = now;
      continue;
    }
    if (!isDevicePending(activity, device) || device.token === undefined) continue;
    if (terminal) {
      pushes.push({ message: message(activity, 'end', deviceId, device, device.token, settings, now), before });
      device.ended = true;
      device.releaseAt = now + RELEASE_AFTER_END_SECONDS;
      device.sentSeq = activity.seq;
      continue;
    }
    if (coalesced) continue;
    pushes.push({ message: message(activity, 'update', deviceId, device, device.token, settings, now), before });
    device.sentSeq = activity.seq;
    activity.lastPushAt = now;
  }
  const due = nextDueAt(activity, settings);
  // The due time only moves earlier here; the sweeper re-computes it when it visits. This keeps
  // the sweep index (whose key changes cost index writes) quiet during a streaming job.
  activity.dueAt = due === undefined ? undefined : Math.min(due, input.dueAt ?? Number.POSITIVE_INFINITY);
  if (activity.dueAt === undefined) delete activity.dueAt;
  return { activity, pushes, releases };
}

export interface PushOutcomeEffects {
  activity: ActivityRecord;
  /** Devices whose push-to-start token Apple or SNS retired: the key table must forget it. */
  retiredStartTokens: string[];
  /** True when the activity changed and must be written again. */
  changed: boolean;
}

/** Retry delays (seconds) for transient transport failures and configuration errors. */
const RETRY_DELAY_SECONDS = 30;
const FIX_CONFIG_DELAY_SECONDS = 15 * 60;

/**
 * Folds the transports' answers back into the activity: a retired update token stops that
 * device; "retry later" undoes the optimistic bookkeeping so the sweeper sends it again.
 */
export function applyPushOutcomes(input: ActivityRecord, plan: PlannedPush[], results: PushResult[], now: number): PushOutcomeEffects {
  const activity: ActivityRecord = structuredClone(input);
  const retiredStartTokens: string[] = [];
  let changed = false;
  plan.forEach((planned, i) => {
    const result = results[i];
    if (!result || result.outcome === 'sent') return;
    const { deviceId, tokenKind } = planned.message.target;
    const device = activity.devices[deviceId];
    if (!device) return;
    changed = true;
    if (result.outcome === 'retire-token') {
      if (tokenKind === 'push-to-start') retiredStartTokens.push(deviceId);
      device.stopped = `${tokenKind} token retired: ${result.reason}`;
      delete device.token;
      delete device.releaseAt; // the transport already let go of it (deliver-pushes)
      return;
    }
    // retry-later and fix-config: undo, and look again later (config errors get a longer pause).
    const restored: DeviceDelivery = { ...planned.before };
    const delay = result.outcome === 'retry-later' ? Math.max(result.retryAfterSeconds ?? 0, RETRY_DELAY_SECONDS) : FIX_CONFIG_DELAY_SECONDS;
    // A start that did not go out (budget spent, 429, 5xx, config) is deferred: webhooks in the
    // meantime do not try again; the sweeper does, at `dueAt`.
    if (planned.message.kind === 'start') restored.startDeferredUntil = now + delay;
    activity.devices[deviceId] = restored;
    activity.dueAt = Math.min(activity.dueAt ?? Number.POSITIVE_INFINITY, now + delay);
  });
  return { activity, retiredStartTokens, changed };
}
