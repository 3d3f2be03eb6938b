/**
 * cdk-nag AwsSolutions (v3: a policy-validation plugin; `validateScope` is its test entry point):
 * zero unacknowledged errors or warnings for every configuration shape, and every
 * acknowledgement carries a reason.
 */
import { Validations } from 'aws-cdk-lib';
import * as iam from 'aws-cdk-lib/aws-iam';
import { AwsSolutionsChecks } from 'cdk-nag';
import { synth } from './synth';

const variants: [string, Record<string, unknown>][] = [
  ['example config (sns, sandbox)', {}],
  ['apns transport', { pushTransport: 'apns' }],
  ['sns, both environments, alarm email + topic, reserved concurrency', {
    environments: ['sandbox', 'production'],
    alarmEmail: 'ops@example.com',
    alarmTopicArn: 'arn:aws:sns:us-east-1:123456789012:ops',
    webhookReservedConcurrency: 20,
  }],
  ['existing platform application', { existingPlatformApplicationArns: { sandbox: 'arn:aws:sns:us-east-1:123456789012:app/APNS_SANDBOX/Existing' } }],
  ['destroy removal policy, APNs secret by ARN', {
    removalPolicy: 'destroy',
    apnsKeySecretName: 'arn:aws:secretsmanager:us-east-1:123456789012:secret:chirp/apns-key-AbCdEf',
  }],
];

function violations(overrides: Record<string, unknown>): string[] {
  const { stack } = synth(overrides);
  const report = new AwsSolutionsChecks(stack, { verbose: true }).validateScope(stack);
  return report.violations.map((v) => `${v.severity} ${v.ruleName}: ${v.violatingResources.map((r) => r.constructPath).join(', ')}\n  ${v.description}`);
}

describe('cdk-nag AwsSolutions', () => {
  it.each(variants)('%s: no unacknowledged findings', (_name, overrides) => {
    expect(violations(overrides)).toEqual([]);
  });

  it('still reports a new finding (the check is live, not blanket-suppressed)', () => {
    const { stack } = synth();
    stack.functions.webhook.addToRolePolicy(new iam.PolicyStatement({ actions: ['dynamodb:*'], resources: ['*'] }));
    const names = new AwsSolutionsChecks(stack).validateScope(stack).violations.map((v) => v.ruleName);
    expect(names).toEqual(expect.arrayContaining(['AwsSolutions-IAM5[Action::dynamodb:*]', 'AwsSolutions-IAM5[Resource::*]']));
  });

  it('every acknowledgement has a reason of substance', () => {
    const { stack } = synth({ environments: ['sandbox', 'production'] });
    const acknowledged: Record<string, string> = {};
    for (const construct of stack.node.findAll()) {
      for (const entry of construct.node.metadata) {
        if (entry.type === Validations.ACKNOWLEDGED_RULES_METADATA_KEY) Object.assign(acknowledged, entry.data as Record<string, string>);
      }
    }
    const ids = Object.keys(acknowledged);
    expect(ids.length).toBeGreaterThan(0);
    for (const id of ids) expect(String(acknowledged[id]).length).toBeGreaterThan(40);
  });
});
