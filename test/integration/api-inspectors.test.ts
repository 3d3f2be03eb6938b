/**
 * The inspector management API against the real local server (embedded DynamoDB-compatible
 * store, outbox transport, simulated phone) over real HTTP: create / list / read / settings /
 * rotate / revoke / test, validation errors, and the rule that no read ever shows a secret.
 */
import { createHash } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { signReplicateBody } from '../../lambda/core/replicate-signature';
import { inspectorCreatedSchema, inspectorRotatedSchema, inspectorsPageSchema, inspectorViewSchema, testJobResultSchema } from '../../lambda/http/schemas';
import { adminClient, errorOf, type AdminClient } from '../helpers/admin-client';
import { prediction, startHarness, type Harness } from '../helpers/local-harness';

const SIGNING_SECRET = `whsec_${Buffer.from('chirp-test-signing-secret-0123456789').toString('base64')}`;
const REPLICATE_TOKEN = 'r8_TestReplicateToken0123456789abcdefABCDEF';

let h: Harness;
let api: AdminClient;
let deviceId: string;

beforeEach(async () => {
  h = await startHarness();
  api = adminClient(h.server.url, h.server.localJson.adminToken);
  deviceId = h.server.localJson.devices[0]!.id;
});

afterEach(async () => {
  await h.close();
});

async function createInspector(body: Record<string, unknown> = {}) {
  const response = await api.request('POST', '/v1/inspectors', { name: 'Image team', deviceIds: [deviceId], ...body });
  expect(response.status).toBe(201);
  return inspectorCreatedSchema.parse(response.json);
}

function webhook(url: string, body: Record<string, unknown>, headers: Record<string, string> = {}) {
  return h.post(body, { url, headers });
}

describe('creating an inspector', () => {
  it('returns the key once, a webhook URL on this server and snippets with the events filter', async () => {
    // act
    const created = await createInspector();

    // assert
    expect(created.key).toMatch(/^chirp_wh_/);
    expect(created.webhookUrl).toBe(`${h.server.url}/v1/webhooks/replicate?key=${encodeURIComponent(created.key)}`);
    expect(created.keyHint).toBe(`${created.key.slice(0, 13)}…`);
    for (const snippet of Object.values(created.snippets)) {
      expect(snippet).toContain(created.webhookUrl);
      expect(snippet).toMatch(/webhook_events_filter/);
      expect(snippet).toMatch(/"start",\s?"output",\s?"logs",\s?"completed"/);
    }
    expect(created.devices).toEqual([{ id: deviceId, name: 'Simulated iPhone', environment: 'sandbox', hasPushToStartToken: true }]);
    expect(created).toMatchObject({ coalesceSeconds: 5, retentionDays: 7, keepLast: 500, hangTimeoutMinutes: null, hasSigningSecrets: false, lastEvent: null });
  });

  it('gives a key that works for webhooks right away', async () => {
    // prepare
    const created = await createInspector();

    // act
    const response = await webhook(created.webhookUrl, prediction());

    // assert
    expect(response.status).toBe(200);
    expect(response.json).toMatchObject({ ok: true, outcome: 'applied' });
  });

  it('needs the admin token', async () => {
    // act
    const missing = await api.request('POST', '/v1/inspectors', { name: 'x' }, { token: null });
    const wrong = await api.request('POST', '/v1/inspectors', { name: 'x' }, { token: 'not-the-admin-token' });
    const device = await api.request('GET', '/v1/inspectors', undefined, { token: 'chirp_dev_AAAAAAAAAAAAAAAAAAAAAA_AAAAAAAA' });

    // assert
    expect([missing.status, wrong.status, device.status]).toEqual([401, 401, 401]);
    expect(errorOf(missing).code).toBe('unauthorized');
  });
});

