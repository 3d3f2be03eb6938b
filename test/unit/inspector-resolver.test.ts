import { InspectorResolver } from '../../lambda/core/inspector-resolver';
import { hashCredential } from '../../lambda/core/inspector-key';
import type { Device, Inspector, KeyStore, WebhookKeyEntry } from '../../lambda/core/store-ports';

/** A key store with only the lookups the resolver makes; anything else fails the test loudly. */
function fakeStore(): KeyStore & { calls: string[]; keys: Map<string, WebhookKeyEntry>; inspectors: Map<string, Inspector> } {
  const calls: string[] = [];
  const keys = new Map<string, WebhookKeyEntry>();
  const inspectors = new Map<string, Inspector>();
  const used = {
    calls,
    keys,
    inspectors,
    findWebhookKey: async (hash: string) => (calls.push('findWebhookKey'), keys.get(hash) ?? null),
    getInspector: async (id: string) => (calls.push('getInspector'), inspectors.get(id) ?? null),
    getDevices: async (ids: readonly string[]) =>
      (calls.push('getDevices'), ids.map((id): Device => ({ id, name: id, environment: 'sandbox', frequentPushesEnabled: false, secretHash: 'h', createdAt: 0, pushToStartToken: 'ab'.repeat(32) }))),
  };
  return new Proxy(used, {
    get(target, property) {
      if (property in target) return target[property as keyof typeof target];
      return () => Promise.reject(new Error(`the resolver must not call ${String(property)}`));
    },
  }) as KeyStore & typeof used;
}

const inspector: Inspector = { id: 'insp_1', name: 'x', deviceIds: ['d1'], signingSecrets: [], coalesceSeconds: 5, retentionDays: 7, keepLast: 100, createdAt: 0, keyHint: 'k', keyHashes: [] };

describe('InspectorResolver', () => {
  test('a warm cache answers repeat lookups without the store, until the TTL passes', async () => {
    const store = fakeStore();
    store.keys.set(hashCredential('KEY'), { inspectorId: 'insp_1' });
    store.inspectors.set('insp_1', inspector);
    let now = 1_000_000;
    const resolver = new InspectorResolver(store, () => now, 30_000);
    expect((await resolver.resolveWebhookKey('KEY'))?.inspector.id).toBe('insp_1');
    const afterFirst = store.calls.length;
    await resolver.resolveWebhookKey('KEY');
    expect(store.calls.length).toBe(afterFirst);
    now += 30_001;
    await resolver.resolveWebhookKey('KEY');
    expect(store.calls.length).toBeGreaterThan(afterFirst);
  });

  test('unknown keys are cached too, and rotated-out keys stop at their deadline', async () => {
    const store = fakeStore();
    let now = 1_000_000;
    const resolver = new InspectorResolver(store, () => now, 30_000);
    expect(await resolver.resolveWebhookKey('NOPE')).toBeNull();
    expect(await resolver.resolveWebhookKey('NOPE')).toBeNull();
    expect(store.calls.filter((c) => c === 'findWebhookKey')).toHaveLength(1);
    store.keys.set(hashCredential('OLD'), { inspectorId: 'insp_1', validUntil: 1_000 + 10 });
    store.inspectors.set('insp_1', inspector);
    expect(await resolver.resolveWebhookKey('OLD')).not.toBeNull();
    now = (1_000 + 10) * 1000;
    expect(await resolver.resolveWebhookKey('OLD')).toBeNull();
  });

  test('a revoked inspector resolves to nothing', async () => {
    const store = fakeStore();
    store.keys.set(hashCredential('KEY'), { inspectorId: 'insp_1' });
    store.inspectors.set('insp_1', { ...inspector, revokedAt: 5 });
    expect(await new InspectorResolver(store, () => 0).resolveWebhookKey('KEY')).toBeNull();
  });

  test('after the TTL, the current key costs only the inspector refresh; a rotated key is looked up again', async () => {
    // Arrange
    const store = fakeStore();
    const hash = hashCredential('KEY');
    store.keys.set(hash, { inspectorId: 'insp_1' });
    store.inspectors.set('insp_1', { ...inspector, keyHashes: [hash] });
    let now = 1_000_000;
    const resolver = new InspectorResolver(store, () => now, 30_000);
    await resolver.resolveWebhookKey('KEY');
    // Act: the TTL passes while the key is still current
    store.calls.length = 0;
    now += 30_001;
    expect(await resolver.resolveWebhookKey('KEY')).not.toBeNull();
    // Assert
    expect(store.calls).not.toContain('findWebhookKey');
    // Act: the key is rotated out with a grace period that has already ended
    store.keys.set(hash, { inspectorId: 'insp_1', validUntil: 1 });
    store.inspectors.set('insp_1', { ...inspector, keyHashes: [hash, 'newer'] });
    store.calls.length = 0;
    now += 30_001;
    // Assert
    expect(await resolver.resolveWebhookKey('KEY')).toBeNull();
    expect(store.calls).toContain('findWebhookKey');
  });
});
