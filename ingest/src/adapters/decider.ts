import { setTimeout as sleep } from 'node:timers/promises';
import type { NatsConnection } from '@nats-io/transport-node';
import {
  jetstream,
  jetstreamManager,
  DeliverPolicy,
  JetStreamApiCodes,
  JetStreamApiError,
  type ConsumerMessages,
  type JetStreamClient,
  type JetStreamManager,
  type JsMsg,
} from '@nats-io/jetstream';
import { Counter, Gauge } from 'prom-client';
import {
  buildEvent,
  CONSUMERS,
  decodeEvent,
  durableConsumer,
  encodeEvent,
  stableUuid,
  STREAMS,
  subjects,
  type AlertEvent,
  type EventData,
} from '@oncall/contracts';
import { registry, StreamAppender, type Logger } from '@oncall/shared';
import {
  AlertCommandError,
  alertKey,
  decide,
  evolve,
  isRecorded,
  type AlertCommand,
  type DecidedEvent,
  type OpenAlert,
} from '../domain/alert.js';

const inputsTotal = new Counter({ name: 'oncall_decider_inputs_total', help: 'Intake messages decided', registers: [registry] });
const eventsTotal = new Counter({
  name: 'oncall_decider_events_total',
  help: 'Lifecycle events appended by the decider',
  labelNames: ['type'],
  registers: [registry],
});
const openAlerts = new Gauge({
  name: 'oncall_decider_open_alerts',
  help: 'Open alerts held in memory',
  labelNames: ['partition'],
  registers: [registry],
});
const recoveries = new Counter({
  name: 'oncall_decider_recoveries_total',
  help: 'Partition restarts after a failure',
  registers: [registry],
});

type Entry = { alert: OpenAlert; lastSeq: number };
/** How consuming ended: stopped, the consumer failed (state exact), or an append failed. */
type ConsumeEnd = 'stopped' | 'consumer-failed' | 'append-failed';

/** Messages pulled ahead (at most twice that unacked); decisions are made as they arrive. */
const PULL_BATCH = 500;
/**
 * One pull request's lifetime. The client keeps pulls going and re-pulls when two of the
 * server's idle heartbeats (every expires / 2) are missed. A pull the server stops serving
 * (seen on nats-server 2.9 under a saturated CPU: one-shot fetches that got nothing for their
 * whole lifetime while messages waited) then costs at most this long, not a partition restart.
 */
const PULL_EXPIRES_MS = 2000;
/** At most this many decided messages between two acks during a burst. */
const ACK_EVERY = 100;
const RETRY_DELAY_MS = 1000;
/** An append unanswered this long fails, and the partition restarts. */
const APPEND_TIMEOUT_MS = 5000;

/**
 * The single writer of one partition. It holds every open alert of the partition in memory
 * and turns intake messages into lifecycle events.
 *
 * Decisions are a function of the log: `now` is the intake message's JetStream timestamp and
 * event ids derive from the intake event id, so deciding a message twice from the same state
 * gives identical events.
 *
 * Recovery (at start, and after any failed append) is exact, not window-based: the intake
 * consumer's ack floor F marks what was fully decided. The state is rebuilt from the events
 * caused by intake messages ≤ F; events caused by later messages are remembered by id only.
 * The consumer is recreated to deliver from F+1 in order, and re-deciding those messages
 * reproduces the remembered events, which are then not appended again.
 */
export class PartitionDecider {
  private readonly js: JetStreamClient;
  private readonly appender: StreamAppender;
  private open = new Map<string, Entry>();
  /** Events already in the log for intake messages above the ack floor, by id. */
  private stored = new Map<string, { seq: number; event: AlertEvent }>();
  private ackedThrough = 0;
  /** Highest intake sequence decided since the last restart. */
  private decidedThrough = 0;
  private stopped = false;
  private messages: ConsumerMessages | undefined;
  private readonly openGauge: Gauge.Internal<'partition'>;

  constructor(
    private readonly nc: NatsConnection,
    readonly partition: number,
    private readonly log: Logger,
  ) {
    this.js = jetstream(nc);
    this.appender = new StreamAppender(nc, APPEND_TIMEOUT_MS);
    this.openGauge = openAlerts.labels({ partition: String(partition) });
  }

