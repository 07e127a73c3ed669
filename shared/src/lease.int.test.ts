import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { KV } from '@nats-io/kv';
import type { NatsConnection } from '@nats-io/transport-node';
import { prepareTopology, startTestNats, testLog, type TestNats } from '../../test/harness.js';
import { systemClock } from './clock.js';
import { holdLease, leaseBucket, type Lease, type LeaseOptions } from './lease.js';

const RENEW_MS = 200;
const holder = (stop: AbortController, over: Partial<LeaseOptions> = {}): LeaseOptions => ({
  clock: systemClock,
  log: testLog,
  stop: stop.signal,
  renewEveryMs: RENEW_MS,
  backoff: { baseMs: 50, maxMs: 50 },
  ...over,
});
/** Work that runs until its lease is lost or stopped, counting its runs. */
const steady = (runs: string[], name: string) => (lost: AbortSignal) =>
  new Promise<void>((resolve) => {
    runs.push(name);
    lost.addEventListener('abort', () => resolve(), { once: true });
  });
const owner = async (kv: KV, key: string) => {
  const e = await kv.get(key);
  return e && e.operation === 'PUT' ? e.string() : null;
};

describe('leases on a real nats-server', () => {
  let nats: TestNats;
  let nc: NatsConnection;
  let kv: KV;
  beforeAll(async () => {
    nats = await startTestNats();
    nc = await nats.connect();
    await prepareTopology(nc, 1);
    kv = await leaseBucket(nc);
  });
  afterAll(async () => {
    await nats?.stop();
  });

  it('work that throws gives its lease up at once: another replica takes the work over, not after the TTL', async () => {
    const runs: string[] = [];
    const stopA = new AbortController();
    const stopB = new AbortController();
    const a = holdLease(
      kv,
      'throws',
      'a',
      async () => {
        runs.push('a');
        throw new Error('dead partition');
      },
      // A long back-off: b, which only tries every renewal period, must get there first.
      holder(stopA, { backoff: { baseMs: 60_000, maxMs: 60_000 }, random: () => 0.99 }),
    );
    await expect.poll(() => runs).toEqual(['a']);
    const b = holdLease(kv, 'throws', 'b', steady(runs, 'b'), holder(stopB));
    await expect.poll(() => runs, { timeout: 5000 }).toEqual(['a', 'b']);
    expect(await owner(kv, 'throws')).toBe('b');
    stopA.abort();
    stopB.abort();
    await Promise.all([a, b]);
    expect(await owner(kv, 'throws')).toBeNull();
  });

  it('work that ends (or throws) is started again by the same holder after a back-off, while nobody else holds the lease', async () => {
    const stop = new AbortController();
    const started: number[] = [];
    const lease = holdLease(
      kv,
      'ends',
      'a',
      async (lost) => {
        started.push(Date.now());
        if (started.length === 1) return;
        if (started.length === 2) throw new Error('still failing');
        await new Promise((resolve) => lost.addEventListener('abort', resolve, { once: true }));
      },
      holder(stop, { backoff: { baseMs: 300, maxMs: 300 }, random: () => 0.99 }),
    );
    await expect.poll(() => started.length, { timeout: 5000 }).toBe(3);
    expect(started[1]! - started[0]!).toBeGreaterThanOrEqual(250);
    expect(await owner(kv, 'ends')).toBe('a');
    stop.abort();
    await lease;
  });

  it('a lost lease (the entry taken by another writer) is not held any more and aborts the work, which the holder starts again once the lease is free', async () => {
    const stop = new AbortController();
    const runs: string[] = [];
    let aborted = 0;
    let held: Lease['held'] = async () => false;
    const lease = holdLease(
      kv,
      'lost',
      'a',
      (lost, l) => {
        held = l.held;
        lost.addEventListener('abort', () => aborted++, { once: true });
        return steady(runs, 'a')(lost);
      },
      // Renewals far apart: the work can ask before the holder notices.
      holder(stop, { renewEveryMs: 1500 }),
    );
    await expect.poll(() => runs).toEqual(['a']);
    expect(await held()).toBe(true);
    await kv.put('lost', 'intruder');
    expect(await held()).toBe(false);
    await expect.poll(() => aborted, { timeout: 5000 }).toBe(1);
    expect(await owner(kv, 'lost')).toBe('intruder');
    await kv.delete('lost');
    await expect.poll(() => runs, { timeout: 5000 }).toEqual(['a', 'a']);
    stop.abort();
    await lease;
    expect(await owner(kv, 'lost')).toBeNull();
  });
  it('held() says yes on every check while renewals keep landing (no false "lost" across a renewal)', async () => {
    const stop = new AbortController();
    const answers = { held: 0, notHeld: 0 };
    const done = holdLease(
      kv,
      'held.p0',
      'me',
      async (lost, lease) => {
        while (!lost.aborted && answers.held + answers.notHeld < 2000) {
          if (await lease.held()) answers.held++;
          else answers.notHeld++;
        }
        stop.abort();
      },
      holder(stop, { renewEveryMs: 10 }),
    );
    await done;
    expect(answers).toEqual({ held: 2000, notHeld: 0 });
  });
});
