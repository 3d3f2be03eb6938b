/**
 * The sweeper (ARCHITECTURE §2.6): one pass over the activities that are due for attention.
 *
 * Replicate retries only the terminal webhook, for about a minute, and never resends an
 * intermediate one; a card can therefore be left at RUNNING forever. For each due activity:
 *
 * 1. Reconcile: if the inspector holds a Replicate API token and an attempt is due (see
 *    reconcile-schedule.ts), fetch the job and apply it through `applyToActivity`, the webhook's
 *    own path, so a late webhook and a reconciliation can never disagree. API errors only move
 *    the schedule (and honour Retry-After); they never end a card by themselves.
 * 2. Expire: without a token (or when the API cannot tell us), a job that has said nothing for
 *    the inspector's hang timeout ends grey as `expired`. Every job ends at the 8-hour deadline,
 *    with Replicate's answer first when there is a token.
 * 3. Flush: pending coalesced updates whose interval passed, and ends that could not be sent.
 * 4. Write back with the conditional write (a lost race re-reads and decides again, so a webhook
 *    landing mid-run wins and an `end` goes out once per device), recompute `dueAt`, push, and
 *    record what was done in the inspector's events log.
 *
 * Runs are idempotent and safe to overlap: an activity whose `dueAt` is no longer due when it
 * is read was handled by someone else and is skipped.
 */
import { isDeepStrictEqual } from 'node:util';
import { pendingDevices, type ActivityRecord } from './activity';
import { formatDuration } from './card';
import { deliverPushes } from './deliver-pushes';
import { ConcurrentUpdateError } from './errors';
import { applyToActivity, policySettings, type ApplyToActivityResult, type IngestDeps } from './ingest-webhook';
import type { ResolvedInspector } from './inspector-resolver';
import { DEFAULT_COALESCE_SECONDS, hangTimeoutSecondsFor } from './inspector-settings';
import { expireRecord, isTerminal } from './job-state';
import { coalescedUntil, deviceDueTimes, endDeadline, planPushes, type DeviceInfo, type PlannedPush, type PolicySettings } from './push-policy';
import type { PushTarget } from './push-port';
import { reconcileDueAt } from './reconcile-schedule';
import type { ReplicateApiClient, ReplicateApiResult } from './replicate-port';
import type { EventEntry, PushRecord } from './store-ports';

export interface SweepDeps extends Omit<IngestDeps, 'tagSecret'> {
  /** Replicate's API. Without it no job is reconciled: quiet jobs end as `expired` at their hang timeout. */
  replicate?: ReplicateApiClient;
}

export interface SweepOptions {
  /** Visit at most this many activities in this run (default 1000). */
  maxActivities?: number;
  /** Epoch ms on `deps.clock` after which no further activity is started (Lambda: its remaining time). */
  deadlineMs?: number;
  /** Activities handled at the same time (default 4): reconciliation waits on the network. */
  concurrency?: number;
}

export interface SweepResult {
  /** Due activities read in this run (including ones another run or a webhook had already handled). */
  visited: number;
  /** Replicate answered: its state was applied, or it confirmed nothing changed. */
  reconciled: number;
  /** Cards ended as `expired` (hang timeout, 8-hour rule, inspector revoked). */
  expired: number;
  /** Activities whose pending updates or ends were sent. */
  flushed: number;
  /** Replicate API errors, and activities that could not be processed (they stay due). */
  errors: number;
  /** True when the run stopped for time or `maxActivities` while more may be due. */
  more: boolean;
}

/**
 * After the hang timeout, a card whose inspector holds a token is ended only when Replicate cannot
 * tell us about it. A refusal (401, 403, 404) ends it at once; a transient error (429, 5xx,
 * timeout) gets this much longer and one more attempt first, because a blip must not end a job.
 */
export const API_GRACE_SECONDS = 15 * 60;
/** Never look again sooner than this when nothing else is due (guards against a busy loop). */
const MIN_REVISIT_SECONDS = 30;
const PAGE_SIZE = 25;
const DEFAULT_MAX_ACTIVITIES = 1000;
const DEFAULT_CONCURRENCY = 4;
const WRITE_ATTEMPTS = 4;
const DETAIL_MAX = 120;

