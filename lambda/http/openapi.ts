/**
 * `GET /v1/openapi.json`: an OpenAPI 3.1 description generated from the zod schemas that
 * validate requests (schemas.ts), so the document cannot drift from what the API accepts.
 * OpenAPI 3.1 uses JSON Schema 2020-12, which is what `z.toJSONSchema` emits.
 */
import { z } from 'zod';
import { adminSweepSchema } from './admin-routes';
import {
  activitiesPageSchema,
  activitiesQuerySchema,
  activityTokenSchema,
  activityViewSchema,
  deviceCreatedSchema,
  deviceCreateSchema,
  devicesPageSchema,
  deviceUpdateSchema,
  deviceViewSchema,
  errorResponseSchema,
  eventsPageSchema,
  eventsQuerySchema,
  eventViewSchema,
  inspectorCreatedSchema,
  inspectorCreateSchema,
  inspectorRotatedSchema,
  inspectorsPageSchema,
  inspectorUpdateSchema,
  inspectorViewSchema,
  pageQuerySchema,
  replicateWebhookBodySchema,
  rotateSchema,
  testJobResultSchema,
  testJobSchema,
  webhookResultSchema,
} from './schemas';

type JsonSchema = Record<string, unknown>;

const healthSchema = z.object({ ok: z.boolean(), store: z.enum(['reachable', 'unreachable']) });
const activityTokenResultSchema = z.object({ ok: z.literal(true), activityId: z.string(), pushes: z.array(z.record(z.string(), z.unknown())) });
const activityDetailSchema = z.object({ activity: activityViewSchema, timeline: z.array(eventViewSchema).describe('Oldest first: webhook → state change → push outcome') });
const sweepResultSchema = z.looseObject({ ok: z.literal(true) }).describe('What the sweeper pass did (counts)');

/** Request bodies are described as they are accepted (input), responses as they are produced (output). */
const REQUEST_SCHEMAS = {
  DeviceCreate: deviceCreateSchema,
  DeviceUpdate: deviceUpdateSchema,
  ActivityToken: activityTokenSchema,
  InspectorCreate: inspectorCreateSchema,
  InspectorUpdate: inspectorUpdateSchema,
  InspectorRotate: rotateSchema,
  InspectorTest: testJobSchema,
  ReplicateWebhookBody: replicateWebhookBodySchema,
  AdminSweep: adminSweepSchema,
} satisfies Record<string, z.ZodType>;

const RESPONSE_SCHEMAS = {
  Error: errorResponseSchema,
  Health: healthSchema,
  Device: deviceViewSchema,
  DeviceCreated: deviceCreatedSchema,
  DevicesPage: devicesPageSchema,
  ActivityTokenResult: activityTokenResultSchema,
  Inspector: inspectorViewSchema,
  InspectorCreated: inspectorCreatedSchema,
  InspectorRotated: inspectorRotatedSchema,
  InspectorsPage: inspectorsPageSchema,
  Event: eventViewSchema,
  EventsPage: eventsPageSchema,
  Activity: activityViewSchema,
  ActivitiesPage: activitiesPageSchema,
  ActivityDetail: activityDetailSchema,
  TestJobResult: testJobResultSchema,
  WebhookResult: webhookResultSchema,
  SweepResult: sweepResultSchema,
} satisfies Record<string, z.ZodType>;

type RequestName = keyof typeof REQUEST_SCHEMAS;
type ResponseName = keyof typeof RESPONSE_SCHEMAS;
type Security = 'admin' | 'device' | 'adminOrDevice' | 'webhookKey' | 'none';

interface Operation {
  method: 'get' | 'post' | 'put' | 'patch' | 'delete';
  path: string;
  operationId: string;
  summary: string;
  tag: 'webhooks' | 'devices' | 'activities' | 'inspectors' | 'admin' | 'meta';
  security: Security;
  body?: RequestName;
  query?: z.ZodObject;
  /** status → response schema name, `null` for no body, or a media type for non-JSON bodies. */
  responses: Record<number, { description: string; schema?: ResponseName; mediaType?: string }>;
}

const ERRORS = {
  400: { description: 'Invalid request; `error.field` names the field', schema: 'Error' },
  401: { description: 'Missing or invalid credential', schema: 'Error' },
  404: { description: 'Not found', schema: 'Error' },
} as const;

