/**
 * Request schemas (zod). The same objects validate requests and generate the OpenAPI document,
 * so the two cannot disagree. Response schemas below document what the routes return (and the
 * integration tests hold the routes to them).
 */
import { z } from 'zod';
import { PUSH_TOKEN_PATTERN } from '../core/activity-token';
import { DEFAULT_PREDICTION_HANG_MINUTES, LIMITS } from '../core/inspector-settings';
import { isValidSigningSecret } from '../core/replicate-signature';

const hexToken = z.string().regex(PUSH_TOKEN_PATTERN, 'must be a hex push token (32–400 hex characters)');

export const deviceCreateSchema = z
  .object({
    name: z.string().trim().min(1).max(80),
    environment: z.enum(['sandbox', 'production']),
    pushToStartToken: hexToken.optional(),
    frequentPushesEnabled: z.boolean().optional(),
  })
  .strict();

export const deviceUpdateSchema = z
  .object({
    name: z.string().trim().min(1).max(80).optional(),
    pushToStartToken: hexToken.nullable().optional(),
    frequentPushesEnabled: z.boolean().optional(),
  })
  .strict();

export const activityTokenSchema = z.object({ token: hexToken }).strict();

// ───────────────────────────── inspectors: requests ─────────────────────────────

function intWithin(limits: { min: number; max: number }, description: string) {
  return z.number().int().min(limits.min).max(limits.max).describe(`${description} (${limits.min}–${limits.max})`);
}

const inspectorName = z.string().trim().min(1).max(80).describe('A name people recognise: a team, a job type');
const deviceIdList = z
  .array(z.string().min(1).max(64))
  .max(LIMITS.deviceIds.max)
  .describe('Devices whose lock screens show this inspector\'s jobs (GET /v1/devices lists them)');
const signingSecretList = z
  .array(z.string().max(200).refine(isValidSigningSecret, 'must be a Replicate webhook signing secret: whsec_ followed by base64'))
  .max(LIMITS.signingSecrets.max)
  .describe('Write-only. Replicate signing secrets (whsec_…; GET https://api.replicate.com/v1/webhooks/default/secret). When set, unsigned or badly signed webhooks are rejected. Replaces the whole list; [] turns verification off.');
const replicateToken = z
  .string()
  .trim()
  .min(8)
  .max(200)
  .regex(/^[A-Za-z0-9_.-]+$/, 'must be a Replicate API token (r8_…)')
  .describe('Write-only. A Replicate API token the sweeper uses to ask Replicate for the real status of a job that went quiet');
const hangTimeout = intWithin(LIMITS.hangTimeoutMinutes, `Minutes without any event before a card ends grey as expired; default ${DEFAULT_PREDICTION_HANG_MINUTES} for predictions, the 8-hour rule for trainings`);
const coalesce = intWithin(LIMITS.coalesceSeconds, 'Minimum seconds between two update pushes of one card');
const retention = intWithin(LIMITS.retentionDays, 'Days the events log keeps entries');
const keepLast = intWithin(LIMITS.keepLast, 'The events log shows at most this many newest entries');

export const inspectorCreateSchema = z
  .object({
    name: inspectorName,
    deviceIds: deviceIdList.optional(),
    signingSecrets: signingSecretList.optional(),
    replicateApiToken: replicateToken.optional(),
    hangTimeoutMinutes: hangTimeout.optional(),
    coalesceSeconds: coalesce.optional(),
    retentionDays: retention.optional(),
    keepLast: keepLast.optional(),
  })
  .strict();

export const inspectorUpdateSchema = z
  .object({
    name: inspectorName.optional(),
    deviceIds: deviceIdList.optional(),
    signingSecrets: signingSecretList.optional(),
    replicateApiToken: replicateToken.nullable().optional().describe('Write-only; null removes it'),
    hangTimeoutMinutes: hangTimeout.nullable().optional().describe('null restores the default'),
    coalesceSeconds: coalesce.optional(),
    retentionDays: retention.optional(),
    keepLast: keepLast.optional(),
  })
  .strict();

export const MAX_ROTATION_GRACE_SECONDS = 7 * 86_400;
export const DEFAULT_ROTATION_GRACE_SECONDS = 86_400;

