import { sql } from 'slonik';
import { CONSUMERS, STREAMS, subjects } from '@oncall/contracts';
import { oneByOne, type Projection } from './types.js';

/**
 * `parked_messages` from the PARKED stream: what consumers could not apply, and the outcome of the
 * latest retry. Parking the same message again (a crash before its ack) keeps the first record.
 */
export const parkedProjection: Projection = {
  name: CONSUMERS.projectorParked,
  stream: STREAMS.parked,
  filterSubject: subjects.parkedAll,
  applyMany: oneByOne(async (tx, event, { seq }) => {
    if (event.type === 'MessageParked') {
      const d = event.data;
      await tx.query(sql.unsafe`
        INSERT INTO parked_messages (consumer, stream, seq, subject, reason, error, data, truncated, parked_at, last_event_seq)
        VALUES (${d.consumer}, ${d.stream}, ${d.seq}, ${d.subject}, ${d.reason}, ${d.error}, decode(${d.data}, 'base64'), ${d.truncated},
          ${d.parkedAt}, ${seq})
        ON CONFLICT (consumer, stream, seq) DO NOTHING`);
    } else if (event.type === 'ParkedMessageRetried') {
      const d = event.data;
      await tx.query(sql.unsafe`
        UPDATE parked_messages SET retries = retries + 1, retried_at = ${d.retriedAt}, retry_outcome = ${d.outcome},
          retry_error = ${d.error}, last_event_seq = ${seq}
        WHERE consumer = ${d.consumer} AND stream = ${d.stream} AND seq = ${d.seq}`);
    }
  }),
};
