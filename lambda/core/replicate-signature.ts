/**
 * Standard Webhooks verification of Replicate's `webhook-id` / `webhook-timestamp` /
 * `webhook-signature` headers over the raw body.
 *
 * The HMAC itself comes from the `standardwebhooks` library (the spec's reference
 * implementation). We do not call its `verify()` because it reads the wall clock with
 * `Date.now()`; the ±300 s window is checked here against the injected clock instead, and each
 * `v1,` entry is compared in constant time, so several secrets per inspector work and non-`v1`
 * entries (e.g. `v1a` ed25519) are ignored rather than trusted.
 */
import { timingSafeEqual } from 'node:crypto';
import { Webhook } from 'standardwebhooks';

export const SIGNATURE_TOLERANCE_SECONDS = 300;

export type SignatureFailure = 'missing_signature_headers' | 'timestamp_out_of_window' | 'bad_signature';

export class SignatureError extends Error {
  constructor(
    readonly reason: SignatureFailure,
    message: string,
  ) {
    super(message);
    this.name = 'SignatureError';
  }
}

export interface SignatureHeaders {
  webhookId?: string;
  timestamp?: string;
  signature?: string;
}

const SECRET_PATTERN = /^whsec_[A-Za-z0-9+/]+={0,2}$/;

export function isValidSigningSecret(secret: string): boolean {
  if (!SECRET_PATTERN.test(secret)) return false;
  const bytes = Buffer.from(secret.slice('whsec_'.length), 'base64');
  return bytes.length >= 16 && bytes.length <= 128;
}

/**
 * Throws SignatureError unless one `v1` entry matches one of `secrets`.
 * `nowSeconds` is the caller's clock.
 */
export function verifyReplicateSignature(rawBody: Uint8Array, headers: SignatureHeaders, secrets: readonly string[], nowSeconds: number): void {
  const { webhookId, timestamp, signature } = headers;
  if (!webhookId || !timestamp || !signature) {
    throw new SignatureError('missing_signature_headers', 'This inspector requires signed webhooks: webhook-id, webhook-timestamp and webhook-signature headers are required.');
  }
  if (!/^\d{1,12}$/.test(timestamp)) {
    throw new SignatureError('timestamp_out_of_window', 'webhook-timestamp must be Unix seconds.');
  }
  const sentAt = Number(timestamp);
  if (Math.abs(nowSeconds - sentAt) > SIGNATURE_TOLERANCE_SECONDS) {
    throw new SignatureError('timestamp_out_of_window', `webhook-timestamp is more than ${SIGNATURE_TOLERANCE_SECONDS} s away from the server's clock.`);
  }
  const given = signature
    .split(' ')
    .filter((entry) => entry.startsWith('v1,'))
    .map((entry) => Buffer.from(entry));
  for (const secret of secrets) {
    const expected = Buffer.from(new Webhook(secret).sign(webhookId, new Date(sentAt * 1000), rawBody));
    for (const candidate of given) {
      if (candidate.length === expected.length && timingSafeEqual(candidate, expected)) return;
    }
  }
  throw new SignatureError('bad_signature', 'No webhook-signature entry matches this inspector\'s signing secrets.');
}

/** Signs a body the way Replicate does (the simulator and tests use this). */
export function signReplicateBody(rawBody: string | Uint8Array, webhookId: string, timestampSeconds: number, secret: string): string {
  return new Webhook(secret).sign(webhookId, new Date(timestampSeconds * 1000), rawBody);
}
