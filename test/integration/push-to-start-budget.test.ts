/**
 * The push-to-start budget in the key table (DynamoKeyStore.consumePushToStartBudget) against the
 * embedded DynamoDB-compatible store: one conditional UpdateItem per start, a rolling window that
 * agrees with the reference model in start-pacing.ts, per-device isolation, and a budget that a
 * device PATCH (putDevice replaces the device item) cannot reset.
 */
import { ConditionalCheckFailedException } from '@aws-sdk/client-dynamodb';
import { DynamoDBDocumentClient, GetCommand, UpdateCommand } from '@aws-sdk/lib-dynamodb';
import { mockClient } from 'aws-sdk-client-mock';
import fc from 'fast-check';
import { DynamoKeyStore } from '../../lambda/adapters/dynamo/dynamo-key-store';
import { decideStart, type StartBudget } from '../../lambda/core/start-pacing';
import type { Device } from '../../lambda/core/store-ports';
import { startEmbeddedDynamo, type EmbeddedDynamo } from '../../local/embedded-dynamo';

const NOW = 1_780_000_000;
const HOUR: StartBudget = { maxStarts: 8, windowSeconds: 3600 };

let dynamo: EmbeddedDynamo;
let operations: string[];
let store: DynamoKeyStore;
let deviceCounter = 0;

function newDeviceId(): string {
  deviceCounter += 1;
  return `dev_budget${deviceCounter}`;
}

beforeAll(async () => {
  dynamo = await startEmbeddedDynamo();
  operations = [];
  store = new DynamoKeyStore(dynamo.newClient((operation) => operations.push(operation)), dynamo.tables.key);
});

afterAll(async () => {
  await dynamo.close();
});

beforeEach(() => {
  operations.length = 0;
});

describe('push-to-start budget in the key table', () => {
  test('grants maxStarts starts with exactly one UpdateItem each, then denies until the oldest leaves the window', async () => {
    // Prepare
    const deviceId = newDeviceId();
    const granted = [];

    // Act
    for (let i = 0; i < 8; i++) granted.push(await store.consumePushToStartBudget(deviceId, NOW + i * 60, HOUR));
    const grantOps = [...operations];
    const denied = await store.consumePushToStartBudget(deviceId, NOW + 600, HOUR);
    const stillDenied = await store.consumePushToStartBudget(deviceId, NOW + 3599, HOUR);
    const again = await store.consumePushToStartBudget(deviceId, NOW + 3600, HOUR);

    // Assert
    expect(granted).toEqual(Array.from({ length: 8 }, () => ({ granted: true })));
    expect(grantOps).toEqual(Array.from({ length: 8 }, () => 'UpdateItem'));
    expect(denied).toEqual({ granted: false, retryAt: NOW + 3600 });
    expect(stillDenied).toEqual({ granted: false, retryAt: NOW + 3600 });
    expect(again).toEqual({ granted: true });
  });

  test('is kept per device', async () => {
    // Prepare
    const a = newDeviceId();
    const b = newDeviceId();
    const one: StartBudget = { maxStarts: 1, windowSeconds: 600 };

    // Act
    const first = await store.consumePushToStartBudget(a, NOW, one);
    const secondA = await store.consumePushToStartBudget(a, NOW + 1, one);
    const firstB = await store.consumePushToStartBudget(b, NOW + 1, one);

    // Assert
    expect([first, secondA, firstB]).toEqual([{ granted: true }, { granted: false, retryAt: NOW + 600 }, { granted: true }]);
  });

  test('survives a device update (putDevice replaces the device item, not the budget)', async () => {
    // Prepare
    const id = newDeviceId();
    const device: Device = { id, name: 'phone', environment: 'sandbox', pushToStartToken: 'ab'.repeat(32), frequentPushesEnabled: false, secretHash: 'h', createdAt: NOW };
    const one: StartBudget = { maxStarts: 1, windowSeconds: 600 };
    await store.putDevice(device);
    await store.consumePushToStartBudget(id, NOW, one);

    // Act
    await store.putDevice({ ...device, frequentPushesEnabled: true, pushToStartToken: 'cd'.repeat(32) });
    const after = await store.consumePushToStartBudget(id, NOW + 10, one);

    // Assert
    expect(after).toEqual({ granted: false, retryAt: NOW + 600 });
    expect((await store.getDevice(id))?.frequentPushesEnabled).toBe(true);
  });

  test('agrees with the reference model for any sequence of start attempts', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.array(fc.integer({ min: 0, max: 900 }), { minLength: 1, maxLength: 25 }),
        fc.integer({ min: 1, max: 5 }),
        fc.integer({ min: 60, max: 1800 }),
        async (gaps, maxStarts, windowSeconds) => {
          // Prepare
          const deviceId = newDeviceId();
          const budget = { maxStarts, windowSeconds };
          const granted: number[] = [];
          let now = NOW;
          for (const gap of gaps) {
            now += gap;
            // Act
            const actual = await store.consumePushToStartBudget(deviceId, now, budget);
            // Assert
            const expected = decideStart(granted, now, budget);
            expect(actual).toEqual(expected.granted ? expected : { granted: false, retryAt: Math.max(expected.retryAt, now + 1) });
            if (actual.granted) granted.push(now);
          }
        },
      ),
      { numRuns: 40 },
    );
  });
});

describe('push-to-start budget: a denial from the service', () => {
  test('reads the retry time from the old item DynamoDB returns with the error, without another read', async () => {
    // Prepare: the service answers like DynamoDB does with ReturnValuesOnConditionCheckFailure=ALL_OLD
    const ddb = mockClient(DynamoDBDocumentClient);
    ddb.on(UpdateCommand).rejects(
      new ConditionalCheckFailedException({ message: 'The conditional request failed', $metadata: { httpStatusCode: 400 }, Item: { s0: { N: String(NOW - 5) }, s1: { N: String(NOW - 100) } } }),
    );
    const mocked = new DynamoKeyStore(dynamo.client, 'keys');

    // Act
    const decision = await mocked.consumePushToStartBudget('dev_x', NOW, { maxStarts: 2, windowSeconds: 600 }).finally(() => ddb.restore());

    // Assert
    expect(decision).toEqual({ granted: false, retryAt: NOW + 500 });
    expect(ddb.commandCalls(UpdateCommand)[0]?.args[0].input).toMatchObject({
      Key: { pk: 'DEV#dev_x', sk: 'STARTS' },
      ConditionExpression: 'attribute_not_exists(#s1) OR #s1 <= :cutoff',
      UpdateExpression: 'SET #s0 = :now, #s1 = if_not_exists(#s0, :zero), #exp = :exp',
      ReturnValuesOnConditionCheckFailure: 'ALL_OLD',
    });
    expect(ddb.commandCalls(GetCommand)).toHaveLength(0);
  });
});
