/**
 * Defaults and limits of inspector settings (ARCHITECTURE §2.4), in one place for the API,
 * the webhook path and the sweeper.
 */
import type { JobKind } from './replicate-payload';
import type { Inspector } from './store-ports';
import { END_BEFORE_SECONDS } from './push-policy';

export const DEFAULT_COALESCE_SECONDS = 5;
export const DEFAULT_RETENTION_DAYS = 7;
export const DEFAULT_KEEP_LAST = 500;
/**
 * Predictions that say nothing for an hour are presumed lost (Replicate times predictions out
 * after 30 minutes of running). Trainings legitimately run quiet for hours when created with
 * `["start","completed"]`, so without a setting they are only ended by the 8-hour rule.
 */
export const DEFAULT_PREDICTION_HANG_MINUTES = 60;

export const LIMITS = {
  coalesceSeconds: { min: 1, max: 300 },
  hangTimeoutMinutes: { min: 5, max: Math.floor(END_BEFORE_SECONDS / 60) },
  retentionDays: { min: 1, max: 90 },
  keepLast: { min: 10, max: 10_000 },
  signingSecrets: { max: 5 },
  deviceIds: { max: 20 },
} as const;

export function hangTimeoutSecondsFor(inspector: Pick<Inspector, 'hangTimeoutMinutes'>, kind: JobKind): number {
  if (inspector.hangTimeoutMinutes !== undefined) return inspector.hangTimeoutMinutes * 60;
  return kind === 'training' ? END_BEFORE_SECONDS : DEFAULT_PREDICTION_HANG_MINUTES * 60;
}
