/**
 * The SNS transport with aws-sdk-client-mock: exact request shapes, the endpoint lifecycle AWS
 * documents, and how SNS's answers map to the port's outcomes.
 *
 * Mock ordering: aws-sdk-client-mock tries the most recently declared matching behaviour first,
 * so the general `.on(Cmd).resolves()` comes before the specific `.on(Cmd, { TargetArn }).rejects()`.
 */
import {
  AuthorizationErrorException,
  CreatePlatformEndpointCommand,
  DeleteEndpointCommand,
  EndpointDisabledException,
  InternalErrorException,
  InvalidParameterException,
  KMSThrottlingException,
  NotFoundException,
  PlatformApplicationDisabledException,
  PublishCommand,
  SetEndpointAttributesCommand,
  SNSClient,
  SNSServiceException,
  ThrottledException,
} from '@aws-sdk/client-sns';
import { mockClient } from 'aws-sdk-client-mock';
import 'aws-sdk-client-mock-jest';
import { classifySnsError, createSnsPushSender, existingEndpointArn, type SnsPushSenderOptions } from '../../lambda/adapters/push/sns-push-sender';
import type { ApnsPayload, PushKind } from '../../lambda/core/live-activity';
import type { ApnsEnvironment, PushMessage, PushSender } from '../../lambda/core/push-port';

const SANDBOX_APP = 'arn:aws:sns:us-east-1:123456789012:app/APNS_SANDBOX/chirp-sandbox';
const PRODUCTION_APP = 'arn:aws:sns:us-east-1:123456789012:app/APNS/chirp';
const endpointArn = (env: ApnsEnvironment, n: number): string =>
  `arn:aws:sns:us-east-1:123456789012:endpoint/${env === 'sandbox' ? 'APNS_SANDBOX/chirp-sandbox' : 'APNS/chirp'}/0000000${n}-aaaa-bbbb-cccc-000000000000`;

const NOW_S = 1_767_225_600;
const TOKEN_A = 'a1'.repeat(32);
const TOKEN_B = 'b2'.repeat(32);
const TOPIC = 'dev.chirp.app.push-type.liveactivity';

const meta = { $metadata: { httpStatusCode: 400 } };
/** The owner recorded on an update token's endpoint (sns-endpoint-data.ts), byte for byte. */
const UPDATE_OWNER = '{"chirp":1,"deviceId":"dev_1","tokenKind":"update","activityId":"act_1"}';
const START_OWNER = '{"chirp":1,"deviceId":"dev_1","tokenKind":"push-to-start"}';

function payload(kind: PushKind): ApnsPayload {
  return {
    aps: {
      timestamp: NOW_S,
      event: kind,
      'content-state': { status: kind === 'end' ? 'failed' : 'processing', startedAt: NOW_S - 60, createdAt: NOW_S - 61, detail: 'it\'s "quoted" \\ and ünïcode', ...(kind === 'end' ? { endedAt: NOW_S, error: 'CUDA out of memory' } : {}) },
      ...(kind === 'end' ? { 'dismissal-date': NOW_S + 3600 } : { 'stale-date': NOW_S + 900 }),
    },
  };
}

function message(kind: PushKind, token: string, environment: ApnsEnvironment = 'sandbox', expiresIn = 300): PushMessage {
  return {
    activityId: 'act_1',
    jobId: 'p_1',
    kind,
    target: { deviceId: 'dev_1', environment, token, tokenKind: kind === 'start' ? 'push-to-start' : 'update' },
    headers: {
      'apns-push-type': 'liveactivity',
      'apns-topic': TOPIC,
      'apns-priority': kind === 'update' ? '5' : '10',
      'apns-expiration': String(NOW_S + expiresIn),
    },
    payload: payload(kind),
  };
}

