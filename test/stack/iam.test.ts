/**
 * Least privilege, checked on every IAM statement of the template: who may read which secret,
 * who may write which table, and that nothing has wildcards on DynamoDB or SNS.
 */
import type { Template } from 'aws-cdk-lib/assertions';
import type { ChirpStack } from '../../lib/chirp-stack';
import type { ChirpFunction } from '../../lib/constructs/chirp-function';
import { actionsOf, allStatements, asArray, logicalId, resourcesText, roleOf, statementsOfRole, synthCached, type Statement } from './synth';

const DYNAMO_WRITE = ['dynamodb:PutItem', 'dynamodb:UpdateItem', 'dynamodb:DeleteItem', 'dynamodb:BatchWriteItem'];

function statementsOf(template: Template, fn: ChirpFunction): Statement[] {
  return statementsOfRole(template, roleOf(template, logicalId(fn)));
}

/** Roles that can read the referenced APNs key secret (`secret:chirp/apns-key…`). */
function rolesReadingApnsSecret(template: Template): string[] {
  return allStatements(template)
    .filter(({ statement }) => actionsOf(statement).some((a) => a.startsWith('secretsmanager:')) && resourcesText(statement).includes('secret:chirp/apns-key'))
    .flatMap(({ roles }) => roles);
}

function roleIds(template: Template, fns: (ChirpFunction | undefined)[]): string[] {
  return fns.map((fn) => roleOf(template, logicalId(fn!))).sort();
}

function writesTo(statements: Statement[], tableLogicalId: string, actions: string[] = DYNAMO_WRITE): boolean {
  return statements.some((s) => actionsOf(s).some((a) => actions.includes(a)) && resourcesText(s).includes(`"${tableLogicalId}"`));
}

/** Creating, replacing or deleting items: what a function that only updates devices must not do. */
const DYNAMO_CREATE_OR_DELETE = ['dynamodb:PutItem', 'dynamodb:DeleteItem', 'dynamodb:BatchWriteItem'];

function readsFrom(statements: Statement[], tableLogicalId: string): boolean {
  return statements.some((s) => actionsOf(s).includes('dynamodb:GetItem') && resourcesText(s).includes(`"${tableLogicalId}"`));
}

describe.each([
  ['sns', {}],
  ['apns', { pushTransport: 'apns' }],
  ['sns, both environments, alarms', { environments: ['sandbox', 'production'], alarmEmail: 'ops@example.com' }],
])('%s', (_name, overrides) => {
  const { template } = synthCached(overrides);

  it('no statement grants dynamodb:* or any DynamoDB action on Resource "*"', () => {
    for (const { statement } of allStatements(template)) {
      const actions = actionsOf(statement);
      expect(actions).not.toContain('dynamodb:*');
      expect(actions).not.toContain('*');
      if (actions.some((a) => a.startsWith('dynamodb:'))) {
        expect(statement.Resource).not.toEqual('*');
        expect(resourcesText(statement)).not.toContain('"*"');
      }
    }
  });

  it('no statement grants SNS or Secrets Manager actions on Resource "*"', () => {
    for (const { statement } of allStatements(template)) {
      if (actionsOf(statement).some((a) => a.startsWith('sns:') || a.startsWith('secretsmanager:'))) {
        expect(resourcesText(statement)).not.toContain('"*"');
        expect(actionsOf(statement)).not.toContain('sns:*');
        expect(actionsOf(statement)).not.toContain('secretsmanager:*');
      }
    }
  });
});

describe('tables', () => {
  const { stack, template } = synthCached();
  const activity = logicalId(stack.tables.activityTable);
  const keys = logicalId(stack.tables.keyTable);

  it('webhook: writes ActivityTable; reads KeyTable and may only update items there (start budget, retired tokens)', () => {
    const statements = statementsOf(template, stack.functions.webhook);
    expect(writesTo(statements, activity)).toBe(true);
    expect(readsFrom(statements, keys)).toBe(true);
    expect(writesTo(statements, keys, ['dynamodb:UpdateItem'])).toBe(true);
    expect(writesTo(statements, keys, DYNAMO_CREATE_OR_DELETE)).toBe(false);
  });

  it('sweeper: writes ActivityTable; may only update items in KeyTable', () => {
    const statements = statementsOf(template, stack.functions.sweeper);
    expect(writesTo(statements, activity)).toBe(true);
    expect(writesTo(statements, keys, ['dynamodb:UpdateItem'])).toBe(true);
    expect(writesTo(statements, keys, DYNAMO_CREATE_OR_DELETE)).toBe(false);
  });

  it('api and push-feedback: write both tables', () => {
    for (const fn of [stack.functions.api, stack.functions.pushFeedback]) {
      const statements = statementsOf(template, fn!);
      expect(writesTo(statements, activity)).toBe(true);
      expect(writesTo(statements, keys)).toBe(true);
    }
  });

  it('the custom-resource handler has no table access', () => {
    const statements = statementsOf(template, stack.push.platformAppFunction!);
    expect(statements.some((s) => actionsOf(s).some((a) => a.startsWith('dynamodb:')))).toBe(false);
  });
});

