/**
 * The sweeper's pure decisions: the reconciliation schedule, the due-time recompute, and what
 * one visit does to an activity (expire, back off, flush), with times given as numbers.
 */
import type { ActivityRecord } from '../../lambda/core/activity';
import type { DeviceInfo, PolicySettings } from '../../lambda/core/push-policy';
import { END_BEFORE_SECONDS, RELEASE_AFTER_END_SECONDS, endDeadline, nextDueAt } from '../../lambda/core/push-policy';
import { reconcileDueAt, reconcileOffset } from '../../lambda/core/reconcile-schedule';
import type { ReplicateApiResult } from '../../lambda/core/replicate-port';
import { API_GRACE_SECONDS, planVisit, shouldReconcile, sweepDueAt, type ReconcileAnswer, type VisitContext } from '../../lambda/core/sweeper';

const T0 = 1_780_000_000;
const HOUR = 3600;
const settings: PolicySettings = { bundleId: 'dev.chirp.test', coalesceSeconds: 5, hangTimeoutSeconds: HOUR };
const devices: ReadonlyMap<string, DeviceInfo> = new Map([['dev_a', { id: 'dev_a', environment: 'sandbox', pushToStartToken: 'ab'.repeat(32) }]]);

/** A prediction running since T0, its card started on one device whose update token arrived. */
function activity(overrides: Partial<ActivityRecord> = {}): ActivityRecord {
  return {
    activityId: 'act_test',
    inspectorId: 'insp_test',
    inspectorName: 'Test',
    job: {
      jobId: 'p_1',
      kind: 'prediction',
      model: 'meta/llama',
      status: 'processing',
      outputLength: 2,
      logsLength: 0,
      createdAt: T0,
      startedAt: T0,
      detail: 'Hello world',
      webUrl: 'https://replicate.com/p/p_1',
    },
    devices: { dev_a: { environment: 'sandbox', startedAt: T0, token: 'cd'.repeat(32), sentSeq: 1 } },
    seq: 1,
    lastTimestamp: T0,
    lastPushAt: T0,
    lastEventAt: T0,
    recentWebhookIds: [],
    createdAt: T0,
    dueAt: T0 + HOUR,
    ...overrides,
  };
}

function answer(result: ReplicateApiResult, seen: ActivityRecord): ReconcileAnswer {
  return { result, seenLastEventAt: seen.lastEventAt, seenAttempts: seen.reconcileAttempts ?? 0, seenSeq: seen.seq };
}

function ctx(now: number, extra: Partial<VisitContext> = {}): VisitContext {
  return { now, settings, devices, reconciling: false, ...extra };
}

const serverError: ReplicateApiResult = { outcome: 'retry', status: 500, reason: 'HTTP 500 (server error)' };
const refused: ReplicateApiResult = { outcome: 'unauthorized', status: 401, reason: 'HTTP 401 (token refused)' };

describe('reconciliation schedule', () => {
  it('starts 2 minutes after the last event and grows: 2, 5, 15, 30, 60 minutes, then hourly', () => {
    // Act
    const offsets = [0, 1, 2, 3, 4, 5, 6].map(reconcileOffset);
    // Assert
    expect(offsets).toEqual([120, 300, 900, 1800, 3600, 7200, 10800]);
  });

  it('never comes before a Retry-After that Replicate gave', () => {
    // Arrange
    const record = activity({ reconcileAttempts: 1, reconcileNotBefore: T0 + 1000 });
    // Act
    const due = reconcileDueAt(record);
    // Assert
    expect(due).toBe(T0 + 1000);
  });

  it('makes the webhook path schedule the first look 2 minutes after the event when the inspector holds a token', () => {
    // Arrange
    const record = activity({ dueAt: undefined });
    // Act
    const withToken = nextDueAt(record, { ...settings, reconcile: true });
    const without = nextDueAt(record, settings);
    // Assert
    expect(withToken).toBe(T0 + 120);
    expect(without).toBe(T0 + HOUR);
  });

  it('asks on schedule, or once more at the hang timeout and the 8-hour deadline, never before Retry-After', () => {
    // Arrange
    const record = activity({ reconcileAttempts: 4 }); // next on schedule: +60 min
    // Act + Assert
    expect(shouldReconcile(record, settings, T0 + 120)).toBe(false);
    expect(shouldReconcile(record, settings, T0 + HOUR)).toBe(true);
    expect(shouldReconcile(activity({ reconcileAttempts: 1 }), settings, T0 + 300)).toBe(true);
    expect(shouldReconcile(activity({ reconcileNotBefore: T0 + 900 }), settings, T0 + 600)).toBe(false);
    expect(shouldReconcile(activity({ job: { ...activity().job, status: 'succeeded' } }), settings, T0 + HOUR)).toBe(false);
  });
});

