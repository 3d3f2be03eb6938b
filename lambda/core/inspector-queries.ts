/**
 * Reads behind the inspector API: the events log with filters, activities, and "last event
 * received". The store pages by sort key only (newest first); filters run over those pages
 * with a bounded budget (filtered-pages.ts), and the log never shows more than the inspector's
 * keep-last-N newest entries.
 *
 * "Last event received" is the newest log entry, read with one Limit-1 query when someone asks,
 * so the webhook path never pays an extra write for it.
 */
import type { ActivityRecord } from './activity';
import { filteredPages, type FilteredPage, type Verdict } from './filtered-pages';
import { isTerminal } from './job-state';
import type { ActivityStore, EventEntry, EventOutcome, Inspector } from './store-ports';

/** Store page size for filtered scans; fixed so cursors can resume inside a page. */
const EVENT_PAGE = 100;
const EVENT_MAX_PAGES = 5;
const ACTIVITY_PAGE = 25;
const ACTIVITY_MAX_PAGES = 4;

export interface EventFilters {
  statuses?: readonly string[];
  outcomes?: readonly EventOutcome[];
  /** Epoch ms, inclusive. */
  since?: number;
  /** Epoch ms, exclusive. */
  until?: number;
  activityId?: string;
  jobId?: string;
}

export function eventVerdict(entry: EventEntry, filters: EventFilters): Verdict {
  // Newest first: once past `since`, nothing older can match.
  if (filters.since !== undefined && entry.at < filters.since) return 'stop';
  if (filters.until !== undefined && entry.at >= filters.until) return 'skip';
  if (filters.statuses && (entry.status === undefined || !filters.statuses.includes(entry.status))) return 'skip';
  if (filters.outcomes && !filters.outcomes.includes(entry.outcome)) return 'skip';
  if (filters.activityId !== undefined && entry.activityId !== filters.activityId) return 'skip';
  if (filters.jobId !== undefined && entry.jobId !== filters.jobId) return 'skip';
  return 'take';
}

export function listEvents(
  store: ActivityStore,
  inspector: Pick<Inspector, 'id' | 'keepLast'>,
  query: EventFilters & { limit: number; cursor?: string },
): Promise<FilteredPage<EventEntry>> {
  return filteredPages({
    fetch: (page) => store.listEvents(inspector.id, page),
    accept: (entry) => eventVerdict(entry, query),
    limit: query.limit,
    ...(query.cursor === undefined ? {} : { cursor: query.cursor }),
    pageSize: EVENT_PAGE,
    maxPages: EVENT_MAX_PAGES,
    maxPosition: inspector.keepLast,
  });
}

export async function lastEvent(store: ActivityStore, inspectorId: string): Promise<EventEntry | undefined> {
  const page = await store.listEvents(inspectorId, { limit: 1 });
  return page.items[0];
}

export type ActivityState = 'active' | 'ended' | 'all';

export function listActivities(
  store: ActivityStore,
  inspectorId: string,
  query: { state: ActivityState; limit: number; cursor?: string },
): Promise<FilteredPage<ActivityRecord>> {
  return filteredPages({
    fetch: (page) => store.listActivities(inspectorId, page),
    accept: (activity) => {
      if (query.state === 'all') return 'take';
      return isTerminal(activity.job.status) === (query.state === 'ended') ? 'take' : 'skip';
    },
    limit: query.limit,
    ...(query.cursor === undefined ? {} : { cursor: query.cursor }),
    pageSize: ACTIVITY_PAGE,
    maxPages: ACTIVITY_MAX_PAGES,
  });
}

/** One card's timeline (webhook → state change → push outcome), oldest first, from the newest `keepLast` log entries. */
export async function activityTimeline(store: ActivityStore, inspector: Pick<Inspector, 'id' | 'keepLast'>, activityId: string, limit = 200): Promise<EventEntry[]> {
  const page = await listEvents(store, inspector, { activityId, limit });
  return page.items.reverse();
}
