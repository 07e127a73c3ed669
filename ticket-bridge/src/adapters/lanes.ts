/**
 * One lane per provider: at most `concurrency` calls in flight and `queue` waiting. A full lane
 * refuses at once (`null`), and the caller hands the work back to JetStream for later, so a slow
 * or failing provider holds a bounded amount of work and never stalls other providers or the
 * consumer.
 */
export class ProviderLanes {
  private readonly lanes = new Map<string, { running: number; waiting: Array<() => void> }>();

  constructor(
    private readonly concurrency: number,
    private readonly queue: number,
  ) {}

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
