/**
 * Fault injection at the adapter seams, against the embedded DynamoDB-compatible store.
 *
 * Two "containers" share the tables: A on a healthy client (it plays the earlier webhooks and
 * the phone's token reports), B on a client whose requests pass a fault hook below the SDK's
 * retries (test/helpers/store-faults.ts). Webhooks go through the real HTTP route
 * (createApp + addWebhookRoutes). Pushes go to a scripted sender that can answer, fail, throw or
 * never answer per device.
 *
 * What must hold: a webhook whose state could not be saved answers 503 with Retry-After and
 * leaves nothing behind (no state, no push, no log line), and Replicate's retry of the terminal
 * event converges to one `end` per device; transient throttling is absorbed by the SDK's own
 * retries; a lost race re-reads; a push that fails is visible in the events log, its state is
 * saved, and the sweeper delivers it exactly once, after the right pause.
 */
import { PUSH_TIMEOUT_MS } from '../../lambda/core/deliver-pushes';
import { generateKeyPairSync, randomBytes } from 'node:crypto';
import type { Hono } from 'hono';
import { UpdateCommand } from '@aws-sdk/lib-dynamodb';
import { createApnsPushSender } from '../../lambda/adapters/push/apns-push-sender';
import { composeDeps, type ComposedDeps } from '../../lambda/compose';
import { activityIdFor, type ActivityRecord } from '../../lambda/core/activity';
import { registerActivityToken } from '../../lambda/core/activity-token';
import { createInspector, registerDevice } from '../../lambda/core/directory';
import { MAX_ATTEMPTS } from '../../lambda/core/ingest-webhook';
import type { Log } from '../../lambda/core/log';
import type { PushMessage, PushResult, PushSender, PushTarget } from '../../lambda/core/push-port';
import type { EventEntry, Inspector, Versioned } from '../../lambda/core/store-ports';
import { runSweep } from '../../lambda/core/sweeper';
import { createApp, type AppEnv } from '../../lambda/http/context';
import { addWebhookRoutes } from '../../lambda/http/webhook-routes';
import { startEmbeddedDynamo, type EmbeddedDynamo } from '../../local/embedded-dynamo';
import { startFakeApnsServer, type FakeApnsServer, type ScriptedResponse } from '../helpers/fake-apns-server';
import { faultyStore, STORE_FAULTS, type FaultyStore, type StoreFaultName } from '../helpers/store-faults';

const T0_MS = Date.parse('2026-06-01T12:00:00Z');
const BUNDLE_ID = 'dev.chirp.faults';
const TAG_SECRET = 'faults-tag-secret';

/** A push transport whose answer is scripted per message; records every attempt and its answer. */
class ScriptedPush implements PushSender {
  readonly transport = 'apns' as const;
  readonly attempts: { message: PushMessage; result: PushResult | 'threw' | 'no answer' }[] = [];
  readonly released: PushTarget[] = [];
  script: (message: PushMessage) => PushResult | Promise<PushResult> = () => ({ outcome: 'sent', transport: 'apns' });

  async send(message: PushMessage): Promise<PushResult> {
    const attempt: ScriptedPush['attempts'][number] = { message: structuredClone(message), result: 'no answer' };
    this.attempts.push(attempt);
    try {
      attempt.result = await this.script(message);
    } catch (err) {
      attempt.result = 'threw';
      throw err;
    }
    return attempt.result;
  }

  async release(target: PushTarget): Promise<void> {
    this.released.push(target);
  }

  /** Pushes of this kind the transport accepted for the device. */
  delivered(deviceId: string, kind: PushMessage['kind']): PushMessage[] {
    return this.attempts.filter((a) => a.message.target.deviceId === deviceId && a.message.kind === kind && a.result !== 'threw' && a.result !== 'no answer' && a.result.outcome === 'sent').map((a) => a.message);
  }

  /** Every attempt of this kind for the device, whatever the answer. */
  tried(deviceId: string, kind: PushMessage['kind']): number {
    return this.attempts.filter((a) => a.message.target.deviceId === deviceId && a.message.kind === kind).length;
  }
}

/** A log that keeps its lines (to show a failure is visible to operators). */
function recordingLog(): Log & { lines: { level: string; message: string; extra?: Record<string, unknown> }[] } {
  const lines: { level: string; message: string; extra?: Record<string, unknown> }[] = [];
  const at = (level: string) => (message: string, extra?: Record<string, unknown>) => {
    lines.push({ level, message, ...(extra ? { extra } : {}) });
  };
  return { lines, debug: at('debug'), info: at('info'), warn: at('warn'), error: at('error') };
}

