import { setTimeout as sleep } from 'node:timers/promises';
import {
  JetStreamApiCodes,
  JetStreamApiError,
  type ConsumeOptions,
  type ConsumerConfig,
  type JetStreamClient,
  type JetStreamManager,
  type JsMsg,
} from '@nats-io/jetstream';
import { Counter } from 'prom-client';
import { backoffMs, DEFAULT_BACKOFF, type Backoff } from './backoff.js';
import type { Logger } from './logger.js';
import { registry } from './metrics.js';

/**
 * What every consumer loop of the pipeline (decider, projector, escalator, dispatcher) shares:
 * running a loop that restarts after failures with back-off and jitter, (re)creating durable
 * consumers, their ack floor, consume options that end (instead of stalling) when the consumer
 * or its stream is deleted, and in-order acknowledgement for AckPolicy.All consumers.
 */

const restarts = new Counter({
  name: 'oncall_consumer_restarts_total',
  help: 'Consumer loops started again after a failure, by loop',
  labelNames: ['loop'],
  registers: [registry],
});

export type LoopOptions = Readonly<{
  /** Names the loop in logs and metrics (`decider-p3`, `projector-alerts-v1`, …). */
  name: string;
  log: Logger;
  stop: AbortSignal;
  backoff?: Backoff;
  /** A run that lasted this long was healthy: the next failure starts the back-off over. */
  healthyAfterMs?: number;
  /**
   * After this many failures in a row (no healthy run between them) the loop stops trying and
   * throws the last one, e.g. so that work under a lease releases it for another replica.
   * Default: never.
   */
  giveUpAfter?: number;
  random?: () => number;
}>;

/**
 * Runs `body` until `stop` aborts. `body` runs until stopped, or throws: the failure is logged
 * with its reason, counted, and `body` runs again after a back-off with jitter (never a fixed
 * sleep: a fleet restarting together must not retry in step). `attempt` is 0 on the first run.
 * With `giveUpAfter`, a body that keeps failing ends the loop with its last failure.
 */
export async function superviseLoop(opts: LoopOptions, body: (attempt: number) => Promise<void>): Promise<void> {
  const random = opts.random ?? Math.random;
  const healthyAfterMs = opts.healthyAfterMs ?? 30_000;
  let attempt = 0;
  while (!opts.stop.aborted) {
    const started = Date.now();
    let failure: unknown;
    try {
      await body(attempt);
      if (opts.stop.aborted) return;
      failure = new Error('the loop ended without being stopped');
    } catch (err) {
      if (opts.stop.aborted) return;
      failure = err;
    }
    attempt = Date.now() - started >= healthyAfterMs ? 1 : attempt + 1;
    if (opts.giveUpAfter !== undefined && attempt >= opts.giveUpAfter) {
      opts.log.error({ err: failure, loop: opts.name, attempt }, `${opts.name} failed ${attempt} times in a row; giving up`);
      throw failure;
    }
    const delayMs = backoffMs(attempt, random(), opts.backoff ?? DEFAULT_BACKOFF);
    restarts.inc({ loop: opts.name });
    opts.log.warn({ err: failure, loop: opts.name, attempt, retryInMs: delayMs }, `${opts.name} failed; starting it again`);
    await sleep(delayMs, undefined, { signal: opts.stop }).catch(() => undefined);
  }
}

/**
 * How long-lived consumers pull: each pull request lives 5 s, and the server sends an idle
 * heartbeat every second while it has nothing to deliver. The client pulls anew (an ordered
 * consumer: resets) after two heartbeats are missed, so a consumer whose pull the server no longer
 * serves is back within ~2 s: after nats-server restarts (the chaos suite; the client's default
 * was ~30 s), and after nats-server 2.9 drops a pull that expires as a message arrives without its
 * expiry notice (408), which happens now and then under a saturated CPU (bench:ack: the request's
 * messages stopped at its expiry, no 408 came, the client re-pulled after two missed heartbeats).
 * Each expiry is a chance of that, so pulls live longer than the heartbeat's 2 s (with 2 s pulls a
 * 10 s storm held a ~2 s stall in over half the runs). Not longer than 5 s: the client also waits
 * one lifetime before it asks again when its check of the consumer fails (a cluster electing a
 * new leader; 30 s pulls took chaos:cluster's recovery from ~20 to 31–45 s).
 */
