import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { NatsConnection } from '@nats-io/transport-node';
import { DeliverPolicy, jetstream, jetstreamManager } from '@nats-io/jetstream';
import { CONSUMERS, decodeEvent, partitionOf, STREAMS, subjects, type AlertEvent, type Signal } from '@oncall/contracts';
import { IntakePublisher } from '../ingest/src/adapters/intake-publisher.js';
import { AlertCommandPath, Parking, SnapshotStore, StreamAppender } from '@oncall/shared';
import {
  deciderConsumers,
  PartitionDecider,
  recoverState,
  SNAPSHOT_FORMAT,
  snapshotName,
  startDecider,
  type SnapshotBody,
} from '@oncall/ingest';
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

/** Collects lifecycle events as the decider appends them; `until(n)` resolves once n were seen. */
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

/** Every event of the ALERTS stream, in order. */
async function alertLog(nc: NatsConnection): Promise<AlertEvent[]> {
  const consumer = await jetstream(nc).consumers.get(STREAMS.alerts, { deliver_policy: DeliverPolicy.All });
  const out: AlertEvent[] = [];
  if ((await consumer.info()).num_pending === 0) return out;
  const messages = await consumer.consume();
  for await (const m of messages) {
    out.push(decodeEvent(m.data) as AlertEvent);
    if (m.info.pending === 0) break;
  }
  await messages.close();
  return out;
}

/** The log's own account of corruption: a second open alert of a fingerprint, or one event id twice. */
function corruption(events: AlertEvent[]): string[] {
  const open = new Map<string, string>();
  const ids = new Set<string>();
  const problems: string[] = [];
  for (const e of events) {
    if (ids.has(e.id)) problems.push(`event ${e.id} twice`);
    ids.add(e.id);
    // An answer that changed nothing may name any alert, open or not.
    if (e.type === 'AlertCommandDeclined') continue;
    const key = `${e.data.serviceId}\n${e.data.fingerprint}`;
    if (e.type === 'AlertTriggered') {
      if (open.has(key)) problems.push(`${e.data.fingerprint} opened twice`);
      open.set(key, e.data.alertId);
    } else if (open.get(key) !== e.data.alertId) {
      problems.push(`${e.type} for ${e.data.fingerprint} names ${e.data.alertId}, not its open alert`);
    } else if (e.type === 'AlertResolved') {
      open.delete(key);
    }
  }
  return problems;
}

/** A fingerprint that lands in the given partition. */
function fingerprintIn(partition: number, prefix: string): string {
  for (let i = 0; ; i++) if (partitionOf('svc', `${prefix}-${i}`, PARTITIONS) === partition) return `${prefix}-${i}`;
}

