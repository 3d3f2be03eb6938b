/**
 * Inspectors and devices: creating them, their credentials, rotation and revocation.
 * Requests arrive already shape-validated (lambda/http); the rules that need the store live here.
 */
import { ValidationError, NotFoundError } from './errors';
import { credentialHint, generateCredential, hashCredential } from './inspector-key';
import { DEFAULT_COALESCE_SECONDS, DEFAULT_KEEP_LAST, DEFAULT_RETENTION_DAYS } from './inspector-settings';
import type { ApnsEnvironment } from './push-port';
import type { Device, Inspector, KeyStore } from './store-ports';
import { releaseTokens, type ReleaseDeps } from './token-lifecycle';

export interface DirectoryDeps {
  keys: KeyStore;
  /** Cryptographically random bytes. */
  random: (size: number) => Uint8Array;
  /** Epoch ms. */
  clock: () => number;
  tagSecret: string;
}

/**
 * Device changes also let go of a replaced or removed push-to-start token at the push transport
 * (token-lifecycle.ts) when the caller's deps carry one (the API's do).
 */
type DeviceDeps = DirectoryDeps & Partial<ReleaseDeps>;

/** Releases a device's previous push-to-start token (SNS endpoint); housekeeping, never throws. */
async function releasePushToStart(deps: DeviceDeps, device: Device, token: string | undefined): Promise<void> {
  if (!token || !deps.push || !deps.log) return;
  await releaseTokens({ push: deps.push, log: deps.log }, [{ deviceId: device.id, environment: device.environment, token, tokenKind: 'push-to-start' }]);
}

const ID_ALPHABET = '0123456789abcdefghijklmnopqrstuvwxyz';

export function newId(prefix: 'insp' | 'dev', random: (size: number) => Uint8Array): string {
  const bytes = random(14);
  let out = '';
  for (const byte of bytes) out += ID_ALPHABET[byte % 36];
  return `${prefix}_${out}`;
}

export interface InspectorInput {
  name: string;
  deviceIds?: string[];
  signingSecrets?: string[];
  replicateApiToken?: string;
  hangTimeoutMinutes?: number;
  coalesceSeconds?: number;
  retentionDays?: number;
  keepLast?: number;
}

export function webhookUrlFor(baseUrl: string, key: string): string {
  return `${baseUrl.replace(/\/+$/, '')}/v1/webhooks/replicate?key=${encodeURIComponent(key)}`;
}

async function assertDevicesExist(keys: KeyStore, deviceIds: readonly string[]): Promise<void> {
  if (deviceIds.length === 0) return;
  const found = new Set((await keys.getDevices(deviceIds)).map((d) => d.id));
  const missing = deviceIds.filter((id) => !found.has(id));
  if (missing.length > 0) throw new ValidationError(`Unknown device id(s): ${missing.join(', ')}.`, 'deviceIds');
}

export async function createInspector(deps: DirectoryDeps, input: InspectorInput): Promise<{ inspector: Inspector; key: string }> {
  const deviceIds = [...new Set(input.deviceIds ?? [])];
  await assertDevicesExist(deps.keys, deviceIds);
  const key = generateCredential('wh', deps.random(32), deps.tagSecret);
  const keyHash = hashCredential(key);
  const inspector: Inspector = {
    id: newId('insp', deps.random),
    name: input.name,
    deviceIds,
    signingSecrets: input.signingSecrets ?? [],
    coalesceSeconds: input.coalesceSeconds ?? DEFAULT_COALESCE_SECONDS,
    retentionDays: input.retentionDays ?? DEFAULT_RETENTION_DAYS,
    keepLast: input.keepLast ?? DEFAULT_KEEP_LAST,
    createdAt: Math.floor(deps.clock() / 1000),
    keyHint: credentialHint(key),
    keyHashes: [keyHash],
  };
  if (input.replicateApiToken) inspector.replicateApiToken = input.replicateApiToken;
  if (input.hangTimeoutMinutes !== undefined) inspector.hangTimeoutMinutes = input.hangTimeoutMinutes;
  // The key item first: an inspector without a key is harmless, a key without an inspector resolves to nothing.
  await deps.keys.putWebhookKey(keyHash, { inspectorId: inspector.id });
  await deps.keys.putInspector(inspector);
  return { inspector, key };
}

export async function requireInspector(keys: KeyStore, id: string): Promise<Inspector> {
  const inspector = await keys.getInspector(id);
  if (!inspector || inspector.revokedAt !== undefined) throw new NotFoundError(`No inspector ${id}.`);
  return inspector;
}

