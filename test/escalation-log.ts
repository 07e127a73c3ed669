import { jetstream, DeliverPolicy, type ConsumerMessages } from '@nats-io/jetstream';
import type { NatsConnection } from '@nats-io/transport-node';
import {
  decodeEvent,
  encodeEvent,
  makeEvent,
  stableUuid,
  subjects,
  type ConfigKind,
  type DomainEvent,
  type EventData,
  type EventType,
} from '@oncall/contracts';

/**
 * NOTE: reconstructed by the read-models helper (issue 4), which overwrote the original of this
 * untracked file by mistake; rebuilt from how test/escalator.int.test.ts uses it. Please check it
 * against what you had.
 */

let appended = 0;

/** Appends one validated configuration event on `config.<kind>.<id>`; returns its stream sequence. */
export async function appendConfig<T extends EventType>(
  nc: NatsConnection,
  kind: ConfigKind,
  id: string,
  type: T,
  data: EventData<T>,
): Promise<number> {
  appended += 1;
  const event = makeEvent(type, data, {
    id: stableUuid(`config:${kind}:${id}:${type}:${appended}:${Date.now()}`),
    occurredAt: new Date().toISOString(),
    causationId: null,
    correlationId: `test-config-${kind}-${id}`,
  });
  const ack = await jetstream(nc).publish(subjects.config(kind, id), encodeEvent(event));
  return ack.seq;
}

export type FollowedStream = {
  /** Every event of the stream so far, in stream order. */
  readonly events: DomainEvent[];
  /** Resolves with the first `count` events matching `match`, once the stream holds that many. */
  waitFor: (match: (e: DomainEvent) => boolean, count?: number, timeoutMs?: number) => Promise<DomainEvent[]>;
  close: () => Promise<void>;
};

/** Follows a whole stream from its first message with an ordered consumer, decoding every event. */
export async function followStream(nc: NatsConnection, stream: string): Promise<FollowedStream> {
  const consumer = await jetstream(nc).consumers.get(stream, { deliver_policy: DeliverPolicy.All });
  const messages: ConsumerMessages = await consumer.consume();
  const events: DomainEvent[] = [];
  let waiters: Array<() => void> = [];
  void (async () => {
    for await (const m of messages) {
      events.push(decodeEvent(m.data));
      const wake = waiters;
      waiters = [];
      for (const w of wake) w();
    }
  })();
  return {
    events,
    waitFor: async (match, count = 1, timeoutMs = 10_000) => {
      const deadline = Date.now() + timeoutMs;
      for (;;) {
        const found = events.filter(match);
        if (found.length >= count) return found.slice(0, count);
        const left = deadline - Date.now();
        if (left <= 0) throw new Error(`${stream}: ${found.length} of ${count} matching events within ${timeoutMs} ms`);
        let timer: NodeJS.Timeout | undefined;
        await new Promise<void>((resolve) => {
          waiters.push(resolve);
          timer = setTimeout(resolve, left);
        });
        clearTimeout(timer);
      }
    },
    close: async () => {
      await messages.close();
    },
  };
}
