/**
 * ActivityTable adapter: activities (one small item each, written with optimistic concurrency)
 * and the per-inspector recent-events log.
 */
import { randomBytes } from 'node:crypto';
import { GetCommand, PutCommand, QueryCommand, type DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import type { ActivityRecord } from '../../core/activity';
import type { ActivityStore, EventEntry, Page, Versioned } from '../../core/store-ports';
import { SWEEP_SHARDS } from './table-definitions';
import { decodeCursor, encodeCursor, translateStoreError } from './store-errors';

const DAY = 86_400;
/** Activities are kept this long after their last event (storage hygiene via TTL). */
const ACTIVITY_RETENTION_DAYS = 30;

export function sweepShardOf(activityId: string): number {
  let sum = 0;
  for (let i = 0; i < activityId.length; i++) sum = (sum + activityId.charCodeAt(i)) % 9973;
  return sum % SWEEP_SHARDS;
}

interface ActivityItem {
  pk: string;
  sk: 'STATE';
  ver: number;
  ginsp: string;
  gcreated: number;
  gsweep?: string;
  gdue?: number;
  expiresAt: number;
  a: ActivityRecord;
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
      return { value: item.a, version: item.ver };
    } catch (err) {
      return translateStoreError(err, 'reading an activity');
    }
  }

  async put(activity: ActivityRecord, expectedVersion: number | null): Promise<number> {
    const version = (expectedVersion ?? 0) + 1;
    const item: ActivityItem = {
      pk: `ACT#${activity.activityId}`,
      sk: 'STATE',
      ver: version,
      ginsp: `INSP#${activity.inspectorId}`,
      gcreated: activity.createdAt,
      expiresAt: activity.lastEventAt + ACTIVITY_RETENTION_DAYS * DAY,
      a: activity,
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
      return translateStoreError(err, 'writing an activity');
    }
  }

  async appendEvent(entry: EventEntry, retentionDays: number): Promise<void> {
    const item: EventItem = {
      pk: `EVT#${entry.inspectorId}`,
      // Time-ordered sort key with a random suffix: two events in the same millisecond never collide.
      sk: `${String(entry.at).padStart(14, '0')}#${randomBytes(3).toString('hex')}`,
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
