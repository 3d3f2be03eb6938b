/**
 * CDK assertions on the synthesized template: routes and integrations, functions (runtime,
 * architecture, environment, logs), tables from the shared definitions, the schedule, the
 * platform-application custom resource, secrets, alarms and outputs. Resources are found by
 * what they are; logical ids are only ever resolved from constructs, never written down.
 */
import { Match } from 'aws-cdk-lib/assertions';
import { ENV } from '../../lambda/config';
import { ACTIVITY_TABLE, KEY_TABLE, type TableDef } from '../../lambda/adapters/dynamo/table-definitions';
import { ROUTES, WEBHOOK_PATH } from '../../lib/constructs/api';
import { envOf, logicalId, synthCached } from './synth';

const SANDBOX_ARN = 'arn:aws:sns:us-east-1:123456789012:app/APNS_SANDBOX/ExistingApp';

describe('HTTP API', () => {
  const { stack, template } = synthCached();
  const webhookId = logicalId(stack.functions.webhook);
  const apiId = logicalId(stack.functions.api);

  /** Logical id of the function an integration resource invokes. */
  function functionOfRoute(routeKey: string): string {
    const routes = template.findResources('AWS::ApiGatewayV2::Route', { Properties: { RouteKey: routeKey } });
    expect(Object.keys(routes)).toHaveLength(1);
    const target = JSON.stringify(Object.values(routes)[0].Properties.Target);
    const integrationId = Object.keys(template.findResources('AWS::ApiGatewayV2::Integration')).find((id) => target.includes(`"${id}"`));
    expect(integrationId).toBeDefined();
    const integration = template.findResources('AWS::ApiGatewayV2::Integration')[integrationId as string];
    expect(integration.Properties).toMatchObject({ IntegrationType: 'AWS_PROXY', PayloadFormatVersion: '2.0' });
    return integration.Properties.IntegrationUri['Fn::GetAtt'][0] as string;
  }

  it.each(ROUTES.map((r) => [`${r.method} ${r.path}`, r.target]))('routes %s to the %s function', (routeKey, target) => {
    expect(functionOfRoute(routeKey)).toBe(target === 'webhook' ? webhookId : apiId);
  });

  it('covers every route of ARCHITECTURE §2.4', () => {
    const keys = Object.values(template.findResources('AWS::ApiGatewayV2::Route')).map((r) => r.Properties.RouteKey as string);
    expect(keys).toEqual(
      expect.arrayContaining([
        'POST /v1/webhooks/replicate',
        'ANY /v1/webhooks/replicate',
        'GET /v1/health',
        'POST /v1/devices',
        'PATCH /v1/devices/{id}',
        'DELETE /v1/devices/{id}',
        'PUT /v1/activities/{activityId}/token',
        'POST /v1/inspectors',
        'GET /v1/inspectors',
        'GET /v1/inspectors/{id}',
        'PATCH /v1/inspectors/{id}',
        'DELETE /v1/inspectors/{id}',
        'POST /v1/inspectors/{id}/rotate',
        'GET /v1/inspectors/{id}/events',
        'GET /v1/inspectors/{id}/activities',
        'POST /v1/inspectors/{id}/test',
        'POST /v1/admin/sweep',
        'GET /v1/openapi.json',
        'GET /inspector',
        'GET /inspector/{proxy+}',
      ]),
    );
    expect(keys).toHaveLength(ROUTES.length);
  });

  it('has no CORS configuration (the inspector is same-origin)', () => {
    template.hasResourceProperties('AWS::ApiGatewayV2::Api', { ProtocolType: 'HTTP', CorsConfiguration: Match.absent() });
  });

  it('throttles the $default stage as configured and auto-deploys', () => {
    template.resourceCountIs('AWS::ApiGatewayV2::Stage', 1);
    template.hasResourceProperties('AWS::ApiGatewayV2::Stage', {
      StageName: '$default',
      AutoDeploy: true,
      DefaultRouteSettings: { ThrottlingRateLimit: 50, ThrottlingBurstLimit: 100 },
    });
    const custom = synthCached({ throttling: { rateLimit: 5, burstLimit: 9 } }).template;
    custom.hasResourceProperties('AWS::ApiGatewayV2::Stage', {
      DefaultRouteSettings: { ThrottlingRateLimit: 5, ThrottlingBurstLimit: 9 },
    });
  });

  it('writes JSON access logs without query strings, headers or credentials', () => {
    const stage = Object.values(template.findResources('AWS::ApiGatewayV2::Stage'))[0];
    const format = stage.Properties.AccessLogSettings.Format as string;
    const line = JSON.parse(format.replace(/\$context\.status/, '200')) as Record<string, string>;
    expect(line).toMatchObject({ routeKey: '$context.routeKey', path: '$context.path', requestId: '$context.requestId' });
    expect(format).not.toMatch(/querystring|requestOverride|header|authorization|authorizer|\$request|\$input|fullPath|domainName/i);
    expect(stage.Properties.AccessLogSettings.DestinationArn).toEqual({ 'Fn::GetAtt': [logicalId(stack.api.accessLogs), 'Arn'] });
  });

  it('lets API Gateway invoke the webhook function only on the webhook path', () => {
    const permissions = Object.values(
      template.findResources('AWS::Lambda::Permission', { Properties: { FunctionName: { 'Fn::GetAtt': [webhookId, 'Arn'] } } }),
    );
    expect(permissions.length).toBeGreaterThan(0);
    for (const permission of permissions) {
      expect(permission.Properties.Principal).toBe('apigateway.amazonaws.com');
      expect(JSON.stringify(permission.Properties.SourceArn)).toContain(`/*/*${WEBHOOK_PATH}`);
    }
  });
});

