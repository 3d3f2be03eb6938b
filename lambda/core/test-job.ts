/**
 * `POST /v1/inspectors/{id}/test`: a synthetic Replicate prediction sent through the real ingest
 * pipeline (state machine, push policy, transport, events log), so "send test card" proves the
 * whole path to the phone, not a shortcut. Each step is a full prediction snapshot with a fresh
 * `webhook-id`, signed like Replicate signs when the inspector requires signatures.
 */
import { ingestForInspector, type IngestDeps, type IngestResult } from './ingest-webhook';
import type { ResolvedInspector } from './inspector-resolver';
import { signReplicateBody } from './replicate-signature';

export type TestOutcome = 'succeeded' | 'failed' | 'canceled' | 'running';

export interface TestJobDeps extends Omit<IngestDeps, 'tagSecret'> {
  random: (size: number) => Uint8Array;
}

export interface TestJobOptions {
  outcome: TestOutcome;
  model: string;
  requestId?: string;
}

export interface TestJobResult {
  jobId: string;
  activityId: string;
  steps: (Pick<IngestResult, 'outcome' | 'status' | 'pushes'> & { webhookId: string; reason?: string })[];
}

const BASE32 = 'abcdefghijklmnopqrstuvwxyz234567';

/** Replicate-looking id: 26 lowercase base32 characters. */
function jobIdFrom(bytes: Uint8Array): string {
  let out = '';
  for (let i = 0; i < 26; i++) out += BASE32[bytes[i]! % 32];
  return out;
}

function iso(seconds: number): string {
  return new Date(seconds * 1000).toISOString();
}

/** The snapshots Replicate would send for this outcome, oldest first. */
export function testSnapshots(jobId: string, model: string, outcome: TestOutcome, nowSeconds: number): Record<string, unknown>[] {
  const createdAt = nowSeconds - 3;
  const startedAt = nowSeconds - 2;
  const base = {
    id: jobId,
    model,
    version: 'chirp-test',
    // Never a real prompt: the card must not need one, and the log strips `input` anyway.
    input: {},
    created_at: iso(createdAt),
    data_removed: false,
    source: 'api',
    urls: {
      get: `https://api.replicate.com/v1/predictions/${jobId}`,
      cancel: `https://api.replicate.com/v1/predictions/${jobId}/cancel`,
      web: `https://replicate.com/p/${jobId}`,
    },
  };
  const start = { ...base, status: 'starting', started_at: null, completed_at: null, output: null, error: null, logs: '', metrics: {} };
  const processing = {
    ...base,
    status: 'processing',
    started_at: iso(startedAt),
    completed_at: null,
    output: null,
    error: null,
    logs: 'Chirp test card\n 50%|█████     | 1/2 [00:01<00:01,  1.00it/s]',
    metrics: {},
  };
  if (outcome === 'running') return [start, processing];
  const completed = { ...processing, completed_at: iso(nowSeconds), metrics: { predict_time: nowSeconds - startedAt } };
  if (outcome === 'succeeded') {
    return [start, processing, { ...completed, status: 'succeeded', output: [`https://replicate.delivery/chirp-test/${jobId}/out-0.webp`], logs: `${processing.logs}\n100%|██████████| 2/2 [00:02<00:00,  1.00it/s]` }];
  }
  if (outcome === 'failed') return [start, processing, { ...completed, status: 'failed', error: 'Chirp test card: a simulated failure' }];
  return [start, processing, { ...completed, status: 'canceled' }];
}

export async function runTestJob(deps: TestJobDeps, resolved: ResolvedInspector, options: TestJobOptions): Promise<TestJobResult> {
  const jobId = jobIdFrom(deps.random(26));
  const bodies = testSnapshots(jobId, options.model, options.outcome, Math.floor(deps.clock() / 1000));
  const steps: TestJobResult['steps'] = [];
  let activityId = '';
  for (const body of bodies) {
    const rawText = JSON.stringify(body);
    const webhookId = `msg_${Buffer.from(deps.random(18)).toString('base64url')}`;
    const timestamp = Math.floor(deps.clock() / 1000);
    const headers: Record<string, string | undefined> = { 'webhook-id': webhookId, 'webhook-timestamp': String(timestamp) };
    const secret = resolved.inspector.signingSecrets[0];
    if (secret) headers['webhook-signature'] = signReplicateBody(rawText, webhookId, timestamp, secret);
    const result = await ingestForInspector(deps, resolved, {
      rawBody: new TextEncoder().encode(rawText),
      headers,
      ...(options.requestId ? { requestId: options.requestId } : {}),
    });
    activityId = result.activityId;
    steps.push({ webhookId, outcome: result.outcome, status: result.status, pushes: result.pushes, ...(result.reason ? { reason: result.reason } : {}) });
  }
  return { jobId, activityId, steps };
}