interface HttpAnswer {
  status: number;
  retryAfter: string | null;
  json: { ok?: boolean; outcome?: string; pushes?: { deviceId: string; kind: string; outcome: string; reason?: string; status?: number }[]; error?: { code: string; message: string } };
}

interface World {
  clock: { now: number; advance(seconds: number): void };
  push: ScriptedPush;
  log: ReturnType<typeof recordingLog>;
  /** Container A: healthy client. */
  a: ComposedDeps;
  /** Container B: the fault-injecting client. */
  b: ComposedDeps;
  store: FaultyStore;
  inspector: Inspector;
  deviceIds: [string, string];
  jobId: string;
  activityId: string;
  /** POSTs a snapshot of this world's job to container A's or B's webhook route. */
  deliver(via: 'a' | 'b', webhookId: string, status: string, extra?: Record<string, unknown>): Promise<HttpAnswer>;
  /** Both phones report their activity's update token (through container A). */
  reportTokens(): Promise<void>;
  /** The update token each phone reported. */
  tokens: Map<string, string>;
  /** The activity as the table holds it now (no cache). */
  saved(): Promise<Versioned<ActivityRecord>>;
  /** The inspector's events log, newest first. */
  events(): Promise<EventEntry[]>;
}

let dynamo: EmbeddedDynamo;
const cleanups: (() => void)[] = [];
let worlds = 0;

beforeAll(async () => {
  dynamo = await startEmbeddedDynamo();
});

afterEach(() => {
  for (const cleanup of cleanups.splice(0)) cleanup();
});

afterAll(async () => {
  await dynamo.close();
});

function snapshotBody(jobId: string, status: string, extra: Record<string, unknown> = {}): string {
  return JSON.stringify({
    id: jobId,
    model: 'black-forest-labs/flux-dev',
    version: 'hidden',
    input: { prompt: 'never on the card' },
    status,
    created_at: '2026-06-01T11:59:58.000Z',
    started_at: status === 'starting' ? null : '2026-06-01T12:00:00.000Z',
    completed_at: ['succeeded', 'failed', 'canceled'].includes(status) ? '2026-06-01T12:01:30.000Z' : null,
    output: null,
    logs: '',
    error: null,
    urls: { web: `https://replicate.com/p/${jobId}` },
    ...extra,
  });
}

function app(deps: ComposedDeps, log: Log): Hono<AppEnv> {
  const http = createApp({ ...log, child: () => log });
  addWebhookRoutes(http, () => Promise.resolve(deps));
  return http;
}

async function world(options: { maxAttempts: number }): Promise<World> {
  worlds += 1;
  const clock = {
    now: T0_MS + worlds * 86_400_000,
    advance(seconds: number) {
      this.now += seconds * 1000;
    },
  };
  const push = new ScriptedPush();
  const log = recordingLog();
  const store = faultyStore(dynamo.endpoint, options);
  cleanups.push(() => store.destroy());
  const compose = (client: FaultyStore['client']): ComposedDeps =>
    composeDeps({
      client,
      activityTable: dynamo.tables.activity,
      keyTable: dynamo.tables.key,
      push,
      log,
      tagSecret: TAG_SECRET,
      bundleId: BUNDLE_ID,
      clock: () => clock.now,
      startBudget: { maxStarts: 100, windowSeconds: 3600 },
    });
  const a = compose(dynamo.client);
  const b = compose(store.client);
  const phones = await Promise.all(['one', 'two'].map((name) => registerDevice(a, { name: `${name} ${worlds}`, environment: 'sandbox', pushToStartToken: randomBytes(32).toString('hex') })));
  const deviceIds: [string, string] = [phones[0]!.device.id, phones[1]!.device.id];
  const { inspector, key } = await createInspector(a, { name: `faults ${worlds}`, deviceIds, coalesceSeconds: 5 });
  const jobId = `faultjob${worlds}`;
  const activityId = activityIdFor(inspector.id, jobId);
  const apps = { a: app(a, log), b: app(b, log) };
  const tokens = new Map<string, string>();
  return {
    clock,
    push,
    log,
    a,
    b,
    store,
    inspector,
    deviceIds,
    jobId,
    activityId,
    tokens,
    async deliver(via, webhookId, status, extra = {}) {
      const response = await apps[via].request(`/v1/webhooks/replicate?key=${encodeURIComponent(key)}`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', 'webhook-id': webhookId },
        body: snapshotBody(jobId, status, extra),
      });
      return { status: response.status, retryAfter: response.headers.get('retry-after'), json: (await response.json()) as HttpAnswer['json'] };
    },
    async reportTokens() {
      for (const deviceId of deviceIds) {
        tokens.set(deviceId, randomBytes(40).toString('hex'));
        await registerActivityToken(a, { deviceId, activityId, token: tokens.get(deviceId)! });
      }
    },
    async saved() {
      const found = await a.sweep.activities.get(activityId);
      if (!found) throw new Error('activity not saved');
      return found;
    },
    async events() {
      return (await a.activities.listEvents(inspector.id, { limit: 100 })).items;
    },
  };
}

