import { describe, expect, it } from 'vitest';
import { streamPage } from './list-page.js';
import { NEXT_PAGE_TOKEN } from './page-token.js';

/** A list of the numbers 1..n in descending order, paged by streamPage; the queries it made are recorded. */
async function page(n: number, pageSize: number, batch: number, after: number | null = null) {
  const rows = Array.from({ length: n }, (_, i) => n - i);
  const queries: Array<[number | null, number]> = [];
  const written: number[] = [];
  const trailer = await streamPage<number, number>({
    pageSize,
    batch,
    after,
    fetch: async (from, limit) => {
      queries.push([from, limit]);
      return rows.filter((r) => from === null || r < from).slice(0, limit);
    },
    keyOf: (r) => r,
    token: (key) => `after-${key}`,
    write: async (r) => void written.push(r),
    signal: new AbortController().signal,
  });
  return { written, queries, token: trailer ? trailer.get(NEXT_PAGE_TOKEN) : [] };
}

describe('streamPage', () => {
  it.each<[string, number, number, number, number[], string[], Array<[number | null, number]>]>([
    ['a page that ends the list', 3, 5, 10, [3, 2, 1], [], [[null, 6]]],
    ['a page exactly as long as the list', 3, 3, 10, [3, 2, 1], [], [[null, 4]]],
    ['a page with more after it', 5, 2, 10, [5, 4], ['after-4'], [[null, 3]]],
    [
      'a page read in batches',
      10,
      7,
      3,
      [10, 9, 8, 7, 6, 5, 4],
      ['after-4'],
      [
        [null, 4],
        [8, 4],
        [5, 2],
      ],
    ],
    [
      'batches that end the list',
      5,
      100,
      2,
      [5, 4, 3, 2, 1],
      [],
      [
        [null, 3],
        [4, 3],
        [2, 3],
      ],
    ],
    ['an empty list', 0, 10, 10, [], [], [[null, 11]]],
  ])('%s', async (_, n, pageSize, batch, written, token, queries) => {
    expect(await page(n, pageSize, batch)).toStrictEqual({ written, token, queries });
  });

  it('the next page starts after the key', async () => {
    expect((await page(5, 2, 10, 4)).written).toStrictEqual([3, 2]);
  });
});
