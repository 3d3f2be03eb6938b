/**
 * Builds the dependency graph from its parts. Lambda handlers and the local server both call
 * this, so local mode runs exactly the product's code on a different store endpoint and push
 * transport.
 */
import { randomBytes } from 'node:crypto';
import { DescribeTableCommand } from '@aws-sdk/client-dynamodb';
import type { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { CachedActivityStore } from './adapters/dynamo/cached-activity-store';
import { DynamoActivityStore } from './adapters/dynamo/dynamo-activity-store';
import { DynamoKeyStore } from './adapters/dynamo/dynamo-key-store';
import { translateStoreError } from './adapters/dynamo/store-errors';
import { createReplicateApi } from './adapters/replicate-api';
import { InspectorResolver, DEFAULT_CACHE_TTL_MS } from './core/inspector-resolver';
import type { Log } from './core/log';
import { DEFAULT_RATE_LIMIT, RateLimiter, type RateLimitSettings } from './core/rate-limit';
import type { PushMessage, PushSender } from './core/push-port';
import type { StartBudget } from './core/start-pacing';
import type { ReplicateApiClient } from './core/replicate-port';
import type { SweepDeps } from './core/sweeper';
import type { CoreDeps } from './http/api-routes';

export interface ComposeOptions {
  client: DynamoDBDocumentClient;
  activityTable: string;
  keyTable: string;
  push: PushSender;
  log: Log;
  tagSecret: string;
  bundleId: string;
  clock?: () => number;
  random?: (size: number) => Uint8Array;
  cacheTtlMs?: number;
  onSent?: (message: PushMessage) => void;
  /** Per-inspector webhook rate limit (in memory, per container). */
  rateLimit?: RateLimitSettings;
  /** Replicate's API for the sweeper's reconciliation; default: a fetch client on `replicateApiBase`. */
  replicate?: ReplicateApiClient;
  /** REPLICATE_API_BASE (default https://api.replicate.com). */
  replicateApiBase?: string;
  /** Push-to-start budget per device; default 8 per hour (core/start-pacing.ts). */
  startBudget?: StartBudget;
}

/** The core's deps plus ready-made sweeper deps, for POST /v1/admin/sweep and local mode's timer. */
export interface ComposedDeps extends CoreDeps {
  sweep: SweepDeps;
}

/**
 * The sweeper's deps. No activity cache: the sweeper acts on what the table says now, and a
 * cached copy that is behind (a webhook in another container moved `dueAt` earlier) would make
 * it skip a due flush until the entry expired. Its own writes stay conditional, so a cache
 * elsewhere that is now behind simply re-reads on its next write.
 */
export function composeSweepDeps(
  options: Omit<ComposeOptions, 'tagSecret' | 'random'>,
  shared: { keys?: DynamoKeyStore; resolver?: InspectorResolver } = {},
): SweepDeps {
  const clock = options.clock ?? Date.now;
  const keys = shared.keys ?? new DynamoKeyStore(options.client, options.keyTable);
  const deps: SweepDeps = {
    activities: new DynamoActivityStore(options.client, options.activityTable, () => Math.floor(clock() / 1000)),
    keys,
    push: options.push,
    log: options.log,
    clock,
    resolver: shared.resolver ?? new InspectorResolver(keys, clock, options.cacheTtlMs ?? DEFAULT_CACHE_TTL_MS),
    bundleId: options.bundleId,
    replicate: options.replicate ?? createReplicateApi({ ...(options.replicateApiBase ? { baseUrl: options.replicateApiBase } : {}), clock }),
  };
  if (options.onSent) deps.onSent = options.onSent;
  if (options.startBudget) deps.startBudget = options.startBudget;
  return deps;
}

/** Full jitter, capped: racing writers to one activity spread out instead of colliding again. */
export function jitteredPause(attempt: number): Promise<void> {
  const ceiling = Math.min(250, 5 * 2 ** attempt);
  return new Promise((resolve) => setTimeout(resolve, Math.random() * ceiling));
}

export function composeDeps(options: ComposeOptions): ComposedDeps {
  const clock = options.clock ?? Date.now;
  const activities = new CachedActivityStore(new DynamoActivityStore(options.client, options.activityTable, () => Math.floor(clock() / 1000)), clock);
  const keys = new DynamoKeyStore(options.client, options.keyTable);
  const resolver = new InspectorResolver(keys, clock, options.cacheTtlMs ?? DEFAULT_CACHE_TTL_MS);
  const deps: ComposedDeps = {
    activities,
    keys,
    push: options.push,
    log: options.log,
    clock,
    resolver,
    rateLimiter: new RateLimiter(options.rateLimit ?? DEFAULT_RATE_LIMIT, clock),
    pauseBeforeRetry: jitteredPause,
    tagSecret: options.tagSecret,
    bundleId: options.bundleId,
    random: options.random ?? ((size) => randomBytes(size)),
    pingStore: async () => {
      try {
        await options.client.send(new DescribeTableCommand({ TableName: options.activityTable }));
      } catch (err) {
        translateStoreError(err, 'health check');
      }
    },
    // Shares the resolver, so a settings change made through the API is seen by the next sweep.
    sweep: composeSweepDeps(options, { keys, resolver }),
  };
  if (options.onSent) deps.onSent = options.onSent;
  if (options.startBudget) deps.startBudget = options.startBudget;
  return deps;
}
