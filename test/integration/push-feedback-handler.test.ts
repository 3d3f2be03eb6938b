/**
 * The push-feedback Lambda's handler with realistic SNS event records (the Lambda subscription's
 * envelope around the platform application's EventDeliveryFailure message), SNS mocked with
 * aws-sdk-client-mock and the stores on the embedded DynamoDB-compatible store.
 *
 * The owner data is a round trip: the SNS push sender writes it into CustomUserData when it
 * creates the endpoint, and GetEndpointAttributes answers with exactly what was written.
 */
import {
  CreatePlatformEndpointCommand,
  DeleteEndpointCommand,
  GetEndpointAttributesCommand,
  NotFoundException,
  PublishCommand,
  SNSClient,
} from '@aws-sdk/client-sns';
import type { SNSEvent, SNSEventRecord } from 'aws-lambda';
import { mockClient } from 'aws-sdk-client-mock';
import 'aws-sdk-client-mock-jest';
import { DynamoActivityStore } from '../../lambda/adapters/dynamo/dynamo-activity-store';
import { DynamoKeyStore } from '../../lambda/adapters/dynamo/dynamo-key-store';
import { createSnsEndpointDirectory } from '../../lambda/adapters/push/sns-endpoint-directory';
import { createSnsPushSender } from '../../lambda/adapters/push/sns-push-sender';
import type { ActivityRecord } from '../../lambda/core/activity';
import type { Log } from '../../lambda/core/log';
import type { FeedbackDeps } from '../../lambda/core/push-feedback';
import type { PushMessage } from '../../lambda/core/push-port';
import type { Device, Inspector } from '../../lambda/core/store-ports';
import { createPushFeedbackHandler } from '../../lambda/handlers/push-feedback';
import { startEmbeddedDynamo, type EmbeddedDynamo } from '../../local/embedded-dynamo';

const NOW_MS = Date.parse('2026-06-01T12:00:00Z');
const NOW = NOW_MS / 1000;
const ACCOUNT = '123456789012';
const APP = `arn:aws:sns:us-east-1:${ACCOUNT}:app/APNS_SANDBOX/chirp-sandbox`;
const TOPIC = `arn:aws:sns:us-east-1:${ACCOUNT}:chirp-PushFeedbackTopic1A2B3C4D-abcdEFGH1234`;
const START_TOKEN = 'A1'.repeat(32); // the app may report upper case; SNS answers lower case
const UPDATE_TOKEN = 'c3'.repeat(40);

const sns = mockClient(SNSClient);
let dynamo: EmbeddedDynamo;
let activities: DynamoActivityStore;
let keys: DynamoKeyStore;
let endpointCounter = 0;
/** What SNS holds per endpoint ARN: token and attributes, as created through the sender. */
const endpoints = new Map<string, { Token: string; Enabled: string; CustomUserData?: string }>();

function endpointArn(): string {
  endpointCounter += 1;
  return `arn:aws:sns:us-east-1:${ACCOUNT}:endpoint/APNS_SANDBOX/chirp-sandbox/${String(endpointCounter).padStart(8, '0')}-2b7a-3c4e-9f10-1a2b3c4d5e6f`;
}

/** One record exactly as the Lambda subscription delivers it. */
function record(message: Record<string, unknown> | string, n = 1): SNSEventRecord {
  return {
    EventSource: 'aws:sns',
    EventVersion: '1.0',
    EventSubscriptionArn: `${TOPIC}:5f0b1a2c-3d4e-4f50-8a6b-7c8d9e0f1a2b`,
    Sns: {
      Type: 'Notification',
      MessageId: `7a1b2c3d-0000-5000-8000-00000000000${n}`,
      TopicArn: TOPIC,
      Subject: 'DeliveryFailure event for app chirp-sandbox (APNS_SANDBOX)',
      Message: typeof message === 'string' ? message : JSON.stringify(message),
      Timestamp: '2026-06-01T12:00:01.234Z',
      SignatureVersion: '1',
      Signature: 'EXAMPLEpH+..',
      SigningCertUrl: 'https://sns.us-east-1.amazonaws.com/SimpleNotificationService-0000000000000000000000.pem',
      UnsubscribeUrl: `https://sns.us-east-1.amazonaws.com/?Action=Unsubscribe&SubscriptionArn=${TOPIC}:5f0b1a2c`,
      MessageAttributes: {},
    },
  };
}

function deliveryFailure(arn: string, failureType: string, failureMessage: string): Record<string, unknown> {
  return {
    DeliveryAttempts: 1,
    EndpointArn: arn,
    EventType: 'DeliveryFailure',
    FailureMessage: failureMessage,
    FailureType: failureType,
    MessageId: '4e658b3c-8738-5a67-a13b-d86089f45074',
    Resource: APP,
    Service: 'SNS',
    Time: '2026-06-01T12:00:01.100Z',
  };
}

