import { describe, expect, it } from 'vitest';
import { formatRecord, parseRecord, type DeliveryRecord } from './record.js';

describe('delivery records', () => {
  const records: DeliveryRecord[] = [
    { state: 'sending', since: 1_763_900_000_000 },
    { state: 'sent', providerMessageId: 'C0123/1763900000.000100' },
    { state: 'sent', providerMessageId: null },
    { state: 'sent', providerMessageId: 'SM:with:colons' },
    { state: 'failed', delivery: 1, reason: 'invalid_destination' },
    { state: 'failed', delivery: 5, reason: 'provider_unavailable' },
  ];
  it.each(records)('round-trips %j', (r) => expect(parseRecord(formatRecord(r))).toEqual(r));

  it.each([
    ['failed:channel_not_configured', { state: 'failed', delivery: 1, reason: 'channel_not_configured' }],
    ['sending:', { state: 'sending', since: 0 }],
    ['sending:soon', { state: 'sending', since: 0 }],
    ['garbage', { state: 'sending', since: 0 }],
    ['', { state: 'sending', since: 0 }],
  ] as const)('reads %j as %j', (value, expected) => expect(parseRecord(value)).toEqual(expected));
});
