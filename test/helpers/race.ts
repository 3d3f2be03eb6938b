/**
 * Making races happen on purpose: a barrier that holds callers until all have arrived, and an
 * activity store whose writes wait at one, so that two deliveries both read before either
 * writes and the conditional write has to pick a winner.
 */
import type { ActivityStore } from '../../lambda/core/store-ports';

/** Opens once `parties` callers are waiting, then stays open. */
export function barrier(parties: number): () => Promise<void> {
  let waiting = 0;
  let open!: () => void;
  const opened = new Promise<void>((resolve) => {
    open = resolve;
  });
  return () => {
    waiting += 1;
    if (waiting >= parties) open();
    return opened;
  };
}

/** `inner`, with every `put` waiting at `gate` first. */
export function gatedStore(inner: ActivityStore, gate: () => Promise<void>): ActivityStore {
  return {
    get: (id) => inner.get(id),
    put: async (activity, expectedVersion) => {
      await gate();
      return inner.put(activity, expectedVersion);
    },
    appendEvent: (entry, days) => inner.appendEvent(entry, days),
    listEvents: (id, options) => inner.listEvents(id, options),
    listActivities: (id, options) => inner.listActivities(id, options),
    listDue: (before, options) => inner.listDue(before, options),
  };
}
