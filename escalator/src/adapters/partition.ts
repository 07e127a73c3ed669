import { jetstream, type ConsumerMessages, type JsMsg } from '@nats-io/jetstream';
import type { NatsConnection } from '@nats-io/transport-node';
import { CONSUMERS, decodeEvent, STREAMS, type AlertEvent } from '@oncall/contracts';
import { consumeOptions, InOrderAcks, superviseLoop, type Clock, type Logger, type UserDirectory } from '@oncall/shared';
import { Escalations, type ContextFactory } from './escalations.js';
import { runningPartitions, type PartitionGauges } from './metrics.js';
import { ALERT_EVENTS, rebuildPartition } from './rebuild.js';
import { UserCache } from './user-cache.js';

export type { ContextFactory } from './escalations.js';

const CONSUME_BATCH = 500;
/** Sessions that fail this many times in a row end the lease's work, so the lease is released (another replica may do better). */
const GIVE_UP_AFTER = 8;

export type PartitionDeps = Readonly<{
  nc: NatsConnection;
  partition: number;
  clock: Clock;
  context: ContextFactory;
  users: UserDirectory;
  log: Logger;
}>;

/**
 * The escalator of one alert partition, while this replica holds its lease: rebuilds the
 * partition's escalations from the log (rebuildPartition), then feeds the alert events its
 * durable consumer delivers to them (Escalations) and acks each message once its decisions are
 * stored, in delivery order (InOrderAcks), so the consumer's ack floor is a point up to which
 * every alert event is answered in the log. Any failure ends the session; the next one rebuilds.
 */
export class EscalatorPartition implements PartitionGauges {
  readonly partition: number;
  private readonly log: Logger;
  private readonly users: UserCache;
  private live: Escalations | null = null;
  /** How far this process saw the partition's alert events answered: the ack floor's stand-in when the consumer is gone. */
  private answeredThrough = 0;

  constructor(private readonly deps: PartitionDeps) {
    this.partition = deps.partition;
    this.log = deps.log.child({ partition: deps.partition });
    this.users = new UserCache(deps.users, this.log);
  }

  /**
   * Runs until `lost` aborts (lease lost or shutdown). A session that fails (an append the
   * server refused, the consumer or stream deleted, the server gone) is followed by a rebuild
   * after a back-off with jitter; after GIVE_UP_AFTER failures in a row this throws.
   */
  async run(lost: AbortSignal): Promise<void> {
    runningPartitions.add(this);
    try {
      await superviseLoop({ name: `escalator-p${this.partition}`, log: this.log, stop: lost, giveUpAfter: GIVE_UP_AFTER }, () =>
        this.session(lost),
      );
    } finally {
      runningPartitions.delete(this);
    }
  }

  size(): number {
    return this.live?.size ?? 0;
  }

  timerCount(): number {
    return this.live?.timerCount ?? 0;
  }

  /** One rebuild and what follows it, until `lost` aborts or something fails. */
  private async session(lost: AbortSignal): Promise<void> {
    const recovered = await rebuildPartition(this.deps.nc, this.partition, this.answeredThrough);
    let failure: unknown = null;
    let messages: ConsumerMessages | null = null;
    let closed = false;
    const acks = new InOrderAcks();
    const live = new Escalations(
      {
        ...this.deps,
        log: this.log,
        users: this.users,
        failed: (err) => {
          failure = err;
          void messages?.close().catch(() => undefined);
        },
      },
      recovered,
    );
    this.live = live;
    const stop = () => void messages?.close().catch(() => undefined);
    lost.addEventListener('abort', stop, { once: true });
    try {
      await live.start();
      const consumer = await jetstream(this.deps.nc).consumers.get(STREAMS.alerts, CONSUMERS.escalator(this.partition));
      // Ends with an error when the consumer or the stream is deleted (instead of waiting forever).
      messages = await consumer.consume(consumeOptions(CONSUME_BATCH));
      let deliveredThrough = recovered.deliverFrom - 1;
      for await (const m of messages) {
        if (failure !== null || lost.aborted) break;
        // A redelivery (it comes behind newer messages) of a message this session has: the
        // original is acked in order once its decisions are stored.
        if (m.seq <= deliveredThrough) continue;
        deliveredThrough = m.seq;
        const tracked = acks.track(m);
        this.onMessage(m, live, () => {
          // Acks of this session never reach the consumer the next rebuild creates.
          if (!closed) acks.done(tracked);
        });
      }
    } finally {
      lost.removeEventListener('abort', stop);
      stop();
      // Appends in flight still complete (and ack their messages); nothing new is decided.
      await live.stop();
      acks.flush();
      closed = true;
      this.answeredThrough = Math.max(this.answeredThrough, recovered.floor ?? 0, acks.doneThrough);
    }
    if (failure !== null) throw new Error('an escalation decision failed', { cause: failure });
    if (!lost.aborted) throw new Error('the alert consumer stopped');
  }

  private onMessage(m: JsMsg, live: Escalations, done: () => void): void {
    const event = decodeEvent(m.data, { trusted: true });
    if (!ALERT_EVENTS.has(event.type)) {
      done();
      return;
    }
    live.alertEvent(event as AlertEvent, m.seq, { remaining: 0, done });
  }
}
