/**
 * Inputs decided one at a time, in arrival order. `decide` answers an input at once, or names
 * what it needs first (users from the directory, an incident claimed): that input goes back to
 * the front, the need is loaded, and every input behind it waits, so decisions never interleave
 * or overtake each other.
 */
export class DecisionQueue<T, N> {
  private queue: T[] = [];
  private head = 0;
  private loading = false;
  private halted = false;

  constructor(
    private readonly decide: (item: T) => N | undefined,
    private readonly load: (needed: N, cancelled: () => boolean) => Promise<boolean>,
  ) {}

  submit(item: T): void {
    if (this.halted) return;
    if (this.loading || this.head < this.queue.length) this.queue.push(item);
    else this.run(item);
  }

  /** Nothing waiting to be decided. */
  get idle(): boolean {
    return !this.loading && this.head >= this.queue.length;
  }

  /** The inputs waiting behind the one being loaded for, in order (a loader may fetch for them too, in one go). */
  *waiting(): Iterable<T> {
    for (let i = this.head; i < this.queue.length; i++) yield this.queue[i]!;
  }

  /** Decides nothing more; what waits is dropped. */
  halt(): void {
    this.halted = true;
    this.queue = [];
    this.head = 0;
  }

  private run(item: T): void {
    const needed = this.decide(item);
    if (!needed || this.halted) return;
    if (this.head > 0) this.queue[--this.head] = item;
    else this.queue.unshift(item);
    this.loading = true;
    void this.load(needed, () => this.halted).then((loaded) => {
      if (!loaded || this.halted) return;
      this.loading = false;
      this.drain();
    });
  }

  private drain(): void {
    while (!this.loading && !this.halted && this.head < this.queue.length) this.run(this.queue[this.head++]!);
    if (this.head >= this.queue.length) {
      this.queue = [];
      this.head = 0;
    }
  }
}