export const rotateSchema = z
  .object({
    graceSeconds: z
      .number()
      .int()
      .min(0)
      .max(MAX_ROTATION_GRACE_SECONDS)
      .optional()
      .describe(`How long the old key keeps working (default ${DEFAULT_ROTATION_GRACE_SECONDS} s = 24 h, at most 7 days; 0 ends it now)`),
  })
  .strict();

export const testJobSchema = z
  .object({
    outcome: z
      .enum(['succeeded', 'failed', 'canceled', 'running'])
      .optional()
      .describe('How the synthetic job ends (default succeeded); "running" leaves the card running until the hang timeout'),
    model: z
      .string()
      .regex(/^[a-z0-9][a-z0-9._-]{0,38}\/[a-z0-9][a-z0-9._-]{0,60}$/, 'must look like owner/name')
      .optional()
      .describe('Model name shown on the card (default chirp/test-card)'),
  })
  .strict();

// ───────────────────────────── query strings ─────────────────────────────

export const EVENT_OUTCOMES = ['applied', 'duplicate', 'stale', 'rejected', 'reconciled', 'expired', 'flushed', 'token'] as const;

const limitQuery = (max: number, fallback: number) =>
  z.coerce.number().int().min(1).max(max).optional().describe(`Page size (1–${max}, default ${fallback})`);
const cursorQuery = z.string().min(1).max(4000).optional().describe('The `cursor` of the previous page');

/** ISO-8601 time or epoch milliseconds → epoch ms. */
export function parseTimeParam(value: string): number | undefined {
  if (/^\d{1,15}$/.test(value)) return Number(value);
  const ms = Date.parse(value);
  return Number.isFinite(ms) && /^\d{4}-\d{2}-\d{2}/.test(value) ? ms : undefined;
}

const timeQuery = (what: string) =>
  z
    .string()
    .max(40)
    .refine((v) => parseTimeParam(v) !== undefined, 'must be an ISO-8601 time or epoch milliseconds')
    .optional()
    .describe(what);

const commaList = (pattern: RegExp, message: string) =>
  z
    .string()
    .max(200)
    .refine((v) => v.split(',').every((part) => pattern.test(part)), message);

export const pageQuerySchema = z.object({ limit: limitQuery(100, 50), cursor: cursorQuery }).strict();

export const eventsQuerySchema = z
  .object({
    limit: limitQuery(200, 50),
    cursor: cursorQuery,
    status: commaList(/^[a-z_]{1,32}$/, 'must be Replicate statuses separated by commas')
      .optional()
      .describe('Replicate status(es) of the webhook, comma-separated (starting, processing, succeeded, failed, canceled, aborted)'),
    outcome: z
      .string()
      .max(200)
      .refine((v) => v.split(',').every((part) => (EVENT_OUTCOMES as readonly string[]).includes(part)), `must be one or more of ${EVENT_OUTCOMES.join(', ')}`)
      .optional()
      .describe(`What the event did, comma-separated: ${EVENT_OUTCOMES.join(', ')}`),
    since: timeQuery('Only events at or after this time (ISO-8601 or epoch ms)'),
    until: timeQuery('Only events before this time (ISO-8601 or epoch ms)'),
    activityId: z.string().regex(/^act_[A-Za-z0-9_-]{1,40}$/, 'must be an activity id (act_…)').optional().describe('Only this activity (the timeline of one card)'),
    jobId: z.string().regex(/^[A-Za-z0-9_-]{1,128}$/, 'must be a Replicate prediction or training id').optional().describe('Only this prediction or training'),
  })
  .strict();

export const activitiesQuerySchema = z
  .object({
    limit: limitQuery(100, 20),
    cursor: cursorQuery,
    state: z.enum(['active', 'ended', 'all']).optional().describe('active: still running; ended: terminal; all (default)'),
  })
  .strict();

// ───────────────────────────── responses (documentation and tests) ─────────────────────────────

const cardStatus = z.enum(['starting', 'processing', 'succeeded', 'failed', 'canceled', 'aborted', 'expired']);
const epochSeconds = z.number().describe('Epoch seconds');
const epochMs = z.number().describe('Epoch milliseconds');

