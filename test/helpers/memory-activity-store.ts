/**
 * An in-memory ActivityStore with the same conditional-write semantics as the DynamoDB adapter,
 * for property tests that run thousands of deliveries (the DynamoDB adapter itself is tested
 * against the embedded store).
 */
import type { ActivityRecord } from '../../lambda/core/activity';
import { ConcurrentUpdateError } from '../../lambda/core/errors';
import type { ActivityStore, EventEntry, Page, Versioned } from '../../lambda/core/store-ports';

export class MemoryActivityStore implements ActivityStore {
  readonly items = new Map<string, Versioned<ActivityRecord>>();
  readonly events: EventEntry[] = [];

  async get(activityId: string): Promise<Versioned<ActivityRecord> | null> {
    const item = this.items.get(activityId);
    return item ? structuredClone(item) : null;
  }

  async put(activity: ActivityRecord, expectedVersion: number | null): Promise<number> {
    const current = this.items.get(activity.activityId);
    if ((current?.version ?? null) !== expectedVersion) throw new ConcurrentUpdateError();
    const version = (expectedVersion ?? 0) + 1;
    this.items.set(activity.activityId, { value: structuredClone(activity), version });
    return version;
  }

  async appendEvent(entry: EventEntry): Promise<void> {
    this.events.push(structuredClone(entry));
  }

  async listEvents(): Promise<Page<EventEntry>> {
    return { items: [...this.events].reverse() };
  }

  async listActivities(inspectorId: string): Promise<Page<ActivityRecord>> {
    return { items: [...this.items.values()].map((i) => i.value).filter((a) => a.inspectorId === inspectorId) };
  }

  async listDue(dueBefore: number): Promise<Page<string>> {
    return { items: [...this.items.values()].filter((i) => i.value.dueAt !== undefined && i.value.dueAt <= dueBefore).map((i) => i.value.activityId) };
  }
}