function message(kind: 'start' | 'update', deviceId: string, token: string, activityId: string): PushMessage {
  return {
    activityId,
    jobId: 'p1',
    kind,
    target: { deviceId, environment: 'sandbox', token, tokenKind: kind === 'start' ? 'push-to-start' : 'update' },
    headers: { 'apns-push-type': 'liveactivity', 'apns-topic': 'dev.chirp.app.push-type.liveactivity', 'apns-priority': kind === 'start' ? '10' : '5', 'apns-expiration': String(NOW + 300) },
    payload: { aps: { timestamp: NOW, event: kind, 'content-state': { status: 'processing', startedAt: NOW - 5, createdAt: NOW - 5 } } },
  };
}

const warnings: string[] = [];
const log: Log = { debug() {}, info() {}, warn: (m) => warnings.push(m), error: (m) => warnings.push(m) };

function deps(): FeedbackDeps {
  return { activities, keys, endpoints: createSnsEndpointDirectory(new SNSClient({ region: 'us-east-1' })), log, clock: () => NOW_MS };
}

async function seed(id: string): Promise<{ device: Device; activity: ActivityRecord }> {
  const inspector: Inspector = { id: `insp_${id}`, name: 'GPU team', deviceIds: [`dev_${id}`], signingSecrets: [], coalesceSeconds: 5, retentionDays: 7, keepLast: 100, createdAt: NOW, keyHint: 'k', keyHashes: [] };
  const device: Device = { id: `dev_${id}`, name: 'phone', environment: 'sandbox', pushToStartToken: START_TOKEN.toLowerCase(), frequentPushesEnabled: true, secretHash: `h_${id}`, createdAt: NOW };
  const activity: ActivityRecord = {
    activityId: `act_${id}`,
    inspectorId: inspector.id,
    inspectorName: inspector.name,
    job: { jobId: 'p1', kind: 'prediction', model: 'o/m', status: 'processing', outputLength: 0, logsLength: 0, createdAt: NOW - 5, startedAt: NOW - 5, webUrl: 'https://replicate.com/p/p1' },
    devices: { [device.id]: { environment: 'sandbox', startedAt: NOW - 4, sentSeq: 2, token: UPDATE_TOKEN } },
    seq: 2,
    lastTimestamp: NOW - 1,
    lastEventAt: NOW - 1,
    recentWebhookIds: [],
    createdAt: NOW - 5,
  };
  await keys.putInspector(inspector);
  await keys.putDevice(device);
  await activities.put(activity, null);
  return { device, activity };
}

/** Sends one push through the real SNS sender, so the endpoint gets Chirp's owner data. Returns its ARN. */
async function createEndpointBySending(m: PushMessage): Promise<string> {
  const sender = createSnsPushSender({ client: new SNSClient({ region: 'us-east-1' }), platformApplicationArns: { sandbox: APP }, now: () => NOW_MS });
  await sender.send(m);
  const input = sns.commandCalls(CreatePlatformEndpointCommand).at(-1)!.args[0].input;
  return [...endpoints.entries()].find(([, e]) => e.Token === input.Token && e.CustomUserData === input.CustomUserData)![0];
}

beforeAll(async () => {
  dynamo = await startEmbeddedDynamo();
  activities = new DynamoActivityStore(dynamo.client, dynamo.tables.activity, () => NOW);
  keys = new DynamoKeyStore(dynamo.client, dynamo.tables.key);
});

afterAll(async () => {
  await dynamo.close();
});

beforeEach(() => {
  sns.reset();
  endpoints.clear();
  warnings.length = 0;
  sns.on(CreatePlatformEndpointCommand).callsFake((input: { Token: string; CustomUserData?: string }) => {
    const arn = endpointArn();
    endpoints.set(arn, { Token: input.Token, Enabled: 'true', ...(input.CustomUserData ? { CustomUserData: input.CustomUserData } : {}) });
    return { EndpointArn: arn };
  });
  sns.on(PublishCommand).resolves({ MessageId: 'm-1' });
  sns.on(GetEndpointAttributesCommand).callsFake((input: { EndpointArn: string }) => {
    const endpoint = endpoints.get(input.EndpointArn);
    if (!endpoint) throw new NotFoundException({ message: 'Endpoint does not exist', $metadata: { httpStatusCode: 404 } });
    // SNS: "The device token for the iOS platform is returned in lowercase."
    return { Attributes: { ...endpoint, Token: endpoint.Token.toLowerCase() } };
  });
  sns.on(DeleteEndpointCommand).callsFake((input: { EndpointArn: string }) => {
    endpoints.delete(input.EndpointArn);
    return {};
  });
});