export const errorResponseSchema = z.object({
  error: z.object({
    code: z.string().describe('Stable, machine-readable'),
    message: z.string().describe('For people'),
    field: z.string().optional().describe('The request field a validation error is about'),
    reason: z.string().optional(),
  }),
});

export const deviceViewSchema = z.object({
  id: z.string(),
  name: z.string(),
  environment: z.enum(['sandbox', 'production']),
  hasPushToStartToken: z.boolean(),
  frequentPushesEnabled: z.boolean(),
  createdAt: epochSeconds,
  simulated: z.boolean().optional(),
});

export const deviceCreatedSchema = deviceViewSchema.extend({ secret: z.string().describe('The device credential, shown once') });

export const lastEventSchema = z
  .object({
    at: epochMs,
    source: z.enum(['webhook', 'sweeper', 'api', 'feedback']),
    outcome: z.enum(EVENT_OUTCOMES),
    status: z.string().optional(),
    jobId: z.string().optional(),
  })
  .describe('The newest entry of the events log ("last event received")');

export const inspectorViewSchema = z.object({
  id: z.string(),
  name: z.string(),
  createdAt: epochSeconds,
  keyHint: z.string().describe('Non-secret prefix of the current key'),
  webhookUrlHint: z.string().describe('The webhook URL with only the key hint: the full URL is shown once, at creation and rotation'),
  deviceIds: z.array(z.string()),
  devices: z.array(z.object({ id: z.string(), name: z.string().optional(), environment: z.enum(['sandbox', 'production']).optional(), hasPushToStartToken: z.boolean().optional(), missing: z.boolean().optional() })),
  hasSigningSecrets: z.boolean(),
  signingSecretsCount: z.number().int(),
  hasReplicateApiToken: z.boolean(),
  hangTimeoutMinutes: z.number().int().nullable().describe('null: the default for the job kind'),
  coalesceSeconds: z.number().int(),
  retentionDays: z.number().int(),
  keepLast: z.number().int(),
  lastEvent: lastEventSchema.nullable(),
});

export const snippetsSchema = z.object({
  curl: z.string(),
  javascript: z.string(),
  python: z.string(),
});

export const inspectorCreatedSchema = inspectorViewSchema.extend({
  key: z.string().describe('The webhook key, shown once'),
  webhookUrl: z.string().describe('Paste into the `webhook` field of a Replicate prediction'),
  snippets: snippetsSchema.describe('Ready-to-paste prediction calls with webhook and webhook_events_filter'),
});

export const inspectorRotatedSchema = inspectorCreatedSchema.extend({
  previousKeyValidUntil: epochSeconds.describe('The old key stops working at this time'),
});

const pushRecordSchema = z.object({
  deviceId: z.string(),
  kind: z.enum(['start', 'update', 'end']),
  outcome: z.enum(['sent', 'retire-token', 'retry-later', 'fix-config']),
  transport: z.enum(['outbox', 'sns', 'apns']),
  reason: z.string().optional(),
  status: z.number().int().optional().describe('HTTP status from APNs / SNS when not sent'),
});

export const eventViewSchema = z.object({
  inspectorId: z.string(),
  at: epochMs,
  source: z.enum(['webhook', 'sweeper', 'api', 'feedback']),
  webhookId: z.string().optional(),
  webhookTimestamp: epochSeconds.optional(),
  jobId: z.string().optional(),
  activityId: z.string().optional(),
  status: z.string().optional(),
  event: z.enum(['start', 'output', 'logs', 'completed']).optional(),
  outcome: z.enum(EVENT_OUTCOMES),
  reason: z.string().optional(),
  transition: z.object({ from: cardStatus.nullable(), to: cardStatus }).optional(),
  pushes: z.array(pushRecordSchema),
  body: z.string().optional().describe('The webhook body without `input`, size-capped'),
  requestId: z.string().optional(),
});

const contentStateSchema = z.object({
  status: cardStatus,
  startedAt: epochSeconds,
  createdAt: epochSeconds,
  endedAt: epochSeconds.optional(),
  progress: z.number().min(0).max(1).optional(),
  detail: z.string().optional(),
  predictTime: z.number().optional(),
  error: z.string().optional(),
});

