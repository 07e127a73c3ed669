import { DeliverPolicy, jetstream, type ConsumerMessages } from '@nats-io/jetstream';
import type { NatsConnection } from '@nats-io/transport-node';
import { Counter } from 'prom-client';
import { buildEvent, decodeEvent, encodeEvent, partitionOf, stableUuid, STREAMS, subjects, type Signal } from '@oncall/contracts';
import { registry, type Clock, type ConfigView, type Logger, LIVE_PULL } from '@oncall/shared';
import { onBeat, onTick, unsent, type HeartbeatOutcome, type Monitor, type MonitorState } from '../domain/heartbeat.js';

const signalsTotal = new Counter({
  name: 'oncall_escalator_heartbeat_signals_total',
  help: 'Heartbeat expiries and recoveries sent to intake',
  labelNames: ['status'],
  registers: [registry],
});
const sendFailures = new Counter({
  name: 'oncall_escalator_heartbeat_send_failures_total',
  help: 'Heartbeat signals intake did not store; each is sent again at the next check',
  registers: [registry],
});

const CHECK_EVERY_MS = 1000;

/**
 * Watches every heartbeat monitor (one owner, under a lease): the last beat per monitor and
 * every new one come from one ordered consumer (deliver last per subject), and a check each
 * second turns a missed interval into a firing signal on intake and the next beat into a
 * resolved one. A monitor's state changes only once its signal is stored: a send that fails is
 * made again at the next check (the message id makes a repeat a no-op).
 */
export class HeartbeatWatcher {
  private readonly states = new Map<string, MonitorState>();
  /** Beats and checks change states one at a time: a beat never lands between a check's send and its outcome. */
  private turn: Promise<void> = Promise.resolve();

  constructor(private readonly deps: { nc: NatsConnection; partitions: number; config: ConfigView; clock: Clock; log: Logger }) {}

  async run(lost: AbortSignal): Promise<void> {
    const js = jetstream(this.deps.nc);
    const consumer = await js.consumers.get(STREAMS.heartbeats, {
      filter_subjects: subjects.heartbeatsAll,
      deliver_policy: DeliverPolicy.LastPerSubject,
    });
    const messages: ConsumerMessages = await consumer.consume(LIVE_PULL);
    lost.addEventListener('abort', () => void messages.close(), { once: true });
    const checks = this.checkEverySecond(lost);
    try {
      for await (const m of messages) {
        const e = decodeEvent(m.data, { trusted: true });
        if (e.type !== 'HeartbeatReceived') continue;
        const monitor = this.deps.config.state().heartbeats.get(e.data.monitorId);
        if (!monitor) continue;
        const at = Date.parse(e.data.receivedAt);
        await this.apply(monitor, (before) => onBeat(monitor, before, at));
      }
    } finally {
      await checks.stop();
    }
  }

  /** Checks every monitor now and then a second after each check began, until `lost` aborts. */
  private checkEverySecond(lost: AbortSignal): { stop: () => Promise<void> } {
    let cancel = (): void => undefined;
    let running: Promise<void> = Promise.resolve();
    const check = () => {
      const startedAt = this.deps.clock.now();
      running = this.check()
        .catch((err: unknown) => this.deps.log.error({ err }, 'heartbeat check failed'))
        .then(() => {
          if (!lost.aborted) cancel = this.deps.clock.at(startedAt + CHECK_EVERY_MS, check);
        });
    };
    check();
    return {
      stop: async () => {
        cancel();
        await running;
        cancel();
      },
    };
  }

  private state(monitorId: string): MonitorState {
    return this.states.get(monitorId) ?? { lastBeat: null, since: this.deps.clock.now(), expired: false };
  }

  private async check(): Promise<void> {
    const now = this.deps.clock.now();
    for (const monitor of this.deps.config.state().heartbeats.values()) await this.apply(monitor, (before) => onTick(monitor, before, now));
  }

  /** Decides for one monitor, sends the signal, if any, and keeps the new state only once the signal is stored. */
  private apply(monitor: Monitor, decide: (before: MonitorState) => HeartbeatOutcome): Promise<void> {
    const next = this.turn.then(() => this.applyNow(monitor, decide));
    this.turn = next.catch(() => undefined);
    return next;
  }

  private async applyNow(monitor: Monitor, decide: (before: MonitorState) => HeartbeatOutcome): Promise<void> {
    const before = this.state(monitor.monitorId);
    const out = decide(before);
    if (!out.signal) {
      this.states.set(monitor.monitorId, out.state);
      return;
    }
    try {
      await this.send(monitor, out.signal);
      this.states.set(monitor.monitorId, out.state);
    } catch (err) {
      sendFailures.inc();
      this.states.set(monitor.monitorId, unsent(before, out));
      this.deps.log.warn(
        { err, monitor: monitor.monitorId, status: out.signal.status },
        'heartbeat signal not stored; sent again at the next check',
      );
    }
  }

  /** Through intake like any source; the message id makes a re-send (a retry, a restart) a no-op. */
  private async send(monitor: Monitor, signal: Signal): Promise<void> {
    const requestId = `heartbeat:${monitor.monitorId}:${signal.status}:${signal.startsAt ?? signal.endsAt}`;
    const event = buildEvent(
      'SignalsReceived',
      { serviceId: monitor.serviceId, source: 'heartbeat', requestId, signals: [signal], context: { monitorId: monitor.monitorId } },
      { id: stableUuid(requestId), occurredAt: new Date(this.deps.clock.now()).toISOString(), causationId: null, correlationId: requestId },
    );
    const partition = partitionOf(monitor.serviceId, signal.fingerprint, this.deps.partitions);
    await jetstream(this.deps.nc).publish(subjects.intake(partition), encodeEvent(event), { msgID: requestId });
    signalsTotal.inc({ status: signal.status });
    this.deps.log.info({ monitor: monitor.monitorId, status: signal.status }, 'heartbeat signal sent');
  }
}
