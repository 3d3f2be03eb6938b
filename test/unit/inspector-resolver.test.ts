import { InspectorResolver } from '../../lambda/core/inspector-resolver';
import { hashCredential } from '../../lambda/core/inspector-key';
import type { Device, Inspector, KeyStore, WebhookKeyEntry } from '../../lambda/core/store-ports';

function fakeStore(): KeyStore & { calls: string[]; keys: Map<string, WebhookKeyEntry>; inspectors: Map<string, Inspector> } {
  const calls: string[] = [];
  const keys = new Map<string, WebhookKeyEntry>();
  const inspectors = new Map<string, Inspector>();
  const unused = () => Promise.reject(new Error('not used'));
  return {
    calls,
    keys,
    inspectors,
    findWebhookKey: async (hash) => (calls.push('findWebhookKey'), keys.get(hash) ?? null),
    getInspector: async (id) => (calls.push('getInspector'), inspectors.get(id) ?? null),
    getDevices: async (ids) => (calls.push('getDevices'), ids.map((id): Device => ({ id, name: id, environment: 'sandbox', frequentPushesEnabled: false, secretHash: 'h', createdAt: 0, pushToStartToken: 'ab'.repeat(32) }))),
    putWebhookKey: unused, deleteWebhookKey: unused, putInspector: unused, listInspectors: unused, putDevice: unused, getDevice: unused,
    findDeviceCredential: unused, putDeviceCredential: unused, deleteDeviceCredential: unused, listDevices: unused, deleteDevice: unused, retirePushToStartToken: unused,
  };
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
});