const attributesSchema = z.object({
  activityId: z.string(),
  provider: z.literal('replicate'),
  jobId: z.string(),
  model: z.string(),
  inspector: z.string(),
  webUrl: z.string(),
});

export const activityViewSchema = z.object({
  activityId: z.string(),
  inspectorId: z.string(),
  jobId: z.string(),
  kind: z.enum(['prediction', 'training']),
  status: cardStatus,
  rawStatus: z.string().optional().describe('A status Replicate sent that Chirp does not know'),
  statusWord: z.string().describe('The card header word: RUNNING, SUCCEEDED…'),
  color: z.enum(['green', 'red', 'grey', 'blue']),
  terminal: z.boolean(),
  attributes: attributesSchema,
  contentState: contentStateSchema,
  createdAt: epochSeconds,
  lastEventAt: epochSeconds,
  lastPushAt: epochSeconds.optional(),
  dueAt: epochSeconds.optional().describe('When the sweeper looks at it next'),
  seq: z.number().int(),
  devices: z.array(
    z.object({
      deviceId: z.string(),
      name: z.string().optional(),
      environment: z.enum(['sandbox', 'production']),
      startedAt: epochSeconds.optional().describe('When the start push went out'),
      hasToken: z.boolean().describe('The app reported this activity\'s update token (the token itself is never shown)'),
      sentSeq: z.number().int(),
      upToDate: z.boolean().describe('The device was sent the latest state'),
      ended: z.boolean(),
      stopped: z.string().optional().describe('Why this device gets no more pushes for this card'),
    }),
  ),
});

export const testJobResultSchema = z.object({
  jobId: z.string(),
  activityId: z.string(),
  steps: z.array(
    z.object({
      webhookId: z.string(),
      status: z.string(),
      outcome: z.enum(['applied', 'duplicate', 'stale']),
      reason: z.string().optional(),
      pushes: z.array(pushRecordSchema),
    }),
  ),
});

export const webhookResultSchema = z.object({
  ok: z.literal(true),
  outcome: z.enum(['applied', 'duplicate', 'stale']),
  activityId: z.string(),
  jobId: z.string(),
  status: z.string(),
  reason: z.string().optional(),
  pushes: z.array(pushRecordSchema),
});

export const replicateWebhookBodySchema = z
  .looseObject({
    id: z.string(),
    status: z.string().describe('An open string: starting, processing, succeeded, failed, canceled, aborted, or something new'),
    model: z.string().nullable().optional(),
    version: z.string().nullable().optional(),
    created_at: z.string().nullable().optional(),
    started_at: z.string().nullable().optional(),
    completed_at: z.string().nullable().optional(),
    output: z.unknown().optional(),
    logs: z.string().nullable().optional(),
    error: z.unknown().optional(),
    metrics: z.looseObject({ predict_time: z.number().optional() }).nullable().optional(),
    urls: z.looseObject({ web: z.string().optional(), get: z.string().optional() }).nullable().optional(),
  })
  .describe('The bare Replicate prediction or training object, as Replicate sends it; parsed leniently');

export function pageOf<T extends z.ZodType>(item: T) {
  return z.object({ items: z.array(item), cursor: z.string().optional().describe('Pass as ?cursor= for the next page; absent at the end') });
}

export const eventsPageSchema = pageOf(eventViewSchema).extend({ scanned: z.number().int().describe('Log entries looked at for this page (filters run server-side with a bounded budget)') });
export const activitiesPageSchema = pageOf(activityViewSchema);
export const inspectorsPageSchema = pageOf(inspectorViewSchema);
export const devicesPageSchema = pageOf(deviceViewSchema);

export type InspectorView = z.infer<typeof inspectorViewSchema>;
export type InspectorCreated = z.infer<typeof inspectorCreatedSchema>;
export type InspectorRotated = z.infer<typeof inspectorRotatedSchema>;
export type EventView = z.infer<typeof eventViewSchema>;
export type ActivityView = z.infer<typeof activityViewSchema>;
export type DeviceView = z.infer<typeof deviceViewSchema>;
export type TestJobResultView = z.infer<typeof testJobResultSchema>;
export type EventsPage = z.infer<typeof eventsPageSchema>;
