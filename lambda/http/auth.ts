/**
 * Who is calling: the admin (one token, compared in constant time) or a device (its
 * credential's tag is checked before any lookup, like webhook keys).
 */
import type { Context } from 'hono';
import { AuthError, ChirpError } from '../core/errors';
import { hashCredential, secretsEqual, verifyCredentialTag } from '../core/inspector-key';
import type { KeyStore } from '../core/store-ports';
import { bearerToken } from './webhook-routes';
import type { AppEnv } from './context';

export function requireAdmin(c: Context<AppEnv>, adminToken: string): void {
  const token = bearerToken(c.req.header('authorization'));
  if (!token) throw new AuthError('Send the admin token as Authorization: Bearer <token>.', 'missing_token');
  if (!secretsEqual(token, adminToken)) throw new AuthError('That admin token is not valid.', 'bad_token');
}

export type Caller = { kind: 'admin' } | { kind: 'device'; deviceId: string };

/** Admin or a device; devices are only resolved when the token looks like a device credential. */
export async function authenticate(c: Context<AppEnv>, adminToken: string, keys: KeyStore, tagSecret: string): Promise<Caller> {
  const token = bearerToken(c.req.header('authorization'));
  if (!token) throw new AuthError('Send a credential as Authorization: Bearer <token>.', 'missing_token');
  if (token.startsWith('chirp_dev_')) {
    if (!verifyCredentialTag(token, 'dev', tagSecret)) throw new AuthError('That device credential is not valid.', 'malformed_credential');
    const deviceId = await keys.findDeviceCredential(hashCredential(token));
    if (!deviceId) throw new AuthError('That device credential is unknown or was revoked.', 'unknown_credential');
    return { kind: 'device', deviceId };
  }
  if (!secretsEqual(token, adminToken)) throw new AuthError('That admin token is not valid.', 'bad_token');
  return { kind: 'admin' };
}

export async function requireDevice(c: Context<AppEnv>, adminToken: string, keys: KeyStore, tagSecret: string): Promise<string> {
  const caller = await authenticate(c, adminToken, keys, tagSecret);
  if (caller.kind !== 'device') throw new ChirpError('forbidden', 'Only the device that owns this activity can report its token.');
  return caller.deviceId;
}
