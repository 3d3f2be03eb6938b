/**
 * Direct APNs transport: HTTP/2 + token auth, one connection per APNs host, reused across pushes.
 *
 * Why @parse/node-apn and not hand-written node:http2: it already does what a careful hand-rolled
 * client has to do, and is maintained against Apple's changes:
 * - ES256 provider token (jsonwebtoken) minted once per connection, re-minted before a request
 *   when it is 55 min old (`isExpired(3300)` in lib/client.js), so every JWT Apple sees is < 60 min
 *   old and a new one is minted at most once per 55 min: inside Apple's 20–60 minute window. It also
 *   re-mints on `403 ExpiredProviderToken`, guarded by a generation counter so a burst of 403s
 *   causes one re-mint, not a `429 TooManyProviderTokenUpdates`.
 * - One HTTP/2 session per Provider, connect de-duplicated for concurrent first sends, reconnect
 *   after GOAWAY / session error / close, PING heartbeat, per-request timeout.
 * - `pushType: 'liveactivity'`, `rawPayload` (the body is our payload byte for byte), and
 *   `address` / `port` / `ca` options, which let tests and `APNS_ENDPOINT` reach another host
 *   (the sibling `apns2` hard-codes port 443).
 * What we configure away: node-apn retries 429/5xx itself, immediately (it reads `Retry-After`
 * with a capitalised name that HTTP/2 never delivers), up to 3 times. That hammers a device that
 * is already over its budget, so `connectionRetryLimit: 0` and the core decides when to retry
 * (`retry-later`). The one retry we keep is ours: after `403 ExpiredProviderToken` (node-apn has
 * re-minted by then), once.
 */
import { createPrivateKey } from 'node:crypto';
import { rootCertificates } from 'node:tls';
import { Notification, Provider, type ProviderOptions, type ResponseFailure, type ResponseSent } from '@parse/node-apn';
import type { ApnsEnvironment, PushMessage, PushResult, PushSender } from '../../core/push-port';
import { classifyApnsAnswer, isExpiredProviderToken, type ApnsAnswer } from './apns-response';

export const APNS_HOSTS: Readonly<Record<ApnsEnvironment, string>> = {
  sandbox: 'api.sandbox.push.apple.com',
  production: 'api.push.apple.com',
};

/** Minimal structured logger (the Powertools Logger fits). Never given tokens or keys. */
export interface ApnsLogger {
  debug?(message: string, data?: Record<string, unknown>): void;
  warn?(message: string, data?: Record<string, unknown>): void;
}

export interface ApnsPushSenderOptions {
  /** The .p8 signing key's text (PKCS#8 PEM, EC P-256). */
  keyPem: string;
  /** 10-character key id (JWT `kid`). */
  keyId: string;
  /** 10-character team id (JWT `iss`). */
  teamId: string;
  /**
   * `APNS_ENDPOINT`: "host:port", "host" or "https://host:port". Replaces the APNs host for both
   * environments (a test server, a private relay). Default: Apple's sandbox / production hosts.
   */
  endpoint?: string;
  /**
   * Extra CA certificates (PEM) to trust *in addition to* Node's bundled public roots, for an
   * `endpoint` with a private certificate (tests use the fake server's self-signed one).
   * Certificate verification is never turned off.
   */
  extraCaPem?: string | readonly string[];
  /** Per-request timeout; default 5000 ms (node-apn's default). */
  requestTimeoutMs?: number;
  logger?: ApnsLogger;
}

export interface ApnsOrigin {
  address: string;
  port: number;
}

