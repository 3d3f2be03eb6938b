/**
 * SNS delivery-failure feedback, the pure part and the rules: parsing the event message, which
 * failure types retire a token, and what retiring does to the device (push-to-start) or the
 * activity (update token), with in-memory stores.
 */
import type { ActivityRecord } from '../../lambda/core/activity';
import type { Log } from '../../lambda/core/log';
import {
  failureVerdict,
  handleDeliveryFailure,
  parseDeliveryFailure,
  type DeliveryFailure,
  type EndpointDirectory,
  type EndpointInfo,
  type FeedbackDeps,
} from '../../lambda/core/push-feedback';
import type { Inspector, KeyStore } from '../../lambda/core/store-ports';
import { MemoryActivityStore } from '../helpers/memory-activity-store';

const NOW_MS = Date.parse('2026-06-01T12:00:00Z');
const ENDPOINT = 'arn:aws:sns:us-east-1:123456789012:endpoint/APNS_SANDBOX/chirp-sandbox/0d8f4d1c-2b7a-3c4e-9f10-1a2b3c4d5e6f';
const UPDATE_TOKEN = 'c3'.repeat(40);
const START_TOKEN = 'a1'.repeat(32);
const inspector: Inspector = { id: 'insp_1', name: 'GPU team', deviceIds: ['dev_1'], signingSecrets: [], coalesceSeconds: 5, retentionDays: 7, keepLast: 100, createdAt: 0, keyHint: 'k', keyHashes: [] };

function failure(o: Partial<DeliveryFailure> = {}): DeliveryFailure {
  return { endpointArn: ENDPOINT, failureType: 'InvalidPlatformToken', failureMessage: 'Platform token associated with the endpoint is not valid', deliveryAttempts: 1, ...o };
}

function activity(): ActivityRecord {
  return {
    activityId: 'act_1',
    inspectorId: 'insp_1',
    inspectorName: 'GPU team',
    job: { jobId: 'p1', kind: 'prediction', model: 'o/m', status: 'processing', outputLength: 0, logsLength: 0, createdAt: 1, startedAt: 1, webUrl: 'https://replicate.com/p/p1' },
    devices: { dev_1: { environment: 'sandbox', startedAt: 2, sentSeq: 3, token: UPDATE_TOKEN } },
    seq: 3,
    lastTimestamp: 3,
    lastEventAt: 3,
    recentWebhookIds: [],
    createdAt: 1,
  };
}

function setup(endpoint: EndpointInfo | null) {
  const activities = new MemoryActivityStore();
  const retired: { deviceId: string; token: string }[] = [];
  const removed: string[] = [];
  const keys: Pick<KeyStore, 'retirePushToStartToken' | 'getInspector'> = {
    retirePushToStartToken: async (deviceId, token) => {
      retired.push({ deviceId, token });
    },
    getInspector: async (id) => (id === inspector.id ? inspector : null),
  };
  const endpoints: EndpointDirectory = {
    describe: async () => endpoint,
    remove: async (arn) => {
      removed.push(arn);
    },
  };
  const log: Log = { debug() {}, info() {}, warn() {}, error() {} };
  const deps: FeedbackDeps = { activities, keys, endpoints, log, clock: () => NOW_MS };
  return { deps, activities, retired, removed };
}

describe('parseDeliveryFailure', () => {
  test('reads the fields of an SNS DeliveryFailure event', () => {
    // Prepare
    const message = JSON.stringify({
      DeliveryAttempts: 1,
      EndpointArn: ENDPOINT,
      EventType: 'DeliveryFailure',
      FailureMessage: 'Platform token associated with the endpoint is not valid',
      FailureType: 'InvalidPlatformToken',
      MessageId: 'dd686e01-3f8f-56f7-9683-348cb97d649a',
      Resource: 'arn:aws:sns:us-east-1:123456789012:app/APNS_SANDBOX/chirp-sandbox',
      Service: 'SNS',
      Time: '2026-06-01T12:00:00.000Z',
    });

    // Act / Assert
    expect(parseDeliveryFailure(message)).toEqual({
      failure: {
        endpointArn: ENDPOINT,
        failureType: 'InvalidPlatformToken',
        failureMessage: 'Platform token associated with the endpoint is not valid',
        deliveryAttempts: 1,
        resource: 'arn:aws:sns:us-east-1:123456789012:app/APNS_SANDBOX/chirp-sandbox',
        messageId: 'dd686e01-3f8f-56f7-9683-348cb97d649a',
        time: '2026-06-01T12:00:00.000Z',
      },
    });
  });

  test.each([
    ['not JSON', 'Delivery failed', 'message is not JSON'],
    ['a JSON array', '[1]', 'message is not a JSON object'],
    ['another application event', JSON.stringify({ EventType: 'EndpointCreated', EndpointArn: ENDPOINT }), 'not a delivery failure (EndpointCreated)'],
    ['no endpoint ARN', JSON.stringify({ EventType: 'DeliveryFailure', FailureType: 'InvalidPlatformToken' }), 'no platform endpoint ARN in the message'],
    ['a topic ARN instead of an endpoint', JSON.stringify({ EventType: 'DeliveryFailure', EndpointArn: 'arn:aws:sns:us-east-1:123456789012:some-topic' }), 'no platform endpoint ARN in the message'],
  ])('skips %s without throwing', (_label, message, reason) => {
    expect(parseDeliveryFailure(message)).toEqual({ skip: reason });
  });

  test('names an unknown failure type rather than dropping the event', () => {
    expect(parseDeliveryFailure(JSON.stringify({ EndpointArn: ENDPOINT }))).toEqual({ failure: { endpointArn: ENDPOINT, failureType: 'UnknownFailure' } });
  });
});