describe('validation errors are 400 and name the field', () => {
  it.each([
    ['missing name', { deviceIds: [] }, 'name'],
    ['blank name', { name: '   ' }, 'name'],
    ['unknown device', { name: 'x', deviceIds: ['dev_nope'] }, 'deviceIds'],
    ['coalesce below the minimum', { name: 'x', coalesceSeconds: 0 }, 'coalesceSeconds'],
    ['hang timeout above the maximum', { name: 'x', hangTimeoutMinutes: 100000 }, 'hangTimeoutMinutes'],
    ['retention not an integer', { name: 'x', retentionDays: 1.5 }, 'retentionDays'],
    ['keepLast too large', { name: 'x', keepLast: 1_000_000 }, 'keepLast'],
    ['a signing secret that is not whsec_', { name: 'x', signingSecrets: ['hunter2'] }, 'signingSecrets.0'],
    ['a Replicate token with spaces', { name: 'x', replicateApiToken: 'r8 has spaces in it' }, 'replicateApiToken'],
  ])('create: %s', async (_label, body, field) => {
    // act
    const response = await api.request('POST', '/v1/inspectors', body);

    // assert
    expect(response.status).toBe(400);
    expect(errorOf(response)).toMatchObject({ code: 'validation_failed', field });
    expect(errorOf(response).message).toEqual(expect.any(String));
  });

  it('rejects unknown fields instead of ignoring them', async () => {
    // act
    const response = await api.request('POST', '/v1/inspectors', { name: 'x', webhookKey: 'mine' });

    // assert
    expect(response.status).toBe(400);
    expect(errorOf(response).code).toBe('validation_failed');
  });

  it('settings, rotation, test and query strings too', async () => {
    // prepare
    const created = await createInspector();
    const base = `/v1/inspectors/${created.id}`;

    // act
    const results = await Promise.all([
      api.request('PATCH', base, { keepLast: 5 }),
      api.request('PATCH', base, { hangTimeoutMinutes: 'soon' }),
      api.request('POST', `${base}/rotate`, { graceSeconds: 8 * 86400 }),
      api.request('POST', `${base}/test`, { outcome: 'exploded' }),
      api.get(`${base}/events?limit=0`),
      api.get(`${base}/events?outcome=bogus`),
      api.get(`${base}/events?since=yesterday`),
      api.get(`${base}/events?colour=blue`),
      api.get(`${base}/activities?state=paused`),
      api.get(`${base}/events?cursor=not-a-cursor`),
    ]);

    // assert
    expect(results.map((r) => r.status)).toEqual(Array(10).fill(400));
    expect(results.map((r) => errorOf(r).field)).toEqual(['keepLast', 'hangTimeoutMinutes', 'graceSeconds', 'outcome', 'limit', 'outcome', 'since', 'colour', 'state', 'cursor']);
  });

  it('malformed JSON is 400 invalid_json', async () => {
    // act
    const response = await api.request('POST', '/v1/inspectors', '{"name": ');

    // assert
    expect(response.status).toBe(400);
    expect(errorOf(response).code).toBe('invalid_json');
  });
});

describe('reading inspectors', () => {
  it('lists live inspectors with paging, and reads one', async () => {
    // prepare
    const a = await createInspector({ name: 'A' });
    const b = await createInspector({ name: 'B' });

    // act
    const all = inspectorsPageSchema.parse((await api.get('/v1/inspectors')).json);
    const first = inspectorsPageSchema.parse((await api.get('/v1/inspectors?limit=1')).json);
    const second = inspectorsPageSchema.parse((await api.get(`/v1/inspectors?limit=1&cursor=${encodeURIComponent(first.cursor!)}`)).json);
    const one = inspectorViewSchema.parse((await api.get(`/v1/inspectors/${a.id}`)).json);

    // assert
    expect(all.items.map((i) => i.name).sort()).toEqual(['A', 'B', 'Demo']);
    expect(first.items).toHaveLength(1);
    expect(second.items).toHaveLength(1);
    expect(second.items[0]!.id).not.toBe(first.items[0]!.id);
    expect(one).toMatchObject({ id: a.id, name: 'A', keyHint: a.keyHint });
    expect([a.id, b.id]).toContain(all.items.find((i) => i.name !== 'Demo')!.id);
  });

  it('answers 404 for an inspector that does not exist', async () => {
    // act
    const response = await api.get('/v1/inspectors/insp_doesnotexist00');

    // assert
    expect(response.status).toBe(404);
    expect(errorOf(response).code).toBe('not_found');
  });

  it('shows the last event received, from the events log', async () => {
    // prepare
    const created = await createInspector();
    await webhook(created.webhookUrl, prediction({ id: 'lasteventjob0000000000000a' }));
    h.clock.advance(5);
    await webhook(created.webhookUrl, prediction({ id: 'lasteventjob0000000000000a', status: 'processing', started_at: '2026-06-01T12:00:01Z' }));

    // act
    const view = inspectorViewSchema.parse((await api.get(`/v1/inspectors/${created.id}`)).json);

    // assert
    expect(view.lastEvent).toEqual({ at: h.clock.now, source: 'webhook', outcome: 'applied', status: 'processing', jobId: 'lasteventjob0000000000000a' });
  });
});

