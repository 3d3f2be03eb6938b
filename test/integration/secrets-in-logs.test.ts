/**
 * Secrets never reach the logs. The real local server runs a full scenario with logging at
 * DEBUG, driven only over HTTP: a device registered, an inspector with a signing secret and a
 * Replicate token, a signed Replicate lifecycle, the phone's update token, a key rotation,
 * forged and expired keys, a bad signature, a wrong admin token, a sweep that asks Replicate
 * (with the token), a device rotating its push-to-start token, and every read route. Everything
 * written to stdout, stderr and console meanwhile is captured and searched for every credential
 * the server holds or was sent. (Read API bodies are scanned in api-inspectors.test.ts.)
 */
import { readFile } from 'node:fs/promises';
import { randomBytes } from 'node:crypto';
import type { OutboxLine } from '../../lambda/adapters/push/outbox-push-sender';
import { signReplicateBody } from '../../lambda/core/replicate-signature';
import { lifecycleSnapshots, simulateReplicateLifecycle } from '../../local/replicate-simulator';
import { adminClient } from '../helpers/admin-client';
import { startFakeReplicateApi, type FakeReplicateApi } from '../helpers/fake-replicate-api';
import { startHarness, type Harness } from '../helpers/local-harness';

const SIGNING_SECRET = `whsec_${randomBytes(24).toString('base64')}`;
const OTHER_SIGNING_SECRET = `whsec_${randomBytes(24).toString('base64')}`;
const REPLICATE_TOKEN = `r8_${randomBytes(20).toString('hex')}`;
const PUSH_TO_START = randomBytes(32).toString('hex');
const ROTATED_PUSH_TO_START = randomBytes(32).toString('hex');
const UPDATE_TOKEN = randomBytes(40).toString('hex');
const WRONG_ADMIN_TOKEN = `chirp_admin_${randomBytes(24).toString('base64url')}`;

/** Everything written to stdout, stderr and console while active; nothing reaches the terminal. */
function captureOutput(): { text(): string; restore(): void } {
  const chunks: string[] = [];
  const originals = { stdout: process.stdout.write, stderr: process.stderr.write };
  const grab = ((chunk: string | Uint8Array, ...rest: unknown[]) => {
    chunks.push(typeof chunk === 'string' ? chunk : Buffer.from(chunk).toString('utf8'));
    const callback = rest.find((arg): arg is () => void => typeof arg === 'function');
    callback?.();
    return true;
  }) as typeof process.stdout.write;
  process.stdout.write = grab;
  process.stderr.write = grab;
  const spies = (['log', 'info', 'warn', 'error', 'debug'] as const).map((method) =>
    jest.spyOn(console, method).mockImplementation((...args: unknown[]) => {
      chunks.push(`${args.map((a) => (typeof a === 'string' ? a : JSON.stringify(a))).join(' ')}\n`);
    }),
  );
  return {
    text: () => chunks.join(''),
    restore() {
      process.stdout.write = originals.stdout;
      process.stderr.write = originals.stderr;
      for (const spy of spies) spy.mockRestore();
    },
  };
}

interface LogLine {
  level: string;
  message: string;
  timestamp: string;
  service: string;
  requestId?: string;
}

