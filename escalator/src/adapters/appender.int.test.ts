import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { JetStreamApiError, jetstream, jetstreamManager } from '@nats-io/jetstream';
import type { NatsConnection } from '@nats-io/transport-node';
import { STREAMS, subjects } from '@oncall/contracts';
import { prepareTopology, startTestNats, type TestNats } from '../../../test/harness.js';
import type { AppendFailed } from '@oncall/shared';
import { ChainAppender, type AppendListener } from './appender.js';

const bytes = (s: string) => new TextEncoder().encode(s);

/** A listener that records what the appender tells it. */
function recorder(lastSeqs: Record<string, number> = {}) {
  const stored: Array<{ context: string; seq: number }> = [];
  const failures: AppendFailed[] = [];
  let wake: () => void = () => undefined;
  const listener: AppendListener<string> = {
    lastSeq: (key) => lastSeqs[key] ?? 0,
    stored: (context, seq) => {
      stored.push({ context, seq });
      wake();
    },
    failed: (err) => {
      failures.push(err);
      wake();
    },
  };
  const until = async (done: () => boolean) => {
    while (!done()) await new Promise<void>((resolve) => (wake = resolve));
  };
  return { listener, stored, failures, until };
}

describe('ChainAppender', () => {
  let nats: TestNats;
  let nc: NatsConnection;

  beforeAll(async () => {
    nats = await startTestNats();
    nc = await nats.connect('appender');
    await prepareTopology(nc, 1);
  });

  afterAll(async () => {
    await nats.stop();
  });

  it('stores the appends of each key in order, each expecting the sequence of the one before, keys side by side', async () => {
    const r = recorder();
    const appender = new ChainAppender(nc, r.listener);
    for (const key of ['a', 'b'])
      for (let i = 0; i < 3; i++)
        appender.append(key, subjects.escalation(0, `alert-${key}`), bytes(`${key}${i}`), `id-${key}-${i}`, `${key}${i}`);
    expect(appender.size).toBe(2);
    await r.until(() => r.stored.length === 6);
    expect(r.stored.filter((s) => s.context.startsWith('a')).map((s) => s.context)).toStrictEqual(['a0', 'a1', 'a2']);
    expect(r.stored.filter((s) => s.context.startsWith('b')).map((s) => s.context)).toStrictEqual(['b0', 'b1', 'b2']);
    expect(appender.size).toBe(0);
    expect(r.failures).toStrictEqual([]);
    await appender.stop();

    const js = jetstream(nc);
    const jsm = await jetstreamManager(nc);
    const last = await jsm.streams.getMessage(STREAMS.escalations, { last_by_subj: subjects.escalation(0, 'alert-a') });
    expect(new TextDecoder().decode(last!.data)).toBe('a2');
    // The message ids were sent: a repeat is a duplicate.
    expect((await js.publish(subjects.escalation(0, 'alert-a'), bytes('a2'), { msgID: 'id-a-2' })).duplicate).toBe(true);
  });

  it('reports a wrong expected sequence as a rejected append and sends nothing after it', async () => {
    const r = recorder({ 'alert-c': 12345 });
    const appender = new ChainAppender(nc, r.listener);
    appender.append('alert-c', subjects.escalation(0, 'alert-c'), bytes('c0'), 'id-c-0', 'c0');
    appender.append('alert-c', subjects.escalation(0, 'alert-c'), bytes('c1'), 'id-c-1', 'c1');
    await r.until(() => r.failures.length > 0);
    await appender.stop();
    expect(r.stored).toStrictEqual([]);
    expect(r.failures).toHaveLength(1);
    expect(r.failures[0]!.reason).toBe('rejected');
    expect(r.failures[0]!.cause).toBeInstanceOf(JetStreamApiError);
    expect((r.failures[0]!.cause as JetStreamApiError).code).toBe(10071);
    const jsm = await jetstreamManager(nc);
    await expect(jsm.streams.getMessage(STREAMS.escalations, { last_by_subj: subjects.escalation(0, 'alert-c') })).resolves.toBeNull();
  });

  it('stop() waits for the appends already sent', async () => {
    const r = recorder();
    const appender = new ChainAppender(nc, r.listener);
    for (let i = 0; i < 50; i++) appender.append(`k${i}`, subjects.escalation(0, `alert-k${i}`), bytes('x'), `id-k-${i}`, `k${i}`);
    await new Promise((resolve) => setImmediate(resolve));
    await appender.stop();
    expect(r.stored).toHaveLength(50);
  });
});