/** What this run learned from Replicate about one activity, with what it had seen when it asked. */
export interface ReconcileAnswer {
  result: ReplicateApiResult;
  /** `applyToActivity`'s outcome when Replicate answered. */
  applied?: ApplyToActivityResult;
  seenLastEventAt: number;
  seenAttempts: number;
  seenSeq: number;
}

export interface VisitContext {
  now: number;
  settings: PolicySettings;
  devices: ReadonlyMap<string, DeviceInfo>;
  /** The inspector holds a token and a Replicate client is configured. */
  reconciling: boolean;
  answer?: ReconcileAnswer;
  /** The inspector was revoked or deleted: nothing will ever come; end the card now. */
  inspectorGone?: boolean;
}

export interface VisitPlan {
  activity: ActivityRecord;
  pushes: PlannedPush[];
  /** Update tokens of ended devices to let go of at the transport (planPushes' `releases`). */
  releases: PushTarget[];
  /** Set when this visit ends the card as `expired`: why, for the events log. */
  expiredReason?: string;
  changed: boolean;
}

function nowSeconds(deps: Pick<SweepDeps, 'clock'>): number {
  return Math.floor(deps.clock() / 1000);
}

function cutCodePoints(text: string, max: number): string {
  const points = Array.from(text);
  return points.length <= max ? text : `${points.slice(0, max - 1).join('')}…`;
}

function duration(seconds: number): string {
  return formatDuration(Math.max(0, seconds)) ?? `${Math.round(seconds)}s`;
}

/** Short card text for an expired job: why, then the last thing it showed (its latest state). */
function expiredDetail(why: string, previous: string | undefined): string {
  return cutCodePoints(previous ? `${why} · ${previous}` : why, DETAIL_MAX);
}

function apiNote(result: ReplicateApiResult): string {
  return result.outcome === 'ok' ? `Replicate says ${result.snapshot.status}` : `Replicate API: ${result.reason}`;
}

/** Reconciliation is due: on schedule, or once more before a horizon would end the card. */
export function shouldReconcile(activity: ActivityRecord, settings: PolicySettings, now: number): boolean {
  if (isTerminal(activity.job.status)) return false;
  if (now < (activity.reconcileNotBefore ?? 0)) return false;
  const hangAt = activity.lastEventAt + settings.hangTimeoutSeconds;
  return now >= reconcileDueAt(activity) || now >= hangAt || now >= endDeadline(activity);
}

/**
 * The sweeper's full recompute of `dueAt` (the webhook path only ever moves it earlier, see
 * push-policy's `nextDueAt`): the same horizons (a pending flush, per-device times, the hang
 * timeout, the 8-hour deadline) plus the reconciliation schedule, keeping only times still ahead. Undefined when
 * nothing is left to do, which removes the activity from the sweep index.
 */
export function sweepDueAt(activity: ActivityRecord, settings: PolicySettings, now: number, reconciling: boolean): number | undefined {
  const candidates: number[] = [];
  const pending = pendingDevices(activity).length > 0;
  if (pending) candidates.push(coalescedUntil(activity, settings) ?? activity.lastEventAt);
  candidates.push(...deviceDueTimes(activity));
  const open = !isTerminal(activity.job.status);
  if (open) {
    const hangAt = activity.lastEventAt + settings.hangTimeoutSeconds;
    candidates.push(endDeadline(activity), hangAt);
    if (reconciling) candidates.push(reconcileDueAt(activity), hangAt + API_GRACE_SECONDS);
  }
  const ahead = candidates.filter((t) => t > now);
  if (ahead.length > 0) return Math.min(...ahead);
  return open || pending ? now + MIN_REVISIT_SECONDS : undefined;
}

/**
 * Decides one visit from the freshly read activity. Pure: the write, the pushes and the log
 * are the caller's. Called again after a lost race, with the newer record.
 */