/** A job started on both phones, their tokens reported, and one output shown: ready for its terminal event. */
async function runningJob(w: World): Promise<void> {
  expect((await w.deliver('a', 'msg_start', 'starting')).status).toBe(200);
  await w.reportTokens();
  w.clock.advance(10);
  expect((await w.deliver('a', 'msg_out', 'processing', { output: ['https://replicate.delivery/x/out-0.webp'] })).status).toBe(200);
  w.clock.advance(10);
}

const SUCCEEDED = { output: ['https://replicate.delivery/x/out-0.webp', 'https://replicate.delivery/x/out-1.webp'], metrics: { predict_time: 88.1 } };

function expectOneGreenEndEach(w: World): void {
  for (const deviceId of w.deviceIds) {
    const ends = w.push.delivered(deviceId, 'end');
    expect(ends).toHaveLength(1);
    expect(ends[0]!.payload.aps['content-state']).toMatchObject({ status: 'succeeded', detail: '2 images' });
  }
}

describe('the store fails while a terminal webhook is saved', () => {
  const cases: [StoreFaultName, 'GetItem' | 'PutItem'][] = (Object.keys(STORE_FAULTS) as StoreFaultName[]).flatMap((fault) => [
    [fault, 'GetItem'],
    [fault, 'PutItem'],
  ]);

  test.each(cases)('%s on the activity %s: 503 with Retry-After, nothing half-written, and Replicate\'s retry converges', async (fault, operation) => {
    // prepare: container B is cold (it must read the activity) and its client makes one attempt
    const w = await world({ maxAttempts: 1 });
    await runningJob(w);
    const before = await w.saved();
    const attemptsBefore = w.push.attempts.length;
    w.store.fault = (r) => (r.operation === operation && r.pk === `ACT#${w.activityId}` ? { fail: STORE_FAULTS[fault]() } : undefined);

    // act: the terminal event fails; the store recovers; Replicate retries it (same webhook-id), twice
    const failed = await w.deliver('b', 'msg_done', 'succeeded', SUCCEEDED);
    w.store.fault = undefined;
    const afterFailure = { activity: await w.saved(), events: await w.events(), attempts: w.push.attempts.length };
    const retried = await w.deliver('b', 'msg_done', 'succeeded', SUCCEEDED);
    const again = await w.deliver('b', 'msg_done', 'succeeded', SUCCEEDED);

    // assert: the failure reached the core and was answered 503 store_unavailable with Retry-After
    expect(w.store.injected).toEqual([{ operation, pk: `ACT#${w.activityId}` }]);
    expect(failed).toMatchObject({ status: 503, retryAfter: '1', json: { error: { code: 'store_unavailable', message: expect.any(String) } } });
    // nothing half-written: same activity and version, no push, no events-log line for it
    expect(afterFailure.activity).toEqual(before);
    expect(afterFailure.attempts).toBe(attemptsBefore);
    expect(afterFailure.events.filter((e) => e.webhookId === 'msg_done')).toEqual([]);
    // the retry converges, and the one after it is a duplicate
    expect(retried).toMatchObject({ status: 200, json: { outcome: 'applied' } });
    expect(again).toMatchObject({ status: 200, json: { outcome: 'duplicate' } });
    expect((await w.saved()).value.job.status).toBe('succeeded');
    expectOneGreenEndEach(w);
    expect((await w.events()).filter((e) => e.webhookId === 'msg_done' && e.outcome === 'applied')).toHaveLength(1);
  });

  test('transient throttling is absorbed by the SDK\'s own retries: 200 and one end per device', async () => {
    // prepare: the SDK's default of 3 attempts; the first two writes of the activity are throttled
    const w = await world({ maxAttempts: 3 });
    await runningJob(w);
    let throttles = 2;
    w.store.fault = (r) => (r.operation === 'PutItem' && r.pk === `ACT#${w.activityId}` && throttles-- > 0 ? { fail: STORE_FAULTS.throttled() } : undefined);

    // act
    const done = await w.deliver('b', 'msg_done', 'succeeded', SUCCEEDED);

    // assert: three attempts at the wire, one accepted write, one end each
    expect(w.store.injected).toHaveLength(2);
    expect(w.store.requests.filter((r) => r.operation === 'PutItem' && r.pk === `ACT#${w.activityId}`)).toHaveLength(3);
    expect(done).toMatchObject({ status: 200, json: { outcome: 'applied' } });
    expect((await w.saved()).value.job.status).toBe('succeeded');
    expectOneGreenEndEach(w);
  });

  test.each([1, 3])('the activity write lands but its answer is lost (a reset connection, %i SDK attempt(s)): 200 and one end per device', async (maxAttempts) => {
    // prepare: the first write of the activity reaches the store, then the connection drops
    const w = await world({ maxAttempts });
    await runningJob(w);
    let lost = 1;
    w.store.fault = (r) => (r.operation === 'PutItem' && r.pk === `ACT#${w.activityId}` && lost-- > 0 ? { loseAnswer: STORE_FAULTS['a reset connection']() } : undefined);

    // act
    const done = await w.deliver('b', 'msg_done', 'succeeded', SUCCEEDED);
    const retried = await w.deliver('b', 'msg_done', 'succeeded', SUCCEEDED);

    // assert: the write is recognised as ours, so the pushes it recorded go out (once)
    expect(w.store.injected).toHaveLength(1);
    expect(done).toMatchObject({ status: 200, json: { outcome: 'applied' } });
    expect(retried).toMatchObject({ status: 200, json: { outcome: 'duplicate' } });
    expect((await w.saved()).value.job.status).toBe('succeeded');
    expectOneGreenEndEach(w);
  });

  test('a failing events log never fails the webhook: 200, state saved, one end each, a warning logged', async () => {
    // prepare
    const w = await world({ maxAttempts: 1 });
    await runningJob(w);
    w.store.fault = (r) => (r.operation === 'PutItem' && r.pk === `EVT#${w.inspector.id}` ? { fail: STORE_FAULTS.throttled() } : undefined);

    // act
    const done = await w.deliver('b', 'msg_done', 'succeeded', SUCCEEDED);

    // assert
    expect(w.store.injected.length).toBeGreaterThan(0);
    expect(done).toMatchObject({ status: 200, json: { outcome: 'applied' } });
    expect((await w.saved()).value.job.status).toBe('succeeded');
    expectOneGreenEndEach(w);
    expect(w.log.lines).toContainEqual(expect.objectContaining({ level: 'warn', message: 'could not append to the events log' }));
  });
});

