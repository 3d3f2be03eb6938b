/**
 * The direct APNs transport against a real HTTP/2 TLS server on 127.0.0.1 (test/helpers/fake-apns-server.ts)
 * that verifies the provider token with the public key, checks Apple's headers and size limit,
 * and answers with scripted Apple responses.
 *
 * TLS trust: the fake server has a fresh self-signed certificate; the sender is given it through
 * `extraCaPem`, which is added to Node's public roots. Verification stays on (last test: without
 * the extra CA the connection is refused).
 */
import { generateKeyPairSync, type KeyObject } from 'node:crypto';
import { createApnsPushSender, parseApnsEndpoint, type ApnsPushSenderOptions } from '../../lambda/adapters/push/apns-push-sender';
import { classifyApnsAnswer, type ApnsAnswer } from '../../lambda/adapters/push/apns-response';
import type { ApnsPayload, ApnsHeaders, PushKind } from '../../lambda/core/live-activity';
import type { PushMessage, PushResult, PushSender } from '../../lambda/core/push-port';
import { startFakeApnsServer, type FakeApnsServer } from '../helpers/fake-apns-server';

const KEY_ID = 'ABC123DEFG';
const TEAM_ID = 'TEAM123456';
const BUNDLE_ID = 'dev.chirp.app';
const TOPIC = `${BUNDLE_ID}.push-type.liveactivity`;

