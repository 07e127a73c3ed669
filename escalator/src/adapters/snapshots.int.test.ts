import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { jetstream, jetstreamManager } from '@nats-io/jetstream';
import type { NatsConnection } from '@nats-io/transport-node';
import { buildEvent, CONSUMERS, encodeEvent, STREAMS, subjects, type AlertEvent, type EventData } from '@oncall/contracts';
import { fileUserDirectory, ManualClock, SnapshotStore } from '@oncall/shared';
import { startEscalator } from '../index.js';
import { dueAt, restored, withoutContent, type Escalation } from '../domain/escalation.js';
import type { Recovered } from '../domain/recovery.js';
import { readPartition } from './rebuild.js';
import { restoredFlipHistories } from './flip-histories.js';
import { PartitionSnapshots, SNAPSHOT_FORMAT, snapshotName } from './snapshots.js';
import { prepareTopology, startTestNats, testLog, type TestNats } from '../../../test/harness.js';
import { appendConfig, followStream, type FollowedStream } from '../../../test/escalation-log.js';

/**
 * Invariant 10: a partition starts from its latest snapshot and folds only the log after it.
 * That is only right if the snapshot and the tail give what the whole log gives.
 */

const USERS = fileUserDirectory(
  ['alice', 'bob'].map((id) => ({
    id,
    name: id,
    email: `${id}@example.com`,
    timezone: 'UTC',
    contacts: [{ channel: 'sms', address: '+15555550100' }],
  })),
);
const SERVICE = 'checkout';
const MIN = 60_000;

