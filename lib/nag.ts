/**
 * cdk-nag (AwsSolutions) findings this stack accepts, each with its reason. cdk-nag 3 has no
 * prefix matching: every finding is acknowledged by its exact id, so a new wildcard or a new
 * resource shows up as a fresh, unacknowledged finding and fails `cdk synth` and the tests.
 *
 * Fixed rather than acknowledged: access logging (APIG1), Lambda runtime (L1, Node.js 24), managed
 * policies on the application functions (IAM4: each has its own role that can write only to its
 * own log group), SNS topics require TLS (SNS3).
 */
import { Stack, Validations } from 'aws-cdk-lib';
import type { IConstruct } from 'constructs';
import type { ChirpStack } from './chirp-stack';

/** Renders a CloudFormation value the way cdk-nag names IAM5 findings (`<Logical.Arn>`, `<AWS::Region>`). */
export function flattenReference(value: unknown): string {
  if (value === undefined) return '';
  if (typeof value === 'string') return value.replace(/\${/g, '<').replace(/}/g, '>');
  if (typeof value === 'object' && value !== null) {
    const node = value as Record<string, unknown>;
    if (Array.isArray(node['Fn::Join'])) {
      const [delimiter, items] = node['Fn::Join'] as [string, unknown[]];
      return items.map(flattenReference).join(delimiter);
    }
    if (node['Fn::Sub'] !== undefined) return flattenReference(node['Fn::Sub']);
    if (Array.isArray(node['Fn::GetAtt'])) {
      const [resource, attribute] = node['Fn::GetAtt'] as [unknown, unknown];
      return `<${flattenReference(resource)}.${flattenReference(attribute)}>`;
    }
    if (node.Ref !== undefined) return `<${flattenReference(node.Ref)}>`;
  }
  return JSON.stringify(value);
}

function resourceFinding(scope: IConstruct, value: string): string {
  return `AwsSolutions-IAM5[Resource::${flattenReference(Stack.of(scope).resolve(value))}]`;
}

function acknowledge(scope: IConstruct, id: string, reason: string): void {
  Validations.of(scope).acknowledge({ id, reason });
}

export function acknowledgeNagFindings(stack: ChirpStack): void {
  const { functions, tables, push, secrets, api } = stack;

  // Secrets Manager rotation.
  acknowledge(
    secrets.adminToken,
    'AwsSolutions-SMG4',
    'The admin token is a static bearer credential the operator copies once; rotating it automatically would lock out the CLI and inspector. Rotate by hand with `aws secretsmanager put-secret-value` (docs/deploy.md).',
  );
  acknowledge(
    secrets.keyTag,
    'AwsSolutions-SMG4',
    'HMAC key that tags every issued webhook and device key; rotating it invalidates every webhook URL already pasted into Replicate calls, so it must never rotate on a schedule.',
  );

  // DynamoDB index access: grantReadData / grantReadWriteData cover `<table>/index/*`.
  for (const table of [tables.activityTable, tables.keyTable]) {
    acknowledge(
      functions,
      resourceFinding(functions, `${table.tableArn}/index/*`),
      `The handlers query this table's global secondary indexes (${table.node.id}); the wildcard is limited to the indexes of this one table.`,
    );
  }

  // SNS platform endpoints: one endpoint per device or activity token, created at run time.
  for (const app of push.platformApplications) {
    acknowledge(
      functions,
      resourceFinding(functions, app.endpointArns),
      `Endpoints are created per push token at run time, so their ARNs are only known as endpoint/${app.platform}/${app.name}/*; the wildcard is limited to endpoints of this one platform application.`,
    );
  }

  // The CDK Provider framework's own function (not ours to configure beyond its log group).
  if (push.provider) {
    acknowledge(
      push.provider,
      'AwsSolutions-IAM4[Policy::arn:<AWS::Partition>:iam::aws:policy/service-role/AWSLambdaBasicExecutionRole]',
      'The CDK custom-resource Provider framework function uses the AWS basic execution policy; it only relays deploy-time events to our onEvent handler.',
    );
    acknowledge(
      push.provider,
      resourceFinding(push.provider, `${push.provider.onEventHandler.functionArn}:*`),
      'The Provider framework may invoke any version or alias of our own onEvent handler, and nothing else.',
    );
  }

  // API Gateway authorization.
  acknowledge(
    api.httpApi,
    'AwsSolutions-APIG4',
    'Authorization is done by the functions, per ARCHITECTURE §2.1/§2.5: webhook keys (tagged, hashed, checked before any database read), device credentials and the admin bearer token. Replicate cannot sign requests for IAM or JWT authorizers, and /v1/health, /v1/openapi.json and /inspector are public by design.',
  );
}
