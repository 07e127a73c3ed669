/**
 * How much work one consumer may leave waiting in the lanes, in hand (its message kept alive with
 * working() by the consumer loop): at most `perProvider` for one provider and `total` in all.
 * `total` stays below the consumer loop's concurrency, so work waiting for paused or full
 * providers never takes every slot of the loop: another provider's messages are still pulled and
 * run. Work beyond either bound is refused (`run` answers null) and handed back to JetStream.
 */
export class Holding {
  private readonly byProvider = new Map<string, number>();
  private all = 0;

  constructor(
    readonly perProvider: number,
    readonly total: number,
    /** Told the provider's count after each change (a metric). */
    private readonly changed: (providerId: string, held: number) => void = () => undefined,
  ) {}

  take(providerId: string): boolean {
    const held = this.byProvider.get(providerId) ?? 0;
    if (held >= this.perProvider || this.all >= this.total) return false;
    this.byProvider.set(providerId, held + 1);
    this.all++;
    this.changed(providerId, held + 1);
    return true;
  }

  give(providerId: string): void {
    const held = (this.byProvider.get(providerId) ?? 1) - 1;
    this.byProvider.set(providerId, held);
    this.all--;
    this.changed(providerId, held);
  }

  held(providerId?: string): number {
    return providerId === undefined ? this.all : (this.byProvider.get(providerId) ?? 0);
  }
}

type Waiting = { start: () => void; release: () => void };
type Lane = { running: number; waiting: Waiting[]; wake: NodeJS.Timeout | undefined };

/**
 * One lane per provider: at most `concurrency` calls in flight; more work waits in the lane, in
 * arrival order, within its consumer's Holding. A provider that answered 429 pauses its lane until
 * its Retry-After: waiting work starts when the pause ends, not before (it is neither handed back
 * nor counted as an attempt). Held work replaces the former hand-back to JetStream with nak(1–2 s)
 * of every request that found the lane full or paused, which made a queue of 2,000 requests circle
 * through nats-server up to ~100 times each (docs/performance.md, bench:tickets). Each provider has
 * its own lane: a slow, failing or paused provider never stalls another one.
 */
export class ProviderLanes {
  private readonly lanes = new Map<string, Lane>();
  private readonly paused = new Map<string, number>();
  private closed = false;

  constructor(
    private readonly concurrency: number,
    private readonly now: () => number = Date.now,
  ) {}

  /** The provider said 429: its lane starts no work until `until` (a later pause extends it). Returns true if it was not paused before. */
  pause(providerId: string, until: number, now: number): boolean {
    const was = this.pausedUntil(providerId, now);
    if (until > (was ?? 0)) this.paused.set(providerId, until);
    return was === null;
  }

  /** When the provider's pause ends, or null when it is not paused at `now`. */
  pausedUntil(providerId: string, now: number): number | null {
    const until = this.paused.get(providerId);
    if (until === undefined) return null;
    if (until > now) return until;
    this.paused.delete(providerId);
    return null;
  }

  /**
   * Runs `fn` in the provider's lane: at once when a call slot is free and the lane is not paused,
   * else once it is its turn, if `holding` takes it; null when it does not (the caller hands the
   * work back). Work still waiting when the lanes close (the bridge stops), or coming after, settles
   * with `handBack()` instead of running.
   */
  run<T>(providerId: string, holding: Holding, fn: () => Promise<T>, handBack: () => T): Promise<T> | null {
    if (this.closed) return Promise.resolve(handBack());
    let lane = this.lanes.get(providerId);
    if (!lane) this.lanes.set(providerId, (lane = { running: 0, waiting: [], wake: undefined }));
    const l = lane;
    const start = (): Promise<T> => {
      l.running++;
      return fn().finally(() => {
        l.running--;
        this.pump(providerId, l);
      });
    };
    if (l.running < this.concurrency && l.waiting.length === 0 && this.pausedUntil(providerId, this.now()) === null) return start();
    if (!holding.take(providerId)) return null;
    return new Promise<T>((resolve, reject) => {
      l.waiting.push({
        start: () => {
          holding.give(providerId);
          start().then(resolve, reject);
        },
        release: () => {
          holding.give(providerId);
          resolve(handBack());
        },
      });
      this.pump(providerId, l);
    });
  }

  /** Runs no more work and hands back everything waiting (the bridge stops: its consumer loops wait for what they hold). */
  close(): void {
    this.closed = true;
    for (const lane of this.lanes.values()) {
      clearTimeout(lane.wake);
      for (const w of lane.waiting.splice(0)) w.release();
    }
  }

  private pump(providerId: string, lane: Lane): void {
    if (this.closed || lane.waiting.length === 0) return;
    const now = this.now();
    const until = this.pausedUntil(providerId, now);
    if (until !== null) {
      if (lane.wake === undefined)
        lane.wake = setTimeout(() => {
          lane.wake = undefined;
          this.pump(providerId, lane);
        }, until - now);
      return;
    }
    while (lane.running < this.concurrency && lane.waiting.length > 0) lane.waiting.shift()!.start();
  }
}