describe('escalator partition snapshots', () => {
  let nats: TestNats;
  let admin: NatsConnection;
  let log: FollowedStream;
  let store: SnapshotStore;
  let escalator: { stop: () => Promise<void> } | null = null;
  const clock = new ManualClock(Date.now());
  const start = async (snapshots?: false) => {
    const nc = await nats.connect('escalator');
    escalator = await startEscalator({ nc, partitions: 1, users: USERS, log: testLog, owner: 'snapshot-test', clock, snapshots });
  };
  const stop = async () => {
    await escalator?.stop();
    escalator = null;
  };

  /** Writes a lifecycle event as the decider would. */
  const write = async (alertId: string, type: AlertEvent['type'], data: Record<string, unknown> = {}): Promise<number> => {
    const now = new Date(clock.now()).toISOString();
    const event = buildEvent(type, { alertId, serviceId: SERVICE, fingerprint: `fp-${alertId}`, ...data } as EventData<typeof type>, {
      id: randomUUID(),
      occurredAt: now,
      causationId: null,
      correlationId: alertId,
    });
    return (await jetstream(admin).publish(subjects.alert(0, alertId), encodeEvent(event))).seq;
  };
  const trigger = async (): Promise<string> => {
    const alertId = randomUUID();
    await write(alertId, 'AlertTriggered', {
      source: 'generic',
      summary: `down ${alertId}`,
      details: 'disk full',
      severity: 'critical',
      labels: { host: alertId.slice(0, 8) },
      annotations: { summary: `down ${alertId}`, description: 'disk full' },
      links: [],
      custom: {},
      startsAt: null,
      generatorUrl: null,
      seenAt: new Date(clock.now()).toISOString(),
    });
    return alertId;
  };
  const ack = (alertId: string) => write(alertId, 'AlertAcknowledged', { by: 'user', userId: 'alice', note: '' });
  const resolve = (alertId: string) => write(alertId, 'AlertResolved', { by: 'source', userId: null, note: '', endsAt: null });
  const decided = (alertId: string, type: string, count = 1) =>
    log.waitFor((e) => e.type === type && (e.data as { alertId?: string }).alertId === alertId, count);
  const floor = async () =>
    (await (await jetstreamManager(admin)).consumers.info(STREAMS.alerts, CONSUMERS.escalator(0))).ack_floor.stream_seq;
  const timers = (r: Recovered) => new Map([...r.states].map(([id, s]) => [id, dueAt(s)]));
  /** The states as a running partition holds them: the content of waiting escalations dropped (the whole log's fold has it). */
  const held = (r: Recovered) => new Map([...r.states].map(([id, s]) => [id, withoutContent(s)]));
  /** Every page and notice of an alert carries its content (read back from the log when its escalation had dropped it). */
  const expectContent = (alertId: string) => {
    const notices = log.events.filter((e) => e.type === 'NotificationRequested' && e.data.alertId === alertId);
    expect(notices.length).toBeGreaterThan(0);
    for (const e of notices)
      expect(e.type === 'NotificationRequested' && e.data.alert).toMatchObject({
        summary: `down ${alertId}`,
        details: 'disk full',
        labels: { host: alertId.slice(0, 8) },
        annotations: { summary: `down ${alertId}`, description: 'disk full' },
      });
  };

  beforeAll(async () => {
    nats = await startTestNats();
    admin = await nats.connect('admin');
    await prepareTopology(admin, 1);
    await appendConfig(admin, 'policy', SERVICE, 'EscalationPolicyConfigured', {
      policyId: SERVICE,
      name: 'Checkout',
      repeat: 1,
      steps: [
        { delaySeconds: 300, targets: [{ type: 'user', userId: 'alice' }], untilAllAck: false },
        {
          delaySeconds: 600,
          targets: [
            { type: 'user', userId: 'bob' },
            { type: 'slack', channel: '#noc' },
          ],
          untilAllAck: false,
        },
      ],
    });
    await appendConfig(admin, 'routing', SERVICE, 'RoutingConfigured', {
      serviceId: SERVICE,
      escalationPolicyId: SERVICE,
      templateId: null,
      ackTimeoutSeconds: 1800,
      rules: [],
      // Flapping detected: the snapshots keep the flip histories.
      flapping: { flips: 3, windowSeconds: 600, quietSeconds: 600 },
    });
    log = await followStream(admin, STREAMS.escalations);
    store = await SnapshotStore.open(admin);
  });

  afterAll(async () => {
    await stop();
    await log?.close();
    await nats?.stop();
  });

  it('snapshot (taken mid-escalation) + the log after it = the whole log: same escalations, timers, last sequences', async () => {
    await start();
    const [stepTwo, acked, resolved, fresh] = [await trigger(), await trigger(), await trigger(), await trigger()];
    for (const id of [stepTwo, acked, resolved]) await decided(id, 'NotificationRequested');
    await ack(acked);
    await resolve(resolved);
    await decided(acked, 'EscalationStopped');
    await decided(resolved, 'NotificationRequested', 2);
    clock.advance(5 * MIN);
    await decided(stepTwo, 'NotificationRequested', 3);
    await decided(fresh, 'NotificationRequested', 3);
    const late = await trigger();
    await decided(late, 'NotificationRequested');
    // A clean stop takes the snapshot: escalations at step 1, at step 2, acknowledged with a reopen due, and one settled.
    await stop();
    const taken = await new PartitionSnapshots(store, admin, testLog).load(0);
    expect(taken).not.toBeNull();
    const atSnapshot = taken!.covers;
    expect(atSnapshot).toMatchObject({ alerts: await floor() });

    // After it: alert events while nothing runs, then decisions of an escalator that takes no snapshot.
    const after = await trigger();
    await ack(stepTwo);
    await start(false);
    await decided(after, 'NotificationRequested');
    await decided(stepTwo, 'EscalationStopped');
    clock.advance(10 * MIN);
    await decided(fresh, 'EscalationStepReached', 3);
    await stop();

    const snapshot = await new PartitionSnapshots(store, admin, testLog).load(0);
    expect(snapshot?.covers).toEqual(atSnapshot);
    const through = await floor();
    expect(through).toBeGreaterThan(atSnapshot.alerts);
    const fromSnapshot = await readPartition(admin, 0, through, snapshot);
    const whole = await readPartition(admin, 0, through, null);
    expect(fromSnapshot.read).toBeLessThan(whole.read);
    expect([...whole.states.keys()].sort()).toStrictEqual([stepTwo, acked, fresh, late, after].sort());
    expect(held(fromSnapshot)).toStrictEqual(held(whole));
    // The snapshot holds waiting escalations without their content; their later pages read it back.
    expect(fromSnapshot.states.get(fresh)).toMatchObject({ contentDropped: true, alert: { labels: {}, summary: '' } });
    for (const id of [stepTwo, resolved, fresh, late, after]) expectContent(id);
    expect(fromSnapshot.lastSeq).toStrictEqual(whole.lastSeq);
    // Flip histories (flapping): the snapshot's and the tail's give what the whole log gives, settled alerts' triggers too.
    const flips = (r: Recovered) =>
      restoredFlipHistories(r.flips)
        .entries()
        .sort((a, b) => a[1].localeCompare(b[1]));
    expect(fromSnapshot.flips.seeded.map(([, fp]) => fp)).toContain(`fp-${resolved}`);
    expect(flips(fromSnapshot)).toStrictEqual(flips(whole));
    expect(
      flips(whole)
        .map(([, fp]) => fp)
        .sort(),
    ).toStrictEqual([stepTwo, acked, resolved, fresh, late, after].map((id) => `fp-${id}`).sort());
    expect(timers(fromSnapshot)).toStrictEqual(timers(whole));
    expect(timers(whole).get(acked)).toBeGreaterThan(clock.now());
    for (const key of ['foldedThrough', 'deliverFrom', 'undecided', 'lastAlertSeq', 'lastEscalationSeq'] as const)
      expect(fromSnapshot[key]).toStrictEqual(whole[key]);
    // In the order read, which differs: the same alerts.
    expect(fromSnapshot.reopen.map(([id]) => id).sort()).toStrictEqual(whole.reopen.map(([id]) => id).sort());
    // Ticked at once: escalations whose last Tick is in the tail; the whole log may also name ones a
    // Tick completed before the snapshot (ticking them decides nothing: recovery.test.ts).
    expect(whole.tickNow).toEqual(expect.arrayContaining([...fromSnapshot.tickNow]));
    expect(fromSnapshot.tickNow.length).toBeGreaterThan(0);
  });

  it('a snapshot of format 1 (taken before content could be dropped) still loads: its states keep their content, and page with it', async () => {
    const current = await new PartitionSnapshots(store, admin, testLog).load(0);
    const records: Array<[string, number, Escalation]> = [];
    for await (const r of current!.escalations) records.push(r);
    // Format 1: the alert's content held, no contentSeq.
    const whole = await readPartition(admin, 0, current!.covers.alerts, null);
    const old = records.map(([id, seq]) => {
      const { contentSeq: _c, contentDropped: _d, ...state } = whole.states.get(id)!;
      return [id, seq, state] as [string, number, Omit<Escalation, 'contentSeq' | 'contentDropped'>];
    });
    expect(old.length).toBeGreaterThan(0);
    await store.saveRecords(snapshotName(0), { takenAt: new Date().toISOString(), covers: current!.covers, format: 1 }, old);
    const loaded = await new PartitionSnapshots(store, admin, testLog).load(0);
    expect(loaded?.covers).toStrictEqual(current!.covers);
    const states: Escalation[] = [];
    for await (const [, , state] of loaded!.escalations) states.push(state);
    expect(states.map((state) => state.contentSeq)).toStrictEqual(old.map(() => 0));
    for (const state of states) expect(state.alert.summary).toBe(`down ${state.alert.alertId}`);
    expect(withoutContent(states[0]!)).toBe(states[0]);
    expect(restored(JSON.parse(JSON.stringify(old[0]![2])) as Escalation)).toStrictEqual(states[0]);

    // A partition started from it serves, its next pages with the content it kept.
    await start();
    const waiting = states.find((state) => state.alert.status === 'triggered' && dueAt(state) !== null)!;
    const before = log.events.filter((e) => e.type === 'NotificationRequested' && e.data.alertId === waiting.alert.alertId).length;
    clock.advance(30 * MIN);
    await decided(waiting.alert.alertId, 'NotificationRequested', before + 1);
    await stop();
    expectContent(waiting.alert.alertId);
  });

  it('a snapshot of another format, or newer than the streams, is ignored: the partition rebuilds from the whole log and serves', async () => {
    const snapshots = new PartitionSnapshots(store, admin, testLog);
    const valid = await snapshots.load(0);
    expect(valid).not.toBeNull();
    const meta = { takenAt: new Date().toISOString(), covers: valid!.covers };
    await store.saveRecords(snapshotName(0), { ...meta, format: SNAPSHOT_FORMAT + 1 }, [['x', 1, { nonsense: true }]]);
    expect(await snapshots.load(0)).toBeNull();
    await store.saveRecords(snapshotName(0), { ...meta, format: SNAPSHOT_FORMAT, covers: { ...valid!.covers, alerts: 1e9 } }, []);
    expect(await snapshots.load(0)).toBeNull();

    await start();
    const alertId = await trigger();
    await decided(alertId, 'NotificationRequested');
    await stop();
    // The clean stop wrote a snapshot of the current format again.
    expect((await snapshots.load(0))?.covers.alerts).toBe(await floor());
  });
});