export async function updateInspector(deps: DirectoryDeps, id: string, changes: Omit<Partial<InspectorInput>, 'replicateApiToken' | 'hangTimeoutMinutes'> & { replicateApiToken?: string | null; hangTimeoutMinutes?: number | null }): Promise<Inspector> {
  const inspector = await requireInspector(deps.keys, id);
  const next: Inspector = { ...inspector };
  if (changes.name !== undefined) next.name = changes.name;
  if (changes.deviceIds !== undefined) {
    const deviceIds = [...new Set(changes.deviceIds)];
    await assertDevicesExist(deps.keys, deviceIds);
    next.deviceIds = deviceIds;
  }
  if (changes.signingSecrets !== undefined) next.signingSecrets = changes.signingSecrets;
  if (changes.replicateApiToken === null) delete next.replicateApiToken;
  else if (changes.replicateApiToken !== undefined) next.replicateApiToken = changes.replicateApiToken;
  if (changes.hangTimeoutMinutes === null) delete next.hangTimeoutMinutes;
  else if (changes.hangTimeoutMinutes !== undefined) next.hangTimeoutMinutes = changes.hangTimeoutMinutes;
  if (changes.coalesceSeconds !== undefined) next.coalesceSeconds = changes.coalesceSeconds;
  if (changes.retentionDays !== undefined) next.retentionDays = changes.retentionDays;
  if (changes.keepLast !== undefined) next.keepLast = changes.keepLast;
  await deps.keys.putInspector(next);
  return next;
}

/** New key; the old one keeps working for `graceSeconds`. */
export async function rotateInspectorKey(deps: DirectoryDeps, id: string, graceSeconds: number): Promise<{ inspector: Inspector; key: string; previousKeyValidUntil: number }> {
  const inspector = await requireInspector(deps.keys, id);
  const now = Math.floor(deps.clock() / 1000);
  const validUntil = now + graceSeconds;
  const key = generateCredential('wh', deps.random(32), deps.tagSecret);
  const keyHash = hashCredential(key);
  await deps.keys.putWebhookKey(keyHash, { inspectorId: id });
  // Keys already rotated out keep their own (earlier) deadline; the current one gets the grace period.
  const current = inspector.keyHashes[inspector.keyHashes.length - 1];
  if (current) await deps.keys.putWebhookKey(current, { inspectorId: id, validUntil });
  const next: Inspector = { ...inspector, keyHint: credentialHint(key), keyHashes: [...inspector.keyHashes.slice(-4), keyHash] };
  await deps.keys.putInspector(next);
  return { inspector: next, key, previousKeyValidUntil: validUntil };
}

/** Revokes the inspector: every key stops working (within the lookup cache's bound elsewhere). */
export async function revokeInspector(deps: DirectoryDeps, id: string): Promise<void> {
  const inspector = await requireInspector(deps.keys, id);
  await Promise.all(inspector.keyHashes.map((hash) => deps.keys.deleteWebhookKey(hash)));
  await deps.keys.putInspector({ ...inspector, revokedAt: Math.floor(deps.clock() / 1000), keyHashes: [] });
}

export interface DeviceInput {
  name: string;
  environment: ApnsEnvironment;
  pushToStartToken?: string;
  frequentPushesEnabled?: boolean;
  simulated?: boolean;
}

export async function registerDevice(deps: DirectoryDeps, input: DeviceInput): Promise<{ device: Device; secret: string }> {
  const secret = generateCredential('dev', deps.random(32), deps.tagSecret);
  const device: Device = {
    id: newId('dev', deps.random),
    name: input.name,
    environment: input.environment,
    frequentPushesEnabled: input.frequentPushesEnabled ?? false,
    secretHash: hashCredential(secret),
    createdAt: Math.floor(deps.clock() / 1000),
  };
  if (input.pushToStartToken) device.pushToStartToken = input.pushToStartToken.toLowerCase();
  if (input.simulated) device.simulated = true;
  await deps.keys.putDeviceCredential(device.secretHash, device.id);
  await deps.keys.putDevice(device);
  return { device, secret };
}

export async function updateDevice(deps: DeviceDeps, id: string, changes: { name?: string; pushToStartToken?: string | null; frequentPushesEnabled?: boolean }): Promise<Device> {
  const device = await deps.keys.getDevice(id);
  if (!device) throw new NotFoundError(`No device ${id}.`);
  const next: Device = { ...device };
  if (changes.name !== undefined) next.name = changes.name;
  if (changes.pushToStartToken === null) delete next.pushToStartToken;
  else if (changes.pushToStartToken !== undefined) next.pushToStartToken = changes.pushToStartToken.toLowerCase();
  if (changes.frequentPushesEnabled !== undefined) next.frequentPushesEnabled = changes.frequentPushesEnabled;
  await deps.keys.putDevice(next);
  // A rotated (or removed) push-to-start token is dead: let the transport forget it.
  if (device.pushToStartToken !== next.pushToStartToken) await releasePushToStart(deps, device, device.pushToStartToken);
  return next;
}

export async function removeDevice(deps: DeviceDeps, id: string): Promise<void> {
  const device = await deps.keys.getDevice(id);
  if (!device) throw new NotFoundError(`No device ${id}.`);
  await deps.keys.deleteDeviceCredential(device.secretHash);
  await deps.keys.deleteDevice(id);
  await releasePushToStart(deps, device, device.pushToStartToken);
}
