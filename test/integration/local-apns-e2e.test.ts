/**
 * End to end, local mode with the direct APNs transport pointed at a fake APNs
 * (test/helpers/fake-apns-server.ts: HTTP/2 over TLS on 127.0.0.1, verifies the ES256 provider
 * token with the public key, checks Apple's headers and the 4096-byte limit, answers with
 * scripted Apple responses).
 *
 * 1. In process: `startLocalServer` with `createApnsPushSender({ endpoint, extraCaPem })`, driven
 *    only through the real HTTP routes for devices, webhooks and activity tokens: register a
 *    device, run a Replicate lifecycle, report the activity token, and see start, update and end
 *    arrive in order with the right topic, push type and priorities. Then 410s: an update token
 *    Apple retired gets no more pushes, a retired push-to-start token is removed from the device
 *    (and a rotated one brings cards back).
 * 2. The real `npm start` entry (bin/local.ts) as a child process with CHIRP_PUSH_TRANSPORT=apns,
 *    APNS_ENDPOINT and APNS_CA_FILE: the demo inspector's job reaches the fake APNs over verified TLS.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { generateKeyPairSync, type KeyObject } from 'node:crypto';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { createApnsPushSender } from '../../lambda/adapters/push/apns-push-sender';
import { activityIdFor } from '../../lambda/core/activity';
import { createInspector, webhookUrlFor } from '../../lambda/core/directory';
import type { ApnsPayload } from '../../lambda/core/live-activity';
import { startLocalServer, type LocalJson, type LocalServer } from '../../local/local-server';
import { lifecycleSnapshots } from '../../local/replicate-simulator';
import { startFakeApnsServer, type FakeApnsRequest, type FakeApnsServer } from '../helpers/fake-apns-server';

const KEY_ID = 'E2EKEY1234';
const TEAM_ID = 'E2ETEAM123';
const BUNDLE_ID = 'dev.chirp.e2e';
const TOPIC = `${BUNDLE_ID}.push-type.liveactivity`;
const PUSH_TO_START = 'a1b2'.repeat(16);
const ROTATED_PUSH_TO_START = 'f00d'.repeat(16);

let keyPem: string;
let publicKey: KeyObject;
let apns: FakeApnsServer;

beforeAll(async () => {
  const pair = generateKeyPairSync('ec', { namedCurve: 'P-256' });
  keyPem = pair.privateKey.export({ type: 'pkcs8', format: 'pem' }).toString();
  publicKey = pair.publicKey;
  apns = await startFakeApnsServer({ publicKey, keyId: KEY_ID, teamId: TEAM_ID, bundleId: BUNDLE_ID });
});

afterAll(async () => {
  await apns.close();
});

function aps(request: FakeApnsRequest): ApnsPayload['aps'] {
  return (request.json as ApnsPayload).aps;
}

/** Resolves once `condition` holds, checking after each turn of the event loop (bounded). */
async function until(condition: () => boolean, what: string, attempts = 2000): Promise<void> {
  for (let i = 0; i < attempts; i++) {
    if (condition()) return;
    await new Promise((r) => setTimeout(r, 10));
  }
  throw new Error(`timed out waiting for ${what}`);
}

