/**
 * Custom resource (CDK Provider framework `onEvent`) that creates, updates and deletes one SNS
 * platform application for APNs token auth. CloudFormation has no resource type for platform
 * applications, and the .p8 must never be in the template, so this handler reads the key from
 * Secrets Manager at deploy time and hands it straight to SNS.
 *
 * Resource properties (all strings, as CloudFormation delivers them):
 *   Name, Platform ("APNS" | "APNS_SANDBOX"), KeySecretId, KeyId, TeamId, BundleId,
 *   EventDeliveryFailure (topic ARN, optional).
 * Returns PhysicalResourceId = the platform application ARN and Data.PlatformApplicationArn.
 */
import type { CdkCustomResourceEvent, CdkCustomResourceResponse } from 'aws-lambda';
import { GetSecretValueCommand, SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import {
  CreatePlatformApplicationCommand,
  DeletePlatformApplicationCommand,
  SetPlatformApplicationAttributesCommand,
  SNSClient,
} from '@aws-sdk/client-sns';

export type ApnsPlatform = 'APNS' | 'APNS_SANDBOX';

export interface PlatformAppProperties {
  Name: string;
  Platform: ApnsPlatform;
  KeySecretId: string;
  KeyId: string;
  TeamId: string;
  BundleId: string;
  EventDeliveryFailure?: string;
}

export interface PlatformAppData {
  PlatformApplicationArn: string;
}

export class PlatformAppError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'PlatformAppError';
  }
}

const sns = new SNSClient({});
const secrets = new SecretsManagerClient({});

const APP_ARN = /^arn:aws[a-z-]*:sns:[a-z0-9-]+:\d{12}:app\/(APNS|APNS_SANDBOX)\/[A-Za-z0-9_.-]+$/;

type Event = CdkCustomResourceEvent<PlatformAppProperties>;
type Response = CdkCustomResourceResponse<PlatformAppData>;

export const handler = async (event: Event): Promise<Response> => {
  // Never log the event's secrets: properties only name the secret, they never contain it.
  console.log(
    JSON.stringify({
      msg: 'platform-app event',
      requestType: event.RequestType,
      logicalResourceId: event.LogicalResourceId,
      name: event.ResourceProperties.Name,
      platform: event.ResourceProperties.Platform,
    }),
  );
  switch (event.RequestType) {
    case 'Create':
      return create(readProps(event.ResourceProperties));
    case 'Update': {
      const props = readProps(event.ResourceProperties);
      const old = event.OldResourceProperties;
      const arn = event.PhysicalResourceId;
      // A new name or platform is a new application: create it and return its ARN, and
      // CloudFormation then sends Delete for the old one.
      if (old.Name !== props.Name || old.Platform !== props.Platform || !APP_ARN.test(arn)) {
        return create(props);
      }
      await sns.send(
        new SetPlatformApplicationAttributesCommand({
          PlatformApplicationArn: arn,
          Attributes: await attributes(props, 'update'),
        }),
      );
      return { PhysicalResourceId: arn, Data: { PlatformApplicationArn: arn } };
    }
    case 'Delete': {
      const arn = event.PhysicalResourceId;
      // A failed Create leaves a physical id that is not an ARN: nothing to delete.
      if (!APP_ARN.test(arn)) return { PhysicalResourceId: arn };
      try {
        await sns.send(new DeletePlatformApplicationCommand({ PlatformApplicationArn: arn }));
      } catch (err) {
        if (!isNotFound(err)) throw err;
      }
      return { PhysicalResourceId: arn };
    }
  }
};

async function create(props: PlatformAppProperties): Promise<Response> {
  const out = await sns.send(
    new CreatePlatformApplicationCommand({
      Name: props.Name,
      Platform: props.Platform,
      Attributes: await attributes(props, 'create'),
    }),
  );
  const arn = out.PlatformApplicationArn;
  if (!arn) throw new PlatformAppError(`SNS returned no PlatformApplicationArn for ${props.Name}`);
  return { PhysicalResourceId: arn, Data: { PlatformApplicationArn: arn } };
}

async function attributes(props: PlatformAppProperties, mode: 'create' | 'update'): Promise<Record<string, string>> {
  const attrs: Record<string, string> = {
    PlatformPrincipal: props.KeyId,
    PlatformCredential: await readSigningKey(props.KeySecretId),
    ApplePlatformTeamID: props.TeamId,
    ApplePlatformBundleID: props.BundleId,
  };
  // On update an empty value clears a topic that was removed from the configuration.
  if (props.EventDeliveryFailure || mode === 'update') attrs.EventDeliveryFailure = props.EventDeliveryFailure ?? '';
  return attrs;
}

async function readSigningKey(secretId: string): Promise<string> {
  const out = await secrets.send(new GetSecretValueCommand({ SecretId: secretId }));
  const text = out.SecretString?.trim();
  if (!text || !/-----BEGIN PRIVATE KEY-----[\s\S]+-----END PRIVATE KEY-----/.test(text)) {
    // Say what is wrong without echoing any of the secret.
    throw new PlatformAppError(
      `Secret ${secretId} must hold the text of the APNs .p8 key (-----BEGIN PRIVATE KEY----- …); ` +
        'store it with: aws secretsmanager put-secret-value --secret-id <name> --secret-string file://AuthKey_XXXX.p8',
    );
  }
  return text;
}

function readProps(raw: PlatformAppProperties): PlatformAppProperties {
  const missing = (['Name', 'Platform', 'KeySecretId', 'KeyId', 'TeamId', 'BundleId'] as const).filter(
    (k) => typeof raw[k] !== 'string' || raw[k].trim() === '',
  );
  if (missing.length > 0) throw new PlatformAppError(`Missing resource properties: ${missing.join(', ')}`);
  if (raw.Platform !== 'APNS' && raw.Platform !== 'APNS_SANDBOX') {
    throw new PlatformAppError(`Platform must be APNS or APNS_SANDBOX (got ${String(raw.Platform)})`);
  }
  return {
    Name: raw.Name,
    Platform: raw.Platform,
    KeySecretId: raw.KeySecretId,
    KeyId: raw.KeyId,
    TeamId: raw.TeamId,
    BundleId: raw.BundleId,
    EventDeliveryFailure: raw.EventDeliveryFailure ? raw.EventDeliveryFailure : undefined,
  };
}

function isNotFound(err: unknown): boolean {
  return err instanceof Error && (err.name === 'NotFoundException' || err.name === 'NotFound');
}
