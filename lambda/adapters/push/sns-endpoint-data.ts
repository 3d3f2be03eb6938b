/**
 * What Chirp writes into an SNS platform endpoint's `CustomUserData`, so that SNS's asynchronous
 * delivery-failure events (which name only the endpoint ARN) can be traced back to the device and
 * activity the token belongs to, with one GetEndpointAttributes and no index of our own.
 *
 * `{"chirp":1,"deviceId":"dev_…","tokenKind":"push-to-start"}` for a device's push-to-start token,
 * `{"chirp":1,"deviceId":"dev_…","tokenKind":"update","activityId":"act_…"}` for an activity's
 * update token. Under 200 bytes (SNS allows 2 KB). No secrets, no token.
 *
 * The text must be byte-for-byte the same every time for the same token: CreatePlatformEndpoint is
 * idempotent only for identical attributes. That holds because a push-to-start token belongs to
 * one device, and an update token to one activity on one device; hence no activity id on
 * push-to-start endpoints (they serve every activity of the device).
 */
import type { EndpointOwner } from '../../core/push-feedback';

const VERSION = 1;

export function endpointUserData(owner: EndpointOwner): string {
  // Fixed key order: the same owner always yields the same bytes.
  return JSON.stringify({
    chirp: VERSION,
    deviceId: owner.deviceId,
    tokenKind: owner.tokenKind,
    ...(owner.tokenKind === 'update' && owner.activityId !== undefined ? { activityId: owner.activityId } : {}),
  });
}

/** The owner recorded on an endpoint; undefined for endpoints Chirp did not create (or an older Chirp). */
export function parseEndpointUserData(text: string | undefined): EndpointOwner | undefined {
  if (!text) return undefined;
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    return undefined;
  }
  if (typeof value !== 'object' || value === null) return undefined;
  const v = value as Record<string, unknown>;
  if (v.chirp !== VERSION || typeof v.deviceId !== 'string' || v.deviceId === '') return undefined;
  if (v.tokenKind === 'push-to-start') return { deviceId: v.deviceId, tokenKind: 'push-to-start' };
  if (v.tokenKind === 'update' && typeof v.activityId === 'string' && v.activityId !== '') {
    return { deviceId: v.deviceId, tokenKind: 'update', activityId: v.activityId };
  }
  return undefined;
}