describe('functions', () => {
  const { stack, template } = synthCached();
  const ours = [
    stack.functions.webhook,
    stack.functions.api,
    stack.functions.sweeper,
    stack.functions.pushFeedback,
    stack.push.platformAppFunction,
  ];

  it.each(['webhook', 'api', 'sweeper', 'pushFeedback', 'platformApp'])('%s: Node.js 24 on arm64, source maps on, handler export "handler"', (name) => {
    const fn = name === 'platformApp' ? stack.push.platformAppFunction : stack.functions[name as 'webhook'];
    expect(fn).toBeDefined();
    const resource = template.findResources('AWS::Lambda::Function')[logicalId(fn!)];
    expect(resource.Properties).toMatchObject({
      Runtime: 'nodejs24.x',
      Architectures: ['arm64'],
      Handler: 'index.handler',
      Environment: { Variables: expect.objectContaining({ NODE_OPTIONS: '--enable-source-maps' }) },
    });
    expect(resource.Properties.MemorySize).toBeGreaterThanOrEqual(128);
  });

  it('gives each function its own log group with the configured retention', () => {
    for (const fn of ours) {
      const resource = template.findResources('AWS::Lambda::Function')[logicalId(fn!)];
      const logGroupId = resource.Properties.LoggingConfig.LogGroup.Ref as string;
      expect(template.findResources('AWS::Logs::LogGroup')[logGroupId].Properties.RetentionInDays).toBe(30);
    }
    const longer = synthCached({ logRetentionDays: 90 });
    longer.template.allResourcesProperties('AWS::Logs::LogGroup', { RetentionInDays: 90 });
  });

  it('uses a function-specific role, without the AWS managed basic execution policy', () => {
    for (const fn of ours) {
      const roleId = template.findResources('AWS::Lambda::Function')[logicalId(fn!)].Properties.Role['Fn::GetAtt'][0] as string;
      expect(template.findResources('AWS::IAM::Role')[roleId].Properties.ManagedPolicyArns).toBeUndefined();
    }
  });

  it('sets timeouts: webhook 10 s, api under the API Gateway limit, sweeper 60 s', () => {
    const fns = template.findResources('AWS::Lambda::Function');
    expect(fns[logicalId(stack.functions.webhook)].Properties.Timeout).toBe(10);
    expect(fns[logicalId(stack.functions.api)].Properties.Timeout).toBeLessThan(30);
    expect(fns[logicalId(stack.functions.sweeper)].Properties.Timeout).toBe(60);
  });

  it('reserves webhook concurrency only when configured', () => {
    expect(template.findResources('AWS::Lambda::Function')[logicalId(stack.functions.webhook)].Properties.ReservedConcurrentExecutions).toBeUndefined();
    const reserved = synthCached({ webhookReservedConcurrency: 20 });
    const fns = reserved.template.findResources('AWS::Lambda::Function');
    expect(fns[logicalId(reserved.stack.functions.webhook)].Properties.ReservedConcurrentExecutions).toBe(20);
    expect(fns[logicalId(reserved.stack.functions.api)].Properties.ReservedConcurrentExecutions).toBeUndefined();
  });

  describe('environment (sns transport)', () => {
    const activityRef = { Ref: logicalId(stack.tables.activityTable) };
    const keyRef = { Ref: logicalId(stack.tables.keyTable) };
    const sandboxArn = { 'Fn::GetAtt': [logicalId(stack.push.node.findChild('SandboxPlatformApp')), 'PlatformApplicationArn'] };

    it('webhook: tables, key-tag secret, SNS push settings, nothing else', () => {
      const env = envOf(template, logicalId(stack.functions.webhook));
      expect(env).toEqual({
        NODE_OPTIONS: '--enable-source-maps',
        [ENV.activityTable]: activityRef,
        [ENV.keyTable]: keyRef,
        [ENV.keyTagSecretArn]: { Ref: logicalId(stack.secrets.keyTag) },
        [ENV.pushTransport]: 'sns',
        [ENV.bundleId]: 'com.example.chirp',
        [ENV.snsPlatformAppSandbox]: sandboxArn,
      });
    });

    it('api: also the admin token secret', () => {
      const env = envOf(template, logicalId(stack.functions.api));
      expect(env).toMatchObject({
        [ENV.activityTable]: activityRef,
        [ENV.keyTable]: keyRef,
        [ENV.adminTokenSecretArn]: { Ref: logicalId(stack.secrets.adminToken) },
        [ENV.keyTagSecretArn]: { Ref: logicalId(stack.secrets.keyTag) },
        [ENV.pushTransport]: 'sns',
        [ENV.snsPlatformAppSandbox]: sandboxArn,
      });
      expect(env).not.toHaveProperty(ENV.apnsKeySecretArn);
    });

    it('sweeper and push-feedback: no secrets at all', () => {
      for (const fn of [stack.functions.sweeper, stack.functions.pushFeedback]) {
        const env = envOf(template, logicalId(fn!));
        expect(env).toMatchObject({ [ENV.activityTable]: activityRef, [ENV.keyTable]: keyRef, [ENV.pushTransport]: 'sns' });
        for (const name of [ENV.adminTokenSecretArn, ENV.keyTagSecretArn, ENV.apnsKeySecretArn]) expect(env).not.toHaveProperty(name);
      }
    });

    it('REPLICATE_API_BASE only when configured, on the functions that reconcile', () => {
      expect(envOf(template, logicalId(stack.functions.sweeper))).not.toHaveProperty(ENV.replicateApiBase);
      const custom = synthCached({ replicateApiBase: 'https://replicate.test' });
      expect(envOf(custom.template, logicalId(custom.stack.functions.sweeper))).toHaveProperty(ENV.replicateApiBase, 'https://replicate.test');
      expect(envOf(custom.template, logicalId(custom.stack.functions.api))).toHaveProperty(ENV.replicateApiBase, 'https://replicate.test');
      expect(envOf(custom.template, logicalId(custom.stack.functions.webhook))).not.toHaveProperty(ENV.replicateApiBase);
    });
  });

  it('apns transport: key secret, key id and team id on the push senders; no SNS settings', () => {
    const apns = synthCached({ pushTransport: 'apns' });
    for (const fn of [apns.stack.functions.webhook, apns.stack.functions.api, apns.stack.functions.sweeper]) {
      const env = envOf(apns.template, logicalId(fn));
      expect(env).toMatchObject({
        [ENV.pushTransport]: 'apns',
        [ENV.bundleId]: 'com.example.chirp',
        [ENV.apnsKeyId]: 'ABC123DEFG',
        [ENV.apnsTeamId]: 'ABCDE12345',
        [ENV.apnsKeySecretArn]: expect.anything(),
      });
      expect(JSON.stringify(env[ENV.apnsKeySecretArn])).toContain('secret:chirp/apns-key');
      expect(env).not.toHaveProperty(ENV.snsPlatformAppSandbox);
    }
    expect(apns.stack.functions.pushFeedback).toBeUndefined();
  });
});

