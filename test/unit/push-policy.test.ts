import type { ActivityRecord } from '../../lambda/core/activity';
import { applyPushOutcomes, endDeadline, nextDueAt, planPushes, END_BEFORE_SECONDS, RELEASE_AFTER_END_SECONDS, type DeviceInfo, type PolicySettings } from '../../lambda/core/push-policy';
import type { JobRecord } from '../../lambda/core/job-state';

const NOW = 1_780_000_000;
const settings: PolicySettings = { bundleId: 'com.acme.app', coalesceSeconds: 5, hangTimeoutSeconds: 3600 };
const devices = new Map<string, DeviceInfo>([
  ['d1', { id: 'd1', environment: 'sandbox', pushToStartToken: 'aa'.repeat(32) }],
  ['d2', { id: 'd2', environment: 'production', pushToStartToken: 'bb'.repeat(32) }],
]);

function job(o: Partial<JobRecord> = {}): JobRecord {
  return { jobId: 'p1', kind: 'prediction', model: 'o/m', status: 'starting', outputLength: 0, logsLength: 0, createdAt: NOW - 5, startedAt: NOW - 5, webUrl: 'https://replicate.com/p/p1', ...o };
}

function activity(o: Partial<ActivityRecord> = {}): ActivityRecord {
  return {
    activityId: 'act_1',
    inspectorId: 'insp_1',
    inspectorName: 'GPU team',
    job: job(),
    devices: { d1: { environment: 'sandbox', sentSeq: 0 }, d2: { environment: 'production', sentSeq: 0 } },
    seq: 1,
    lastTimestamp: 0,
    lastEventAt: NOW,
    recentWebhookIds: [],
    createdAt: NOW,
    ...o,
  };
}

