/**
 * When the sweeper asks Replicate about a job that went quiet (ARCHITECTURE §2.6).
 *
 * Attempts are counted from the last event (a webhook or a reconciliation that told us
 * something); any such event resets the count. The first look comes 2 minutes after it: Replicate
 * retries a terminal webhook for about a minute, so by then a `completed` that was going to
 * arrive has arrived. After that the gaps grow, because a job that is quiet for long is usually
 * a long job (a fine-tune created with `["start","completed"]`), not a lost one.
 */
import type { ActivityRecord } from './activity';

/** Offsets from `lastEventAt` of attempts 0…4: 2, 5, 15, 30 and 60 minutes. */
export const RECONCILE_BACKOFF_SECONDS: readonly number[] = [120, 300, 900, 1800, 3600];
/** After the table runs out: once an hour, until the job ends or the 8-hour rule ends it. */
export const RECONCILE_REPEAT_SECONDS = 3600;

/** Seconds after the last event at which attempt `attempt` (0-based) is due. */
export function reconcileOffset(attempt: number): number {
  const table = RECONCILE_BACKOFF_SECONDS;
  const n = Math.max(0, Math.floor(attempt));
  if (n < table.length) return table[n]!;
  return table[table.length - 1]! + (n - table.length + 1) * RECONCILE_REPEAT_SECONDS;
}

/** Epoch s of the next reconciliation; never before a Retry-After that Replicate gave us. */
export function reconcileDueAt(activity: Pick<ActivityRecord, 'lastEventAt' | 'reconcileAttempts' | 'reconcileNotBefore'>): number {
  const at = activity.lastEventAt + reconcileOffset(activity.reconcileAttempts ?? 0);
  return Math.max(at, activity.reconcileNotBefore ?? 0);
}