  stop(): void {
    this.stopped = true;
    void this.messages?.close();
    void this.appender.close();
  }

  /** Runs until stop() or until the NATS connection is closed. */
  async run(): Promise<void> {
    let healthy = false;
    while (!this.stopped && !this.nc.isClosed()) {
      try {
        if (!healthy) {
          await this.restart();
          healthy = true;
        }
        const consumer = await this.js.consumers.get(STREAMS.intake, CONSUMERS.decider(this.partition));
        while (!this.stopped && healthy) {
          this.messages = await consumer.consume({ max_messages: PULL_BATCH, expires: PULL_EXPIRES_MS, abort_on_missing_resource: true });
          const end = await this.decideAll(this.messages);
          if (end === 'consumer-failed' && !this.stopped) await this.resync();
          healthy = end !== 'append-failed';
          if (!healthy) recoveries.inc();
        }
      } catch (err) {
        if (this.stopped || this.nc.isClosed()) return;
        this.log.error({ err, partition: this.partition }, 'decider partition failed; restarting it');
        healthy = false;
        await sleep(RETRY_DELAY_MS);
      }
    }
  }

  /** Number of open alerts held; for tests and metrics. */
  openCount(): number {
    return this.open.size;
  }

  /** Decides messages in order until stopped or failed; an append that failed means the partition must restart. */
  private async decideAll(messages: AsyncIterable<JsMsg>): Promise<ConsumeEnd> {
    const chains = new Map<string, Promise<number>>();
    let acked = Promise.resolve();
    let failed = false;
    let consumerFailed = false;
    let unacked = 0;
    let sinceAck = 0;
    try {
      for await (const m of messages) {
        if (failed) break;
        // A redelivery (it can come behind newer messages) of a message already decided in this
        // session: its original delivery is acked in order once its events are stored. Acking
        // this copy could move the ack floor past events still in flight, so it is left alone.
        if (m.seq <= this.decidedThrough) continue;
        this.decidedThrough = m.seq;
        let appends: Promise<unknown>[];
        try {
          appends = this.decideMessage(m, chains);
        } catch (err) {
          this.log.error({ err, partition: this.partition, seq: m.seq }, 'intake message cannot be decided; terminating it');
          acked = acked.then(() => {
            m.term();
            this.ackedThrough = m.seq;
          });
          continue;
        }
        const done = Promise.all(appends);
        // Observed through the chain below; this only keeps an early failure from counting as unhandled.
        done.catch(() => undefined);
        unacked++;
        acked = acked.then(async () => {
          await done;
          this.ackedThrough = m.seq;
          unacked--;
          // The consumer acks all: one ack covers every message before it, so a burst is acked
          // when it is all stored (and every ACK_EVERY messages on the way).
          if (unacked === 0 || ++sinceAck >= ACK_EVERY) {
            m.ack();
            sinceAck = 0;
          }
        });
        acked.catch((err: unknown) => {
          if (!failed) this.log.warn({ err, partition: this.partition, seq: m.seq }, 'append failed; restarting the partition');
          failed = true;
        });
        inputsTotal.inc();
        // Backpressure: a backlog arrives faster than appends complete.
        if (unacked >= PULL_BATCH) await acked.catch(() => undefined);
      }
    } catch (err) {
      if (!this.stopped)
        this.log.warn({ err, partition: this.partition }, 'intake consumer failed; resuming after the last decided message');
      consumerFailed = true;
    }
    await acked.catch(() => undefined);
    if (failed) return 'append-failed';
    return consumerFailed ? 'consumer-failed' : 'stopped';
  }