describe('tables', () => {
  const { stack, template } = synthCached();

  function expectTable(def: TableDef, id: string): void {
    const table = template.findResources('AWS::DynamoDB::Table')[id];
    expect(table.DeletionPolicy).toBe('Retain');
    expect(table.UpdateReplacePolicy).toBe('Retain');
    expect(table.Properties.TableName).toBeUndefined();
    expect(table.Properties).toMatchObject({
      BillingMode: 'PAY_PER_REQUEST',
      PointInTimeRecoverySpecification: { PointInTimeRecoveryEnabled: true },
      TimeToLiveSpecification: { AttributeName: def.ttlAttribute, Enabled: true },
      DeletionProtectionEnabled: true,
      KeySchema: [
        { AttributeName: def.partitionKey.name, KeyType: 'HASH' },
        { AttributeName: def.sortKey.name, KeyType: 'RANGE' },
      ],
    });
    const attributes = [def.partitionKey, def.sortKey, ...def.globalIndexes.flatMap((i) => [i.partitionKey, i.sortKey])];
    expect(table.Properties.AttributeDefinitions).toEqual(
      expect.arrayContaining(attributes.map((a) => ({ AttributeName: a.name, AttributeType: a.type }))),
    );
    expect(table.Properties.GlobalSecondaryIndexes).toEqual(
      def.globalIndexes.map((index) => ({
        IndexName: index.indexName,
        KeySchema: [
          { AttributeName: index.partitionKey.name, KeyType: 'HASH' },
          { AttributeName: index.sortKey.name, KeyType: 'RANGE' },
        ],
        Projection: { ProjectionType: index.projection },
      })),
    );
  }

  it('builds ActivityTable from the shared definition', () => expectTable(ACTIVITY_TABLE, logicalId(stack.tables.activityTable)));
  it('builds KeyTable from the shared definition', () => expectTable(KEY_TABLE, logicalId(stack.tables.keyTable)));

  it('removalPolicy "destroy" deletes the tables with the stack', () => {
    const destroy = synthCached({ removalPolicy: 'destroy' });
    for (const table of Object.values(destroy.template.findResources('AWS::DynamoDB::Table'))) {
      expect(table.DeletionPolicy).toBe('Delete');
      expect(table.Properties.DeletionProtectionEnabled).toBe(false);
    }
  });
});

