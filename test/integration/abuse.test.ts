/**
 * Abuse of the webhook endpoint over real HTTP on loopback: the product's app (createApp +
 * addWebhookRoutes over composeDeps) served by @hono/node-server, on the embedded store, with
 * every DynamoDB request counted by an SDK middleware on the client the app uses.
 *
 * What must hold: forged keys cost nothing (zero database requests); oversized, deeply nested,
 * huge or wrongly typed bodies get a clear 4xx JSON error (or a correct 200), never a 500 and
 * never a crash; header and parameter tricks are refused or handled; a flooding inspector is
 * told 429 with Retry-After without any database request.
 */
import { randomBytes } from 'node:crypto';
import { request as httpRequest, type Server } from 'node:http';
import { connect } from 'node:net';
import type { AddressInfo } from 'node:net';
import { serve } from '@hono/node-server';
import { composeDeps, type ComposedDeps } from '../../lambda/compose';
import { createInspector, registerDevice } from '../../lambda/core/directory';
import { generateCredential } from '../../lambda/core/inspector-key';
import { MAX_PAYLOAD_BYTES } from '../../lambda/core/live-activity';
import { silentLog } from '../../lambda/core/log';
import type { PushMessage, PushSender } from '../../lambda/core/push-port';
import type { RateLimitSettings } from '../../lambda/core/rate-limit';
import { createApp } from '../../lambda/http/context';
import { addWebhookRoutes, MAX_WEBHOOK_BODY_BYTES } from '../../lambda/http/webhook-routes';
import { startEmbeddedDynamo, type EmbeddedDynamo } from '../../local/embedded-dynamo';

const TAG_SECRET = 'abuse-tag-secret';
const NOW_MS = Date.parse('2026-06-01T12:00:30Z');
const PATH = '/v1/webhooks/replicate';

interface Site {
  url: string;
  port: number;
  deps: ComposedDeps;
  key: string;
  inspectorId: string;
  /** Every DynamoDB request the app made (operation names), in order. */
  ops: string[];
  sent: PushMessage[];
  close(): Promise<void>;
}

interface Answer {
  status: number;
  headers: Headers;
  json: { ok?: boolean; outcome?: string; status?: string; error?: { code?: string; message?: string; reason?: string } } | null;
}

let dynamo: EmbeddedDynamo;
let site: Site;
let sites = 0;