describe('local mode with CHIRP_PUSH_TRANSPORT=apns against a fake APNs', () => {
  let server: LocalServer;
  let dataDir: string;
  let deviceId: string;
  let deviceSecret: string;
  let webhookUrl: string;
  let inspectorId: string;

  async function api(method: string, path: string, token: string, body?: unknown): Promise<{ status: number; json: Record<string, unknown> }> {
    const response = await fetch(`${server.url}${path}`, {
      method,
      headers: { authorization: `Bearer ${token}`, ...(body === undefined ? {} : { 'content-type': 'application/json' }) },
      ...(body === undefined ? {} : { body: JSON.stringify(body) }),
    });
    const text = await response.text();
    return { status: response.status, json: text ? (JSON.parse(text) as Record<string, unknown>) : {} };
  }

  async function webhook(snapshot: Record<string, unknown>): Promise<Record<string, unknown>> {
    const response = await fetch(webhookUrl, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(snapshot) });
    expect(response.status).toBe(200);
    return (await response.json()) as Record<string, unknown>;
  }

  /** The snapshots of one prediction: starting, three processing steps, succeeded. */
  function job(id: string): Record<string, unknown>[] {
    return lifecycleSnapshots({ id, stream: true, steps: 3, startMs: Date.now(), intervalMs: 0 });
  }

  beforeAll(async () => {
    dataDir = await mkdtemp(join(tmpdir(), 'chirp-e2e-'));
    server = await startLocalServer({
      dataDir,
      port: 0,
      host: '127.0.0.1',
      logLevel: 'SILENT',
      bundleId: BUNDLE_ID,
      push: createApnsPushSender({ keyPem, keyId: KEY_ID, teamId: TEAM_ID, endpoint: apns.endpoint, extraCaPem: apns.caPem }),
    });
    // Register the phone through the API with the admin token from local.json.
    const localJson = JSON.parse(await readFile(join(dataDir, 'local.json'), 'utf8')) as LocalJson;
    const created = await api('POST', '/v1/devices', localJson.adminToken, { name: 'Ana’s iPhone', environment: 'sandbox', pushToStartToken: PUSH_TO_START, frequentPushesEnabled: true });
    expect(created.status).toBe(201);
    deviceId = String(created.json.id);
    deviceSecret = String(created.json.secret);
    const { inspector, key } = await createInspector(server.deps, { name: 'e2e', deviceIds: [deviceId] });
    inspectorId = inspector.id;
    webhookUrl = webhookUrlFor(server.url, key);
  });

  afterAll(async () => {
    await server.close();
    await rm(dataDir, { recursive: true, force: true });
  });

  test('start, update and end arrive in order at APNs, with the Live Activity topic, push type and priorities', async () => {
    // Prepare
    apns.reset();
    const [starting, p1, p2, p3, succeeded] = job('e2ehappy0000000000000000a');
    const updateToken = 'cafe'.repeat(20);

    // Act: the job starts; progress arrives before the app has its update token; the app reports it; the job ends
    await webhook(starting!);
    const start = apns.requestsFor(PUSH_TO_START)[0]!;
    const activityId = String((aps(start).attributes as { activityId: string }).activityId);
    for (const snapshot of [p1!, p2!, p3!]) await webhook(snapshot);
    const beforeToken = apns.requests.length;
    const reported = await api('PUT', `/v1/activities/${activityId}/token`, deviceSecret, { token: updateToken });
    await webhook(succeeded!);

    // Assert
    expect(beforeToken).toBe(1); // state waited for the update token
    expect(reported).toEqual({ status: 200, json: { ok: true, activityId, pushes: [{ deviceId, kind: 'update', outcome: 'sent', transport: 'apns' }] } });
    expect(activityId).toBe(activityIdFor(inspectorId, 'e2ehappy0000000000000000a'));
    const pushes = apns.requests;
    expect(pushes.map((r) => [r.token, aps(r).event, r.headers['apns-priority']])).toEqual([
      [PUSH_TO_START, 'start', '10'],
      [updateToken, 'update', '5'],
      [updateToken, 'end', '10'],
    ]);
    for (const r of pushes) {
      expect(r.status).toBe(200); // the fake verified the ES256 provider token and Apple's headers
      expect(r.headers['apns-topic']).toBe(TOPIC);
      expect(r.headers['apns-push-type']).toBe('liveactivity');
      expect(Number(r.headers['apns-expiration'])).toBeGreaterThan(aps(r).timestamp);
      expect(Buffer.byteLength(r.body)).toBeLessThanOrEqual(4096);
      expect(r.jwt?.header).toMatchObject({ alg: 'ES256', kid: KEY_ID });
    }
    const timestamps = pushes.map((r) => aps(r).timestamp);
    expect(timestamps[0]!).toBeLessThan(timestamps[1]!);
    expect(timestamps[1]!).toBeLessThan(timestamps[2]!);
    expect(pushes.map((r) => aps(r)['content-state'].status)).toEqual(['starting', 'processing', 'succeeded']);
    expect(aps(pushes[0]!)).toMatchObject({ 'attributes-type': 'ChirpJobAttributes', 'input-push-token': 1 });
    expect(aps(pushes[2]!)['dismissal-date']).toBeGreaterThan(timestamps[2]!);
    expect(new Set(pushes.map((r) => r.session)).size).toBe(1); // one reused HTTP/2 connection
  });

  test('410 Unregistered for an update token retires it: the device is stopped for that card and nothing more goes to the token', async () => {
    // Prepare
    apns.reset();
    const [starting, p1, p2, p3, succeeded] = job('e2eretire000000000000000b');
    const doomed = 'dead'.repeat(20);
    apns.respond(doomed, { status: 410, reason: 'Unregistered' });
    await webhook(starting!);
    const activityId = activityIdFor(inspectorId, 'e2eretire000000000000000b');
    await webhook(p1!);

    // Act
    const reported = await api('PUT', `/v1/activities/${activityId}/token`, deviceSecret, { token: doomed });
    await webhook(p2!);
    await webhook(p3!);
    await webhook(succeeded!);

    // Assert
    expect(reported.json.pushes).toEqual([{ deviceId, kind: 'update', outcome: 'retire-token', transport: 'apns', reason: 'Unregistered', status: 410 }]);
    expect(apns.requestsFor(doomed)).toHaveLength(1);
    const saved = (await server.deps.activities.get(activityId))!.value.devices[deviceId]!;
    expect(saved.stopped).toBe('update token retired: Unregistered');
    expect(saved.token).toBeUndefined();
    const events = await server.deps.activities.listEvents(inspectorId, { limit: 20 });
    expect(events.items.some((e) => e.activityId === activityId && e.pushes.some((p) => p.outcome === 'retire-token' && p.status === 410))).toBe(true);
  });

  test('410 on the push-to-start token removes it from the device; no card starts until the app rotates it', async () => {
    // Prepare
    apns.reset();
    apns.respond(PUSH_TO_START, { status: 410, reason: 'Unregistered' });
    const [startingA] = job('e2estartdead00000000000c1');
    const [startingB] = job('e2estartdead00000000000c2');
    const [startingC] = job('e2estartdead00000000000c3');

    // Act
    const first = await webhook(startingA!);
    const deviceAfter = await server.deps.keys.getDevice(deviceId);
    const second = await webhook(startingB!);
    const rotated = await api('PATCH', `/v1/devices/${deviceId}`, deviceSecret, { pushToStartToken: ROTATED_PUSH_TO_START });
    await webhook(startingC!);

    // Assert
    expect(first.pushes).toEqual([{ deviceId, kind: 'start', outcome: 'retire-token', transport: 'apns', reason: 'Unregistered', status: 410 }]);
    expect(deviceAfter?.pushToStartToken).toBeUndefined();
    expect(second.pushes).toEqual([]);
    expect((await server.deps.activities.get(activityIdFor(inspectorId, 'e2estartdead00000000000c2')))!.value.devices[deviceId]!.stopped).toBe('device has no push-to-start token');
    expect(apns.requestsFor(PUSH_TO_START)).toHaveLength(1);
    expect(rotated.json).toMatchObject({ id: deviceId, hasPushToStartToken: true });
    expect(apns.requestsFor(ROTATED_PUSH_TO_START).map((r) => [aps(r).event, r.status])).toEqual([['start', 200]]);
  });
});