export function planVisit(current: ActivityRecord, ctx: VisitContext): VisitPlan {
  const { now, settings } = ctx;
  const activity = structuredClone(current);
  let expiredReason: string | undefined;
  let detailWhy: string | undefined;

  if (activity.reconcileNotBefore !== undefined && activity.reconcileNotBefore <= now) delete activity.reconcileNotBefore;

  if (!isTerminal(activity.job.status)) {
    const answer = ctx.answer;
    // Our answer still counts only if nothing happened since we asked: no webhook, no applied
    // snapshot (ours included: it reset the schedule), no other run's answer.
    const fresh =
      answer !== undefined &&
      activity.seq === answer.seenSeq &&
      activity.lastEventAt === answer.seenLastEventAt &&
      (activity.reconcileAttempts ?? 0) === answer.seenAttempts;
    const result = fresh ? answer.result : undefined;
    const alive = result?.outcome === 'ok';
    const refused = result?.outcome === 'unauthorized' || result?.outcome === 'not-found';
    if (fresh && result) {
      activity.reconcileAttempts = answer.seenAttempts + 1;
      if (result.outcome === 'retry' && result.retryAfterSeconds !== undefined) activity.reconcileNotBefore = now + result.retryAfterSeconds;
    }
    const blocked = ctx.reconciling && now < (activity.reconcileNotBefore ?? 0) && answer === undefined;
    const failed = result?.outcome === 'retry' || blocked;
    const hangAt = activity.lastEventAt + settings.hangTimeoutSeconds;
    const silent = `no word for ${duration(now - activity.lastEventAt)}`;

    if (ctx.inspectorGone) {
      detailWhy = 'inspector revoked';
      expiredReason = 'the inspector was revoked or deleted';
    } else if (now >= endDeadline(activity)) {
      detailWhy = '8-hour limit';
      expiredReason = `8-hour limit: still ${activity.job.status} after ${duration(now - activity.createdAt)}${result ? `; ${apiNote(result)}` : ''}`;
    } else if (now >= hangAt && !alive) {
      const byTimeout = !ctx.reconciling || refused || (failed && now >= hangAt + API_GRACE_SECONDS);
      if (byTimeout) {
        detailWhy = silent;
        expiredReason = `${silent} (hang timeout ${duration(settings.hangTimeoutSeconds)})${result ? `; ${apiNote(result)}` : ''}`;
      }
    }
    if (detailWhy !== undefined) {
      activity.job = expireRecord(activity.job, now, expiredDetail(detailWhy, activity.job.detail));
      activity.seq += 1;
    }
  }

  // Ends are never coalesced; updates wait for their interval like on the webhook path.
  const plan = planPushes(activity, ctx.devices, settings, now, { flush: isTerminal(activity.job.status) });
  const next = plan.activity;
  const due = sweepDueAt(next, settings, now, ctx.reconciling);
  if (due === undefined) delete next.dueAt;
  else next.dueAt = due;
  const result: VisitPlan = { activity: next, pushes: plan.pushes, releases: plan.releases, changed: !isDeepStrictEqual(next, current) };
  if (expiredReason !== undefined) result.expiredReason = expiredReason;
  return result;
}

interface VisitReport {
  reconciled: boolean;
  expired: boolean;
  flushed: boolean;
  apiError: boolean;
}

function revokedSettings(deps: SweepDeps, activity: ActivityRecord): PolicySettings {
  return { bundleId: deps.bundleId, coalesceSeconds: DEFAULT_COALESCE_SECONDS, hangTimeoutSeconds: hangTimeoutSecondsFor({}, activity.job.kind) };
}

async function appendLog(deps: SweepDeps, resolved: ResolvedInspector | null, entry: Omit<EventEntry, 'inspectorId' | 'source'>): Promise<void> {
  if (!resolved) return; // nobody can read a revoked inspector's log
  try {
    await deps.activities.appendEvent({ inspectorId: resolved.inspector.id, source: 'sweeper', ...entry }, resolved.inspector.retentionDays);
  } catch (err) {
    deps.log.warn('could not append to the events log', { inspectorId: resolved.inspector.id, error: err instanceof Error ? err.message : String(err) });
  }
}

