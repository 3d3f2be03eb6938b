/**
 * Credentials Chirp issues: webhook keys (per inspector) and device secrets.
 *
 *   chirp_wh_<22 base62 random>_<8 base62 tag>
 *   chirp_dev_<22 base62 random>_<8 base62 tag>
 *
 * The tag is an HMAC of the prefix and random part under a server-side secret, so a forged,
 * mistyped or random key is rejected by arithmetic alone, before any database request. Only the
 * SHA-256 of a key is stored; keys carry 128 bits of randomness, so a fast hash is enough.
 *
 * Randomness comes in as an argument: the core stays deterministic and testable.
 */
import { createHash, createHmac, timingSafeEqual } from 'node:crypto';

export type CredentialKind = 'wh' | 'dev';

const ALPHABET = '0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz';
const RANDOM_CHARS = 22; // 22 base62 chars ≈ 131 bits
const TAG_CHARS = 8; // ≈ 47 bits: guessing a tag costs ~10^14 tries per key
const KEY_PATTERN = /^chirp_(wh|dev)_([0-9A-Za-z]{22})_([0-9A-Za-z]{8})$/;

function base62(bytes: Uint8Array, length: number): string {
  // One byte per char, modulo 62: the slight bias costs well under a bit per char.
  let out = '';
  for (let i = 0; i < length; i++) out += ALPHABET[bytes[i]! % 62];
  return out;
}

function tagFor(kind: CredentialKind, random: string, tagSecret: Uint8Array | string): string {
  const mac = createHmac('sha256', tagSecret).update(`chirp_${kind}_${random}`).digest();
  return base62(mac, TAG_CHARS);
}

/** Makes a new credential from ≥ 22 random bytes. */
export function generateCredential(kind: CredentialKind, randomBytes: Uint8Array, tagSecret: Uint8Array | string): string {
  if (randomBytes.length < RANDOM_CHARS) throw new Error(`need at least ${RANDOM_CHARS} random bytes`);
  const random = base62(randomBytes, RANDOM_CHARS);
  return `chirp_${kind}_${random}_${tagFor(kind, random, tagSecret)}`;
}

/**
 * True when the credential is well-formed, of the expected kind, and carries a valid tag.
 * Constant-time on the tag.
 */
export function verifyCredentialTag(credential: string, kind: CredentialKind, tagSecret: Uint8Array | string): boolean {
  if (credential.length > 64) return false;
  const match = KEY_PATTERN.exec(credential);
  if (!match || match[1] !== kind) return false;
  const expected = Buffer.from(tagFor(kind, match[2]!, tagSecret));
  const given = Buffer.from(match[3]!);
  return expected.length === given.length && timingSafeEqual(expected, given);
}

/** What is stored instead of the credential. */
export function hashCredential(credential: string): string {
  return createHash('sha256').update(credential).digest('hex');
}

/** A short, non-secret hint for the inspector ("chirp_wh_4fQk…"), safe to show and log. */
export function credentialHint(credential: string): string {
  const match = KEY_PATTERN.exec(credential);
  return match ? `chirp_${match[1]}_${match[2]!.slice(0, 4)}…` : 'invalid';
}

/** Constant-time comparison of two secrets of possibly different length (admin token). */
export function secretsEqual(a: string, b: string): boolean {
  // Hashing first makes the lengths equal, so timingSafeEqual never leaks the length either.
  const ha = createHash('sha256').update(a).digest();
  const hb = createHash('sha256').update(b).digest();
  return timingSafeEqual(ha, hb);
}