export const LIVE_PULL = { expires: 5_000, idle_heartbeat: 1_000 } as const satisfies ConsumeOptions;

/** Closes a consume iteration when `stop` aborts (at once if it has); returns what forgets the listener, for when the iteration ends. */
export function closeOnAbort(messages: { close(): Promise<unknown> }, stop: AbortSignal): () => void {
  const close = () => void messages.close();
  stop.addEventListener('abort', close, { once: true });
  if (stop.aborted) close();
  return () => stop.removeEventListener('abort', close);
}

/** Consume options for durable consumers: the iteration ends with an error when the consumer or its stream is deleted. */
export function consumeOptions(maxMessages: number): ConsumeOptions {
  return { ...LIVE_PULL, max_messages: maxMessages, abort_on_missing_resource: true };
}

const isNotFound = (err: unknown, code: number): boolean => err instanceof JetStreamApiError && err.code === code;

/** Deletes the durable consumer (if it exists) and creates it with `config`, e.g. to deliver from a start sequence. */
export async function recreateConsumer(
  jsm: JetStreamManager,
  stream: string,
  config: Partial<ConsumerConfig> & { durable_name: string },
): Promise<void> {
  await jsm.consumers.delete(stream, config.durable_name).catch((err: unknown) => {
    if (!isNotFound(err, JetStreamApiCodes.ConsumerNotFound)) throw err;
  });
  await jsm.consumers.add(stream, config);
}

/** Creates the durable consumer unless it exists; true when it was created. */
export async function ensureConsumer(
  jsm: JetStreamManager,
  stream: string,
  config: Partial<ConsumerConfig> & { durable_name: string },
): Promise<boolean> {
  try {
    await jsm.consumers.info(stream, config.durable_name);
    return false;
  } catch (err) {
    if (!isNotFound(err, JetStreamApiCodes.ConsumerNotFound)) throw err;
  }
  await jsm.consumers.add(stream, config);
  return true;
}

/** The durable consumer's ack floor (stream sequence), or null when it does not exist. */
export async function ackFloor(jsm: JetStreamManager, stream: string, name: string): Promise<number | null> {
  try {
    return (await jsm.consumers.info(stream, name)).ack_floor.stream_seq;
  } catch (err) {
    if (isNotFound(err, JetStreamApiCodes.ConsumerNotFound)) return null;
    throw err;
  }
}

export type InHandOptions = Readonly<{
  js: JetStreamClient;
  log: Logger;
  stop: AbortSignal;
  stream: string;
  /** The durable consumer's name; names the loop in logs and metrics too. */
  consumer: string;
  /** Messages in hand at once (handlers running); the pull asks for as many. */
  concurrency: number;
  /**
   * Makes sure the consumer exists before each run (the first and every one after a failure),
   * e.g. creating it where it stood; resolves to its ack wait in ms.
   */
  ensure: () => Promise<number>;
  /** Called when a run starts consuming; what it returns is called when the run ends. */
  during?: () => () => void;
  /** Settles the message (ack, nak with a delay, term). A handler that throws: logged, nak(5 s). */
  handle: (m: JsMsg) => Promise<void>;
}>;

/**
 * The loop of a durable consumer whose messages are worked on side by side (the dispatcher's
 * `escalations.>`, the ticket bridge's three): up to `concurrency` handlers run at once; while a
 * message is in hand JetStream is told so (`working()`) every third of the ack wait, however long
 * a bundle window, a rate limit or a provider's lane holds it, so it is not redelivered to another
 * replica; a process killed mid-way leaves its messages to come back after the ack wait.
 * The consumer is ensured (`ensure`) before each run; a run that fails (the consumer or its stream
 * deleted) starts again after a back-off (superviseLoop). Stopping closes the pull and waits for
 * the running handlers.
 */
