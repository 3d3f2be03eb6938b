/**
 * The two tables, defined once. The CDK stack, local mode and the tests all build their tables
 * from these objects, so key names, indexes and the TTL attribute cannot drift apart.
 *
 * Single-table layout per table (pk/sk strings). Index and table names are ≥ 3 characters
 * because DynamoDB (and dynalite) reject shorter ones.
 *
 * ActivityTable
 *   ACT#<activityId> / STATE        one item per job card (kept small: every update rewrites it)
 *   EVT#<inspectorId> / <ms>#<rand> the recent-events log, newest first by sort key, TTL'd
 *   byInspector GSI: ginsp = INSP#<inspectorId>, gcreated = createdAt  (set once per activity)
 *   bySweep GSI (sparse): gsweep = SWEEP#<shard>, gdue = epoch s when the sweeper must look
 *
 * KeyTable
 *   KEY#<sha256(key)> / KEY         webhook key → inspector (hash only; the key is never stored)
 *   INSP#<id> / META                inspector settings
 *   DEV#<id> / META                 device, its tokens and its credential hash
 *   DEV#<id> / STARTS               the device's push-to-start budget (last start times), TTL'd
 *   byKind GSI: gkind = INSPECTOR | DEVICE, gcreated = createdAt  (listing)
 */

export interface AttributeDef {
  name: string;
  type: 'S' | 'N';
}

export interface IndexDef {
  indexName: string;
  partitionKey: AttributeDef;
  sortKey: AttributeDef;
  /** KEYS_ONLY keeps index writes rare: only changes to the index keys rewrite the index. */
  projection: 'KEYS_ONLY' | 'ALL';
}

export interface TableDef {
  /** Logical name (CDK construct id, local table name). */
  name: 'ActivityTable' | 'KeyTable';
  partitionKey: AttributeDef;
  sortKey: AttributeDef;
  globalIndexes: IndexDef[];
  /** Epoch-seconds attribute DynamoDB TTL deletes by (storage hygiene only; never relied on). */
  ttlAttribute: string;
}

export const ACTIVITY_TABLE: TableDef = {
  name: 'ActivityTable',
  partitionKey: { name: 'pk', type: 'S' },
  sortKey: { name: 'sk', type: 'S' },
  globalIndexes: [
    {
      indexName: 'byInspector',
      partitionKey: { name: 'ginsp', type: 'S' },
      sortKey: { name: 'gcreated', type: 'N' },
      projection: 'KEYS_ONLY',
    },
    {
      indexName: 'bySweep',
      partitionKey: { name: 'gsweep', type: 'S' },
      sortKey: { name: 'gdue', type: 'N' },
      projection: 'KEYS_ONLY',
    },
  ],
  ttlAttribute: 'expiresAt',
};

export const KEY_TABLE: TableDef = {
  name: 'KeyTable',
  partitionKey: { name: 'pk', type: 'S' },
  sortKey: { name: 'sk', type: 'S' },
  globalIndexes: [
    {
      indexName: 'byKind',
      partitionKey: { name: 'gkind', type: 'S' },
      sortKey: { name: 'gcreated', type: 'N' },
      projection: 'ALL',
    },
  ],
  ttlAttribute: 'expiresAt',
};

export const TABLES: readonly TableDef[] = [ACTIVITY_TABLE, KEY_TABLE];

/** Number of sweep index partitions; activities spread over them by id so no partition runs hot. */
export const SWEEP_SHARDS = 4;
