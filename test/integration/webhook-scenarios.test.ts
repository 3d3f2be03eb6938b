/**
 * Scenario tests of the webhook path through the real local server: HTTP routes, the embedded
 * DynamoDB-compatible store, the outbox transport and the simulated phone.
 */
import type { OutboxLine } from '../../lambda/adapters/push/outbox-push-sender';
import { MAX_PAYLOAD_BYTES } from '../../lambda/core/live-activity';
import { startHarness, prediction, type Harness } from '../helpers/local-harness';

function kinds(lines: OutboxLine[]): string[] {
  return lines.map((l) => l.kind);
}

function states(lines: OutboxLine[]): string[] {
  return lines.map((l) => l.payload.aps['content-state'].status);
}

function expectWellFormed(lines: OutboxLine[]): void {
  const timestamps = lines.map((l) => l.payload.aps.timestamp);
  for (let i = 1; i < timestamps.length; i++) expect(timestamps[i]!).toBeGreaterThan(timestamps[i - 1]!);
  for (const line of lines) {
    expect(Buffer.byteLength(JSON.stringify(line.payload))).toBeLessThanOrEqual(MAX_PAYLOAD_BYTES);
    expect(line.headers['apns-push-type']).toBe('liveactivity');
    expect(line.headers['apns-topic']).toBe('com.example.chirp.push-type.liveactivity');
    expect(line.headers['apns-priority']).toBe(line.kind === 'update' ? '5' : '10');
    expect(JSON.stringify(line.payload)).not.toContain('SECRET PROMPT');
  }
  expect(kinds(lines).filter((k) => k === 'end').length).toBeLessThanOrEqual(1);
}