const OPERATIONS: Operation[] = [
  {
    method: 'post', path: '/v1/webhooks/replicate', operationId: 'ingestReplicateWebhook', tag: 'webhooks', security: 'webhookKey', body: 'ReplicateWebhookBody',
    summary: 'Replicate webhook: the URL you paste into a prediction\'s `webhook` field. Verifies Standard Webhooks signatures when the inspector has signing secrets; duplicates (same webhook-id) are acknowledged and ignored.',
    responses: { 200: { description: 'Accepted (applied, duplicate or stale)', schema: 'WebhookResult' }, 400: ERRORS[400], 401: ERRORS[401], 413: { description: 'Body over 1 MB', schema: 'Error' }, 415: { description: 'Not JSON', schema: 'Error' }, 422: { description: 'JSON that is not a prediction or training', schema: 'Error' }, 503: { description: 'State could not be saved; Replicate retries', schema: 'Error' } },
  },
  { method: 'get', path: '/v1/health', operationId: 'health', tag: 'meta', security: 'none', summary: 'Liveness and store reachability', responses: { 200: { description: 'Healthy', schema: 'Health' }, 503: { description: 'Store unreachable', schema: 'Health' } } },
  { method: 'get', path: '/v1/openapi.json', operationId: 'openapi', tag: 'meta', security: 'none', summary: 'This document', responses: { 200: { description: 'OpenAPI 3.1 document' } } },
  { method: 'get', path: '/inspector', operationId: 'inspectorPage', tag: 'meta', security: 'none', summary: 'The web inspector (its data needs the admin token)', responses: { 200: { description: 'HTML page', mediaType: 'text/html' } } },
  { method: 'get', path: '/inspector/{asset}', operationId: 'inspectorAsset', tag: 'meta', security: 'none', summary: 'The web inspector\'s script, stylesheet and icon', responses: { 200: { description: 'Asset', mediaType: '*/*' }, 404: ERRORS[404] } },
  { method: 'post', path: '/v1/devices', operationId: 'createDevice', tag: 'devices', security: 'admin', body: 'DeviceCreate', summary: 'Register a device; its credential is shown once', responses: { 201: { description: 'Registered', schema: 'DeviceCreated' }, 400: ERRORS[400], 401: ERRORS[401] } },
  { method: 'get', path: '/v1/devices', operationId: 'listDevices', tag: 'devices', security: 'admin', query: pageQuerySchema, summary: 'List devices (never their tokens or credentials)', responses: { 200: { description: 'A page of devices', schema: 'DevicesPage' }, 401: ERRORS[401] } },
  { method: 'patch', path: '/v1/devices/{id}', operationId: 'updateDevice', tag: 'devices', security: 'adminOrDevice', body: 'DeviceUpdate', summary: 'Rotate the push-to-start token, rename, change flags', responses: { 200: { description: 'Updated', schema: 'Device' }, 400: ERRORS[400], 401: ERRORS[401], 403: { description: 'Another device', schema: 'Error' }, 404: ERRORS[404] } },
  { method: 'delete', path: '/v1/devices/{id}', operationId: 'removeDevice', tag: 'devices', security: 'adminOrDevice', summary: 'Unregister a device', responses: { 204: { description: 'Removed' }, 401: ERRORS[401], 403: { description: 'Another device', schema: 'Error' }, 404: ERRORS[404] } },
  { method: 'put', path: '/v1/activities/{activityId}/token', operationId: 'reportActivityToken', tag: 'activities', security: 'device', body: 'ActivityToken', summary: 'The app reports an activity\'s update token; pending state is pushed at once', responses: { 200: { description: 'Stored', schema: 'ActivityTokenResult' }, 400: ERRORS[400], 401: ERRORS[401], 404: ERRORS[404] } },
  { method: 'post', path: '/v1/inspectors', operationId: 'createInspector', tag: 'inspectors', security: 'admin', body: 'InspectorCreate', summary: 'Create an inspector: the key and webhook URL are shown once, with ready-to-paste snippets', responses: { 201: { description: 'Created', schema: 'InspectorCreated' }, 400: ERRORS[400], 401: ERRORS[401] } },
  { method: 'get', path: '/v1/inspectors', operationId: 'listInspectors', tag: 'inspectors', security: 'admin', query: pageQuerySchema, summary: 'List inspectors (no secrets) with their last event', responses: { 200: { description: 'A page of inspectors', schema: 'InspectorsPage' }, 401: ERRORS[401] } },
  { method: 'get', path: '/v1/inspectors/{id}', operationId: 'getInspector', tag: 'inspectors', security: 'admin', summary: 'Read an inspector (no secrets)', responses: { 200: { description: 'The inspector', schema: 'Inspector' }, 401: ERRORS[401], 404: ERRORS[404] } },
  { method: 'patch', path: '/v1/inspectors/{id}', operationId: 'updateInspector', tag: 'inspectors', security: 'admin', body: 'InspectorUpdate', summary: 'Change settings and bound devices; secrets are write-only', responses: { 200: { description: 'Updated', schema: 'Inspector' }, 400: ERRORS[400], 401: ERRORS[401], 404: ERRORS[404] } },
  { method: 'delete', path: '/v1/inspectors/{id}', operationId: 'revokeInspector', tag: 'inspectors', security: 'admin', summary: 'Revoke: every key of the inspector stops working', responses: { 204: { description: 'Revoked' }, 401: ERRORS[401], 404: ERRORS[404] } },
  { method: 'post', path: '/v1/inspectors/{id}/rotate', operationId: 'rotateInspectorKey', tag: 'inspectors', security: 'admin', body: 'InspectorRotate', summary: 'New key and webhook URL; the old key keeps working for the grace period', responses: { 200: { description: 'Rotated', schema: 'InspectorRotated' }, 400: ERRORS[400], 401: ERRORS[401], 404: ERRORS[404] } },
  { method: 'post', path: '/v1/inspectors/{id}/test', operationId: 'testInspector', tag: 'inspectors', security: 'admin', body: 'InspectorTest', summary: 'Send a synthetic prediction (start → processing → end) through the real pipeline', responses: { 201: { description: 'Sent', schema: 'TestJobResult' }, 400: ERRORS[400], 401: ERRORS[401], 404: ERRORS[404] } },
  { method: 'get', path: '/v1/inspectors/{id}/events', operationId: 'listInspectorEvents', tag: 'inspectors', security: 'admin', query: eventsQuerySchema, summary: 'The events log, newest first, cursor-paged; each entry with the body, webhook-id, transition and every push result', responses: { 200: { description: 'A page of events', schema: 'EventsPage' }, 400: ERRORS[400], 401: ERRORS[401], 404: ERRORS[404] } },
  { method: 'get', path: '/v1/inspectors/{id}/activities', operationId: 'listInspectorActivities', tag: 'inspectors', security: 'admin', query: activitiesQuerySchema, summary: 'Current and recent cards with their content-state and per-device push state (never tokens)', responses: { 200: { description: 'A page of activities', schema: 'ActivitiesPage' }, 400: ERRORS[400], 401: ERRORS[401], 404: ERRORS[404] } },
  { method: 'get', path: '/v1/inspectors/{id}/activities/{activityId}', operationId: 'getInspectorActivity', tag: 'inspectors', security: 'admin', summary: 'One card with its timeline', responses: { 200: { description: 'The activity and its timeline', schema: 'ActivityDetail' }, 401: ERRORS[401], 404: ERRORS[404] } },
  { method: 'post', path: '/v1/admin/sweep', operationId: 'sweep', tag: 'admin', security: 'admin', body: 'AdminSweep', summary: 'Run one sweeper pass now', responses: { 200: { description: 'Done', schema: 'SweepResult' }, 401: ERRORS[401] } },
];

