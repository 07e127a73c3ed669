import { JetStreamApiError, type ApiError } from '@nats-io/jetstream';
import { createInbox, headers, type Msg, type NatsConnection, type Subscription } from '@nats-io/transport-node';
import { Histogram } from 'prom-client';
import { registry } from '@oncall/shared';

const appendSeconds = new Histogram({
  name: 'oncall_escalator_append_seconds',
  help: 'From sending an escalation event to the server storing it',
  buckets: [0.001, 0.005, 0.01, 0.05, 0.1, 0.25, 0.5, 1, 2, 5],
  registers: [registry],
});

export type AppendFailureReason = 'rejected' | 'timeout' | 'no-responders' | 'invalid-ack' | 'not-sent';

/** An append the server did not confirm: rejected (e.g. a wrong expected sequence), unanswered, or answered with nonsense. */
export class AppendFailed extends Error {
  override readonly name = 'AppendFailed';
  constructor(
    readonly reason: AppendFailureReason,
    readonly subject: string,
    message: string,
    options?: ErrorOptions,
  ) {
    super(`append to ${subject}: ${message}`, options);
  }
}

/** What the owner of the chains learns about its appends. */
export interface AppendListener<T> {
  /** The subject's last sequence, asked when a key with nothing pending gets an append. */
  lastSeq(key: string): number;
  /** The server stored the append made with `context` at `seq`. */
  stored(context: T, seq: number): void;
  /** An append failed; nothing more is sent (see `stop`). */
  failed(err: AppendFailed): void;
}

type Pending<T> = {
  key: string;
  subject: string;
  data: Uint8Array;
  msgID: string;
  expected: number;
  sentAt: number;
  context: T;
};

type PubAck = { stream?: string; seq?: number; error?: ApiError };

const SWEEP_EVERY_MS = 1000;

/**
 * JetStream appends for many per-key chains (one key = one alert). Each append of a key carries
 * its message id and expects the subject sequence its predecessor got, so a key has one append
 * in flight while different keys' appends are in flight together.
 *
 * Built on core publishes with a reply subject instead of `jetstream().publish()`: that one is a
 * request per message (a request object, a timer, a cancellation error with a stack trace, a
 * promise race) and writes to the socket once per microtask checkpoint, which made it most of
 * the escalator's CPU. Here the appends that become ready in one turn of the event loop go out
 * together (one socket write), acknowledgements are matched by reply subject in one
 * subscription callback, and one sweep a second fails appends left unanswered past the timeout.
 */
export class ChainAppender<T> {
  private readonly prefix = createInbox();
  private readonly sub: Subscription;
  private readonly inFlight = new Map<number, Pending<T>>();
  /** Per key, its appends not yet stored in order; the first one is in flight. */
  private readonly chains = new Map<string, Array<Pending<T>>>();
  private ready: Array<Pending<T>> = [];
  private scheduled = false;
  private nextToken = 0;
  private readonly sweeper: NodeJS.Timeout;
  private drainWaiters: Array<() => void> = [];
  private stopped = false;

  constructor(
    private readonly nc: NatsConnection,
    private readonly listener: AppendListener<T>,
    private readonly timeoutMs = 30_000,
  ) {
    this.sub = nc.subscribe(`${this.prefix}.*`, { callback: (err, msg) => (err ? undefined : this.onReply(msg)) });
    this.sweeper = setInterval(() => this.sweep(), SWEEP_EVERY_MS);
    this.sweeper.unref();
  }

  /** Appends after every earlier append of `key` still pending; the listener hears when it is stored. */
  append(key: string, subject: string, data: Uint8Array, msgID: string, context: T): void {
    if (this.stopped) return;
    const p: Pending<T> = { key, subject, data, msgID, expected: 0, sentAt: 0, context };
    const chain = this.chains.get(key);
    if (chain) {
      chain.push(p);
      return;
    }
    this.chains.set(key, [p]);
    p.expected = this.listener.lastSeq(key);
    this.send(p);
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
    this.ready = [];
    this.chains.clear();
    if (this.inFlight.size > 0) await new Promise<void>((resolve) => this.drainWaiters.push(resolve));
    clearInterval(this.sweeper);
    this.sub.unsubscribe();
  }

  private send(p: Pending<T>): void {
    this.ready.push(p);
    if (this.scheduled) return;
    this.scheduled = true;
    setImmediate(() => this.flush());
  }

  private flush(): void {
    this.scheduled = false;
    const ready = this.ready;
    this.ready = [];
    if (this.stopped) return;
    const now = Date.now();
    for (const p of ready) {
      const token = ++this.nextToken;
      p.sentAt = now;
      const h = headers();
      h.set('Nats-Msg-Id', p.msgID);
      h.set('Nats-Expected-Last-Subject-Sequence', String(p.expected));
      try {
        this.nc.publish(p.subject, p.data, { reply: `${this.prefix}.${token}`, headers: h });
      } catch (err) {
        this.fail(new AppendFailed('not-sent', p.subject, 'the connection refused the publish', { cause: err }));
        return;
      }
      this.inFlight.set(token, p);
    }
  }

  private onReply(msg: Msg): void {
    const token = Number(msg.subject.slice(this.prefix.length + 1));
    const p = this.inFlight.get(token);
    if (!p) return;
    this.inFlight.delete(token);
    const seq = this.storedSeq(p, msg);
    if (seq instanceof AppendFailed) {
      this.fail(seq);
    } else {
      appendSeconds.observe((Date.now() - p.sentAt) / 1000);
      const chain = this.chains.get(p.key);
      chain?.shift();
      const next = chain?.[0];
      if (next) {
        next.expected = seq;
        this.send(next);
      } else {
        this.chains.delete(p.key);
      }
      // Also after stop(): it is stored, and its owner may ack what it answered.
      this.listener.stored(p.context, seq);
    }
    this.settled();
  }

  /** The sequence the server stored the append at, or why it did not. */
  private storedSeq(p: Pending<T>, msg: Msg): number | AppendFailed {
    if (msg.data.length === 0 && msg.headers?.code === 503) return new AppendFailed('no-responders', p.subject, 'no stream answered');
    let ack: PubAck;
    try {
      ack = JSON.parse(msg.string()) as PubAck;
    } catch (err) {
      return new AppendFailed('invalid-ack', p.subject, 'the acknowledgement is not JSON', { cause: err });
    }
    if (ack.error) return new AppendFailed('rejected', p.subject, ack.error.description, { cause: new JetStreamApiError(ack.error) });
    if (typeof ack.seq !== 'number' || !ack.stream) return new AppendFailed('invalid-ack', p.subject, 'the acknowledgement has no sequence');
    return ack.seq;
  }

  private sweep(): void {
    const oldest = Date.now() - this.timeoutMs;
    // In sending order: the first one young enough ends the sweep.
    for (const [token, p] of this.inFlight) {
      if (p.sentAt >= oldest) break;
      this.inFlight.delete(token);
      this.fail(new AppendFailed('timeout', p.subject, `no acknowledgement within ${this.timeoutMs} ms`));
    }
    this.settled();
  }

  private fail(err: AppendFailed): void {
    if (!this.stopped) this.listener.failed(err);
    this.stopped = true;
    this.ready = [];
    this.chains.clear();
  }

  private settled(): void {
    if (this.inFlight.size > 0 || this.drainWaiters.length === 0) return;
    const waiters = this.drainWaiters;
    this.drainWaiters = [];
    for (const w of waiters) w();
  }
}
