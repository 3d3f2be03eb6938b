/**
 * Push policy, the parts about pacing and token lifecycle: deferred push-to-starts, the release
 * of ended devices' update tokens, the rolling push-to-start budget's reference model, its
 * configuration, and the 8-hour guarantee (every started, running activity is due before its
 * end deadline, and the visit at the deadline ends it with its latest state).
 */
import fc from 'fast-check';
import { ConfigError, readStartBudget } from '../../lambda/config';
import { expireRecord, isTerminal } from '../../lambda/core/job-state';
import {
  applyPushOutcomes,
  deviceDueTimes,
  endDeadline,
  LATE_START_SECONDS,
  MAX_ACTIVITY_SECONDS,
  nextDueAt,
  planPushes,
  RELEASE_AFTER_END_SECONDS,
  type DeviceInfo,
  type PolicySettings,
} from '../../lambda/core/push-policy';
import { decideStart, DEFAULT_START_BUDGET, deferredStartReason } from '../../lambda/core/start-pacing';
import { FIXTURE_NOW, fixtureActivity, fixtureJob } from '../helpers/activity-fixtures';

const NOW = FIXTURE_NOW;
const TOKEN_D1 = 'aa'.repeat(32);
const UPDATE_TOKEN = 'cc'.repeat(40);
const settings: PolicySettings = { bundleId: 'com.acme.app', coalesceSeconds: 5, hangTimeoutSeconds: 3600 };
const devices = new Map<string, DeviceInfo>([['d1', { id: 'd1', environment: 'sandbox', pushToStartToken: TOKEN_D1 }]]);

const job = fixtureJob;
const activity = fixtureActivity;

describe('deferred push-to-start', () => {
  test('a start the transport deferred is not planned again before its time, even when flushed', () => {
    // Prepare: a start planned, then answered "retry later" (budget spent) for 20 minutes
    const plan = planPushes(activity(), devices, settings, NOW);
    const deferred = applyPushOutcomes(plan.activity, plan.pushes, [{ outcome: 'retry-later', transport: 'apns', reason: 'push-to-start budget spent', retryAfterSeconds: 1200 }], NOW).activity;
    const streaming = { ...deferred, seq: 5, job: job({ status: 'processing' }), lastEventAt: NOW + 60 };

    // Act
    const early = planPushes(streaming, devices, settings, NOW + 60, { flush: true });

    // Assert
    expect(deferred.devices.d1).toEqual({ environment: 'sandbox', sentSeq: 0, startDeferredUntil: NOW + 1200 });
    expect(deferred.dueAt).toBe(NOW + 1200);
    expect(early.pushes).toHaveLength(0);
    expect(early.activity.devices.d1!.startedAt).toBeUndefined();
    expect(early.activity.dueAt).toBe(NOW + 1200);
  });

  test('once the budget allows, the visit plans the start with the latest state and clears the deferral', () => {
    // Prepare
    const deferred = activity({ seq: 4, job: job({ status: 'processing', detail: 'step 4/10' }), devices: { d1: { environment: 'sandbox', sentSeq: 0, startDeferredUntil: NOW + 1200 } }, dueAt: NOW + 1200 });

    // Act: the sweeper's visit at the due time
    const plan = planPushes(deferred, devices, settings, NOW + 1200, { flush: true });

    // Assert
    expect(plan.pushes.map((p) => [p.message.kind, p.message.target.tokenKind, p.message.headers['apns-priority']])).toEqual([['start', 'push-to-start', '10']]);
    expect(plan.pushes[0]!.message.payload.aps['content-state']).toMatchObject({ status: 'processing', detail: 'step 4/10' });
    expect(plan.activity.devices.d1).toEqual({ environment: 'sandbox', sentSeq: 4, startedAt: NOW + 1200 });
    expect(plan.pushes[0]!.before.startDeferredUntil).toBe(NOW + 1200);
  });

  test('a start still waiting when the job has long ended is dropped with a reason, not sent', () => {
    // Prepare
    const over = activity({ seq: 6, job: job({ status: 'succeeded', endedAt: NOW }), devices: { d1: { environment: 'sandbox', sentSeq: 0, startDeferredUntil: NOW + 1800 } } });

    // Act
    const soon = planPushes(over, devices, settings, NOW + LATE_START_SECONDS);
    const late = planPushes(over, devices, settings, NOW + 1800);

    // Assert: within LATE_START_SECONDS it would still start (the card shows the final state)…
    expect(planPushes({ ...over, devices: { d1: { environment: 'sandbox', sentSeq: 0, startDeferredUntil: NOW + 60 } } }, devices, settings, NOW + LATE_START_SECONDS).pushes.map((p) => p.message.kind)).toEqual(['start']);
    expect(soon.pushes).toHaveLength(0); // not before its time
    // …after, it is stopped and nothing is due any more.
    expect(late.pushes).toHaveLength(0);
    expect(late.activity.devices.d1!.stopped).toMatch(/push-to-start budget/);
    expect(late.activity.devices.d1!.startDeferredUntil).toBeUndefined();
    expect(late.activity.dueAt).toBeUndefined();
  });

  test('any start that did not go out is deferred (429, config), but other kinds are only re-queued', () => {
    // Prepare
    const start = planPushes(activity(), devices, settings, NOW);
    const running = activity({ seq: 3, job: job({ status: 'processing' }), devices: { d1: { environment: 'sandbox', startedAt: NOW - 60, sentSeq: 2, token: UPDATE_TOKEN } } });
    const update = planPushes(running, devices, settings, NOW);

    // Act
    const afterConfig = applyPushOutcomes(start.activity, start.pushes, [{ outcome: 'fix-config', transport: 'apns', reason: 'BadTopic', status: 400 }], NOW).activity;
    const afterUpdate = applyPushOutcomes(update.activity, update.pushes, [{ outcome: 'retry-later', transport: 'apns', reason: 'TooManyRequests', status: 429 }], NOW).activity;

    // Assert
    expect(afterConfig.devices.d1!.startDeferredUntil).toBe(NOW + 15 * 60);
    expect(afterUpdate.devices.d1).toEqual(running.devices.d1);
    expect(afterUpdate.dueAt).toBe(NOW + 30);
  });

  test('the due times a sweeper must honour include deferred starts and pending releases', () => {
    // Prepare
    const a = activity({
      devices: {
        d1: { environment: 'sandbox', sentSeq: 0, startDeferredUntil: NOW + 100 },
        d2: { environment: 'sandbox', sentSeq: 1, startedAt: NOW - 10, ended: true, token: UPDATE_TOKEN, releaseAt: NOW + 200 },
        d3: { environment: 'sandbox', sentSeq: 0, startDeferredUntil: NOW + 50, stopped: 'device has no push-to-start token' },
      },
    });

    // Act / Assert
    expect(deviceDueTimes(a).sort()).toEqual([NOW + 100, NOW + 200]);
    expect(nextDueAt(a, settings)).toBe(NOW + 100);
  });
});