/** The product's webhook app over a counted client, on 127.0.0.1 at an ephemeral port. */
async function startSite(rateLimit?: RateLimitSettings): Promise<Site> {
  sites += 1;
  const ops: string[] = [];
  const sent: PushMessage[] = [];
  const push: PushSender = {
    transport: 'outbox',
    async send(message) {
      sent.push(message);
      return { outcome: 'sent', transport: 'outbox' };
    },
  };
  const deps = composeDeps({
    client: dynamo.newClient((operation) => ops.push(operation)),
    activityTable: dynamo.tables.activity,
    keyTable: dynamo.tables.key,
    push,
    log: silentLog,
    tagSecret: TAG_SECRET,
    bundleId: 'dev.chirp.abuse',
    clock: () => NOW_MS,
    startBudget: { maxStarts: 1000, windowSeconds: 3600 },
    ...(rateLimit ? { rateLimit } : {}),
  });
  const { device } = await registerDevice(deps, { name: `phone ${sites}`, environment: 'sandbox', pushToStartToken: randomBytes(32).toString('hex') });
  const { inspector, key } = await createInspector(deps, { name: `abuse ${sites}`, deviceIds: [device.id] });
  const app = createApp({ ...silentLog, child: () => silentLog });
  addWebhookRoutes(app, () => Promise.resolve(deps));
  const server = await new Promise<Server>((resolve, reject) => {
    const s = serve({ fetch: app.fetch, port: 0, hostname: '127.0.0.1' }) as Server;
    s.once('error', reject);
    s.once('listening', () => resolve(s));
  });
  const { port } = server.address() as AddressInfo;
  ops.length = 0;
  return {
    url: `http://127.0.0.1:${port}`,
    port,
    deps,
    key,
    inspectorId: inspector.id,
    ops,
    sent,
    async close() {
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}

beforeAll(async () => {
  dynamo = await startEmbeddedDynamo();
  site = await startSite();
});

afterAll(async () => {
  await site.close();
  await dynamo.close();
});

beforeEach(() => {
  site.ops.length = 0;
});

function prediction(id: string, status = 'processing', extra: Record<string, unknown> = {}): Record<string, unknown> {
  return { id, model: 'acme/abuse', status, created_at: '2026-06-01T12:00:00Z', started_at: status === 'starting' ? null : '2026-06-01T12:00:01Z', output: null, logs: '', error: null, ...extra };
}

async function post(
  body: string,
  options: { key?: string | null; query?: string; headers?: Record<string, string>; on?: Site } = {},
): Promise<Answer> {
  const target = options.on ?? site;
  const query = options.query ?? (options.key === null ? '' : `?key=${encodeURIComponent(options.key ?? target.key)}`);
  const response = await fetch(`${target.url}${PATH}${query}`, { method: 'POST', headers: { 'content-type': 'application/json', ...(options.headers ?? {}) }, body });
  const text = await response.text();
  let json: Answer['json'] = null;
  try {
    json = JSON.parse(text) as Answer['json'];
  } catch {
    json = null;
  }
  return { status: response.status, headers: response.headers, json };
}

/**
 * POST on a connection of its own, closed afterwards. For bodies the server refuses before reading
 * them all: it then drops the connection, and a pooled fetch connection reused right after could
 * meet the close (an HTTP/1.1 keep-alive race in the client, not an answer from Chirp).
 */
function postAlone(body: string, headers: Record<string, string> = {}): Promise<{ status: number; contentType: string; json: Answer['json'] }> {
  return new Promise((resolve, reject) => {
    const req = httpRequest(
      { host: '127.0.0.1', port: site.port, method: 'POST', path: `${PATH}?key=${encodeURIComponent(site.key)}`, agent: false, headers: { 'content-type': 'application/json', ...headers } },
      (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, contentType: String(res.headers['content-type'] ?? ''), json: JSON.parse(Buffer.concat(chunks).toString('utf8')) as Answer['json'] }));
      },
    );
    req.on('error', reject);
    req.end(body);
  });
}

function expectJsonError(answer: Answer, status: number, code: string): void {
  expect(answer.status).toBe(status);
  expect(answer.headers.get('content-type')).toMatch(/^application\/json/);
  expect(answer.json).toEqual({ error: expect.objectContaining({ code, message: expect.any(String) }) });
}

/** Sends one HTTP/1.1 request (`Connection: close`) as raw bytes, for what fetch refuses to send; the status and body. */
function rawRequest(port: number, head: Buffer, body: Buffer): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    // No half-close: a client that ends its side early has hung up, and gets no answer.
    const socket = connect(port, '127.0.0.1', () => socket.write(Buffer.concat([head, body])));
    const chunks: Buffer[] = [];
    socket.on('data', (chunk: Buffer) => chunks.push(chunk));
    socket.on('error', reject);
    socket.on('close', () => {
      const text = Buffer.concat(chunks).toString('latin1');
      const status = Number(/^HTTP\/1\.1 (\d{3})/.exec(text)?.[1] ?? 0);
      resolve({ status, body: text.slice(text.indexOf('\r\n\r\n') + 4) });
    });
  });
}

function rawWebhook(port: number, key: string, webhookIdBytes: Buffer, body: string): Promise<{ status: number; body: string }> {
  const payload = Buffer.from(body, 'utf8');
  const head = Buffer.concat([
    Buffer.from(`POST ${PATH}?key=${encodeURIComponent(key)} HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\nContent-Length: ${payload.length}\r\nConnection: close\r\nwebhook-id: `, 'latin1'),
    webhookIdBytes,
    Buffer.from('\r\n\r\n', 'latin1'),
  ]);
  return rawRequest(port, head, payload);
}

