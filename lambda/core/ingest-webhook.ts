/**
 * Webhook ingest (ARCHITECTURE §2.1): authenticate, verify, dedupe, apply, save, push, log.
 *
 * DynamoDB cost on a warm container: the activity comes from the container's cache (a read only
 * on a miss or a lost race), then 1 conditional write of it and 1 events-log line; a webhook that
 * starts a card also takes one push-to-start slot per device. A duplicate `webhook-id` costs its
 * log line alone. A forged or malformed key costs nothing: its tag is checked by arithmetic
 * before any lookup.
 */
import { activityIdFor, rememberWebhookId, webhookIdDigest, type ActivityRecord } from './activity';
import { deliverPushes, type DeliverDeps } from './deliver-pushes';
import { AuthError, ChirpError, ConcurrentUpdateError } from './errors';
import { verifyCredentialTag } from './inspector-key';
import { hangTimeoutSecondsFor } from './inspector-settings';
import type { InspectorResolver, ResolvedInspector } from './inspector-resolver';
import { applySnapshot, type ApplyResult } from './job-state';
import { planPushes, type PolicySettings } from './push-policy';
import type { RateLimiter } from './rate-limit';
import { PayloadError, parseReplicateBody, type ReplicateSnapshot } from './replicate-payload';
import { SignatureError, verifyReplicateSignature } from './replicate-signature';
import type { EventEntry, EventOutcome, PushRecord } from './store-ports';

export interface IngestDeps extends DeliverDeps {
  resolver: InspectorResolver;
  /**
   * Waits before retrying a conditional write that lost a race (jittered backoff, so racing
   * writers spread out); absent = retry at once.
   */
  pauseBeforeRetry?: (attempt: number) => Promise<void>;
  /** Per-inspector flood protection (no database request); absent = unlimited. */
  rateLimiter?: RateLimiter;
  /** HMAC key that tags webhook keys. */
  tagSecret: string;
  bundleId: string;
}

export interface WebhookRequest {
  key: string | undefined;
  rawBody: Uint8Array;
  /** Lower-cased header names. */
  headers: Record<string, string | undefined>;
  requestId?: string;
}

export interface IngestResult {
  outcome: Extract<EventOutcome, 'applied' | 'duplicate' | 'stale'>;
  activityId: string;
  jobId: string;
  status: string;
  reason?: string;
  pushes: PushRecord[];
}

const BODY_EXCERPT_BYTES = 400;
/** Conditional-write attempts before giving up with 503 (Replicate then retries a terminal event). */
export const MAX_ATTEMPTS = 8;

/** The body for the events log: `input` (prompts) removed, size-capped, never over one write unit. */
export function bodyExcerpt(rawText: string): string {
  let text = rawText;
  try {
    const parsed: unknown = JSON.parse(rawText);
    if (typeof parsed === 'object' && parsed !== null && !Array.isArray(parsed)) {
      const { input: _input, logs, ...rest } = parsed as Record<string, unknown>;
      // Logs are cumulative and long; their tail is what people look for.
      const logsTail = typeof logs === 'string' && logs.length > 120 ? `…${logs.slice(-120)}` : logs;
      text = JSON.stringify({ ...rest, ...(logs === undefined ? {} : { logs: logsTail }) });
    }
  } catch {
    // not JSON: keep the raw text (capped below)
  }
  const bytes = Buffer.from(text, 'utf8');
  if (bytes.length <= BODY_EXCERPT_BYTES) return text;
  // Cut on a character boundary and mark it.
  return `${bytes.subarray(0, BODY_EXCERPT_BYTES).toString('utf8').replace(/\uFFFD+$/, '')}…`;
}

export function policySettings(resolved: ResolvedInspector, bundleId: string, snapshotKind: ReplicateSnapshot['kind']): PolicySettings {
  return {
    bundleId,
    coalesceSeconds: resolved.inspector.coalesceSeconds,
    hangTimeoutSeconds: hangTimeoutSecondsFor(resolved.inspector, snapshotKind),
    reconcile: resolved.inspector.replicateApiToken !== undefined,
  };
}

