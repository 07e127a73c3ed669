import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { NatsConnection } from '@nats-io/transport-node';
import { jetstreamManager } from '@nats-io/jetstream';
import { CONSUMERS, decodeEvent, partitionOf, STREAMS, subjects, type AlertEvent, type Signal } from '@oncall/contracts';
import { IntakePublisher } from '../ingest/src/adapters/intake-publisher.js';
import { StreamAppender } from '@oncall/shared';
import { startDecider } from '@oncall/ingest';
import { prepareTopology, startTestNats, streamLastSeq, testLog, type TestNats } from './harness.js';

const PARTITIONS = 3;

const signal = (fingerprint: string, status: 'firing' | 'resolved' = 'firing'): Signal => ({
  fingerprint,
  status,
  summary: `${fingerprint} down`,
  details: '',
  severity: 'critical',
  labels: { alertname: fingerprint },
  annotations: {},
  startsAt: null,
  endsAt: null,
  generatorUrl: null,
  links: [],
  custom: {},
});

/** Collects lifecycle events as the decider appends them; `next(n)` resolves with the next n. */
function watchAlerts(nc: NatsConnection) {
  const seen: AlertEvent[] = [];
  const waiters: Array<{ count: number; resolve: () => void }> = [];
  const sub = nc.subscribe(subjects.alertsAll);
  void (async () => {
    for await (const m of sub) {
      seen.push(decodeEvent(m.data) as AlertEvent);
      for (const w of waiters.filter((w) => seen.length >= w.count)) w.resolve();
    }
  })();
  return {
    seen,
    until: (count: number) => new Promise<void>((resolve) => (seen.length >= count ? resolve() : waiters.push({ count, resolve }))),
    stop: () => sub.unsubscribe(),
  };
}

/** A fingerprint that lands in the given partition. */
function fingerprintIn(partition: number, prefix: string): string {
  for (let i = 0; ; i++) if (partitionOf('svc', `${prefix}-${i}`, PARTITIONS) === partition) return `${prefix}-${i}`;
}

describe('decider: single writer per partition, state rebuilt from the log', () => {
  let nats: TestNats;
  let nc: NatsConnection;
  let publisher: IntakePublisher;
  let n = 0;
  const send = (signals: Signal[]) =>
    publisher.append({ serviceId: 'svc', source: 'generic', requestId: `req-${++n}`, signals, context: {}, dedupe: true }, new Date());

  beforeAll(async () => {
    nats = await startTestNats();
    nc = await nats.connect();
    await prepareTopology(nc, PARTITIONS);
    publisher = new IntakePublisher(new StreamAppender(nc), PARTITIONS);
  });
  afterAll(async () => nats?.stop());

  it('appends lifecycle events only when something changes', async () => {
    const watch = watchAlerts(nc);
    const decider = await startDecider({ nc: await nats.connect('decider'), partitions: PARTITIONS, log: testLog });
    await send([signal('a'), signal('b'), signal('c')]);
    await send([signal('a'), signal('b'), signal('c')]); // repeats: nothing
    await send([signal('a', 'resolved'), signal('zzz', 'resolved')]); // resolve a; unknown resolve: nothing
    await send([signal('a')]); // a fires again: a new alert
    await watch.until(5);
    await decider.stop();
    watch.stop();
    expect(watch.seen.map((e) => `${e.type}:${e.data.fingerprint}`).sort()).toEqual(
      ['AlertResolved:a', 'AlertTriggered:a', 'AlertTriggered:a', 'AlertTriggered:b', 'AlertTriggered:c'].sort(),
    );
    const [first, second] = watch.seen.filter((e) => e.type === 'AlertTriggered' && e.data.fingerprint === 'a');
    expect(first!.data.alertId).not.toBe(second!.data.alertId);
    expect(await streamLastSeq(nc, STREAMS.alerts)).toBe(5);
  });

  it('re-deciding every intake message after losing all acks appends nothing new', async () => {
    // Simulates a crash after the appends and before any ack: the consumers start over at 1.
    const jsm = await jetstreamManager(nc);
    for (let p = 0; p < PARTITIONS; p++) await jsm.consumers.delete(STREAMS.intake, CONSUMERS.decider(p));
    const before = await streamLastSeq(nc, STREAMS.alerts);

    const watch = watchAlerts(nc);
    const decider = await startDecider({ nc: await nats.connect('decider-2'), partitions: PARTITIONS, log: testLog });
    // One new alert per partition, sent after the old messages: when all three arrive, every
    // partition has re-decided its whole intake history.
    await send(Array.from({ length: PARTITIONS }, (_, p) => signal(fingerprintIn(p, 'fresh'))));
    await watch.until(PARTITIONS);
    await decider.stop();
    watch.stop();
    expect(watch.seen.map((e) => e.type)).toEqual(Array(PARTITIONS).fill('AlertTriggered'));
    expect(await streamLastSeq(nc, STREAMS.alerts)).toBe(before + PARTITIONS);
  });

  it('a consumer deleted mid-session is recreated after the last decided message: nothing lost, nothing twice', async () => {
    const watch = watchAlerts(nc);
    const decider = await startDecider({ nc: await nats.connect('decider-3'), partitions: PARTITIONS, log: testLog });
    const open = fingerprintIn(0, 'kept');
    await send([signal(open)]);
    await watch.until(1);
    const jsm = await jetstreamManager(nc);
    await jsm.consumers.delete(STREAMS.intake, CONSUMERS.decider(0));
    await send([signal(open)]); // a repeat of the open alert: nothing
    await send([signal(fingerprintIn(0, 'after'))]);
    await watch.until(2);
    // Every intake message of the partition decided and acked (the ack follows the append's acknowledgement).
    const settled = async () => {
      const info = await jsm.consumers.info(STREAMS.intake, CONSUMERS.decider(0));
      return info.num_pending + info.num_ack_pending === 0;
    };
    for (let i = 0; i < 100 && !(await settled()); i++) await new Promise((r) => setTimeout(r, 50));
    expect(await settled()).toBe(true);
    await decider.stop();
    watch.stop();
    expect(watch.seen.map((e) => `${e.type}:${e.data.fingerprint}`)).toEqual([
      `AlertTriggered:${open}`,
      `AlertTriggered:${fingerprintIn(0, 'after')}`,
    ]);
  });
});
