/**
 * Due times of many escalations with one armed timer: a binary min-heap of (due, key). Entries
 * are not removed when a due time changes; a popped entry whose due no longer matches the
 * current one is stale and skipped (lazy deletion keeps `set` O(log n)).
 */
export class TimerQueue {
  private heap: Array<{ due: number; key: string }> = [];
  private current = new Map<string, number>();

  set(key: string, due: number | null): void {
    if (due === null) {
      this.current.delete(key);
      return;
    }
    if (this.current.get(key) === due) return;
    this.current.set(key, due);
    this.push({ due, key });
  }

  /** The earliest live due time, or null. */
  peek(): number | null {
    this.dropStale();
    return this.heap[0]?.due ?? null;
  }

  /**
   * Removes and returns the keys due at or before `now`, earliest first, at most `max` of them;
   * `dues`, when given, receives their due times in the same order.
   */
  popDue(now: number, max = Infinity, dues?: number[]): string[] {
    const keys: string[] = [];
    while (keys.length < max) {
      this.dropStale();
      const top = this.heap[0];
      if (!top || top.due > now) return keys;
      this.pop();
      this.current.delete(top.key);
      keys.push(top.key);
      dues?.push(top.due);
    }
    return keys;
  }

  get size(): number {
    return this.current.size;
  }

  private dropStale(): void {
    while (this.heap.length > 0 && this.current.get(this.heap[0]!.key) !== this.heap[0]!.due) this.pop();
  }

  private push(e: { due: number; key: string }): void {
    const h = this.heap;
    h.push(e);
    let i = h.length - 1;
    while (i > 0) {
      const p = (i - 1) >> 1;
      if (h[p]!.due <= e.due) break;
      h[i] = h[p]!;
      i = p;
    }
    h[i] = e;
  }

  private pop(): void {
    const h = this.heap;
    const last = h.pop()!;
    if (h.length === 0) return;
    let i = 0;
    for (;;) {
      const l = 2 * i + 1;
      if (l >= h.length) break;
      const r = l + 1;
      const c = r < h.length && h[r]!.due < h[l]!.due ? r : l;
      if (h[c]!.due >= last.due) break;
      h[i] = h[c]!;
      i = c;
    }
    h[i] = last;
  }
}
