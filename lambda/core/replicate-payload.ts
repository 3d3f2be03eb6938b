/**
 * Replicate's webhook body is the bare prediction (or training) object. Everything about it is
 * lenient on purpose: unknown fields are allowed, any field may be null, and `status` is an open
 * string (clients that used strict enums broke when `aborted` appeared).
 *
 * Parsing is ours, not a schema library's, because deciding what a snapshot *means* (terminal or
 * not, how far it got, which event fired) is the core of Chirp.
 */

export type JobKind = 'prediction' | 'training';

/** Which Replicate webhook event most likely produced this snapshot (Replicate does not say). */
export type InferredEvent = 'start' | 'output' | 'logs' | 'completed';

export interface ReplicateSnapshot {
  kind: JobKind;
  id: string;
  /** Lower-cased raw status; may be a value we have never seen. */
  status: string;
  model: string | null;
  version: string | null;
  /** The raw `output` value; never shown on the card as-is. */
  output: unknown;
  /** How much output there is: array length (streamed tokens, files), string length, 1 for other values, 0 for null. */
  outputLength: number;
  /** Cumulative logs ('' when null). */
  logs: string;
  /** The error as text (Replicate types it `unknown`), or null. */
  error: string | null;
  createdAt: number | null;
  startedAt: number | null;
  completedAt: number | null;
  predictTime: number | null;
  dataRemoved: boolean;
  webUrl: string;
}

export class PayloadError extends Error {
  constructor(
    readonly code: 'not_json' | 'not_a_job',
    message: string,
  ) {
    super(message);
    this.name = 'PayloadError';
  }
}

export const TERMINAL_STATUSES = ['succeeded', 'failed', 'canceled', 'aborted'] as const;

type Json = Record<string, unknown>;

function isObject(value: unknown): value is Json {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function stringOrNull(value: unknown): string | null {
  return typeof value === 'string' && value.length > 0 ? value : null;
}

/** ISO-8601 → epoch seconds; null for anything unparsable (Replicate's docs even show `:84` seconds). */
export function isoToEpochSeconds(value: unknown): number | null {
  if (typeof value !== 'string' || value.length === 0) return null;
  const ms = Date.parse(value);
  return Number.isFinite(ms) ? Math.floor(ms / 1000) : null;
}

function errorText(value: unknown): string | null {
  if (value === null || value === undefined) return null;
  if (typeof value === 'string') return value.length > 0 ? value : null;
  try {
    return JSON.stringify(value);
  } catch {
    // Only an object or array nested too deeply gets here (a parsed body has no cycles).
    // String() would recurse through a nested array just the same and throw again.
    return 'error details nested too deeply to show';
  }
}

function outputLength(output: unknown): number {
  if (output === null || output === undefined) return 0;
  if (Array.isArray(output)) return output.length;
  if (typeof output === 'string') return output.length;
  return 1;
}

/** Replicate ids are short lower-case strings; we bound them so a hostile body cannot bloat keys. */
const ID_PATTERN = /^[A-Za-z0-9_-]{1,128}$/;

/**
 * Parses a raw body into a snapshot. Throws PayloadError('not_json') for malformed JSON and
 * PayloadError('not_a_job') for valid JSON that is not a prediction or training (no `id` or `status`).
 */
export function parseReplicateBody(rawBody: string): ReplicateSnapshot {
  let parsed: unknown;
  try {
    parsed = JSON.parse(rawBody);
  } catch {
    throw new PayloadError('not_json', 'The body is not valid JSON.');
  }
  return snapshotFromObject(parsed);
}

export function snapshotFromObject(parsed: unknown): ReplicateSnapshot {
  if (!isObject(parsed)) {
    throw new PayloadError('not_a_job', 'The body must be a Replicate prediction or training object.');
  }
  const id = parsed.id;
  const status = parsed.status;
  if (typeof id !== 'string' || !ID_PATTERN.test(id)) {
    throw new PayloadError('not_a_job', 'The body has no usable `id`: it is not a Replicate prediction or training.');
  }
  if (typeof status !== 'string' || status.trim().length === 0) {
    throw new PayloadError('not_a_job', 'The body has no `status`: it is not a Replicate prediction or training.');
  }
  const urls = isObject(parsed.urls) ? parsed.urls : {};
  const metrics = isObject(parsed.metrics) ? parsed.metrics : {};
  const predictTime = typeof metrics.predict_time === 'number' && Number.isFinite(metrics.predict_time) ? metrics.predict_time : null;
  const webUrl = typeof urls.web === 'string' && urls.web.startsWith('https://') ? urls.web : `https://replicate.com/p/${id}`;
  return {
    kind: detectKind(parsed, urls),
    id,
    status: status.trim().toLowerCase().slice(0, 32),
    model: stringOrNull(parsed.model),
    version: stringOrNull(parsed.version),
    output: parsed.output ?? null,
    outputLength: outputLength(parsed.output),
    logs: typeof parsed.logs === 'string' ? parsed.logs : '',
    error: errorText(parsed.error),
    createdAt: isoToEpochSeconds(parsed.created_at),
    startedAt: isoToEpochSeconds(parsed.started_at),
    completedAt: isoToEpochSeconds(parsed.completed_at),
    predictTime,
    dataRemoved: parsed.data_removed === true,
    webUrl,
  };
}

/** Trainings have a `destination` or a `/trainings/` URL; everything else is a prediction. */
function detectKind(parsed: Json, urls: Json): JobKind {
  const get = typeof urls.get === 'string' ? urls.get : '';
  if (get.includes('/trainings/') || typeof parsed.destination === 'string') return 'training';
  return 'prediction';
}

export function isTerminalStatus(status: string): boolean {
  return (TERMINAL_STATUSES as readonly string[]).includes(status);
}

/**
 * Which event fired, inferred from the snapshot and (when known) what we had before. Replicate
 * never says; see reference §7.12.
 */
export function inferEvent(snapshot: ReplicateSnapshot, previous?: { outputLength: number; logsLength: number }): InferredEvent {
  if (isTerminalStatus(snapshot.status)) return 'completed';
  if (snapshot.status === 'starting') return 'start';
  if (!previous) return snapshot.outputLength > 0 ? 'output' : snapshot.logs.length > 0 ? 'logs' : 'start';
  if (snapshot.outputLength > previous.outputLength) return 'output';
  if (snapshot.logs.length > previous.logsLength) return 'logs';
  return snapshot.outputLength > 0 ? 'output' : 'logs';
}