/** Deterministic pseudo-random numbers (mulberry32), so a failing flood can be replayed. */
function prng(seed: number): () => number {
  let a = seed;
  return () => {
    a = (a + 0x6d2b79f5) | 0;
    let t = Math.imul(a ^ (a >>> 15), 1 | a);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

describe('forged keys cost zero database requests', () => {
  test('a flood of 300 random, malformed and wrong-tag keys: every answer 401 JSON, DynamoDB requests counted = 0', async () => {
    // prepare: 300 keys of many kinds, sent in the query or as a Bearer token
    const random = prng(7);
    const bytes = (n: number) => Uint8Array.from({ length: n }, () => Math.floor(random() * 256));
    const base62 = (n: number) => Array.from({ length: n }, () => '0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz'[Math.floor(random() * 62)]).join('');
    const real = site.key;
    const kinds: (() => string)[] = [
      () => Buffer.from(bytes(1 + Math.floor(random() * 60))).toString('base64url'),
      () => `chirp_wh_${base62(22)}_${base62(8)}`,
      () => generateCredential('wh', bytes(32), 'someone-elses-tag-secret'),
      () => generateCredential('dev', bytes(32), TAG_SECRET),
      () => `${real.slice(0, -1)}${real.endsWith('A') ? 'B' : 'A'}`,
      () => real.slice(0, 10 + Math.floor(random() * 20)),
      () => `${real}${base62(1 + Math.floor(random() * 5))}`,
      () => real.toUpperCase(),
      () => `chirp_wh_${base62(22)}_${base62(8)}`.replace(/.$/, 'é'),
      () => base62(10_000),
      () => `' OR '1'='1`,
      () => '{"$ne":null}',
      () => `${real}\u0000`,
      () => `../../${base62(8)}`,
      () => '',
    ];
    const attempts = Array.from({ length: 300 }, (_, i) => ({ key: kinds[i % kinds.length]!(), asBearer: i % 2 === 1 }));

    // act: 20 at a time
    const answers: Answer[] = [];
    for (let i = 0; i < attempts.length; i += 20) {
      answers.push(
        ...(await Promise.all(
          attempts.slice(i, i + 20).map(({ key, asBearer }) => {
            const latin1 = /^[\x20-\x7e\u00a0-\u00ff]+$/.test(key);
            const bearer = asBearer && latin1;
            return post(JSON.stringify(prediction('flood')), bearer ? { key: null, headers: { authorization: `Bearer ${key}` } } : { key });
          }),
        )),
      );
    }
    const countDuringFlood = site.ops.length;
    const genuine = await post(JSON.stringify(prediction('afterflood', 'starting')));

    // assert: zero requests for 300 forged keys; the counter does count (a genuine webhook costs some)
    expect(answers).toHaveLength(300);
    for (const answer of answers) {
      expectJsonError(answer, 401, 'unauthorized');
      expect(['missing_key', 'malformed_key']).toContain(answer.json?.error?.reason);
    }
    expect(countDuringFlood).toBe(0);
    expect(genuine.status).toBe(200);
    expect(site.ops.length).toBeGreaterThan(0);
  });

  test('a well-formed key with a valid tag that was never issued costs one read, then none (negative cache)', async () => {
    // prepare: only someone holding the tag secret can make one
    const unknown = generateCredential('wh', randomBytes(32), TAG_SECRET);

    // act
    const answers: Answer[] = [];
    for (let i = 0; i < 50; i++) answers.push(await post(JSON.stringify(prediction('unknownkey')), { key: unknown }));

    // assert
    for (const answer of answers) expect(answer.json?.error?.reason).toBe('unknown_key');
    expect(site.ops).toEqual(['GetItem']);
  });
});

describe('bodies', () => {
  /** A prediction padded with logs to exactly `size` bytes. */
  function bodyOfSize(id: string, size: number): string {
    const empty = JSON.stringify(prediction(id, 'processing', { logs: '' }));
    return JSON.stringify(prediction(id, 'processing', { logs: 'x'.repeat(size - Buffer.byteLength(empty)) }));
  }

  test('exactly 1 MB is accepted; 1 MB + 1 byte is 413 and the store is untouched', async () => {
    // prepare
    const atLimit = bodyOfSize('atlimit', MAX_WEBHOOK_BODY_BYTES);
    const overLimit = bodyOfSize('overlimit', MAX_WEBHOOK_BODY_BYTES + 1);
    expect(Buffer.byteLength(atLimit)).toBe(1024 * 1024);
    expect(Buffer.byteLength(overLimit)).toBe(1024 * 1024 + 1);

    // act
    const over = await postAlone(overLimit);
    const opsForOver = site.ops.length;
    const at = await post(atLimit);

    // assert
    expect(over).toEqual({ status: 413, contentType: expect.stringMatching(/^application\/json/), json: { error: expect.objectContaining({ code: 'payload_too_large', message: expect.any(String) }) } });
    expect(opsForOver).toBe(0);
    expect(at).toMatchObject({ status: 200, json: { outcome: 'applied' } });
  });

  test('an over-limit body streamed without Content-Length (chunked) is 413 too, with no database request', async () => {
    // prepare
    const chunk = Buffer.alloc(64 * 1024, 0x20);

    // act: 17 chunks of 64 KB = 1 MB + 64 KB, with no length announced
    const answer = await new Promise<{ status: number; body: string }>((resolve, reject) => {
      const req = httpRequest({ host: '127.0.0.1', port: site.port, method: 'POST', path: `${PATH}?key=${encodeURIComponent(site.key)}`, agent: false, headers: { 'content-type': 'application/json' } }, (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, body: Buffer.concat(chunks).toString('utf8') }));
      });
      req.on('error', reject);
      req.write('{"id":"chunked","status":"processing","logs":"');
      for (let i = 0; i < 17; i++) req.write(chunk);
      req.end('"}');
    });

    // assert
    expect(answer.status).toBe(413);
    expect(JSON.parse(answer.body)).toEqual({ error: expect.objectContaining({ code: 'payload_too_large' }) });
    expect(site.ops).toEqual([]);
  });

  const N = 200_000;
  const nestedArrays = `${'['.repeat(N)}${']'.repeat(N)}`;
  const nestedObjects = `${'{"a":'.repeat(150_000)}1${'}'.repeat(150_000)}`;
  const inPrediction = (id: string, status: string, field: string, value: string) =>
    `{"id":"${id}","status":"${status}","created_at":"2026-06-01T12:00:00Z","started_at":"2026-06-01T12:00:01Z","${field}":${value}}`;
  const nested: [string, string, number, string | undefined][] = [
    ['200 000 unclosed [ → 400 invalid_json', '['.repeat(N), 400, 'invalid_json'],
    ['200 000 nested arrays → 422 not_a_job', nestedArrays, 422, 'not_a_job'],
    ['150 000 nested objects → 422 not_a_job', nestedObjects, 422, 'not_a_job'],
    ['a failed prediction whose error is 200 000 nested arrays → 200', inPrediction('deeperror', 'failed', 'error', nestedArrays), 200, undefined],
    ['a failed prediction whose error is 150 000 nested objects → 200', inPrediction('deeperrorobj', 'failed', 'error', nestedObjects), 200, undefined],
    ['a prediction whose output is 200 000 nested arrays → 200', inPrediction('deepoutput', 'processing', 'output', nestedArrays), 200, undefined],
    ['a prediction whose metrics are 150 000 nested objects → 200', inPrediction('deepmetrics', 'processing', 'metrics', nestedObjects), 200, undefined],
    ['a prediction whose input is 200 000 nested arrays → 200', inPrediction('deepinput', 'processing', 'input', nestedArrays), 200, undefined],
  ];

  test.each(nested)('deeply nested JSON: %s, never a 500', async (_label, body, status, code) => {
    // act
    const answer = await post(body);
    const after = await post(JSON.stringify(prediction('stillalive')));

    // assert
    if (code) expectJsonError(answer, status, code);
    else expect(answer).toMatchObject({ status, json: { ok: true } });
    expect(after.status).toBe(200);
  });

  test('a failed prediction with a deeply nested error gets a failed card that says so, within 4096 bytes', async () => {
    // prepare
    const id = 'deeperrorcard';

    // act
    const answer = await post(inPrediction(id, 'failed', 'error', nestedArrays));

    // assert
    expect(answer).toMatchObject({ status: 200, json: { outcome: 'applied', status: 'failed' } });
    const start = site.sent.filter((m) => m.jobId === id).at(-1)!;
    expect(start.payload.aps['content-state']).toMatchObject({ status: 'failed' });
    expect(JSON.stringify(start.payload.aps['content-state'])).toContain('nested too deeply');
    expect(Buffer.byteLength(JSON.stringify(start.payload))).toBeLessThanOrEqual(MAX_PAYLOAD_BYTES);
  });

  test('huge but valid JSON (60 000 keys, 100 000 outputs, under 1 MB) is applied, with a small card and a capped log excerpt', async () => {
    // prepare
    const manyKeys = prediction('manykeys', 'processing', Object.fromEntries(Array.from({ length: 60_000 }, (_, i) => [`k${i}`, i % 10])));
    const manyOutputs = prediction('manyoutputs', 'processing', { output: Array.from({ length: 100_000 }, (_, i) => `t${i % 10}`) });
    for (const body of [manyKeys, manyOutputs]) expect(Buffer.byteLength(JSON.stringify(body))).toBeLessThan(MAX_WEBHOOK_BODY_BYTES);

    // act
    const answers = [await post(JSON.stringify(manyKeys)), await post(JSON.stringify(manyOutputs))];

    // assert
    for (const answer of answers) expect(answer).toMatchObject({ status: 200, json: { outcome: 'applied' } });
    for (const message of site.sent.filter((m) => m.jobId === 'manykeys' || m.jobId === 'manyoutputs')) {
      expect(Buffer.byteLength(JSON.stringify(message.payload))).toBeLessThanOrEqual(MAX_PAYLOAD_BYTES);
    }
    const events = (await site.deps.activities.listEvents(site.inspectorId, { limit: 10 })).items.filter((e) => e.jobId === 'manykeys' || e.jobId === 'manyoutputs');
    expect(events).toHaveLength(2);
    for (const event of events) expect(Buffer.byteLength(event.body ?? '')).toBeLessThanOrEqual(400 + 3);
  });

  test.each([
    ['text/plain', 'hello'],
    ['multipart/form-data; boundary=x', '--x\r\nContent-Disposition: form-data; name="id"\r\n\r\nabc\r\n--x--\r\n'],
    ['application/x-www-form-urlencoded', 'id=abc&status=succeeded'],
    ['application/xml', '<prediction id="abc"/>'],
  ])('content type %s → 415 with no database request', async (contentType, body) => {
    // act
    const answer = await post(body, { headers: { 'content-type': contentType } });

    // assert
    expectJsonError(answer, 415, 'unsupported_media_type');
    expect(site.ops).toEqual([]);
  });

  test('application/json with a charset is accepted', async () => {
    // act
    const answer = await post(JSON.stringify(prediction('charset')), { headers: { 'content-type': 'application/json; charset=utf-8' } });

    // assert
    expect(answer.status).toBe(200);
  });
});

