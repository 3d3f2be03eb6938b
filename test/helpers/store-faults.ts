/**
 * A DynamoDB document client with a fault hook at the SDK's `finalizeRequest` step. That step
 * runs below the SDK's own retry middleware, so every attempt (retries included) meets the hook,
 * exactly like a request that reached the wire. The hook sees the operation and the item's `pk`
 * and may throw an error shaped like the ones the SDK raises (throttling, 5xx, a reset socket, a
 * timeout), run something first (another writer), or let the request through and then lose the
 * answer (the write happened, the caller never heard).
 */
import type { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { createDocumentClient } from '../../lambda/adapters/dynamo/dynamo-client';

export interface StoreRequest {
  /** "GetItem", "PutItem", "Query", … */
  operation: string;
  /** The item's partition key ("ACT#…", "EVT#…", "KEY#…"), '' when the request has none. */
  pk: string;
}

/**
 * What to do with one attempt: `undefined` lets it through; `{ fail }` throws before sending;
 * `{ loseAnswer }` sends it, lets the store apply it, then throws as if the answer was lost;
 * `{ before }` runs something (another writer) and then sends.
 */
export type FaultAction = { fail: Error } | { loseAnswer: Error } | { before: () => Promise<void> } | undefined;

export interface FaultyStore {
  client: DynamoDBDocumentClient;
  /** Every attempt, in order. */
  readonly requests: StoreRequest[];
  /** Attempts the hook acted on. */
  readonly injected: StoreRequest[];
  /** The hook; `undefined` = healthy. */
  fault: ((request: StoreRequest) => FaultAction) | undefined;
  destroy(): void;
}

/** Errors shaped like the SDK's (name, `$fault`, `$metadata`, `code`): what store-errors.ts and the SDK's retry strategy look at. */
export const STORE_FAULTS = {
  throttled: (): Error =>
    Object.assign(new Error('The level of configured provisioned throughput for the table was exceeded.'), {
      name: 'ProvisionedThroughputExceededException',
      $fault: 'client',
      $metadata: { httpStatusCode: 400 },
    }),
  'a 500 from the service': (): Error =>
    Object.assign(new Error('Internal server error'), { name: 'InternalServerError', $fault: 'server', $metadata: { httpStatusCode: 500 } }),
  'a reset connection': (): Error => Object.assign(new Error('socket hang up'), { code: 'ECONNRESET' }),
  'a request timeout': (): Error => Object.assign(new Error('Connection timed out after 3000 ms'), { name: 'TimeoutError' }),
} as const;

export type StoreFaultName = keyof typeof STORE_FAULTS;

function pkOf(request: unknown): string {
  const raw = typeof request === 'object' && request !== null ? (request as { body?: unknown }).body : undefined;
  // The JSON protocol serializes to bytes (older SDKs: a string).
  const body = raw instanceof Uint8Array ? new TextDecoder().decode(raw) : raw;
  if (typeof body !== 'string') return '';
  try {
    const parsed = JSON.parse(body) as { Key?: { pk?: { S?: unknown } }; Item?: { pk?: { S?: unknown } } };
    const pk = parsed.Key?.pk?.S ?? parsed.Item?.pk?.S;
    return typeof pk === 'string' ? pk : '';
  } catch {
    return '';
  }
}

export function faultyStore(endpoint: string, options: { maxAttempts: number }): FaultyStore {
  const client = createDocumentClient({ endpoint, maxAttempts: options.maxAttempts });
  const store: FaultyStore = {
    client,
    requests: [],
    injected: [],
    fault: undefined,
    destroy: () => client.destroy(),
  };
  client.middlewareStack.add(
    (next, context) => async (args) => {
      const request: StoreRequest = { operation: String(context.commandName ?? '').replace(/Command$/, ''), pk: pkOf(args.request) };
      store.requests.push(request);
      const action = store.fault?.(request);
      if (action === undefined) return next(args);
      store.injected.push(request);
      if ('fail' in action) throw action.fail;
      if ('before' in action) {
        await action.before();
        return next(args);
      }
      await next(args);
      throw action.loseAnswer;
    },
    { step: 'finalizeRequest', name: 'chirpFaultInjector' },
  );
  return store;
}
