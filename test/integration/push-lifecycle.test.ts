/**
 * Push delivery through the real core and the embedded DynamoDB-compatible store, with an injected
 * clock and a recording push sender: one start per job per device even when webhooks race, state
 * held until the update token arrives, push-to-start pacing with the deferred start picked up by
 * the sweeper, and the token lifecycle (rotation releases the old token, an ended device's token
 * is released after the grace period, a new token re-enables a retired device).
 */
import { composeDeps, type ComposedDeps } from '../../lambda/compose';
import { activityIdFor, type ActivityRecord } from '../../lambda/core/activity';
import { registerActivityToken } from '../../lambda/core/activity-token';
import { createInspector, registerDevice, updateDevice } from '../../lambda/core/directory';
import { ingestForInspector, type IngestResult } from '../../lambda/core/ingest-webhook';
import { silentLog } from '../../lambda/core/log';
import { RELEASE_AFTER_END_SECONDS } from '../../lambda/core/push-policy';
import type { PushMessage, PushResult, PushSender, PushTarget } from '../../lambda/core/push-port';
import type { Inspector } from '../../lambda/core/store-ports';
import { runSweep } from '../../lambda/core/sweeper';
import { startEmbeddedDynamo, type EmbeddedDynamo } from '../../local/embedded-dynamo';
import { barrier, gatedStore } from '../helpers/race';

const T0_MS = Date.parse('2026-06-01T12:00:00Z');
const T0 = T0_MS / 1000;

class RecordingPush implements PushSender {
  readonly transport = 'sns' as const;
  readonly sent: PushMessage[] = [];
  readonly released: PushTarget[] = [];
  answer: (message: PushMessage) => PushResult = () => ({ outcome: 'sent', transport: 'sns' });

  async send(message: PushMessage): Promise<PushResult> {
    this.sent.push(structuredClone(message));
    return this.answer(message);
  }

  async release(target: PushTarget): Promise<void> {
    this.released.push(target);
  }

  of(activityId: string, kind?: PushMessage['kind']): PushMessage[] {
    return this.sent.filter((m) => m.activityId === activityId && (kind === undefined || m.kind === kind));
  }
}

function snapshot(id: string, status: string, extra: Record<string, unknown> = {}): Uint8Array {
  return new TextEncoder().encode(
    JSON.stringify({ id, model: 'black-forest-labs/flux-dev', status, created_at: '2026-06-01T11:59:58.000Z', started_at: status === 'starting' ? null : '2026-06-01T12:00:00.000Z', output: null, logs: '', error: null, urls: { web: `https://replicate.com/p/${id}` }, ...extra }),
  );
}

let dynamo: EmbeddedDynamo;
let ops: string[];

beforeAll(async () => {
  dynamo = await startEmbeddedDynamo();
});

afterAll(async () => {
  await dynamo.close();
});

interface World {
  deps: ComposedDeps;
  push: RecordingPush;
  clock: { now: number };
  inspector: Inspector;
  deviceIds: string[];
  webhook(jobId: string, status: string, extra?: Record<string, unknown>, deps?: ComposedDeps): Promise<IngestResult>;
  activity(jobId: string): Promise<ActivityRecord>;
}

let worldCounter = 0;

async function world(options: { devices?: number; startBudget?: { maxStarts: number; windowSeconds: number } } = {}): Promise<World> {
  worldCounter += 1;
  const clock = { now: T0_MS + worldCounter * 86_400_000 };
  const push = new RecordingPush();
  ops = [];
  const client = dynamo.newClient((operation) => ops.push(operation));
  const make = (): ComposedDeps =>
    composeDeps({
      client,
      activityTable: dynamo.tables.activity,
      keyTable: dynamo.tables.key,
      push,
      log: silentLog,
      tagSecret: 'test-tag-secret',
      bundleId: 'dev.chirp.app',
      clock: () => clock.now,
      ...(options.startBudget ? { startBudget: options.startBudget } : {}),
    });
  const deps = make();
  const deviceIds: string[] = [];
  for (let i = 0; i < (options.devices ?? 1); i++) {
    const { device } = await registerDevice(deps, { name: `phone ${i}`, environment: 'sandbox', pushToStartToken: `${worldCounter}${i}`.padStart(4, '0').repeat(16) });
    deviceIds.push(device.id);
  }
  const { inspector } = await createInspector(deps, { name: `lifecycle ${worldCounter}`, deviceIds, coalesceSeconds: 5 });
  const w: World = {
    deps,
    push,
    clock,
    inspector,
    deviceIds,
    async webhook(jobId, status, extra = {}, via = deps) {
      const resolved = (await via.resolver.resolveInspector(inspector.id))!;
      return ingestForInspector(via, resolved, { rawBody: snapshot(jobId, status, extra), headers: {} });
    },
    async activity(jobId) {
      return (await deps.activities.get(activityIdFor(inspector.id, jobId)))!.value;
    },
  };
  return w;
}

