import type { NatsConnection } from '@nats-io/transport-node';
import { jetstream, type JetStreamClient } from '@nats-io/jetstream';
import { buildEvent, encodeEvent, subjects } from '@oncall/contracts';
import { randomUUID } from 'node:crypto';
import { IntakeUnavailableError } from './intake-publisher.js';

/** Appends one HeartbeatReceived per beat; answered only after JetStream acked it. */
export class HeartbeatPublisher {
  private readonly js: JetStreamClient;

  constructor(
    nc: NatsConnection,
    private readonly timeoutMs = 5000,
  ) {
    this.js = jetstream(nc);
  }

  async beat(monitorId: string, serviceId: string, now: Date): Promise<void> {
    const id = randomUUID();
    const event = buildEvent('HeartbeatReceived', { monitorId, serviceId, receivedAt: now.toISOString() }, {
      id,
      occurredAt: now.toISOString(),
      causationId: null,
      correlationId: id,
    });
    try {
      await this.js.publish(subjects.heartbeat(monitorId), encodeEvent(event), { msgID: id, timeout: this.timeoutMs });
    } catch (cause) {
      throw new IntakeUnavailableError('JetStream did not acknowledge the heartbeat', { cause });
    }
  }
}
