/**
 * The SNS platform-application custom resource handler, against mocked SNS and Secrets Manager
 * clients: exact request shapes for Create / Update / Delete, and the failure modes.
 */
import 'aws-sdk-client-mock-jest';
import { mockClient } from 'aws-sdk-client-mock';
import { GetSecretValueCommand, SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import {
  CreatePlatformApplicationCommand,
  DeletePlatformApplicationCommand,
  NotFoundException,
  SetPlatformApplicationAttributesCommand,
  SNSClient,
} from '@aws-sdk/client-sns';
import type { CdkCustomResourceEvent } from 'aws-lambda';
import { handler, type PlatformAppProperties } from '../../lambda/handlers/platform-app';

const sns = mockClient(SNSClient);
const secrets = mockClient(SecretsManagerClient);

const P8 = '-----BEGIN PRIVATE KEY-----\nMIGTAgEAMBMGByqGSM49AgEGCCqGSM49AwEHBHkwdwIBAQQg\n-----END PRIVATE KEY-----';
const SANDBOX_ARN = 'arn:aws:sns:us-east-1:123456789012:app/APNS_SANDBOX/Chirp-sandbox';
const TOPIC_ARN = 'arn:aws:sns:us-east-1:123456789012:Chirp-PushFeedback';

const props: PlatformAppProperties = {
  Name: 'Chirp-sandbox',
  Platform: 'APNS_SANDBOX',
  KeySecretId: 'arn:aws:secretsmanager:us-east-1:123456789012:secret:chirp/apns-key',
  KeyId: 'ABC123DEFG',
  TeamId: 'ABCDE12345',
  BundleId: 'com.example.chirp',
  EventDeliveryFailure: TOPIC_ARN,
};

const common = {
  ServiceToken: 'arn:aws:lambda:us-east-1:123456789012:function:provider',
  ResponseURL: 'https://example.invalid/response',
  StackId: 'arn:aws:cloudformation:us-east-1:123456789012:stack/Chirp/abc',
  RequestId: 'req-1',
  LogicalResourceId: 'SandboxPlatformApp',
  ResourceType: 'Custom::SnsPlatformApplication',
};

function createEvent(p: PlatformAppProperties = props): CdkCustomResourceEvent<PlatformAppProperties> {
  return { ...common, RequestType: 'Create', ResourceProperties: { ServiceToken: common.ServiceToken, ...p } };
}

function updateEvent(p: PlatformAppProperties, old: PlatformAppProperties, physicalId = SANDBOX_ARN): CdkCustomResourceEvent<PlatformAppProperties> {
  return {
    ...common,
    RequestType: 'Update',
    PhysicalResourceId: physicalId,
    ResourceProperties: { ServiceToken: common.ServiceToken, ...p },
    OldResourceProperties: old,
  };
}

function deleteEvent(physicalId: string): CdkCustomResourceEvent<PlatformAppProperties> {
  return { ...common, RequestType: 'Delete', PhysicalResourceId: physicalId, ResourceProperties: { ServiceToken: common.ServiceToken, ...props } };
}

beforeEach(() => {
  sns.reset();
  secrets.reset();
  jest.spyOn(console, 'log').mockImplementation(() => undefined);
  secrets.on(GetSecretValueCommand).resolves({ SecretString: P8 });
});

afterEach(() => jest.restoreAllMocks());

describe('Create', () => {
  it('creates a token-auth platform application from the secret and returns its ARN', async () => {
    sns.on(CreatePlatformApplicationCommand).resolves({ PlatformApplicationArn: SANDBOX_ARN });

    const out = await handler(createEvent());

    expect(secrets).toHaveReceivedCommandWith(GetSecretValueCommand, { SecretId: props.KeySecretId });
    expect(sns).toHaveReceivedCommandTimes(CreatePlatformApplicationCommand, 1);
    expect(sns.commandCalls(CreatePlatformApplicationCommand)[0].args[0].input).toEqual({
      Name: 'Chirp-sandbox',
      Platform: 'APNS_SANDBOX',
      Attributes: {
        PlatformPrincipal: 'ABC123DEFG',
        PlatformCredential: P8,
        ApplePlatformTeamID: 'ABCDE12345',
        ApplePlatformBundleID: 'com.example.chirp',
        EventDeliveryFailure: TOPIC_ARN,
      },
    });
    expect(out).toEqual({ PhysicalResourceId: SANDBOX_ARN, Data: { PlatformApplicationArn: SANDBOX_ARN } });
  });

  it('omits EventDeliveryFailure when no topic is given', async () => {
    sns.on(CreatePlatformApplicationCommand).resolves({ PlatformApplicationArn: SANDBOX_ARN });

    await handler(createEvent({ ...props, EventDeliveryFailure: '' }));

    const attrs = sns.commandCalls(CreatePlatformApplicationCommand)[0].args[0].input.Attributes ?? {};
    expect(attrs).not.toHaveProperty('EventDeliveryFailure');
  });

  it('rejects a secret that is not a .p8 key, without echoing it', async () => {
    secrets.on(GetSecretValueCommand).resolves({ SecretString: '{"not":"a key","password":"hunter2"}' });

    const run = handler(createEvent());

    await expect(run).rejects.toThrow(/must hold the text of the APNs \.p8 key/);
    await expect(run).rejects.not.toThrow(/hunter2/);
    expect(sns).not.toHaveReceivedCommand(CreatePlatformApplicationCommand);
  });

  it('rejects an unknown platform before calling AWS', async () => {
    await expect(handler(createEvent({ ...props, Platform: 'GCM' as 'APNS' }))).rejects.toThrow(/Platform must be APNS or APNS_SANDBOX/);
    expect(secrets).not.toHaveReceivedCommand(GetSecretValueCommand);
  });

  it('names missing properties', async () => {
    await expect(handler(createEvent({ ...props, TeamId: '' }))).rejects.toThrow(/Missing resource properties: TeamId/);
  });
});

describe('Update', () => {
  it('sets the attributes in place and keeps the physical id when name and platform are unchanged', async () => {
    sns.on(SetPlatformApplicationAttributesCommand).resolves({});

    const out = await handler(updateEvent({ ...props, KeyId: 'NEWKEY1234' }, props));

    expect(sns).not.toHaveReceivedCommand(CreatePlatformApplicationCommand);
    expect(sns.commandCalls(SetPlatformApplicationAttributesCommand)[0].args[0].input).toEqual({
      PlatformApplicationArn: SANDBOX_ARN,
      Attributes: {
        PlatformPrincipal: 'NEWKEY1234',
        PlatformCredential: P8,
        ApplePlatformTeamID: 'ABCDE12345',
        ApplePlatformBundleID: 'com.example.chirp',
        EventDeliveryFailure: TOPIC_ARN,
      },
    });
    expect(out).toEqual({ PhysicalResourceId: SANDBOX_ARN, Data: { PlatformApplicationArn: SANDBOX_ARN } });
  });

  it('clears EventDeliveryFailure when the topic was removed', async () => {
    sns.on(SetPlatformApplicationAttributesCommand).resolves({});

    await handler(updateEvent({ ...props, EventDeliveryFailure: undefined }, props));

    expect(sns).toHaveReceivedCommandWith(SetPlatformApplicationAttributesCommand, {
      Attributes: expect.objectContaining({ EventDeliveryFailure: '' }),
    });
  });

  it('creates a new application (new physical id) when the name changes', async () => {
    const newArn = 'arn:aws:sns:us-east-1:123456789012:app/APNS_SANDBOX/Chirp2-sandbox';
    sns.on(CreatePlatformApplicationCommand).resolves({ PlatformApplicationArn: newArn });

    const out = await handler(updateEvent({ ...props, Name: 'Chirp2-sandbox' }, props));

    expect(sns).toHaveReceivedCommandWith(CreatePlatformApplicationCommand, { Name: 'Chirp2-sandbox', Platform: 'APNS_SANDBOX' });
    expect(sns).not.toHaveReceivedCommand(SetPlatformApplicationAttributesCommand);
    expect(out.PhysicalResourceId).toBe(newArn);
  });

  it('creates a new application when the platform changes', async () => {
    const newArn = 'arn:aws:sns:us-east-1:123456789012:app/APNS/Chirp-sandbox';
    sns.on(CreatePlatformApplicationCommand).resolves({ PlatformApplicationArn: newArn });

    const out = await handler(updateEvent({ ...props, Platform: 'APNS' }, props));

    expect(sns).toHaveReceivedCommandWith(CreatePlatformApplicationCommand, { Platform: 'APNS' });
    expect(out.PhysicalResourceId).toBe(newArn);
  });
});

describe('Delete', () => {
  it('deletes the platform application', async () => {
    sns.on(DeletePlatformApplicationCommand).resolves({});

    const out = await handler(deleteEvent(SANDBOX_ARN));

    expect(sns.commandCalls(DeletePlatformApplicationCommand)[0].args[0].input).toEqual({ PlatformApplicationArn: SANDBOX_ARN });
    expect(out).toEqual({ PhysicalResourceId: SANDBOX_ARN });
    expect(secrets).not.toHaveReceivedCommand(GetSecretValueCommand);
  });

  it('tolerates an application that is already gone', async () => {
    sns.on(DeletePlatformApplicationCommand).rejects(new NotFoundException({ message: 'not found', $metadata: {} }));

    await expect(handler(deleteEvent(SANDBOX_ARN))).resolves.toEqual({ PhysicalResourceId: SANDBOX_ARN });
  });

  it('skips the call when Create never produced an ARN', async () => {
    await expect(handler(deleteEvent('req-1'))).resolves.toEqual({ PhysicalResourceId: 'req-1' });
    expect(sns).not.toHaveReceivedCommand(DeletePlatformApplicationCommand);
  });

  it('still fails on other errors', async () => {
    sns.on(DeletePlatformApplicationCommand).rejects(new Error('AccessDenied'));

    await expect(handler(deleteEvent(SANDBOX_ARN))).rejects.toThrow('AccessDenied');
  });
});