function ecKey(): { pem: string; publicKey: KeyObject } {
  const { privateKey, publicKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' });
  return { pem: privateKey.export({ type: 'pkcs8', format: 'pem' }).toString(), publicKey };
}

let token = 0;
/** A fresh 64-hex token per call, so scripted answers never leak between tests. */
function newToken(): string {
  token += 1;
  return token.toString(16).padStart(8, '0').repeat(8);
}

function payloadFor(kind: PushKind, now: number, detail = 'step 3/10'): ApnsPayload {
  const base = { status: kind === 'end' ? 'succeeded' : 'processing', startedAt: now - 30, createdAt: now - 40 } as const;
  if (kind === 'start') {
    return {
      aps: {
        timestamp: now,
        event: 'start',
        'content-state': { status: 'starting', startedAt: now, createdAt: now },
        'attributes-type': 'ChirpJobAttributes',
        attributes: {
          activityId: 'act_1',
          provider: 'replicate',
          jobId: 'p_1',
          model: 'black-forest-labs/flux-schnell',
          inspector: 'demo',
          webUrl: 'https://replicate.com/p/p_1',
        },
        alert: { title: 'Replicate job started', body: 'flux-schnell · p_1' },
        'stale-date': now + 900,
        'input-push-token': 1,
      },
    };
  }
  if (kind === 'update') {
    return { aps: { timestamp: now, event: 'update', 'content-state': { ...base, progress: 0.3, detail }, 'stale-date': now + 900 } };
  }
  return { aps: { timestamp: now, event: 'end', 'content-state': { ...base, endedAt: now, predictTime: 29.5 }, 'dismissal-date': now + 3600 } };
}

function messageFor(kind: PushKind, target: { token: string; environment?: 'sandbox' | 'production' }, overrides: Partial<ApnsHeaders> = {}, payload?: ApnsPayload): PushMessage {
  const now = Math.floor(Date.now() / 1000);
  return {
    activityId: 'act_1',
    jobId: 'p_1',
    kind,
    target: {
      deviceId: 'dev_1',
      environment: target.environment ?? 'sandbox',
      token: target.token,
      tokenKind: kind === 'start' ? 'push-to-start' : 'update',
    },
    headers: {
      'apns-push-type': 'liveactivity',
      'apns-topic': TOPIC,
      'apns-priority': kind === 'update' ? '5' : '10',
      'apns-expiration': String(now + (kind === 'update' ? 300 : 600)),
      ...overrides,
    },
    payload: payload ?? payloadFor(kind, now),
  };
}

describe('APNs push sender against a local HTTP/2 APNs', () => {
  const key = ecKey();
  let apns: FakeApnsServer;
  const senders: PushSender[] = [];

  function sender(extra: Partial<ApnsPushSenderOptions> = {}): PushSender {
    const s = createApnsPushSender({ keyPem: key.pem, keyId: KEY_ID, teamId: TEAM_ID, endpoint: apns.endpoint, extraCaPem: apns.caPem, ...extra });
    senders.push(s);
    return s;
  }

  beforeAll(async () => {
    apns = await startFakeApnsServer({ publicKey: key.publicKey, keyId: KEY_ID, teamId: TEAM_ID, bundleId: BUNDLE_ID });
  });
  afterEach(async () => {
    jest.restoreAllMocks();
    await Promise.all(senders.splice(0).map((s) => s.close?.()));
    apns.reset();
  });
  afterAll(async () => {
    await apns.close();
  });

  it('sends start, update and end with the exact payload and Apple headers over one HTTP/2 session', async () => {
    const s = sender();
    const startToken = newToken();
    const updateToken = newToken();
    const sessionsBefore = apns.sessionCount;
    const start = messageFor('start', { token: startToken });
    const update = messageFor('update', { token: updateToken });
    const end = messageFor('end', { token: updateToken });

    const results = [await s.send(start), await s.send(update), await s.send(end)];
    // a burst of concurrent pushes rides the same connection too
    const burst = await Promise.all([1, 2, 3, 4].map(() => s.send(messageFor('update', { token: updateToken }))));

    for (const r of [...results, ...burst]) {
      expect(r).toEqual({ outcome: 'sent', transport: 'apns', id: expect.stringMatching(/^[0-9A-F-]{36}$/) });
    }
    expect(apns.sessionCount - sessionsBefore).toBe(1);
    expect(new Set(apns.requests.map((r) => r.session)).size).toBe(1);
    expect(apns.requests).toHaveLength(7);

    const [rs, ru, re] = apns.requests;
    for (const [req, msg] of [
      [rs, start],
      [ru, update],
      [re, end],
    ] as const) {
      expect(req?.method).toBe('POST');
      expect(req?.path).toBe(`/3/device/${msg.target.token}`);
      expect(req?.headers['apns-push-type']).toBe('liveactivity');
      expect(req?.headers['apns-topic']).toBe(TOPIC);
      expect(req?.headers['apns-topic']).toMatch(/\.push-type\.liveactivity$/);
      expect(req?.headers['apns-priority']).toBe(msg.headers['apns-priority']);
      expect(req?.headers['apns-expiration']).toBe(msg.headers['apns-expiration']);
      // byte for byte what the core built: node-apn did not restructure `aps`
      expect(req?.body).toBe(JSON.stringify(msg.payload));
      expect(req?.json).toEqual(msg.payload);
      expect(req?.status).toBe(200);
    }
    expect(rs?.headers['apns-priority']).toBe('10');
    expect(ru?.headers['apns-priority']).toBe('5');
    expect(re?.headers['apns-priority']).toBe('10');
    expect((rs?.json as ApnsPayload).aps['input-push-token']).toBe(1);
  });

  it('signs an ES256 provider token with kid and iss that the server verifies with the public key', async () => {
    const s = sender();
    const before = Math.floor(Date.now() / 1000);
    await expect(s.send(messageFor('update', { token: newToken() }))).resolves.toMatchObject({ outcome: 'sent' });
    const [req] = apns.requests;
    expect(req?.headers['authorization']).toMatch(/^bearer [\w-]+\.[\w-]+\.[\w-]+$/);
    expect(req?.jwt?.header).toMatchObject({ alg: 'ES256', kid: KEY_ID });
    expect(req?.jwt?.claims).toMatchObject({ iss: TEAM_ID });
    expect(req?.jwt?.claims.iat).toBeGreaterThanOrEqual(before - 1);
    expect(req?.jwt?.claims.iat).toBeLessThanOrEqual(Math.floor(Date.now() / 1000));
  });

  it('routes both environments to the APNS_ENDPOINT override and keeps one connection for it', async () => {
    const s = sender();
    const sessionsBefore = apns.sessionCount;
    await expect(s.send(messageFor('update', { token: newToken(), environment: 'sandbox' }))).resolves.toMatchObject({ outcome: 'sent' });
    await expect(s.send(messageFor('update', { token: newToken(), environment: 'production' }))).resolves.toMatchObject({ outcome: 'sent' });
    expect(apns.sessionCount - sessionsBefore).toBe(1);
  });

  it('reuses the JWT for under 55 minutes and re-mints it after, inside Apple\'s 20–60 minute window', async () => {
    const realNow = Date.now.bind(Date);
    let offsetMs = 0;
    jest.spyOn(Date, 'now').mockImplementation(() => realNow() + offsetMs);
    const s = sender();
    const t = newToken();
    const jwtAt = async (minutes: number): Promise<{ raw: string; iat: unknown }> => {
      offsetMs = minutes * 60_000;
      await expect(s.send(messageFor('update', { token: t }))).resolves.toMatchObject({ outcome: 'sent' });
      const last = apns.requests[apns.requests.length - 1];
      return { raw: last?.jwt?.raw ?? '', iat: last?.jwt?.claims.iat };
    };
    const first = await jwtAt(0);
    const at20 = await jwtAt(20);
    const at54 = await jwtAt(54);
    const at56 = await jwtAt(56);
    const at75 = await jwtAt(75);
    const at112 = await jwtAt(112);

    expect(at20.raw).toBe(first.raw); // not refreshed more often than every 20 min
    expect(at54.raw).toBe(first.raw);
    expect(at56.raw).not.toBe(first.raw); // refreshed before Apple's 60-minute expiry
    expect(at56.iat).toBeGreaterThanOrEqual((first.iat as number) + 55 * 60);
    expect(at75.raw).toBe(at56.raw);
    expect(at112.raw).not.toBe(at56.raw);
    expect(new Set(apns.requests.map((r) => r.session)).size).toBe(1);
  });

  it('re-mints the provider token and retries once after 403 ExpiredProviderToken', async () => {
    const s = sender();
    const t = newToken();
    apns.respondOnce(t, { status: 403, reason: 'ExpiredProviderToken' });
    await expect(s.send(messageFor('update', { token: t }))).resolves.toMatchObject({ outcome: 'sent' });
    const reqs = apns.requestsFor(t);
    expect(reqs.map((r) => r.status)).toEqual([403, 200]);
    expect(reqs[1]?.jwt?.raw).not.toBe(reqs[0]?.jwt?.raw);
  });

  it.each([
    [{ status: 410, reason: 'Unregistered' }, { outcome: 'retire-token', status: 410, reason: 'Unregistered' }],
    [{ status: 410, reason: 'ExpiredToken' }, { outcome: 'retire-token', status: 410, reason: 'ExpiredToken' }],
    [{ status: 400, reason: 'BadDeviceToken' }, { outcome: 'retire-token', status: 400, reason: 'BadDeviceToken' }],
    [{ status: 429, reason: 'TooManyRequests' }, { outcome: 'retry-later', status: 429, reason: 'TooManyRequests' }],
    [{ status: 500, reason: 'InternalServerError' }, { outcome: 'retry-later', status: 500, reason: 'InternalServerError' }],
    [{ status: 503, reason: 'ServiceUnavailable' }, { outcome: 'retry-later', status: 503, reason: 'ServiceUnavailable' }],
    [{ status: 403, reason: 'BadEnvironmentKeyIdInToken' }, { outcome: 'fix-config', status: 403, reason: 'BadEnvironmentKeyIdInToken' }],
    [{ status: 400, reason: 'TopicDisallowed' }, { outcome: 'fix-config', status: 400, reason: 'TopicDisallowed' }],
  ])('maps scripted %j to %j, with exactly one request (no library retries)', async (response, expected) => {
    const s = sender();
    const t = newToken();
    apns.respond(t, response);
    await expect(s.send(messageFor('update', { token: t }))).resolves.toEqual({ transport: 'apns', ...expected });
    expect(apns.requestsFor(t)).toHaveLength(1);
  });

  it('gets 400 DeviceTokenNotForTopic for a topic without .push-type.liveactivity: fix-config, not retire', async () => {
    const s = sender();
    const result = await s.send(messageFor('update', { token: newToken() }, { 'apns-topic': BUNDLE_ID }));
    expect(result).toEqual({ outcome: 'fix-config', transport: 'apns', status: 400, reason: 'DeviceTokenNotForTopic' });
  });

  it('gets 413 PayloadTooLarge for a body over 4096 bytes: fix-config', async () => {
    const s = sender();
    const now = Math.floor(Date.now() / 1000);
    const big = payloadFor('update', now, 'x'.repeat(5000));
    const result = await s.send(messageFor('update', { token: newToken() }, {}, big));
    expect(result).toEqual({ outcome: 'fix-config', transport: 'apns', status: 413, reason: 'PayloadTooLarge' });
  });

  it('gets 403 InvalidProviderToken when signing with a key Apple does not know: fix-config', async () => {
    const s = sender({ keyPem: ecKey().pem });
    const result = await s.send(messageFor('update', { token: newToken() }));
    expect(result).toEqual({ outcome: 'fix-config', transport: 'apns', status: 403, reason: 'InvalidProviderToken' });
  });

  it('classifies a timeout as retry-later and opens a fresh connection for the next push', async () => {
    const s = sender({ requestTimeoutMs: 300 });
    const t = newToken();
    await expect(s.send(messageFor('update', { token: t }))).resolves.toMatchObject({ outcome: 'sent' });
    const sessionsBefore = apns.sessionCount;
    apns.respondOnce(t, { status: 200, delayMs: 1500 });
    const timedOut = await s.send(messageFor('update', { token: t }));
    expect(timedOut).toMatchObject({ outcome: 'retry-later', transport: 'apns', reason: expect.stringMatching(/^network: /) });
    expect(timedOut).not.toHaveProperty('status');
    await expect(s.send(messageFor('update', { token: t }))).resolves.toMatchObject({ outcome: 'sent' });
    expect(apns.sessionCount - sessionsBefore).toBe(1);
  });

  it('classifies a reset stream as retry-later', async () => {
    const s = sender();
    const t = newToken();
    apns.respondOnce(t, { status: 0, resetStream: true });
    await expect(s.send(messageFor('end', { token: t }))).resolves.toMatchObject({ outcome: 'retry-later', transport: 'apns' });
  });

  it('retires a token that is not hex without sending, and reports a bad key or expiration as fix-config', async () => {
    await expect(sender().send(messageFor('update', { token: 'not/hex' }))).resolves.toMatchObject({ outcome: 'retire-token' });
    await expect(sender({ keyPem: 'AuthKey_ABC.p8' }).send(messageFor('update', { token: newToken() }))).resolves.toMatchObject({
      outcome: 'fix-config',
      reason: expect.stringMatching(/not a PEM private key/),
    });
    await expect(sender().send(messageFor('update', { token: newToken() }, { 'apns-expiration': 'soon' }))).resolves.toMatchObject({
      outcome: 'fix-config',
      reason: expect.stringMatching(/^BadExpirationDate/),
    });
    expect(apns.requests).toHaveLength(0);
  });

  it('verifies the server certificate: without the extra CA the push never reaches the server', async () => {
    const s = createApnsPushSender({ keyPem: key.pem, keyId: KEY_ID, teamId: TEAM_ID, endpoint: apns.endpoint, requestTimeoutMs: 2000 });
    senders.push(s);
    const result = await s.send(messageFor('update', { token: newToken() }));
    expect(result).toMatchObject({ outcome: 'fix-config', transport: 'apns', reason: expect.stringMatching(/^TLS: .*certificate/i) });
    expect(apns.requests).toHaveLength(0);
  });
});

describe('classifyApnsAnswer (Apple response table)', () => {
  it.each<[ApnsAnswer, Partial<PushResult>]>([
    [{ status: 200, apnsId: 'A-1' }, { outcome: 'sent', id: 'A-1' }],
    [{ status: 410, reason: 'Unregistered' }, { outcome: 'retire-token' }],
    [{ status: 410, reason: 'ExpiredToken' }, { outcome: 'retire-token' }],
    [{ status: 400, reason: 'BadDeviceToken' }, { outcome: 'retire-token' }],
    [{ status: 400, reason: 'DeviceTokenNotForTopic' }, { outcome: 'fix-config' }],
    [{ status: 400, reason: 'BadTopic' }, { outcome: 'fix-config' }],
    [{ status: 400, reason: 'TopicDisallowed' }, { outcome: 'fix-config' }],
    [{ status: 400, reason: 'InvalidPushType' }, { outcome: 'fix-config' }],
    [{ status: 400, reason: 'BadPriority' }, { outcome: 'fix-config' }],
    [{ status: 400, reason: 'BadExpirationDate' }, { outcome: 'fix-config' }],
    [{ status: 400, reason: 'PayloadEmpty' }, { outcome: 'fix-config' }],
    [{ status: 400, reason: 'IdleTimeout' }, { outcome: 'retry-later' }],
    [{ status: 403, reason: 'ExpiredProviderToken' }, { outcome: 'fix-config' }],
    [{ status: 403, reason: 'InvalidProviderToken' }, { outcome: 'fix-config' }],
    [{ status: 403, reason: 'MissingProviderToken' }, { outcome: 'fix-config' }],
    [{ status: 403, reason: 'BadEnvironmentKeyIdInToken' }, { outcome: 'fix-config' }],
    [{ status: 405, reason: 'MethodNotAllowed' }, { outcome: 'fix-config' }],
    [{ status: 413, reason: 'PayloadTooLarge' }, { outcome: 'fix-config' }],
    [{ status: 429, reason: 'TooManyRequests' }, { outcome: 'retry-later' }],
    [{ status: 429, reason: 'TooManyProviderTokenUpdates' }, { outcome: 'retry-later' }],
    [{ status: 500, reason: 'InternalServerError' }, { outcome: 'retry-later' }],
    [{ status: 503, reason: 'ServiceUnavailable' }, { outcome: 'retry-later' }],
    [{ status: 503, reason: 'Shutdown' }, { outcome: 'retry-later' }],
    [{ error: 'apn write timeout' }, { outcome: 'retry-later', reason: 'network: apn write timeout' }],
    [{ error: 'apn write failed: read ECONNRESET' }, { outcome: 'retry-later' }],
    [{ error: 'apn write failed: self-signed certificate' }, { outcome: 'fix-config' }],
  ])('%j → %j', (answer, expected) => {
    const result = classifyApnsAnswer(answer);
    expect(result).toMatchObject({ transport: 'apns', ...expected });
    if (answer.status !== undefined && answer.status !== 200) expect(result).toMatchObject({ status: answer.status, reason: answer.reason });
  });
});

describe('parseApnsEndpoint', () => {
  it.each([
    ['127.0.0.1:8443', { address: '127.0.0.1', port: 8443 }],
    ['https://127.0.0.1:8443', { address: '127.0.0.1', port: 8443 }],
    ['https://apns.internal', { address: 'apns.internal', port: 443 }],
    ['localhost:2197', { address: 'localhost', port: 2197 }],
  ])('%s', (input, expected) => {
    expect(parseApnsEndpoint(input)).toEqual(expected);
  });
  it('rejects http and paths', () => {
    expect(() => parseApnsEndpoint('http://127.0.0.1:80')).toThrow(/https/);
    expect(() => parseApnsEndpoint('https://host:1/x')).toThrow(/path/);
  });
});
