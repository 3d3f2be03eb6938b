/**
 * `PUT /v1/activities/{activityId}/token`: the app reports the update token of an activity
 * started on the device. Rotation replaces the previous token; any state that was waiting for
 * the token (updates, or the end of a job that finished before the token came) is pushed now.
 */
import { isDevicePending } from './activity';
import { deliverPushes } from './deliver-pushes';
import { ChirpError, ConcurrentUpdateError, NotFoundError, ValidationError } from './errors';
import type { IngestDeps } from './ingest-webhook';
import { MAX_ATTEMPTS, policySettings } from './ingest-webhook';
import { planPushes } from './push-policy';
import type { PushRecord } from './store-ports';

/** A push token as ActivityKit hands it to the app: hex; Apple says not to assume a length. */
export const PUSH_TOKEN_PATTERN = /^[0-9a-fA-F]{32,400}$/;

export function validatePushToken(token: unknown, field = 'token'): string {
  if (typeof token !== 'string' || !PUSH_TOKEN_PATTERN.test(token)) {
    throw new ValidationError(`${field} must be the hex push token ActivityKit gave the app (32–400 hex characters).`, field);
  }
  return token.toLowerCase();
}

export interface TokenResult {
  activityId: string;
  pushes: PushRecord[];
}

export async function registerActivityToken(
  deps: Omit<IngestDeps, 'tagSecret'>,
  input: { deviceId: string; activityId: string; token: string },
): Promise<TokenResult> {
  const token = validatePushToken(input.token);
  for (let attempt = 1; attempt <= MAX_ATTEMPTS; attempt++) {
    const current = await deps.activities.get(input.activityId);
    const device = current?.value.devices[input.deviceId];
    // Same answer for "no such activity" and "not yours": ids are not secrets, but this leaks nothing.
    if (!current || !device) throw new NotFoundError('No activity with this id was started on this device.');
    const resolved = await deps.resolver.resolveInspector(current.value.inspectorId);
    if (!resolved) throw new ChirpError('not_found', 'The inspector of this activity was revoked.');
    const now = Math.floor(deps.clock() / 1000);
    const activity = structuredClone(current.value);
    const target = activity.devices[input.deviceId]!;
    if (target.token === token && !isDevicePending(activity, target)) return { activityId: input.activityId, pushes: [] };
    // The end already went out: nothing will ever be sent to this card again, so keep no token.
    if (target.ended) return { activityId: input.activityId, pushes: [] };
    const previous = target.token;
    target.token = token;
    if (target.stopped?.startsWith('update token retired')) delete target.stopped;
    const plan = planPushes(activity, resolved.devices, policySettings(resolved, deps.bundleId, activity.job.kind), now, { flush: true });
    let version: number;
    try {
      version = await deps.activities.put(plan.activity, current.version);
    } catch (err) {
      if (err instanceof ConcurrentUpdateError && attempt < MAX_ATTEMPTS) {
        await deps.pauseBeforeRetry?.(attempt);
        continue;
      }
      throw err;
    }
    // A rotated token is dead to iOS: let the transport forget it (SNS deletes its endpoint).
    const released = previous !== undefined && previous !== token ? [{ deviceId: input.deviceId, environment: target.environment, token: previous, tokenKind: 'update' as const }] : [];
    const pushes = await deliverPushes(deps, plan.activity, version, plan.pushes, [...plan.releases, ...released]);
    try {
      await deps.activities.appendEvent(
        { inspectorId: activity.inspectorId, source: 'api', at: deps.clock(), activityId: activity.activityId, jobId: activity.job.jobId, status: activity.job.status, outcome: 'token', reason: `update token reported by device ${input.deviceId}`, pushes },
        resolved.inspector.retentionDays,
      );
    } catch (err) {
      deps.log.warn('could not append to the events log', { error: err instanceof Error ? err.message : String(err) });
    }
    return { activityId: input.activityId, pushes };
  }
  throw new ConcurrentUpdateError();
}
