/**
 * ActivityTable adapter: activities (one small item each, written with optimistic concurrency)
 * and the per-inspector recent-events log.
 */
import { randomBytes } from 'node:crypto';
import { GetCommand, PutCommand, QueryCommand, type DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import type { ActivityRecord, DeviceDelivery } from '../../core/activity';
import type { JobRecord } from '../../core/job-state';
import type { ActivityStore, EventEntry, Page, Versioned } from '../../core/store-ports';
import { SWEEP_SHARDS } from './table-definitions';
import { decodeCursor, encodeCursor, translateStoreError } from './store-errors';

const DAY = 86_400;
/** Activities are kept this long after their last event (storage hygiene via TTL). */
const ACTIVITY_RETENTION_DAYS = 30;

let eventSequence = 0;
function nextEventSequence(): number {
  eventSequence = (eventSequence + 1) % 1_000_000;
  return eventSequence;
}

export function sweepShardOf(activityId: string): number {
  let sum = 0;
  for (let i = 0; i < activityId.length; i++) sum = (sum + activityId.charCodeAt(i)) % 9973;
  return sum % SWEEP_SHARDS;
}

/** What is stored of an activity: the record minus what the item's keys already say. */
type StoredDevice = Omit<DeviceDelivery, 'token'> & { token?: string | Uint8Array };
type StoredActivity = Omit<ActivityRecord, 'activityId' | 'inspectorId' | 'createdAt' | 'dueAt' | 'devices' | 'job'> & {
  job: Omit<JobRecord, 'webUrl'> & { webUrl?: string };
  devices: Record<string, StoredDevice>;
};

interface ActivityItem {
  pk: string;
  sk: 'STATE';
  ver: number;
  /** Random id of the write that made this version: tells our own write from another's (see `put`). */
  wid: string;
  ginsp: string;
  gcreated: number;
  gsweep?: string;
  gdue?: number;
  expiresAt: number;
  a: StoredActivity;
}

/**
 * Every accepted webhook rewrites the activity item, and a write costs one unit per started KB
 * of the larger of the old and new item: the stored form drops what the keys already carry,
 * the default web URL, and stores push tokens (hex text from Apple) as bytes, half the size.
 */
function toStored(activity: ActivityRecord): StoredActivity {
  const { activityId: _a, inspectorId: _i, createdAt: _c, dueAt: _d, devices, job, ...rest } = activity;
  const { webUrl, ...jobRest } = job;
  const storedDevices: Record<string, StoredDevice> = {};
  for (const [id, device] of Object.entries(devices)) {
    const { token, ...deviceRest } = device;
    storedDevices[id] = token === undefined ? deviceRest : { ...deviceRest, token: /^(?:[0-9a-f]{2})+$/.test(token) ? Buffer.from(token, 'hex') : token };
  }
  return { ...rest, job: webUrl === defaultWebUrl(job.jobId) ? jobRest : { ...jobRest, webUrl }, devices: storedDevices };
}

function fromStored(item: ActivityItem): ActivityRecord {
  const { devices, job, ...rest } = item.a;
  const restoredDevices: Record<string, DeviceDelivery> = {};
  for (const [id, device] of Object.entries(devices)) {
    const { token, ...deviceRest } = device;
    restoredDevices[id] = token === undefined ? deviceRest : { ...deviceRest, token: typeof token === 'string' ? token : Buffer.from(token).toString('hex') };
  }
  const activity: ActivityRecord = {
    ...rest,
    activityId: item.pk.slice('ACT#'.length),
    inspectorId: item.ginsp.slice('INSP#'.length),
    createdAt: item.gcreated,
    job: { ...job, webUrl: job.webUrl ?? defaultWebUrl(job.jobId) },
    devices: restoredDevices,
  };
  if (item.gdue !== undefined) activity.dueAt = item.gdue;
  return activity;
}

function defaultWebUrl(jobId: string): string {
  return `https://replicate.com/p/${jobId}`;
}

interface EventItem {
  pk: string;
  sk: string;
  expiresAt: number;
  e: EventEntry;
}

export class DynamoActivityStore implements ActivityStore {
  constructor(
    private readonly client: DynamoDBDocumentClient,
    private readonly tableName: string,
    /** Epoch seconds; expired-but-not-yet-deleted TTL items are filtered out on read. */
    private readonly nowSeconds: () => number,
  ) {}

  async get(activityId: string): Promise<Versioned<ActivityRecord> | null> {
    try {
      const { Item } = await this.client.send(
        new GetCommand({ TableName: this.tableName, Key: { pk: `ACT#${activityId}`, sk: 'STATE' }, ConsistentRead: true }),
      );
      if (!Item) return null;
      const item = Item as ActivityItem;
      return { value: fromStored(item), version: item.ver };
    } catch (err) {
      return translateStoreError(err, 'reading an activity');
    }
  }

  async put(activity: ActivityRecord, expectedVersion: number | null): Promise<number> {
    const version = (expectedVersion ?? 0) + 1;
    const writeId = randomBytes(6).toString('base64url');
    const item: ActivityItem = {
      pk: `ACT#${activity.activityId}`,
      sk: 'STATE',
      ver: version,
      wid: writeId,
      ginsp: `INSP#${activity.inspectorId}`,
      gcreated: activity.createdAt,
      expiresAt: activity.lastEventAt + ACTIVITY_RETENTION_DAYS * DAY,
      a: toStored(activity),
    };
    if (activity.dueAt !== undefined) {
      item.gsweep = `SWEEP#${sweepShardOf(activity.activityId)}`;
      item.gdue = activity.dueAt;
    }
    try {
      await this.client.send(
        new PutCommand({
          TableName: this.tableName,
          Item: item,
          ...(expectedVersion === null
            ? { ConditionExpression: 'attribute_not_exists(pk)' }
            : { ConditionExpression: 'ver = :ver', ExpressionAttributeValues: { ':ver': expectedVersion } }),
        }),
      );
      return version;
    } catch (err) {
      // The write may have landed although no answer came back: a reset connection or a timeout
      // after the store applied it (then the SDK's retry fails its condition on our own write).
      // Taking that for a lost race or an outage would drop the pushes this write recorded.
      if (await this.landed(activity.activityId, version, writeId)) return version;
      return translateStoreError(err, 'writing an activity');
    }
  }

  /** True when the item holds exactly the version this write made (failure path only: one read). */
  private async landed(activityId: string, version: number, writeId: string): Promise<boolean> {
    try {
      const { Item } = await this.client.send(
        new GetCommand({
          TableName: this.tableName,
          Key: { pk: `ACT#${activityId}`, sk: 'STATE' },
          ConsistentRead: true,
          ProjectionExpression: '#ver, #wid',
          ExpressionAttributeNames: { '#ver': 'ver', '#wid': 'wid' },
        }),
      );
      return Item?.ver === version && Item?.wid === writeId;
    } catch {
      return false;
    }
  }

  async appendEvent(entry: EventEntry, retentionDays: number): Promise<void> {
    const item: EventItem = {
      pk: `EVT#${entry.inspectorId}`,
      // Time-ordered sort key. Within one millisecond a per-container counter keeps this
      // container's events in the order they happened; the random part keeps containers apart.
      sk: `${String(entry.at).padStart(14, '0')}#${String(nextEventSequence()).padStart(6, '0')}${randomBytes(3).toString('hex')}`,
      expiresAt: Math.floor(entry.at / 1000) + retentionDays * DAY,
      e: entry,
    };
    try {
      await this.client.send(new PutCommand({ TableName: this.tableName, Item: item }));
    } catch (err) {
      translateStoreError(err, 'appending to the event log');
    }
  }

  async listEvents(inspectorId: string, options: { limit: number; cursor?: string }): Promise<Page<EventEntry>> {
    try {
      const out = await this.client.send(
        new QueryCommand({
          TableName: this.tableName,
          KeyConditionExpression: 'pk = :pk',
          FilterExpression: 'expiresAt > :now',
          ExpressionAttributeValues: { ':pk': `EVT#${inspectorId}`, ':now': this.nowSeconds() },
          ScanIndexForward: false,
          Limit: options.limit,
          ExclusiveStartKey: decodeCursor(options.cursor),
        }),
      );
      return { items: (out.Items ?? []).map((i) => (i as EventItem).e), cursor: encodeCursor(out.LastEvaluatedKey) };
    } catch (err) {
      return translateStoreError(err, 'listing events');
    }
  }

  async listActivities(inspectorId: string, options: { limit: number; cursor?: string }): Promise<Page<ActivityRecord>> {
    try {
      const out = await this.client.send(
        new QueryCommand({
          TableName: this.tableName,
          IndexName: 'byInspector',
          KeyConditionExpression: 'ginsp = :g',
          ExpressionAttributeValues: { ':g': `INSP#${inspectorId}` },
          ScanIndexForward: false,
          Limit: options.limit,
          ExclusiveStartKey: decodeCursor(options.cursor),
        }),
      );
      const ids = (out.Items ?? []).map((i) => String(i.pk).slice('ACT#'.length));
      const records = await Promise.all(ids.map((id) => this.get(id)));
      return {
        items: records.filter((r): r is Versioned<ActivityRecord> => r !== null).map((r) => r.value),
        cursor: encodeCursor(out.LastEvaluatedKey),
      };
    } catch (err) {
      return translateStoreError(err, 'listing activities');
    }
  }

  async listDue(dueBefore: number, options: { limit: number; cursor?: string }): Promise<Page<string>> {
    // The cursor remembers which shard we were in and where in it.
    const start = decodeCursor(options.cursor);
    let shard = typeof start?.shard === 'number' ? start.shard : 0;
    let exclusiveStartKey: Record<string, string | number> | undefined = start?.shard === undefined ? undefined : { ...start };
    if (exclusiveStartKey) delete exclusiveStartKey.shard;
    if (exclusiveStartKey && Object.keys(exclusiveStartKey).length === 0) exclusiveStartKey = undefined;
    const ids: string[] = [];
    try {
      while (shard < SWEEP_SHARDS && ids.length < options.limit) {
        const out = await this.client.send(
          new QueryCommand({
            TableName: this.tableName,
            IndexName: 'bySweep',
            KeyConditionExpression: 'gsweep = :s AND gdue <= :due',
            ExpressionAttributeValues: { ':s': `SWEEP#${shard}`, ':due': dueBefore },
            Limit: options.limit - ids.length,
            ExclusiveStartKey: exclusiveStartKey,
          }),
        );
        ids.push(...(out.Items ?? []).map((i) => String(i.pk).slice('ACT#'.length)));
        if (out.LastEvaluatedKey) {
          if (ids.length >= options.limit) return { items: ids, cursor: encodeCursor({ ...out.LastEvaluatedKey, shard }) };
          exclusiveStartKey = out.LastEvaluatedKey as Record<string, string | number>;
        } else {
          shard += 1;
          exclusiveStartKey = undefined;
        }
      }
      return { items: ids, cursor: shard < SWEEP_SHARDS ? encodeCursor({ shard }) : undefined };
    } catch (err) {
      return translateStoreError(err, 'listing due activities');
    }
  }
}