describe('SNS push sender', () => {
  const sns = mockClient(SNSClient);
  let created = 0;

  function sender(extra: Partial<SnsPushSenderOptions> = {}): PushSender {
    return createSnsPushSender({
      client: new SNSClient({ region: 'us-east-1' }),
      platformApplicationArns: { sandbox: SANDBOX_APP, production: PRODUCTION_APP },
      now: () => NOW_S * 1000 + 400,
      ...extra,
    });
  }

  beforeEach(() => {
    sns.reset();
    created = 0;
    sns.on(CreatePlatformEndpointCommand).callsFake((input: { PlatformApplicationArn: string }) => {
      created += 1;
      return { EndpointArn: endpointArn(input.PlatformApplicationArn === SANDBOX_APP ? 'sandbox' : 'production', created) };
    });
    sns.on(PublishCommand).resolves({ MessageId: 'msg-1' });
    sns.on(SetEndpointAttributesCommand).resolves({});
    sns.on(DeleteEndpointCommand).resolves({});
  });

  it('creates an endpoint for the token and publishes the exact sandbox shape', async () => {
    const msg = message('update', TOKEN_A, 'sandbox', 300);
    await expect(sender().send(msg)).resolves.toEqual({ outcome: 'sent', transport: 'sns', id: 'msg-1' });

    expect(sns).toHaveReceivedCommandTimes(CreatePlatformEndpointCommand, 1);
    expect(sns.commandCalls(CreatePlatformEndpointCommand)[0]?.args[0].input).toEqual({ PlatformApplicationArn: SANDBOX_APP, Token: TOKEN_A, CustomUserData: UPDATE_OWNER });

    const publish = sns.commandCalls(PublishCommand)[0]?.args[0].input;
    expect(publish?.TargetArn).toBe(endpointArn('sandbox', 1));
    expect(publish?.MessageStructure).toBe('json');
    expect(Object.keys(publish ?? {}).sort()).toEqual(['Message', 'MessageAttributes', 'MessageStructure', 'TargetArn']);
    const body = JSON.parse(publish?.Message ?? '{}') as Record<string, unknown>;
    expect(Object.keys(body).sort()).toEqual(['APNS_SANDBOX', 'default']);
    expect(typeof body.default).toBe('string');
    expect(typeof body.APNS_SANDBOX).toBe('string'); // the APNs payload travels as a string
    expect(body.APNS_SANDBOX).toBe(JSON.stringify(msg.payload));
    expect(JSON.parse(body.APNS_SANDBOX as string)).toEqual(msg.payload);
    expect(publish?.MessageAttributes).toEqual({
      'AWS.SNS.MOBILE.APNS.PUSH_TYPE': { DataType: 'String', StringValue: 'liveactivity' },
      'AWS.SNS.MOBILE.APNS.TOPIC': { DataType: 'String', StringValue: TOPIC },
      'AWS.SNS.MOBILE.APNS.PRIORITY': { DataType: 'String', StringValue: '5' },
      'AWS.SNS.MOBILE.APNS_SANDBOX.TTL': { DataType: 'String', StringValue: '300' },
    });
  });

  it('uses the production platform application, the APNS key and the APNS TTL attribute for production', async () => {
    const msg = message('end', TOKEN_A, 'production', 4 * 3600);
    await expect(sender().send(msg)).resolves.toMatchObject({ outcome: 'sent' });
    expect(sns.commandCalls(CreatePlatformEndpointCommand)[0]?.args[0].input).toEqual({ PlatformApplicationArn: PRODUCTION_APP, Token: TOKEN_A, CustomUserData: UPDATE_OWNER });
    const publish = sns.commandCalls(PublishCommand)[0]?.args[0].input;
    expect(publish?.TargetArn).toBe(endpointArn('production', 1));
    const body = JSON.parse(publish?.Message ?? '{}') as Record<string, string>;
    expect(Object.keys(body).sort()).toEqual(['APNS', 'default']);
    expect(JSON.parse(body.APNS ?? '')).toEqual(msg.payload);
    expect(publish?.MessageAttributes).toEqual({
      'AWS.SNS.MOBILE.APNS.PUSH_TYPE': { DataType: 'String', StringValue: 'liveactivity' },
      'AWS.SNS.MOBILE.APNS.TOPIC': { DataType: 'String', StringValue: TOPIC },
      'AWS.SNS.MOBILE.APNS.PRIORITY': { DataType: 'String', StringValue: '10' },
      'AWS.SNS.MOBILE.APNS.TTL': { DataType: 'String', StringValue: String(4 * 3600) },
    });
  });

  it('derives the TTL from apns-expiration (never negative), or from ttlSeconds when given', async () => {
    const s = sender();
    await s.send(message('update', TOKEN_A, 'sandbox', -50));
    await s.send({ ...message('update', TOKEN_A), headers: { ...message('update', TOKEN_A).headers, 'apns-expiration': '0' } });
    await sender({ ttlSeconds: (m) => (m.kind === 'update' ? 42.9 : 600) }).send(message('update', TOKEN_A));
    const ttls = sns.commandCalls(PublishCommand).map((c) => c.args[0].input.MessageAttributes?.['AWS.SNS.MOBILE.APNS_SANDBOX.TTL']?.StringValue);
    expect(ttls).toEqual(['0', '0', '42']);
  });

  it('reuses the endpoint for the same token: the second push is one Publish', async () => {
    const s = sender();
    await s.send(message('update', TOKEN_A));
    await s.send(message('update', TOKEN_A.toUpperCase()));
    await s.send(message('end', TOKEN_A));
    expect(sns).toHaveReceivedCommandTimes(CreatePlatformEndpointCommand, 1);
    expect(sns).toHaveReceivedCommandTimes(PublishCommand, 3);
    expect(new Set(sns.commandCalls(PublishCommand).map((c) => c.args[0].input.TargetArn))).toEqual(new Set([endpointArn('sandbox', 1)]));

    await s.send(message('update', TOKEN_B));
    await s.send(message('update', TOKEN_A, 'production'));
    expect(sns).toHaveReceivedCommandTimes(CreatePlatformEndpointCommand, 3);
  });

  it('shares one CreatePlatformEndpoint between concurrent first pushes to a token', async () => {
    const s = sender();
    await Promise.all([s.send(message('update', TOKEN_A)), s.send(message('update', TOKEN_A)), s.send(message('update', TOKEN_A))]);
    expect(sns).toHaveReceivedCommandTimes(CreatePlatformEndpointCommand, 1);
    expect(sns).toHaveReceivedCommandTimes(PublishCommand, 3);
  });

  it('handles "already exists with the same Token, but different attributes": re-enables that endpoint and uses it', async () => {
    const existing = endpointArn('sandbox', 7);
    sns.on(CreatePlatformEndpointCommand).rejects(
      new InvalidParameterException({
        message: `Invalid parameter: Token Reason: Endpoint ${existing} already exists with the same Token, but different attributes.`,
        ...meta,
      }),
    );
    const s = sender();
    await expect(s.send(message('update', TOKEN_A))).resolves.toEqual({ outcome: 'sent', transport: 'sns', id: 'msg-1' });
    expect(sns.commandCalls(SetEndpointAttributesCommand)[0]?.args[0].input).toEqual({
      EndpointArn: existing,
      Attributes: { Token: TOKEN_A, Enabled: 'true', CustomUserData: UPDATE_OWNER },
    });
    expect(sns.commandCalls(PublishCommand)[0]?.args[0].input.TargetArn).toBe(existing);
    await s.send(message('update', TOKEN_A));
    expect(sns).toHaveReceivedCommandTimes(CreatePlatformEndpointCommand, 1);
    expect(sns).toHaveReceivedCommandTimes(SetEndpointAttributesCommand, 1);
  });

  it('retires the token on EndpointDisabled, deletes the endpoint and never reuses it', async () => {
    const disabled = endpointArn('sandbox', 1);
    sns.on(PublishCommand, { TargetArn: disabled }).rejects(new EndpointDisabledException({ message: 'Endpoint is disabled', ...meta }));
    const s = sender();
    await expect(s.send(message('update', TOKEN_A))).resolves.toEqual({
      outcome: 'retire-token',
      transport: 'sns',
      status: 400,
      reason: 'EndpointDisabledException: Endpoint is disabled',
    });
    expect(sns.commandCalls(DeleteEndpointCommand).map((c) => c.args[0].input)).toEqual([{ EndpointArn: disabled }]);

    // the same token reported again later: a fresh endpoint, not the dead one
    await expect(s.send(message('update', TOKEN_A))).resolves.toMatchObject({ outcome: 'sent' });
    expect(sns).toHaveReceivedCommandTimes(CreatePlatformEndpointCommand, 2);
    expect(sns.commandCalls(PublishCommand)[1]?.args[0].input.TargetArn).toBe(endpointArn('sandbox', 2));
  });

  it('recreates a deleted endpoint once when Publish says NotFound', async () => {
    sns.on(PublishCommand, { TargetArn: endpointArn('sandbox', 1) }).rejects(new NotFoundException({ message: 'Endpoint does not exist', ...meta }));
    await expect(sender().send(message('update', TOKEN_A))).resolves.toMatchObject({ outcome: 'sent' });
    expect(sns).toHaveReceivedCommandTimes(CreatePlatformEndpointCommand, 2);
    expect(sns.commandCalls(PublishCommand).map((c) => c.args[0].input.TargetArn)).toEqual([endpointArn('sandbox', 1), endpointArn('sandbox', 2)]);
  });

  it('gives up after one recreate when Publish keeps saying NotFound (retry-later)', async () => {
    sns.on(PublishCommand).rejects(new NotFoundException({ message: 'Endpoint does not exist', ...meta }));
    await expect(sender().send(message('update', TOKEN_A))).resolves.toMatchObject({ outcome: 'retry-later', transport: 'sns' });
    expect(sns).toHaveReceivedCommandTimes(PublishCommand, 2);
  });

  it.each([
    { label: 'Throttled', error: new ThrottledException({ message: 'Rate exceeded', ...meta }), outcome: 'retry-later' },
    { label: 'KMSThrottling', error: new KMSThrottlingException({ message: 'slow down', ...meta }), outcome: 'retry-later' },
    { label: 'InternalError', error: new InternalErrorException({ message: 'oops', $metadata: { httpStatusCode: 500 } }), outcome: 'retry-later' },
    { label: 'a network error', error: Object.assign(new Error('socket hang up'), { code: 'ECONNRESET' }), outcome: 'retry-later' },
    { label: 'PlatformApplicationDisabled', error: new PlatformApplicationDisabledException({ message: 'Platform application is disabled', ...meta }), outcome: 'fix-config' },
    {
      label: 'InvalidParameter about the payload',
      error: new InvalidParameterException({ message: 'Invalid parameter: Message Reason: Invalid notification for protocol APNS: Notification is too long', ...meta }),
      outcome: 'fix-config',
    },
    { label: 'AuthorizationError', error: new AuthorizationErrorException({ message: 'not authorized to perform: SNS:Publish', $metadata: { httpStatusCode: 403 } }), outcome: 'fix-config' },
  ])('maps a Publish failure ($label) to $outcome', async ({ error, outcome }) => {
    sns.on(PublishCommand).rejects(error);
    const result = await sender().send(message('update', TOKEN_A));
    expect(result).toMatchObject({ outcome, transport: 'sns', reason: expect.stringContaining(error.message) });
    expect(sns).toHaveReceivedCommandTimes(DeleteEndpointCommand, 0);
  });

  it('keeps the endpoint cached after a transient failure', async () => {
    sns.on(PublishCommand).rejectsOnce(new ThrottledException({ message: 'Rate exceeded', ...meta })).resolves({ MessageId: 'msg-2' });
    const s = sender();
    await expect(s.send(message('update', TOKEN_A))).resolves.toMatchObject({ outcome: 'retry-later' });
    await expect(s.send(message('update', TOKEN_A))).resolves.toEqual({ outcome: 'sent', transport: 'sns', id: 'msg-2' });
    expect(sns).toHaveReceivedCommandTimes(CreatePlatformEndpointCommand, 1);
  });

  it('reports a missing platform application as fix-config naming the variable, without calling SNS', async () => {
    const s = sender({ platformApplicationArns: { sandbox: SANDBOX_APP } });
    await expect(s.send(message('update', TOKEN_A, 'production'))).resolves.toEqual({
      outcome: 'fix-config',
      transport: 'sns',
      reason: 'no SNS platform application for production: set SNS_PLATFORM_APP_ARN_PRODUCTION',
    });
    const s2 = sender({ platformApplicationArns: { production: PRODUCTION_APP } });
    await expect(s2.send(message('update', TOKEN_A, 'sandbox'))).resolves.toMatchObject({
      outcome: 'fix-config',
      reason: expect.stringContaining('SNS_PLATFORM_APP_ARN_SANDBOX'),
    });
    expect(sns.calls()).toHaveLength(0);
  });

  it.each([
    {
      label: 'a token SNS refuses',
      error: new InvalidParameterException({ message: 'Invalid parameter: Token Reason: iOS device tokens must be no more than 400 hexadecimal characters', ...meta }),
      outcome: 'retire-token',
      reason: 'InvalidParameterException: Invalid parameter: Token',
    },
    {
      label: 'an unknown platform application',
      error: new NotFoundException({ message: 'PlatformApplication does not exist', ...meta }),
      outcome: 'fix-config',
      reason: 'platform application not found',
    },
    { label: 'throttling', error: new ThrottledException({ message: 'Rate exceeded', ...meta }), outcome: 'retry-later', reason: 'Rate exceeded' },
  ])('maps a CreatePlatformEndpoint failure ($label) to $outcome without publishing', async ({ error, outcome, reason }) => {
    sns.on(CreatePlatformEndpointCommand).rejects(error);
    await expect(sender().send(message('update', TOKEN_A))).resolves.toMatchObject({ outcome, transport: 'sns', reason: expect.stringContaining(reason) });
    expect(sns).toHaveReceivedCommandTimes(PublishCommand, 0);
  });

  describe('endpoint owner data (CustomUserData, read back by push-feedback)', () => {
    it('records device and kind on a push-to-start endpoint, without an activity, so every start reuses it', async () => {
      // Prepare
      const s = sender();
      const first = message('start', TOKEN_B);
      const second = { ...message('start', TOKEN_B), activityId: 'act_2' };
      // Act
      await s.send(first);
      await sender().send(second); // another container, another activity
      // Assert
      const inputs = sns.commandCalls(CreatePlatformEndpointCommand).map((c) => c.args[0].input);
      expect(inputs).toEqual([
        { PlatformApplicationArn: SANDBOX_APP, Token: TOKEN_B, CustomUserData: START_OWNER },
        { PlatformApplicationArn: SANDBOX_APP, Token: TOKEN_B, CustomUserData: START_OWNER },
      ]);
      expect(Buffer.byteLength(UPDATE_OWNER)).toBeLessThan(2048);
    });

    it('re-owns an endpoint whose token came back under another device', async () => {
      // Prepare
      const existing = endpointArn('sandbox', 5);
      sns.on(CreatePlatformEndpointCommand).rejects(
        new InvalidParameterException({ message: `Invalid parameter: Token Reason: Endpoint ${existing} already exists with the same Token, but different attributes.`, ...meta }),
      );
      // Act
      await sender().send(message('start', TOKEN_B));
      // Assert
      expect(sns.commandCalls(SetEndpointAttributesCommand)[0]?.args[0].input).toEqual({
        EndpointArn: existing,
        Attributes: { Token: TOKEN_B, Enabled: 'true', CustomUserData: START_OWNER },
      });
    });
  });

  describe('release', () => {
    it('is a no-op for a token this container already retired and deleted', async () => {
      // Prepare
      sns.on(PublishCommand, { TargetArn: endpointArn('sandbox', 1) }).rejects(new EndpointDisabledException({ message: 'Endpoint is disabled', ...meta }));
      const s = sender();
      const msg = message('update', TOKEN_A);
      await s.send(msg);
      // Act
      await s.release?.(msg.target);
      await s.release?.(msg.target);
      // Assert: one create (the send), one delete (the retirement), no lookups
      expect(sns).toHaveReceivedCommandTimes(CreatePlatformEndpointCommand, 1);
      expect(sns).toHaveReceivedCommandTimes(DeleteEndpointCommand, 1);
    });

    it('looks an endpoint up without attributes, so an existing one is named, not changed', async () => {
      // Act
      await sender().release?.(message('start', TOKEN_B).target);
      // Assert
      expect(sns.commandCalls(CreatePlatformEndpointCommand)[0]?.args[0].input).toEqual({ PlatformApplicationArn: SANDBOX_APP, Token: TOKEN_B });
    });

    it('deletes the cached endpoint of an ended activity and forgets it', async () => {
      const s = sender();
      const msg = message('end', TOKEN_A);
      await s.send(msg);
      await s.release?.(msg.target);
      expect(sns.commandCalls(DeleteEndpointCommand).map((c) => c.args[0].input)).toEqual([{ EndpointArn: endpointArn('sandbox', 1) }]);
      await s.send(message('update', TOKEN_A));
      expect(sns).toHaveReceivedCommandTimes(CreatePlatformEndpointCommand, 2);
    });

    it('finds the endpoint through the idempotent CreatePlatformEndpoint when another container created it', async () => {
      const s = sender();
      await s.release?.(message('end', TOKEN_A).target);
      expect(sns).toHaveReceivedCommandTimes(CreatePlatformEndpointCommand, 1);
      expect(sns.commandCalls(DeleteEndpointCommand).map((c) => c.args[0].input)).toEqual([{ EndpointArn: endpointArn('sandbox', 1) }]);
    });

    it('deletes the endpoint named in "already exists" without re-enabling it, and never throws', async () => {
      const existing = endpointArn('sandbox', 9);
      sns.on(CreatePlatformEndpointCommand).rejects(
        new InvalidParameterException({ message: `Invalid parameter: Token Reason: Endpoint ${existing} already exists with the same Token, but different attributes.`, ...meta }),
      );
      sns.on(DeleteEndpointCommand).rejects(new ThrottledException({ message: 'Rate exceeded', ...meta }));
      await expect(sender().release?.(message('end', TOKEN_A).target)).resolves.toBeUndefined();
      expect(sns).toHaveReceivedCommandTimes(SetEndpointAttributesCommand, 0);
      expect(sns.commandCalls(DeleteEndpointCommand)[0]?.args[0].input).toEqual({ EndpointArn: existing });
    });
  });
});