describe('secrets', () => {
  it('sns transport: only the custom-resource handler can read the APNs key; the webhook cannot', () => {
    const { stack, template } = synthCached();
    expect(rolesReadingApnsSecret(template)).toEqual([roleOf(template, logicalId(stack.push.platformAppFunction!))]);
    const webhook = statementsOf(template, stack.functions.webhook);
    expect(webhook.filter((s) => resourcesText(s).includes('apns-key'))).toEqual([]);
  });

  it('apns transport: exactly the push-sending functions can read the APNs key', () => {
    const { stack, template } = synthCached({ pushTransport: 'apns' });
    expect(rolesReadingApnsSecret(template).sort()).toEqual(roleIds(template, [stack.functions.webhook, stack.functions.api, stack.functions.sweeper]));
  });

  it('the APNs secret grant is GetSecretValue/DescribeSecret on that one secret (name + Secrets Manager suffix)', () => {
    const { stack, template } = synthCached({ pushTransport: 'apns' });
    const grant = statementsOf(template, stack.functions.webhook).find((s) => resourcesText(s).includes('apns-key')) as Statement;
    expect(actionsOf(grant).sort()).toEqual(['secretsmanager:DescribeSecret', 'secretsmanager:GetSecretValue']);
    expect(resourcesText(grant)).toContain('secret:chirp/apns-key-??????');
  });

  it('an APNs secret given by full ARN is granted by that exact ARN', () => {
    const arn = 'arn:aws:secretsmanager:us-east-1:123456789012:secret:team/apns-AbCdEf';
    const { stack, template } = synthCached({ pushTransport: 'apns', apnsKeySecretName: arn });
    const grant = statementsOf(template, stack.functions.webhook).find((s) => resourcesText(s).includes('team/apns')) as Statement;
    expect(asArray(grant.Resource)).toContain(arn);
    expect(resourcesText(grant)).not.toContain('team/apns-AbCdEf-??????');
  });

  function readersOf(template: Template, secretLogicalId: string): string[] {
    return allStatements(template)
      .filter(({ statement }) => actionsOf(statement).includes('secretsmanager:GetSecretValue') && resourcesText(statement).includes(`"${secretLogicalId}"`))
      .flatMap(({ roles }) => roles)
      .sort();
  }

  it('only the api function can read the admin token', () => {
    const { stack, template } = synthCached();
    expect(readersOf(template, logicalId(stack.secrets.adminToken))).toEqual(roleIds(template, [stack.functions.api]));
  });

  it('only webhook and api can read the key-tag key', () => {
    const { stack, template } = synthCached();
    expect(readersOf(template, logicalId(stack.secrets.keyTag))).toEqual(roleIds(template, [stack.functions.webhook, stack.functions.api]));
  });
});

describe('SNS push permissions', () => {
  const { stack, template } = synthCached();

  function snsStatements(fn: ChirpFunction): Statement[] {
    return statementsOf(template, fn).filter((s) => actionsOf(s).some((a) => a.startsWith('sns:')));
  }

  it.each(['webhook', 'api', 'sweeper'] as const)('%s: create endpoints on the platform application, publish/manage only its endpoints', (name) => {
    const statements = snsStatements(stack.functions[name]);
    const create = statements.find((s) => actionsOf(s).includes('sns:CreatePlatformEndpoint')) as Statement;
    expect(actionsOf(create)).toEqual(['sns:CreatePlatformEndpoint']);
    expect(resourcesText(create)).toContain(':app/APNS_SANDBOX/Chirp-sandbox');
    const endpoints = statements.find((s) => actionsOf(s).includes('sns:Publish')) as Statement;
    expect(actionsOf(endpoints).sort()).toEqual(['sns:DeleteEndpoint', 'sns:GetEndpointAttributes', 'sns:Publish', 'sns:SetEndpointAttributes']);
    expect(resourcesText(endpoints)).toContain(':endpoint/APNS_SANDBOX/Chirp-sandbox/*');
  });

  it('push-feedback: reads and deletes endpoints, never publishes', () => {
    const actions = snsStatements(stack.functions.pushFeedback!).flatMap(actionsOf).sort();
    expect(actions).toEqual(['sns:DeleteEndpoint', 'sns:GetEndpointAttributes']);
  });

  it('custom-resource handler: manages exactly its platform applications', () => {
    const statement = snsStatements(stack.push.platformAppFunction!)[0];
    expect(actionsOf(statement).sort()).toEqual(['sns:CreatePlatformApplication', 'sns:DeletePlatformApplication', 'sns:SetPlatformApplicationAttributes']);
    expect(resourcesText(statement)).toContain(':app/APNS_SANDBOX/Chirp-sandbox');
  });

  it('apns transport: no function has any SNS permission', () => {
    const apns = synthCached({ pushTransport: 'apns' });
    for (const fn of (apns.stack as ChirpStack).functions.all) {
      expect(statementsOf(apns.template, fn).filter((s) => actionsOf(s).some((a) => a.startsWith('sns:')))).toEqual([]);
    }
  });
});

describe('logs', () => {
  it('each function role may write only to its own log group', () => {
    const { stack, template } = synthCached();
    for (const fn of [...stack.functions.all, stack.push.platformAppFunction!]) {
      const logStatements = statementsOf(template, fn).filter((s) => actionsOf(s).some((a) => a.startsWith('logs:')));
      expect(logStatements).toHaveLength(1);
      expect(actionsOf(logStatements[0]).sort()).toEqual(['logs:CreateLogStream', 'logs:PutLogEvents']);
      const fnResource = template.findResources('AWS::Lambda::Function')[logicalId(fn)];
      expect(logStatements[0].Resource).toEqual({ 'Fn::GetAtt': [fnResource.Properties.LoggingConfig.LogGroup.Ref, 'Arn'] });
    }
  });
});
