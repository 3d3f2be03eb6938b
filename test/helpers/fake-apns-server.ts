/**
 * A local fake of APNs' device endpoint (`POST /3/device/<token>`), real HTTP/2 over TLS on
 * 127.0.0.1, for integration and end-to-end tests.
 *
 * It behaves like Apple where a sender can get things wrong:
 * - verifies the provider token (`authorization: bearer <JWT>`): ES256 signature with the public key
 *   the test generated, `kid`, `iss`, and an `iat` no older than an hour → 403 Missing/Invalid/ExpiredProviderToken;
 * - checks the headers Apple checks (topic, push type, priority, expiration) → 400 with Apple's reasons;
 * - rejects bodies over 4096 bytes → 413 PayloadTooLarge, empty bodies → 400 PayloadEmpty;
 * - answers 200 with an `apns-id`, or whatever the test scripted for a token
 *   (410 Unregistered, 429 TooManyRequests, 500, a reset stream, a delay);
 * - records every request (path, headers, body, decoded JWT, session number) and counts sessions.
 *
 * Usage:
 *   const { privateKey, publicKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' });
 *   const apns = await startFakeApnsServer({ publicKey, keyId: 'KEYID12345', teamId: 'TEAMID1234' });
 *   createApnsPushSender({ keyPem, keyId, teamId, endpoint: apns.endpoint, extraCaPem: apns.caPem });
 *   apns.respond(token, { status: 410, reason: 'Unregistered' });
 *   …
 *   await apns.close();
 * For a sender in a child process, `apns.writeCaFile(dir)` and pass NODE_EXTRA_CA_CERTS=<file>
 * (Node reads that variable only at process start).
 */
import { createPublicKey, randomUUID, verify, type KeyObject } from 'node:crypto';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import {
  constants as h2,
  createSecureServer,
  type Http2SecureServer,
  type IncomingHttpHeaders,
  type OutgoingHttpHeaders,
  type ServerHttp2Session,
  type ServerHttp2Stream,
} from 'node:http2';
import type { AddressInfo } from 'node:net';
import { generate } from 'selfsigned';

export const APNS_MAX_BODY_BYTES = 4096;

export interface DecodedJwt {
  header: { alg?: unknown; kid?: unknown; typ?: unknown };
  claims: { iss?: unknown; iat?: unknown };
  raw: string;
}

export interface FakeApnsRequest {
  /** 1-based number of the HTTP/2 session the request came over. */
  session: number;
  method: string;
  path: string;
  /** The device token from the path (`/3/device/<token>`), if the path had that shape. */
  token?: string;
  headers: Record<string, string>;
  body: string;
  /** `body` parsed as JSON, when it is JSON. */
  json?: unknown;
  jwt?: DecodedJwt;
  /** What the fake answered. */
  status: number;
  reason?: string;
}

export interface ScriptedResponse {
  status: number;
  /** Apple's `reason` (the JSON body); omitted for 200. */
  reason?: string;
  /** For 410: when APNs confirmed the token was no longer valid (ms since epoch). */
  timestamp?: number;
  /** Extra response headers (e.g. `retry-after`). */
  headers?: Record<string, string>;
  /** Wait before answering (timeouts). */
  delayMs?: number;
  /** Reset the stream instead of answering (a network error from the client's point of view). */
  resetStream?: boolean;
}

export interface FakeApnsServerOptions {
  /** Public half of the EC P-256 key the sender signs with (KeyObject or SPKI PEM). */
  publicKey: KeyObject | string;
  keyId: string;
  teamId: string;
  /** When set, `apns-topic` must equal `<bundleId>.push-type.liveactivity` (else 400 DeviceTokenNotForTopic). */
  bundleId?: string;
  /** Clock for the `iat` check, epoch ms. Default Date.now. */
  now?: () => number;
}

export interface FakeApnsServer {
  /** "127.0.0.1:<port>": what `APNS_ENDPOINT` takes. */
  readonly endpoint: string;
  /** "https://127.0.0.1:<port>" */
  readonly url: string;
  readonly port: number;
  /** The server's self-signed certificate (PEM): the one CA a client must trust to reach it. */
  readonly caPem: string;
  /** Every request so far, oldest first. */
  readonly requests: FakeApnsRequest[];
  /** HTTP/2 sessions opened so far (connection reuse check). */
  readonly sessionCount: number;
  /** Answer every push to `token` with `response` (until `reset`). */
  respond(token: string, response: ScriptedResponse): void;
  /** Answer the next pushes to `token` with these, in order, then fall back to `respond`/200. */
  respondOnce(token: string, ...responses: ScriptedResponse[]): void;
  /** Requests whose path carried `token`. */
  requestsFor(token: string): FakeApnsRequest[];
  /** Forget requests and scripts (sessions stay counted and open). */
  reset(): void;
  /** Writes `caPem` to `<dir>/fake-apns-ca.pem` and returns the path (for NODE_EXTRA_CA_CERTS). */
  writeCaFile(dir: string): string;
  close(): Promise<void>;
}

