/**
 * Filtering over a store that can only page by sort key (the events log, the activities index).
 *
 * Filters run here, page by page, with a bounded amount of work per request: at most `maxPages`
 * store pages are read, and the returned cursor says exactly where to resume (the store page and
 * how many of its items were already looked at), so a client that keeps following cursors sees
 * every matching item once, and a request never scans without bound.
 *
 * Pages must be requested with a fixed size for "resume inside a page" to be exact; items only
 * ever arrive at the head (newest first), so a resumed older page is the same page.
 */
import { ValidationError } from './errors';
import type { Page } from './store-ports';

/** What to do with one item: keep it, pass over it, or end the listing here (nothing older matters). */
export type Verdict = 'take' | 'skip' | 'stop';

export interface FilteredPagesOptions<T> {
  fetch: (options: { limit: number; cursor?: string }) => Promise<Page<T>>;
  /** `position` is the item's 0-based rank in the unfiltered listing. */
  accept: (item: T, position: number) => Verdict;
  /** Most items to return. */
  limit: number;
  /** A cursor this function returned earlier. */
  cursor?: string;
  pageSize: number;
  maxPages: number;
  /** The listing ends after this many items, matching or not (an inspector's keep-last-N). */
  maxPosition?: number;
}

export interface FilteredPage<T> {
  items: T[];
  /** Present while there is more to look at (even when `items` came back short). */
  cursor?: string;
  /** Unfiltered items looked at by this request. */
  scanned: number;
}

interface Position {
  /** The store's cursor of the page to read (absent: the first page). */
  c?: string;
  /** Items of that page already looked at. */
  s: number;
  /** Rank of the next item in the unfiltered listing. */
  n: number;
}

function encode(position: Position): string {
  return Buffer.from(JSON.stringify(position)).toString('base64url');
}

function decode(cursor: string | undefined): Position {
  if (cursor === undefined) return { s: 0, n: 0 };
  try {
    const value: unknown = JSON.parse(Buffer.from(cursor, 'base64url').toString('utf8'));
    if (typeof value === 'object' && value !== null) {
      const { c, s, n } = value as Record<string, unknown>;
      const count = (x: unknown): x is number => typeof x === 'number' && Number.isInteger(x) && x >= 0;
      if ((c === undefined || typeof c === 'string') && count(s) && count(n)) return c === undefined ? { s, n } : { c, s, n };
    }
  } catch {
    // fall through
  }
  throw new ValidationError('cursor: not a cursor this API returned', 'cursor');
}

export async function filteredPages<T>(options: FilteredPagesOptions<T>): Promise<FilteredPage<T>> {
  const items: T[] = [];
  let { c, s, n } = decode(options.cursor);
  let scanned = 0;
  for (let pages = 0; pages < options.maxPages; pages++) {
    const page = await options.fetch(c === undefined ? { limit: options.pageSize } : { limit: options.pageSize, cursor: c });
    for (let i = s; i < page.items.length; i++) {
      if (options.maxPosition !== undefined && n >= options.maxPosition) return { items, scanned };
      const verdict = options.accept(page.items[i]!, n);
      n += 1;
      scanned += 1;
      if (verdict === 'stop') return { items, scanned };
      if (verdict === 'take') items.push(page.items[i]!);
      if (items.length >= options.limit) {
        if (options.maxPosition !== undefined && n >= options.maxPosition) return { items, scanned };
        const more = i + 1 < page.items.length ? encode({ ...(c === undefined ? {} : { c }), s: i + 1, n }) : page.cursor ? encode({ c: page.cursor, s: 0, n }) : undefined;
        return more === undefined ? { items, scanned } : { items, cursor: more, scanned };
      }
    }
    if (!page.cursor) return { items, scanned };
    c = page.cursor;
    s = 0;
  }
  // Out of budget for this request: hand back where to go on.
  return { items, cursor: encode({ ...(c === undefined ? {} : { c }), s, n }), scanned };
}