describe('a conditional write loses a race', () => {
  test('another container lands an output between our read and our write: we re-read, and the final state is right', async () => {
    // prepare: while B's write of the terminal event is on its way, A applies a newer output
    const w = await world({ maxAttempts: 1 });
    await runningJob(w);
    let races = 1;
    let rival: HttpAnswer | undefined;
    w.store.fault = (r) =>
      r.operation === 'PutItem' && r.pk === `ACT#${w.activityId}` && races-- > 0
        ? { before: async () => { rival = await w.deliver('a', 'msg_out2', 'processing', { output: ['https://replicate.delivery/x/out-0.webp', 'https://replicate.delivery/x/out-1.webp'] }); } }
        : undefined;
    const versionBefore = (await w.saved()).version;

    // act
    const done = await w.deliver('b', 'msg_done', 'succeeded', SUCCEEDED);

    // assert: both writers' events applied, in the order the table saw them; one end each
    expect(w.store.injected).toHaveLength(1);
    expect(rival).toMatchObject({ status: 200, json: { outcome: 'applied' } });
    expect(done).toMatchObject({ status: 200, json: { outcome: 'applied' } });
    const saved = await w.saved();
    expect(saved.version).toBe(versionBefore + 2);
    expect(saved.value.job.status).toBe('succeeded');
    expect(saved.value.recentWebhookIds).toHaveLength(4);
    const applied = (await w.events()).filter((e) => e.outcome === 'applied').map((e) => e.webhookId);
    expect(applied.slice(0, 2)).toEqual(['msg_done', 'msg_out2']);
    expectOneGreenEndEach(w);
  });

  test(`a race lost ${MAX_ATTEMPTS} times in a row answers 503 with nothing of ours written; Replicate's retry converges`, async () => {
    // prepare: another writer bumps the item's version before every one of B's writes
    const w = await world({ maxAttempts: 1 });
    await runningJob(w);
    const bump = () => dynamo.client.send(new UpdateCommand({ TableName: dynamo.tables.activity, Key: { pk: `ACT#${w.activityId}`, sk: 'STATE' }, UpdateExpression: 'SET ver = ver + :one', ExpressionAttributeValues: { ':one': 1 } })).then(() => undefined);
    w.store.fault = (r) => (r.operation === 'PutItem' && r.pk === `ACT#${w.activityId}` ? { before: bump } : undefined);
    const before = await w.saved();
    const attemptsBefore = w.push.attempts.length;

    // act
    const failed = await w.deliver('b', 'msg_done', 'succeeded', SUCCEEDED);
    w.store.fault = undefined;
    const afterFailure = await w.saved();
    const attemptsAfterFailure = w.push.attempts.length;
    const retried = await w.deliver('b', 'msg_done', 'succeeded', SUCCEEDED);

    // assert: the core tried MAX_ATTEMPTS times, re-reading each time, then gave up with 503
    expect(w.store.injected).toHaveLength(MAX_ATTEMPTS);
    expect(failed).toMatchObject({ status: 503, retryAfter: '1', json: { error: { code: 'store_unavailable' } } });
    expect(afterFailure.version).toBe(before.version + MAX_ATTEMPTS);
    expect(afterFailure.value).toEqual(before.value);
    expect(attemptsAfterFailure).toBe(attemptsBefore);
    expect(retried).toMatchObject({ status: 200, json: { outcome: 'applied' } });
    expectOneGreenEndEach(w);
  });
});

