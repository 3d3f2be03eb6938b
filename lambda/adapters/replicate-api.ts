/**
 * Replicate's HTTP API for reconciliation: `GET /v1/predictions/{id}` and `GET /v1/trainings/{id}`.
 *
 * Plain `fetch` rather than the official `replicate` package: we need two authenticated GETs,
 * the package is not a dependency (and would add weight to every bundle that composes deps), and
 * parsing stays ours (`snapshotFromObject`, the same lenient parser as webhook bodies) so that a
 * reconciliation and a webhook read the same object the same way.
 *
 * The token goes only into the Authorization header of a request to the configured base URL:
 * redirects are refused (so it can never follow one to another host) and it is scrubbed from
 * every reason string. Nothing here logs.
 */
import { PayloadError, snapshotFromObject } from '../core/replicate-payload';
import type { ReplicateApiClient, ReplicateApiResult, ReplicateJobRef } from '../core/replicate-port';

export const DEFAULT_REPLICATE_API_BASE = 'https://api.replicate.com';
/** Long enough for a slow API, short enough that one hung request cannot eat a sweeper run. */
export const DEFAULT_REPLICATE_TIMEOUT_MS = 8000;
/** Snapshots carry cumulative logs; anything this large is not a prediction we can use. */
const MAX_ANSWER_BYTES = 10 * 1024 * 1024;
/** Bounds for Retry-After: at least a second, at most an hour (the backoff takes over after that). */
const RETRY_AFTER_MAX_SECONDS = 3600;

export interface ReplicateApiOptions {
  /** `REPLICATE_API_BASE`; with or without a trailing `/v1`. */
  baseUrl?: string;
  timeoutMs?: number;
  /** Epoch ms, for Retry-After given as an HTTP date. */
  clock?: () => number;
  fetch?: typeof fetch;
}

/** `https://host[/prefix]` without trailing slashes or `/v1`, so both spellings of the variable work. */
export function normalizeApiBase(baseUrl: string): string {
  return baseUrl.trim().replace(/\/+$/, '').replace(/\/v1$/, '');
}

/** Retry-After is delta-seconds or an HTTP date (RFC 9110 §10.2.3). */
export function parseRetryAfter(value: string | null, nowMs: number): number | undefined {
  if (value === null || value.trim() === '') return undefined;
  const trimmed = value.trim();
  let seconds: number;
  if (/^\d+$/.test(trimmed)) seconds = Number(trimmed);
  else {
    const at = Date.parse(trimmed);
    if (!Number.isFinite(at)) return undefined;
    seconds = Math.ceil((at - nowMs) / 1000);
  }
  return Math.min(RETRY_AFTER_MAX_SECONDS, Math.max(1, seconds));
}

/** By name, not class: AbortSignal.timeout throws a DOMException, which is not always an `Error` of this realm. */
function errorName(err: unknown): string {
  return typeof err === 'object' && err !== null && typeof (err as { name?: unknown }).name === 'string' ? (err as { name: string }).name : '';
}

function isTimeout(err: unknown): boolean {
  const name = errorName(err);
  return name === 'TimeoutError' || name === 'AbortError';
}

function scrub(text: string, token: string): string {
  return token.length > 0 ? text.split(token).join('***') : text;
}

/** Replicate's error bodies are `{"detail": "...", "status": 401}` (or `title`); one short line of it. */
async function errorDetail(response: Response): Promise<string | undefined> {
  try {
    const body: unknown = JSON.parse(await response.text());
    if (typeof body === 'object' && body !== null) {
      const { detail, title } = body as { detail?: unknown; title?: unknown };
      const text = typeof detail === 'string' ? detail : typeof title === 'string' ? title : undefined;
      return text?.split('\n')[0]?.slice(0, 100);
    }
  } catch {
    // not JSON: the status says enough
  }
  return undefined;
}

function withDetail(base: string, detail: string | undefined): string {
  return detail ? `${base}: ${detail}` : base;
}

export function createReplicateApi(options: ReplicateApiOptions = {}): ReplicateApiClient {
  const base = normalizeApiBase(options.baseUrl ?? DEFAULT_REPLICATE_API_BASE);
  const timeoutMs = options.timeoutMs ?? DEFAULT_REPLICATE_TIMEOUT_MS;
  const clock = options.clock ?? Date.now;
  const doFetch = options.fetch ?? fetch;

  async function classify(job: ReplicateJobRef, response: Response, token: string): Promise<ReplicateApiResult> {
    const status = response.status;
    if (status === 401 || status === 403) {
      return { outcome: 'unauthorized', status, reason: scrub(withDetail(`HTTP ${status} (token refused)`, await errorDetail(response)), token) };
    }
    if (status === 404) return { outcome: 'not-found', status, reason: scrub(withDetail('HTTP 404 (no such job for this token)', await errorDetail(response)), token) };
    if (status !== 200) {
      const retryAfterSeconds = parseRetryAfter(response.headers.get('retry-after'), clock());
      const what = status === 429 ? 'rate limited' : status >= 500 ? 'server error' : 'unexpected answer';
      const result: ReplicateApiResult = { outcome: 'retry', status, reason: scrub(withDetail(`HTTP ${status} (${what})`, await errorDetail(response)), token) };
      if (retryAfterSeconds !== undefined) result.retryAfterSeconds = retryAfterSeconds;
      return result;
    }
    const length = Number(response.headers.get('content-length') ?? '0');
    if (length > MAX_ANSWER_BYTES) return { outcome: 'retry', status, reason: `answer too large (${length} bytes)` };
    let body: unknown;
    try {
      body = JSON.parse(await response.text());
    } catch {
      return { outcome: 'retry', status, reason: 'answer is not JSON' };
    }
    try {
      // The kind we asked for wins over detection from the body: a training stays a training.
      const snapshot = { ...snapshotFromObject(body), kind: job.kind };
      if (snapshot.id !== job.id) return { outcome: 'retry', status, reason: 'answer is about another job' };
      return { outcome: 'ok', snapshot };
    } catch (err) {
      if (err instanceof PayloadError) return { outcome: 'retry', status, reason: `answer is not a ${job.kind}` };
      throw err;
    }
  }

  return {
    async getJob(job: ReplicateJobRef, token: string): Promise<ReplicateApiResult> {
      const path = job.kind === 'training' ? 'trainings' : 'predictions';
      const url = `${base}/v1/${path}/${encodeURIComponent(job.id)}`;
      let response: Response;
      try {
        response = await doFetch(url, {
          method: 'GET',
          headers: { authorization: `Bearer ${token}`, accept: 'application/json', 'user-agent': 'chirp-sweeper' },
          redirect: 'error',
          signal: AbortSignal.timeout(timeoutMs),
        });
      } catch (err) {
        if (isTimeout(err)) return { outcome: 'retry', reason: `no answer within ${timeoutMs} ms` };
        // undici wraps the cause (ECONNREFUSED, ENOTFOUND, a refused redirect…) in a TypeError.
        const cause = typeof err === 'object' && err !== null ? (err as { cause?: { code?: unknown; message?: unknown } }).cause : undefined;
        const what = cause?.code ?? cause?.message ?? (err instanceof Error ? err.message : String(err));
        return { outcome: 'retry', reason: scrub(`network error: ${String(what).slice(0, 80)}`, token) };
      }
      try {
        return await classify(job, response, token);
      } catch (err) {
        // Reading the body can time out too (the same signal covers it).
        if (isTimeout(err)) return { outcome: 'retry', reason: `no answer within ${timeoutMs} ms` };
        return { outcome: 'retry', reason: 'answer could not be read' };
      }
    },
  };
}