function jsonSchemaOf(schema: z.ZodType, io: 'input' | 'output'): JsonSchema {
  const { $schema: _ignored, ...rest } = z.toJSONSchema(schema, { target: 'draft-2020-12', io, unrepresentable: 'any' }) as JsonSchema;
  return rest;
}

function ref(name: string): JsonSchema {
  return { $ref: `#/components/schemas/${name}` };
}

function queryParameters(query: z.ZodObject): JsonSchema[] {
  return Object.entries(query.shape).map(([name, field]) => {
    const schema = jsonSchemaOf(field as z.ZodType, 'input');
    const { description, ...rest } = schema;
    return { name, in: 'query', required: false, ...(typeof description === 'string' ? { description } : {}), schema: rest };
  });
}

function pathParameters(path: string): JsonSchema[] {
  return [...path.matchAll(/\{(\w+)\}/g)].map((m) => ({ name: m[1], in: 'path', required: true, schema: { type: 'string' } }));
}

const SECURITY: Record<Security, JsonSchema[]> = {
  admin: [{ adminToken: [] }],
  device: [{ deviceCredential: [] }],
  adminOrDevice: [{ adminToken: [] }, { deviceCredential: [] }],
  webhookKey: [{ webhookKeyQuery: [] }, { webhookKeyBearer: [] }],
  none: [],
};