  /** Decides every signal (or the command) of one intake message, updates the state and starts the appends. */
  private decideMessage(m: JsMsg, chains: Map<string, Promise<number>>): Promise<number>[] {
    const input = decodeEvent(m.data, { trusted: true });
    const occurredAt = new Date(m.info.timestampNanos / 1e6).toISOString();
    const appends: Promise<number>[] = [];
    const record = (decided: DecidedEvent[], index: number): void => {
      for (const d of decided) {
        if (!isRecorded(d)) {
          this.apply(d);
          continue;
        }
        const event = buildEvent(d.type, d.data as never, {
          id: stableUuid(`${input.id}:${index}:${d.type}`),
          occurredAt,
          causationId: input.id,
          causationSeq: m.seq,
          correlationId: input.correlationId,
        }) as AlertEvent;
        appends.push(this.append(event, chains));
        // Re-deciding after a restart can differ from what is stored in counts kept only in
        // memory (unrecorded repeats); the log wins.
        this.apply(this.stored.get(event.id)?.event ?? d);
      }
    };
    if (input.type === 'AlertCommandReceived') {
      const { serviceId, fingerprint } = input.data;
      try {
        record(
          decide(commandOf(input.data), this.open.get(alertKey(serviceId, fingerprint))?.alert, {
            now: occurredAt,
            newAlertId: () => input.id,
          }),
          0,
        );
      } catch (err) {
        if (!(err instanceof AlertCommandError)) throw err;
        // A command that raced with a resolve (or named a closed alert) changes nothing.
        this.log.info(
          { partition: this.partition, alertId: input.data.alertId, command: input.data.command, reason: err.message },
          'alert command ignored',
        );
      }
      return appends;
    }
    if (input.type !== 'SignalsReceived') throw new Error(`decider cannot handle ${input.type}`);
    input.data.signals.forEach((signal, index) => {
      const key = alertKey(input.data.serviceId, signal.fingerprint);
      const decided = decide(
        { type: 'ReportSignal', data: { serviceId: input.data.serviceId, source: input.data.source, signal } },
        this.open.get(key)?.alert,
        { now: occurredAt, newAlertId: () => stableUuid(`alert:${input.id}:${index}`) },
      );
      record(decided, index);
    });
    return appends;
  }

  /**
   * Appends after the previous event of the same alert, expecting its sequence. Events of an
   * alert in flight together form a chain; a chain ends when its last append is stored (the
   * alert's lastSeq then carries on), so the map holds only alerts with appends in flight.
   */
  private append(event: AlertEvent, chains: Map<string, Promise<number>>): Promise<number> {
    const subject = subjects.alert(this.partition, event.data.alertId);
    const key = alertKey(event.data.serviceId, event.data.fingerprint);
    const stored = this.stored.get(event.id)?.seq;
    const write = async (lastSubjectSequence: number): Promise<number> => {
      if (stored !== undefined) return stored;
      // No msgID: recovery already knows every stored event by its id (see restart()), and a
      // 10-minute duplicate window over ~20k events/s would hold millions of ids in the server
      // (measured: +25% decisions/s without it). The expected sequence still stops a second writer.
      const { seq } = await this.appender.append(subject, encodeEvent(event), { expectLastSubjectSequence: lastSubjectSequence });
      eventsTotal.inc({ type: event.type });
      return seq;
    };
    const previous = chains.get(subject);
    const entry = previous ? undefined : this.open.get(key);
    const seq = previous ? previous.then(write) : write(entry?.alert.alertId === event.data.alertId ? entry.lastSeq : 0);
    chains.set(subject, seq);
    return seq.then((s) => {
      const current = this.open.get(key);
      if (current && current.alert.alertId === event.data.alertId) current.lastSeq = Math.max(current.lastSeq, s);
      if (chains.get(subject) === seq) chains.delete(subject);
      return s;
    });
  }

  private apply(event: DecidedEvent, seq?: number): void {
    const key = alertKey(event.data.serviceId, event.data.fingerprint);
    const entry = this.open.get(key);
    const next = evolve(entry?.alert, event);
    if (!next) this.open.delete(key);
    else this.open.set(key, { alert: next, lastSeq: seq ?? (entry?.alert.alertId === next.alertId ? entry.lastSeq : 0) });
    this.openGauge.set(this.open.size);
  }

  /**
   * Finds the ack floor, rebuilds the state as of it and recreates the intake consumer so it
   * delivers from the floor + 1, in order (a plain redelivery would come after newer messages).
   */
  private async restart(): Promise<void> {
    // Appends still in flight land (or time out) before the log is read.
    await this.appender.drain();
    const jsm = await jetstreamManager(this.nc);
    const name = CONSUMERS.decider(this.partition);
    const floor = Math.max(await ackFloor(jsm, name), this.ackedThrough);
    await this.deleteConsumer(jsm);
    await this.rebuild(floor);
    await this.deliverFrom(jsm, floor);
  }

