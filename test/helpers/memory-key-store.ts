/**
 * The key-table lookups the webhook path makes, in memory (property tests). Any other call
 * fails loudly, so a test cannot silently depend on it.
 */
import type { Device, Inspector, KeyStore } from '../../lambda/core/store-ports';

export function memoryKeyStore(inspectors: Inspector[], devices: Device[]): KeyStore {
  const used: Partial<KeyStore> = {
    findWebhookKey: async () => null,
    getInspector: async (id) => structuredClone(inspectors.find((i) => i.id === id) ?? null),
    getDevices: async (ids) => structuredClone(devices.filter((d) => ids.includes(d.id))),
    retirePushToStartToken: async () => undefined,
  };
  return new Proxy(used, {
    get(target, property) {
      const value = target[property as keyof KeyStore];
      if (value) return value;
      return () => Promise.reject(new Error(`not available in this test: ${String(property)}`));
    },
  }) as KeyStore;
}
