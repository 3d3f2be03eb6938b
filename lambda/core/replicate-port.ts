/**
 * The Replicate API port: the sweeper asks "what is this job's state now?"; an adapter
 * (lambda/adapters/replicate-api.ts) answers over HTTP. Like the push port, adapters never
 * throw for an answer from Replicate: they classify it.
 */
import type { JobKind, ReplicateSnapshot } from './replicate-payload';

/**
 * What Replicate said about one job:
 * - `ok`: the current prediction or training object, parsed like a webhook body.
 * - `retry`: transient (429, 5xx, timeout, network, an unreadable answer); ask again later,
 *   not before `retryAfterSeconds` when Replicate said so.
 * - `not-found`: this token cannot see the job (another account, or a wrong id).
 * - `unauthorized`: the token is wrong, revoked or lacks permission (401/403).
 * `reason` is short, for the events log; it never contains the token.
 */
export type ReplicateApiResult =
  | { outcome: 'ok'; snapshot: ReplicateSnapshot }
  | { outcome: 'retry'; reason: string; status?: number; retryAfterSeconds?: number }
  | { outcome: 'not-found'; reason: string; status: number }
  | { outcome: 'unauthorized'; reason: string; status: number };

export interface ReplicateJobRef {
  kind: JobKind;
  id: string;
}

export interface ReplicateApiClient {
  /** `GET /v1/predictions/{id}` or `GET /v1/trainings/{id}` with the inspector's token. */
  getJob(job: ReplicateJobRef, token: string): Promise<ReplicateApiResult>;
}