function nextLook(dueAt: number | undefined, now: number): string {
  return dueAt === undefined ? 'nothing left to do' : `next look in ${duration(dueAt - now)}`;
}

/** Asks Replicate and applies a snapshot through the webhook's path. Never throws for an API answer. */
async function reconcile(deps: SweepDeps, client: ReplicateApiClient, resolved: ResolvedInspector, activity: ActivityRecord, token: string): Promise<ReconcileAnswer> {
  const seen = { seenLastEventAt: activity.lastEventAt, seenAttempts: activity.reconcileAttempts ?? 0, seenSeq: activity.seq };
  const result = await client.getJob({ kind: activity.job.kind, id: activity.job.jobId }, token);
  if (result.outcome !== 'ok') {
    deps.log.info('reconciliation failed', { activityId: activity.activityId, jobId: activity.job.jobId, outcome: result.outcome, reason: result.reason });
    return { result, ...seen };
  }
  const applied = await applyToActivity(deps, resolved, result.snapshot);
  return { result, applied, ...seen };
}

async function sweepActivity(deps: SweepDeps, activityId: string): Promise<VisitReport> {
  const report: VisitReport = { reconciled: false, expired: false, flushed: false, apiError: false };
  const first = await deps.activities.get(activityId);
  const startedAt = nowSeconds(deps);
  // Gone, or no longer due: another run (or a webhook that ended the job) got here first.
  if (!first || first.value.dueAt === undefined || first.value.dueAt > startedAt) return report;

  const resolved = await deps.resolver.resolveInspector(first.value.inspectorId);
  const settings = resolved ? policySettings(resolved, deps.bundleId, first.value.job.kind) : revokedSettings(deps, first.value);
  const token = resolved?.inspector.replicateApiToken;
  const client = deps.replicate;
  const reconciling = resolved !== null && token !== undefined && client !== undefined;

  // The network call happens outside the read-decide-write loop: it must not hold a stale version.
  let answer: ReconcileAnswer | undefined;
  if (reconciling && shouldReconcile(first.value, settings, startedAt)) {
    answer = await reconcile(deps, client, resolved, first.value, token);
    if (answer.result.outcome === 'ok') report.reconciled = true;
    else report.apiError = true;
  }

  let snapshot = answer ? null : first;
  for (let attempt = 1; attempt <= WRITE_ATTEMPTS; attempt++) {
    snapshot ??= await deps.activities.get(activityId);
    if (!snapshot) return report;
    const now = nowSeconds(deps);
    const ctx: VisitContext = { now, settings, devices: resolved?.devices ?? new Map(), reconciling };
    if (answer) ctx.answer = answer;
    if (!resolved) ctx.inspectorGone = true;
    const plan = planVisit(snapshot.value, ctx);
    let pushes: PushRecord[] = [];
    if (plan.changed) {
      let version: number;
      try {
        version = await deps.activities.put(plan.activity, snapshot.version);
      } catch (err) {
        if (err instanceof ConcurrentUpdateError && attempt < WRITE_ATTEMPTS) {
          snapshot = null; // a webhook or another run wrote meanwhile: read again and decide again
          continue;
        }
        throw err;
      }
      pushes = await deliverPushes(deps, plan.activity, version, plan.pushes, plan.releases);
    }
    await record(deps, resolved, snapshot.value, plan, answer, pushes, now, report);
    return report;
  }
  throw new ConcurrentUpdateError();
}

