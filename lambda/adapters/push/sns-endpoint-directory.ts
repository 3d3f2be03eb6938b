/**
 * The SNS side of delivery-failure feedback: read a platform endpoint's token, state and owner
 * (GetEndpointAttributes; SNS returns APNs tokens in lower case), and delete it (DeleteEndpoint,
 * idempotent). IAM: `sns:GetEndpointAttributes` and `sns:DeleteEndpoint` on the platform
 * applications' endpoints.
 */
import { DeleteEndpointCommand, GetEndpointAttributesCommand, type SNSClient } from '@aws-sdk/client-sns';
import type { EndpointDirectory, EndpointInfo } from '../../core/push-feedback';
import { parseEndpointUserData } from './sns-endpoint-data';

function isNotFound(err: unknown): boolean {
  const name = (err as { name?: unknown } | null)?.name;
  return name === 'NotFoundException' || name === 'NotFound';
}

export function createSnsEndpointDirectory(client: SNSClient): EndpointDirectory {
  return {
    async describe(endpointArn: string): Promise<EndpointInfo | null> {
      try {
        const out = await client.send(new GetEndpointAttributesCommand({ EndpointArn: endpointArn }));
        const attributes = out.Attributes ?? {};
        const info: EndpointInfo = {};
        if (attributes.Token) info.token = attributes.Token.toLowerCase();
        if (attributes.Enabled !== undefined) info.enabled = attributes.Enabled.toLowerCase() === 'true';
        const owner = parseEndpointUserData(attributes.CustomUserData);
        if (owner) info.owner = owner;
        return info;
      } catch (err) {
        if (isNotFound(err)) return null;
        throw err;
      }
    },

    async remove(endpointArn: string): Promise<void> {
      try {
        await client.send(new DeleteEndpointCommand({ EndpointArn: endpointArn }));
      } catch (err) {
        if (isNotFound(err)) return;
        throw err;
      }
    },
  };
}
