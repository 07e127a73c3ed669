/**
 * Due times of many escalations with one armed timer: a binary min-heap of (due, key). Entries
 * are not removed when a due time changes; a popped entry whose due no longer matches the
 * current one is stale and skipped (lazy deletion keeps `set` O(log n)).
 *
 * The heap is two parallel arrays, keys and due times (the due times unboxed in an array of
 * doubles), not an object and a boxed number per entry (docs/performance.md, "Escalator memory").
 */
export class TimerQueue {
  private keys: string[] = [];
  private dues: number[] = [];
  private current = new Map<string, number>();

  set(key: string, due: number | null): void {
    if (due === null) {
      this.current.delete(key);
      return;
    }
    if (this.current.get(key) === due) return;
    this.current.set(key, due);
    this.push(due, key);
  }

  /** The earliest live due time, or null. */
  peek(): number | null {
    this.dropStale();
    return this.dues.length > 0 ? this.dues[0]! : null;
  }

  /**
   * Removes and returns the keys due at or before `now`, earliest first, at most `max` of them;
   * `dues`, when given, receives their due times in the same order.
   */
  popDue(now: number, max = Infinity, dues?: number[]): string[] {
    const keys: string[] = [];
    while (keys.length < max) {
      this.dropStale();
      if (this.dues.length === 0 || this.dues[0]! > now) return keys;
      const key = this.keys[0]!;
      const due = this.dues[0]!;
      this.pop();
      this.current.delete(key);
      keys.push(key);
      dues?.push(due);
    }
    return keys;
  }

  get size(): number {
    return this.current.size;
  }

  private dropStale(): void {
    while (this.dues.length > 0 && this.current.get(this.keys[0]!) !== this.dues[0]) this.pop();
  }

  private push(due: number, key: string): void {
    const { keys, dues } = this;
    let i = dues.length;
    keys.push(key);
    dues.push(due);
    while (i > 0) {
      const p = (i - 1) >> 1;
      if (dues[p]! <= due) break;
      keys[i] = keys[p]!;
      dues[i] = dues[p]!;
      i = p;
    }
    keys[i] = key;
    dues[i] = due;
  }

  private pop(): void {
    const { keys, dues } = this;
    const lastKey = keys.pop()!;
    const lastDue = dues.pop()!;
    const n = dues.length;
    if (n === 0) return;
    let i = 0;
    for (;;) {
      const l = 2 * i + 1;
      if (l >= n) break;
      const r = l + 1;
      const c = r < n && dues[r]! < dues[l]! ? r : l;
      if (dues[c]! >= lastDue) break;
      keys[i] = keys[c]!;
      dues[i] = dues[c]!;
      i = c;
    }
    keys[i] = lastKey;
    dues[i] = lastDue;
  }
}
