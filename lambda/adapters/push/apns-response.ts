/**
 * Apple's answer to one push, classified into the port's outcomes. Pure: no I/O, no library types,
 * so the table below can be unit-tested and reused by anything that talks to APNs.
 *
 * Source: Apple, "Handling notification responses from APNs" (reference/apns-live-activities-sns.md §2.8).
 * Apple: "Don't retry … BadDeviceToken, DeviceTokenNotForTopic, Forbidden, ExpiredToken, Unregistered,
 * or PayloadTooLarge."
 */
import type { PushResult } from '../../core/push-port';

/** What came back from APNs for one request, in library-neutral form. */
export interface ApnsAnswer {
  /** HTTP status; undefined when no response arrived (connection error, timeout, reset stream). */
  status?: number;
  /** Apple's `reason` from the JSON error body (e.g. `Unregistered`). */
  reason?: string;
  /** The `apns-id` response header (200 only). */
  apnsId?: string;
  /** Transport-level error text when there is no status (never contains secrets). */
  error?: string;
  /** Seconds to wait, when something (a proxy, a future APNs) sent `retry-after`. */
  retryAfterSeconds?: number;
}

/** The token is dead: never push to it again ("410 isn't considered an error condition"). */
const RETIRE_400 = new Set(['BadDeviceToken']);

/*
 * Every other 400 is a request we built wrong (fix-config): DeviceTokenNotForTopic, BadTopic,
 * TopicDisallowed, MissingTopic, InvalidPushType, BadPriority, BadExpirationDate, BadCollapseId,
 * BadMessageId, PayloadEmpty, MissingDeviceToken, DuplicateHeaders, BadPath. DeviceTokenNotForTopic
 * is deliberately not "retire": with Live Activities it almost always means a wrong `apns-topic`
 * (missing `.push-type.liveactivity`) or bundle id, and retiring every token over one config typo
 * would lose every device.
 */

/** Node/OpenSSL messages for a server certificate that does not verify: retrying will not fix trust. */
const TLS_TRUST_ERROR = /certificate|altnames|CERT_/i;

/** 400 reasons that are Apple's side or the connection's, not ours. */
const RETRY_400 = new Set(['IdleTimeout']);

function label(answer: ApnsAnswer): string {
  if (answer.reason) return answer.reason;
  if (answer.status !== undefined) return `HTTP ${answer.status}`;
  return `network: ${answer.error ?? 'no response'}`;
}

function retryLater(answer: ApnsAnswer): PushResult {
  return {
    outcome: 'retry-later',
    transport: 'apns',
    reason: label(answer),
    ...(answer.status !== undefined ? { status: answer.status } : {}),
    ...(answer.retryAfterSeconds !== undefined ? { retryAfterSeconds: answer.retryAfterSeconds } : {}),
  };
}

function fixConfig(answer: ApnsAnswer): PushResult {
  return { outcome: 'fix-config', transport: 'apns', reason: label(answer), ...(answer.status !== undefined ? { status: answer.status } : {}) };
}

function retire(answer: ApnsAnswer): PushResult {
  return { outcome: 'retire-token', transport: 'apns', reason: label(answer), ...(answer.status !== undefined ? { status: answer.status } : {}) };
}

/**
 * | answer | outcome |
 * |---|---|
 * | 200 | `sent` (id = apns-id) |
 * | 410 (Unregistered, ExpiredToken, anything) | `retire-token` |
 * | 400 BadDeviceToken | `retire-token` |
 * | 400 DeviceTokenNotForTopic, BadTopic, TopicDisallowed, InvalidPushType, BadPriority, BadExpirationDate, PayloadEmpty, … | `fix-config` |
 * | 403 (ExpiredProviderToken, InvalidProviderToken, MissingProviderToken, BadEnvironmentKeyIdInToken, …) | `fix-config` |
 * | 404 BadPath, 405 MethodNotAllowed, 413 PayloadTooLarge, other 4xx | `fix-config` |
 * | 429 TooManyRequests, TooManyProviderTokenUpdates | `retry-later` |
 * | 5xx (InternalServerError, ServiceUnavailable, Shutdown) | `retry-later` |
 * | no response (connection error, timeout, reset stream) | `retry-later` |
 * | no response because the server certificate did not verify | `fix-config` (wrong APNS_ENDPOINT or trust) |
 *
 * 403 ExpiredProviderToken is transient in principle (re-mint the JWT), but the sender re-mints and
 * retries once before classifying, so when it reaches this table the clock or the key is wrong.
 */
export function classifyApnsAnswer(answer: ApnsAnswer): PushResult {
  const { status, reason } = answer;
  if (status === undefined) {
    const error = answer.error ?? 'no response';
    if (TLS_TRUST_ERROR.test(error)) return { outcome: 'fix-config', transport: 'apns', reason: `TLS: ${error}` };
    return retryLater(answer);
  }
  if (status === 200) return { outcome: 'sent', transport: 'apns', ...(answer.apnsId ? { id: answer.apnsId } : {}) };
  if (status === 410) return retire(answer);
  if (status === 400) {
    if (reason !== undefined && RETIRE_400.has(reason)) return retire(answer);
    if (reason !== undefined && RETRY_400.has(reason)) return retryLater(answer);
    return fixConfig(answer);
  }
  if (status === 429 || status === 408) return retryLater(answer);
  if (status >= 500) return retryLater(answer);
  if (status >= 400) return fixConfig(answer);
  // 1xx/3xx/other 2xx: APNs never sends these; treat as transient rather than guess.
  return retryLater(answer);
}

/** Reasons that mean "the JWT was too old": the sender re-mints the provider token and retries once. */
export function isExpiredProviderToken(answer: ApnsAnswer): boolean {
  return answer.status === 403 && answer.reason === 'ExpiredProviderToken';
}
