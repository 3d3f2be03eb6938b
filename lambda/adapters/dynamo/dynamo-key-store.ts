/**
 * KeyTable adapter: webhook key hashes, inspectors and devices.
 */
import { BatchGetCommand, DeleteCommand, GetCommand, PutCommand, QueryCommand, UpdateCommand, type DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import type { Device, Inspector, KeyStore, Page, WebhookKeyEntry } from '../../core/store-ports';
import { nextStartAt, type StartBudget, type StartBudgetDecision } from '../../core/start-pacing';
import { decodeCursor, encodeCursor, translateStoreError } from './store-errors';

/** Sort key of a device's push-to-start register, next to its `META` item. */
const STARTS_SK = 'STARTS';

/** A register slot, as a document-client number or a raw `{ N }` attribute value. */
function slotValue(value: unknown): number | undefined {
  if (typeof value === 'number') return value;
  const n = (value as { N?: unknown } | undefined)?.N;
  return typeof n === 'string' && n !== '' && Number.isFinite(Number(n)) ? Number(n) : undefined;
}

type Kind = 'INSPECTOR' | 'DEVICE';

export class DynamoKeyStore implements KeyStore {
  constructor(
    private readonly client: DynamoDBDocumentClient,
    private readonly tableName: string,
  ) {}

  async findWebhookKey(keyHash: string): Promise<WebhookKeyEntry | null> {
    const item = await this.getItem(`KEY#${keyHash}`, 'KEY', 'looking up a key');
    if (!item) return null;
    const entry: WebhookKeyEntry = { inspectorId: String(item.inspectorId) };
    if (typeof item.validUntil === 'number') entry.validUntil = item.validUntil;
    return entry;
  }

  async putWebhookKey(keyHash: string, entry: WebhookKeyEntry): Promise<void> {
    await this.putItem({ pk: `KEY#${keyHash}`, sk: 'KEY', ...entry, ...(entry.validUntil ? { expiresAt: entry.validUntil + 86_400 } : {}) }, 'saving a key');
  }

  async deleteWebhookKey(keyHash: string): Promise<void> {
    try {
      await this.client.send(new DeleteCommand({ TableName: this.tableName, Key: { pk: `KEY#${keyHash}`, sk: 'KEY' } }));
    } catch (err) {
      translateStoreError(err, 'deleting a key');
    }
  }

  async getInspector(id: string): Promise<Inspector | null> {
    const item = await this.getItem(`INSP#${id}`, 'META', 'reading an inspector');
    return item ? (item.v as Inspector) : null;
  }

  async putInspector(inspector: Inspector): Promise<void> {
    await this.putItem({ pk: `INSP#${inspector.id}`, sk: 'META', gkind: 'INSPECTOR', gcreated: inspector.createdAt, v: inspector }, 'saving an inspector');
  }

  listInspectors(options: { limit: number; cursor?: string }): Promise<Page<Inspector>> {
    return this.listKind<Inspector>('INSPECTOR', options);
  }

  async getDevice(id: string): Promise<Device | null> {
    const item = await this.getItem(`DEV#${id}`, 'META', 'reading a device');
    return item ? (item.v as Device) : null;
  }

  async findDeviceCredential(secretHash: string): Promise<string | null> {
    const item = await this.getItem(`DKEY#${secretHash}`, 'KEY', 'looking up a device credential');
    return item ? String(item.deviceId) : null;
  }

  async putDeviceCredential(secretHash: string, deviceId: string): Promise<void> {
    await this.putItem({ pk: `DKEY#${secretHash}`, sk: 'KEY', deviceId }, 'saving a device credential');
  }

  async deleteDeviceCredential(secretHash: string): Promise<void> {
    try {
      await this.client.send(new DeleteCommand({ TableName: this.tableName, Key: { pk: `DKEY#${secretHash}`, sk: 'KEY' } }));
    } catch (err) {
      translateStoreError(err, 'deleting a device credential');
    }
  }

  async getDevices(ids: readonly string[]): Promise<Device[]> {
    const unique = [...new Set(ids)];
    const devices: Device[] = [];
    // BatchGet takes 100 keys at a time; inspectors bind a handful of devices.
    for (let i = 0; i < unique.length; i += 100) {
      let keys: Record<string, string>[] = unique.slice(i, i + 100).map((id) => ({ pk: `DEV#${id}`, sk: 'META' }));
      for (let attempt = 0; keys.length > 0 && attempt < 5; attempt++) {
        try {
          const out = await this.client.send(new BatchGetCommand({ RequestItems: { [this.tableName]: { Keys: keys } } }));
          devices.push(...(out.Responses?.[this.tableName] ?? []).map((item) => item.v as Device));
          keys = (out.UnprocessedKeys?.[this.tableName]?.Keys ?? []) as Record<string, string>[];
        } catch (err) {
          translateStoreError(err, 'reading devices');
        }
      }
    }
    return devices;
  }

  async putDevice(device: Device): Promise<void> {
    await this.putItem({ pk: `DEV#${device.id}`, sk: 'META', gkind: 'DEVICE', gcreated: device.createdAt, v: device }, 'saving a device');
  }

  listDevices(options: { limit: number; cursor?: string }): Promise<Page<Device>> {
    return this.listKind<Device>('DEVICE', options);
  }

  async deleteDevice(id: string): Promise<void> {
    try {
      await this.client.send(new DeleteCommand({ TableName: this.tableName, Key: { pk: `DEV#${id}`, sk: 'META' } }));
    } catch (err) {
      translateStoreError(err, 'deleting a device');
    }
  }

  async retirePushToStartToken(deviceId: string, token: string): Promise<void> {
    try {
      await this.client.send(
        new UpdateCommand({
          TableName: this.tableName,
          Key: { pk: `DEV#${deviceId}`, sk: 'META' },
          // Only if the token is still the retired one: a rotation that raced us wins.
          ConditionExpression: 'v.pushToStartToken = :t',
          UpdateExpression: 'REMOVE v.pushToStartToken',
          ExpressionAttributeValues: { ':t': token },
        }),
      );
    } catch (err) {
      if ((err as { name?: string }).name === 'ConditionalCheckFailedException') return;
      translateStoreError(err, 'retiring a push-to-start token');
    }
  }

  /**
   * The budget is a shift register of the last `maxStarts` start times on `DEV#<id> / STARTS`
   * (`s0` newest … `s<n-1>` oldest). One UpdateItem, conditional on the oldest slot having left
   * the window, shifts every slot by one and writes `now` into `s0`. DynamoDB evaluates every
   * operand of an update expression against the item as it was before the update, so
   * `s1 = s0, s2 = s1, …` is a shift, not a smear. The item is separate from `META` because
   * `putDevice` replaces that one whole (a PATCH must not reset the budget); TTL removes it once
   * every slot is out of the window. A denial costs the same one request (plus one read for the
   * retry time when the service does not return the old item).
   */
  async consumePushToStartBudget(deviceId: string, now: number, budget: StartBudget): Promise<StartBudgetDecision> {
    const n = budget.maxStarts;
    const names: Record<string, string> = { '#exp': 'expiresAt' };
    const sets: string[] = ['#s0 = :now'];
    for (let i = 0; i < n; i++) names[`#s${i}`] = `s${i}`;
    for (let i = 1; i < n; i++) sets.push(`#s${i} = if_not_exists(#s${i - 1}, :zero)`);
    sets.push('#exp = :exp');
    const last = `#s${n - 1}`;
    let oldItem: Record<string, unknown> | undefined;
    try {
      await this.client.send(
        new UpdateCommand({
          TableName: this.tableName,
          Key: { pk: `DEV#${deviceId}`, sk: STARTS_SK },
          ConditionExpression: `attribute_not_exists(${last}) OR ${last} <= :cutoff`,
          UpdateExpression: `SET ${sets.join(', ')}`,
          ExpressionAttributeNames: names,
          ExpressionAttributeValues: {
            ':now': now,
            ':cutoff': now - budget.windowSeconds,
            ':exp': now + budget.windowSeconds + 86_400,
            // DynamoDB rejects unused values: a one-slot register shifts nothing.
            ...(n > 1 ? { ':zero': 0 } : {}),
          },
          ReturnValuesOnConditionCheckFailure: 'ALL_OLD',
        }),
      );
      return { granted: true };
    } catch (err) {
      if ((err as { name?: string }).name !== 'ConditionalCheckFailedException') return translateStoreError(err, 'taking a push-to-start from the budget');
      oldItem = (err as { Item?: Record<string, unknown> }).Item;
    }
    // Denied: the oldest start that still counts says when the next one may go. The service
    // returns the old item with the error (raw attribute values: the document client does not
    // unmarshall errors); emulators may not, and then one read finds it.
    let oldest = slotValue(oldItem?.[`s${n - 1}`]);
    if (oldest === undefined) {
      const item = await this.getItem(`DEV#${deviceId}`, STARTS_SK, 'reading the push-to-start budget');
      oldest = slotValue(item?.[`s${n - 1}`]);
    }
    return { granted: false, retryAt: Math.max(nextStartAt(oldest ?? now, budget), now + 1) };
  }

  private async getItem(pk: string, sk: string, what: string): Promise<Record<string, unknown> | undefined> {
    try {
      const { Item } = await this.client.send(new GetCommand({ TableName: this.tableName, Key: { pk, sk } }));
      return Item;
    } catch (err) {
      return translateStoreError(err, what);
    }
  }

  private async putItem(item: Record<string, unknown>, what: string): Promise<void> {
    try {
      await this.client.send(new PutCommand({ TableName: this.tableName, Item: item }));
    } catch (err) {
      translateStoreError(err, what);
    }
  }

  private async listKind<T>(kind: Kind, options: { limit: number; cursor?: string }): Promise<Page<T>> {
    try {
      const out = await this.client.send(
        new QueryCommand({
          TableName: this.tableName,
          IndexName: 'byKind',
          KeyConditionExpression: 'gkind = :k',
          ExpressionAttributeValues: { ':k': kind },
          ScanIndexForward: false,
          Limit: options.limit,
          ExclusiveStartKey: decodeCursor(options.cursor),
        }),
      );
      return { items: (out.Items ?? []).map((i) => i.v as T), cursor: encodeCursor(out.LastEvaluatedKey) };
    } catch (err) {
      return translateStoreError(err, `listing ${kind.toLowerCase()}s`);
    }
  }
}
