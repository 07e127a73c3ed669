import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Kvm } from '@nats-io/kv';
import type { NatsConnection } from '@nats-io/transport-node';
import { ManualClock, StreamAppender } from '@oncall/shared';
import { startTestNats, testLog, type TestNats } from '../../../test/harness.js';
import { legacyRecordKey, recordKey } from '../domain/keys.js';
import { formatRecord, parseRecord } from '../domain/record.js';
import { ClaimLost, type Claim } from '../pipeline/index.js';
import { DELIVERY_BUCKET, DeliveryRecords } from './records.js';

describe('delivery records in the KV bucket', () => {
  let nats: TestNats;
  let nc: NatsConnection;
  let appender: StreamAppender;
  const clock = new ManualClock(Date.parse('2026-12-01T10:00:00Z'));
  const open = () => DeliveryRecords.open(nc, appender, { replicas: 1, clock, claimStaleMs: 60_000, log: testLog });
  const claimed = (r: Awaited<ReturnType<DeliveryRecords['claim']>>): Claim => {
    if (!('claimed' in r)) throw new Error(`expected a claim, found ${JSON.stringify(r.found)}`);
    return r.claimed;
  };
  const stored = async (idempotencyKey: string) => {
    const entry = await (await new Kvm(nc).open(DELIVERY_BUCKET)).get(recordKey(idempotencyKey));
    return entry?.operation === 'PUT' ? parseRecord(entry.string()) : null;
  };

  beforeAll(async () => {
    nats = await startTestNats();
    nc = await nats.connect();
    appender = new StreamAppender(nc);
  });
  afterAll(async () => {
    await appender?.close();
    await nats?.stop();
  });

  it('one claim at a time; a settled delivery is found, not claimed', async () => {
    const records = await open();
    const c = claimed(await records.claim('n1:slack'));
    expect(await records.claim('n1:slack')).toStrictEqual({ found: { state: 'sending', since: clock.now() } });
    await records.settle(c, { state: 'sent', providerMessageId: 'C1/1.1' });
    expect(await records.claim('n1:slack')).toStrictEqual({ found: { state: 'sent', providerMessageId: 'C1/1.1' } });
    records.close();
  });

  it('a released claim is claimed again; a release after a take-over leaves the new holder alone', async () => {
    const records = await open();
    const first = claimed(await records.claim('n2:slack'));
    await records.release(first);
    const second = claimed(await records.claim('n2:slack'));
    await records.release(first);
    expect(await stored('n2:slack')).toMatchObject({ state: 'sending' });
    await records.release(second);
    expect(await stored('n2:slack')).toBeNull();
    records.close();
  });

  it('a refreshed claim stays; one left stale is taken over, and its old holder learns it lost it', async () => {
    const records = await open();
    const c = claimed(await records.claim('n3:sms'));
    clock.advance(50_000);
    await records.refresh(c);
    clock.advance(50_000);
    expect(await records.claim('n3:sms')).toMatchObject({ found: { state: 'sending' } });
    clock.advance(60_000);
    const taken = claimed(await records.claim('n3:sms'));
    await expect(records.refresh(c)).rejects.toThrow(ClaimLost);
    await records.refresh(taken);
    records.close();
  });

  it('keys the old encoding mixed up are records of their own', async () => {
    const records = await open();
    const colon = claimed(await records.claim('a:b'));
    await records.settle(colon, { state: 'failed', delivery: 1, reason: 'bad_request' });
    expect(claimed(await records.claim('a.b'))).toBeTruthy();
    records.close();
  });

  it('a record an older release wrote under its key is honoured and copied to the new key', async () => {
    const kv = await new Kvm(nc).open(DELIVERY_BUCKET);
    const id = '3f0e8a52-5d7c-4b8a-9a51-2f3c4d5e6f70';
    await kv.put(legacyRecordKey(`${id}:slack`), formatRecord({ state: 'sent', providerMessageId: 'C0/1.9' }));
    await kv.put(legacyRecordKey(`${id}:sms`), formatRecord({ state: 'sending', since: clock.now() - 120_000 }));
    const records = await open();
    expect(await records.claim(`${id}:slack`)).toStrictEqual({ found: { state: 'sent', providerMessageId: 'C0/1.9' } });
    expect(await stored(`${id}:slack`)).toStrictEqual({ state: 'sent', providerMessageId: 'C0/1.9' });
    // A stale claim of a process of the older release: taken over like any.
    expect(claimed(await records.claim(`${id}:sms`))).toBeTruthy();
    records.close();
  });
});
