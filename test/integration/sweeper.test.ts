/**
 * The sweeper against the embedded DynamoDB-compatible store, with an injected clock, a
 * recording push sender and a fake Replicate API on 127.0.0.1. Jobs are started the real way
 * (a webhook through ingestWebhook, then the phone reporting its update token), and then go
 * quiet; the sweeper is run whenever the activity says it is due, like the schedule would.
 */
import { DynamoActivityStore } from '../../lambda/adapters/dynamo/dynamo-activity-store';
import { createReplicateApi } from '../../lambda/adapters/replicate-api';
import { composeDeps, composeSweepDeps, type ComposedDeps } from '../../lambda/compose';
import { activityIdFor, type ActivityRecord } from '../../lambda/core/activity';
import { registerActivityToken } from '../../lambda/core/activity-token';
import { cardColor } from '../../lambda/core/card';
import { createInspector, registerDevice, revokeInspector } from '../../lambda/core/directory';
import { ingestWebhook, type IngestResult } from '../../lambda/core/ingest-webhook';
import { silentLog } from '../../lambda/core/log';
import type { ContentState } from '../../lambda/core/live-activity';
import { END_BEFORE_SECONDS } from '../../lambda/core/push-policy';
import type { PushMessage, PushResult, PushSender } from '../../lambda/core/push-port';
import type { ActivityStore, EventEntry } from '../../lambda/core/store-ports';
import { API_GRACE_SECONDS, runSweep, type SweepDeps, type SweepResult } from '../../lambda/core/sweeper';
import { addApiRoutes } from '../../lambda/http/api-routes';
import { createApp, type RequestLogger } from '../../lambda/http/context';
import { startEmbeddedDynamo, type EmbeddedDynamo } from '../../local/embedded-dynamo';
import { startFakeReplicateApi, type FakeAnswer, type FakeReplicateApi } from '../helpers/fake-replicate-api';
import { startHarness } from '../helpers/local-harness';
import { barrier, gatedStore } from '../helpers/race';

const T0_MS = Date.parse('2026-06-01T12:00:00Z');
const T0 = T0_MS / 1000;
const HOUR = 3600;
const TOKEN = 'r8_sweeperTestToken000000000000';
const ADMIN = 'chirp_admin_sweeper_test';

class RecordingPush implements PushSender {
  readonly transport = 'apns' as const;
  readonly sent: PushMessage[] = [];

  async send(message: PushMessage): Promise<PushResult> {
    this.sent.push(structuredClone(message));
    return { outcome: 'sent', transport: this.transport };
  }

  of(activityId: string, kind?: PushMessage['kind']): PushMessage[] {
    return this.sent.filter((m) => m.activityId === activityId && (kind === undefined || m.kind === kind));
  }

  endsPerDevice(activityId: string): Record<string, number> {
    const counts: Record<string, number> = {};
    for (const m of this.of(activityId, 'end')) counts[m.target.deviceId] = (counts[m.target.deviceId] ?? 0) + 1;
    return counts;
  }
}

function iso(epochSeconds: number): string {
  return new Date(epochSeconds * 1000).toISOString();
}

/** A Replicate prediction (or training) object as a webhook body or an API answer. */
function job(id: string, overrides: Record<string, unknown> = {}, kind: 'predictions' | 'trainings' = 'predictions'): Record<string, unknown> {
  return {
    id,
    model: 'meta/meta-llama-3-8b-instruct',
    version: 'hidden',
    input: { prompt: 'SECRET PROMPT' },
    urls: { get: `https://api.replicate.com/v1/${kind}/${id}`, web: `https://replicate.com/p/${id}` },
    ...(kind === 'trainings' ? { destination: 'acme/fine-tuned' } : {}),
    created_at: iso(T0 - 2),
    started_at: iso(T0 - 1),
    completed_at: null,
    status: 'processing',
    output: null,
    logs: '',
    error: null,
    metrics: {},
    ...overrides,
  };
}

function state(message: PushMessage): ContentState {
  return message.payload.aps['content-state'];
}

