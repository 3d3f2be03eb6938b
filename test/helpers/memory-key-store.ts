/**
 * The key-table lookups the webhook path makes, in memory (property tests). Any other call
 * fails loudly, so a test cannot silently depend on it.
 */
import { decideStart } from '../../lambda/core/start-pacing';
import type { Device, Inspector, KeyStore } from '../../lambda/core/store-ports';

export function memoryKeyStore(inspectors: Inspector[], devices: Device[]): KeyStore {
  const starts = new Map<string, number[]>();
  const used: Partial<KeyStore> = {
    // The same rolling budget the DynamoDB adapter keeps (its reference model).
    consumePushToStartBudget: async (deviceId, now, budget) => {
      const past = starts.get(deviceId) ?? [];
      const decision = decideStart(past, now, budget);
      if (decision.granted) starts.set(deviceId, [...past, now]);
      return decision;
    },
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
