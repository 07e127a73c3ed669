/**
 * Time for services that keep timers. The system clock in production; a manual clock in tests,
 * so a smoke test can seed config, post an alert and fast-forward through escalation delays.
 */
export interface Clock {
  now(): number;
  /** Calls `fn` once at `time` (epoch ms) or soon after; returns a cancel function. */
  at(time: number, fn: () => void): () => void;
}

/** setTimeout accepts at most 2^31-1 ms; longer waits are re-armed. */
const MAX_TIMEOUT_MS = 2 ** 31 - 1;

export const systemClock: Clock = {
  now: () => Date.now(),
  at(time, fn) {
    let handle: NodeJS.Timeout;
    const arm = () => {
      const wait = time - Date.now();
      handle = wait > MAX_TIMEOUT_MS ? setTimeout(arm, MAX_TIMEOUT_MS) : setTimeout(fn, Math.max(0, wait));
    };
    arm();
    return () => clearTimeout(handle);
  },
};

/** A clock that moves only when told to; timers due by then fire in time order. */
export class ManualClock implements Clock {
  private timers: Array<{ time: number; fn: () => void; id: number }> = [];
  private nextId = 0;

  constructor(private current: number) {}

  now(): number {
    return this.current;
  }

  at(time: number, fn: () => void): () => void {
    const id = this.nextId++;
    this.timers.push({ time, fn, id });
    if (time <= this.current) queueMicrotask(() => this.fire());
    return () => {
      this.timers = this.timers.filter((t) => t.id !== id);
    };
  }

  /** Moves time forward by `ms` and fires every timer due by then. */
  advance(ms: number): void {
    this.current += ms;
    this.fire();
  }

  set(time: number): void {
    this.current = Math.max(this.current, time);
    this.fire();
  }

  private fire(): void {
    const due = this.timers.filter((t) => t.time <= this.current).sort((a, b) => a.time - b.time);
    this.timers = this.timers.filter((t) => t.time > this.current);
    for (const t of due) t.fn();
  }
}
