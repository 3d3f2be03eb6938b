/**
 * Property-based tests (fast-check): whatever order and however many times Replicate's webhooks
 * arrive, the card ends in the true final state, with at most one `end` per device and a
 * bounded number of pushes; and no input makes the parser or the card builder throw or exceed
 * APNs' 4096 bytes.
 */
import fc from 'fast-check';
import { registerActivityToken } from '../../lambda/core/activity-token';
import { applySnapshot } from '../../lambda/core/job-state';
import { ingestForInspector, type IngestDeps } from '../../lambda/core/ingest-webhook';
import { InspectorResolver } from '../../lambda/core/inspector-resolver';
import { MAX_PAYLOAD_BYTES } from '../../lambda/core/live-activity';
import { silentLog } from '../../lambda/core/log';
import type { PushMessage, PushSender } from '../../lambda/core/push-port';
import { planPushes } from '../../lambda/core/push-policy';
import { PayloadError, parseReplicateBody } from '../../lambda/core/replicate-payload';
import type { Device, Inspector } from '../../lambda/core/store-ports';
import { MemoryActivityStore } from '../helpers/memory-activity-store';
import { memoryKeyStore } from '../helpers/memory-key-store';

const COALESCE = 5;
const inspector: Inspector = { id: 'insp_p', name: 'props', deviceIds: ['d1', 'd2'], signingSecrets: [], coalesceSeconds: COALESCE, retentionDays: 7, keepLast: 100, createdAt: 0, keyHint: 'k', keyHashes: [] };
const devices: Device[] = [
  { id: 'd1', name: 'one', environment: 'sandbox', pushToStartToken: 'a1'.repeat(32), frequentPushesEnabled: true, secretHash: 'x', createdAt: 0 },
  { id: 'd2', name: 'two', environment: 'production', pushToStartToken: 'b2'.repeat(32), frequentPushesEnabled: false, secretHash: 'y', createdAt: 0 },
];

type Terminal = 'succeeded' | 'failed' | 'canceled' | 'aborted';

function snapshots(outputs: number, terminal: Terminal): { body: string; webhookId: string }[] {
  const base = { id: 'propjob', model: 'o/m', created_at: '2026-06-01T12:00:00Z', input: { prompt: 'never on the card' } };
  const list = [{ ...base, status: 'starting', output: null, logs: '' }];
  const tokens: string[] = [];
  for (let i = 0; i < outputs; i++) {
    tokens.push(`w${i} `);
    list.push({ ...base, status: 'processing', output: [...tokens] as unknown as null, logs: `step ${i}\n` });
  }
  list.push({ ...base, status: terminal, output: (terminal === 'succeeded' ? [...tokens] : null) as unknown as null, logs: 'done\n', ...(terminal === 'failed' ? { error: 'boom\ntrace' } : {}) });
  return list.map((s, i) => ({ body: JSON.stringify(s), webhookId: `msg_${i}` }));
}

function harness() {
  let now = Date.parse('2026-06-01T12:00:00Z');
  const activities = new MemoryActivityStore();
  const keys = memoryKeyStore([inspector], devices);
  const sent: PushMessage[] = [];
  const tokenReports: Promise<unknown>[] = [];
  const deps: IngestDeps = {
    activities,
    keys,
    log: silentLog,
    clock: () => now,
    resolver: new InspectorResolver(keys, () => now),
    tagSecret: 'unused',
    bundleId: 'com.example.chirp',
    push: { transport: 'outbox', async send(message) { sent.push(message); return { outcome: 'sent', transport: 'outbox' }; } } satisfies PushSender,
    // The app reports an update token for every activity started on it.
    onSent: (message) => {
      if (message.kind === 'start') tokenReports.push(registerActivityToken(deps, { deviceId: message.target.deviceId, activityId: message.activityId, token: `${message.target.deviceId === 'd1' ? 'c3' : 'd4'}`.repeat(40) }));
    },
  };
  return { deps, sent, activities, tokenReports, advance: (ms: number) => (now += ms) };
}