function operationObject(op: Operation): JsonSchema {
  const parameters = [...pathParameters(op.path), ...(op.query ? queryParameters(op.query) : [])];
  const responses: Record<string, JsonSchema> = {};
  for (const [status, response] of Object.entries(op.responses)) {
    const content = response.schema
      ? { 'application/json': { schema: ref(response.schema) } }
      : response.mediaType
        ? { [response.mediaType]: {} }
        : op.operationId === 'openapi'
          ? { 'application/json': { schema: { type: 'object' } } }
          : undefined;
    responses[status] = { description: response.description, ...(content ? { content } : {}) };
  }
  return {
    operationId: op.operationId,
    summary: op.summary,
    tags: [op.tag],
    security: SECURITY[op.security],
    ...(parameters.length > 0 ? { parameters } : {}),
    ...(op.body ? { requestBody: { required: !OPTIONAL_BODIES.has(op.body), content: { 'application/json': { schema: ref(op.body) } } } } : {}),
    responses,
  };
}

/** Bodies whose every field is optional: an empty body is fine. */
const OPTIONAL_BODIES = new Set<RequestName>(['InspectorRotate', 'InspectorTest', 'AdminSweep']);

let cached: JsonSchema | undefined;

export function openApiDocument(): JsonSchema {
  if (cached) return cached;
  const schemas: Record<string, JsonSchema> = {};
  for (const [name, schema] of Object.entries(REQUEST_SCHEMAS)) schemas[name] = jsonSchemaOf(schema, 'input');
  for (const [name, schema] of Object.entries(RESPONSE_SCHEMAS)) schemas[name] = jsonSchemaOf(schema, 'output');
  const paths: Record<string, Record<string, JsonSchema>> = {};
  for (const op of OPERATIONS) (paths[op.path] ??= {})[op.method] = operationObject(op);
  cached = {
    openapi: '3.1.0',
    info: {
      title: 'Chirp',
      version: '1',
      description: 'Replicate prediction webhooks become iOS Live Activity cards. Errors are always `{ "error": { "code", "message" } }`; times on cards are epoch seconds, times in the events log epoch milliseconds.',
    },
    jsonSchemaDialect: 'https://spec.openapis.org/oas/3.1/dialect/base',
    tags: [
      { name: 'webhooks', description: 'What Replicate calls' },
      { name: 'devices', description: 'Phones running the Chirp app' },
      { name: 'activities', description: 'What the app reports about its cards' },
      { name: 'inspectors', description: 'Routing keys bound to devices, their events log and cards' },
      { name: 'admin', description: 'Operations' },
      { name: 'meta', description: 'Health, this document, the web inspector' },
    ],
    paths,
    components: {
      schemas,
      securitySchemes: {
        adminToken: { type: 'http', scheme: 'bearer', description: 'The admin token (Secrets Manager, or local.json in local mode)' },
        deviceCredential: { type: 'http', scheme: 'bearer', description: 'A device credential (chirp_dev_…), from POST /v1/devices' },
        webhookKeyQuery: { type: 'apiKey', in: 'query', name: 'key', description: 'An inspector webhook key (chirp_wh_…)' },
        webhookKeyBearer: { type: 'http', scheme: 'bearer', description: 'The same webhook key as a bearer token' },
      },
    },
  };
  return cached;
}

/** Route patterns the document describes, as `METHOD /path/{param}`: tests compare them with the app's routes. */
export function documentedRoutes(): string[] {
  return OPERATIONS.map((op) => `${op.method.toUpperCase()} ${op.path}`);
}
