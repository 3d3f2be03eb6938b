/**
 * Sends a saved push plan and folds the transports' answers back into the activity. Used by the
 * webhook ingest, the activity-token route and the sweeper, so all three behave the same.
 *
 * Order matters: the activity (with the pushes' bookkeeping) is written *before* anything is
 * sent, so two racing deliveries can never both send an `end`; a push that must be retried is
 * then un-marked with a second write, which only happens on the failure path.
 *
 * Push-to-start pacing: right before a `start` goes out, one start is taken from the device's
 * rolling budget (one conditional write, start-pacing.ts). When none is left the start is not
 * sent: it comes back as "retry later" at the time the budget allows, and `applyPushOutcomes`
 * defers it (the second write of the failure path). Updates and ends never touch the budget.
 *
 * Token lifecycle: a token the transport retired, and an ended device's update token once its
 * grace period passed (`releases`, from planPushes), are released at the transport (SNS deletes
 * the endpoint). Releasing is housekeeping: a failure is logged, never thrown.
 */
import { applyPushOutcomes, type PlannedPush } from './push-policy';
import type { ActivityRecord } from './activity';
import type { Log } from './log';
import type { PushResult, PushSender, PushTarget } from './push-port';
import type { ActivityStore, KeyStore, PushRecord } from './store-ports';
import { ConcurrentUpdateError } from './errors';
import { DEFAULT_START_BUDGET, deferredStartReason, type StartBudget } from './start-pacing';
import { releaseTokens } from './token-lifecycle';

export interface DeliverDeps {
  activities: ActivityStore;
  keys: KeyStore;
  push: PushSender;
  log: Log;
  /** Epoch ms. */
  clock: () => number;
  /** Called after each successful push (local mode's simulated phone reacts to starts). */
  onSent?: (message: PlannedPush['message']) => void;
  /** Push-to-start budget per device; default 8 per hour (start-pacing.ts). */
  startBudget?: StartBudget;
  /** Cached device lookups to drop when a push-to-start token is retired (the webhook's resolver). */
  resolver?: { invalidate(): void };
}

/**
 * How long one push may take before it counts as "retry later". Well inside the webhook
 * function's 10 s limit, so the answer is recorded (and the sweeper retries it) instead of the
 * function dying mid-delivery; Replicate wants an answer within seconds anyway.
 */
export const PUSH_TIMEOUT_MS = 5_000;

/**
 * Takes one start from the device's budget. Null when the start may go; otherwise the answer
 * that defers it. Fails open: when the budget cannot be read or written (store throttled, a
 * missing permission), the start goes out and a warning is logged. Our pacing only avoids
 * Apple's silent refusal of a start; holding every card back because of a store hiccup would
 * be worse than the refusal it avoids.
 */
async function takeStartBudget(deps: DeliverDeps, planned: PlannedPush): Promise<PushResult | null> {
  const budget = deps.startBudget ?? DEFAULT_START_BUDGET;
  const now = Math.floor(deps.clock() / 1000);
  const { deviceId } = planned.message.target;
  try {
    const decision = await deps.keys.consumePushToStartBudget(deviceId, now, budget);
    if (decision.granted) return null;
    deps.log.info('push-to-start deferred: budget spent', { activityId: planned.message.activityId, deviceId, retryAt: decision.retryAt });
    return {
      outcome: 'retry-later',
      transport: deps.push.transport,
      reason: deferredStartReason(budget, decision.retryAt),
      retryAfterSeconds: Math.max(1, decision.retryAt - now),
    };
  } catch (err) {
    deps.log.warn('push-to-start budget unavailable; start sent unpaced', { activityId: planned.message.activityId, deviceId, error: err instanceof Error ? err.message : String(err) });
    return null;
  }
}

async function sendOne(deps: DeliverDeps, planned: PlannedPush): Promise<PushResult> {
  const { push, log } = deps;
  if (planned.message.kind === 'start') {
    const deferred = await takeStartBudget(deps, planned);
    if (deferred) return deferred;
  }
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
 * Sends `plan` for an activity already saved at `version`, then releases the tokens in
 * `releases` (planPushes' `releases`) and any the transports retired. Returns what happened per push.
 */
export async function deliverPushes(
  deps: DeliverDeps,
  activity: ActivityRecord,
  version: number,
  plan: PlannedPush[],
  releases: readonly PushTarget[] = [],
): Promise<PushRecord[]> {
  if (plan.length === 0) {
    await releaseTokens(deps, releases);
    return [];
  }
  const results = await Promise.all(plan.map((planned) => sendOne(deps, planned)));
  results.forEach((result, i) => {
    if (result.outcome === 'sent') deps.onSent?.(plan[i]!.message);
  });
  const retired = plan.filter((_, i) => results[i]!.outcome === 'retire-token').map((planned) => planned.message.target);
  await releaseTokens(deps, [...releases, ...retired]);
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
      // This container's cached device list still holds the dead token: drop it.
      if (effects.retiredStartTokens.length > 0) deps.resolver?.invalidate();
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