describe('sweeper', () => {
  let api: FakeReplicateApi;
  let dynamo: EmbeddedDynamo;
  let clock: { now: number };
  let push: RecordingPush;
  let deps: ComposedDeps;

  beforeAll(async () => {
    api = await startFakeReplicateApi();
  });

  afterAll(async () => {
    await api.close();
  });

  beforeEach(async () => {
    dynamo = await startEmbeddedDynamo();
    clock = { now: T0_MS };
    push = new RecordingPush();
    deps = composeDeps({
      client: dynamo.client,
      activityTable: dynamo.tables.activity,
      keyTable: dynamo.tables.key,
      push,
      log: silentLog,
      tagSecret: 'sweeper-test-tag-secret',
      bundleId: 'dev.chirp.test',
      clock: () => clock.now,
      cacheTtlMs: 0,
      // A short timeout keeps the "Replicate never answers" case quick.
      replicate: createReplicateApi({ baseUrl: api.url, timeoutMs: 200, clock: () => clock.now }),
    });
  });

  afterEach(async () => {
    api.reset();
    await dynamo.close();
  });

  // ───────────── helpers ─────────────

  function nowSeconds(): number {
    return Math.floor(clock.now / 1000);
  }

  function at(offsetSeconds: number): void {
    clock.now = T0_MS + offsetSeconds * 1000;
  }

  async function inspector(options: { token?: string; hangTimeoutMinutes?: number; devices?: number; coalesceSeconds?: number } = {}): Promise<{ id: string; key: string; deviceIds: string[] }> {
    const deviceIds: string[] = [];
    for (let i = 0; i < (options.devices ?? 1); i++) {
      const { device } = await registerDevice(deps, { name: `iPhone ${i}`, environment: 'sandbox', pushToStartToken: `${i}`.repeat(64).slice(0, 64).replace(/[^0-9]/g, 'a') });
      deviceIds.push(device.id);
    }
    const { inspector: created, key } = await createInspector(deps, {
      name: 'Sweeper test',
      deviceIds,
      ...(options.token ? { replicateApiToken: options.token } : {}),
      ...(options.hangTimeoutMinutes !== undefined ? { hangTimeoutMinutes: options.hangTimeoutMinutes } : {}),
      ...(options.coalesceSeconds !== undefined ? { coalesceSeconds: options.coalesceSeconds } : {}),
    });
    return { id: created.id, key, deviceIds };
  }

  async function webhook(key: string, body: Record<string, unknown>): Promise<IngestResult> {
    return ingestWebhook(deps, { key, rawBody: new TextEncoder().encode(JSON.stringify(body)), headers: {} });
  }

  /** Replicate's first webhook starts the card; each phone then reports the activity's update token. */
  async function startJob(insp: { id: string; key: string; deviceIds: string[] }, body: Record<string, unknown>): Promise<string> {
    await webhook(insp.key, body);
    const activityId = activityIdFor(insp.id, String(body.id));
    for (const deviceId of insp.deviceIds) {
      await registerActivityToken(deps, { deviceId, activityId, token: `${deviceId.replace(/[^0-9a-f]/g, '')}`.padEnd(64, 'e') });
    }
    return activityId;
  }

  async function stored(activityId: string): Promise<ActivityRecord> {
    const found = await deps.sweep.activities.get(activityId);
    if (!found) throw new Error(`no activity ${activityId}`);
    return found.value;
  }

  async function sweeperEvents(inspectorId: string): Promise<EventEntry[]> {
    const page = await deps.activities.listEvents(inspectorId, { limit: 100 });
    return page.items.filter((e) => e.source === 'sweeper').reverse();
  }

  function sweep(sweepDeps: SweepDeps = deps.sweep): Promise<SweepResult> {
    return runSweep(sweepDeps);
  }

  /**
   * Runs the sweeper each time the activity is due, up to `untilOffset` seconds after T0 (like the
   * schedule would), and returns the offsets at which Replicate was asked.
   */
  async function sweepWhileDue(activityId: string, untilOffset: number): Promise<number[]> {
    const asked: number[] = [];
    for (let guard = 0; guard < 100; guard++) {
      const dueAt = (await stored(activityId)).dueAt;
      if (dueAt === undefined || dueAt > T0 + untilOffset) break;
      clock.now = Math.max(clock.now, dueAt * 1000);
      const before = api.requests.length;
      await sweep();
      if (api.requests.length > before) asked.push(nowSeconds() - T0);
    }
    at(untilOffset);
    return asked;
  }

  // ───────────── reconciliation ─────────────

  it('reconciles a missed `completed` to succeeded with the real output: one green end', async () => {
    // Arrange
    const insp = await inspector({ token: TOKEN });
    const activityId = await startJob(insp, job('p_missed', { output: ['Hello'] }));
    api.answer('p_missed', { body: job('p_missed', { status: 'succeeded', output: ['Hello', ' world', '!'], completed_at: iso(T0 + 30), metrics: { predict_time: 29.5 } }) });
    // Act
    at(119);
    const early = await sweep();
    at(120);
    const result = await sweep();
    // Assert
    expect(early.visited).toBe(0);
    expect(result).toMatchObject({ visited: 1, reconciled: 1, expired: 0, errors: 0 });
    expect(api.requests).toEqual([{ method: 'GET', path: '/v1/predictions/p_missed', kind: 'predictions', id: 'p_missed', authorization: `Bearer ${TOKEN}` }]);
    const ends = push.of(activityId, 'end');
    expect(ends).toHaveLength(1);
    expect(state(ends[0]!)).toMatchObject({ status: 'succeeded', detail: 'Hello world!', predictTime: 29.5, endedAt: T0 + 30 });
    expect(cardColor(state(ends[0]!).status)).toBe('green');
    expect((await stored(activityId)).job.status).toBe('succeeded');
    const events = await sweeperEvents(insp.id);
    expect(events).toHaveLength(1);
    expect(events[0]).toMatchObject({ outcome: 'reconciled', transition: { from: 'processing', to: 'succeeded' }, jobId: 'p_missed' });
    expect(events[0]!.pushes.map((p) => p.kind)).toEqual(['end']);
  });

  it('ends a `failed` prediction red with its error', async () => {
    // Arrange
    const insp = await inspector({ token: TOKEN });
    const activityId = await startJob(insp, job('p_failed'));
    api.answer('p_failed', { body: job('p_failed', { status: 'failed', error: 'CUDA out of memory. Tried to allocate 2.00 GiB\nTraceback (most recent call last):', completed_at: iso(T0 + 40) }) });
    // Act
    at(120);
    await sweep();
    // Assert
    const ends = push.of(activityId, 'end');
    expect(ends).toHaveLength(1);
    expect(state(ends[0]!)).toMatchObject({ status: 'failed', error: 'CUDA out of memory. Tried to allocate 2.00 GiB' });
    expect(cardColor(state(ends[0]!).status)).toBe('red');
    expect(ends[0]!.payload.aps.alert?.title).toBe('Replicate · FAILED');
  });

  const apiErrors: [string, FakeAnswer, string, number[]][] = [
    ['401', { status: 401, body: { detail: 'Invalid token.' } }, 'HTTP 401', [120, 300, 900, 1800]],
    ['404', { status: 404, body: { detail: 'Not found.' } }, 'HTTP 404', [120, 300, 900, 1800]],
    ['429 with Retry-After: 600', { status: 429, body: { detail: 'Request was throttled.' }, headers: { 'retry-after': '600' } }, 'HTTP 429', [120, 720, 1320, 1920]],
    ['500', { status: 500, body: { detail: 'Internal server error' } }, 'HTTP 500', [120, 300, 900, 1800]],
    ['no answer (timeout)', { hang: true }, 'no answer within 200 ms', [120, 300, 900, 1800]],
  ];

  it.each(apiErrors)('Replicate answering %s: backs off, records the error, and leaves the card running before the hang timeout', async (_name, answer, reason, expectedAsks) => {
    // Arrange
    const insp = await inspector({ token: TOKEN });
    const activityId = await startJob(insp, job('p_err', { output: ['partial'] }));
    api.answer('p_err', answer);
    // Act
    const asked = await sweepWhileDue(activityId, HOUR - 1);
    // Assert
    expect(asked).toEqual(expectedAsks);
    expect(push.of(activityId, 'end')).toEqual([]);
    const record = await stored(activityId);
    expect(record.job.status).toBe('processing');
    expect(record.job.detail).toBe('partial');
    expect(record.reconcileAttempts).toBe(expectedAsks.length);
    const events = await sweeperEvents(insp.id);
    expect(events.map((e) => e.outcome)).toEqual(expectedAsks.map(() => 'reconciled'));
    for (const event of events) {
      expect(event.reason).toContain(reason);
      expect(event.transition).toBeUndefined();
      expect(JSON.stringify(event)).not.toContain(TOKEN);
    }
  });

  it.each([
    ['refuses the token (401): at the hang timeout', { status: 401, body: { detail: 'Invalid token.' } }, HOUR, 'HTTP 401'],
    ['keeps failing (500): after the grace period', { status: 500, body: {} }, HOUR + API_GRACE_SECONDS, 'HTTP 500'],
  ] as [string, FakeAnswer, number, string][])('when Replicate %s, the card ends grey as expired', async (_name, answer, endOffset, reason) => {
    // Arrange
    const insp = await inspector({ token: TOKEN });
    const activityId = await startJob(insp, job('p_quiet'));
    api.answer('p_quiet', answer);
    // Act
    await sweepWhileDue(activityId, endOffset - 1);
    const endsBefore = push.of(activityId, 'end').length;
    await sweepWhileDue(activityId, endOffset);
    // Assert
    expect(endsBefore).toBe(0);
    const ends = push.of(activityId, 'end');
    expect(ends).toHaveLength(1);
    expect(ends[0]!.payload.aps.timestamp).toBe(T0 + endOffset);
    expect(state(ends[0]!).status).toBe('expired');
    expect(state(ends[0]!).detail).toMatch(/^no word for 1h/);
    const expired = (await sweeperEvents(insp.id)).filter((e) => e.outcome === 'expired');
    expect(expired).toHaveLength(1);
    expect(expired[0]!.reason).toContain(reason);
  });

  it('keeps a job Replicate says is still running, past the hang timeout, asking less and less often', async () => {
    // Arrange
    const insp = await inspector({ token: TOKEN });
    const activityId = await startJob(insp, job('p_long', { output: ['x'] }));
    api.answer('p_long', { body: job('p_long', { output: ['x'] }) });
    // Act
    const asked = await sweepWhileDue(activityId, 3 * HOUR);
    // Assert
    expect(push.of(activityId, 'end')).toEqual([]);
    expect((await stored(activityId)).job.status).toBe('processing');
    expect(asked).toEqual([120, 300, 900, 1800, 3600, 3600 + API_GRACE_SECONDS, 10800]);
  });

  // ───────────── expiry without a token ─────────────

  it.each([
    ['the default (predictions: 60 min)', undefined, HOUR, 'no word for 1h'],
    ['10 minutes', 10, 600, 'no word for 10m'],
  ] as [string, number | undefined, number, string][])('without a token, hang timeout %s: expired after it and not before', async (_name, hangTimeoutMinutes, hangSeconds, detail) => {
    // Arrange
    const insp = await inspector(hangTimeoutMinutes === undefined ? {} : { hangTimeoutMinutes });
    const activityId = await startJob(insp, job('p_silent'));
    // Act
    at(hangSeconds - 1);
    const before = await sweep();
    at(hangSeconds);
    const after = await sweep();
    // Assert
    expect(before.visited).toBe(0);
    expect(after).toMatchObject({ visited: 1, expired: 1, reconciled: 0, errors: 0 });
    expect(api.requests).toEqual([]);
    const [start] = push.of(activityId, 'start');
    expect(start!.payload.aps['stale-date']).toBe(T0 + hangSeconds);
    const ends = push.of(activityId, 'end');
    expect(ends).toHaveLength(1);
    expect(state(ends[0]!)).toMatchObject({ status: 'expired', detail, endedAt: T0 + hangSeconds });
    expect(cardColor(state(ends[0]!).status)).toBe('grey');
    const events = await sweeperEvents(insp.id);
    expect(events).toHaveLength(1);
    expect(events[0]).toMatchObject({ outcome: 'expired', transition: { from: 'processing', to: 'expired' } });
    expect(events[0]!.reason).toContain(detail);
  });

  it('does not expire a quiet fine-tune started with ["start","completed"] early; the 8-hour rule ends it', async () => {
    // Arrange
    const insp = await inspector();
    const activityId = await startJob(insp, job('t_quiet', { status: 'starting', started_at: null, webhook_events_filter: ['start', 'completed'] }, 'trainings'));
    // Act
    const quietVisits: number[] = [];
    for (const offset of [HOUR, 3 * HOUR, 6 * HOUR, END_BEFORE_SECONDS - 1]) {
      at(offset);
      quietVisits.push((await sweep()).visited);
    }
    const endsWhileQuiet = push.of(activityId, 'end').length;
    at(END_BEFORE_SECONDS);
    const cutoff = await sweep();
    // Assert
    expect(quietVisits).toEqual([0, 0, 0, 0]);
    expect(endsWhileQuiet).toBe(0);
    expect(push.of(activityId, 'start')[0]!.payload.aps['stale-date']).toBe(T0 + END_BEFORE_SECONDS);
    expect(cutoff.expired).toBe(1);
    const ends = push.of(activityId, 'end');
    expect(ends).toHaveLength(1);
    expect(state(ends[0]!)).toMatchObject({ status: 'expired', detail: '8-hour limit' });
  });

  it('ends a job that keeps talking at the 8-hour cutoff, with its latest state', async () => {
    // Arrange: a slow job that reports a little every 50 minutes, so it never hangs
    const insp = await inspector();
    const activityId = await startJob(insp, job('p_marathon', { output: ['a'] }));
    const letters = 'abcdefghij';
    for (let step = 1; step * 50 * 60 < END_BEFORE_SECONDS; step++) {
      at(step * 50 * 60);
      await webhook(insp.key, job('p_marathon', { output: letters.slice(0, step + 1).split('') }));
      await sweep();
    }
    at(END_BEFORE_SECONDS - 1);
    await sweep();
    const latest = (await stored(activityId)).job.detail;
    const endsBefore = push.of(activityId, 'end').length;
    // Act
    at(END_BEFORE_SECONDS);
    const result = await sweep();
    // Assert
    expect(endsBefore).toBe(0);
    expect(latest).toBe('abcdefghij');
    expect(result.expired).toBe(1);
    const ends = push.of(activityId, 'end');
    expect(ends).toHaveLength(1);
    expect(state(ends[0]!)).toMatchObject({ status: 'expired', detail: '8-hour limit · abcdefghij' });
    const expired = (await sweeperEvents(insp.id)).filter((e) => e.outcome === 'expired');
    expect(expired[0]!.reason).toMatch(/^8-hour limit: still processing/);
  });

  it('at the 8-hour cutoff asks Replicate first: a training that just finished ends green, not grey', async () => {
    // Arrange
    const insp = await inspector({ token: TOKEN });
    const activityId = await startJob(insp, job('t_done', {}, 'trainings'));
    api.answer('t_done', { body: job('t_done', {}, 'trainings') });
    await sweepWhileDue(activityId, END_BEFORE_SECONDS - 1);
    api.answer('t_done', { body: job('t_done', { status: 'succeeded', output: { version: 'acme/fine-tuned:abc', weights: 'https://replicate.delivery/w.tar' }, completed_at: iso(T0 + END_BEFORE_SECONDS - 30) }, 'trainings') });
    // Act
    await sweepWhileDue(activityId, END_BEFORE_SECONDS);
    // Assert
    expect(api.requests.every((r) => r.path === '/v1/trainings/t_done')).toBe(true);
    const ends = push.of(activityId, 'end');
    expect(ends).toHaveLength(1);
    expect(ends[0]!.payload.aps.timestamp).toBe(T0 + END_BEFORE_SECONDS);
    expect(state(ends[0]!)).toMatchObject({ status: 'succeeded', detail: 'new version ready' });
  });

  // ───────────── flushing ─────────────

  it('flushes coalesced updates once their interval has passed, with the latest state', async () => {
    // Arrange: the start goes out at T0; two more tokens arrive within the 5-second interval
    const insp = await inspector({ coalesceSeconds: 5 });
    const activityId = await startJob(insp, job('p_stream', { output: ['Once'] }));
    at(1);
    await webhook(insp.key, job('p_stream', { output: ['Once', ' upon'] }));
    at(2);
    await webhook(insp.key, job('p_stream', { output: ['Once', ' upon', ' a time'] }));
    const updatesBefore = push.of(activityId, 'update').length;
    // Act (whole seconds: 5 s must surely have passed, so the interval ends at 5 + 1)
    at(5);
    const early = await sweep();
    at(6);
    const result = await sweep();
    // Assert
    expect(updatesBefore).toBe(0);
    expect(early.visited).toBe(0);
    expect(result).toMatchObject({ visited: 1, flushed: 1, expired: 0 });
    const updates = push.of(activityId, 'update');
    expect(updates).toHaveLength(1);
    expect(state(updates[0]!)).toMatchObject({ status: 'processing', detail: 'Once upon a time' });
    const events = await sweeperEvents(insp.id);
    expect(events.map((e) => e.outcome)).toEqual(['flushed']);
    expect(events[0]!.pushes.map((p) => p.kind)).toEqual(['update']);
  });

  // ───────────── concurrency ─────────────

  /** A second sweeper "container" on the same table. */
  function otherSweeper(): SweepDeps {
    return composeSweepDeps({
      client: dynamo.client,
      activityTable: dynamo.tables.activity,
      keyTable: dynamo.tables.key,
      push,
      log: silentLog,
      bundleId: 'dev.chirp.test',
      clock: () => clock.now,
      cacheTtlMs: 0,
      replicate: createReplicateApi({ baseUrl: api.url, timeoutMs: 2000 }),
    });
  }

  it('two overlapping runs send exactly one end per device', async () => {
    // Arrange: two sweeper containers that both read the activity before either writes
    const insp = await inspector({ devices: 2 });
    const activityId = await startJob(insp, job('p_overlap'));
    const gate = barrier(2);
    const table = (): ActivityStore => new DynamoActivityStore(dynamo.client, dynamo.tables.activity, () => nowSeconds());
    const first: SweepDeps = { ...deps.sweep, activities: gatedStore(table(), gate) };
    const second: SweepDeps = { ...otherSweeper(), activities: gatedStore(table(), gate) };
    at(HOUR);
    // Act
    const [a, b] = await Promise.all([sweep(first), sweep(second)]);
    const again = await sweep();
    // Assert
    expect(push.endsPerDevice(activityId)).toEqual({ [insp.deviceIds[0]!]: 1, [insp.deviceIds[1]!]: 1 });
    expect(a.expired + b.expired).toBe(1);
    expect(again.expired).toBe(0);
    expect((await sweeperEvents(insp.id)).filter((e) => e.outcome === 'expired')).toHaveLength(1);
  });

  it('two overlapping reconciliations apply Replicate\'s answer once', async () => {
    // Arrange
    const insp = await inspector({ token: TOKEN, devices: 2 });
    const activityId = await startJob(insp, job('p_overlap2'));
    api.answer('p_overlap2', { body: job('p_overlap2', { status: 'succeeded', output: ['done'], completed_at: iso(T0 + 60) }) });
    const hold = api.hold();
    at(120);
    // Act: both runs are waiting on Replicate before either applies its answer
    const runs = Promise.all([sweep(), sweep(otherSweeper())]);
    while (api.requests.length < 2) await new Promise((resolve) => setImmediate(resolve));
    hold.release();
    await runs;
    // Assert
    expect(api.requests).toHaveLength(2);
    expect(push.endsPerDevice(activityId)).toEqual({ [insp.deviceIds[0]!]: 1, [insp.deviceIds[1]!]: 1 });
    expect((await stored(activityId)).job.status).toBe('succeeded');
    const transitions = (await sweeperEvents(insp.id)).filter((e) => e.transition !== undefined);
    expect(transitions).toHaveLength(1);
  });

  it.each([
    ['the same final state', 'succeeded'],
    ['an older snapshot', 'processing'],
  ])('a webhook landing while the sweeper waits on Replicate (which answers with %s) wins: one end, consistent state', async (_name, apiStatus) => {
    // Arrange
    const insp = await inspector({ token: TOKEN, devices: 2 });
    const activityId = await startJob(insp, job('p_race', { output: ['Hi'] }));
    const final = job('p_race', { status: 'succeeded', output: ['Hi', ' there'], completed_at: iso(T0 + 100), metrics: { predict_time: 99 } });
    api.answer('p_race', { body: apiStatus === 'succeeded' ? final : job('p_race', { output: ['Hi'] }) });
    const hold = api.hold();
    at(120);
    // Act
    const sweeping = sweep();
    await hold.arrived;
    const delivered = await webhook(insp.key, final);
    hold.release();
    const result = await sweeping;
    // Assert
    expect(delivered.outcome).toBe('applied');
    expect(result.errors).toBe(0);
    expect(push.endsPerDevice(activityId)).toEqual({ [insp.deviceIds[0]!]: 1, [insp.deviceIds[1]!]: 1 });
    const record = await stored(activityId);
    expect(record.job).toMatchObject({ status: 'succeeded', detail: 'Hi there', predictTime: 99 });
    expect(push.of(activityId, 'end').map((m) => state(m).status)).toEqual(['succeeded', 'succeeded']);
    const reconciled = (await sweeperEvents(insp.id)).filter((e) => e.outcome === 'reconciled');
    expect(reconciled).toHaveLength(1);
    expect(reconciled[0]!.transition).toBeUndefined();
  });

  it('a terminal webhook arriving after the sweeper expired the card changes nothing and sends no second end', async () => {
    // Arrange
    const insp = await inspector();
    const activityId = await startJob(insp, job('p_late'));
    at(HOUR);
    await sweep();
    // Act
    at(HOUR + 5);
    const late = await webhook(insp.key, job('p_late', { status: 'succeeded', output: ['late'] }));
    // Assert
    expect(late.outcome).toBe('stale');
    expect(push.of(activityId, 'end')).toHaveLength(1);
    expect((await stored(activityId)).job.status).toBe('expired');
  });

  it('ends the cards of a revoked inspector', async () => {
    // Arrange
    const insp = await inspector({ token: TOKEN });
    const activityId = await startJob(insp, job('p_orphan'));
    await revokeInspector(deps, insp.id);
    at(120);
    // Act
    const result = await sweep();
    // Assert
    expect(result.expired).toBe(1);
    expect(api.requests).toEqual([]);
    expect(push.of(activityId, 'end').map((m) => state(m))).toEqual([expect.objectContaining({ status: 'expired', detail: 'inspector revoked' })]);
  });

  // ───────────── bounds ─────────────

  it('stops at maxActivities and at its deadline, leaving the rest due for the next run', async () => {
    // Arrange
    const insp = await inspector();
    for (const id of ['p_b1', 'p_b2', 'p_b3']) await startJob(insp, job(id));
    at(HOUR);
    // Act
    const outOfTime = await runSweep(deps.sweep, { deadlineMs: clock.now });
    const capped = await runSweep(deps.sweep, { maxActivities: 2 });
    const rest = await runSweep(deps.sweep);
    // Assert
    expect(outOfTime).toMatchObject({ visited: 0, more: true });
    expect(capped).toMatchObject({ visited: 2, expired: 2, more: true });
    expect(rest).toMatchObject({ visited: 1, expired: 1, more: false });
  });

  // ───────────── operators ─────────────

  it('POST /v1/admin/sweep requires the admin token and runs one pass', async () => {
    // Arrange
    const insp = await inspector();
    const activityId = await startJob(insp, job('p_admin'));
    const log: RequestLogger = { ...silentLog, child: () => silentLog };
    const app = createApp(log);
    addApiRoutes(app, async () => ({ ...deps, adminToken: ADMIN }));
    at(HOUR);
    const post = (authorization?: string): Promise<Response> =>
      Promise.resolve(app.request('/v1/admin/sweep', { method: 'POST', headers: authorization ? { authorization } : {} }));
    // Act
    const anonymous = await post();
    const wrong = await post('Bearer chirp_admin_wrong');
    const endsAfterRefusals = push.of(activityId, 'end').length;
    const admin = await post(`Bearer ${ADMIN}`);
    // Assert
    expect(anonymous.status).toBe(401);
    expect(((await anonymous.json()) as { error: { code: string } }).error.code).toBe('unauthorized');
    expect(wrong.status).toBe(401);
    expect(endsAfterRefusals).toBe(0);
    expect(admin.status).toBe(200);
    expect(await admin.json()).toMatchObject({ ok: true, visited: 1, expired: 1, reconciled: 0, flushed: 0, errors: 0, more: false });
    expect(push.of(activityId, 'end')).toHaveLength(1);
  });

  it('local mode runs the sweeper on its timer', async () => {
    // Arrange
    const h = await startHarness({ sweepIntervalSeconds: 0.02 });
    try {
      await h.post(job('p_local'));
      // Act: an hour passes without a word
      h.clock.advance(HOUR);
      let lines = await h.outbox();
      for (let i = 0; i < 200 && !lines.some((l) => l.kind === 'end'); i++) {
        await new Promise((resolve) => setTimeout(resolve, 10));
        lines = await h.outbox();
      }
      // Assert
      const ends = lines.filter((l) => l.kind === 'end');
      expect(ends).toHaveLength(1);
      expect(ends[0]!.payload.aps['content-state']).toMatchObject({ status: 'expired', detail: 'no word for 1h' });
    } finally {
      await h.close();
    }
  });
});
