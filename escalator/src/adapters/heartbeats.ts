import { DeliverPolicy, jetstream, type ConsumerMessages } from '@nats-io/jetstream';
import type { NatsConnection } from '@nats-io/transport-node';
import { Counter } from 'prom-client';
import { buildEvent, decodeEvent, encodeEvent, partitionOf, stableUuid, STREAMS, subjects, type Signal } from '@oncall/contracts';
import { registry, type Clock, type ConfigView, type Logger } from '@oncall/shared';
import { onBeat, onTick, type Monitor, type MonitorState } from '../domain/heartbeat.js';

const signalsTotal = new Counter({
  name: 'oncall_escalator_heartbeat_signals_total',
  help: 'Heartbeat expiries and recoveries sent to intake',
  labelNames: ['status'],
  registers: [registry],
});

const CHECK_EVERY_MS = 1000;

/**
 * Watches every heartbeat monitor (one owner, under a lease): the last beat per monitor and
 * every new one come from one ordered consumer (deliver last per subject), and a check each
 * second turns a missed interval into a firing signal on intake and the next beat into a
 * resolved one.
 */
export class HeartbeatWatcher {
  private readonly states = new Map<string, MonitorState>();

  constructor(private readonly deps: { nc: NatsConnection; partitions: number; config: ConfigView; clock: Clock; log: Logger }) {}

  async run(lost: AbortSignal): Promise<void> {
    const js = jetstream(this.deps.nc);
    const consumer = await js.consumers.get(STREAMS.heartbeats, {
      filter_subjects: subjects.heartbeatsAll,
      deliver_policy: DeliverPolicy.LastPerSubject,
    });
    const messages: ConsumerMessages = await consumer.consume();
    lost.addEventListener('abort', () => void messages.close(), { once: true });
    let cancel = (): void => undefined;
    const check = () => {
      void this.check().catch((err: unknown) => this.deps.log.error({ err }, 'heartbeat check failed'));
      if (!lost.aborted) cancel = this.deps.clock.at(this.deps.clock.now() + CHECK_EVERY_MS, check);
    };
    check();
    for await (const m of messages) {
      const e = decodeEvent(m.data, { trusted: true });
      if (e.type !== 'HeartbeatReceived') continue;
      const monitor = this.deps.config.state().heartbeats.get(e.data.monitorId);
      if (!monitor) continue;
      const out = onBeat(monitor, this.state(monitor.monitorId), Date.parse(e.data.receivedAt));
      this.states.set(monitor.monitorId, out.state);
      if (out.signal) await this.send(monitor, out.signal);
    }
    cancel();
  }

  private state(monitorId: string): MonitorState {
    return this.states.get(monitorId) ?? { lastBeat: null, since: this.deps.clock.now(), expired: false };
  }

  private async check(): Promise<void> {
    const now = this.deps.clock.now();
    for (const monitor of this.deps.config.state().heartbeats.values()) {
      const out = onTick(monitor, this.state(monitor.monitorId), now);
      this.states.set(monitor.monitorId, out.state);
      if (out.signal) await this.send(monitor, out.signal);
    }
  }

  /** Through intake like any source; the message id makes a re-send after a restart a no-op. */
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