describe('sweeper schedule', () => {
  it('invokes the sweeper every minute by default, without retries', () => {
    const { stack, template } = synthCached();
    template.hasResourceProperties('AWS::Events::Rule', {
      ScheduleExpression: 'rate(1 minute)',
      State: 'ENABLED',
      Targets: [Match.objectLike({ Arn: { 'Fn::GetAtt': [logicalId(stack.functions.sweeper), 'Arn'] }, RetryPolicy: { MaximumRetryAttempts: 0 } })],
    });
  });

  it('follows sweepIntervalMinutes', () => {
    synthCached({ sweepIntervalMinutes: 5 }).template.hasResourceProperties('AWS::Events::Rule', { ScheduleExpression: 'rate(5 minutes)' });
  });
});

describe('SNS platform applications', () => {
  it('creates one per environment through the Provider custom resource, from the secret, never the key', () => {
    const both = synthCached({ environments: ['sandbox', 'production'] });
    const { template, stack } = both;
    const topicRef = { Ref: logicalId(stack.push.feedbackTopic!) };
    for (const [env, platform] of [
      ['sandbox', 'APNS_SANDBOX'],
      ['production', 'APNS'],
    ]) {
      template.hasResourceProperties('Custom::SnsPlatformApplication', {
        ServiceToken: Match.anyValue(),
        Name: `Chirp-${env}`,
        Platform: platform,
        KeyId: 'ABC123DEFG',
        TeamId: 'ABCDE12345',
        BundleId: 'com.example.chirp',
        KeySecretId: Match.anyValue(),
        EventDeliveryFailure: topicRef,
      });
    }
    template.resourceCountIs('Custom::SnsPlatformApplication', 2);
    const text = JSON.stringify(template.toJSON());
    expect(text).not.toContain('PRIVATE KEY');
    expect(text).not.toContain('AWS::SNS::PlatformApplication');
    expect(envOf(template, logicalId(stack.functions.webhook))).toMatchObject({
      [ENV.snsPlatformAppSandbox]: { 'Fn::GetAtt': [logicalId(stack.push.node.findChild('SandboxPlatformApp')), 'PlatformApplicationArn'] },
      [ENV.snsPlatformAppProduction]: { 'Fn::GetAtt': [logicalId(stack.push.node.findChild('ProductionPlatformApp')), 'PlatformApplicationArn'] },
    });
  });

  it('uses existing platform application ARNs without a custom resource', () => {
    const existing = synthCached({ existingPlatformApplicationArns: { sandbox: SANDBOX_ARN } });
    existing.template.resourceCountIs('Custom::SnsPlatformApplication', 0);
    expect(existing.stack.push.platformAppFunction).toBeUndefined();
    expect(envOf(existing.template, logicalId(existing.stack.functions.webhook))[ENV.snsPlatformAppSandbox]).toBe(SANDBOX_ARN);
    existing.template.hasResourceProperties('AWS::IAM::Policy', {
      PolicyDocument: {
        Statement: Match.arrayWith([
          Match.objectLike({ Action: 'sns:CreatePlatformEndpoint', Resource: SANDBOX_ARN }),
          Match.objectLike({ Resource: 'arn:aws:sns:us-east-1:123456789012:endpoint/APNS_SANDBOX/ExistingApp/*' }),
        ]),
      },
    });
  });

  it('subscribes push-feedback (Lambda protocol) to the delivery-failure topic, which requires TLS', () => {
    const { stack, template } = synthCached();
    template.hasResourceProperties('AWS::SNS::Subscription', {
      Protocol: 'lambda',
      TopicArn: { Ref: logicalId(stack.push.feedbackTopic!) },
      Endpoint: { 'Fn::GetAtt': [logicalId(stack.functions.pushFeedback!), 'Arn'] },
    });
    template.hasResourceProperties('AWS::SNS::TopicPolicy', {
      PolicyDocument: {
        Statement: Match.arrayWith([Match.objectLike({ Effect: 'Deny', Condition: { Bool: { 'aws:SecureTransport': 'false' } } })]),
      },
    });
  });

  it('apns transport: no topic, no custom resource, no push-feedback', () => {
    const { template } = synthCached({ pushTransport: 'apns' });
    template.resourceCountIs('Custom::SnsPlatformApplication', 0);
    template.resourceCountIs('AWS::SNS::Topic', 0);
    template.resourceCountIs('AWS::SNS::Subscription', 0);
  });
});

