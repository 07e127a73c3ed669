import { JetStreamApiError, type ApiError } from '@nats-io/jetstream';
import { createInbox, headers, type Msg, type NatsConnection, type Subscription } from '@nats-io/transport-node';
import type { TraceHeaders } from './tracing.js';

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

/** `trace`: the trace context of the hop that appends (shared/src/tracing.ts), sent as message headers. */
export type AppendOptions = Readonly<{ expectLastSubjectSequence?: number; msgID?: string; trace?: TraceHeaders | undefined }>;
/** Where the server stored an append; `duplicate`: it had stored one with the same msgID already (at `seq`). */
export type Stored = Readonly<{ seq: number; duplicate: boolean }>;

type Waiting = { subject: string; sentAt: number; resolve: (stored: Stored) => void; reject: (err: AppendFailed) => void };
type Ready = { subject: string; data: Uint8Array; opts: AppendOptions; waiting: Waiting };
type PubAck = { stream?: string; seq?: number; duplicate?: boolean; error?: ApiError };

const SWEEP_EVERY_MS = 1000;

/**
 * JetStream appends (publish, then the server's acknowledgement), for writers that append a lot.
 *
 * Built on core publishes with a reply subject instead of `jetstream().publish()`: that one is a
 * request per message (a request object, a timer, a cancellation error with a stack trace, a
 * promise race), which made it most of the escalator's and a large part of the decider's CPU.
 * Here the appends made in one turn of the event loop go out together (one socket write),
 * acknowledgements are matched by reply subject in one subscription callback, and one
 * sweep a second fails appends left unanswered past the timeout.
 */
export class StreamAppender {
  private readonly prefix = createInbox();
  private readonly sub: Subscription;
  private readonly inFlight = new Map<number, Waiting>();
  private ready: Ready[] = [];
  private scheduled = false;
  private nextToken = 0;
  private readonly sweeper: NodeJS.Timeout;
  private drainWaiters: Array<() => void> = [];

  constructor(
    private readonly nc: NatsConnection,
    private readonly timeoutMs = 30_000,
  ) {
    this.sub = nc.subscribe(`${this.prefix}.*`, { callback: (err, msg) => (err ? undefined : this.onReply(msg)) });
    this.sweeper = setInterval(() => this.sweep(), SWEEP_EVERY_MS);
    this.sweeper.unref();
  }

  /** Resolves when the server stored the message; rejects with AppendFailed. */
  append(subject: string, data: Uint8Array, opts: AppendOptions = {}): Promise<Stored> {
    return new Promise<Stored>((resolve, reject) => {
      this.ready.push({ subject, data, opts, waiting: { subject, sentAt: 0, resolve, reject } });
      if (this.scheduled) return;
      this.scheduled = true;
      setImmediate(() => this.flush());
    });
  }

  /** Appends sent and not answered yet. */
  get pending(): number {
    return this.inFlight.size + this.ready.length;
  }

  /** Resolves once every append made so far is answered or has timed out. */
  async drain(): Promise<void> {
    if (this.pending > 0) await new Promise<void>((resolve) => this.drainWaiters.push(resolve));
  }

  /** drain(), then stops listening. */
  async close(): Promise<void> {
    await this.drain();
    clearInterval(this.sweeper);
    this.sub.unsubscribe();
  }

  private flush(): void {
    this.scheduled = false;
    const ready = this.ready;
    this.ready = [];
    const now = Date.now();
    for (const { subject, data, opts, waiting } of ready) {
      const token = ++this.nextToken;
      waiting.sentAt = now;
      const h = headers();
      if (opts.msgID !== undefined) h.set('Nats-Msg-Id', opts.msgID);
      if (opts.expectLastSubjectSequence !== undefined)
        h.set('Nats-Expected-Last-Subject-Sequence', String(opts.expectLastSubjectSequence));
      if (opts.trace) {
        h.set('traceparent', opts.trace.traceparent);
        if (opts.trace.tracestate) h.set('tracestate', opts.trace.tracestate);
      }
      try {
        this.nc.publish(subject, data, { reply: `${this.prefix}.${token}`, headers: h });
      } catch (err) {
        waiting.reject(new AppendFailed('not-sent', subject, 'the connection refused the publish', { cause: err }));
        continue;
      }
      this.inFlight.set(token, waiting);
    }
    this.settled();
  }

  private onReply(msg: Msg): void {
    const token = Number(msg.subject.slice(this.prefix.length + 1));
    const waiting = this.inFlight.get(token);
    if (!waiting) return;
    this.inFlight.delete(token);
    const stored = storedAt(waiting.subject, msg);
    if (stored instanceof AppendFailed) waiting.reject(stored);
    else waiting.resolve(stored);
    this.settled();
  }

  private sweep(): void {
    const oldest = Date.now() - this.timeoutMs;
    // In sending order: the first one young enough ends the sweep.
    for (const [token, waiting] of this.inFlight) {
      if (waiting.sentAt >= oldest) break;
      this.inFlight.delete(token);
      waiting.reject(new AppendFailed('timeout', waiting.subject, `no acknowledgement within ${this.timeoutMs} ms`));
    }
    this.settled();
  }

  private settled(): void {
    if (this.pending > 0 || this.drainWaiters.length === 0) return;
    const waiters = this.drainWaiters;
    this.drainWaiters = [];
    for (const w of waiters) w();
  }
}

/** Where the server stored an append, or why it did not. */
function storedAt(subject: string, msg: Msg): Stored | AppendFailed {
  if (msg.data.length === 0 && msg.headers?.code === 503) return new AppendFailed('no-responders', subject, 'no stream answered');
  let ack: PubAck;
  try {
    ack = JSON.parse(msg.string()) as PubAck;
  } catch (err) {
    return new AppendFailed('invalid-ack', subject, 'the acknowledgement is not JSON', { cause: err });
  }
  if (ack.error) return new AppendFailed('rejected', subject, ack.error.description, { cause: new JetStreamApiError(ack.error) });
  if (typeof ack.seq !== 'number' || !ack.stream) return new AppendFailed('invalid-ack', subject, 'the acknowledgement has no sequence');
  return { seq: ack.seq, duplicate: ack.duplicate === true };
}
