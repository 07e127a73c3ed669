/**
 * Adaptive batching over an async iterable: yields everything that arrived while the previous
 * batch was being handled (at least one item, at most `max`), so quiet periods get small,
 * fast batches and storms get large ones. Reading pauses while `2 × max` items wait.
 * (Iterators' own "pending" counters include the item in hand, so they cannot tell this.)
 */
export async function* batches<T>(source: AsyncIterable<T>, max: number): AsyncGenerator<T[]> {
  const queue: T[] = [];
  let done = false;
  let failure: unknown;
  let wakeWriter: (() => void) | undefined;
  let wakeReader: (() => void) | undefined;
  const reader = (async () => {
    try {
      for await (const item of source) {
        queue.push(item);
        wakeWriter?.();
        if (queue.length >= 2 * max) await new Promise<void>((resolve) => (wakeReader = resolve));
      }
    } catch (err) {
      failure = err;
    } finally {
      done = true;
      wakeWriter?.();
    }
  })();
  try {
    for (;;) {
      if (queue.length === 0) {
        if (done) break;
        await new Promise<void>((resolve) => (wakeWriter = resolve));
        wakeWriter = undefined;
        continue;
      }
      const batch = queue.splice(0, max);
      wakeReader?.();
      wakeReader = undefined;
      yield batch;
    }
    if (failure !== undefined) throw failure instanceof Error ? failure : new Error('batch source failed', { cause: failure });
  } finally {
    // The caller closes the source when it stops early; the reader then ends by itself.
    wakeReader?.();
    void reader;
  }
}