describe('header and parameter injection', () => {
  test('the key given twice in the query is 400, whether the copies agree or not, with no database request', async () => {
    // act
    const same = await post(JSON.stringify(prediction('twice')), { query: `?key=${site.key}&key=${site.key}` });
    const different = await post(JSON.stringify(prediction('twice')), { query: `?key=${site.key}&key=chirp_wh_forged` });

    // assert
    expectJsonError(same, 400, 'bad_request');
    expectJsonError(different, 400, 'bad_request');
    expect(site.ops).toEqual([]);
  });

  test('a 10 KB webhook-id is accepted, stored cut to 128 characters, and still deduplicates', async () => {
    // prepare
    const longId = `msg_${'y'.repeat(10 * 1024)}`;

    // act
    const first = await post(JSON.stringify(prediction('longid', 'starting')), { headers: { 'webhook-id': longId } });
    const second = await post(JSON.stringify(prediction('longid', 'starting')), { headers: { 'webhook-id': longId } });

    // assert
    expect(first).toMatchObject({ status: 200, json: { outcome: 'applied' } });
    expect(second).toMatchObject({ status: 200, json: { outcome: 'duplicate' } });
    const events = (await site.deps.activities.listEvents(site.inspectorId, { limit: 20 })).items.filter((e) => e.jobId === 'longid');
    expect(events.filter((e) => e.outcome === 'applied')).toHaveLength(1);
    expect(new Set(events.map((e) => e.webhookId))).toEqual(new Set([longId.slice(0, 128)]));
  });

  test('CR, LF and NUL cannot be put in a header value by fetch', async () => {
    // act + assert: the client refuses before anything is sent
    for (const bad of ['msg\r\nx-injected: 1', 'msg\u0000x', 'msg\nx']) {
      await expect(post(JSON.stringify(prediction('crlf')), { headers: { 'webhook-id': bad } })).rejects.toMatchObject({ name: 'TypeError', message: expect.stringMatching(/invalid header value/) });
    }
    expect(site.ops).toEqual([]);
  });

  test('raw bytes on the wire: a NUL or a bare CR in webhook-id is refused by the HTTP parser (400) before any database request', async () => {
    // act
    const nul = await rawWebhook(site.port, site.key, Buffer.from('msg_\u0000evil', 'latin1'), JSON.stringify(prediction('rawnul')));
    const cr = await rawWebhook(site.port, site.key, Buffer.from('msg_\revil', 'latin1'), JSON.stringify(prediction('rawcr')));

    // assert
    expect(nul.status).toBe(400);
    expect(cr.status).toBe(400);
    expect(site.ops).toEqual([]);
  });

  test('raw bytes on the wire: a UTF-8 webhook-id is accepted, logged as received and deduplicated', async () => {
    // prepare
    const id = Buffer.from('msg_✓_ünïcødé_🚀', 'utf8');
    const body = JSON.stringify(prediction('rawunicode', 'starting'));

    // act
    const first = await rawWebhook(site.port, site.key, id, body);
    const second = await rawWebhook(site.port, site.key, id, body);

    // assert
    expect(first.status).toBe(200);
    expect(JSON.parse(first.body)).toMatchObject({ outcome: 'applied' });
    expect(JSON.parse(second.body)).toMatchObject({ outcome: 'duplicate' });
    const events = (await site.deps.activities.listEvents(site.inspectorId, { limit: 20 })).items.filter((e) => e.jobId === 'rawunicode');
    // HTTP header bytes are read as Latin-1: the id is kept byte for byte
    expect(events.filter((e) => e.outcome === 'applied')).toHaveLength(1);
    expect(new Set(events.map((e) => e.webhookId))).toEqual(new Set([id.toString('latin1')]));
  });

  test.each([
    ['a path', '../../x'],
    ['10 000 characters', 'a'.repeat(10_000)],
    ['a key separator', 'ACT#x'],
    ['unicode', 'prédiction'],
    ['whitespace', 'abc def'],
    ['empty', ''],
  ])('a body whose id is %s is 422 and creates no activity', async (_label, id) => {
    // prepare
    const before = (await site.deps.activities.listActivities(site.inspectorId, { limit: 1000 })).items.length;

    // act
    const answer = await post(JSON.stringify(prediction(id)));

    // assert
    expectJsonError(answer, 422, 'not_a_job');
    expect((await site.deps.activities.listActivities(site.inspectorId, { limit: 1000 })).items).toHaveLength(before);
  });
});