describe('push-feedback handler', () => {
  test('InvalidPlatformToken on an update token: the device stops for that activity, the event is logged, the endpoint deleted', async () => {
    // Prepare
    const { device, activity } = await seed('u1');
    const arn = await createEndpointBySending(message('update', device.id, UPDATE_TOKEN, activity.activityId));
    endpoints.get(arn)!.Enabled = 'false';
    const event: SNSEvent = { Records: [record(deliveryFailure(arn, 'InvalidPlatformToken', 'Platform token associated with the endpoint is not valid'))] };

    // Act
    const summary = await createPushFeedbackHandler(async () => deps())(event);

    // Assert
    expect(summary).toEqual({ records: 1, retired: 1, ignored: 0, failed: 0 });
    const saved = (await activities.get(activity.activityId))!.value.devices[device.id]!;
    expect(saved).toEqual({ environment: 'sandbox', startedAt: NOW - 4, sentSeq: 2, stopped: 'update token retired: SNS InvalidPlatformToken: Platform token associated with the endpoint is not valid' });
    expect(sns.commandCalls(DeleteEndpointCommand).map((c) => c.args[0].input)).toEqual([{ EndpointArn: arn }]);
    const log_ = await activities.listEvents(`insp_u1`, { limit: 5 });
    expect(log_.items[0]).toMatchObject({ source: 'feedback', activityId: activity.activityId, pushes: [{ deviceId: device.id, kind: 'update', outcome: 'retire-token', transport: 'sns' }] });
  });

  test('EndpointDisabled on a push-to-start token (reported in upper case): the device forgets it', async () => {
    // Prepare
    const { device } = await seed('s1');
    const arn = await createEndpointBySending(message('start', device.id, START_TOKEN, 'act_s1'));
    endpoints.get(arn)!.Enabled = 'false';

    // Act
    const summary = await createPushFeedbackHandler(async () => deps())({ Records: [record(deliveryFailure(arn, 'EndpointDisabled', 'Endpoint is disabled'))] });

    // Assert
    expect(summary).toEqual({ records: 1, retired: 1, ignored: 0, failed: 0 });
    expect((await keys.getDevice(device.id))!.pushToStartToken).toBeUndefined();
    expect(endpoints.has(arn)).toBe(false);
  });

  test('a batch: unrelated, malformed and already-handled records are skipped, and a second delivery of the same event changes nothing', async () => {
    // Prepare
    const { device, activity } = await seed('b1');
    const arn = await createEndpointBySending(message('update', device.id, UPDATE_TOKEN, activity.activityId));
    endpoints.get(arn)!.Enabled = 'false';
    const event: SNSEvent = {
      Records: [
        record(deliveryFailure(arn, 'InvalidPlatformToken', 'Platform token associated with the endpoint is not valid'), 1),
        record({ EventType: 'EndpointCreated', EndpointArn: arn, Resource: APP, Service: 'SNS' }, 2),
        record('not json at all', 3),
        record(deliveryFailure(arn, 'NotificationTTLExpired', 'Notification expired'), 4),
      ],
    };
    const handler = createPushFeedbackHandler(async () => deps());

    // Act
    const first = await handler(event);
    const second = await handler(event);

    // Assert
    expect(first).toEqual({ records: 4, retired: 1, ignored: 3, failed: 0 });
    expect(second).toEqual({ records: 4, retired: 0, ignored: 4, failed: 0 });
    expect(sns).toHaveReceivedCommandTimes(DeleteEndpointCommand, 1);
  });

  test('fails the invocation when the store cannot be written, so that Lambda retries the batch', async () => {
    // Prepare
    const { device, activity } = await seed('f1');
    const arn = await createEndpointBySending(message('update', device.id, UPDATE_TOKEN, activity.activityId));
    const broken: FeedbackDeps = { ...deps(), activities: { ...activities, get: (id) => activities.get(id), appendEvent: (e, d) => activities.appendEvent(e, d), put: () => Promise.reject(new Error('ProvisionedThroughputExceededException')) } };

    // Act
    const run = createPushFeedbackHandler(async () => broken)({ Records: [record(deliveryFailure(arn, 'InvalidPlatformToken', 'Platform token associated with the endpoint is not valid'))] });

    // Assert
    await expect(run).rejects.toThrow('1 of 1 delivery-failure records could not be handled; retrying is safe');
    expect(warnings).toContain('push feedback record failed');
    expect(endpoints.has(arn)).toBe(true); // nothing half-done: the retry finds it again
  });
});
