import { JetStreamApiError, JetStreamError } from '@nats-io/jetstream';
import {
  ClosedConnectionError,
  ConnectionError,
  DrainingConnectionError,
  NoRespondersError,
  RequestError,
  TimeoutError,
} from '@nats-io/transport-node';
import { EventDecodeError, type ParkReason } from '@oncall/contracts';
import { AppendFailed } from '@oncall/shared';

/**
 * Why handling a message failed. NATS, JetStream or the KV bucket out of reach (or refusing for
 * a moment) is transient: the message is tried again after a back-off, as long as it takes.
 * Anything else — an event no schema knows, a bug throwing while planning, rendering or sending
 * — fails the same way every time: the message is parked (invariant 7) and the consumer goes on.
 * Providers' own failures never get here: notifiers throw DeliveryError, which the pipeline's
 * retry stage handles.
 */
export function isTransient(err: unknown): boolean {
  return (
    err instanceof AppendFailed ||
    err instanceof JetStreamApiError ||
    err instanceof JetStreamError ||
    err instanceof TimeoutError ||
    err instanceof NoRespondersError ||
    err instanceof RequestError ||
    err instanceof ConnectionError ||
    err instanceof ClosedConnectionError ||
    err instanceof DrainingConnectionError
  );
}

export const parkReason = (err: unknown): ParkReason => (err instanceof EventDecodeError ? 'undecodable' : 'undeliverable');
