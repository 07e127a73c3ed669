import { setTimeout as sleep } from 'node:timers/promises';
import type { NatsConnection } from '@nats-io/transport-node';
import { jetstream, jetstreamManager, DeliverPolicy, type JetStreamClient, type JsMsg, type PubAck } from '@nats-io/jetstream';
import { Counter, Gauge } from 'prom-client';
import {
  CONSUMERS, decodeEvent, durableConsumer, encodeEvent, makeEvent, stableUuid, STREAMS, subjects,
  type AlertEvent, type EventOf,
} from '@oncall/contracts';
import { registry, type Logger } from '@oncall/shared';
import { alertKey, decide, evolve, type DecidedEvent, type OpenAlert } from '../domain/alert.js';

const inputsTotal = new Counter({ name: 'oncall_decider_inputs_total', help: 'Intake messages decided', registers: [registry] });
const eventsTotal = new Counter({
  name: 'oncall_decider_events_total',
  help: 'Lifecycle events appended by the decider',
  labelNames: ['type'],
  registers: [registry],
});
const openAlerts = new Gauge({ name: 'oncall_decider_open_alerts', help: 'Open alerts held in memory', labelNames: ['partition'], registers: [registry] });
const recoveries = new Counter({ name: 'oncall_decider_recoveries_total', help: 'Partition state rebuilds after a failed append', registers: [registry] });

type Entry = { alert: OpenAlert; lastSeq: number };

const FETCH_BATCH = 500;
const FETCH_EXPIRES_MS = 2000;
const RETRY_DELAY_MS = 1000;

/**
 * The single writer of one partition. It holds every open alert of the partition in memory,
 * rebuilt from the ALERTS stream at start, and turns intake messages into lifecycle events.
 *
 * Decisions are a function of the log: `now` is the intake message's JetStream timestamp and
 * ids derive from the intake event id, so re-deciding a message after a crash yields the same
 * events with the same msgIDs, which JetStream drops as duplicates.
 *
 * Events of one alert are appended in order with `expect.lastSubjectSequence`; events of
 * different alerts are in flight together. Intake messages are acked in order once their
 * events are stored; if an append fails, the partition naks what is left, rebuilds its state
 * from the log and carries on.
 */
export class PartitionDecider {
  private readonly js: JetStreamClient;
  private open = new Map<string, Entry>();
  private stopped = false;

  constructor(
    private readonly nc: NatsConnection,
    readonly partition: number,
    private readonly log: Logger,
  ) {
    this.js = jetstream(nc);
  }

  async start(): Promise<void> {
    const jsm = await jetstreamManager(this.nc);
    await jsm.consumers.add(STREAMS.intake, durableConsumer(CONSUMERS.decider(this.partition), subjects.intake(this.partition), FETCH_BATCH * 2));
    await this.rebuild();
  }

  stop(): void {
    this.stopped = true;
  }

  /**
   * Runs until stop() or until the NATS connection is closed. Each turn fetches a batch of
   * intake messages and decides them; after any failure the state is rebuilt from the log.
   */
  async run(): Promise<void> {
    // State is trusted only right after a complete rebuild and while every append succeeds.
    let stale = false;
    while (!this.stopped && !this.nc.isClosed()) {
      try {
        if (stale) {
          await this.rebuild();
          stale = false;
        }
        const consumer = await this.js.consumers.get(STREAMS.intake, CONSUMERS.decider(this.partition));
        while (!this.stopped && !stale) {
          const batch = await consumer.fetch({ max_messages: FETCH_BATCH, expires: FETCH_EXPIRES_MS });
          if (!(await this.decideBatch(batch))) {
            recoveries.inc();
            stale = true;
          }
        }
      } catch (err) {
        if (this.stopped || this.nc.isClosed()) return;
        this.log.error({ err, partition: this.partition }, 'decider partition failed; rebuilding and retrying');
        stale = true;
        await sleep(RETRY_DELAY_MS);
      }
    }
  }

  /** Number of open alerts held; for tests and metrics. */
  openCount(): number {
    return this.open.size;
  }

