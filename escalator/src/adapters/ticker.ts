import type { Clock } from '@oncall/shared';
import { fireLag } from './metrics.js';
import { TimerQueue } from './timers.js';

/** Ticks handed out per turn of the event loop, so stored decisions are acked in between. */
const TICKS_PER_TURN = 64;

/**
 * The durable timers of one partition, driven: the due time of every escalation waiting for one
 * sits in a min-heap, and one clock timer is armed for the earliest. When it fires, the due
 * escalations are handed to `tick` a slice per turn of the event loop; while `busy()` (too many
 * appends in flight: a backlog of due timers after a restart must not flood the server) it
 * pauses until `resume()`.
 */
export class Ticker {
  private readonly queue = new TimerQueue();
  private cancel: (() => void) | null = null;
  private armedAt: number | null = null;
  private firing = false;
  private paused = false;
  private held = false;
  private stopped = false;

  constructor(
    private readonly clock: Clock,
    private readonly tick: (alertId: string) => void,
    private readonly busy: () => boolean,
  ) {}

  /** Sets (or with null clears) when `alertId` is due; `arm()` afterwards. */
  set(alertId: string, due: number | null): void {
    this.queue.set(alertId, due);
  }

  get size(): number {
    return this.queue.size;
  }

  /** Waiting for `resume()` after pausing while busy. */
  get isPaused(): boolean {
    return this.paused;
  }

  /** Arms the clock for the earliest due time (a no-op while due ticks are being handed out, or held). */
  arm(): void {
    if (this.firing || this.stopped || this.held) return;
    const next = this.queue.peek();
    if (next === this.armedAt) return;
    this.disarm();
    this.armedAt = next;
    if (next === null) return;
    this.cancel = this.clock.at(next, () => {
      this.cancel = null;
      this.armedAt = null;
      if (this.stopped) return;
      this.firing = true;
      this.fireDue();
    });
  }

  resume(): void {
    if (!this.paused || this.stopped || this.held) return;
    this.paused = false;
    this.fireDue();
  }

  /** No tick is handed out until `release()` (due ones wait; nothing is lost). */
  hold(): void {
    this.held = true;
    this.disarm();
  }

  release(): void {
    if (!this.held) return;
    this.held = false;
    if (this.firing) this.fireDue();
    else if (this.paused) this.resume();
    else this.arm();
  }

  /** No more ticks. */
  stop(): void {
    this.stopped = true;
    this.disarm();
  }

  private disarm(): void {
    this.cancel?.();
    this.cancel = null;
    this.armedAt = null;
  }

  private fireDue(): void {
    if (this.stopped || this.held) return;
    if (this.busy()) {
      this.paused = true;
      return;
    }
    const now = this.clock.now();
    const dues: number[] = [];
    const ids = this.queue.popDue(now, TICKS_PER_TURN, dues);
    for (const due of dues) fireLag.observe((now - due) / 1000);
    for (const alertId of ids) this.tick(alertId);
    if (ids.length === TICKS_PER_TURN) {
      setImmediate(() => this.fireDue());
      return;
    }
    this.firing = false;
    this.arm();
  }
}
