import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { NatsConnection } from '@nats-io/transport-node';
import { startTestNats, type TestNats } from '../../test/harness.js';
import type { ReplyTarget } from './domain/reply-codes.js';
import { NotAPhoneNumber, ReplyCodes, SmsOptOuts } from './reply-codes.js';

const target = (alertId: string): ReplyTarget => ({
  alertId,
  serviceId: 'checkout',
  fingerprint: `fp-${alertId}`,
  userId: 'alice',
  summary: alertId,
});

describe('reply codes and opt-outs on a real nats-server', () => {
  let nats: TestNats;
  let a: NatsConnection;
  let b: NatsConnection;

  beforeAll(async () => {
    nats = await startTestNats();
    a = await nats.connect('dispatcher-a');
    b = await nats.connect('dispatcher-b');
  });
  afterAll(async () => {
    await nats.stop();
  });

  it('two dispatchers allocating for one number at once never hand out one code twice', async () => {
    const [one, two] = await Promise.all([ReplyCodes.open(a), ReplyCodes.open(b)]);
    const to = '+15555550101';
    const now = Date.now();
    const codes = await Promise.all(
      Array.from({ length: 20 }, (_, i) => (i % 2 === 0 ? one : two).allocate(to, target(`alert-${i}`), now)),
    );
    expect(new Set(codes).size).toBe(20);
    expect([...codes].sort((x, y) => x - y)).toStrictEqual(Array.from({ length: 20 }, (_, i) => i + 1));
    for (const [i, code] of codes.entries()) expect((await two.lookup(to, code, now))?.alertId).toBe(`alert-${i}`);
    // Codes are per number: another number starts at 1, and a code is not found from elsewhere.
    expect(await one.allocate('+15555550102', target('alert-x'), now)).toBe(1);
    expect(await one.lookup('+15555550103', 1, now)).toBeNull();
  });

  it('refuses a number that is not E.164', async () => {
    const codes = await ReplyCodes.open(a);
    await expect(codes.allocate('0151 123', target('a'), Date.now())).rejects.toBeInstanceOf(NotAPhoneNumber);
    expect(await codes.lookup('0151 123', 1, Date.now())).toBeNull();
  });

  it('records STOP and START durably', async () => {
    const optOuts = await SmsOptOuts.open(a);
    const other = await SmsOptOuts.open(b);
    await optOuts.record('+15555550104', 'stop', 'STOP', Date.parse('2026-01-01T00:00:00Z'));
    expect(await other.get('+15555550104')).toStrictEqual({ keyword: 'STOP', at: '2026-01-01T00:00:00.000Z' });
    await optOuts.record('+15555550104', 'start', 'START', Date.now());
    expect(await other.get('+15555550104')).toBeNull();
  });
});
