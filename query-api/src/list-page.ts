import { Metadata } from '@grpc/grpc-js';
import { NEXT_PAGE_TOKEN } from './page-token.js';

export type PageStream<Row, Key> = {
  pageSize: number;
  /** Rows per read-model query: a long page is read in batches, never held whole. */
  batch: number;
  /** Where the previous page ended; null = the first page. */
  after: Key | null;
  /** Up to `limit` rows after the key, in the list's order. */
  fetch: (after: Key | null, limit: number) => Promise<readonly Row[]>;
  keyOf: (row: Row) => Key;
  token: (key: Key) => string;
  write: (row: Row) => Promise<void>;
  signal: AbortSignal;
};

/**
 * Streams one page of a list: batches of keyset queries, the next one read while the rows of the
 * one before are written. Each query asks for one row more than it takes, which tells whether
 * another page follows; if so, the trailing metadata returned holds its token (`x-next-page-token`).
 */
export async function streamPage<Row, Key>(p: PageStream<Row, Key>): Promise<Metadata | void> {
  let remaining = p.pageSize;
  const read = (after: Key | null) => {
    const take = Math.min(remaining, p.batch);
    const rows = p.fetch(after, take + 1);
    // A client that cancels leaves the read in flight: its failure is nobody's to handle.
    rows.catch(() => undefined);
    return { take, rows };
  };
  let next = read(p.after);
  for (;;) {
    const { take, rows } = next;
    const found = await rows;
    const page = found.length > take ? found.slice(0, take) : found;
    const last = page[page.length - 1];
    remaining -= page.length;
    const more = found.length > take && last !== undefined;
    const after = more ? p.keyOf(last) : null;
    if (more && remaining > 0) next = read(after);
    for (const row of page) await p.write(row);
    if (!more || p.signal.aborted) return;
    if (remaining === 0) {
      const trailer = new Metadata();
      trailer.set(NEXT_PAGE_TOKEN, p.token(after as Key));
      return trailer;
    }
  }
}
