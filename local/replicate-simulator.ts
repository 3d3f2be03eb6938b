/**
 * Plays a realistic Replicate prediction lifecycle against a webhook URL: the same bodies and
 * headers Replicate sends (full snapshots, cumulative output and logs, Standard Webhooks
 * signature when a secret is given). Used by `npm run simulate`, `chirp simulate replicate`
 * and the tests.
 */
import { randomBytes } from 'node:crypto';
import { signReplicateBody } from '../lambda/core/replicate-signature';

export interface SimulateOptions {
  url: string;
  /** Stream an LLM's tokens (output + logs events) instead of an image model's progress. */
  stream?: boolean;
  /** `whsec_…`: sign every delivery like Replicate does. */
  secret?: string;
  /** Terminal status to end with. */
  outcome?: 'succeeded' | 'failed' | 'canceled';
  /** Pause between deliveries (Replicate throttles output/logs to one per 500 ms). */
  intervalMs?: number;
  /** Number of streamed outputs or progress steps. */
  steps?: number;
  id?: string;
  model?: string;
  /** Epoch ms; tests freeze it. */
  clock?: () => number;
  onDelivery?: (delivery: Delivery) => void;
  fetch?: typeof fetch;
}

export interface Delivery {
  status: string;
  webhookId: string;
  httpStatus: number;
  response: string;
}

const TOKENS = ['Once', ' upon', ' a', ' time', ',', ' a', ' GPU', ' dreamed', ' of', ' finishing', ' its', ' job', ' before', ' the', ' coffee', ' got', ' cold', '.', ' It', ' did', '.'];

function newPredictionId(): string {
  const alphabet = 'abcdefghijklmnopqrstuvwxyz0123456789';
  return Array.from(randomBytes(26), (b) => alphabet[b % 36]).join('');
}

function iso(ms: number): string {
  return new Date(ms).toISOString().replace('Z', '000Z');
}

function tqdm(step: number, total: number): string {
  const pct = Math.floor((step / total) * 100);
  const filled = Math.floor((step / total) * 10);
  return `${String(pct).padStart(3)}%|${'█'.repeat(filled)}${' '.repeat(10 - filled)}| ${step}/${total} [00:0${Math.min(step, 9)}<00:0${Math.max(total - step, 0) % 10}, 7.20it/s]`;
}

/** The snapshots of one prediction, in order (each a full prediction object, as Replicate sends). */
export function lifecycleSnapshots(options: Pick<SimulateOptions, 'stream' | 'outcome' | 'steps' | 'id' | 'model'> & { startMs: number; intervalMs: number }): Record<string, unknown>[] {
  const id = options.id ?? newPredictionId();
  const stream = options.stream ?? false;
  const model = options.model ?? (stream ? 'meta/meta-llama-3-8b-instruct' : 'black-forest-labs/flux-dev');
  const steps = options.steps ?? (stream ? TOKENS.length : 8);
  const outcome = options.outcome ?? 'succeeded';
  const created = options.startMs;
  const started = created + 400;
  const base = {
    id,
    model,
    version: 'hidden',
    input: stream ? { prompt: 'Tell me a very short story', max_new_tokens: 64 } : { prompt: 'a lighthouse at dawn, film photo', num_outputs: 2 },
    source: 'api',
    data_removed: false,
    urls: {
      get: `https://api.replicate.com/v1/predictions/${id}`,
      cancel: `https://api.replicate.com/v1/predictions/${id}/cancel`,
      web: `https://replicate.com/p/${id}`,
      ...(stream ? { stream: `https://stream.replicate.com/v1/files/${id}` } : {}),
    },
    webhook_events_filter: ['start', 'output', 'logs', 'completed'],
    created_at: iso(created),
  };
  const snapshots: Record<string, unknown>[] = [{ ...base, status: 'starting', output: null, logs: '', error: null, started_at: null, completed_at: null, metrics: {} }];
  let logs = 'Using seed: 31337\n';
  const output: string[] = [];
  for (let step = 1; step <= steps; step++) {
    if (stream) output.push(TOKENS[(step - 1) % TOKENS.length]!);
    else logs += `${tqdm(step, steps)}\r`;
    snapshots.push({ ...base, status: 'processing', output: stream ? [...output] : null, logs, error: null, started_at: iso(started), completed_at: null, metrics: {} });
  }
  const completed = started + steps * options.intervalMs + 300;
  const predictTime = (completed - started) / 1000;
  const final: Record<string, unknown> = { ...base, logs, started_at: iso(started), completed_at: iso(completed), metrics: { predict_time: predictTime, total_time: (completed - created) / 1000 } };
  if (outcome === 'succeeded') {
    snapshots.push({ ...final, status: 'succeeded', error: null, output: stream ? [...output] : [`https://replicate.delivery/xezq/${id}/out-0.webp`, `https://replicate.delivery/xezq/${id}/out-1.webp`] });
  } else if (outcome === 'failed') {
    snapshots.push({ ...final, status: 'failed', output: null, error: 'CUDA out of memory. Tried to allocate 2.00 GiB (GPU 0; 23.69 GiB total capacity)\nTraceback (most recent call last):\n  File "predict.py", line 42' });
  } else {
    snapshots.push({ ...final, status: 'canceled', output: stream ? [...output] : null, error: null });
  }
  return snapshots;
}

export async function simulateReplicateLifecycle(options: SimulateOptions): Promise<Delivery[]> {
  const clock = options.clock ?? Date.now;
  const intervalMs = options.intervalMs ?? 500;
  const doFetch = options.fetch ?? fetch;
  const snapshots = lifecycleSnapshots({ ...options, startMs: clock(), intervalMs });
  const deliveries: Delivery[] = [];
  for (const [index, snapshot] of snapshots.entries()) {
    if (index > 0 && intervalMs > 0) await new Promise((resolve) => setTimeout(resolve, intervalMs));
    const body = JSON.stringify(snapshot);
    const webhookId = `msg_${randomBytes(18).toString('base64url')}`;
    const headers: Record<string, string> = { 'content-type': 'application/json', 'user-agent': 'chirp-simulator' };
    if (options.secret) {
      const timestamp = Math.floor(clock() / 1000);
      headers['webhook-id'] = webhookId;
      headers['webhook-timestamp'] = String(timestamp);
      headers['webhook-signature'] = signReplicateBody(body, webhookId, timestamp, options.secret);
    } else {
      headers['webhook-id'] = webhookId;
    }
    const response = await doFetch(options.url, { method: 'POST', headers, body });
    const delivery: Delivery = { status: String(snapshot.status), webhookId, httpStatus: response.status, response: await response.text() };
    deliveries.push(delivery);
    options.onDelivery?.(delivery);
  }
  return deliveries;
}