describe('SNS error helpers', () => {
  it('parses the endpoint ARN out of the "already exists" message', () => {
    const arn = 'arn:aws:sns:eu-north-1:123456789012:endpoint/APNS_SANDBOX/chirp-sandbox/94348c13-4a92-3914-832b-4aaca36220c1';
    const err = new InvalidParameterException({
      message: `Invalid parameter: Token Reason: Endpoint ${arn} already exists with the same Token, but different attributes.`,
      $metadata: {},
    });
    expect(existingEndpointArn(err)).toBe(arn);
    expect(existingEndpointArn(new InvalidParameterException({ message: 'Invalid parameter: Token', $metadata: {} }))).toBeUndefined();
    expect(existingEndpointArn(new Error(`Endpoint ${arn} already exists with the same Token`))).toBeUndefined();
  });

  it('treats unknown server faults as transient and unknown client faults as configuration', () => {
    const unknown = (fault: 'client' | 'server', httpStatusCode: number): SNSServiceException =>
      new SNSServiceException({ name: 'SomethingNewException', $fault: fault, $metadata: { httpStatusCode }, message: 'new' });
    expect(classifySnsError(unknown('server', 503), 'publish')).toEqual({ outcome: 'retry-later', transport: 'sns', status: 503, reason: 'SomethingNewException: new' });
    expect(classifySnsError(unknown('client', 400), 'publish')).toMatchObject({ outcome: 'fix-config', status: 400 });
    expect(classifySnsError(new Error('ETIMEDOUT'), 'publish').outcome).toBe('retry-later');
    expect(classifySnsError(Object.assign(new Error('Rate exceeded'), { name: 'Throttling' }), 'publish').outcome).toBe('retry-later');
    expect(classifySnsError(new EndpointDisabledException({ message: 'Endpoint is disabled', $metadata: {} }), 'publish').outcome).toBe('retire-token');
  });
});
