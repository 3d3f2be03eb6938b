/**
 * Push-to-start pacing per device.
 *
 * Apple gives every device a small, fixed, undocumented budget of push-to-start pushes: one
 * developer saw "Push-to-start budget exceeded … not starting activity" after about 10 starts in
 * a short window, and Apple DTS answered that the budget "is fixed", that
 * `NSSupportsLiveActivitiesFrequentUpdates` "does not make a difference", and that more than 10
 * starts need a longer time span (reference/apns-live-activities-sns.md §0, §2.3, forum thread
 * 799505). So the budget below is the same for every device, whatever `frequentPushesEnabled`
 * says: that flag raises the *update* budget only.
 *
 * The rule: at most `maxStarts` start pushes per device in any `windowSeconds` (a rolling window,
 * not calendar buckets, so a burst at a bucket boundary cannot double the rate). The default,
 * 8 per hour, stays under the ~10 people observed with room for the app's own local starts.
 *
 * How it is kept cheap: the budget lives in the key table next to the device
 * (`DEV#<id> / STARTS`) and is taken with ONE conditional UpdateItem, and only at the moment a
 * start is about to be sent, never for updates or ends. When the budget is spent the start is
 * *deferred*: the device stays "not started" with `startDeferredUntil` set, the activity's `dueAt`
 * moves to that time, and the sweeper's visit (planPushes with `flush`) plans the start again.
 * Webhooks that arrive before then do not plan it, so a streaming job with a deferred start costs
 * no extra request per webhook.
 *
 * Accounting is conservative: a start whose push then fails (429, 5xx) still used a slot. Apple's
 * own budget was not touched in that case, so the device can only be under-used, never over.
 */

export interface StartBudget {
  /** Start pushes allowed per device within the window. */
  maxStarts: number;
  /** Length of the rolling window, seconds. */
  windowSeconds: number;
}

export const DEFAULT_START_BUDGET: Readonly<StartBudget> = { maxStarts: 8, windowSeconds: 3600 };

/** Bounds for configuration: the register holds `maxStarts` timestamps on one small item. */
export const START_BUDGET_LIMITS = {
  maxStarts: { min: 1, max: 50 },
  windowMinutes: { min: 1, max: 24 * 60 },
} as const;

export type StartBudgetDecision = { granted: true } | { granted: false; retryAt: number };

/** `retryAt` (epoch s) for a full register: when the oldest start that still counts leaves the window. */
export function nextStartAt(oldestCountedStart: number, budget: StartBudget): number {
  return oldestCountedStart + budget.windowSeconds;
}

/** For the events log and the API: why a start was not sent now. */
export function deferredStartReason(budget: StartBudget, retryAt: number): string {
  const minutes = Math.round(budget.windowSeconds / 60);
  return `push-to-start budget spent (${budget.maxStarts} starts per ${minutes} min on this device); next start at ${new Date(retryAt * 1000).toISOString()}`;
}

/**
 * Reference model of the rolling budget over a list of past start times (epoch s): the adapter's
 * single UpdateItem implements exactly this, and the tests hold it to it.
 */
export function decideStart(pastStarts: readonly number[], now: number, budget: StartBudget): StartBudgetDecision {
  const cutoff = now - budget.windowSeconds;
  const counted = pastStarts.filter((t) => t > cutoff).sort((a, b) => b - a);
  if (counted.length < budget.maxStarts) return { granted: true };
  const oldestCounted = counted[budget.maxStarts - 1]!;
  return { granted: false, retryAt: nextStartAt(oldestCounted, budget) };
}