describe('releasing ended devices\' update tokens', () => {
  test('the end schedules the release; the visit after the grace period releases and forgets the token', () => {
    // Prepare
    const ending = activity({ seq: 3, job: job({ status: 'succeeded', endedAt: NOW }), devices: { d1: { environment: 'sandbox', startedAt: NOW - 100, sentSeq: 2, token: UPDATE_TOKEN } } });

    // Act
    const ended = planPushes(ending, devices, settings, NOW);
    const tooEarly = planPushes(ended.activity, devices, settings, NOW + RELEASE_AFTER_END_SECONDS - 1, { flush: true });
    const visit = planPushes(ended.activity, devices, settings, NOW + RELEASE_AFTER_END_SECONDS, { flush: true });

    // Assert
    expect(ended.pushes.map((p) => p.message.kind)).toEqual(['end']);
    expect(ended.releases).toEqual([]);
    expect(ended.activity.devices.d1!.releaseAt).toBe(NOW + RELEASE_AFTER_END_SECONDS);
    expect(ended.activity.dueAt).toBe(NOW + RELEASE_AFTER_END_SECONDS);
    expect(tooEarly.releases).toEqual([]);
    expect(visit.pushes).toEqual([]);
    expect(visit.releases).toEqual([{ deviceId: 'd1', environment: 'sandbox', token: UPDATE_TOKEN, tokenKind: 'update' }]);
    expect(visit.activity.devices.d1).toEqual({ environment: 'sandbox', startedAt: NOW - 100, sentSeq: 3, ended: true });
    expect(visit.activity.dueAt).toBeUndefined();
  });

  test('an end the transport must retry does not schedule a release', () => {
    // Prepare
    const ending = activity({ seq: 3, job: job({ status: 'failed', endedAt: NOW }), devices: { d1: { environment: 'sandbox', startedAt: NOW - 100, sentSeq: 2, token: UPDATE_TOKEN } } });
    const plan = planPushes(ending, devices, settings, NOW);

    // Act
    const effects = applyPushOutcomes(plan.activity, plan.pushes, [{ outcome: 'retry-later', transport: 'sns', reason: 'Throttled' }], NOW);

    // Assert
    expect(effects.activity.devices.d1).toEqual(ending.devices.d1);
  });
});