export async function consumeInHand(opts: InHandOptions): Promise<void> {
  const { js, log, stop, stream, consumer } = opts;
  const inHand = new Set<JsMsg>();
  const running = new Set<Promise<void>>();
  let working: NodeJS.Timeout | undefined;
  try {
    await superviseLoop({ name: consumer, log, stop }, async () => {
      const ackWaitMs = await opts.ensure();
      clearInterval(working);
      working = setInterval(() => inHand.forEach((m) => m.working()), Math.max(100, ackWaitMs / 3));
      const messages = await (await js.consumers.get(stream, consumer)).consume(consumeOptions(opts.concurrency));
      const forget = closeOnAbort(messages, stop);
      const ended = opts.during?.();
      try {
        for await (const m of messages) {
          while (running.size >= opts.concurrency) await Promise.race(running);
          inHand.add(m);
          const p: Promise<void> = opts
            .handle(m)
            .catch((err: unknown) => {
              log.error({ err, consumer, seq: m.seq }, 'handling a message failed; it comes back later');
              m.nak(5000);
            })
            .finally(() => {
              inHand.delete(m);
              running.delete(p);
            });
          running.add(p);
        }
      } finally {
        forget();
        ended?.();
      }
    });
    await Promise.allSettled(running);
  } finally {
    clearInterval(working);
  }
}

/** A delivered message whose work may finish out of order; see InOrderAcks. */
export type Tracked = { readonly m: JsMsg; done: boolean };

/**
 * Acknowledgement for AckPolicy.All consumers whose messages finish out of order: messages are
 * tracked in delivery order and marked done when their work is stored; the last message of the
 * done run at the head is acked (one ack covers every message before it), at once when no
 * tracked message is left waiting, else every `every` messages. The ack floor therefore never
 * passes a message whose work is not stored.
 *
 * `coalesce`: the ack owed when nothing is left waiting goes out at the end of the event loop's
 * turn instead (setImmediate), so messages that finish in the same turn — the decider's repeats,
 * which append nothing, finish one by one as they arrive — share one ack instead of one each.
 */
export class InOrderAcks {
  private list: Tracked[] = [];
  private head = 0;
  private sinceAck = 0;
  private last = 0;
  private lastDone: JsMsg | null = null;
  private flushScheduled = false;

  constructor(
    private readonly every = 100,
    private readonly coalesce = false,
  ) {}

  track(m: JsMsg): Tracked {
    const t = { m, done: false };
    this.list.push(t);
    return t;
  }

  done(t: Tracked): void {
    t.done = true;
    let last: Tracked | undefined;
    while (this.head < this.list.length && this.list[this.head]!.done) {
      last = this.list[this.head++]!;
      this.sinceAck++;
    }
    if (!last) return;
    this.last = last.m.seq;
    this.lastDone = last.m;
    if (this.sinceAck >= this.every) this.flush();
    else if (this.head === this.list.length) this.flushIdle();
    // Done messages are let go: each holds its payload and the socket chunk it was read into
    // (docs/performance.md, "Escalator memory": up to 1023 per consumer were kept while idle).
    if (this.head === this.list.length) {
      this.list = [];
      this.head = 0;
    } else if (this.head >= 1024 && this.head * 2 >= this.list.length) {
      this.list.splice(0, this.head);
      this.head = 0;
    }
  }

  /** Acks the done run now if its ack is still owed (before stopping: messages left waiting hold it back otherwise). */
  flush(): void {
    if (this.sinceAck === 0 || !this.lastDone) return;
    this.lastDone.ack();
    this.sinceAck = 0;
  }

  private flushIdle(): void {
    if (!this.coalesce) return this.flush();
    if (this.flushScheduled) return;
    this.flushScheduled = true;
    setImmediate(() => {
      this.flushScheduled = false;
      try {
        this.flush();
      } catch {
        // The connection closed meanwhile: the ack is owed to no one (the next session starts from the floor).
      }
    });
  }

  /** Messages tracked and not yet covered by an ack. */
  get waiting(): number {
    return this.list.length - this.head;
  }

  /** Stream sequence of the last message whose work is done, in order. */
  get doneThrough(): number {
    return this.last;
  }

  /** Forgets every tracked message (after the consumer is recreated). */
  reset(): void {
    this.list = [];
    this.head = 0;
    this.sinceAck = 0;
    this.lastDone = null;
  }
}
