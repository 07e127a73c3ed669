/**
 * One lane per provider: at most `concurrency` calls in flight and `queue` waiting. A full lane
 * refuses at once (`null`), and the caller hands the work back to JetStream for later, so a slow
 * or failing provider holds a bounded amount of work and never stalls other providers or the
 * consumer. A provider that answered 429 pauses its lane until its Retry-After: work that comes
 * meanwhile is handed back until then, without counting as an attempt.
 */
export class ProviderLanes {
  private readonly lanes = new Map<string, { running: number; waiting: Array<() => void> }>();
  private readonly paused = new Map<string, number>();

  constructor(
    private readonly concurrency: number,
    private readonly queue: number,
  ) {}

  /** The provider said 429: its lane takes no new work until `until` (a later pause extends it). Returns true if it was not paused before. */
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

  run<T>(providerId: string, fn: () => Promise<T>): Promise<T> | null {
    let lane = this.lanes.get(providerId);
    if (!lane) this.lanes.set(providerId, (lane = { running: 0, waiting: [] }));
    if (lane.running + lane.waiting.length >= this.concurrency + this.queue) return null;
    const l = lane;
    const start = (): Promise<T> => {
      l.running++;
      return fn().finally(() => {
        l.running--;
        l.waiting.shift()?.();
      });
    };
    if (l.running < this.concurrency) return start();
    return new Promise<void>((resolve) => l.waiting.push(resolve)).then(start);
  }
}
