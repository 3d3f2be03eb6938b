/**
 * Concurrency against the embedded store: one prediction's webhooks delivered 50 at a time, in
 * mixed order and with duplicates, spread over two "containers" (each with its own activity
 * cache and key cache, as two warm Lambda containers would have), with a sweeper run in the
 * middle. The final state must be the true one, with exactly one `end` per device.
 */
import { randomBytes } from 'node:crypto';
import { activityIdFor } from '../../lambda/core/activity';
import { registerActivityToken } from '../../lambda/core/activity-token';
import { composeDeps, type ComposedDeps } from '../../lambda/compose';
import { createInspector, registerDevice } from '../../lambda/core/directory';
import { ingestWebhook } from '../../lambda/core/ingest-webhook';
import { silentLog } from '../../lambda/core/log';
import type { PushMessage, PushSender } from '../../lambda/core/push-port';
import { runSweep } from '../../lambda/core/sweeper';
import { startEmbeddedDynamo, type EmbeddedDynamo } from '../../local/embedded-dynamo';

const TAG = 'concurrency-tag-secret';

function body(status: string, outputs: number): Uint8Array {
  const output = status === 'starting' ? null : Array.from({ length: outputs }, (_, i) => `w${i} `);
  return new TextEncoder().encode(JSON.stringify({ id: 'concjob', model: 'o/m', created_at: '2026-06-01T12:00:00Z', started_at: '2026-06-01T12:00:01Z', status, output, logs: '' }));
}

describe('concurrent deliveries across containers', () => {
  let dynamo: EmbeddedDynamo;

  beforeAll(async () => {
    dynamo = await startEmbeddedDynamo();
  });

  afterAll(async () => {
    await dynamo.close();
  });

  test('50 concurrent deliveries with duplicates and a sweep in the middle give one true end per device', async () => {
    // Arrange: two containers sharing the table, one push log, a phone that reports tokens.
    const now = Date.parse('2026-06-01T12:00:30Z');
    const sent: PushMessage[] = [];
    const reports: Promise<unknown>[] = [];
    const push: PushSender = { transport: 'outbox', async send(message) { sent.push(message); return { outcome: 'sent', transport: 'outbox' }; } };
    const containers: ComposedDeps[] = [];
    for (let i = 0; i < 2; i++) {
      const deps: ComposedDeps = composeDeps({
        client: dynamo.newClient(),
        activityTable: dynamo.tables.activity,
        keyTable: dynamo.tables.key,
        push,
        log: silentLog,
        tagSecret: TAG,
        bundleId: 'com.example.chirp',
        clock: () => now,
        onSent: (message) => {
          if (message.kind === 'start') reports.push(registerActivityToken(deps, { deviceId: message.target.deviceId, activityId: message.activityId, token: randomBytes(40).toString('hex') }));
        },
      });
      containers.push(deps);
    }
    const [a, b] = containers as [ComposedDeps, ComposedDeps];
    const phones = await Promise.all(['one', 'two'].map((name) => registerDevice(a, { name, environment: 'sandbox', pushToStartToken: randomBytes(32).toString('hex') })));
    const { inspector, key } = await createInspector(a, { name: 'conc', deviceIds: phones.map((p) => p.device.id) });
    const lifecycle = [
      { id: 'msg_start', body: body('starting', 0) },
      ...Array.from({ length: 20 }, (_, i) => ({ id: `msg_out_${i}`, body: body('processing', i + 1) })),
      { id: 'msg_done', body: body('succeeded', 20) },
    ];
    // Every event once, the final one five times more (Replicate's retries), and 20 random repeats.
    const deliveries = [...lifecycle, ...Array.from({ length: 5 }, () => lifecycle[lifecycle.length - 1]!), ...Array.from({ length: 23 }, (_, i) => lifecycle[(i * 7) % lifecycle.length]!)];
    const shuffled = deliveries.map((d, i) => ({ d, k: (i * 7919) % 53 })).sort((x, y) => x.k - y.k).map((x) => x.d);
    expect(shuffled).toHaveLength(50);

    // Act: all 50 at once, alternating containers, with a sweep started halfway through.
    const results = await Promise.all(
      shuffled.map(async (d, i) => {
        if (i === 25) await runSweep(a.sweep);
        return ingestWebhook(i % 2 === 0 ? a : b, { key, rawBody: d.body, headers: { 'webhook-id': d.id } }).then(
          (r) => r.outcome,
          (err: Error) => `error: ${err.name}`,
        );
      }),
    );
    const settle = async () => {
      for (let seen = -1; seen !== reports.length; ) {
        seen = reports.length;
        await Promise.allSettled(reports);
      }
    };
    await settle();
    await runSweep(b.sweep);
    await settle();

    // Assert
    const stored = await a.sweep.activities.get(activityIdFor(inspector.id, 'concjob'));
    expect(results.filter((r) => r.startsWith("error"))).toEqual([]);
    expect(stored?.value.job.status).toBe('succeeded');
    for (const { device } of phones) {
      const toDevice = sent.filter((m) => m.target.deviceId === device.id);
      expect(toDevice.filter((m) => m.kind === 'start')).toHaveLength(1);
      expect(toDevice.filter((m) => m.kind === 'end')).toHaveLength(1);
      const last = toDevice[toDevice.length - 1]!;
      expect(last.kind).toBe('end');
      expect(last.payload.aps['content-state']).toMatchObject({ status: 'succeeded', detail: expect.stringContaining('w19') });
      expect(stored?.value.devices[device.id]).toMatchObject({ ended: true });
    }
    expect(results.filter((r) => r === 'applied').length).toBeGreaterThanOrEqual(2);
  });
});