const SENT: PushResult = { outcome: 'sent', transport: 'apns' };

describe('push transport failures', () => {
  const failures: [string, () => Promise<PushResult>, Record<string, unknown>][] = [
    ['answers retry-later (APNs 503)', async () => ({ outcome: 'retry-later', transport: 'apns', reason: 'ServiceUnavailable', status: 503 }), { outcome: 'retry-later', reason: 'ServiceUnavailable', status: 503 }],
    ['throws (a transport fault)', async () => { throw new Error('socket hang up'); }, { outcome: 'retry-later', reason: 'socket hang up' }],
  ];

  test.each(failures)('one device\'s transport %s: 200, the other gets its end, the failure is in the log, the state is saved, and the sweeper delivers it once after 30 s', async (_label, failure, recorded) => {
    // prepare
    const w = await world({ maxAttempts: 1 });
    await runningJob(w);
    const [good, bad] = w.deviceIds;
    w.push.script = (m) => (m.target.deviceId === bad && m.kind === 'end' ? failure() : SENT);
    const t = Math.floor(w.clock.now / 1000);

    // act: the terminal event, a sweep before the pause is over, then one after it with the transport healthy
    const done = await w.deliver('b', 'msg_done', 'succeeded', SUCCEEDED);
    const saved = await w.saved();
    w.clock.advance(29);
    await runSweep(w.a.sweep);
    const triedBeforePause = w.push.tried(bad, 'end');
    w.push.script = () => SENT;
    w.clock.advance(1);
    const sweep = await runSweep(w.a.sweep);
    w.clock.advance(3600);
    await runSweep(w.a.sweep);

    // assert: the webhook succeeded and says what happened per device
    expect(done).toMatchObject({ status: 200, json: { outcome: 'applied' } });
    expect(done.json.pushes).toEqual(expect.arrayContaining([expect.objectContaining({ deviceId: good, kind: 'end', outcome: 'sent' }), expect.objectContaining({ deviceId: bad, kind: 'end', ...recorded })]));
    // the events log shows the failure
    const logged = (await w.events()).find((e) => e.webhookId === 'msg_done')!;
    expect(logged.pushes).toEqual(expect.arrayContaining([expect.objectContaining({ deviceId: bad, kind: 'end', ...recorded })]));
    // the state was saved: final status, the good device ended, the failed one still owed its end at t+30
    expect(saved.value.job.status).toBe('succeeded');
    expect(saved.value.devices[good]).toMatchObject({ ended: true });
    expect(saved.value.devices[bad]!.ended).toBeUndefined();
    expect(saved.value.dueAt).toBe(t + 30);
    // not retried before its pause; then exactly once, by the sweeper, and recorded
    expect(triedBeforePause).toBe(1);
    expect(sweep.flushed).toBe(1);
    expect(w.push.tried(bad, 'end')).toBe(2);
    expect((await w.events()).find((e) => e.outcome === 'flushed')?.pushes).toEqual([expect.objectContaining({ deviceId: bad, kind: 'end', outcome: 'sent' })]);
    expectOneGreenEndEach(w);
  });

  test('a push that never gets an answer counts as retry-later after 10 s; the sweeper delivers it once', async () => {
    // prepare: the bad device's end hangs forever; timers are fake so the 10-s guard fires on demand
    const w = await world({ maxAttempts: 1 });
    await runningJob(w);
    const [, bad] = w.deviceIds;
    let hung!: () => void;
    const hanging = new Promise<void>((resolve) => {
      hung = resolve;
    });
    w.push.script = (m) => {
      if (m.target.deviceId !== bad || m.kind !== 'end') return SENT;
      hung();
      return new Promise<PushResult>(() => undefined);
    };

    // act
    jest.useFakeTimers({ doNotFake: ['nextTick', 'setImmediate', 'queueMicrotask', 'Date', 'hrtime', 'performance'] });
    let done: HttpAnswer;
    try {
      const pending = w.deliver('b', 'msg_done', 'succeeded', SUCCEEDED);
      await hanging;
      jest.advanceTimersByTime(PUSH_TIMEOUT_MS);
      done = await pending;
    } finally {
      jest.useRealTimers();
    }
    w.push.script = () => SENT;
    w.clock.advance(30);
    await runSweep(w.a.sweep);

    // assert
    expect(done).toMatchObject({ status: 200, json: { outcome: 'applied' } });
    expect(done.json.pushes).toContainEqual(expect.objectContaining({ deviceId: bad, kind: 'end', outcome: 'retry-later', reason: `no answer within ${PUSH_TIMEOUT_MS} ms` }));
    expect(w.push.tried(bad, 'end')).toBe(2);
    expectOneGreenEndEach(w);
  });

  test('a fix-config answer is visible and is not retried before its 15-minute pause', async () => {
    // prepare
    const w = await world({ maxAttempts: 1 });
    await runningJob(w);
    const [, bad] = w.deviceIds;
    w.push.script = (m) => (m.target.deviceId === bad && m.kind === 'end' ? { outcome: 'fix-config', transport: 'apns', reason: 'BadTopic', status: 400 } : SENT);

    // act: sweeps at +31 s and +899 s find nothing to do for it; at +900 s it goes (config fixed)
    const done = await w.deliver('b', 'msg_done', 'succeeded', SUCCEEDED);
    w.clock.advance(31);
    await runSweep(w.a.sweep);
    w.clock.advance(899 - 31);
    await runSweep(w.a.sweep);
    const triedBeforePause = w.push.tried(bad, 'end');
    w.push.script = () => SENT;
    w.clock.advance(1);
    await runSweep(w.a.sweep);

    // assert
    expect(done).toMatchObject({ status: 200, json: { outcome: 'applied' } });
    expect(done.json.pushes).toContainEqual(expect.objectContaining({ deviceId: bad, kind: 'end', outcome: 'fix-config', reason: 'BadTopic', status: 400 }));
    expect((await w.events()).find((e) => e.webhookId === 'msg_done')?.pushes).toContainEqual(expect.objectContaining({ deviceId: bad, outcome: 'fix-config', reason: 'BadTopic' }));
    expect(triedBeforePause).toBe(1);
    expect(w.push.tried(bad, 'end')).toBe(2);
    expectOneGreenEndEach(w);
  });
});

