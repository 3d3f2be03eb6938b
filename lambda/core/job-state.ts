/**
 * The job state machine (ARCHITECTURE §2.1). Replicate promises no ordering and sends full
 * snapshots, so the state only moves forward:
 *
 *   starting (0) < processing (1) < terminal (2: succeeded, failed, canceled, aborted, expired)
 *
 * Terminal is sticky. Within `processing`, a snapshot whose `output` or `logs` is shorter than
 * what we already hold is an older snapshot that arrived late. A `completed` without a `start`
 * is fine (the start may never have been sent); a `start` after `completed` changes nothing.
 */
import type { CardStatus } from './live-activity';
import { inferEvent, type InferredEvent, type JobKind, type ReplicateSnapshot } from './replicate-payload';
import { summarizeSnapshot } from './card';

export const TERMINAL_CARD_STATUSES: readonly CardStatus[] = ['succeeded', 'failed', 'canceled', 'aborted', 'expired'];

export function isTerminal(status: CardStatus): boolean {
  return TERMINAL_CARD_STATUSES.includes(status);
}

export function rankOf(status: CardStatus): number {
  if (status === 'starting') return 0;
  if (status === 'processing') return 1;
  return 2;
}

/** What we keep about a job: small, because every accepted webhook rewrites it. */
export interface JobRecord {
  jobId: string;
  kind: JobKind;
  model: string;
  status: CardStatus;
  /** Raw status when Replicate sent one we don't know (shown in the inspector, never trusted). */
  rawStatus?: string;
  outputLength: number;
  logsLength: number;
  createdAt: number;
  startedAt: number;
  endedAt?: number;
  detail?: string;
  progress?: number;
  error?: string;
  predictTime?: number;
  webUrl: string;
}

export type ApplyOutcome = 'applied' | 'stale';

export interface ApplyResult {
  outcome: ApplyOutcome;
  /** Why a snapshot was stale, or a note about an applied one ("completed without start"). */
  reason?: string;
  event: InferredEvent;
  from: CardStatus | null;
  to: CardStatus;
  /** The record after applying (the unchanged record when stale). */
  record: JobRecord;
}

/**
 * Maps Replicate's open status string to a card status. Unknown values are treated as
 * "still in progress, not yet running" (rank 0) so they can never regress or end a card.
 */
export function cardStatusFor(rawStatus: string): { status: CardStatus; known: boolean } {
  switch (rawStatus) {
    case 'starting':
    case 'processing':
    case 'succeeded':
    case 'failed':
    case 'canceled':
    case 'aborted':
      return { status: rawStatus, known: true };
    case 'cancelled': // British spelling seen in some tools; same meaning
      return { status: 'canceled', known: true };
    default:
      return { status: 'starting', known: false };
  }
}

function recordFromSnapshot(snapshot: ReplicateSnapshot, status: CardStatus, previous: JobRecord | null, now: number): JobRecord {
  const summary = summarizeSnapshot(snapshot);
  const createdAt = snapshot.createdAt ?? previous?.createdAt ?? now;
  const startedAt = snapshot.startedAt ?? previous?.startedAt ?? createdAt;
  const terminal = isTerminal(status);
  const record: JobRecord = {
    jobId: snapshot.id,
    kind: snapshot.kind,
    model: snapshot.model ?? previous?.model ?? 'unknown model',
    status,
    outputLength: snapshot.outputLength,
    logsLength: snapshot.logs.length,
    createdAt,
    startedAt,
    webUrl: snapshot.webUrl,
  };
  if (terminal) record.endedAt = snapshot.completedAt ?? now;
  const detail = summary.detail ?? (terminal ? undefined : previous?.detail);
  if (detail !== undefined) record.detail = detail;
  const progress = summary.progress ?? (terminal ? undefined : previous?.progress);
  if (progress !== undefined) record.progress = progress;
  if (summary.error !== undefined) record.error = summary.error;
  if (snapshot.predictTime !== null) record.predictTime = snapshot.predictTime;
  return record;
}

/**
 * Applies one snapshot to the current record. Pure: `now` is epoch seconds from the caller's clock.
 */
export function applySnapshot(current: JobRecord | null, snapshot: ReplicateSnapshot, now: number): ApplyResult {
  const { status, known } = cardStatusFor(snapshot.status);
  const event = inferEvent(snapshot, current ? { outputLength: current.outputLength, logsLength: current.logsLength } : undefined);
  const unknownNote = known ? undefined : `unknown status "${snapshot.status}" treated as in progress`;

  if (current === null) {
    const record = recordFromSnapshot(snapshot, status, null, now);
    if (!known) record.rawStatus = snapshot.status;
    const note = isTerminal(status) ? 'completed without start' : unknownNote;
    return { outcome: 'applied', reason: note, event, from: null, to: status, record };
  }

  const stale = (reason: string): ApplyResult => ({ outcome: 'stale', reason, event, from: current.status, to: current.status, record: current });

  if (isTerminal(current.status)) {
    return stale(isTerminal(status) ? `already ${current.status}` : `${snapshot.status} after ${current.status} ignored`);
  }
  const currentRank = rankOf(current.status);
  const nextRank = rankOf(status);
  if (nextRank < currentRank) return stale(`${snapshot.status} after ${current.status} ignored`);
  if (nextRank === currentRank) {
    if (snapshot.outputLength < current.outputLength) {
      return stale(`older snapshot: output ${snapshot.outputLength} < ${current.outputLength}`);
    }
    if (snapshot.logs.length < current.logsLength) {
      return stale(`older snapshot: logs ${snapshot.logs.length} < ${current.logsLength} chars`);
    }
    if (snapshot.outputLength === current.outputLength && snapshot.logs.length === current.logsLength) {
      return stale('nothing new in this snapshot');
    }
  }
  const record = recordFromSnapshot(snapshot, status, current, now);
  if (!known) record.rawStatus = snapshot.status;
  return { outcome: 'applied', reason: unknownNote, event, from: current.status, to: status, record };
}

/** Ends a record as `expired` (the sweeper's verdict when a job went silent). */
export function expireRecord(current: JobRecord, now: number, reason: string): JobRecord {
  if (isTerminal(current.status)) return current;
  const { progress: _progress, ...rest } = current;
  return { ...rest, status: 'expired', endedAt: now, detail: reason.slice(0, 120) };
}
