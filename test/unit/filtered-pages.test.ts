/**
 * Filtering over sort-key pages (lambda/core/filtered-pages.ts): following the cursors returns
 * exactly the matching items, in order, once each, whatever the page size, the limit, the
 * per-request budget or the keep-last-N cap; and no request reads more than its budget.
 */
import fc from 'fast-check';
import { filteredPages } from '../../lambda/core/filtered-pages';
import type { Page } from '../../lambda/core/store-ports';

/** A store that pages an array the way DynamoDB does: an opaque cursor after the last item read. */
function pagedStore(items: readonly number[]) {
  const reads: number[] = [];
  const fetch = async ({ limit, cursor }: { limit: number; cursor?: string }): Promise<Page<number>> => {
    const start = cursor === undefined ? 0 : Number(cursor);
    const slice = items.slice(start, start + limit);
    reads.push(slice.length);
    const end = start + slice.length;
    return end < items.length ? { items: slice, cursor: String(end) } : { items: slice };
  };
  return { fetch, reads };
}

async function followAll(items: readonly number[], options: { limit: number; pageSize: number; maxPages: number; maxPosition?: number; keep: (n: number) => boolean }) {
  const store = pagedStore(items);
  const seen: number[] = [];
  let cursor: string | undefined;
  let requests = 0;
  do {
    const page = await filteredPages({ fetch: store.fetch, accept: (n) => (options.keep(n) ? 'take' : 'skip'), limit: options.limit, pageSize: options.pageSize, maxPages: options.maxPages, ...(options.maxPosition === undefined ? {} : { maxPosition: options.maxPosition }), ...(cursor ? { cursor } : {}) });
    expect(page.items.length).toBeLessThanOrEqual(options.limit);
    expect(page.scanned).toBeLessThanOrEqual(options.pageSize * options.maxPages);
    seen.push(...page.items);
    cursor = page.cursor;
    requests += 1;
  } while (cursor && requests < 10_000);
  return { seen, store };
}

describe('filteredPages', () => {
  it('returns every matching item once, in order, across cursors', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.array(fc.integer({ min: 0, max: 99 }), { maxLength: 120 }),
        fc.integer({ min: 1, max: 9 }),
        fc.integer({ min: 1, max: 12 }),
        fc.integer({ min: 1, max: 3 }),
        fc.option(fc.integer({ min: 0, max: 130 }), { nil: undefined }),
        fc.integer({ min: 1, max: 5 }),
        async (items, limit, pageSize, maxPages, maxPosition, modulus) => {
          // prepare
          const keep = (n: number) => n % modulus === 0;

          // act
          const { seen } = await followAll(items, { limit, pageSize, maxPages, keep, ...(maxPosition === undefined ? {} : { maxPosition }) });

          // assert
          const visible = maxPosition === undefined ? items : items.slice(0, maxPosition);
          expect(seen).toEqual(visible.filter(keep));
        },
      ),
      { numRuns: 300 },
    );
  });

  it('ends the listing at the first "stop"', async () => {
    // prepare
    const store = pagedStore([9, 8, 7, 6, 5, 4, 3]);

    // act
    const page = await filteredPages({ fetch: store.fetch, accept: (n) => (n < 6 ? 'stop' : n % 2 === 1 ? 'take' : 'skip'), limit: 10, pageSize: 2, maxPages: 10 });

    // assert
    expect(page).toEqual({ items: [9, 7], scanned: 5 });
  });

  it('hands back a cursor when the budget runs out before the limit is reached', async () => {
    // prepare
    const store = pagedStore(Array.from({ length: 50 }, (_, i) => i));

    // act
    const page = await filteredPages({ fetch: store.fetch, accept: (n) => (n >= 45 ? 'take' : 'skip'), limit: 5, pageSize: 10, maxPages: 2 });

    // assert
    expect(page.items).toEqual([]);
    expect(page.scanned).toBe(20);
    expect(page.cursor).toEqual(expect.any(String));
    expect(store.reads).toEqual([10, 10]);
  });

  it('refuses a cursor it did not make, naming the field', async () => {
    // act
    const attempt = filteredPages({ fetch: pagedStore([]).fetch, accept: () => 'take', limit: 1, pageSize: 1, maxPages: 1, cursor: 'bm90LWpzb24' });

    // assert
    await expect(attempt).rejects.toMatchObject({ code: 'validation_failed', details: { field: 'cursor' } });
  });
});