describe('npm start (bin/local.ts) with CHIRP_PUSH_TRANSPORT=apns, APNS_ENDPOINT and APNS_CA_FILE', () => {
  let dir: string;
  let child: ChildProcess | undefined;
  let output = '';

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'chirp-e2e-bin-'));
  });

  afterAll(async () => {
    if (child && child.exitCode === null) {
      const exited = new Promise<void>((r) => child!.once('exit', () => r()));
      child.kill('SIGTERM');
      await exited;
    }
    await rm(dir, { recursive: true, force: true });
  });

  test('the demo job reaches the fake APNs over TLS trusted through APNS_CA_FILE, start before end', async () => {
    // Prepare
    apns.reset();
    const keyFile = join(dir, 'AuthKey_E2E.p8');
    await writeFile(keyFile, keyPem, { mode: 0o600 });
    const dataDir = join(dir, 'data');
    child = spawn(process.execPath, ['--import', 'tsx', 'bin/local.ts'], {
      cwd: resolve(__dirname, '../..'),
      env: {
        PATH: process.env.PATH,
        HOME: process.env.HOME,
        PORT: '0',
        HOST: '127.0.0.1',
        CHIRP_DATA_DIR: dataDir,
        CHIRP_SWEEP_INTERVAL_S: '0',
        CHIRP_PUSH_TRANSPORT: 'apns',
        APNS_KEY_FILE: keyFile,
        APNS_KEY_ID: KEY_ID,
        APNS_TEAM_ID: TEAM_ID,
        APNS_BUNDLE_ID: BUNDLE_ID,
        APNS_ENDPOINT: apns.endpoint,
        APNS_CA_FILE: apns.writeCaFile(dir),
        LOG_LEVEL: 'ERROR',
        NO_COLOR: '1',
      },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    child.stdout?.on('data', (chunk: Buffer) => (output += chunk.toString()));
    child.stderr?.on('data', (chunk: Buffer) => (output += chunk.toString()));
    await until(() => output.includes('/v1/webhooks/replicate') || child!.exitCode !== null, 'the server banner');
    expect(child.exitCode).toBeNull();
    const localJson = JSON.parse(await readFile(join(dataDir, 'local.json'), 'utf8')) as LocalJson;
    const [starting, , , , succeeded] = lifecycleSnapshots({ id: 'e2ebinary00000000000000d', steps: 3, startMs: Date.now(), intervalMs: 0 });

    // Act: the demo inspector is bound to the simulated iPhone, which reports its update token itself
    for (const snapshot of [starting, succeeded]) {
      const response = await fetch(localJson.inspectors[0]!.webhookUrl, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(snapshot) });
      expect(response.status).toBe(200);
    }
    await until(() => apns.requests.some((r) => aps(r).event === 'end'), 'the end push');

    // Assert
    expect(apns.requests.map((r) => [aps(r).event, r.status, r.headers['apns-topic'], r.headers['apns-priority']])).toEqual([
      ['start', 200, TOPIC, '10'],
      ['end', 200, TOPIC, '10'],
    ]);
  });
});