describe('properties', () => {
  test('any order, with duplicates and losses of intermediate events, ends in the true final state', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.integer({ min: 0, max: 30 }),
        fc.constantFrom<Terminal>('succeeded', 'failed', 'canceled', 'aborted'),
        fc.func(fc.integer()),
        fc.array(fc.nat(), { maxLength: 15 }),
        fc.array(fc.nat(), { maxLength: 10 }),
        async (outputs, terminal, order, duplicateIndexes, dropIndexes) => {
          // Arrange: the lifecycle, some intermediate events lost, some delivered twice, shuffled.
          const all = snapshots(outputs, terminal);
          const dropped = new Set(dropIndexes.map((i) => 1 + (i % Math.max(1, all.length - 2))).filter((i) => i < all.length - 1));
          const kept = all.filter((_, i) => !dropped.has(i));
          const deliveries = [...kept, ...duplicateIndexes.map((i) => kept[i % kept.length]!)];
          const shuffled = deliveries.map((d, i) => ({ d, k: order(i) })).sort((a, b) => a.k - b.k).map((x) => x.d);
          const h = harness();
          const resolved = (await h.deps.resolver.resolveInspector(inspector.id))!;
          // Act
          for (const delivery of shuffled) {
            h.advance(500);
            await ingestForInspector(h.deps, resolved, { rawBody: new TextEncoder().encode(delivery.body), headers: { 'webhook-id': delivery.webhookId } });
            await Promise.all(h.tokenReports);
          }
          await Promise.all(h.tokenReports);
          // Assert
          const activity = [...h.activities.items.values()][0]!.value;
          expect(activity.job.status).toBe(terminal);
          for (const device of devices) {
            const toDevice = h.sent.filter((m) => m.target.deviceId === device.id);
            expect(toDevice.filter((m) => m.kind === 'end')).toHaveLength(1);
            expect(toDevice[toDevice.length - 1]!.kind).toBe('end');
            expect(toDevice[toDevice.length - 1]!.payload.aps['content-state'].status).toBe(terminal);
            expect(toDevice.filter((m) => m.kind === 'start')).toHaveLength(1);
            const timestamps = toDevice.map((m) => m.payload.aps.timestamp);
            expect([...timestamps].sort((a, b) => a - b)).toEqual(timestamps);
            const seconds = (shuffled.length * 500) / 1000;
            expect(toDevice.length).toBeLessThanOrEqual(3 + Math.ceil(seconds / COALESCE));
          }
          expect(JSON.stringify(h.sent)).not.toContain('never on the card');
        },
      ),
      { numRuns: 150 },
    );
  });

  test('the parser and the card builder never throw on arbitrary JSON and never exceed 4096 bytes', () => {
    const anyStatus = fc.oneof(fc.constantFrom('starting', 'processing', 'succeeded', 'failed', 'canceled', 'aborted'), fc.string());
    const body = fc.oneof(
      fc.jsonValue(),
      fc.record(
        {
          id: fc.oneof(fc.stringMatching(/^[a-z0-9]{1,40}$/), fc.string(), fc.jsonValue()),
          status: fc.oneof(anyStatus, fc.jsonValue()),
          model: fc.oneof(fc.string({ maxLength: 5000 }), fc.constant(null), fc.jsonValue()),
          output: fc.oneof(fc.jsonValue(), fc.array(fc.string({ unit: 'grapheme', maxLength: 400 }), { maxLength: 50 }), fc.array(fc.webUrl(), { maxLength: 5 })),
          logs: fc.oneof(fc.string({ maxLength: 3000 }), fc.constant(null), fc.jsonValue()),
          error: fc.oneof(fc.string({ unit: 'binary', maxLength: 5000 }), fc.jsonValue()),
          created_at: fc.oneof(fc.date({ noInvalidDate: true }).map((d) => d.toISOString()), fc.string()),
          started_at: fc.oneof(fc.date({ noInvalidDate: true }).map((d) => d.toISOString()), fc.constant(null)),
          completed_at: fc.oneof(fc.date({ noInvalidDate: true }).map((d) => d.toISOString()), fc.constant(null)),
          metrics: fc.oneof(fc.record({ predict_time: fc.oneof(fc.double(), fc.integer()) }), fc.jsonValue()),
          urls: fc.oneof(fc.record({ web: fc.string() }), fc.jsonValue()),
          data_removed: fc.oneof(fc.boolean(), fc.jsonValue()),
        },
        { requiredKeys: [] },
      ),
    );
    fc.assert(
      fc.property(body, fc.integer({ min: 1_600_000_000, max: 2_000_000_000 }), (value, now) => {
        let snapshot;
        try {
          snapshot = parseReplicateBody(JSON.stringify(value));
        } catch (err) {
          expect(err).toBeInstanceOf(PayloadError);
          return;
        }
        const apply = applySnapshot(null, snapshot, now);
        const activity = { activityId: 'act_x', inspectorId: 'i', inspectorName: 'ünïcode 🚀'.repeat(20), job: apply.record, devices: { d1: { environment: 'sandbox' as const, sentSeq: 0 }, d2: { environment: 'sandbox' as const, sentSeq: 0, startedAt: now - 1, token: 'ab'.repeat(40) } }, seq: 1, lastTimestamp: 0, lastEventAt: now, recentWebhookIds: [], createdAt: now };
        const plan = planPushes(activity, new Map([['d1', { id: 'd1', environment: 'sandbox' as const, pushToStartToken: 'cd'.repeat(32) }]]), { bundleId: 'com.example.chirp', coalesceSeconds: 5, hangTimeoutSeconds: 3600 }, now);
        expect(plan.pushes.length).toBeGreaterThan(0);
        for (const push of plan.pushes) {
          const text = JSON.stringify(push.message.payload);
          expect(Buffer.byteLength(text, 'utf8')).toBeLessThanOrEqual(MAX_PAYLOAD_BYTES);
          expect(JSON.parse(text)).toEqual(push.message.payload);
        }
      }),
      { numRuns: 400 },
    );
  });
});
