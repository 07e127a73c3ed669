import type { NatsConnection } from '@nats-io/transport-node';
import { Histogram } from 'prom-client';
import { AppendFailed, registry, StreamAppender, type TraceHeaders } from '@oncall/shared';

const appendSeconds = new Histogram({
  name: 'oncall_escalator_append_seconds',
  help: 'From sending an escalation event to the server storing it',
  buckets: [0.001, 0.005, 0.01, 0.05, 0.1, 0.25, 0.5, 1, 2, 5],
  registers: [registry],
});

/** What the owner of the chains learns about its appends. */
export interface AppendListener<T> {
  /** The subject's last sequence, asked when a key with nothing pending gets an append. */
  lastSeq(key: string): number;
  /** The server stored the append made with `context` at `seq`. */
  stored(context: T, seq: number): void;
  /** An append failed; nothing more is sent (see `stop`). */
  failed(err: AppendFailed): void;
}

type Pending<T> = { key: string; subject: string; data: Uint8Array; msgID: string; context: T; trace: TraceHeaders | undefined };

/**
 * JetStream appends for many per-key chains (one key = one alert). Each append of a key carries
 * its message id and expects the subject sequence its predecessor got, so a key has one append
 * in flight while different keys' appends are in flight together (StreamAppender: core
 * publishes with a reply subject, sent together once per turn of the event loop).
 */
export class ChainAppender<T> {
  private readonly publisher: StreamAppender;
  /** Per key, its appends not yet stored in order; the first one is in flight. */
  private readonly chains = new Map<string, Array<Pending<T>>>();
  private stopped = false;

  constructor(
    nc: NatsConnection,
    private readonly listener: AppendListener<T>,
    timeoutMs = 30_000,
  ) {
    this.publisher = new StreamAppender(nc, timeoutMs);
  }

  /** Appends after every earlier append of `key` still pending; the listener hears when it is stored. `trace`: sent as headers. */
  append(key: string, subject: string, data: Uint8Array, msgID: string, context: T, trace?: TraceHeaders): void {
    if (this.stopped) return;
    const p: Pending<T> = { key, subject, data, msgID, context, trace };
    const chain = this.chains.get(key);
    if (chain) {
      chain.push(p);
      return;
    }
    this.chains.set(key, [p]);
    this.send(p, this.listener.lastSeq(key));
  }

  /** Keys with appends pending. */
  get size(): number {
    return this.chains.size;
  }

  pending(key: string): boolean {
    return this.chains.has(key);
  }

  /**
   * Sends nothing more (appends waiting behind others are dropped) and resolves once every append
   * already sent is answered or timed out, so a rebuild that reads the log after it sees them.
   * The listener still hears of those stored meanwhile.
   */
  async stop(): Promise<void> {
    this.stopped = true;
    this.chains.clear();
    await this.publisher.close();
  }

  private send(p: Pending<T>, expected: number): void {
    const sentAt = Date.now();
    const opts = p.trace
      ? { msgID: p.msgID, expectLastSubjectSequence: expected, trace: p.trace }
      : { msgID: p.msgID, expectLastSubjectSequence: expected };
    this.publisher.append(p.subject, p.data, opts).then(
      (stored) => this.onStored(p, stored.seq, sentAt),
      (err: unknown) => this.fail(err instanceof AppendFailed ? err : new AppendFailed('not-sent', p.subject, String(err))),
    );
  }

  private onStored(p: Pending<T>, seq: number, sentAt: number): void {
    appendSeconds.observe((Date.now() - sentAt) / 1000);
    const chain = this.chains.get(p.key);
    chain?.shift();
    const next = chain?.[0];
    if (next) this.send(next, seq);
    else this.chains.delete(p.key);
    // Also after stop(): it is stored, and its owner may ack what it answered.
    this.listener.stored(p.context, seq);
  }

  private fail(err: AppendFailed): void {
    if (!this.stopped) this.listener.failed(err);
    this.stopped = true;
    this.chains.clear();
  }
}