  /**
   * After the consumer failed (deleted, or the stream gone for a moment) with every decided message's events stored and acked:
   * the state is exact as of the last decided message, so only the consumer is recreated, to
   * deliver from the next message in order (whatever was in flight to the old one comes again).
   */
  private async resync(): Promise<void> {
    const jsm = await jetstreamManager(this.nc);
    await this.deleteConsumer(jsm);
    await this.deliverFrom(jsm, this.decidedThrough);
  }

  private async deleteConsumer(jsm: JetStreamManager): Promise<void> {
    await jsm.consumers.delete(STREAMS.intake, CONSUMERS.decider(this.partition)).catch((err: unknown) => {
      if (!(err instanceof JetStreamApiError && err.code === JetStreamApiCodes.ConsumerNotFound)) throw err;
    });
  }

  /** Creates the intake consumer to deliver from `floor` + 1, everything up to `floor` decided. */
  private async deliverFrom(jsm: JetStreamManager, floor: number): Promise<void> {
    this.decidedThrough = floor;
    await jsm.consumers.add(STREAMS.intake, {
      ...durableConsumer(CONSUMERS.decider(this.partition), subjects.intake(this.partition), PULL_BATCH * 2, 'all'),
      deliver_policy: DeliverPolicy.StartSequence,
      opt_start_seq: floor + 1,
    });
    this.ackedThrough = floor;
  }

  /** Reads every event of the partition and keeps the open alerts as of intake sequence `floor`. */
  private async rebuild(floor: number): Promise<void> {
    this.open = new Map();
    this.stored = new Map();
    const consumer = await this.js.consumers.get(STREAMS.alerts, {
      filter_subjects: subjects.alertsOfPartition(this.partition),
      deliver_policy: DeliverPolicy.All,
    });
    if ((await consumer.info()).num_pending > 0) {
      const messages = await consumer.consume();
      for await (const m of messages) {
        const event = decodeEvent(m.data, { trusted: true }) as AlertEvent;
        if ((event.causationSeq ?? 0) <= floor) this.apply(event, m.seq);
        else this.stored.set(event.id, { seq: m.seq, event });
        if (m.info.pending === 0) break;
      }
      await messages.close();
    }
    await consumer.delete().catch(() => undefined);
    this.log.info(
      { partition: this.partition, open: this.open.size, floor, aboveFloor: this.stored.size },
      'partition state rebuilt from the log',
    );
  }
}

async function ackFloor(jsm: JetStreamManager, name: string): Promise<number> {
  try {
    return (await jsm.consumers.info(STREAMS.intake, name)).ack_floor.stream_seq;
  } catch (err) {
    if (err instanceof JetStreamApiError && err.code === JetStreamApiCodes.ConsumerNotFound) return 0;
    throw err;
  }
}

/** The decider command an intake AlertCommandReceived stands for. */
function commandOf(d: EventData<'AlertCommandReceived'>): AlertCommand {
  const target = { alertId: d.alertId, serviceId: d.serviceId, fingerprint: d.fingerprint };
  switch (d.command) {
    case 'acknowledge':
      return { type: 'AcknowledgeAlert', data: { ...target, userId: d.userId, note: d.note } };
    case 'resolve':
      return { type: 'ResolveAlert', data: { ...target, userId: d.userId, note: d.note } };
    case 'snooze':
      if (d.until === null) throw new AlertCommandError('invalid', 'snooze needs until');
      return { type: 'SnoozeAlert', data: { ...target, userId: d.userId, note: d.note, until: d.until } };
    case 'escalate':
      return { type: 'EscalateAlert', data: { ...target, userId: d.userId, note: d.note } };
    case 'unacknowledge':
      return { type: 'UnacknowledgeAlert', data: { ...target, userId: d.userId, reason: d.reason } };
    default: {
      const _never: never = d.command;
      return _never;
    }
  }
}
