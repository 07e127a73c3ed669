import { JetStreamApiError } from '@nats-io/jetstream';
import { NoRespondersError, TimeoutError } from '@nats-io/transport-node';
import { describe, expect, it } from 'vitest';
import { EventDecodeError } from '@oncall/contracts';
import { AppendFailed } from '@oncall/shared';
import { isTransient, parkReason } from './failures.js';

describe('what a failure to handle a message means', () => {
  it.each<[string, unknown, boolean, string]>([
    ['an append nobody answered', new AppendFailed('timeout', 'deliveries.0.a', 'no acknowledgement'), true, 'undeliverable'],
    ['a KV read that timed out', new TimeoutError(), true, 'undeliverable'],
    ['no JetStream answering', new NoRespondersError('$JS.API.DIRECT.GET.KV_oncall-deliveries'), true, 'undeliverable'],
    [
      'JetStream refusing for a moment',
      new JetStreamApiError({ code: 503, err_code: 10008, description: 'JetStream system temporarily unavailable' }),
      true,
      'undeliverable',
    ],
    ['an event that is not JSON', new EventDecodeError('event is not JSON'), false, 'undecodable'],
    ['a bug in planning or rendering', new TypeError("Cannot read properties of undefined (reading 'type')"), false, 'undeliverable'],
    ['anything thrown that is not an Error', 'boom', false, 'undeliverable'],
  ])('%s: transient %s, parked as %s', (_, err, transient, reason) => {
    expect(isTransient(err)).toBe(transient);
    expect(parkReason(err)).toBe(reason);
  });
});