describe('one start per job per device', () => {
  test('two webhooks racing through two containers send a single start to each device', async () => {
    // Prepare: two containers (separate caches) whose activity writes wait for each other
    const w = await world({ devices: 2 });
    const gate = barrier(2);
    const a = { ...w.deps, activities: gatedStore(w.deps.activities, gate) };
    const b = composeDeps({ client: dynamo.client, activityTable: dynamo.tables.activity, keyTable: dynamo.tables.key, push: w.push, log: silentLog, tagSecret: 'test-tag-secret', bundleId: 'dev.chirp.app', clock: () => w.clock.now });
    const bGated = { ...b, activities: gatedStore(b.activities, gate) };

    // Act
    await Promise.all([w.webhook('race1', 'starting', {}, a), w.webhook('race1', 'processing', { logs: 'warming up' }, bGated)]);

    // Assert
    const activityId = activityIdFor(w.inspector.id, 'race1');
    const starts = w.push.of(activityId, 'start');
    expect(starts.map((m) => m.target.deviceId).sort()).toEqual([...w.deviceIds].sort());
    const saved = await w.activity('race1');
    expect(Object.values(saved.devices).every((d) => d.startedAt !== undefined)).toBe(true);
  });

  test('later webhooks for the same job never start it again', async () => {
    // Prepare
    const w = await world();
    await w.webhook('again1', 'starting');

    // Act
    w.clock.now += 1000;
    await w.webhook('again1', 'processing', { logs: 'a' });
    w.clock.now += 10_000;
    await w.webhook('again1', 'processing', { logs: 'ab' });

    // Assert
    expect(w.push.of(activityIdFor(w.inspector.id, 'again1'), 'start')).toHaveLength(1);
  });
});

describe('state waits for the update token', () => {
  test('updates before the token are held, and the token delivers only the latest state', async () => {
    // Prepare
    const w = await world();
    await w.webhook('buffer1', 'starting');
    const activityId = activityIdFor(w.inspector.id, 'buffer1');
    for (const [i, logs] of ['  10%|█', '  50%|█████', '  90%|█████████'].entries()) {
      w.clock.now += 10_000 * (i + 1);
      await w.webhook('buffer1', 'processing', { logs });
    }
    const beforeToken = w.push.of(activityId).map((m) => m.kind);

    // Act
    const result = await registerActivityToken(w.deps, { deviceId: w.deviceIds[0]!, activityId, token: 'ab'.repeat(40) });

    // Assert
    expect(beforeToken).toEqual(['start']);
    expect(result.pushes).toEqual([{ deviceId: w.deviceIds[0], kind: 'update', outcome: 'sent', transport: 'sns' }]);
    const update = w.push.of(activityId, 'update');
    expect(update).toHaveLength(1);
    expect(update[0]!.target).toEqual({ deviceId: w.deviceIds[0], environment: 'sandbox', token: 'ab'.repeat(40), tokenKind: 'update' });
    expect(update[0]!.payload.aps['content-state'].progress).toBeCloseTo(0.9);
  });
});

describe('push-to-start pacing', () => {
  test('starts beyond the budget are deferred, cost nothing on later webhooks, and the sweeper sends them when the budget allows', async () => {
    // Prepare: two starts per 10 minutes
    const w = await world({ startBudget: { maxStarts: 2, windowSeconds: 600 } });
    await w.webhook('paceA', 'starting');
    w.clock.now += 60_000;
    await w.webhook('paceB', 'starting');
    w.clock.now += 60_000;

    // Act 1: the third job starts while the budget is spent
    const third = await w.webhook('paceC', 'starting');
    const deferred = await w.activity('paceC');
    // Act 2: the job streams on; no start is tried, so no budget write happens
    ops.length = 0;
    w.clock.now += 5_000;
    await w.webhook('paceC', 'processing', { logs: 'step 1' });
    const opsWhileDeferred = [...ops];
    // Act 3: the sweeper runs when the activity is due
    w.clock.now = deferred.dueAt! * 1000;
    const sweep = await runSweep(w.deps.sweep);

    // Assert
    const idC = activityIdFor(w.inspector.id, 'paceC');
    expect(third.pushes).toEqual([{ deviceId: w.deviceIds[0], kind: 'start', outcome: 'retry-later', transport: 'sns', reason: expect.stringContaining('push-to-start budget spent (2 starts per 10 min on this device)') }]);
    expect(deferred.devices[w.deviceIds[0]!]).toEqual({ environment: 'sandbox', sentSeq: 0, startDeferredUntil: T0 + worldCounter * 86_400 + 600 });
    expect(deferred.dueAt).toBe(T0 + worldCounter * 86_400 + 600);
    expect(opsWhileDeferred.filter((op) => op === 'UpdateItem')).toEqual([]);
    expect(sweep.errors).toBe(0);
    const starts = w.push.of(idC, 'start');
    expect(starts).toHaveLength(1);
    expect(starts[0]!.payload.aps['content-state'].status).toBe('processing');
    const events = await w.deps.activities.listEvents(w.inspector.id, { limit: 20 });
    expect(events.items.some((e) => e.activityId === idC && e.pushes.some((p) => p.outcome === 'retry-later' && /push-to-start budget/.test(p.reason ?? '')))).toBe(true);
  });
});