describe('webhook scenarios against the embedded store', () => {
  let h: Harness;

  beforeEach(async () => {
    h = await startHarness();
  });

  afterEach(async () => {
    await h.close();
  });

  test('in-order lifecycle: start, coalesced updates, one green end', async () => {
    // Arrange
    const started = '2026-06-01T12:00:00.500000Z';
    // Act
    await h.post(prediction({ status: 'starting' }), { headers: { 'webhook-id': 'msg_1' } });
    h.clock.advance(1);
    await h.post(prediction({ status: 'processing', started_at: started, output: ['Hello'] }), { headers: { 'webhook-id': 'msg_2' } });
    h.clock.advance(6);
    await h.post(prediction({ status: 'processing', started_at: started, output: ['Hello', ' world'] }), { headers: { 'webhook-id': 'msg_3' } });
    h.clock.advance(1);
    const done = await h.post(
      prediction({ status: 'succeeded', started_at: started, completed_at: '2026-06-01T12:00:08Z', output: ['Hello', ' world', '!'], metrics: { predict_time: 7.5 } }),
      { headers: { 'webhook-id': 'msg_4' } },
    );
    // Assert
    const lines = await h.outbox();
    expect(done.status).toBe(200);
    expect(kinds(lines)).toEqual(['start', 'update', 'end']);
    expect(states(lines)).toEqual(['starting', 'processing', 'succeeded']);
    const start = lines[0]!.payload.aps;
    expect(start['attributes-type']).toBe('ChirpJobAttributes');
    expect(start.attributes).toMatchObject({ provider: 'replicate', jobId: 'q7m2c5ht9drgc0cmxbdvmw3q4r', model: 'meta/meta-llama-3-8b-instruct', webUrl: 'https://replicate.com/p/q7m2c5ht9drgc0cmxbdvmw3q4r' });
    expect(start.alert?.title).toBe('Replicate · STARTING');
    expect(start['input-push-token']).toBe(1);
    expect(start['stale-date']).toBeGreaterThan(start.timestamp);
    expect(lines[0]!.target.tokenKind).toBe('push-to-start');
    expect(lines[1]!.target.tokenKind).toBe('update');
    const end = lines[2]!.payload.aps;
    expect(end['dismissal-date']).toBeGreaterThan(end.timestamp);
    expect(end['content-state']).toMatchObject({ status: 'succeeded', detail: 'Hello world!', predictTime: 7.5, endedAt: Date.parse('2026-06-01T12:00:08Z') / 1000 });
    expectWellFormed(lines);
  });

  test('completed only: the card starts with the final state and ends when the token arrives', async () => {
    // Act
    const res = await h.post(prediction({ status: 'succeeded', started_at: '2026-06-01T12:00:00Z', completed_at: '2026-06-01T12:00:04Z', output: ['https://replicate.delivery/a/out-0.png', 'https://replicate.delivery/a/out-1.png'] }));
    // Assert
    const lines = await h.outbox();
    expect(res.json.reason).toBe('completed without start');
    expect(kinds(lines)).toEqual(['start', 'end']);
    expect(states(lines)).toEqual(['succeeded', 'succeeded']);
    expect(lines[1]!.payload.aps['content-state'].detail).toBe('2 images');
    expectWellFormed(lines);
  });

  test('completed before start: the late start changes nothing', async () => {
    // Act
    await h.post(prediction({ status: 'failed', error: 'boom' }), { headers: { 'webhook-id': 'msg_done' } });
    const late = await h.post(prediction({ status: 'starting' }), { headers: { 'webhook-id': 'msg_start' } });
    // Assert
    const lines = await h.outbox();
    expect(late.status).toBe(200);
    expect(late.json.outcome).toBe('stale');
    expect(late.json.reason).toBe('starting after failed ignored');
    expect(kinds(lines)).toEqual(['start', 'end']);
    expect(states(lines)).toEqual(['failed', 'failed']);
    expectWellFormed(lines);
  });

  test('the same webhook-id twice is acknowledged, logged as a duplicate and changes nothing', async () => {
    // Arrange
    await h.post(prediction({ status: 'starting' }), { headers: { 'webhook-id': 'msg_a' } });
    const body = prediction({ status: 'processing', started_at: '2026-06-01T12:00:01Z', output: ['x'] });
    h.clock.advance(10);
    const first = await h.post(body, { headers: { 'webhook-id': 'msg_b' } });
    const before = await h.outbox();
    const activityId = String(first.json.activityId);
    const stateBefore = await h.server.deps.activities.get(activityId);
    // Act
    h.clock.advance(10);
    const again = await h.post(body, { headers: { 'webhook-id': 'msg_b' } });
    // Assert
    expect(first.json.outcome).toBe('applied');
    expect(again.status).toBe(200);
    expect(again.json.outcome).toBe('duplicate');
    expect(await h.outbox()).toHaveLength(before.length);
    expect((await h.server.deps.activities.get(activityId))?.version).toBe(stateBefore?.version);
    const events = await h.server.deps.activities.listEvents(h.server.localJson.inspectors[0]!.id, { limit: 1 });
    expect(events.items[0]).toMatchObject({ outcome: 'duplicate', webhookId: 'msg_b', pushes: [] });
  });

  test('two concurrent deliveries of the same terminal event give one end', async () => {
    // Arrange
    await h.post(prediction({ status: 'starting' }), { headers: { 'webhook-id': 'msg_s' } });
    const body = prediction({ status: 'succeeded', completed_at: '2026-06-01T12:00:03Z', output: ['done'] });
    // Act: the same event twice at once (a retry racing the original), and a third with another id.
    const results = await Promise.all([
      h.post(body, { headers: { 'webhook-id': 'msg_final' } }),
      h.post(body, { headers: { 'webhook-id': 'msg_final' } }),
      h.post(body, { headers: { 'webhook-id': 'msg_final_other_id' } }),
    ]);
    // Assert
    const lines = await h.outbox();
    expect(results.map((r) => r.status)).toEqual([200, 200, 200]);
    expect(results.filter((r) => r.json.outcome === 'applied')).toHaveLength(1);
    expect(kinds(lines).filter((k) => k === 'end')).toHaveLength(1);
    expectWellFormed(lines);
  });

  test('a burst of 120 outputs is coalesced and the final state is delivered', async () => {
    // Arrange
    const started = '2026-06-01T12:00:00Z';
    await h.post(prediction({ status: 'starting' }), { headers: { 'webhook-id': 'msg_start' } });
    const tokens: string[] = [];
    // Act: 120 output events, one every 0.5 s (Replicate's throttle), then the completion.
    for (let i = 0; i < 120; i++) {
      h.clock.now += 500;
      tokens.push(` t${i}`);
      await h.post(prediction({ status: 'processing', started_at: started, output: [...tokens] }), { headers: { 'webhook-id': `msg_out_${i}` } });
    }
    h.clock.now += 500;
    await h.post(prediction({ status: 'succeeded', started_at: started, completed_at: '2026-06-01T12:01:01Z', output: [...tokens] }), { headers: { 'webhook-id': 'msg_done' } });
    // Assert
    const lines = await h.outbox();
    expect(lines.length).toBeLessThanOrEqual(14);
    expect(lines[0]!.kind).toBe('start');
    const last = lines[lines.length - 1]!;
    expect(last.kind).toBe('end');
    expect(last.payload.aps['content-state'].status).toBe('succeeded');
    expect(last.payload.aps['content-state'].detail?.endsWith('t119')).toBe(true);
    expectWellFormed(lines);
  });

  test('aborted ends grey with its reason', async () => {
    // Act
    await h.post(prediction({ status: 'starting' }));
    await h.post(prediction({ status: 'aborted', completed_at: '2026-06-01T12:05:00Z' }));
    // Assert
    const lines = await h.outbox();
    expect(kinds(lines)).toEqual(['start', 'end']);
    expect(lines[1]!.payload.aps['content-state']).toMatchObject({ status: 'aborted', detail: 'deadline reached before start' });
  });

  test('failed with a long multi-line error shows its first line', async () => {
    // Arrange
    const error = `CUDA out of memory. Tried to allocate 20.00 GiB\n${'Traceback line\n'.repeat(2000)}`;
    // Act
    await h.post(prediction({ status: 'starting' }));
    await h.post(prediction({ status: 'failed', error, completed_at: '2026-06-01T12:00:09Z' }));
    // Assert
    const lines = await h.outbox();
    const end = lines[lines.length - 1]!;
    expect(end.kind).toBe('end');
    expect(end.payload.aps['content-state']).toMatchObject({ status: 'failed', error: 'CUDA out of memory. Tried to allocate 20.00 GiB' });
    expectWellFormed(lines);
  });

  test('an output tail of several KB keeps the payload within 4096 bytes', async () => {
    // Arrange
    const big = 'lorem ipsum dolor sit amet '.repeat(400);
    // Act
    await h.post(prediction({ status: 'starting', model: `owner/${'m'.repeat(3000)}` }));
    await h.post(prediction({ status: 'succeeded', model: `owner/${'m'.repeat(3000)}`, output: [big, big], completed_at: '2026-06-01T12:00:09Z' }));
    // Assert
    const lines = await h.outbox();
    expect(kinds(lines)).toEqual(['start', 'end']);
    for (const line of lines) expect(line.bytes).toBeLessThanOrEqual(4096);
    expect(Array.from(lines[1]!.payload.aps['content-state'].detail ?? '').length).toBeLessThanOrEqual(121);
  });

  test('unicode in model names and output survives intact', async () => {
    // Act
    await h.post(prediction({ status: 'starting', model: 'ünïcødé/模型-🚀' }));
    await h.post(prediction({ status: 'succeeded', model: 'ünïcødé/模型-🚀', output: ['こんにちは', ' 👋🏽', ' café'], completed_at: '2026-06-01T12:00:02Z' }));
    // Assert
    const lines = await h.outbox();
    expect(lines[0]!.payload.aps.attributes?.model).toBe('ünïcødé/模型-🚀');
    expect(lines[1]!.payload.aps['content-state'].detail).toBe('こんにちは 👋🏽 café');
  });
});