describe('per-inspector rate limit', () => {
  test('429 with Retry-After costs no database request, and the accepted webhooks cost no extra write', async () => {
    // prepare: a bucket of 3 on a frozen clock; the first webhook warms the container
    const limited = await startSite({ ratePerSecond: 1, burst: 3 });
    try {
      expect((await post(JSON.stringify(prediction('limited', 'starting')), { on: limited })).status).toBe(200);

      // act
      limited.ops.length = 0;
      const logs = (n: number) => Array.from({ length: n }, (_, i) => `step ${i + 1}\n`).join('');
      const accepted = await post(JSON.stringify(prediction('limited', 'processing', { logs: logs(1) })), { on: limited });
      const opsForAccepted = [...limited.ops];
      limited.ops.length = 0;
      const refused: Answer[] = [];
      for (let i = 0; i < 5; i++) refused.push(await post(JSON.stringify(prediction('limited', 'processing', { logs: logs(i + 2) })), { on: limited }));

      // assert: the warm accepted webhook writes the activity and its log line, nothing more
      expect(accepted).toMatchObject({ status: 200, json: { outcome: 'applied' } });
      expect(opsForAccepted).toEqual(['PutItem', 'PutItem']);
      // one more fits the bucket; then 429 with Retry-After, and no request at all
      expect(refused.map((r) => r.status)).toEqual([200, 429, 429, 429, 429]);
      for (const answer of refused.slice(1)) {
        expectJsonError(answer, 429, 'rate_limited');
        expect(answer.headers.get('retry-after')).toBe('1');
      }
      expect(limited.ops).toEqual(['PutItem', 'PutItem']);
    } finally {
      await limited.close();
    }
  });
});
