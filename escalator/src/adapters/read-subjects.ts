import { DeliverPolicy, type JetStreamClient } from '@nats-io/jetstream';
import { decodeEvent, type DomainEvent } from '@oncall/contracts';

/**
 * Reads every message of `stream` matching `filter` that exists now, in order; returns the last
 * sequence read. A message that is not an event (`decodeEvent` throws) goes to `undecodable`.
 */
export async function readExisting(
  js: JetStreamClient,
  stream: string,
  filter: string,
  fn: (event: DomainEvent, seq: number) => void,
  undecodable: (seq: number, err: unknown) => void = (_, err) => {
    throw err;
  },
): Promise<number> {
  const consumer = await js.consumers.get(stream, { filter_subjects: filter, deliver_policy: DeliverPolicy.All });
  let last = 0;
  try {
    if ((await consumer.info()).num_pending === 0) return 0;
    const messages = await consumer.consume({ max_messages: 1000 });
    for await (const m of messages) {
      let event: DomainEvent | undefined;
      try {
        event = decodeEvent(m.data, { trusted: true });
      } catch (err) {
        undecodable(m.seq, err);
      }
      if (event) fn(event, m.seq);
      last = m.seq;
      if (m.info.pending === 0) break;
    }
    await messages.close();
  } finally {
    await consumer.delete().catch(() => undefined);
  }
  return last;
}
