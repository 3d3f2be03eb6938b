/**
 * Bad input gets a clear JSON error and changes nothing (issue: core, "Bad input…").
 * Also the Standard Webhooks test vectors, against the frozen clock.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { generateCredential } from '../../lambda/core/inspector-key';
import { revokeInspector, updateInspector } from '../../lambda/core/directory';
import { startHarness, prediction, type Harness } from '../helpers/local-harness';

interface Vector {
  name: string;
  secret: string;
  webhookId: string;
  timestamp: string;
  body: string;
  signature: string;
}

const vectors = (JSON.parse(readFileSync(join(__dirname, '../fixtures/replicate-signed-vectors.json'), 'utf8')) as { vectors: Vector[] }).vectors;
const llm = vectors.filter((v) => v.name.startsWith('llm-'));

function signedHeaders(v: Vector, overrides: Record<string, string> = {}): Record<string, string> {
  return { 'webhook-id': v.webhookId, 'webhook-timestamp': v.timestamp, 'webhook-signature': v.signature, ...overrides };
}

function expectError(res: { status: number; json: Record<string, unknown> }, status: number, code: string): void {
  expect(res.status).toBe(status);
  expect(res.json).toEqual({ error: expect.objectContaining({ code, message: expect.any(String) }) });
}

describe('webhook errors', () => {
  let h: Harness;
  let inspectorId: string;

  beforeEach(async () => {
    h = await startHarness();
    inspectorId = h.server.localJson.inspectors[0]!.id;
  });

  afterEach(async () => {
    await h.close();
  });

  test('malformed JSON is 400 and is logged as rejected', async () => {
    const res = await h.post(undefined, { raw: '{"id": "abc", "status": ' });
    expectError(res, 400, 'invalid_json');
    const events = await h.server.deps.activities.listEvents(inspectorId, { limit: 10 });
    expect(events.items[0]).toMatchObject({ outcome: 'rejected', reason: 'malformed JSON' });
    expect(await h.outbox()).toEqual([]);
  });

  test('a body that is not a prediction is 422', async () => {
    expectError(await h.post({ hello: 'world' }), 422, 'not_a_job');
    expectError(await h.post({ id: 'abc' }), 422, 'not_a_job');
    expectError(await h.post([1, 2, 3]), 422, 'not_a_job');
  });

  test('missing, malformed and unknown keys are 401', async () => {
    const base = h.webhookUrl.split('?')[0]!;
    expectError(await h.post(prediction(), { url: base }), 401, 'unauthorized');
    expectError(await h.post(prediction(), { url: `${base}?key=chirp_wh_nope` }), 401, 'unauthorized');
    // Well-formed with a valid tag, but never issued: rejected after one lookup.
    const unknown = generateCredential('wh', new Uint8Array(32).fill(7), h.server.deps.tagSecret);
    const res = await h.post(prediction(), { url: `${base}?key=${unknown}` });
    expectError(res, 401, 'unauthorized');
    expect((res.json.error as { reason: string }).reason).toBe('unknown_key');
    expect(await h.outbox()).toEqual([]);
  });

  test('Authorization: Bearer works instead of ?key=', async () => {
    const key = new URL(h.webhookUrl).searchParams.get('key')!;
    const res = await h.post(prediction(), { url: h.webhookUrl.split('?')[0]!, headers: { authorization: `Bearer ${key}` } });
    expect(res.status).toBe(200);
  });

  test('a revoked key is 401', async () => {
    await revokeInspector(h.server.deps, inspectorId);
    h.server.deps.resolver.invalidate();
    expectError(await h.post(prediction()), 401, 'unauthorized');
  });

  test('bodies over 1 MB are 413', async () => {
    const res = await h.post(undefined, { raw: JSON.stringify(prediction({ logs: 'x'.repeat(1024 * 1024) })) });
    expectError(res, 413, 'payload_too_large');
  });

  test('a wrong method is 405 with Allow', async () => {
    const res = await fetch(h.webhookUrl, { method: 'GET' });
    expect(res.status).toBe(405);
    expect(res.headers.get('allow')).toContain('POST');
    expect(await res.json()).toEqual({ error: expect.objectContaining({ code: 'method_not_allowed' }) });
  });

  test('a non-JSON content type is 415', async () => {
    const res = await h.post(undefined, { raw: 'id=1&status=starting', headers: { 'content-type': 'application/x-www-form-urlencoded' } });
    expectError(res, 415, 'unsupported_media_type');
  });

  describe('with a signing secret', () => {
    beforeEach(async () => {
      await updateInspector(h.server.deps, inspectorId, { signingSecrets: ['whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw', llm[0]!.secret] });
      h.server.deps.resolver.invalidate();
    });

    test.each(llm.map((v) => [v.name, v] as const))('the signed vector %s verifies with the clock frozen at its timestamp', async (_name, v) => {
      h.clock.now = Number(v.timestamp) * 1000;
      const res = await h.post(undefined, { raw: v.body, headers: signedHeaders(v) });
      expect(res.status).toBe(200);
      expect(res.json.outcome).toBe('applied');
    });

    test('the whole signed lifecycle yields start and end', async () => {
      for (const v of llm) {
        h.clock.now = Number(v.timestamp) * 1000;
        expect((await h.post(undefined, { raw: v.body, headers: signedHeaders(v) })).status).toBe(200);
      }
      const kinds = (await h.outbox()).map((l) => l.kind);
      expect(kinds[0]).toBe('start');
      expect(kinds[kinds.length - 1]).toBe('end');
    });

    test('a tampered body is 401', async () => {
      const v = llm[0]!;
      h.clock.now = Number(v.timestamp) * 1000;
      const res = await h.post(undefined, { raw: v.body.replace('Say hello', 'Say hullo'), headers: signedHeaders(v) });
      expectError(res, 401, 'unauthorized');
      expect((res.json.error as { reason: string }).reason).toBe('bad_signature');
      expect(await h.outbox()).toEqual([]);
    });

    test('missing signature headers are 401', async () => {
      const res = await h.post(prediction());
      expectError(res, 401, 'unauthorized');
      expect((res.json.error as { reason: string }).reason).toBe('missing_signature_headers');
    });

    test('a timestamp outside ±300 s is 401', async () => {
      const v = llm[0]!;
      h.clock.now = (Number(v.timestamp) + 301) * 1000;
      const late = await h.post(undefined, { raw: v.body, headers: signedHeaders(v) });
      h.clock.now = (Number(v.timestamp) - 301) * 1000;
      const early = await h.post(undefined, { raw: v.body, headers: signedHeaders(v) });
      for (const res of [late, early]) {
        expectError(res, 401, 'unauthorized');
        expect((res.json.error as { reason: string }).reason).toBe('timestamp_out_of_window');
      }
    });

    test('a v1a entry with a valid HMAC is not trusted; any valid v1 entry is', async () => {
      const v = llm[0]!;
      h.clock.now = Number(v.timestamp) * 1000;
      const hmac = v.signature.slice('v1,'.length);
      const onlyV1a = await h.post(undefined, { raw: v.body, headers: signedHeaders(v, { 'webhook-signature': `v1a,${hmac}` }) });
      expectError(onlyV1a, 401, 'unauthorized');
      const several = await h.post(undefined, { raw: v.body, headers: signedHeaders(v, { 'webhook-signature': `v1,bm9wZQ== v1a,xyz ${v.signature}` }) });
      expect(several.status).toBe(200);
    });
  });
});

describe('store unavailable', () => {
  test('the webhook answers 503 with Retry-After so Replicate retries, and nothing is half-written', async () => {
    const h = await startHarness();
    try {
      await h.server.dynamo.close();
      const res = await fetch(h.webhookUrl, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(prediction({ status: 'succeeded' })) });
      expect(res.status).toBe(503);
      expect(res.headers.get('retry-after')).toBe('1');
      expect(await res.json()).toEqual({ error: expect.objectContaining({ code: 'store_unavailable' }) });
      expect(await h.outbox()).toEqual([]);
    } finally {
      await h.close().catch(() => undefined);
    }
  });
});

describe('per-inspector rate limit', () => {
  test('a flood gets 429 with Retry-After once the burst is spent, without touching the store', async () => {
    // Arrange
    const h = await startHarness({ rateLimit: { ratePerSecond: 1, burst: 3 } });
    try {
      // Act
      const statuses: number[] = [];
      let retryAfter: string | null = null;
      for (let i = 0; i < 5; i++) {
        const res = await fetch(h.webhookUrl, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(prediction({ id: `flood${i}` })) });
        statuses.push(res.status);
        if (res.status === 429) {
          retryAfter = res.headers.get('retry-after');
          expect(await res.json()).toEqual({ error: expect.objectContaining({ code: 'rate_limited' }) });
        }
      }
      const activities = await h.server.deps.activities.listActivities(h.server.localJson.inspectors[0]!.id, { limit: 10 });
      // Assert
      expect(statuses).toEqual([200, 200, 200, 429, 429]);
      expect(retryAfter).toBe('1');
      expect(activities.items).toHaveLength(3);
    } finally {
      await h.close();
    }
  });
});
