/**
 * A per-container cache in front of the activity store, so a warm container applies a job's
 * next webhook without reading the item first (ARCHITECTURE §3 goal: 0 reads per webhook).
 *
 * It is safe because every activity write is conditional on the version read: when another
 * container (or the sweeper, or the token route) changed the item since we cached it, our write
 * fails, the entry is dropped, and the core re-reads from the table and tries again. A cached
 * copy can only be *behind* the table, never ahead, and the state machine only moves forward,
 * so a snapshot that is stale against the cache is stale against the table too.
 */
import type { ActivityRecord } from '../../core/activity';
import type { ActivityStore, EventEntry, Page, Versioned } from '../../core/store-ports';

interface Entry {
  value: Versioned<ActivityRecord>;
  expiresAt: number;
}

export class CachedActivityStore implements ActivityStore {
  private readonly entries = new Map<string, Entry>();

  constructor(
    private readonly inner: ActivityStore,
    /** Epoch ms. */
    private readonly nowMs: () => number,
    private readonly ttlMs = 5 * 60_000,
    private readonly maxEntries = 1000,
  ) {}

  async get(activityId: string): Promise<Versioned<ActivityRecord> | null> {
    const entry = this.entries.get(activityId);
    if (entry && entry.expiresAt > this.nowMs()) return structuredClone(entry.value);
    this.entries.delete(activityId);
    const fresh = await this.inner.get(activityId);
    if (fresh) this.remember(activityId, fresh);
    return fresh;
  }

  async put(activity: ActivityRecord, expectedVersion: number | null): Promise<number> {
    try {
      const version = await this.inner.put(activity, expectedVersion);
      this.remember(activity.activityId, { value: structuredClone(activity), version });
      return version;
    } catch (err) {
      // Lost a race (ConcurrentUpdateError) or failed: the next read must come from the table.
      this.entries.delete(activity.activityId);
      throw err;
    }
  }

  appendEvent(entry: EventEntry, retentionDays: number): Promise<void> {
    return this.inner.appendEvent(entry, retentionDays);
  }

  listEvents(inspectorId: string, options: { limit: number; cursor?: string }): Promise<Page<EventEntry>> {
    return this.inner.listEvents(inspectorId, options);
  }

  listActivities(inspectorId: string, options: { limit: number; cursor?: string }): Promise<Page<ActivityRecord>> {
    return this.inner.listActivities(inspectorId, options);
  }

  listDue(dueBefore: number, options: { limit: number; cursor?: string }): Promise<Page<string>> {
    return this.inner.listDue(dueBefore, options);
  }

  private remember(activityId: string, value: Versioned<ActivityRecord>): void {
    if (this.entries.size >= this.maxEntries) {
      const oldest = this.entries.keys().next().value;
      if (oldest !== undefined) this.entries.delete(oldest);
    }
    this.entries.delete(activityId);
    this.entries.set(activityId, { value: structuredClone(value), expiresAt: this.nowMs() + this.ttlMs });
  }
}
