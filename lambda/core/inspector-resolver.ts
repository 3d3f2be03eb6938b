/**
 * Resolves a webhook key to its inspector and bound devices, with an in-memory cache so a warm
 * container answers repeat webhooks with zero key-table reads.
 *
 * Staleness is bounded by `ttlMs` (default 30 s): a revoked or rotated-out key, a changed
 * setting or a new device token reaches every warm container within that time. Changes made
 * through the API in the same container are seen at once (`invalidate`). Unknown keys are cached
 * too (negative entries), so a retrying sender with a revoked key costs one read per TTL.
 */
import { hashCredential } from './inspector-key';
import type { DeviceInfo } from './push-policy';
import type { Device, Inspector, KeyStore } from './store-ports';

export const DEFAULT_CACHE_TTL_MS = 30_000;

export interface ResolvedInspector {
  inspector: Inspector;
  devices: Map<string, DeviceInfo & { simulated?: boolean }>;
}

interface Entry<T> {
  value: T;
  expiresAt: number;
}

function deviceInfo(device: Device): DeviceInfo & { simulated?: boolean } {
  const info: DeviceInfo & { simulated?: boolean } = { id: device.id, environment: device.environment };
  if (device.pushToStartToken) info.pushToStartToken = device.pushToStartToken;
  if (device.simulated) info.simulated = true;
  return info;
}

export class InspectorResolver {
  private readonly keys = new Map<string, Entry<{ inspectorId: string; validUntil?: number } | null>>();
  private readonly inspectors = new Map<string, Entry<ResolvedInspector | null>>();

  constructor(
    private readonly store: KeyStore,
    private readonly nowMs: () => number,
    private readonly ttlMs = DEFAULT_CACHE_TTL_MS,
    private readonly maxEntries = 2000,
  ) {}

  /** `key` must already have passed `verifyCredentialTag`. Null when unknown, expired or revoked. */
  async resolveWebhookKey(key: string): Promise<ResolvedInspector | null> {
    const hash = hashCredential(key);
    const now = this.nowMs();
    let cached = this.keys.get(hash);
    if (cached?.value && cached.expiresAt <= now && cached.value.validUntil === undefined) {
      // The key item changes only when the key is rotated out or revoked, and both also change
      // the inspector: while the refreshed inspector still names this key as current, the
      // cached key entry is still right and needs no read of its own.
      const resolved = await this.resolveInspector(cached.value.inspectorId);
      if (resolved?.inspector.keyHashes.at(-1) === hash) {
        cached.expiresAt = now + this.ttlMs;
        return resolved;
      }
    }
    if (!cached || cached.expiresAt <= now) {
      const entry = await this.store.findWebhookKey(hash);
      cached = { value: entry, expiresAt: now + this.ttlMs };
      this.remember(this.keys, hash, cached);
    }
    const entry = cached.value;
    if (!entry) return null;
    if (entry.validUntil !== undefined && entry.validUntil * 1000 <= now) return null;
    return this.resolveInspector(entry.inspectorId);
  }

  async resolveInspector(inspectorId: string): Promise<ResolvedInspector | null> {
    const now = this.nowMs();
    const cached = this.inspectors.get(inspectorId);
    if (cached && cached.expiresAt > now) return cached.value;
    const inspector = await this.store.getInspector(inspectorId);
    let value: ResolvedInspector | null = null;
    if (inspector && inspector.revokedAt === undefined) {
      const devices = inspector.deviceIds.length > 0 ? await this.store.getDevices(inspector.deviceIds) : [];
      value = { inspector, devices: new Map(devices.map((d) => [d.id, deviceInfo(d)])) };
    }
    this.remember(this.inspectors, inspectorId, { value, expiresAt: now + this.ttlMs });
    return value;
  }

  /** Drops cached entries after a change made in this container. */
  invalidate(): void {
    this.keys.clear();
    this.inspectors.clear();
  }

  private remember<T>(map: Map<string, Entry<T>>, key: string, entry: Entry<T>): void {
    if (map.size >= this.maxEntries) {
      // Maps iterate in insertion order: drop the oldest entry.
      const oldest = map.keys().next().value;
      if (oldest !== undefined) map.delete(oldest);
    }
    map.delete(key);
    map.set(key, entry);
  }
}