/** One events-log line per thing done: reconciled (with Replicate's answer), expired, or flushed. */
async function record(
  deps: SweepDeps,
  resolved: ResolvedInspector | null,
  before: ActivityRecord,
  plan: VisitPlan,
  answer: ReconcileAnswer | undefined,
  pushes: PushRecord[],
  now: number,
  report: VisitReport,
): Promise<void> {
  const after = plan.activity;
  const base = { at: deps.clock(), jobId: after.job.jobId, activityId: after.activityId, status: after.job.status };
  const next = nextLook(after.dueAt, now);

  if (plan.expiredReason !== undefined) {
    report.expired = true;
    deps.log.info('sweeper expired an activity', { activityId: after.activityId, jobId: after.job.jobId, reason: plan.expiredReason });
    await appendLog(deps, resolved, { ...base, outcome: 'expired', reason: plan.expiredReason, transition: { from: before.job.status, to: after.job.status }, pushes });
    return;
  }
  if (answer) {
    const applied = answer.applied;
    const entry: Omit<EventEntry, 'inspectorId' | 'source'> = { ...base, outcome: 'reconciled', pushes: [...(applied?.pushes ?? []), ...pushes], reason: '' };
    if (applied?.outcome === 'applied' && applied.apply) {
      entry.event = applied.apply.event;
      entry.transition = { from: applied.apply.from, to: applied.apply.to };
      entry.reason = `${apiNote(answer.result)}; applied`;
    } else if (answer.result.outcome === 'ok') {
      entry.reason = `${apiNote(answer.result)}: ${applied?.reason ?? 'nothing new'}; ${next}`;
    } else {
      entry.reason = `${apiNote(answer.result)}; ${next}`;
    }
    await appendLog(deps, resolved, entry);
    if (pushes.length > 0) report.flushed = true;
    return;
  }
  if (plan.pushes.length > 0) {
    report.flushed = true;
    const kinds = plan.pushes.map((p) => p.message.kind);
    const what = kinds.includes('end') ? `final ${after.job.status} state` : 'the latest coalesced state';
    await appendLog(deps, resolved, { ...base, outcome: 'flushed', reason: `sent ${what} (${kinds.join(', ')})`, pushes });
  }
}

/**
 * One sweeper pass: pages through the sparse `bySweep` index for activities due now, until none
 * are left, `maxActivities` were visited or `deadlineMs` passed.
 */
export async function runSweep(deps: SweepDeps, options: SweepOptions = {}): Promise<SweepResult> {
  const result: SweepResult = { visited: 0, reconciled: 0, expired: 0, flushed: 0, errors: 0, more: false };
  const maxActivities = options.maxActivities ?? DEFAULT_MAX_ACTIVITIES;
  const concurrency = Math.max(1, options.concurrency ?? DEFAULT_CONCURRENCY);
  const outOfTime = (): boolean => options.deadlineMs !== undefined && deps.clock() >= options.deadlineMs;
  const dueBefore = nowSeconds(deps);
  let cursor: string | undefined;
  let started = 0;

  for (;;) {
    if (started >= maxActivities || outOfTime()) {
      result.more = true;
      break;
    }
    const page = await deps.activities.listDue(dueBefore, { limit: Math.min(PAGE_SIZE, maxActivities - started), ...(cursor ? { cursor } : {}) });
    const queue = [...page.items];
    const worker = async (): Promise<void> => {
      for (let id = queue.shift(); id !== undefined; id = queue.shift()) {
        if (started >= maxActivities || outOfTime()) {
          result.more = true;
          queue.length = 0;
          return;
        }
        started += 1;
        try {
          const visit = await sweepActivity(deps, id);
          result.visited += 1;
          if (visit.reconciled) result.reconciled += 1;
          if (visit.apiError) result.errors += 1;
          if (visit.expired) result.expired += 1;
          if (visit.flushed) result.flushed += 1;
        } catch (err) {
          // The activity keeps its dueAt: the next run tries again.
          result.visited += 1;
          result.errors += 1;
          deps.log.error('sweeper could not process an activity', { activityId: id, error: err instanceof Error ? `${err.name}: ${err.message}` : String(err) });
        }
      }
    };
    await Promise.all(Array.from({ length: Math.min(concurrency, queue.length) }, worker));
    if (result.more || !page.cursor) break;
    cursor = page.cursor;
  }
  return result;
}