describe('planPushes', () => {
  test('starts every bound device with priority 10, attributes, alert and a stale-date', () => {
    const { pushes, activity: next } = planPushes(activity(), devices, settings, NOW);
    expect(pushes.map((p) => [p.message.kind, p.message.target.deviceId, p.message.target.token, p.message.headers['apns-priority']])).toEqual([
      ['start', 'd1', 'aa'.repeat(32), '10'],
      ['start', 'd2', 'bb'.repeat(32), '10'],
    ]);
    const aps = pushes[0]!.message.payload.aps;
    expect(aps).toMatchObject({ event: 'start', 'attributes-type': 'ChirpJobAttributes', 'input-push-token': 1, 'stale-date': NOW + 3600 });
    expect(aps.attributes).toEqual({ activityId: 'act_1', provider: 'replicate', jobId: 'p1', model: 'o/m', inspector: 'GPU team', webUrl: 'https://replicate.com/p/p1' });
    expect(pushes[0]!.message.headers['apns-topic']).toBe('com.acme.app.push-type.liveactivity');
    expect(next.devices.d1).toMatchObject({ startedAt: NOW, sentSeq: 1 });
  });

  test('timestamps strictly increase even within one second', () => {
    const { pushes, activity: next } = planPushes(activity({ lastTimestamp: NOW + 3 }), devices, settings, NOW);
    expect(pushes.map((p) => p.message.payload.aps.timestamp)).toEqual([NOW + 4, NOW + 5]);
    expect(next.lastTimestamp).toBe(NOW + 5);
  });

  test('a device without a push-to-start token is stopped, not retried forever', () => {
    const { pushes, activity: next } = planPushes(activity(), new Map([['d1', { id: 'd1', environment: 'sandbox' as const }]]), settings, NOW);
    expect(pushes).toHaveLength(0);
    expect(next.devices.d1!.stopped).toBe('device has no push-to-start token');
    expect(next.devices.d2!.stopped).toBe('device no longer registered');
  });

  test('updates wait for the update token, then are coalesced per activity at priority 5', () => {
    const started = activity({ seq: 2, job: job({ status: 'processing' }), lastPushAt: NOW - 2, devices: { d1: { environment: 'sandbox', startedAt: NOW - 2, sentSeq: 1 } } });
    expect(planPushes(started, devices, settings, NOW).pushes).toHaveLength(0);
    const withToken = { ...started, devices: { d1: { ...started.devices.d1!, token: 'cc'.repeat(40) } } };
    const early = planPushes(withToken, devices, settings, NOW);
    expect(early.pushes).toHaveLength(0);
    // The last push was at NOW - 2 in whole seconds: 5 s have surely passed at NOW + 4.
    expect(early.activity.dueAt).toBe(NOW + 4);
    expect(planPushes(withToken, devices, settings, NOW + 3).pushes).toHaveLength(0);
    const later = planPushes(withToken, devices, settings, NOW + 4);
    expect(later.pushes.map((p) => [p.message.kind, p.message.headers['apns-priority'], p.message.target.tokenKind])).toEqual([['update', '5', 'update']]);
    expect(later.pushes[0]!.message.payload.aps).not.toHaveProperty('attributes');
    expect(planPushes(withToken, devices, settings, NOW, { flush: true }).pushes).toHaveLength(1);
  });

  test('the end goes once per device, is never coalesced, and carries a dismissal-date', () => {
    const ending = activity({ seq: 3, job: job({ status: 'failed', error: 'boom', endedAt: NOW }), lastPushAt: NOW, devices: { d1: { environment: 'sandbox', startedAt: NOW - 100, sentSeq: 2, token: 'cc'.repeat(40) } } });
    const { pushes, activity: next } = planPushes(ending, devices, settings, NOW);
    expect(pushes.map((p) => p.message.kind)).toEqual(['end']);
    const aps = pushes[0]!.message.payload.aps;
    expect(aps['dismissal-date']).toBeGreaterThan(NOW);
    expect(aps).not.toHaveProperty('stale-date');
    expect(aps.alert?.title).toBe('Replicate · FAILED');
    expect(next.devices.d1!.ended).toBe(true);
    // One more look, to forget the update token once SNS had time to deliver the end.
    expect(next.dueAt).toBe(NOW + RELEASE_AFTER_END_SECONDS);
    expect(planPushes(next, devices, settings, NOW + 60).pushes).toHaveLength(0);
  });

  test('the due time only moves earlier on the webhook path', () => {
    const a = activity({ dueAt: NOW + 10 });
    expect(planPushes(a, devices, settings, NOW).activity.dueAt).toBe(NOW + 10);
    expect(planPushes(activity(), devices, settings, NOW).activity.dueAt).toBe(NOW + 3600);
  });

  test('a running activity is always due before the 8-hour limit', () => {
    const a = activity({ devices: { d1: { environment: 'sandbox', startedAt: NOW, sentSeq: 1 } }, lastEventAt: NOW + 8 * 3600 });
    expect(endDeadline(a)).toBe(NOW + END_BEFORE_SECONDS);
    expect(nextDueAt(a, { ...settings, hangTimeoutSeconds: 24 * 3600 })).toBe(NOW + END_BEFORE_SECONDS);
  });
});

describe('applyPushOutcomes', () => {
  test('retry-later undoes the bookkeeping and schedules a retry; retire stops the device', () => {
    const plan = planPushes(activity(), devices, settings, NOW);
    const effects = applyPushOutcomes(
      plan.activity,
      plan.pushes,
      [
        { outcome: 'retry-later', transport: 'apns', reason: '429 TooManyRequests', retryAfterSeconds: 60 },
        { outcome: 'retire-token', transport: 'apns', reason: 'Unregistered', status: 410 },
      ],
      NOW,
    );
    expect(effects.changed).toBe(true);
    expect(effects.activity.devices.d1).toEqual({ environment: 'sandbox', sentSeq: 0, startDeferredUntil: NOW + 60 });
    expect(effects.activity.dueAt).toBe(NOW + 60);
    expect(effects.activity.devices.d2!.stopped).toBe('push-to-start token retired: Unregistered');
    expect(effects.retiredStartTokens).toEqual(['d2']);
  });

  test('all sent changes nothing', () => {
    const plan = planPushes(activity(), devices, settings, NOW);
    const effects = applyPushOutcomes(plan.activity, plan.pushes, plan.pushes.map(() => ({ outcome: 'sent' as const, transport: 'outbox' as const })), NOW);
    expect(effects.changed).toBe(false);
    expect(effects.activity).toEqual(plan.activity);
  });
});