  private async decideBatch(batch: AsyncIterable<JsMsg>): Promise<boolean> {
    const chains = new Map<string, Promise<number>>();
    const pending: JsMsg[] = [];
    let acked = Promise.resolve();
    let failed = false;
    for await (const m of batch) {
      pending.push(m);
      if (failed) continue;
      let appends: Promise<unknown>[];
      try {
        appends = this.decideMessage(m, chains);
      } catch (err) {
        this.log.error({ err, partition: this.partition, seq: m.seq }, 'intake message cannot be decided; terminating it');
        m.term();
        pending.pop();
        continue;
      }
      const done = Promise.all(appends);
      acked = acked.then(async () => {
        await done;
        m.ack();
        pending.splice(pending.indexOf(m), 1);
      });
      acked.catch((err: unknown) => {
        if (!failed) this.log.warn({ err, partition: this.partition, seq: m.seq }, 'append failed; rebuilding partition state');
        failed = true;
      });
      inputsTotal.inc();
    }
    await acked.catch(() => undefined);
    if (!failed) return true;
    for (const m of pending.sort((a, b) => a.seq - b.seq)) m.nak();
    return false;
  }

  /** Decides every signal of one intake message and starts appending the events. */
  private decideMessage(m: JsMsg, chains: Map<string, Promise<number>>): Promise<PubAck>[] {
    const input = decodeEvent(m.data);
    if (input.type !== 'SignalsReceived') throw new Error(`decider cannot handle ${input.type}`);
    const occurredAt = new Date(m.info.timestampNanos / 1e6).toISOString();
    const appends: Promise<PubAck>[] = [];
    input.data.signals.forEach((signal, index) => {
      const key = alertKey(input.data.serviceId, signal.fingerprint);
      const entry = this.open.get(key);
      const decided = decide(
        { type: 'ReportSignal', data: { serviceId: input.data.serviceId, source: input.data.source, signal } },
        entry?.alert,
        { newAlertId: () => stableUuid(`alert:${input.id}:${index}`) },
      );
      for (const d of decided) {
        const msgID = `${input.id}:${index}:${d.type}`;
        const event = makeEvent(d.type, d.data as never, {
          id: stableUuid(msgID),
          occurredAt,
          causationId: input.id,
          correlationId: input.correlationId,
        }) as AlertEvent;
        appends.push(this.append(event, msgID, chains, entry?.lastSeq ?? 0));
        this.apply(d, undefined);
      }
    });
    return appends;
  }

  private append(event: AlertEvent, msgID: string, chains: Map<string, Promise<number>>, knownSeq: number): Promise<PubAck> {
    const subject = subjects.alert(this.partition, event.data.alertId);
    const previous = chains.get(subject) ?? Promise.resolve(knownSeq);
    const ack = previous.then((lastSubjectSequence) =>
      this.js.publish(subject, encodeEvent(event), { msgID, expect: { lastSubjectSequence } }),
    );
    chains.set(subject, ack.then((pa) => pa.seq));
    return ack.then((pa) => {
      eventsTotal.inc({ type: event.type });
      const entry = this.open.get(alertKey(event.data.serviceId, event.data.fingerprint));
      if (entry && entry.alert.alertId === event.data.alertId) entry.lastSeq = Math.max(entry.lastSeq, pa.seq);
      return pa;
    });
  }

  private apply(event: DecidedEvent, seq: number | undefined): void {
    const key = alertKey(event.data.serviceId, event.data.fingerprint);
    const entry = this.open.get(key);
    const next = evolve(entry?.alert, event);
    if (!next) this.open.delete(key);
    else this.open.set(key, { alert: next, lastSeq: seq ?? entry?.lastSeq ?? 0 });
    openAlerts.set({ partition: String(this.partition) }, this.open.size);
  }

  /** Reads every event of the partition from the ALERTS stream and keeps the open alerts. */
  private async rebuild(): Promise<void> {
    this.open = new Map();
    const consumer = await this.js.consumers.get(STREAMS.alerts, {
      filter_subjects: subjects.alertsOfPartition(this.partition),
      deliver_policy: DeliverPolicy.All,
    });
    const info = await consumer.info();
    if (info.num_pending > 0) {
      const messages = await consumer.consume();
      for await (const m of messages) {
        this.apply(decodeEvent(m.data) as EventOf<AlertEvent['type']> as DecidedEvent, m.seq);
        if (m.info.pending === 0) break;
      }
      await messages.close();
    }
    await consumer.delete().catch(() => undefined);
    this.log.info({ partition: this.partition, open: this.open.size }, 'partition state rebuilt from the log');
  }
}