describe('decider: single writer per partition, state recovered from a snapshot and the log', () => {
  let nats: TestNats;
  let nc: NatsConnection;
  let publisher: IntakePublisher;
  let snapshots: SnapshotStore;
  let n = 0;
  const send = (signals: Signal[]) =>
    publisher.append({ serviceId: 'svc', source: 'generic', requestId: `req-${++n}`, signals, context: {}, dedupe: true }, new Date());
  /** Every intake message of partition `p` decided and acked (the ack follows the append's acknowledgement). */
  const settled = async (p: number) => {
    const jsm = await jetstreamManager(nc);
    for (let i = 0; i < 400; i++) {
      const infos = await Promise.all((await deciderConsumers(jsm, p)).map((c) => jsm.consumers.info(STREAMS.intake, c.name)));
      if (infos.length === 1 && infos[0]!.num_pending + infos[0]!.num_ack_pending === 0) return;
      await new Promise((r) => setTimeout(r, 25));
    }
    throw new Error(`partition ${p} did not settle`);
  };

  beforeAll(async () => {
    nats = await startTestNats();
    nc = await nats.connect();
    await prepareTopology(nc, PARTITIONS);
    publisher = new IntakePublisher(new StreamAppender(nc), PARTITIONS);
    snapshots = await SnapshotStore.open(nc);
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

  it('answers every command in the log: a change, a repeat, people racing a resolve, an older alert of the fingerprint', async () => {
    const watch = watchAlerts(nc);
    const decider = await startDecider({ nc: await nats.connect('decider-commands'), partitions: PARTITIONS, log: testLog });
    const path = new AlertCommandPath(nc, { partitions: PARTITIONS });
    const opened = async (fp: string) => {
      const before = watch.seen.length;
      await send([signal(fp)]);
      await watch.until(before + 1);
      const e = watch.seen.at(-1)!;
      expect(e.type).toBe('AlertTriggered');
      return { alertId: e.data.alertId, serviceId: 'svc', fingerprint: fp };
    };
    const wait = () => AbortSignal.timeout(10_000);
    try {
      const target = await opened('cmd-race');
      const acked = await path.submit({ target, command: 'acknowledge', userId: 'alice', via: 'slack' }, wait());
      expect(acked).toMatchObject({ outcome: 'changed', event: { type: 'AlertAcknowledged', data: { userId: 'alice', via: 'slack' } } });
      const again = await path.submit({ target, command: 'acknowledge', userId: 'alice', via: 'sms' }, wait());
      expect(again).toMatchObject({
        outcome: 'declined',
        reason: 'unchanged',
        status: 'acknowledged',
        lastChange: { action: 'acknowledged', userId: 'alice', via: 'slack' },
      });
      // The same key twice (Slack retrying a button press): one command, one answer.
      const keyed = { target, command: 'escalate', userId: 'erin', via: 'slack', key: 'press-1' } as const;
      const [k1, k2] = [await path.submit(keyed, wait()), await path.submit(keyed, wait())];
      expect(k2).toEqual(k1);

      // Three people at once: whatever the decider took before the resolve applies, the rest is declined.
      const answers = await Promise.all(
        (['resolve', 'escalate', 'acknowledge', 'snooze'] as const).map((command, i) =>
          path.submit({ target, command, userId: `person-${i}`, via: 'sms', snoozeSeconds: 600 }, wait()),
        ),
      );
      const resolved = answers.find((a) => a.outcome === 'changed' && a.event.type === 'AlertResolved')!;
      expect(resolved).toBeDefined();
      for (const a of answers) {
        if (a.intakeSeq > resolved.intakeSeq) expect(a).toMatchObject({ outcome: 'declined', reason: 'closed', status: 'resolved' });
        else expect(a.outcome).toBe('changed');
      }

      // A new alert of the same fingerprint: a command for the old one is declined on the old one's subject,
      // and the new alert's own commands still chain on its subject.
      const next = await opened('cmd-race');
      expect(next.alertId).not.toBe(target.alertId);
      const late = await path.submit({ target, command: 'acknowledge', userId: 'bob', via: 'email' }, wait());
      expect(late).toMatchObject({ outcome: 'declined', reason: 'closed' });
      const fresh = await path.submit({ target: next, command: 'acknowledge', userId: 'bob', via: 'email' }, wait());
      expect(fresh).toMatchObject({ outcome: 'changed', event: { data: { alertId: next.alertId } } });
      expect(corruption(await alertLog(nc))).toEqual([]);
    } finally {
      await decider.stop();
      watch.stop();
    }
  });

  it('a fingerprint resolved and firing again in back-to-back requests: the new alert is stored after the resolve', async () => {
    const watch = watchAlerts(nc);
    const decider = await startDecider({ nc: await nats.connect('decider-flap'), partitions: PARTITIONS, log: testLog });
    const flapping = Array.from({ length: 12 }, (_, i) => `flap-${i}`);
    await send(flapping.map((fp) => signal(fp)));
    // Back to back (each send waits for JetStream, not for the decider): the decider has the resolve of each alert
    // and its successor's trigger in flight together.
    for (let round = 0; round < 6; round++) await send(flapping.map((fp) => signal(fp, round % 2 === 0 ? 'resolved' : 'firing')));
    await watch.until(12 * 7);
    await decider.stop();
    watch.stop();
    expect(corruption(await alertLog(nc))).toEqual([]);
  });

  it('a clean stop leaves a snapshot, and the state from it plus the log equals the state from the whole log', async () => {
    for (let p = 0; p < PARTITIONS; p++) {
      const snap = await snapshots.load<SnapshotBody>(snapshotName(p), SNAPSHOT_FORMAT);
      expect(snap?.meta.covers.intake).toBeGreaterThan(0);
      const floor = snap!.meta.covers.intake ?? 0;
      const apply = (open: Map<string, unknown>, e: AlertEvent, seq: number) => {
        const key = `${e.data.serviceId}\n${e.data.fingerprint}`;
        if (e.type === 'AlertResolved') open.delete(key);
        else if (e.type === 'AlertTriggered') open.set(key, { alertId: e.data.alertId, lastSeq: seq });
      };
      const fromLog = await recoverState(nc, jetstream(nc), null, p, floor, (open, e, seq) => apply(open, e, seq));
      const fromSnapshot = await recoverState(nc, jetstream(nc), snap, p, floor, (open, e, seq) => apply(open, e, seq));
      expect(fromSnapshot.fromSnapshot).toBe(true);
      expect(fromSnapshot.eventsRead).toBe(0);
      expect([...fromSnapshot.open.values()].map((e) => e.alert.alertId).sort()).toEqual(
        [...fromLog.open.values()].map((e) => (e as unknown as { alertId: string }).alertId).sort(),
      );
    }
    // A snapshot of another format is ignored.
    expect(await snapshots.load(snapshotName(0), SNAPSHOT_FORMAT + 1)).toBeNull();
  });

  it('re-deciding every intake message after losing every ack and snapshot appends nothing new', async () => {
    // Simulates a crash after the appends and before any ack or snapshot: deciding starts over at 1.
    const jsm = await jetstreamManager(nc);
    for (let p = 0; p < PARTITIONS; p++) {
      for (const c of await deciderConsumers(jsm, p)) await jsm.consumers.delete(STREAMS.intake, c.name);
      await snapshots.delete(snapshotName(p));
    }
    const before = await streamLastSeq(nc, STREAMS.alerts);

    const watch = watchAlerts(nc);
    const decider = await startDecider({ nc: await nats.connect('decider-2'), partitions: PARTITIONS, log: testLog });
    // One new alert per partition, sent after the old messages: when all arrive, every
    // partition has re-decided its whole intake history.
    await send(Array.from({ length: PARTITIONS }, (_, p) => signal(fingerprintIn(p, 'fresh'))));
    await watch.until(PARTITIONS);
    await decider.stop();
    watch.stop();
    expect(watch.seen.map((e) => e.type)).toEqual(Array(PARTITIONS).fill('AlertTriggered'));
    expect(await streamLastSeq(nc, STREAMS.alerts)).toBe(before + PARTITIONS);
  });

  it('a consumer deleted mid-session is replaced after the last decided message: nothing lost, nothing twice', async () => {
    const watch = watchAlerts(nc);
    const decider = await startDecider({ nc: await nats.connect('decider-3'), partitions: PARTITIONS, log: testLog });
    const open = fingerprintIn(0, 'kept');
    await send([signal(open)]);
    await watch.until(1);
    const jsm = await jetstreamManager(nc);
    for (const c of await deciderConsumers(jsm, 0)) await jsm.consumers.delete(STREAMS.intake, c.name);
    await send([signal(open)]); // a repeat of the open alert: nothing
    await send([signal(fingerprintIn(0, 'after'))]);
    await watch.until(2);
    await settled(0);
    await decider.stop();
    watch.stop();
    expect(watch.seen.map((e) => `${e.type}:${e.data.fingerprint}`)).toEqual([
      `AlertTriggered:${open}`,
      `AlertTriggered:${fingerprintIn(0, 'after')}`,
    ]);
  });

  it('parks an intake message it cannot decode, goes on, and a retry appends it anew', async () => {
    const decider = await startDecider({ nc: await nats.connect('decider-4'), partitions: PARTITIONS, log: testLog });
    const bad = await jetstream(nc).publish(subjects.intake(1), '{"type": "SignalsReceived", "v": 1, "data": ');
    const watch = watchAlerts(nc);
    await send([signal(fingerprintIn(1, 'after-garbage'))]);
    await watch.until(1);
    const jsm = await jetstreamManager(nc);
    const parkedInfo = await jsm.streams.info(STREAMS.parked);
    const parked = decodeEvent((await jsm.streams.getMessage(STREAMS.parked, { seq: parkedInfo.state.last_seq }))!.data);
    expect(parked).toMatchObject({ type: 'MessageParked', data: { consumer: CONSUMERS.decider(1), seq: bad.seq, reason: 'undecodable' } });
    const intakeBefore = await streamLastSeq(nc, STREAMS.intake);
    const answer = await nc.request(subjects.parkedRetry(CONSUMERS.decider(1)), JSON.stringify({ stream: STREAMS.intake, seq: bad.seq }));
    expect(JSON.parse(answer.string())).toEqual({ outcome: 'applied', error: null });
    expect(await streamLastSeq(nc, STREAMS.intake)).toBe(intakeBefore + 1);
    await decider.stop();
    watch.stop();
  });

  it('two deciders started on purpose share the partitions by lease, and the survivor takes over', async () => {
    const a = await startDecider({ nc: await nats.connect('decider-a'), partitions: PARTITIONS, log: testLog, owner: 'a' });
    const b = await startDecider({ nc: await nats.connect('decider-b'), partitions: PARTITIONS, log: testLog, owner: 'b' });
    const watch = watchAlerts(nc);
    for (let i = 0; i < 20; i++) await send([signal(`pair-${i}`), signal(`pair-${(i + 7) % 20}`, i % 3 === 0 ? 'resolved' : 'firing')]);
    await a.stop();
    await send(Array.from({ length: PARTITIONS }, (_, p) => signal(fingerprintIn(p, 'after-a'))));
    await new Promise<void>((resolve, reject) => {
      const deadline = setTimeout(() => reject(new Error('the survivor did not take every partition over')), 20_000);
      const check = setInterval(() => {
        const fps = new Set(watch.seen.map((e) => e.data.fingerprint));
        if (Array.from({ length: PARTITIONS }, (_, p) => fingerprintIn(p, 'after-a')).every((fp) => fps.has(fp))) {
          clearInterval(check);
          clearTimeout(deadline);
          resolve();
        }
      }, 50);
    });
    await b.stop();
    watch.stop();
    expect(corruption(await alertLog(nc))).toEqual([]);
  });

  it('a writer that lost its lease but runs on (paused, partitioned) cannot corrupt the log', async () => {
    const owner = await startDecider({ nc: await nats.connect('decider-owner'), partitions: PARTITIONS, log: testLog, owner: 'owner' });
    // A split brain: a second writer for partition 2 that believes it holds the lease.
    const rogueNc = await nats.connect('decider-rogue');
    const rogueStop = new AbortController();
    const rogue = new PartitionDecider({
      nc: rogueNc,
      partition: 2,
      log: testLog,
      parking: new Parking(new StreamAppender(rogueNc), testLog),
      snapshots: await SnapshotStore.open(rogueNc),
      stillOwner: async () => true,
    }).run(rogueStop.signal);
    const watch = watchAlerts(nc);
    const fps = Array.from({ length: 6 }, (_, i) => fingerprintIn(2, `contested-${i}`));
    for (let round = 0; round < 10; round++) {
      await send(fps.map((fp, i) => signal(fp, (round + i) % 2 === 0 ? 'firing' : 'resolved')));
    }
    // Both race over those (each new consumer of one ends the other's); once decisions land, the rogue stops and the owner goes on.
    await watch.until(fps.length);
    rogueStop.abort();
    await rogue;
    await send([signal(fingerprintIn(2, 'last'))]);
    await new Promise<void>((resolve) => {
      const check = setInterval(() => {
        if (watch.seen.some((e) => e.data.fingerprint === fingerprintIn(2, 'last'))) {
          clearInterval(check);
          resolve();
        }
      }, 50);
    });
    await owner.stop();
    watch.stop();
    expect(corruption(await alertLog(nc))).toEqual([]);
  });
});