describe('the 8-hour rule', () => {
  const step = fc.record({
    advance: fc.integer({ min: 1, max: 3 * 3600 }),
    kind: fc.constantFrom('webhook', 'token', 'flush', 'retry'),
  });

  test('a started, running activity is always due no later than its end deadline', () => {
    fc.assert(
      fc.property(fc.array(step, { minLength: 1, maxLength: 25 }), fc.integer({ min: 300, max: 8 * 3600 }), fc.integer({ min: 1, max: 300 }), (steps, hang, coalesce) => {
        // Prepare
        const s: PolicySettings = { ...settings, hangTimeoutSeconds: hang, coalesceSeconds: coalesce };
        let now = NOW;
        let a = planPushes(activity(), devices, s, now).activity;
        for (const { advance, kind } of steps) {
          // Act: webhooks, the token arriving, sweeper flushes and failed pushes, in any order
          now += advance;
          if (kind === 'webhook') a = { ...a, seq: a.seq + 1, lastEventAt: now, job: job({ status: 'processing' }) };
          if (kind === 'token') a = { ...a, devices: { d1: { ...a.devices.d1!, token: UPDATE_TOKEN } } };
          const plan = planPushes(a, devices, s, now, { flush: kind === 'flush' });
          a = kind === 'retry' ? applyPushOutcomes(plan.activity, plan.pushes, plan.pushes.map(() => ({ outcome: 'retry-later' as const, transport: 'apns' as const, reason: '5xx' })), now).activity : plan.activity;

          // Assert
          if (a.devices.d1!.startedAt !== undefined && !isTerminal(a.job.status)) {
            expect(a.dueAt).toBeDefined();
            expect(a.dueAt!).toBeLessThanOrEqual(endDeadline(a));
            expect(endDeadline(a)).toBeLessThan(a.devices.d1!.startedAt + MAX_ACTIVITY_SECONDS);
          }
        }
      }),
      { numRuns: 300 },
    );
  });

  test('the visit at the deadline ends every started device that has a token, with the latest state, priority 10', () => {
    // Prepare: started 7 h 50 min ago, still running, one device with a token and one without
    const startedAt = NOW - 8 * 3600 + 10 * 60;
    const running = activity({
      seq: 9,
      job: job({ status: 'processing', detail: 'epoch 41/50', progress: 0.82 }),
      lastEventAt: NOW - 600,
      devices: {
        d1: { environment: 'sandbox', startedAt, sentSeq: 9, token: UPDATE_TOKEN },
        d2: { environment: 'sandbox', startedAt: startedAt + 5, sentSeq: 1 },
      },
    });
    const deadline = endDeadline(running);

    // Act: what the sweeper does when it finds the activity due at the deadline
    const expired = { ...running, seq: running.seq + 1, job: expireRecord(running.job, deadline, '8-hour limit · epoch 41/50') };
    const plan = planPushes(expired, devices, settings, deadline, { flush: true });

    // Assert
    expect(deadline).toBe(startedAt + 8 * 3600 - 10 * 60);
    expect(plan.pushes.map((p) => [p.message.kind, p.message.target.deviceId, p.message.headers['apns-priority']])).toEqual([['end', 'd1', '10']]);
    expect(plan.pushes[0]!.message.payload.aps['content-state']).toMatchObject({ status: 'expired', endedAt: deadline, detail: '8-hour limit · epoch 41/50' });
    expect(plan.pushes[0]!.message.payload.aps['dismissal-date']).toBeGreaterThan(deadline);
  });
});

describe('the push-to-start budget', () => {
  test('the reference model: at most maxStarts in any rolling window, and when the next one may go', () => {
    // Prepare
    const budget = { maxStarts: 3, windowSeconds: 600 };

    // Act / Assert
    expect(decideStart([], NOW, budget)).toEqual({ granted: true });
    expect(decideStart([NOW - 10, NOW - 5], NOW, budget)).toEqual({ granted: true });
    expect(decideStart([NOW - 300, NOW - 10, NOW - 5], NOW, budget)).toEqual({ granted: false, retryAt: NOW + 300 });
    expect(decideStart([NOW - 600, NOW - 10, NOW - 5], NOW, budget)).toEqual({ granted: true }); // the oldest just left the window
    expect(decideStart([NOW - 900, NOW - 300, NOW - 200, NOW - 100], NOW, budget)).toEqual({ granted: false, retryAt: NOW + 300 });
    expect(DEFAULT_START_BUDGET).toEqual({ maxStarts: 8, windowSeconds: 3600 });
    expect(deferredStartReason(DEFAULT_START_BUDGET, NOW)).toBe(`push-to-start budget spent (8 starts per 60 min on this device); next start at ${new Date(NOW * 1000).toISOString()}`);
  });

  test('is configured from CHIRP_PUSH_TO_START_MAX and CHIRP_PUSH_TO_START_WINDOW_MINUTES, with a named error', () => {
    expect(readStartBudget({})).toBeUndefined();
    expect(readStartBudget({ CHIRP_PUSH_TO_START_MAX: '4' })).toEqual({ maxStarts: 4, windowSeconds: 3600 });
    expect(readStartBudget({ CHIRP_PUSH_TO_START_WINDOW_MINUTES: '120' })).toEqual({ maxStarts: 8, windowSeconds: 7200 });
    expect(() => readStartBudget({ CHIRP_PUSH_TO_START_MAX: '0' })).toThrow(ConfigError);
    expect(() => readStartBudget({ CHIRP_PUSH_TO_START_MAX: '2.5' })).toThrow(/CHIRP_PUSH_TO_START_MAX must be a whole number from 1 to 50/);
  });
});