describe('sweepDueAt', () => {
  it('agrees with the webhook path for a fresh activity, with and without a token', () => {
    // Arrange
    const record = activity({ dueAt: undefined });
    // Act + Assert
    expect(sweepDueAt(record, settings, T0, false)).toBe(nextDueAt(record, settings));
    expect(sweepDueAt(record, settings, T0, true)).toBe(nextDueAt(record, { ...settings, reconcile: true }));
  });

  it('keeps only times still ahead: after the hang timeout a token holder is looked at on schedule or at the end of the grace period', () => {
    // Arrange
    const record = activity({ reconcileAttempts: 5 }); // on schedule: +2 h
    // Act
    const due = sweepDueAt(record, settings, T0 + HOUR + 60, true);
    // Assert
    expect(due).toBe(T0 + HOUR + API_GRACE_SECONDS);
  });

  it('is undefined when a job is over and every device has its end', () => {
    // Arrange
    const record = activity({ job: { ...activity().job, status: 'succeeded', endedAt: T0 + 10 } });
    record.devices.dev_a = { environment: 'sandbox', startedAt: T0, sentSeq: 1, ended: true };
    // Act + Assert
    expect(sweepDueAt(record, settings, T0 + 20, true)).toBeUndefined();
  });

  it('is the coalescing interval when a newer state waits for a device', () => {
    // Arrange
    const record = activity({ seq: 2, lastPushAt: T0 + 100 });
    // Act + Assert
    // Whole seconds: a push recorded at 100 may have left at 100.9, so 5 s have surely passed at 106.
    expect(sweepDueAt(record, settings, T0 + 101, false)).toBe(T0 + 106);
  });
});

