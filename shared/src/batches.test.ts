import { describe, expect, it } from 'vitest';
import { batches } from './batches.js';

/** An async source whose items are released by hand. */
function source<T>() {
  const items: T[] = [];
  let wake: (() => void) | undefined;
  let ended = false;
  const iterable: AsyncIterable<T> = {
    async *[Symbol.asyncIterator]() {
      for (;;) {
        while (items.length) yield items.shift()!;
        if (ended) return;
        await new Promise<void>((r) => (wake = r));
      }
    },
  };
  return {
    iterable,
    push: (...xs: T[]) => {
      items.push(...xs);
      wake?.();
    },
    end: () => {
      ended = true;
      wake?.();
    },
  };
}

describe('batches', () => {
  it('yields what arrived while the previous batch was handled, at most max, and ends with the source', async () => {
    const s = source<number>();
    const seen: number[][] = [];
    s.push(1);
    const consumer = (async () => {
      for await (const b of batches(s.iterable, 3)) {
        seen.push(b);
        if (seen.length === 1) s.push(2, 3, 4, 5);
        if (seen.length === 3) s.end();
        // Handling a batch takes I/O (a database commit): the reader moves on meanwhile.
        await new Promise((r) => setImmediate(r));
      }
    })();
    await consumer;
    expect(seen).toEqual([[1], [2, 3, 4], [5]]);
  });

  it('hands over a single item without waiting for more', async () => {
    const s = source<string>();
    s.push('only');
    const it = batches(s.iterable, 100)[Symbol.asyncIterator]();
    expect((await it.next()).value).toEqual(['only']);
    s.end();
    expect((await it.next()).done).toBe(true);
  });

  it('passes the source failure on', async () => {
    const failing: AsyncIterable<number> = {
      async *[Symbol.asyncIterator]() {
        yield 1;
        throw new Error('boom');
      },
    };
    const out: number[][] = [];
    await expect(
      (async () => {
        for await (const b of batches(failing, 10)) out.push(b);
      })(),
    ).rejects.toThrow('boom');
    expect(out.flat()).toEqual([1]);
  });
});