function newActivity(resolved: ResolvedInspector, activityId: string, apply: ApplyResult, now: number): ActivityRecord {
  const devices: ActivityRecord['devices'] = {};
  for (const deviceId of resolved.inspector.deviceIds) {
    const info = resolved.devices.get(deviceId);
    devices[deviceId] = info ? { environment: info.environment, sentSeq: 0 } : { environment: 'production', sentSeq: 0, stopped: 'device no longer registered' };
  }
  return {
    activityId,
    inspectorId: resolved.inspector.id,
    inspectorName: resolved.inspector.name,
    job: apply.record,
    devices,
    seq: 0,
    lastTimestamp: 0,
    lastEventAt: now,
    recentWebhookIds: [],
    createdAt: now,
  };
}

async function logEvent(deps: Omit<IngestDeps, 'tagSecret'>, resolved: ResolvedInspector, entry: Omit<EventEntry, 'inspectorId' | 'source'>): Promise<void> {
  try {
    await deps.activities.appendEvent({ inspectorId: resolved.inspector.id, source: 'webhook', ...entry }, resolved.inspector.retentionDays);
  } catch (err) {
    // The events log is for people; failing to write it must not fail (or repeat) the webhook.
    deps.log.warn('could not append to the events log', { inspectorId: resolved.inspector.id, error: err instanceof Error ? err.message : String(err) });
  }
}

export interface ApplyToActivityResult {
  outcome: 'applied' | 'duplicate' | 'stale';
  activityId: string;
  reason?: string;
  apply?: ApplyResult;
  activity?: ActivityRecord;
  pushes: PushRecord[];
}

/**
 * The one path by which a snapshot changes an activity: read, apply through the state machine,
 * plan pushes, conditionally write, push. Webhooks and the sweeper's reconciliation both use it,
 * so a late webhook and a reconciliation can never disagree. Retries lost races by re-reading.
 */
export async function applyToActivity(
  deps: Omit<IngestDeps, 'tagSecret'>,
  resolved: ResolvedInspector,
  snapshot: ReplicateSnapshot,
  options: { webhookDigest?: string } = {},
): Promise<ApplyToActivityResult> {
  const activityId = activityIdFor(resolved.inspector.id, snapshot.id);
  const settings = policySettings(resolved, deps.bundleId, snapshot.kind);
  for (let attempt = 1; attempt <= MAX_ATTEMPTS; attempt++) {
    const now = Math.floor(deps.clock() / 1000);
    const current = await deps.activities.get(activityId);
    if (options.webhookDigest && current?.value.recentWebhookIds.includes(options.webhookDigest)) {
      return { outcome: 'duplicate', activityId, pushes: [] };
    }
    const apply = applySnapshot(current?.value.job ?? null, snapshot, now);
    if (apply.outcome === 'stale') {
      return { outcome: 'stale', activityId, reason: apply.reason ?? 'stale', apply, pushes: [] };
    }
    const activity: ActivityRecord = current ? structuredClone(current.value) : newActivity(resolved, activityId, apply, now);
    activity.job = apply.record;
    activity.seq += 1;
    activity.lastEventAt = now;
    // A fresh event restarts the reconciliation schedule (absent means zero: items stay small).
    delete activity.reconcileAttempts;
    if (options.webhookDigest) activity.recentWebhookIds = rememberWebhookId(activity.recentWebhookIds, options.webhookDigest);
    const plan = planPushes(activity, resolved.devices, settings, now);
    let version: number;
    try {
      version = await deps.activities.put(plan.activity, current?.version ?? null);
    } catch (err) {
      if (err instanceof ConcurrentUpdateError && attempt < MAX_ATTEMPTS) {
        await deps.pauseBeforeRetry?.(attempt);
        continue;
      }
      throw err;
    }
    const pushes = await deliverPushes(deps, plan.activity, version, plan.pushes);
    const result: ApplyToActivityResult = { outcome: 'applied', activityId, apply, activity: plan.activity, pushes };
    if (apply.reason) result.reason = apply.reason;
    return result;
  }
  throw new ConcurrentUpdateError();
}

/**
 * Ingests a webhook for an inspector that is already authenticated (by key, or by the admin for
 * `POST /v1/inspectors/{id}/test`). Verifies the signature when the inspector has secrets.
 */