describe('secrets', () => {
  it('generates the admin token and the key-tag key (40+ characters, no punctuation)', () => {
    const { template } = synthCached();
    const secrets = Object.values(template.findResources('AWS::SecretsManager::Secret'));
    expect(secrets).toHaveLength(2);
    for (const secret of secrets) {
      expect(secret.Properties.GenerateSecretString.ExcludePunctuation).toBe(true);
      expect(secret.Properties.GenerateSecretString.PasswordLength).toBeGreaterThanOrEqual(40);
      expect(secret.Properties.SecretString).toBeUndefined();
    }
  });
});

describe('alarms', () => {
  const { stack, template } = synthCached();

  it('alarms on push failures with the transport dimension', () => {
    template.hasResourceProperties('AWS::CloudWatch::Alarm', {
      Namespace: 'Chirp',
      MetricName: 'PushFailures',
      Dimensions: [{ Name: 'Transport', Value: 'sns' }],
    });
  });

  it('alarms on webhook-route 5xx from the access log and on API 5xx', () => {
    template.hasResourceProperties('AWS::Logs::MetricFilter', {
      LogGroupName: { Ref: logicalId(stack.api.accessLogs) },
      FilterPattern: Match.stringLikeRegexp('\\$\\.path = "/v1/webhooks/replicate".*\\$\\.status >= 500'),
      MetricTransformations: [Match.objectLike({ MetricNamespace: 'Chirp', MetricName: 'WebhookRoute5xx' })],
    });
    template.hasResourceProperties('AWS::CloudWatch::Alarm', { Namespace: 'Chirp', MetricName: 'WebhookRoute5xx' });
    template.hasResourceProperties('AWS::CloudWatch::Alarm', { Namespace: 'AWS/ApiGateway', MetricName: '5xx' });
  });

  it('alarms on Errors and Throttles of every function, and on the sweeper failing or stopping', () => {
    for (const fn of stack.functions.all) {
      const dims = [{ Name: 'FunctionName', Value: { Ref: logicalId(fn) } }];
      template.hasResourceProperties('AWS::CloudWatch::Alarm', { MetricName: 'Errors', Dimensions: dims });
      template.hasResourceProperties('AWS::CloudWatch::Alarm', { MetricName: 'Throttles', Dimensions: dims });
    }
    template.hasResourceProperties('AWS::CloudWatch::Alarm', {
      MetricName: 'Errors',
      Dimensions: [{ Name: 'FunctionName', Value: { Ref: logicalId(stack.functions.sweeper) } }],
      EvaluationPeriods: 3,
    });
    template.hasResourceProperties('AWS::CloudWatch::Alarm', {
      MetricName: 'Invocations',
      ComparisonOperator: 'LessThanThreshold',
      TreatMissingData: 'breaching',
      Period: 900,
    });
    // An hourly sweeper is only "not running" after three missed runs.
    synthCached({ sweepIntervalMinutes: 60 }).template.hasResourceProperties('AWS::CloudWatch::Alarm', { MetricName: 'Invocations', Period: 10800 });
  });

  it('alarms on SNS NumberOfNotificationsFailed per platform application', () => {
    template.hasResourceProperties('AWS::CloudWatch::Alarm', {
      Namespace: 'AWS/SNS',
      MetricName: 'NumberOfNotificationsFailed',
      Dimensions: [{ Name: 'Application', Value: 'Chirp-sandbox' }],
    });
    synthCached({ pushTransport: 'apns' }).template.resourcePropertiesCountIs('AWS::CloudWatch::Alarm', { Namespace: 'AWS/SNS' }, 0);
  });

  it('sends alarms nowhere by default, to a new topic with email and/or an existing topic when configured', () => {
    template.resourcePropertiesCountIs('AWS::CloudWatch::Alarm', { AlarmActions: Match.anyValue() }, 0);
    const notified = synthCached({ alarmEmail: 'ops@example.com', alarmTopicArn: 'arn:aws:sns:us-east-1:123456789012:ops' });
    notified.template.hasResourceProperties('AWS::SNS::Subscription', { Protocol: 'email', Endpoint: 'ops@example.com' });
    notified.template.allResourcesProperties('AWS::CloudWatch::Alarm', {
      AlarmActions: [{ Ref: logicalId(notified.stack.alarms.topic!) }, 'arn:aws:sns:us-east-1:123456789012:ops'],
    });
  });
});

