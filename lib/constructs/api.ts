/**
 * The HTTP API (ARCHITECTURE §2.4): the webhook path goes to the webhook function, everything
 * else to the api function. One `$default` stage with throttling and JSON access logs that never
 * contain query strings (the webhook key travels in `?key=`) or headers (Authorization).
 *
 * No CORS: the inspector page is served by this same API (`/inspector`), so its calls are
 * same-origin; without CORS headers other origins cannot read responses even with a token.
 */
import { RemovalPolicy } from 'aws-cdk-lib';
import * as apigwv2 from 'aws-cdk-lib/aws-apigatewayv2';
import { HttpLambdaIntegration } from 'aws-cdk-lib/aws-apigatewayv2-integrations';
import { AccessLogFormat } from 'aws-cdk-lib/aws-apigateway';
import type * as lambda from 'aws-cdk-lib/aws-lambda';
import * as logs from 'aws-cdk-lib/aws-logs';
import { Construct } from 'constructs';
import type { ThrottlingConfig } from '../config';

export const WEBHOOK_PATH = '/v1/webhooks/replicate';

export interface RouteSpec {
  readonly method: apigwv2.HttpMethod;
  readonly path: string;
  readonly target: 'webhook' | 'api';
}

const M = apigwv2.HttpMethod;

/** Every route of ARCHITECTURE §2.4, plus the catch-alls that let the functions answer 404/405 in JSON. */
export const ROUTES: readonly RouteSpec[] = [
  { method: M.POST, path: WEBHOOK_PATH, target: 'webhook' },
  // Other methods reach the webhook function too, so it answers 405 in the JSON error shape.
  { method: M.ANY, path: WEBHOOK_PATH, target: 'webhook' },
  { method: M.GET, path: '/v1/health', target: 'api' },
  { method: M.GET, path: '/v1/devices', target: 'api' },
  { method: M.POST, path: '/v1/devices', target: 'api' },
  { method: M.PATCH, path: '/v1/devices/{id}', target: 'api' },
  { method: M.DELETE, path: '/v1/devices/{id}', target: 'api' },
  { method: M.PUT, path: '/v1/activities/{activityId}/token', target: 'api' },
  { method: M.POST, path: '/v1/inspectors', target: 'api' },
  { method: M.GET, path: '/v1/inspectors', target: 'api' },
  { method: M.GET, path: '/v1/inspectors/{id}', target: 'api' },
  { method: M.PATCH, path: '/v1/inspectors/{id}', target: 'api' },
  { method: M.DELETE, path: '/v1/inspectors/{id}', target: 'api' },
  { method: M.POST, path: '/v1/inspectors/{id}/rotate', target: 'api' },
  { method: M.GET, path: '/v1/inspectors/{id}/events', target: 'api' },
  { method: M.GET, path: '/v1/inspectors/{id}/activities', target: 'api' },
  { method: M.GET, path: '/v1/inspectors/{id}/activities/{activityId}', target: 'api' },
  { method: M.POST, path: '/v1/inspectors/{id}/test', target: 'api' },
  { method: M.POST, path: '/v1/admin/sweep', target: 'api' },
  { method: M.GET, path: '/v1/openapi.json', target: 'api' },
  { method: M.GET, path: '/inspector', target: 'api' },
  { method: M.GET, path: '/inspector/{proxy+}', target: 'api' },
  // Anything else under /v1 (unknown paths, wrong methods) gets the API's own JSON 404/405.
  { method: M.ANY, path: '/v1/{proxy+}', target: 'api' },
];

/**
 * Access-log line. `$context.path` and `$context.routeKey` carry no query string; no header,
 * identity token or request-override variable is logged. `status` is a number so metric filters
 * can compare it.
 */
export const ACCESS_LOG_FIELDS: Record<string, string> = {
  requestId: '$context.requestId',
  requestTime: '$context.requestTimeEpoch',
  ip: '$context.identity.sourceIp',
  method: '$context.httpMethod',
  routeKey: '$context.routeKey',
  path: '$context.path',
  protocol: '$context.protocol',
  responseLength: '$context.responseLength',
  latencyMs: '$context.responseLatency',
  integrationStatus: '$context.integrationStatus',
  integrationLatencyMs: '$context.integrationLatency',
  error: '$context.error.message',
  userAgent: '$context.identity.userAgent',
};

export function accessLogFormat(): string {
  const quoted = Object.entries(ACCESS_LOG_FIELDS).map(([key, variable]) => `"${key}":"${variable}"`);
  return `{${['"status":$context.status', ...quoted].join(',')}}`;
}

export interface ChirpApiProps {
  readonly webhookFunction: lambda.IFunction;
  readonly apiFunction: lambda.IFunction;
  readonly throttling: ThrottlingConfig;
  readonly logRetention: logs.RetentionDays;
}

export class ChirpApi extends Construct {
  readonly httpApi: apigwv2.HttpApi;
  readonly stage: apigwv2.HttpStage;
  readonly accessLogs: logs.LogGroup;
  /** `https://<id>.execute-api.<region>.amazonaws.com` without a trailing slash. */
  readonly url: string;

  constructor(scope: Construct, id: string, props: ChirpApiProps) {
    super(scope, id);

    this.httpApi = new apigwv2.HttpApi(this, 'HttpApi', {
      description: 'Chirp: Replicate webhooks to iOS Live Activities',
      createDefaultStage: false,
    });

    this.accessLogs = new logs.LogGroup(this, 'AccessLogs', {
      retention: props.logRetention,
      removalPolicy: RemovalPolicy.DESTROY,
    });

    this.stage = new apigwv2.HttpStage(this, 'DefaultStage', {
      httpApi: this.httpApi,
      stageName: '$default',
      autoDeploy: true,
      throttle: { rateLimit: props.throttling.rateLimit, burstLimit: props.throttling.burstLimit },
      accessLogSettings: {
        destination: new apigwv2.LogGroupLogDestination(this.accessLogs),
        format: AccessLogFormat.custom(accessLogFormat()),
      },
    });

    const integrations = {
      // Route-scoped invoke permission: the webhook function can only be reached on its own path.
      webhook: new HttpLambdaIntegration('WebhookIntegration', props.webhookFunction),
      // One API-wide permission instead of one per route (keeps the function policy small).
      api: new HttpLambdaIntegration('ApiIntegration', props.apiFunction, { scopePermissionToRoute: false }),
    };
    for (const route of ROUTES) {
      this.httpApi.addRoutes({ path: route.path, methods: [route.method], integration: integrations[route.target] });
    }

    // The `$default` stage is served at the API's root: the endpoint is the base URL.
    this.url = this.httpApi.apiEndpoint;
  }
}