export async function ingestForInspector(deps: Omit<IngestDeps, 'tagSecret'>, resolved: ResolvedInspector, request: Omit<WebhookRequest, 'key'>): Promise<IngestResult> {
  const receivedAt = deps.clock();
  const now = Math.floor(receivedAt / 1000);
  const webhookId = request.headers['webhook-id']?.slice(0, 128);
  const timestampHeader = request.headers['webhook-timestamp'];
  const rawText = Buffer.from(request.rawBody).toString('utf8');
  const base: Omit<EventEntry, 'inspectorId' | 'source' | 'outcome' | 'pushes'> = { at: receivedAt };
  if (webhookId) base.webhookId = webhookId;
  if (timestampHeader && /^\d{1,12}$/.test(timestampHeader)) base.webhookTimestamp = Number(timestampHeader);
  if (request.requestId) base.requestId = request.requestId;

  const reject = async (err: ChirpError, reason: string): Promise<never> => {
    await logEvent(deps, resolved, { ...base, outcome: 'rejected', reason, pushes: [], body: bodyExcerpt(rawText) });
    throw err;
  };

  if (resolved.inspector.signingSecrets.length > 0) {
    try {
      verifyReplicateSignature(
        request.rawBody,
        { webhookId: request.headers['webhook-id'], timestamp: timestampHeader, signature: request.headers['webhook-signature'] },
        resolved.inspector.signingSecrets,
        now,
      );
    } catch (err) {
      if (err instanceof SignatureError) return reject(new AuthError(err.message, err.reason), err.reason);
      throw err;
    }
  }

  let snapshot: ReplicateSnapshot;
  try {
    snapshot = parseReplicateBody(rawText);
  } catch (err) {
    if (err instanceof PayloadError) {
      const error = err.code === 'not_json' ? new ChirpError('invalid_json', err.message) : new ChirpError('not_a_job', err.message);
      return reject(error, err.code === 'not_json' ? 'malformed JSON' : 'not a prediction or training');
    }
    throw err;
  }

  const result = await applyToActivity(deps, resolved, snapshot, webhookId ? { webhookDigest: webhookIdDigest(webhookId) } : {});
  const summary: IngestResult = { outcome: result.outcome, activityId: result.activityId, jobId: snapshot.id, status: snapshot.status, pushes: result.pushes };
  if (result.reason) summary.reason = result.reason;
  Object.assign(base, { jobId: snapshot.id, activityId: result.activityId, status: snapshot.status });
  if (result.outcome === 'duplicate') {
    // Acknowledged and otherwise ignored: no state write, no push. It still gets its line in the
    // events log (people want to see Replicate's retries): on a warm container that line is the
    // only DynamoDB request a duplicate costs (ARCHITECTURE §3: ≤ 1).
    deps.log.info('duplicate webhook', { inspectorId: resolved.inspector.id, activityId: result.activityId, webhookId });
    await logEvent(deps, resolved, { ...base, outcome: 'duplicate', reason: 'this webhook-id was already applied', pushes: [] });
    return summary;
  }
  const entry: Omit<EventEntry, 'inspectorId' | 'source'> = { ...base, outcome: result.outcome, pushes: result.pushes, body: bodyExcerpt(rawText) };
  if (result.apply) {
    entry.event = result.apply.event;
    if (result.outcome === 'applied') entry.transition = { from: result.apply.from, to: result.apply.to };
  }
  if (result.reason) entry.reason = result.reason;
  await logEvent(deps, resolved, entry);
  return summary;
}

export async function ingestWebhook(deps: IngestDeps, request: WebhookRequest): Promise<IngestResult> {
  const key = request.key?.trim();
  if (!key) throw new AuthError('Missing webhook key: add ?key=<inspector key> to the webhook URL or send Authorization: Bearer <key>.', 'missing_key');
  if (!verifyCredentialTag(key, 'wh', deps.tagSecret)) throw new AuthError('This is not a valid Chirp webhook key.', 'malformed_key');
  const resolved = await deps.resolver.resolveWebhookKey(key);
  if (!resolved) throw new AuthError('This webhook key is unknown, rotated out or revoked.', 'unknown_key');
  const retryAfter = deps.rateLimiter?.take(resolved.inspector.id) ?? 0;
  if (retryAfter > 0) {
    throw new ChirpError('rate_limited', 'Too many webhooks for this inspector; slow down.', { retryAfterSeconds: retryAfter });
  }
  return ingestForInspector(deps, resolved, request);
}