function decodeJwt(raw: string): { decoded?: DecodedJwt; signingInput?: string; signature?: Buffer } {
  const parts = raw.split('.');
  if (parts.length !== 3) return {};
  try {
    const header = JSON.parse(Buffer.from(parts[0] ?? '', 'base64url').toString('utf8')) as DecodedJwt['header'];
    const claims = JSON.parse(Buffer.from(parts[1] ?? '', 'base64url').toString('utf8')) as DecodedJwt['claims'];
    return { decoded: { header, claims, raw }, signingInput: `${parts[0]}.${parts[1]}`, signature: Buffer.from(parts[2] ?? '', 'base64url') };
  } catch {
    return {};
  }
}

function flatHeaders(headers: IncomingHttpHeaders): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [name, value] of Object.entries(headers)) {
    if (value === undefined) continue;
    out[name] = Array.isArray(value) ? value.join(', ') : String(value);
  }
  return out;
}

export async function startFakeApnsServer(options: FakeApnsServerOptions): Promise<FakeApnsServer> {
  const publicKey = typeof options.publicKey === 'string' ? createPublicKey(options.publicKey) : options.publicKey;
  const now = options.now ?? (() => Date.now());
  const pems = await generate([{ name: 'commonName', value: '127.0.0.1' }], {
    keyType: 'ec',
    curve: 'P-256',
    algorithm: 'sha256',
    extensions: [
      { name: 'basicConstraints', cA: false },
      { name: 'keyUsage', digitalSignature: true, critical: true },
      { name: 'extKeyUsage', serverAuth: true },
      { name: 'subjectAltName', altNames: [{ type: 7, ip: '127.0.0.1' }, { type: 2, value: 'localhost' }] },
    ],
  });

  const requests: FakeApnsRequest[] = [];
  const sticky = new Map<string, ScriptedResponse>();
  const queued = new Map<string, ScriptedResponse[]>();
  const sessions = new Set<ServerHttp2Session>();
  const timers = new Set<NodeJS.Timeout>();
  let sessionCount = 0;
  const sessionNumbers = new WeakMap<ServerHttp2Session, number>();

  const server: Http2SecureServer = createSecureServer({ key: pems.private, cert: pems.cert, allowHTTP1: false });

  server.on('session', (session: ServerHttp2Session) => {
    sessionCount += 1;
    sessionNumbers.set(session, sessionCount);
    sessions.add(session);
    session.on('close', () => sessions.delete(session));
  });

  function checkAuth(headers: Record<string, string>): { jwt?: DecodedJwt; reason?: string } {
    const auth = headers['authorization'];
    if (!auth || !/^bearer /i.test(auth)) return { reason: 'MissingProviderToken' };
    const { decoded, signingInput, signature } = decodeJwt(auth.slice('bearer '.length).trim());
    if (!decoded || !signingInput || !signature) return { reason: 'InvalidProviderToken' };
    const { header, claims } = decoded;
    if (header.alg !== 'ES256' || header.kid !== options.keyId || claims.iss !== options.teamId) return { jwt: decoded, reason: 'InvalidProviderToken' };
    // JWS ES256 signatures are the raw r||s pair (IEEE P1363), not DER.
    const valid = verify('sha256', Buffer.from(signingInput), { key: publicKey, dsaEncoding: 'ieee-p1363' }, signature);
    if (!valid) return { jwt: decoded, reason: 'InvalidProviderToken' };
    if (typeof claims.iat !== 'number') return { jwt: decoded, reason: 'InvalidProviderToken' };
    const ageSeconds = now() / 1000 - claims.iat;
    if (ageSeconds > 3600) return { jwt: decoded, reason: 'ExpiredProviderToken' };
    if (ageSeconds < -300) return { jwt: decoded, reason: 'InvalidProviderToken' };
    return { jwt: decoded };
  }

  function checkRequest(method: string, path: string, headers: Record<string, string>, body: Buffer): ScriptedResponse | undefined {
    if (method !== 'POST') return { status: 405, reason: 'MethodNotAllowed' };
    const match = /^\/3\/device\/([^/?]*)$/.exec(path);
    if (!match) return { status: 404, reason: 'BadPath' };
    if (!match[1]) return { status: 400, reason: 'MissingDeviceToken' };
    if (!/^[0-9a-fA-F]+$/.test(match[1])) return { status: 400, reason: 'BadDeviceToken' };
    const topic = headers['apns-topic'];
    if (!topic) return { status: 400, reason: 'MissingTopic' };
    const pushType = headers['apns-push-type'];
    if (pushType === 'liveactivity' && !topic.endsWith('.push-type.liveactivity')) return { status: 400, reason: 'DeviceTokenNotForTopic' };
    if (options.bundleId && pushType === 'liveactivity' && topic !== `${options.bundleId}.push-type.liveactivity`) {
      return { status: 400, reason: 'DeviceTokenNotForTopic' };
    }
    const priority = headers['apns-priority'];
    if (priority !== undefined && !['1', '5', '10'].includes(priority)) return { status: 400, reason: 'BadPriority' };
    const expiration = headers['apns-expiration'];
    if (expiration !== undefined && !/^\d+$/.test(expiration)) return { status: 400, reason: 'BadExpirationDate' };
    if (body.length === 0) return { status: 400, reason: 'PayloadEmpty' };
    if (body.length > APNS_MAX_BODY_BYTES) return { status: 413, reason: 'PayloadTooLarge' };
    return undefined;
  }

  function scripted(token: string | undefined): ScriptedResponse | undefined {
    if (token === undefined) return undefined;
    const queue = queued.get(token);
    const next = queue?.shift();
    if (next) return next;
    return sticky.get(token);
  }

  function answer(stream: ServerHttp2Stream, record: FakeApnsRequest, response: ScriptedResponse, requestApnsId: string | undefined): void {
    if (stream.destroyed || stream.closed) return;
    if (response.resetStream) {
      stream.close(h2.NGHTTP2_INTERNAL_ERROR);
      return;
    }
    const headers: OutgoingHttpHeaders = {
      ':status': response.status,
      'apns-id': requestApnsId ?? randomUUID().toUpperCase(),
      ...(response.headers ?? {}),
    };
    if (response.status === 200) {
      stream.respond(headers, { endStream: true });
      return;
    }
    record.reason = response.reason;
    const body = JSON.stringify({
      reason: response.reason ?? 'InternalServerError',
      ...(response.status === 410 ? { timestamp: response.timestamp ?? now() } : {}),
    });
    stream.respond({ ...headers, 'content-type': 'application/json' });
    stream.end(body);
  }

  server.on('stream', (stream: ServerHttp2Stream, rawHeaders: IncomingHttpHeaders) => {
    const chunks: Buffer[] = [];
    stream.on('data', (chunk: Buffer) => chunks.push(chunk));
    stream.on('error', () => undefined);
    stream.on('end', () => {
      const headers = flatHeaders(rawHeaders);
      const method = headers[':method'] ?? '';
      const path = headers[':path'] ?? '';
      const body = Buffer.concat(chunks);
      const token = /^\/3\/device\/([^/?]+)$/.exec(path)?.[1];
      let json: unknown;
      try {
        json = body.length > 0 ? JSON.parse(body.toString('utf8')) : undefined;
      } catch {
        json = undefined;
      }
      const auth = checkAuth(headers);
      const record: FakeApnsRequest = {
        session: sessionNumbers.get(stream.session as ServerHttp2Session) ?? 0,
        method,
        path,
        ...(token !== undefined ? { token } : {}),
        headers,
        body: body.toString('utf8'),
        ...(json !== undefined ? { json } : {}),
        ...(auth.jwt ? { jwt: auth.jwt } : {}),
        status: 0,
      };
      requests.push(record);
      const response: ScriptedResponse = auth.reason
        ? { status: 403, reason: auth.reason }
        : checkRequest(method, path, headers, body) ?? scripted(token) ?? { status: 200 };
      record.status = response.resetStream ? 0 : response.status;
      const requestApnsId = headers['apns-id'];
      if (response.delayMs) {
        const timer = setTimeout(() => {
          timers.delete(timer);
          answer(stream, record, response, requestApnsId);
        }, response.delayMs);
        timers.add(timer);
      } else answer(stream, record, response, requestApnsId);
    });
  });

  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      server.off('error', reject);
      resolve();
    });
  });
  const port = (server.address() as AddressInfo).port;

  return {
    endpoint: `127.0.0.1:${port}`,
    url: `https://127.0.0.1:${port}`,
    port,
    caPem: pems.cert,
    requests,
    get sessionCount() {
      return sessionCount;
    },
    respond(token, response) {
      sticky.set(token, response);
    },
    respondOnce(token, ...responses) {
      queued.set(token, [...(queued.get(token) ?? []), ...responses]);
    },
    requestsFor(token) {
      return requests.filter((r) => r.token === token);
    },
    reset() {
      requests.length = 0;
      sticky.clear();
      queued.clear();
    },
    writeCaFile(dir) {
      const file = join(dir, 'fake-apns-ca.pem');
      writeFileSync(file, pems.cert);
      return file;
    },
    async close() {
      for (const timer of timers) clearTimeout(timer);
      timers.clear();
      for (const session of sessions) session.destroy();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}