describe('through the real APNs transport (a fake APNs over HTTP/2 and TLS on loopback)', () => {
  let apns: FakeApnsServer;
  let sender: PushSender;

  beforeAll(async () => {
    const { privateKey, publicKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' });
    apns = await startFakeApnsServer({ publicKey, keyId: 'FAULTKEY01', teamId: 'FAULTTEAM1', bundleId: BUNDLE_ID });
    const keyPem = privateKey.export({ type: 'pkcs8', format: 'pem' }).toString();
    sender = createApnsPushSender({ keyPem, keyId: 'FAULTKEY01', teamId: 'FAULTTEAM1', endpoint: apns.endpoint, extraCaPem: apns.caPem, requestTimeoutMs: 1000 });
  });

  afterAll(async () => {
    await sender.close?.();
    await apns.close();
  });

  /** HTTP statuses of the `end` pushes that reached the fake APNs for this token. */
  function endsTo(token: string): number[] {
    return apns.requestsFor(token).filter((r) => (r.json as { aps?: { event?: string } } | undefined)?.aps?.event === 'end').map((r) => r.status);
  }

  test('APNs retires one device\'s token (410 Unregistered) while the other device gets its end: never retried into the dead token', async () => {
    // prepare
    const w = await world({ maxAttempts: 1 });
    w.push.script = (m) => sender.send(m);
    await runningJob(w);
    const [good, bad] = w.deviceIds;
    const deadToken = w.tokens.get(bad)!;
    apns.respond(deadToken, { status: 410, reason: 'Unregistered' });

    // act: the terminal event, then sweeps well past every retry pause
    const done = await w.deliver('b', 'msg_done', 'succeeded', SUCCEEDED);
    for (const seconds of [30, 900, 3600]) {
      w.clock.advance(seconds);
      await runSweep(w.a.sweep);
    }

    // assert
    expect(done).toMatchObject({ status: 200, json: { outcome: 'applied' } });
    expect(done.json.pushes).toEqual(expect.arrayContaining([
      expect.objectContaining({ deviceId: good, kind: 'end', outcome: 'sent' }),
      expect.objectContaining({ deviceId: bad, kind: 'end', outcome: 'retire-token', reason: 'Unregistered', status: 410 }),
    ]));
    expect((await w.events()).find((e) => e.webhookId === 'msg_done')?.pushes).toContainEqual(expect.objectContaining({ deviceId: bad, outcome: 'retire-token', status: 410 }));
    const device = (await w.saved()).value.devices[bad]!;
    expect(device.stopped).toMatch(/^update token retired: Unregistered/);
    expect(device.token).toBeUndefined();
    expect(w.push.released).toContainEqual(expect.objectContaining({ deviceId: bad, token: deadToken, tokenKind: 'update' }));
    expect(endsTo(deadToken)).toEqual([410]);
    expect(w.push.tried(bad, 'end')).toBe(1);
    expect(w.push.delivered(good, 'end')).toHaveLength(1);
  });

  const transient: [string, ScriptedResponse, string][] = [
    ['500 InternalServerError', { status: 500, reason: 'InternalServerError' }, 'InternalServerError'],
    ['a reset HTTP/2 stream', { status: 200, resetStream: true }, 'network: '],
    ['no answer within the request timeout', { status: 200, delayMs: 5000 }, 'network: '],
  ];

  test.each(transient)('APNs answers one device\'s end with %s: retry-later in the log, the other device unaffected, the sweeper delivers it once', async (_label, response, reason) => {
    // prepare
    const w = await world({ maxAttempts: 1 });
    w.push.script = (m) => sender.send(m);
    await runningJob(w);
    const [good, bad] = w.deviceIds;
    const token = w.tokens.get(bad)!;
    apns.respondOnce(token, response);

    // act
    const done = await w.deliver('b', 'msg_done', 'succeeded', SUCCEEDED);
    w.clock.advance(30);
    await runSweep(w.a.sweep);
    w.clock.advance(3600);
    await runSweep(w.a.sweep);

    // assert
    expect(done).toMatchObject({ status: 200, json: { outcome: 'applied' } });
    const failure = done.json.pushes?.find((p) => p.deviceId === bad);
    expect(failure).toMatchObject({ kind: 'end', outcome: 'retry-later' });
    expect(failure?.reason?.startsWith(reason)).toBe(true);
    expect((await w.events()).find((e) => e.webhookId === 'msg_done')?.pushes).toContainEqual(expect.objectContaining({ deviceId: bad, outcome: 'retry-later' }));
    expect(w.push.delivered(good, 'end')).toHaveLength(1);
    // two `end` requests reached APNs for it: the one that failed and the sweeper's
    expect(endsTo(token)).toHaveLength(2);
    expectOneGreenEndEach(w);
  });
});
