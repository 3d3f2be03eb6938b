/**
 * One Live Activity: a job's state plus what each bound device has been sent. This is the unit
 * the store reads and conditionally writes; everything here is plain data.
 */
import { createHash } from 'node:crypto';
import type { ApnsEnvironment } from './push-port';
import { isTerminal, type JobRecord } from './job-state';
import type { ContentState, CardAttributes } from './live-activity';

export interface DeviceDelivery {
  environment: ApnsEnvironment;
  /** Epoch s when the start push went out (push-to-start). */
  startedAt?: number;
  /** The activity's update token, reported by the app after the start. */
  token?: string;
  /** `seq` of the last state delivered to this device. */
  sentSeq: number;
  /** The end push went out: nothing more is ever sent to this device for this activity. */
  ended?: boolean;
  /** Why this device gets no more pushes for this activity (token retired, no push-to-start token…). */
  stopped?: string;
  /**
   * Epoch s before which no start is tried for this device: the push-to-start budget was spent,
   * or the last start attempt must be retried later (lambda/core/start-pacing.ts).
   */
  startDeferredUntil?: number;
  /**
   * Epoch s after which the update token, no longer needed once the end went out, is forgotten
   * and released at the transport (SNS deletes its endpoint). Not at once: SNS delivers
   * asynchronously, and the end push must not race the deletion of its own endpoint.
   */
  releaseAt?: number;
}

export interface ActivityRecord {
  activityId: string;
  inspectorId: string;
  inspectorName: string;
  job: JobRecord;
  devices: Record<string, DeviceDelivery>;
  /** Increments on every applied state change; devices are pending while sentSeq < seq. */
  seq: number;
  /** Last APNs `timestamp` used: strictly increasing per activity. */
  lastTimestamp: number;
  /** Epoch s of the last start or update push (coalescing). */
  lastPushAt?: number;
  /** Epoch s of the last webhook or reconciliation that told us something (hang timer). */
  lastEventAt: number;
  /** Hashed `webhook-id`s of the latest deliveries (dedupe), newest last, bounded. */
  recentWebhookIds: string[];
  /** When the sweeper must look at this activity next (sparse index); absent when nothing is left to do. */
  dueAt?: number;
  /** Sweeper reconciliation attempts since the last event (backoff). */
  reconcileAttempts?: number;
  /** Epoch s before which Replicate asked not to be asked again (its Retry-After). */
  reconcileNotBefore?: number;
  createdAt: number;
}

export const RECENT_WEBHOOK_IDS = 8;

/** Deterministic id: the same job under the same inspector always maps to the same activity. */
export function activityIdFor(inspectorId: string, jobId: string): string {
  const digest = createHash('sha256').update(`${inspectorId}\u0000replicate\u0000${jobId}`).digest('base64url');
  return `act_${digest.slice(0, 22)}`;
}

/** webhook-ids are stored hashed and short: they only need to be compared. */
export function webhookIdDigest(webhookId: string): string {
  // 64 bits: collisions among one activity's last few deliveries are out of reach.
  return createHash('sha256').update(webhookId).digest('base64url').slice(0, 11);
}

export function rememberWebhookId(ids: readonly string[], digest: string): string[] {
  return [...ids.filter((id) => id !== digest), digest].slice(-RECENT_WEBHOOK_IDS);
}

export function contentStateOf(activity: ActivityRecord): ContentState {
  const job = activity.job;
  const state: ContentState = { status: job.status, startedAt: job.startedAt, createdAt: job.createdAt };
  if (job.endedAt !== undefined) state.endedAt = job.endedAt;
  if (job.progress !== undefined) state.progress = job.progress;
  if (job.detail !== undefined) state.detail = job.detail;
  if (job.predictTime !== undefined) state.predictTime = job.predictTime;
  if (job.error !== undefined) state.error = job.error;
  return state;
}

export function attributesOf(activity: ActivityRecord): CardAttributes {
  return {
    activityId: activity.activityId,
    provider: 'replicate',
    jobId: activity.job.jobId,
    model: activity.job.model,
    inspector: activity.inspectorName,
    webUrl: activity.job.webUrl,
  };
}

/**
 * True when a device holds an update token and still owes the phone something: a newer state,
 * or the `end` of a finished job (even one whose final state already went out in the start).
 */
export function isDevicePending(activity: ActivityRecord, device: DeviceDelivery): boolean {
  if (device.token === undefined || device.stopped !== undefined || device.ended) return false;
  return device.sentSeq < activity.seq || isTerminal(activity.job.status);
}

/** Devices that are waiting for something they can be sent now. */
export function pendingDevices(activity: ActivityRecord): string[] {
  return Object.entries(activity.devices)
    .filter(([, d]) => isDevicePending(activity, d))
    .map(([id]) => id);
}