describe('settings', () => {
  it('stores write-only secrets and shows only whether they are set', async () => {
    // prepare
    const created = await createInspector();

    // act
    const set = await api.request('PATCH', `/v1/inspectors/${created.id}`, { name: 'Renamed', signingSecrets: [SIGNING_SECRET], replicateApiToken: REPLICATE_TOKEN, hangTimeoutMinutes: 30, coalesceSeconds: 10, retentionDays: 3, keepLast: 50 });
    const cleared = await api.request('PATCH', `/v1/inspectors/${created.id}`, { replicateApiToken: null, hangTimeoutMinutes: null, deviceIds: [] });

    // assert
    expect(set.status).toBe(200);
    expect(inspectorViewSchema.parse(set.json)).toMatchObject({ name: 'Renamed', hasSigningSecrets: true, signingSecretsCount: 1, hasReplicateApiToken: true, hangTimeoutMinutes: 30, coalesceSeconds: 10, retentionDays: 3, keepLast: 50 });
    expect(inspectorViewSchema.parse(cleared.json)).toMatchObject({ hasReplicateApiToken: false, hangTimeoutMinutes: null, deviceIds: [], devices: [], hasSigningSecrets: true });
  });

  it('requires signatures once a signing secret is set, and the test job signs like Replicate', async () => {
    // prepare
    const created = await createInspector();
    await api.request('PATCH', `/v1/inspectors/${created.id}`, { signingSecrets: [SIGNING_SECRET] });
    const body = prediction({ id: 'signedjob00000000000000000' });
    const raw = JSON.stringify(body);
    const timestamp = String(Math.floor(h.clock.now / 1000));

    // act
    const unsigned = await webhook(created.webhookUrl, body, { 'webhook-id': 'msg_unsigned' });
    const signed = await webhook(created.webhookUrl, body, { 'webhook-id': 'msg_signed', 'webhook-timestamp': timestamp, 'webhook-signature': signReplicateBody(raw, 'msg_signed', Number(timestamp), SIGNING_SECRET) });
    const test = await api.request('POST', `/v1/inspectors/${created.id}/test`, {});

    // assert
    expect(unsigned.status).toBe(401);
    expect(signed.status).toBe(200);
    expect(test.status).toBe(201);
    expect(testJobResultSchema.parse(test.json).steps.map((s) => s.outcome)).toEqual(['applied', 'applied', 'applied']);
  });
});

describe('revoking', () => {
  it('stops the key at once (this process drops its resolver cache) and hides the inspector', async () => {
    // prepare
    const created = await createInspector();
    expect((await webhook(created.webhookUrl, prediction())).status).toBe(200);

    // act
    const revoked = await api.request('DELETE', `/v1/inspectors/${created.id}`);

    // assert
    expect(revoked.status).toBe(204);
    const after = await webhook(created.webhookUrl, prediction({ status: 'processing' }));
    expect(after.status).toBe(401);
    expect((await api.get(`/v1/inspectors/${created.id}`)).status).toBe(404);
    expect((await api.request('DELETE', `/v1/inspectors/${created.id}`)).status).toBe(404);
    expect((await api.request('POST', `/v1/inspectors/${created.id}/test`, {})).status).toBe(404);
    const list = inspectorsPageSchema.parse((await api.get('/v1/inspectors')).json);
    expect(list.items.map((i) => i.id)).not.toContain(created.id);
  });
});

describe('rotating', () => {
  it('keeps the old key working for the grace period, then only the new one', async () => {
    // prepare
    const created = await createInspector();

    // act
    const response = await api.request('POST', `/v1/inspectors/${created.id}/rotate`, { graceSeconds: 3600 });
    const rotated = inspectorRotatedSchema.parse(response.json);

    // assert
    expect(response.status).toBe(200);
    expect(rotated.key).not.toBe(created.key);
    expect(rotated.previousKeyValidUntil).toBe(Math.floor(h.clock.now / 1000) + 3600);
    expect(rotated.snippets.python).toContain(rotated.webhookUrl);
    expect((await webhook(created.webhookUrl, prediction({ id: 'rotate0000000000000000000a' }))).status).toBe(200);
    expect((await webhook(rotated.webhookUrl, prediction({ id: 'rotate0000000000000000000b' }))).status).toBe(200);

    h.clock.advance(3600);
    expect((await webhook(created.webhookUrl, prediction({ id: 'rotate0000000000000000000c' }))).status).toBe(401);
    expect((await webhook(rotated.webhookUrl, prediction({ id: 'rotate0000000000000000000d' }))).status).toBe(200);
  });

  it('defaults to a 24-hour grace; 0 ends the old key now', async () => {
    // prepare
    const created = await createInspector();

    // act
    const byDefault = inspectorRotatedSchema.parse((await api.request('POST', `/v1/inspectors/${created.id}/rotate`)).json);
    const immediate = inspectorRotatedSchema.parse((await api.request('POST', `/v1/inspectors/${created.id}/rotate`, { graceSeconds: 0 })).json);

    // assert
    expect(byDefault.previousKeyValidUntil - Math.floor(h.clock.now / 1000)).toBe(86400);
    expect((await webhook(byDefault.webhookUrl, prediction())).status).toBe(401);
    expect((await webhook(immediate.webhookUrl, prediction())).status).toBe(200);
  });
});

