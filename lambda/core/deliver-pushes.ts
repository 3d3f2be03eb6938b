/**
 * Sends a saved push plan and folds the transports' answers back into the activity. Used by the
 * webhook ingest, the activity-token route and the sweeper, so all three behave the same.
 *
 * Order matters: the activity (with the pushes' bookkeeping) is written *before* anything is
 * sent, so two racing deliveries can never both send an `end`; a push that must be retried is
 * then un-marked with a second write, which only happens on the failure path.
 */
import { applyPushOutcomes, type PlannedPush } from './push-policy';
import type { ActivityRecord } from './activity';
import type { Log } from './log';
import type { PushResult, PushSender } from './push-port';
import type { ActivityStore, KeyStore, PushRecord } from './store-ports';
import { ConcurrentUpdateError } from './errors';

export interface DeliverDeps {
  activities: ActivityStore;
  keys: KeyStore;
  push: PushSender;
  log: Log;
  /** Epoch ms. */
  clock: () => number;
  /** Called after each successful push (local mode's simulated phone reacts to starts). */
  onSent?: (message: PlannedPush['message']) => void;
}

const PUSH_TIMEOUT_MS = 10_000;

async function sendOne(push: PushSender, planned: PlannedPush, log: Log): Promise<PushResult> {
  let timer: NodeJS.Timeout | undefined;
  try {
    const timeout = new Promise<PushResult>((resolve) => {
      timer = setTimeout(() => resolve({ outcome: 'retry-later', transport: push.transport, reason: `no answer within ${PUSH_TIMEOUT_MS} ms` }), PUSH_TIMEOUT_MS);
    });
    return await Promise.race([push.send(planned.message), timeout]);
  } catch (err) {
    // Adapters classify the push service's answers; a throw is a transport fault: retry later.
    log.warn('push transport threw', { activityId: planned.message.activityId, error: err instanceof Error ? err.message : String(err) });
    return { outcome: 'retry-later', transport: push.transport, reason: err instanceof Error ? err.message : 'transport error' };
  } finally {
    if (timer) clearTimeout(timer);
  }
}

export function pushRecords(plan: PlannedPush[], results: PushResult[]): PushRecord[] {
  return plan.map((planned, i) => {
    const result = results[i]!;
    const record: PushRecord = { deviceId: planned.message.target.deviceId, kind: planned.message.kind, outcome: result.outcome, transport: result.transport };
    if (result.outcome !== 'sent') {
      record.reason = result.reason;
      if (result.status !== undefined) record.status = result.status;
    }
    return record;
  });
}

/**
 * Sends `plan` for an activity already saved at `version`. Returns what happened per push.
 */
export async function deliverPushes(deps: DeliverDeps, activity: ActivityRecord, version: number, plan: PlannedPush[]): Promise<PushRecord[]> {
  if (plan.length === 0) return [];
  const results = await Promise.all(plan.map((planned) => sendOne(deps.push, planned, deps.log)));
  results.forEach((result, i) => {
    if (result.outcome === 'sent') deps.onSent?.(plan[i]!.message);
  });
  const records = pushRecords(plan, results);
  const failed = results.some((r) => r.outcome !== 'sent');
  if (!failed) return records;

  const nowSeconds = Math.floor(deps.clock() / 1000);
  let current: ActivityRecord = activity;
  let currentVersion = version;
  for (let attempt = 0; attempt < 4; attempt++) {
    const effects = applyPushOutcomes(current, plan, results, nowSeconds);
    try {
      if (effects.changed) await deps.activities.put(effects.activity, currentVersion);
      await Promise.all(
        effects.retiredStartTokens.map((deviceId) => {
          const token = plan.find((p) => p.message.target.deviceId === deviceId)?.message.target.token;
          return token ? deps.keys.retirePushToStartToken(deviceId, token) : Promise.resolve();
        }),
      );
      return records;
    } catch (err) {
      if (!(err instanceof ConcurrentUpdateError)) throw err;
      const fresh = await deps.activities.get(activity.activityId);
      if (!fresh) return records;
      current = fresh.value;
      currentVersion = fresh.version;
    }
  }
  deps.log.error('could not record push failures after 4 attempts', { activityId: activity.activityId });
  return records;
}