/** Parses `APNS_ENDPOINT`. Throws on a value that cannot be an HTTPS origin (startup configuration). */
export function parseApnsEndpoint(endpoint: string): ApnsOrigin {
  const trimmed = endpoint.trim();
  const url = new URL(/^[a-z][a-z0-9+.-]*:\/\//i.test(trimmed) ? trimmed : `https://${trimmed}`);
  if (url.protocol !== 'https:') throw new Error(`APNS_ENDPOINT must be https (got "${endpoint}")`);
  if (url.pathname !== '/' && url.pathname !== '') throw new Error(`APNS_ENDPOINT must not have a path (got "${endpoint}")`);
  if (!url.hostname) throw new Error(`APNS_ENDPOINT has no host (got "${endpoint}")`);
  return { address: url.hostname, port: url.port ? Number(url.port) : 443 };
}

const HEX_TOKEN = /^[0-9a-fA-F]+$/;

type KeyCheck = { ok: true; key: Buffer } | { ok: false; reason: string };

function checkKey(keyPem: string): KeyCheck {
  // node-apn treats a string that is not PEM as a *file name*; only ever hand it PEM bytes.
  if (!/-----BEGIN [A-Z ]*PRIVATE KEY-----/.test(keyPem)) {
    return { ok: false, reason: 'APNs signing key is not a PEM private key (expected the .p8 file text)' };
  }
  try {
    const key = createPrivateKey(keyPem);
    if (key.asymmetricKeyType !== 'ec') return { ok: false, reason: `APNs signing key is ${key.asymmetricKeyType}, not an EC (ES256) key` };
  } catch {
    return { ok: false, reason: 'APNs signing key could not be parsed (expected the .p8 file text)' };
  }
  return { ok: true, key: Buffer.from(keyPem) };
}

function configError(reason: string): PushResult {
  return { outcome: 'fix-config', transport: 'apns', reason };
}

/** node-apn's failure entry → library-neutral answer. */
function answerFromFailure(failure: ResponseFailure): ApnsAnswer {
  const status = typeof failure.status === 'number' ? failure.status : undefined;
  let reason = failure.response?.reason;
  // node-apn swallows the body for two statuses and puts a message on `error` instead.
  if (reason === undefined && status === 403 && failure.error?.message === 'ExpiredProviderToken') reason = 'ExpiredProviderToken';
  if (reason === undefined && status === 500 && failure.error) reason = 'InternalServerError';
  return {
    ...(status !== undefined ? { status } : {}),
    ...(reason !== undefined ? { reason } : {}),
    ...(status === undefined ? { error: failure.error?.message ?? 'no response' } : {}),
  };
}

export function createApnsPushSender(opts: ApnsPushSenderOptions): PushSender {
  const override = opts.endpoint ? parseApnsEndpoint(opts.endpoint) : undefined;
  const extraCa = opts.extraCaPem === undefined ? [] : typeof opts.extraCaPem === 'string' ? [opts.extraCaPem] : [...opts.extraCaPem];
  // `ca` replaces the default trust store in tls.connect, so keep the public roots alongside.
  const ca = extraCa.length > 0 ? [...rootCertificates, ...extraCa] : undefined;
  const providers = new Map<string, Provider>();
  let keyCheck: KeyCheck | undefined;

  function originFor(environment: ApnsEnvironment): ApnsOrigin {
    return override ?? { address: APNS_HOSTS[environment], port: 443 };
  }

  /** One Provider (= one HTTP/2 session) per origin, created on first use and kept for the container's life. */
  function providerFor(environment: ApnsEnvironment): { provider: Provider; originKey: string } | PushResult {
    const origin = originFor(environment);
    const originKey = `${origin.address}:${origin.port}`;
    const existing = providers.get(originKey);
    if (existing) return { provider: existing, originKey };
    keyCheck ??= checkKey(opts.keyPem);
    if (!keyCheck.ok) return configError(keyCheck.reason);
    if (!opts.keyId || !opts.teamId) return configError('APNs key id and team id are required (APNS_KEY_ID, APNS_TEAM_ID)');
    const options: ProviderOptions = {
      token: { key: keyCheck.key, keyId: opts.keyId, teamId: opts.teamId },
      address: origin.address,
      port: origin.port,
      production: environment === 'production',
      rejectUnauthorized: true,
      connectionRetryLimit: 0,
      requestTimeout: opts.requestTimeoutMs ?? 5000,
      ...(ca ? { ca } : {}),
    };
    try {
      const provider = new Provider(options);
      providers.set(originKey, provider);
      return { provider, originKey };
    } catch (err) {
      return configError(`APNs provider could not be created: ${err instanceof Error ? err.message : String(err)}`);
    }
  }

  /**
   * After a transport failure (no HTTP status) the session may be dead without node-apn noticing
   * (a Lambda thawed after minutes frozen: the heartbeat only logs a failed PING). Drop it so the
   * next push opens a fresh connection instead of timing out again.
   */
  function recycle(originKey: string, provider: Provider): void {
    if (providers.get(originKey) === provider) providers.delete(originKey);
    provider.shutdown();
  }

  async function deliver(provider: Provider, note: Notification, token: string): Promise<ApnsAnswer> {
    try {
      const { sent, failed } = await provider.send(note, token);
      const ok: (ResponseSent & { 'apns-id'?: string }) | undefined = sent[0];
      if (ok) return { status: 200, ...(ok['apns-id'] ? { apnsId: ok['apns-id'] } : {}) };
      const failure = failed[0];
      return failure ? answerFromFailure(failure) : { error: 'node-apn returned neither sent nor failed' };
    } catch (err) {
      return { error: err instanceof Error ? err.message : 'send failed' };
    }
  }

  function notificationFor(message: PushMessage): Notification | PushResult {
    const { headers } = message;
    const expiry = Number(headers['apns-expiration']);
    if (!Number.isInteger(expiry) || expiry < 0) {
      return configError(`BadExpirationDate: apns-expiration "${headers['apns-expiration']}" is not epoch seconds (not sent)`);
    }
    const priority = Number(headers['apns-priority']);
    if (!Number.isInteger(priority)) return configError(`BadPriority: apns-priority "${headers['apns-priority']}" (not sent)`);
    const note = new Notification();
    note.rawPayload = message.payload; // sent as JSON.stringify(payload): no restructuring of `aps`
    note.topic = headers['apns-topic'];
    note.pushType = headers['apns-push-type'];
    note.priority = priority;
    note.expiry = expiry;
    return note;
  }

  function log(message: PushMessage, result: PushResult): void {
    const data = {
      outcome: result.outcome,
      activityId: message.activityId,
      jobId: message.jobId,
      kind: message.kind,
      environment: message.target.environment,
      deviceId: message.target.deviceId,
      ...(result.outcome === 'sent' ? { apnsId: result.id } : { reason: result.reason, status: result.status }),
    };
    if (result.outcome === 'sent') opts.logger?.debug?.('apns push sent', data);
    else opts.logger?.warn?.('apns push not delivered', data);
  }

  return {
    transport: 'apns',

    async send(message: PushMessage): Promise<PushResult> {
      const { target } = message;
      if (!HEX_TOKEN.test(target.token)) {
        const result: PushResult = { outcome: 'retire-token', transport: 'apns', reason: 'BadDeviceToken: token is not hex (not sent)' };
        log(message, result);
        return result;
      }
      const note = notificationFor(message);
      if (!(note instanceof Notification)) {
        log(message, note);
        return note;
      }
      const found = providerFor(target.environment);
      if (!('provider' in found)) {
        log(message, found);
        return found;
      }
      let answer = await deliver(found.provider, note, target.token);
      if (isExpiredProviderToken(answer)) answer = await deliver(found.provider, note, target.token);
      if (answer.status === undefined) recycle(found.originKey, found.provider);
      const result = classifyApnsAnswer(answer);
      log(message, result);
      return result;
    },

    async close(): Promise<void> {
      const all = [...providers.values()];
      providers.clear();
      await Promise.all(all.map((p) => new Promise<void>((resolve) => p.shutdown(() => resolve()))));
    },
  };
}