describe('planVisit', () => {
  it('without a token, ends a silent job grey at the hang timeout with one end push', () => {
    // Arrange
    const record = activity();
    // Act
    const plan = planVisit(record, ctx(T0 + HOUR));
    // Assert
    expect(plan.expiredReason).toContain('no word for 1h');
    expect(plan.activity.job.status).toBe('expired');
    expect(plan.activity.job.detail).toBe('no word for 1h · Hello world');
    expect(plan.activity.seq).toBe(2);
    expect(plan.pushes.map((p) => p.message.kind)).toEqual(['end']);
    expect(plan.activity.devices.dev_a!.ended).toBe(true);
    // Nothing left but letting go of the ended device's update token.
    expect(plan.activity.dueAt).toBe(T0 + HOUR + RELEASE_AFTER_END_SECONDS);
  });

  it('is idempotent: visiting the result again changes nothing and pushes nothing', () => {
    // Arrange
    const first = planVisit(activity(), ctx(T0 + HOUR));
    // Act
    const second = planVisit(first.activity, ctx(T0 + HOUR));
    // Assert
    expect(second.changed).toBe(false);
    expect(second.pushes).toEqual([]);
    expect(second.expiredReason).toBeUndefined();
  });

  it('does not end a job before its hang timeout', () => {
    // Arrange
    const record = activity();
    // Act
    const plan = planVisit(record, ctx(T0 + HOUR - 1));
    // Assert
    expect(plan.activity.job.status).toBe('processing');
    expect(plan.pushes).toEqual([]);
    expect(plan.activity.dueAt).toBe(T0 + HOUR);
  });

  it('backs off after an API error and keeps the card, honouring Retry-After', () => {
    // Arrange
    const record = activity({ dueAt: T0 + 120 });
    const rateLimited: ReplicateApiResult = { outcome: 'retry', status: 429, reason: 'HTTP 429 (rate limited)', retryAfterSeconds: 900 };
    // Act
    const plan = planVisit(record, ctx(T0 + 120, { reconciling: true, answer: answer(rateLimited, record) }));
    // Assert
    expect(plan.activity.job.status).toBe('processing');
    expect(plan.activity.reconcileAttempts).toBe(1);
    expect(plan.activity.reconcileNotBefore).toBe(T0 + 120 + 900);
    expect(plan.activity.dueAt).toBe(T0 + 120 + 900);
    expect(plan.pushes).toEqual([]);
  });

  it('ignores its answer when something happened since it asked (no double back-off, no verdict)', () => {
    // Arrange
    const asked = activity({ reconcileAttempts: 4 });
    const meanwhile = { ...asked, reconcileAttempts: 5 }; // another run answered first
    // Act
    const plan = planVisit(meanwhile, ctx(T0 + HOUR + API_GRACE_SECONDS, { reconciling: true, answer: answer(serverError, asked) }));
    // Assert
    expect(plan.activity.reconcileAttempts).toBe(5);
    expect(plan.activity.job.status).toBe('processing');
  });

  it('with a token, ends the card at the hang timeout when Replicate refuses the token', () => {
    // Arrange
    const record = activity({ reconcileAttempts: 4 });
    // Act
    const plan = planVisit(record, ctx(T0 + HOUR, { reconciling: true, answer: answer(refused, record) }));
    // Assert
    expect(plan.activity.job.status).toBe('expired');
    expect(plan.expiredReason).toContain('HTTP 401');
  });

  it('with a token, gives a transient error the grace period before ending the card', () => {
    // Arrange
    const record = activity({ reconcileAttempts: 4 });
    // Act
    const atHang = planVisit(record, ctx(T0 + HOUR, { reconciling: true, answer: answer(serverError, record) }));
    const afterGrace = planVisit(atHang.activity, ctx(T0 + HOUR + API_GRACE_SECONDS, { reconciling: true, answer: answer(serverError, atHang.activity) }));
    // Assert
    expect(atHang.activity.job.status).toBe('processing');
    expect(atHang.activity.dueAt).toBe(T0 + HOUR + API_GRACE_SECONDS);
    expect(afterGrace.activity.job.status).toBe('expired');
    expect(afterGrace.expiredReason).toContain('HTTP 500');
  });

  it('with a token, keeps a job Replicate says is still running past the hang timeout', () => {
    // Arrange
    const record = activity({ reconcileAttempts: 4 });
    const snapshot = { kind: 'prediction', id: 'p_1', status: 'processing', model: null, version: null, output: null, outputLength: 2, logs: '', error: null, createdAt: null, startedAt: null, completedAt: null, predictTime: null, dataRemoved: false, webUrl: 'https://replicate.com/p/p_1' } as const;
    // Act
    const plan = planVisit(record, ctx(T0 + HOUR + API_GRACE_SECONDS, { reconciling: true, answer: answer({ outcome: 'ok', snapshot }, record) }));
    // Assert
    expect(plan.activity.job.status).toBe('processing');
    expect(plan.activity.reconcileAttempts).toBe(5);
    expect(plan.activity.dueAt).toBe(T0 + reconcileOffset(5));
  });

  it('ends anything still open at the 8-hour deadline, token or not', () => {
    // Arrange
    const record = activity({ lastEventAt: T0 + END_BEFORE_SECONDS - 60 });
    // Act
    const plan = planVisit(record, ctx(endDeadline(record), { reconciling: true }));
    // Assert
    expect(plan.activity.job.status).toBe('expired');
    expect(plan.activity.job.detail).toBe('8-hour limit · Hello world');
    expect(plan.pushes.map((p) => p.message.kind)).toEqual(['end']);
  });

  it('sends a pending end of a finished job (a flush), once', () => {
    // Arrange
    const record = activity({ seq: 2, job: { ...activity().job, status: 'succeeded', endedAt: T0 + 30 } });
    // Act
    const plan = planVisit(record, ctx(T0 + 60));
    const again = planVisit(plan.activity, ctx(T0 + 60));
    // Assert
    expect(plan.pushes.map((p) => p.message.kind)).toEqual(['end']);
    expect(plan.expiredReason).toBeUndefined();
    expect(again.pushes).toEqual([]);
  });
});