describe('secrets in logs', () => {
  let fake: FakeReplicateApi;
  let h: Harness | undefined;
  let output: ReturnType<typeof captureOutput>;

  beforeEach(async () => {
    fake = await startFakeReplicateApi();
  });

  afterEach(async () => {
    output.restore();
    await h?.close();
    await fake.close();
  });

  test('a full scenario at DEBUG logs no key, token, signing secret or device credential', async () => {
    // prepare: capture everything from before the server starts
    output = captureOutput();
    h = await startHarness({ logLevel: 'DEBUG', replicateApiBase: fake.url });
    const server = h.server;
    const api = adminClient(server.url, server.localJson.adminToken);
    const sent: { what: string; credential: string }[] = [];
    const requestIds: string[] = [];
    const webhook = async (url: string, body: string, headers: Record<string, string> = {}) => {
      const response = await fetch(url, { method: 'POST', headers: { 'content-type': 'application/json', ...headers }, body });
      requestIds.push(response.headers.get('x-request-id') ?? '');
      await server.settle();
      return response.status;
    };
    const signed = (body: string, id: string, secret = SIGNING_SECRET) => {
      const timestamp = Math.floor(h!.clock.now / 1000);
      return { 'webhook-id': id, 'webhook-timestamp': String(timestamp), 'webhook-signature': signReplicateBody(body, id, timestamp, secret) };
    };

    // act 1: a device and an inspector, created over HTTP with the admin token
    const device = await api.request('POST', '/v1/devices', { name: 'Real iPhone', environment: 'sandbox', pushToStartToken: PUSH_TO_START });
    const { id: deviceId, secret: deviceSecret } = device.json as { id: string; secret: string };
    const created = await api.request('POST', '/v1/inspectors', { name: 'Secret keeper', deviceIds: [deviceId], signingSecrets: [SIGNING_SECRET], replicateApiToken: REPLICATE_TOKEN });
    const inspector = created.json as { id: string; key: string; webhookUrl: string };

    // act 2: a signed streaming lifecycle, then the phone reports its update token (the end goes out)
    const deliveries = await simulateReplicateLifecycle({ url: inspector.webhookUrl, secret: SIGNING_SECRET, stream: true, steps: 6, intervalMs: 0, clock: () => h!.clock.now });
    await server.settle();
    const startLine = (await h.outbox()).find((line: OutboxLine) => line.kind === 'start' && line.target.deviceId === deviceId)!;
    const activityId = startLine.payload.aps.attributes!.activityId;
    const tokenReport = await fetch(`${server.url}/v1/activities/${encodeURIComponent(activityId)}/token`, {
      method: 'PUT',
      headers: { authorization: `Bearer ${deviceSecret}`, 'content-type': 'application/json' },
      body: JSON.stringify({ token: UPDATE_TOKEN }),
    });

    // act 3: a job left running (one delivery repeated), which the sweep reconciles with Replicate's API (using the token)
    const quiet = lifecycleSnapshots({ id: 'quietjob0000000000000000a', startMs: h.clock.now, intervalMs: 500, steps: 2 });
    for (const [i, snapshot] of quiet.slice(0, 2).entries()) {
      const body = JSON.stringify(snapshot);
      expect(await webhook(inspector.webhookUrl, body, signed(body, `msg_quiet_${i}`))).toBe(200);
    }
    const again = JSON.stringify(quiet[1]);
    expect(await webhook(inspector.webhookUrl, again, signed(again, 'msg_quiet_1'))).toBe(200);
    fake.answer('quietjob0000000000000000a', { body: quiet[quiet.length - 1] });
    h.clock.advance(121);

    // act 4: rotation; then forged, expired and wrongly signed webhooks; a wrong admin token
    const rotated = (await api.request('POST', `/v1/inspectors/${inspector.id}/rotate`, { graceSeconds: 60 })).json as { key: string; webhookUrl: string };
    const body = JSON.stringify(quiet[0]);
    const forgedKey = `${rotated.key.slice(0, -1)}${rotated.key.endsWith('A') ? 'B' : 'A'}`;
    sent.push({ what: 'a forged key (the new one, one character off)', credential: forgedKey });
    const rejected = [
      await webhook(inspector.webhookUrl.replace(encodeURIComponent(inspector.key), encodeURIComponent(forgedKey)), body, signed(body, 'msg_forged')),
      await webhook(rotated.webhookUrl, body, signed(body, 'msg_badsig', OTHER_SIGNING_SECRET)),
      await webhook(rotated.webhookUrl, body, { ...signed(body, 'msg_tampered'), 'webhook-signature': `v1,${randomBytes(32).toString('base64')}` }),
    ];
    h.clock.advance(61);
    rejected.push(await webhook(inspector.webhookUrl, body, signed(body, 'msg_expired_key')));
    sent.push({ what: 'a wrong admin token', credential: WRONG_ADMIN_TOKEN });
    const wrongAdmin = await api.request('GET', '/v1/inspectors', undefined, { token: WRONG_ADMIN_TOKEN });
    const deviceOnAdminRoute = await api.request('GET', '/v1/inspectors', undefined, { token: deviceSecret });
    const rotatedStart = await fetch(`${server.url}/v1/devices/${deviceId}`, { method: 'PATCH', headers: { authorization: `Bearer ${deviceSecret}`, 'content-type': 'application/json' }, body: JSON.stringify({ pushToStartToken: ROTATED_PUSH_TO_START }) });

    // act 5: a sweep, a test job, and every read route
    const sweep = await api.request('POST', '/v1/admin/sweep', {});
    const testJob = await api.request('POST', `/v1/inspectors/${inspector.id}/test`, {});
    await server.settle();
    const demoId = server.localJson.inspectors[0]!.id;
    const reads = [
      '/v1/health',
      '/v1/devices',
      '/v1/inspectors',
      `/v1/inspectors/${inspector.id}`,
      `/v1/inspectors/${inspector.id}/events?limit=200`,
      `/v1/inspectors/${inspector.id}/activities`,
      `/v1/inspectors/${inspector.id}/activities/${activityId}`,
      `/v1/inspectors/${demoId}`,
      `/v1/inspectors/${demoId}/events`,
      '/v1/openapi.json',
      '/inspector',
    ];
    const readStatuses = [];
    for (const path of reads) readStatuses.push((await api.get(path)).status);
    const outbox = await h.outbox();
    const secretsFile = JSON.parse(await readFile(`${server.dataDir}/secrets.json`, 'utf8')) as { tagSecret: string; adminToken: string; demo: { key: string; deviceSecret: string } };
    await h.close();
    h = undefined;
    output.restore();
    const captured = output.text();

    // assert: the scenario ran as described (so every secret was really exercised)
    expect(device.status).toBe(201);
    expect(created.status).toBe(201);
    expect(deliveries.map((d) => d.httpStatus)).toEqual(deliveries.map(() => 200));
    expect(tokenReport.status).toBe(200);
    expect(outbox.filter((line) => line.target.token === UPDATE_TOKEN).map((line) => line.kind)).toContain('end');
    expect(rejected).toEqual([401, 401, 401, 401]);
    expect([wrongAdmin.status, deviceOnAdminRoute.status, rotatedStart.status, sweep.status, testJob.status]).toEqual([401, 401, 200, 200, 201]);
    expect(fake.requests.map((r) => r.authorization)).toContain(`Bearer ${REPLICATE_TOKEN}`);
    expect(sweep.json).toMatchObject({ reconciled: 1 });
    expect(readStatuses).toEqual(reads.map(() => 200));

    // assert: the logs are real, structured and correlated (a silent logger cannot pass)
    const lines = captured.split('\n').filter((line) => line.trim() !== '');
    const logLines = lines.filter((line) => line.startsWith('{')).map((line) => JSON.parse(line) as LogLine);
    expect(logLines.length).toBeGreaterThanOrEqual(15);
    for (const line of logLines) expect(line).toEqual(expect.objectContaining({ level: expect.any(String), message: expect.any(String), timestamp: expect.any(String), service: 'chirp-local' }));
    const withRequestId = logLines.filter((l) => typeof l.requestId === 'string' && l.requestId.length > 0);
    expect(withRequestId.length).toBeGreaterThanOrEqual(15);
    expect(logLines.map((l) => l.message)).toEqual(expect.arrayContaining(['webhook', 'duplicate webhook', 'request rejected', 'admin sweep']));
    const rejectedIds = requestIds.slice(-4);
    for (const id of rejectedIds) expect(withRequestId.some((l) => l.requestId === id && l.message === 'request rejected')).toBe(true);

    // assert: no secret, whole or by its random part, anywhere in what was written
    const keyBody = (key: string) => key.split('_')[2]!;
    const secrets: [string, string][] = [
      ['the admin token', secretsFile.adminToken],
      ['the key-tag secret', secretsFile.tagSecret],
      ['the demo webhook key', secretsFile.demo.key],
      ['the demo webhook key (random part)', keyBody(secretsFile.demo.key)],
      ['the demo device secret', secretsFile.demo.deviceSecret],
      ['the webhook key', inspector.key],
      ['the webhook key (random part)', keyBody(inspector.key)],
      ['the rotated webhook key', rotated.key],
      ['the rotated webhook key (random part)', keyBody(rotated.key)],
      ['the signing secret', SIGNING_SECRET],
      ['the signing secret (base64 part)', SIGNING_SECRET.slice('whsec_'.length)],
      ['the other signing secret', OTHER_SIGNING_SECRET.slice('whsec_'.length)],
      ['the Replicate API token', REPLICATE_TOKEN],
      ['the device secret', deviceSecret],
      ['the device secret (random part)', keyBody(deviceSecret)],
      ['the push-to-start token', PUSH_TO_START],
      ['the rotated push-to-start token', ROTATED_PUSH_TO_START],
      ['the update token', UPDATE_TOKEN],
      ...outbox.map((line, i): [string, string] => [`outbox token ${i} (${line.target.tokenKind})`, line.target.token]),
      ...sent.map(({ what, credential }): [string, string] => [what, credential]),
    ];
    expect(secrets.every(([, value]) => value.length >= 16)).toBe(true);
    const leaks = secrets.flatMap(([what, value]) => lines.filter((line) => line.includes(value)).map((line) => `${what}: ${line.slice(0, 300)}`));
    expect(leaks).toEqual([]);
  });
});
