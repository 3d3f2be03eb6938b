/**
 * What the read API shows of inspectors, activities and events. Every field is picked by name:
 * keys, key hashes, signing secrets, the Replicate token, push tokens and credential hashes can
 * only appear here if someone adds them on purpose.
 */
import { attributesOf, contentStateOf, type ActivityRecord } from '../core/activity';
import { cardColor, statusWord } from '../core/card';
import { isTerminal } from '../core/job-state';
import type { Device, EventEntry, Inspector } from '../core/store-ports';
import type { ActivityView, EventView, InspectorView } from './schemas';

export const WEBHOOK_PATH = '/v1/webhooks/replicate';

export function lastEventOf(entry: EventEntry | undefined): InspectorView['lastEvent'] {
  if (!entry) return null;
  const last: NonNullable<InspectorView['lastEvent']> = { at: entry.at, source: entry.source, outcome: entry.outcome };
  if (entry.status !== undefined) last.status = entry.status;
  if (entry.jobId !== undefined) last.jobId = entry.jobId;
  return last;
}

export function inspectorView(inspector: Inspector, context: { baseUrl: string; devices: ReadonlyMap<string, Device>; lastEvent: EventEntry | undefined }): InspectorView {
  return {
    id: inspector.id,
    name: inspector.name,
    createdAt: inspector.createdAt,
    keyHint: inspector.keyHint,
    webhookUrlHint: `${context.baseUrl}${WEBHOOK_PATH}?key=${inspector.keyHint}`,
    deviceIds: [...inspector.deviceIds],
    devices: inspector.deviceIds.map((id) => {
      const device = context.devices.get(id);
      return device
        ? { id, name: device.name, environment: device.environment, hasPushToStartToken: device.pushToStartToken !== undefined }
        : { id, missing: true };
    }),
    hasSigningSecrets: inspector.signingSecrets.length > 0,
    signingSecretsCount: inspector.signingSecrets.length,
    hasReplicateApiToken: inspector.replicateApiToken !== undefined,
    hangTimeoutMinutes: inspector.hangTimeoutMinutes ?? null,
    coalesceSeconds: inspector.coalesceSeconds,
    retentionDays: inspector.retentionDays,
    keepLast: inspector.keepLast,
    lastEvent: lastEventOf(context.lastEvent),
  };
}

export function activityView(activity: ActivityRecord, devices: ReadonlyMap<string, Device>): ActivityView {
  const job = activity.job;
  const view: ActivityView = {
    activityId: activity.activityId,
    inspectorId: activity.inspectorId,
    jobId: job.jobId,
    kind: job.kind,
    status: job.status,
    statusWord: statusWord(job.status),
    color: cardColor(job.status),
    terminal: isTerminal(job.status),
    attributes: attributesOf(activity),
    contentState: contentStateOf(activity),
    createdAt: activity.createdAt,
    lastEventAt: activity.lastEventAt,
    seq: activity.seq,
    devices: Object.entries(activity.devices).map(([deviceId, d]) => {
      const row: ActivityView['devices'][number] = {
        deviceId,
        environment: d.environment,
        hasToken: d.token !== undefined,
        sentSeq: d.sentSeq,
        upToDate: d.sentSeq >= activity.seq,
        ended: d.ended === true,
      };
      const name = devices.get(deviceId)?.name;
      if (name !== undefined) row.name = name;
      if (d.startedAt !== undefined) row.startedAt = d.startedAt;
      if (d.stopped !== undefined) row.stopped = d.stopped;
      return row;
    }),
  };
  if (job.rawStatus !== undefined) view.rawStatus = job.rawStatus;
  if (activity.lastPushAt !== undefined) view.lastPushAt = activity.lastPushAt;
  if (activity.dueAt !== undefined) view.dueAt = activity.dueAt;
  return view;
}

export function eventView(entry: EventEntry): EventView {
  const view: EventView = { inspectorId: entry.inspectorId, at: entry.at, source: entry.source, outcome: entry.outcome, pushes: entry.pushes.map((p) => ({ ...p })) };
  if (entry.webhookId !== undefined) view.webhookId = entry.webhookId;
  if (entry.webhookTimestamp !== undefined) view.webhookTimestamp = entry.webhookTimestamp;
  if (entry.jobId !== undefined) view.jobId = entry.jobId;
  if (entry.activityId !== undefined) view.activityId = entry.activityId;
  if (entry.status !== undefined) view.status = entry.status;
  if (entry.event !== undefined) view.event = entry.event;
  if (entry.reason !== undefined) view.reason = entry.reason;
  if (entry.transition !== undefined) view.transition = { ...entry.transition };
  if (entry.body !== undefined) view.body = entry.body;
  if (entry.requestId !== undefined) view.requestId = entry.requestId;
  return view;
}
