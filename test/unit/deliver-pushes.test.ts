/**
 * deliverPushes: the push-to-start budget is taken only right before a start (never for updates
 * or ends), a spent budget defers the start instead of sending it, and tokens that are no longer
 * used (released by the policy, retired by the transport) are let go at the transport, without
 * ever failing the delivery.
 */
import type { ActivityRecord } from '../../lambda/core/activity';
import { deliverPushes, type DeliverDeps } from '../../lambda/core/deliver-pushes';
import type { Log } from '../../lambda/core/log';
import type { PushMessage, PushResult, PushSender, PushTarget } from '../../lambda/core/push-port';
import { planPushes, type DeviceInfo, type PolicySettings } from '../../lambda/core/push-policy';
import type { StartBudget, StartBudgetDecision } from '../../lambda/core/start-pacing';
import type { KeyStore } from '../../lambda/core/store-ports';
import { MemoryActivityStore } from '../helpers/memory-activity-store';
import { FIXTURE_NOW, fixtureActivity, fixtureJob } from '../helpers/activity-fixtures';

const NOW = FIXTURE_NOW;
const START_TOKEN = 'aa'.repeat(32);
const UPDATE_TOKEN = 'cc'.repeat(40);
const settings: PolicySettings = { bundleId: 'com.acme.app', coalesceSeconds: 5, hangTimeoutSeconds: 3600 };
const devices = new Map<string, DeviceInfo>([['d1', { id: 'd1', environment: 'sandbox', pushToStartToken: START_TOKEN }]]);

const job = fixtureJob;
const activity = fixtureActivity;

interface Recorder {
  deps: DeliverDeps;
  activities: MemoryActivityStore;
  sent: PushMessage[];
  released: PushTarget[];
  budgetCalls: { deviceId: string; now: number; budget: StartBudget }[];
  retired: { deviceId: string; token: string }[];
  warnings: string[];
  invalidations: number;
}

function recorder(options: { budget?: () => Promise<StartBudgetDecision>; answer?: (m: PushMessage) => PushResult; release?: (t: PushTarget) => Promise<void> } = {}): Recorder {
  const activities = new MemoryActivityStore();
  const sent: PushMessage[] = [];
  const released: PushTarget[] = [];
  const budgetCalls: Recorder['budgetCalls'] = [];
  const retired: Recorder['retired'] = [];
  const warnings: string[] = [];
  const keys: Partial<KeyStore> = {
    consumePushToStartBudget: async (deviceId, now, budget) => {
      budgetCalls.push({ deviceId, now, budget });
      return options.budget ? options.budget() : { granted: true };
    },
    retirePushToStartToken: async (deviceId, token) => {
      retired.push({ deviceId, token });
    },
  };
  const push: PushSender = {
    transport: 'sns',
    async send(message) {
      sent.push(message);
      return options.answer?.(message) ?? { outcome: 'sent', transport: 'sns', id: 'm1' };
    },
    async release(target) {
      released.push(target);
      await options.release?.(target);
    },
  };
  const log: Log = { debug() {}, info() {}, warn: (message) => warnings.push(message), error: (message) => warnings.push(message) };
  const r: Recorder = {
    deps: { activities, keys: keys as KeyStore, push, log, clock: () => NOW * 1000, resolver: { invalidate: () => (r.invalidations += 1) } },
    activities,
    sent,
    released,
    budgetCalls,
    retired,
    warnings,
    invalidations: 0,
  };
  return r;
}

/** Plans for `input`, saves the plan like the callers do, and delivers it. */
async function planAndDeliver(r: Recorder, input: ActivityRecord, now = NOW) {
  const plan = planPushes(input, devices, settings, now);
  const version = await r.activities.put(plan.activity, null);
  const records = await deliverPushes(r.deps, plan.activity, version, plan.pushes, plan.releases);
  return { plan, records, saved: (await r.activities.get(input.activityId))!.value };
}

