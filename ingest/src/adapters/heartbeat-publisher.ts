import { randomUUID } from 'node:crypto';
import { buildEvent, encodeEvent, subjects } from '@oncall/contracts';
import type { StreamAppender } from '@oncall/shared';
import { IntakeUnavailableError } from './intake-publisher.js';

/** Appends one HeartbeatReceived per beat; answered only after JetStream acked it. */
export class HeartbeatPublisher {
  constructor(private readonly appender: StreamAppender) {}

  async beat(monitorId: string, serviceId: string, now: Date): Promise<void> {
    const id = randomUUID();
    const event = buildEvent(
      'HeartbeatReceived',
      { monitorId, serviceId, receivedAt: now.toISOString() },
      {
        id,
        occurredAt: now.toISOString(),
        causationId: null,
        correlationId: id,
      },
    );
    try {
      await this.appender.append(subjects.heartbeat(monitorId), encodeEvent(event), { msgID: id });
    } catch (cause) {
      throw new IntakeUnavailableError('JetStream did not acknowledge the heartbeat', { cause });
    }
  }
}