describe('outputs', () => {
  it('prints the URLs, the admin-token command and the table names', () => {
    const { stack, template } = synthCached();
    const outputs = template.findOutputs('*');
    for (const name of ['ApiUrl', 'WebhookUrlTemplate', 'InspectorUrl', 'AdminTokenSecretArn', 'AdminTokenCommand', 'ActivityTableName', 'KeyTableName']) {
      expect(outputs).toHaveProperty(name);
    }
    const text = (name: string): string => JSON.stringify(outputs[name].Value);
    expect(text('ApiUrl')).toContain('ApiEndpoint');
    expect(text('WebhookUrlTemplate')).toContain('/v1/webhooks/replicate?key=<inspector key>');
    expect(text('InspectorUrl')).toContain('/inspector');
    expect(outputs.AdminTokenSecretArn.Value).toEqual({ Ref: logicalId(stack.secrets.adminToken) });
    expect(text('AdminTokenCommand')).toContain('aws secretsmanager get-secret-value --secret-id ');
    expect(text('AdminTokenCommand')).toContain(' --query SecretString --output text');
    expect(outputs.ActivityTableName.Value).toEqual({ Ref: logicalId(stack.tables.activityTable) });
    expect(outputs.KeyTableName.Value).toEqual({ Ref: logicalId(stack.tables.keyTable) });
  });
});