describe('token lifecycle', () => {
  test('a rotated update token is released; a retired one stops the device until a new token re-enables it', async () => {
    // Prepare
    const w = await world();
    await w.webhook('life1', 'starting');
    const activityId = activityIdFor(w.inspector.id, 'life1');
    const deviceId = w.deviceIds[0]!;
    await registerActivityToken(w.deps, { deviceId, activityId, token: '11'.repeat(40) });

    // Act 1: rotation
    w.clock.now += 10_000;
    await w.webhook('life1', 'processing', { logs: 'x' });
    await registerActivityToken(w.deps, { deviceId, activityId, token: '22'.repeat(40) });
    // Act 2: APNs retires the new token on the next update
    w.push.answer = (m) => (m.target.token === '22'.repeat(40) ? { outcome: 'retire-token', transport: 'sns', reason: 'EndpointDisabledException: Endpoint is disabled' } : { outcome: 'sent', transport: 'sns' });
    w.clock.now += 10_000;
    await w.webhook('life1', 'processing', { logs: 'xy' });
    const retired = (await w.activity('life1')).devices[deviceId]!;
    w.clock.now += 10_000;
    await w.webhook('life1', 'processing', { logs: 'xyz' });
    const toDeadToken = w.push.sent.filter((m) => m.target.token === '22'.repeat(40)).length;
    // Act 3: the app reports a fresh token
    const revived = await registerActivityToken(w.deps, { deviceId, activityId, token: '33'.repeat(40) });

    // Assert
    expect(w.push.released).toEqual([
      { deviceId, environment: 'sandbox', token: '11'.repeat(40), tokenKind: 'update' },
      { deviceId, environment: 'sandbox', token: '22'.repeat(40), tokenKind: 'update' },
    ]);
    expect(retired.stopped).toBe('update token retired: EndpointDisabledException: Endpoint is disabled');
    expect(retired.token).toBeUndefined();
    expect(toDeadToken).toBe(1);
    expect(revived.pushes).toEqual([{ deviceId, kind: 'update', outcome: 'sent', transport: 'sns' }]);
    expect((await w.activity('life1')).devices[deviceId]!.stopped).toBeUndefined();
  });

  test('the ended device\'s update token is released by the sweeper after the grace period', async () => {
    // Prepare
    const w = await world();
    await w.webhook('life2', 'starting');
    const activityId = activityIdFor(w.inspector.id, 'life2');
    const deviceId = w.deviceIds[0]!;
    await registerActivityToken(w.deps, { deviceId, activityId, token: '44'.repeat(40) });
    w.clock.now += 30_000;
    await w.webhook('life2', 'succeeded', { output: ['https://replicate.delivery/x.webp'], completed_at: '2026-06-01T12:00:30.000Z' });
    const ended = await w.activity('life2');

    // Act
    w.clock.now = ended.dueAt! * 1000;
    await runSweep(w.deps.sweep);

    // Assert
    expect(w.push.of(activityId).map((m) => m.kind)).toEqual(['start', 'end']);
    expect(ended.dueAt).toBe(ended.devices[deviceId]!.releaseAt);
    expect(ended.devices[deviceId]!.releaseAt! - Math.floor(ended.lastEventAt)).toBe(RELEASE_AFTER_END_SECONDS);
    // (the store is shared between tests: the sweeper also visits other tests' activities)
    expect(w.push.released.filter((t) => t.deviceId === deviceId)).toEqual([{ deviceId, environment: 'sandbox', token: '44'.repeat(40), tokenKind: 'update' }]);
    const after = await w.activity('life2');
    expect(after.devices[deviceId]!.token).toBeUndefined();
    expect(after.dueAt).toBeUndefined();
  });

  test('a rotated push-to-start token is replaced on the device and the old one released', async () => {
    // Prepare
    const w = await world();
    const deviceId = w.deviceIds[0]!;
    const old = (await w.deps.keys.getDevice(deviceId))!.pushToStartToken!;

    // Act
    const updated = await updateDevice(w.deps, deviceId, { pushToStartToken: 'EF'.repeat(32) });
    await w.webhook('life3', 'starting');

    // Assert
    expect(updated.pushToStartToken).toBe('ef'.repeat(32));
    expect(w.push.released).toEqual([{ deviceId, environment: 'sandbox', token: old, tokenKind: 'push-to-start' }]);
    expect(w.push.of(activityIdFor(w.inspector.id, 'life3'), 'start')[0]!.target.token).toBe('ef'.repeat(32));
  });
});
