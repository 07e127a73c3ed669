import { DeliverPolicy, jetstreamManager, type JetStreamClient } from '@nats-io/jetstream';
import type { NatsConnection } from '@nats-io/transport-node';
import { decodeEvent, type DomainEvent } from '@oncall/contracts';

/**
 * Reads every message of `stream` matching `filter` that exists now, in order, from sequence
 * `from` on; returns the last sequence read. A message that is not an event (`decodeEvent`
 * throws) goes to `undecodable`.
 *
 * The read ends at the last matching message when it starts (a direct get of the last message on
 * the filter), not when the server says nothing is pending: nats-server 2.9 counts one message too
 * many for a wildcard-filtered consumer that starts at a sequence, and a read waiting for it would
 * wait for the next message written.
 */
export async function readExisting(
  nc: NatsConnection,
  js: JetStreamClient,
  stream: string,
  filter: string,
  fn: (event: DomainEvent, seq: number) => void,
  undecodable: (seq: number, err: unknown) => void = (_, err) => {
    throw err;
  },
  from = 1,
): Promise<number> {
  const jsm = await jetstreamManager(nc);
  const end = (await jsm.streams.getMessage(stream, { last_by_subj: filter }))?.seq ?? 0;
  if (end < from) return 0;
  const consumer = await js.consumers.get(stream, {
    filter_subjects: filter,
    ...(from > 1 ? { deliver_policy: DeliverPolicy.StartSequence, opt_start_seq: from } : { deliver_policy: DeliverPolicy.All }),
  });
  try {
    const messages = await consumer.consume({ max_messages: 1000 });
    for await (const m of messages) {
      let event: DomainEvent | undefined;
      try {
        event = decodeEvent(m.data, { trusted: true });
      } catch (err) {
        undecodable(m.seq, err);
      }
      if (event) fn(event, m.seq);
      if (m.seq >= end) break;
    }
    await messages.close();
  } finally {
    await consumer.delete().catch(() => undefined);
  }
  return end;
}
