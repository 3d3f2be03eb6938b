/**
 * Builds the dependency graph from its parts. Lambda handlers and the local server both call
 * this, so local mode runs exactly the product's code on a different store endpoint and push
 * transport.
 */
import { randomBytes } from 'node:crypto';
import { DescribeTableCommand } from '@aws-sdk/client-dynamodb';
import type { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { DynamoActivityStore } from './adapters/dynamo/dynamo-activity-store';
import { DynamoKeyStore } from './adapters/dynamo/dynamo-key-store';
import { translateStoreError } from './adapters/dynamo/store-errors';
import { InspectorResolver, DEFAULT_CACHE_TTL_MS } from './core/inspector-resolver';
import type { Log } from './core/log';
import type { PushMessage, PushSender } from './core/push-port';
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
}

export function composeDeps(options: ComposeOptions): CoreDeps {
  const clock = options.clock ?? Date.now;
  const activities = new DynamoActivityStore(options.client, options.activityTable, () => Math.floor(clock() / 1000));
  const keys = new DynamoKeyStore(options.client, options.keyTable);
  const deps: CoreDeps = {
    activities,
    keys,
    push: options.push,
    log: options.log,
    clock,
    resolver: new InspectorResolver(keys, clock, options.cacheTtlMs ?? DEFAULT_CACHE_TTL_MS),
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
  };
  if (options.onSent) deps.onSent = options.onSent;
  return deps;
}