describe('failureVerdict', () => {
  test.each([
    ['InvalidPlatformToken', 'retire'],
    ['DeliveryFailedPerm', 'retire'],
    ['EndpointDisabled', 'retire-if-disabled'],
    ['SomethingNewFromSns', 'retire-if-disabled'],
    ['NotificationTTLExpired', 'ignore'],
    ['EndpointNotFound', 'ignore'],
  ])('%s → %s', (type, verdict) => {
    expect(failureVerdict(type)).toBe(verdict);
  });
});

describe('handleDeliveryFailure', () => {
  test('an update token: stops that device for the activity, logs it for the inspector, deletes the endpoint', async () => {
    // Prepare
    const s = setup({ token: UPDATE_TOKEN, enabled: false, owner: { deviceId: 'dev_1', tokenKind: 'update', activityId: 'act_1' } });
    await s.activities.put(activity(), null);

    // Act
    const outcome = await handleDeliveryFailure(s.deps, failure());

    // Assert
    expect(outcome).toEqual({ action: 'retired', tokenKind: 'update', deviceId: 'dev_1', activityId: 'act_1' });
    const saved = (await s.activities.get('act_1'))!.value.devices.dev_1!;
    expect(saved.token).toBeUndefined();
    expect(saved.stopped).toBe('update token retired: SNS InvalidPlatformToken: Platform token associated with the endpoint is not valid');
    expect(s.removed).toEqual([ENDPOINT]);
    expect(s.activities.events).toEqual([
      {
        inspectorId: 'insp_1',
        at: NOW_MS,
        source: 'feedback',
        activityId: 'act_1',
        jobId: 'p1',
        status: 'processing',
        outcome: 'token',
        reason: 'update token of device dev_1 retired after a failed delivery (SNS InvalidPlatformToken: Platform token associated with the endpoint is not valid)',
        pushes: [{ deviceId: 'dev_1', kind: 'update', outcome: 'retire-token', transport: 'sns', reason: 'SNS InvalidPlatformToken: Platform token associated with the endpoint is not valid' }],
      },
    ]);
  });

  test('a push-to-start token: forgets it on the device (if still current) and deletes the endpoint', async () => {
    // Prepare
    const s = setup({ token: START_TOKEN, enabled: false, owner: { deviceId: 'dev_1', tokenKind: 'push-to-start' } });

    // Act
    const outcome = await handleDeliveryFailure(s.deps, failure({ failureType: 'EndpointDisabled', failureMessage: 'Endpoint is disabled' }));

    // Assert
    expect(outcome).toEqual({ action: 'retired', tokenKind: 'push-to-start', deviceId: 'dev_1' });
    expect(s.retired).toEqual([{ deviceId: 'dev_1', token: START_TOKEN }]);
    expect(s.removed).toEqual([ENDPOINT]);
  });

  test('a failure type that is not permanent leaves an enabled endpoint and its token alone', async () => {
    // Prepare
    const s = setup({ token: START_TOKEN, enabled: true, owner: { deviceId: 'dev_1', tokenKind: 'push-to-start' } });

    // Act
    const outcome = await handleDeliveryFailure(s.deps, failure({ failureType: 'EndpointDisabled' }));

    // Assert
    expect(outcome).toEqual({ action: 'ignored', reason: 'EndpointDisabled and the endpoint is still enabled' });
    expect(s.retired).toEqual([]);
    expect(s.removed).toEqual([]);
  });

  test('an expired notification says nothing about the token: not even a lookup', async () => {
    // Prepare
    const s = setup(null);
    const describe = jest.spyOn(s.deps.endpoints, 'describe');

    // Act
    const outcome = await handleDeliveryFailure(s.deps, failure({ failureType: 'NotificationTTLExpired' }));

    // Assert
    expect(outcome).toEqual({ action: 'ignored', reason: 'NotificationTTLExpired says nothing about the token' });
    expect(describe).not.toHaveBeenCalled();
  });

  test('a repeated event finds the endpoint gone and changes nothing (idempotent)', async () => {
    // Prepare
    const s = setup(null);

    // Act
    const outcome = await handleDeliveryFailure(s.deps, failure());

    // Assert
    expect(outcome).toEqual({ action: 'ignored', reason: 'the endpoint no longer exists (already handled or released)' });
  });

  test('an endpoint Chirp did not create is neither retired nor deleted', async () => {
    // Prepare
    const s = setup({ token: START_TOKEN, enabled: false });

    // Act
    const outcome = await handleDeliveryFailure(s.deps, failure());

    // Assert
    expect(outcome).toEqual({ action: 'ignored', reason: 'the endpoint carries no Chirp owner data' });
    expect(s.removed).toEqual([]);
  });

  test('an update token the app already replaced is not retired, but its dead endpoint is deleted', async () => {
    // Prepare
    const s = setup({ token: 'ee'.repeat(40), enabled: false, owner: { deviceId: 'dev_1', tokenKind: 'update', activityId: 'act_1' } });
    await s.activities.put(activity(), null);

    // Act
    const outcome = await handleDeliveryFailure(s.deps, failure());

    // Assert
    expect(outcome).toEqual({ action: 'ignored', reason: 'the token is no longer this device\'s update token for the activity' });
    expect((await s.activities.get('act_1'))!.value.devices.dev_1!.token).toBe(UPDATE_TOKEN);
    expect(s.removed).toEqual([ENDPOINT]);
  });
});