describe('deliverPushes: push-to-start pacing', () => {
  test('takes one start from the device budget right before a start, and sends it when granted', async () => {
    // Prepare
    const r = recorder();

    // Act
    const { records } = await planAndDeliver(r, activity());

    // Assert
    expect(r.budgetCalls).toEqual([{ deviceId: 'd1', now: NOW, budget: { maxStarts: 8, windowSeconds: 3600 } }]);
    expect(r.sent.map((m) => m.kind)).toEqual(['start']);
    expect(records).toEqual([{ deviceId: 'd1', kind: 'start', outcome: 'sent', transport: 'sns' }]);
  });

  test('never touches the budget for updates and ends', async () => {
    // Prepare
    const r = recorder();
    const running = activity({ seq: 3, job: job({ status: 'processing' }), devices: { d1: { environment: 'sandbox', startedAt: NOW - 60, sentSeq: 2, token: UPDATE_TOKEN } } });
    const ending = activity({ activityId: 'act_2', seq: 3, job: job({ status: 'succeeded', endedAt: NOW }), devices: { d1: { environment: 'sandbox', startedAt: NOW - 60, sentSeq: 2, token: UPDATE_TOKEN } } });

    // Act
    await planAndDeliver(r, running);
    await planAndDeliver(r, ending);

    // Assert
    expect(r.sent.map((m) => m.kind)).toEqual(['update', 'end']);
    expect(r.budgetCalls).toEqual([]);
  });

  test('a spent budget defers the start: nothing is sent, the reason is logged per push, the sweeper looks again then', async () => {
    // Prepare
    const r = recorder({ budget: async () => ({ granted: false, retryAt: NOW + 1500 }) });
    r.deps.startBudget = { maxStarts: 2, windowSeconds: 1800 };

    // Act
    const { records, saved } = await planAndDeliver(r, activity());

    // Assert
    expect(r.sent).toEqual([]);
    expect(r.budgetCalls[0]!.budget).toEqual({ maxStarts: 2, windowSeconds: 1800 });
    expect(records).toEqual([
      {
        deviceId: 'd1',
        kind: 'start',
        outcome: 'retry-later',
        transport: 'sns',
        reason: `push-to-start budget spent (2 starts per 30 min on this device); next start at ${new Date((NOW + 1500) * 1000).toISOString()}`,
      },
    ]);
    expect(saved.devices.d1).toEqual({ environment: 'sandbox', sentSeq: 0, startDeferredUntil: NOW + 1500 });
    expect(saved.dueAt).toBe(NOW + 1500);
  });

  test('fails open when the budget cannot be read: the start goes out and a warning is logged', async () => {
    // Prepare
    const r = recorder({ budget: async () => Promise.reject(new Error('AccessDeniedException: not authorized to perform dynamodb:UpdateItem')) });

    // Act
    await planAndDeliver(r, activity());

    // Assert
    expect(r.sent.map((m) => m.kind)).toEqual(['start']);
    expect(r.warnings).toEqual(['push-to-start budget unavailable; start sent unpaced']);
  });
});

describe('deliverPushes: releasing tokens', () => {
  test('releases what the policy released, even when there is nothing to send', async () => {
    // Prepare
    const r = recorder();
    const ended = activity({ seq: 3, job: job({ status: 'succeeded', endedAt: NOW }), devices: { d1: { environment: 'sandbox', startedAt: NOW - 60, sentSeq: 3, ended: true, token: UPDATE_TOKEN, releaseAt: NOW } } });

    // Act
    const { records, plan } = await planAndDeliver(r, ended);

    // Assert
    expect(plan.pushes).toEqual([]);
    expect(records).toEqual([]);
    expect(r.released).toEqual([{ deviceId: 'd1', environment: 'sandbox', token: UPDATE_TOKEN, tokenKind: 'update' }]);
  });

  test('releases a retired push-to-start token, forgets it on the device and drops cached device lists', async () => {
    // Prepare
    const r = recorder({ answer: () => ({ outcome: 'retire-token', transport: 'sns', reason: 'EndpointDisabledException: Endpoint is disabled', status: 400 }) });

    // Act
    const { saved } = await planAndDeliver(r, activity());

    // Assert
    expect(r.released).toEqual([{ deviceId: 'd1', environment: 'sandbox', token: START_TOKEN, tokenKind: 'push-to-start' }]);
    expect(r.retired).toEqual([{ deviceId: 'd1', token: START_TOKEN }]);
    expect(r.invalidations).toBe(1);
    expect(saved.devices.d1!.stopped).toBe('push-to-start token retired: EndpointDisabledException: Endpoint is disabled');
  });

  test('a failing release is logged and never fails the delivery', async () => {
    // Prepare
    const r = recorder({
      answer: () => ({ outcome: 'retire-token', transport: 'sns', reason: 'Unregistered', status: 410 }),
      release: async () => Promise.reject(new Error('ThrottlingException: Rate exceeded')),
    });
    const running = activity({ seq: 3, job: job({ status: 'processing' }), devices: { d1: { environment: 'sandbox', startedAt: NOW - 60, sentSeq: 2, token: UPDATE_TOKEN } } });

    // Act
    const { records, saved } = await planAndDeliver(r, running);

    // Assert
    expect(records).toEqual([{ deviceId: 'd1', kind: 'update', outcome: 'retire-token', transport: 'sns', reason: 'Unregistered', status: 410 }]);
    expect(r.warnings).toEqual(['could not release a push token at the transport']);
    expect(saved.devices.d1).toMatchObject({ stopped: 'update token retired: Unregistered' });
    expect(saved.devices.d1!.token).toBeUndefined();
  });

  test('sent ends are not released at once: SNS still has to deliver them', async () => {
    // Prepare
    const r = recorder();
    const ending = activity({ seq: 3, job: job({ status: 'succeeded', endedAt: NOW }), devices: { d1: { environment: 'sandbox', startedAt: NOW - 60, sentSeq: 2, token: UPDATE_TOKEN } } });

    // Act
    const { saved } = await planAndDeliver(r, ending);

    // Assert
    expect(r.sent.map((m) => m.kind)).toEqual(['end']);
    expect(r.released).toEqual([]);
    expect(saved.devices.d1!.token).toBe(UPDATE_TOKEN);
    expect(saved.dueAt).toBe(saved.devices.d1!.releaseAt);
  });
});