describe('the test job', () => {
  it('runs start → processing → succeeded through the real pipeline and ends the card green', async () => {
    // prepare
    const created = await createInspector();

    // act
    const response = await api.request('POST', `/v1/inspectors/${created.id}/test`, { model: 'acme/test-model' });
    await h.server.settle();

    // assert
    expect(response.status).toBe(201);
    const result = testJobResultSchema.parse(response.json);
    expect(result.steps.map((s) => s.status)).toEqual(['starting', 'processing', 'succeeded']);
    expect(new Set(result.steps.map((s) => s.webhookId)).size).toBe(3);
    const pushes = result.steps.flatMap((s) => s.pushes);
    expect(pushes[0]).toMatchObject({ kind: 'start', outcome: 'sent', deviceId });
    const outbox = await h.outbox();
    expect(outbox.filter((line) => line.jobId === result.jobId).map((line) => line.kind)).toEqual(expect.arrayContaining(['start', 'end']));
    const activity = (await api.get(`/v1/inspectors/${created.id}/activities/${result.activityId}`)).json as { activity: { color: string; statusWord: string; attributes: { model: string } } };
    expect(activity.activity).toMatchObject({ color: 'green', statusWord: 'SUCCEEDED', attributes: { model: 'acme/test-model' } });
  });

  it('"running" leaves the card running', async () => {
    // prepare
    const created = await createInspector();

    // act
    const result = testJobResultSchema.parse((await api.request('POST', `/v1/inspectors/${created.id}/test`, { outcome: 'running' })).json);

    // assert
    expect(result.steps.map((s) => s.status)).toEqual(['starting', 'processing']);
  });
});

describe('secrets never appear in a read', () => {
  it('scans every read response for keys, hashes, signing secrets, the Replicate token and push tokens', async () => {
    // prepare: every kind of secret the system holds, and traffic that touches them
    const device = await api.request('POST', '/v1/devices', { name: 'Real iPhone', environment: 'production', pushToStartToken: 'ab'.repeat(32) });
    expect(device.status).toBe(201);
    const { id: realDeviceId, secret: deviceSecret } = device.json as { id: string; secret: string };
    const created = await createInspector({ deviceIds: [deviceId, realDeviceId], signingSecrets: [SIGNING_SECRET], replicateApiToken: REPLICATE_TOKEN });
    const rotated = inspectorRotatedSchema.parse((await api.request('POST', `/v1/inspectors/${created.id}/rotate`, { graceSeconds: 60 })).json);
    const test = testJobResultSchema.parse((await api.request('POST', `/v1/inspectors/${created.id}/test`, {})).json);
    await h.server.settle();
    const updateTokens = (await h.outbox()).map((line) => line.target.token);
    const secretsFile = JSON.parse(await readFile(`${h.server.dataDir}/secrets.json`, 'utf8')) as { tagSecret: string; demo: { key: string; deviceSecret: string } };
    const sha = (text: string) => createHash('sha256').update(text).digest('hex');
    const secrets = [
      created.key,
      rotated.key,
      sha(created.key),
      sha(rotated.key),
      SIGNING_SECRET,
      SIGNING_SECRET.slice('whsec_'.length),
      REPLICATE_TOKEN,
      deviceSecret,
      sha(deviceSecret),
      'ab'.repeat(32),
      secretsFile.tagSecret,
      secretsFile.demo.key,
      secretsFile.demo.deviceSecret,
      h.server.localJson.adminToken,
      ...updateTokens,
    ];

    // act: every read route
    const paths = [
      '/v1/inspectors',
      `/v1/inspectors/${created.id}`,
      `/v1/inspectors/${created.id}/events?limit=200`,
      `/v1/inspectors/${created.id}/activities`,
      `/v1/inspectors/${created.id}/activities?state=ended`,
      `/v1/inspectors/${created.id}/activities/${test.activityId}`,
      '/v1/devices',
      '/v1/openapi.json',
      '/inspector',
      '/inspector/app.js',
      '/v1/health',
    ];
    for (const path of paths) expect((await api.get(path)).status).toBe(200);
    await api.request('PATCH', `/v1/inspectors/${created.id}`, { name: 'Still secret-free' });

    // assert
    expect(updateTokens.length).toBeGreaterThan(0);
    expect(api.reads.length).toBe(paths.length + 1);
    for (const body of api.reads) {
      for (const secret of secrets) expect(body.includes(secret) ? secret : null).toBeNull();
      // Data reads (not the OpenAPI document, which describes the token request body) carry no token field at all.
      if (body.startsWith('{') && !body.startsWith('{"openapi"')) expect(body).not.toMatch(/keyHashes|secretHash|"token"\s*:/);
    }
  });
});
