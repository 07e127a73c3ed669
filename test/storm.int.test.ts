import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { jetstream, jetstreamManager } from '@nats-io/jetstream';
import { Kvm, type KV } from '@nats-io/kv';
import type { NatsConnection } from '@nats-io/transport-node';
import {
  buildEvent,
  decodeEvent,
  encodeEvent,
  partitionOf,
  STREAMS,
  subjects,
  type DomainEvent,
  type EventData,
  type EventOf,
  type EventType,
} from '@oncall/contracts';
import { fileUserDirectory, leaseBucket, ManualClock, sha256Hex } from '@oncall/shared';
import { applyConfig, parseConfigFile } from '@oncall/infra';
import { startEscalator, type Stoppable } from '@oncall/escalator';
import { prepareTopology, startTestNats, testLog, type TestNats } from './harness.js';
import { followStream, type FollowedStream } from './escalation-log.js';

/**
 * Storm sense across partitions and replicas (issue 16, docs/noc.md): two escalator replicas
 * share firing inhibition sources and open incidents in the KV bucket `oncall-storm`. Replica A
 * owns partitions 0 and 1, replica B partitions 2 and 3 (B's leases are written before A starts).
 * Alert events are written to ALERTS as the decider would.
 */

const P = 4;
const SEC = 1000;
const MIN = 60 * SEC;
const STORM_BUCKET = 'oncall-storm';

const USERS = fileUserDirectory([
  { id: 'alice', name: 'Alice', email: 'alice@example.com', timezone: 'UTC', contacts: [{ channel: 'sms', address: '+15555550101' }] },
  { id: 'bob', name: 'Bob', email: 'bob@example.com', timezone: 'UTC', contacts: [{ channel: 'sms', address: '+15555550102' }] },
]);

const CONFIG = `
services:
  - id: grp
    name: Grouped
    routing:
      escalationPolicy: noc
      grouping: { by: [alertname] }
  - id: net
    name: Network
    routing:
      escalationPolicy: noc
  - id: flap
    name: Flapping
    routing:
      escalationPolicy: noc
      rules:
        - name: bgp-flaps
          when: has(labels.alertname) && labels.alertname == "BGPSessionDown"
          flapping: { flips: 4, window: 10m, quiet: 15m }
          continue: true
  - id: flapgrp
    name: Flapping and grouped
    routing:
      escalationPolicy: noc
      grouping: { by: [alertname] }
      flapping: { flips: 4, window: 10m, quiet: 15m }
  - id: sla
    name: Customers
    routing:
      escalationPolicy: noc

escalationPolicies:
  - id: noc
    name: Alice, then Bob
    steps:
      - { delay: 30m, targets: [{ user: alice }] }
      - { delay: 30m, targets: [{ user: bob }] }

sites:
  - { id: eu-west, name: Europe West, kind: region, timeZone: Europe/Amsterdam }
  - { id: ams1, name: Amsterdam 1, kind: pop, parent: eu-west, devices: [cr1.ams1, cr2.ams1, fw1.ams1, sw1.ams1] }
  - { id: chi1, name: Chicago 1, kind: pop, timeZone: America/Chicago, devices: [cr1.chi1] }

inhibitRules:
  - name: site-down
    source: has(labels.alertname) && labels.alertname == "SiteDown"
    target: has(labels.device)
    scope: site
    wait: 10s

customerTiers:
  label: customer_tier
  tiers:
    enterprise: { name: Enterprise, sla: 15m, escalateBefore: 5m }
`;

type Alert = { alertId: string; serviceId: string; fingerprint: string };
type Notice = EventOf<'NotificationRequested'>;

const alertIdOf = (e: DomainEvent): string | undefined =>
  e.data !== null && typeof e.data === 'object' && 'alertId' in e.data ? (e.data as { alertId: string }).alertId : undefined;
const is =
  <T extends EventType>(type: T, alertId?: string) =>
  (e: DomainEvent): e is EventOf<T> =>
    e.type === type && (alertId === undefined || alertIdOf(e) === alertId);
const isPage = (alertId: string) => (e: DomainEvent) => is('NotificationRequested', alertId)(e) && e.data.kind === 'page';
const who = (n: DomainEvent): string => {
  const r = (n as Notice).data.recipient;
  return r.type === 'user' ? r.userId : r.type === 'slack' ? r.channel : r.url;
};

/** The bucket key of a group key's open incident. */
const groupEntry = (groupKey: string) => `grp.${sha256Hex(groupKey)}`;

/** A fingerprint of `serviceId` whose alerts land on `partition`. */
function fingerprintOn(serviceId: string, partition: number, prefix: string): string {
  for (let i = 0; ; i++) {
    const fp = `${prefix}-${i}`;
    if (partitionOf(serviceId, fp, P) === partition) return fp;
  }
}

describe('storm sense across partitions and replicas', () => {
  let nats: TestNats;
  let admin: NatsConnection;
  let log: FollowedStream;
  let leases: KV;
  let bucket: KV;
  const clock = new ManualClock(Date.now());
  const replicas = new Map<string, Stoppable>();

  const startReplica = async (owner: string) => {
    replicas.set(
      owner,
      await startEscalator({
        nc: await nats.connect(owner),
        partitions: P,
        users: USERS,
        log: testLog.child({ owner }),
        owner,
        clock,
        snapshots: false,
      }),
    );
  };
  const stopReplica = async (owner: string) => {
    await replicas.get(owner)?.stop();
    replicas.delete(owner);
  };
  /** B's partitions are B's: a lease entry of B's makes A's claims fail, and B takes its own entries back. */
  const reserveForB = async () => {
    for (const p of [2, 3]) await leases.put(`escalator.p${p}`, 'replica-b');
  };
  /**
   * Stops B with its partitions kept for it. Reserved before the stop too: B's release deletes
   * only the revision it wrote, so the entries never go free — between a release and a reservation
   * made after it, A's claim (every 5 s) could take partition 2 and act for B (seen once under load).
   */
  const stopBKeepingItsPartitions = async () => {
    await reserveForB();
    await stopReplica('replica-b');
    await reserveForB();
  };

  /** Replica A holds partitions 0 and 1, B 2 and 3 (the cross-replica cases rely on it). */
  const leasesAsPlanned = async () => {
    const deadline = Date.now() + 10_000;
    for (;;) {
      const owners = await Promise.all([0, 1, 2, 3].map(async (p) => (await leases.get(`escalator.p${p}`))?.string() ?? ''));
      if (owners.join() === 'replica-a,replica-a,replica-b,replica-b') return;
      if (Date.now() > deadline) throw new Error(`partition leases: ${owners.join()}`);
      await new Promise((r) => setTimeout(r, 50));
    }
  };

  /** Writes an alert event on its partition as the decider would. */
  const publishAlert = async <T extends 'AlertTriggered' | 'AlertResolved' | 'AlertAcknowledged'>(type: T, data: EventData<T>) => {
    const event = buildEvent(type, data, {
      id: randomUUID(),
      occurredAt: new Date(clock.now()).toISOString(),
      causationId: null,
      correlationId: data.alertId,
    });
    await jetstream(admin).publish(subjects.alert(partitionOf(data.serviceId, data.fingerprint, P), data.alertId), encodeEvent(event));
    return event;
  };
  const trigger = async (serviceId: string, fingerprint: string, labels: Record<string, string>, seenAt = clock.now()): Promise<Alert> => {
    const alert = { alertId: randomUUID(), serviceId, fingerprint };
    await publishAlert('AlertTriggered', {
      ...alert,
      source: 'generic',
      summary: `${labels.alertname ?? 'alert'} ${fingerprint}`,
      details: '',
      severity: 'critical',
      labels,
      annotations: {},
      links: [],
      custom: {},
      startsAt: null,
      generatorUrl: null,
      seenAt: new Date(seenAt).toISOString(),
    });
    return alert;
  };
  const resolve = (a: Alert) => publishAlert('AlertResolved', { ...a, by: 'source', userId: null, note: '', endsAt: null });
  const routed = async (a: Alert) => (await log.waitFor(is('AlertRouted', a.alertId)))[0] as EventOf<'AlertRouted'>;
  /** Decided after everything before it on `partition` (a partition decides in arrival order). */
  const barrier = async (partition: number) => {
    const a = await trigger('net', fingerprintOn('net', partition, `barrier-${randomUUID().slice(0, 8)}`), { alertname: 'Barrier' });
    await log.waitFor(isPage(a.alertId));
  };
  const types = (a: Alert) => log.events.filter((e) => alertIdOf(e) === a.alertId).map((e) => e.type);
  const keys = async (): Promise<string[]> => {
    const out: string[] = [];
    for await (const k of await bucket.keys()) out.push(k);
    return out.sort();
  };
  /**
   * The keys, or null when listing them takes over a second: the listing's consumer can miss its
   * end while the escalators delete entries, and wait for good (a full-suite run once timed out
   * here with no other symptom); the next poll lists again.
   */
  const keysWithin = (ms: number): Promise<string[] | null> => {
    let timer: NodeJS.Timeout | undefined;
    const late = new Promise<null>((resolve) => (timer = setTimeout(() => resolve(null), ms)));
    return Promise.race([keys(), late]).finally(() => clearTimeout(timer));
  };
  /** Polls the shared bucket until `ok` holds of its keys (the escalator writes it after deciding). */
  const bucketUntil = async (ok: (keys: string[]) => boolean, what: string, timeoutMs = 10_000): Promise<string[]> => {
    const deadline = Date.now() + timeoutMs;
    let k: string[] | null = null;
    for (;;) {
      const listed = await keysWithin(1000);
      if (listed !== null) {
        k = listed;
        if (ok(k)) return k;
      }
      if (Date.now() > deadline)
        throw new Error(`${STORM_BUCKET}: ${what} not within ${timeoutMs} ms; keys: ${k === null ? '(never listed)' : k.join(', ')}`);
      await new Promise((r) => setTimeout(r, 50));
    }
  };

  beforeAll(async () => {
    nats = await startTestNats();
    admin = await nats.connect('admin');
    await prepareTopology(admin, P);
    await applyConfig(admin, parseConfigFile(CONFIG, 'storm.yaml'));
    log = await followStream(admin, STREAMS.escalations);
    leases = await leaseBucket(admin);
    await reserveForB();
    await startReplica('replica-a');
    await startReplica('replica-b');
    bucket = await new Kvm(admin).open(STORM_BUCKET);
    await leasesAsPlanned();
  });

  afterAll(async () => {
    for (const owner of [...replicas.keys()]) await stopReplica(owner);
    await log?.close();
    await nats?.stop();
  });

  it('groups the alerts of one group key across partitions and replicas: one incident, one page, resolved once', async () => {
    const members = [0, 1, 2, 3].map((p) => fingerprintOn('grp', p, 'link'));
    const alerts: Alert[] = [];
    for (const fp of members) alerts.push(await trigger('grp', fp, { alertname: 'LinkDown', host: fp }));

    const [opened] = await log.waitFor(is('IncidentOpened'));
    const incident = (opened as EventOf<'IncidentOpened'>).data;
    const grouped = await log.waitFor(is('AlertGrouped'), 3);
    expect(incident.groupKey).toBe('grp|alertname=LinkDown');
    const first = alerts.find((a) => a.alertId === incident.alertId)!;
    expect(first).toBeDefined();
    const rest = alerts.filter((a) => a !== first);
    expect(grouped.map(alertIdOf).sort()).toStrictEqual(rest.map((a) => a.alertId).sort());
    for (const g of grouped as Array<EventOf<'AlertGrouped'>>)
      expect(g.data).toMatchObject({ incidentId: incident.incidentId, firstAlertId: first.alertId, groupKey: incident.groupKey });

    const [page] = await log.waitFor(isPage(first.alertId));
    expect((page as Notice).data).toMatchObject({ incidentId: incident.incidentId, recipient: { type: 'user', userId: 'alice' } });
    await bucketUntil((k) => rest.every((a) => k.includes(`mem.${incident.incidentId}.${a.alertId}`)), 'three members');
    expect((await keys()).filter((k) => k.startsWith('grp.'))).toHaveLength(1);
    // The first alert hears of the members (coalesced, at most every 5 s) and says the incident's size.
    const [updated] = await log.waitFor(is('IncidentUpdated', first.alertId), 1, 15_000);
    expect((updated as EventOf<'IncidentUpdated'>).data).toMatchObject({ incidentId: incident.incidentId, alerts: 4 });

    // Every member resolves, then the first: the incident resolves once.
    for (const a of rest) await resolve(a);
    await bucketUntil((k) => !k.some((key) => key.startsWith(`mem.${incident.incidentId}.`)), 'members gone');
    await resolve(first);
    await log.waitFor(is('IncidentResolved', first.alertId));
    await bucketUntil((k) => !k.some((key) => key.startsWith('grp.') || key.startsWith('mem.')), 'incident gone');
    // A member never pages: it is recorded, and stopped when it resolves.
    for (const a of rest) expect(types(a)).toStrictEqual(['AlertRouted', 'AlertGrouped', 'EscalationStopped']);
    expect(log.events.filter(is('IncidentOpened'))).toHaveLength(1);

    // A new alert of the key afterwards opens a new incident and pages.
    const again = await trigger('grp', fingerprintOn('grp', 2, 'link-again'), { alertname: 'LinkDown' });
    const [reopened] = await log.waitFor(is('IncidentOpened', again.alertId));
    expect((reopened as EventOf<'IncidentOpened'>).data.incidentId).not.toBe(incident.incidentId);
    await log.waitFor(isPage(again.alertId));
    expect(log.events.filter(is('IncidentResolved'))).toHaveLength(1);
    expect(log.events.filter((e) => is('IncidentResolved')(e) && e.data.incidentId === incident.incidentId)).toHaveLength(1);
    await resolve(again);
    await log.waitFor(is('IncidentResolved', again.alertId));
  });

  it('an incident whose first alert its source resolves while members fire unacknowledged is taken over by exactly one member, which pages and later resolves it', async () => {
    const first = await trigger('grp', fingerprintOn('grp', 0, 'uplink'), { alertname: 'UplinkDown' });
    const [opened] = await log.waitFor(is('IncidentOpened', first.alertId));
    const incident = (opened as EventOf<'IncidentOpened'>).data;
    await log.waitFor(isPage(first.alertId));
    // Members on both replicas (partition 1 is A's, 2 is B's): both may try to take over.
    const members = [await trigger('grp', fingerprintOn('grp', 1, 'uplink'), { alertname: 'UplinkDown' })];
    members.push(await trigger('grp', fingerprintOn('grp', 2, 'uplink'), { alertname: 'UplinkDown' }));
    for (const m of members) await log.waitFor(is('AlertGrouped', m.alertId));
    await bucketUntil((k) => members.every((m) => k.includes(`mem.${incident.incidentId}.${m.alertId}`)), 'both members');
    const pagesBefore = log.events.filter((e) => isPage(first.alertId)(e) || members.some((m) => isPage(m.alertId)(e))).length;

    // The first alert's source resolves it (a webhook resolve): one member takes the incident over and pages.
    await resolve(first);
    const tookOver = (e: DomainEvent) =>
      is('IncidentTakenOver')(e) && e.data.incidentId === incident.incidentId && e.data.to === e.data.alertId;
    const [taken] = (await log.waitFor(tookOver)) as Array<EventOf<'IncidentTakenOver'>>;
    const lead = members.find((m) => m.alertId === taken!.data.alertId)!;
    const other = members.find((m) => m !== lead)!;
    expect(taken!.data).toMatchObject({ from: first.alertId, groupKey: incident.groupKey });
    const [step] = await log.waitFor(is('EscalationStepReached', lead.alertId));
    expect((step as EventOf<'EscalationStepReached'>).data).toMatchObject({ step: 0, reason: 'takeover' });
    const [page] = await log.waitFor(isPage(lead.alertId));
    expect((page as Notice).data).toMatchObject({ incidentId: incident.incidentId, recipient: { type: 'user', userId: 'alice' } });
    // The first alert lets go (recorded on its subject); the entry names the new lead, which is no member any more.
    const [letGo] = await log.waitFor(is('IncidentTakenOver', first.alertId));
    expect((letGo as EventOf<'IncidentTakenOver'>).data).toMatchObject({ from: first.alertId, to: lead.alertId });
    await bucketUntil((k) => !k.includes(`mem.${incident.incidentId}.${lead.alertId}`), 'the new lead no member');
    const entry = JSON.parse((await bucket.get(groupEntry(incident.groupKey)))!.string()) as { firstAlertId: string; incidentId: string };
    expect(entry).toMatchObject({ firstAlertId: lead.alertId, incidentId: incident.incidentId });
    for (const p of [0, 1, 2]) await barrier(p);
    // Exactly one page more, for one member: the other stays held.
    expect(log.events.filter(tookOver)).toHaveLength(1);
    const pagesAfter = log.events.filter((e) => isPage(first.alertId)(e) || members.some((m) => isPage(m.alertId)(e))).length;
    expect(pagesAfter - pagesBefore).toBe(1);
    expect(types(other)).toStrictEqual(['AlertRouted', 'AlertGrouped']);
    expect(log.events.filter(is('IncidentResolved', first.alertId))).toHaveLength(0);

    // Joins and the incident's size follow the new lead.
    const [size] = await log.waitFor(is('IncidentUpdated', lead.alertId));
    expect((size as EventOf<'IncidentUpdated'>).data).toMatchObject({ incidentId: incident.incidentId, alerts: 2 });
    const late = await trigger('grp', fingerprintOn('grp', 3, 'uplink'), { alertname: 'UplinkDown' });
    const [joined] = await log.waitFor(is('AlertGrouped', late.alertId));
    expect((joined as EventOf<'AlertGrouped'>).data).toMatchObject({ incidentId: incident.incidentId, firstAlertId: lead.alertId });
    const [grown] = await log.waitFor((e) => is('IncidentUpdated', lead.alertId)(e) && e.data.alerts === 3, 1, 15_000);
    expect((grown as EventOf<'IncidentUpdated'>).data.incidentId).toBe(incident.incidentId);

    // Resolving the rest resolves the incident, on the new lead's subject, once.
    for (const m of [other, late]) await resolve(m);
    await bucketUntil((k) => !k.some((key) => key.startsWith(`mem.${incident.incidentId}.`)), 'the other members gone');
    await resolve(lead);
    const [resolved] = await log.waitFor(is('IncidentResolved', lead.alertId));
    expect((resolved as EventOf<'IncidentResolved'>).data.incidentId).toBe(incident.incidentId);
    await bucketUntil((k) => !k.some((key) => key.startsWith('grp.') || key.startsWith('mem.')), 'incident gone');
    for (const p of [0, 1, 2, 3]) await barrier(p);
    expect(log.events.filter((e) => is('IncidentResolved')(e) && e.data.incidentId === incident.incidentId)).toHaveLength(1);
    for (const m of [other, late]) expect(types(m)).toStrictEqual(['AlertRouted', 'AlertGrouped', 'EscalationStopped']);
  });

  it("a person's resolve of the first alert is the incident's: no member takes over, the first resolves the incident when the last member does", async () => {
    const first = await trigger('grp', fingerprintOn('grp', 1, 'port'), { alertname: 'PortDown' });
    const [opened] = await log.waitFor(is('IncidentOpened', first.alertId));
    const incident = (opened as EventOf<'IncidentOpened'>).data;
    const member = await trigger('grp', fingerprintOn('grp', 3, 'port'), { alertname: 'PortDown' });
    await log.waitFor(is('AlertGrouped', member.alertId));
    await bucketUntil((k) => k.includes(`mem.${incident.incidentId}.${member.alertId}`), 'the member');

    // Alice resolves the incident (the resolve is sent to the member through the command path; no decider runs here).
    await publishAlert('AlertResolved', { ...first, by: 'user', userId: 'alice', note: '', endsAt: null });
    await log.waitFor((e) => is('NotificationRequested', first.alertId)(e) && e.data.kind === 'resolved');
    for (const p of [1, 3]) await barrier(p);
    expect(log.events.filter((e) => is('IncidentTakenOver')(e) && e.data.incidentId === incident.incidentId)).toHaveLength(0);
    expect(types(member)).toStrictEqual(['AlertRouted', 'AlertGrouped']);
    const entry = JSON.parse((await bucket.get(groupEntry(incident.groupKey)))!.string()) as {
      leadResolved?: boolean;
      firstAlertId: string;
    };
    expect(entry).toMatchObject({ firstAlertId: first.alertId });
    expect(entry.leadResolved).toBeUndefined();
    expect(log.events.filter(is('IncidentResolved', first.alertId))).toHaveLength(0);

    await resolve(member);
    const [resolved] = await log.waitFor(is('IncidentResolved', first.alertId));
    expect((resolved as EventOf<'IncidentResolved'>).data.incidentId).toBe(incident.incidentId);
    await bucketUntil((k) => !k.some((key) => key.startsWith('grp.') || key.startsWith('mem.')), 'incident gone');
  });

  it('a site-down source inhibits device alerts at its site in other partitions, and its resolve releases the ones still firing', async () => {
    const source = await trigger('net', fingerprintOn('net', 0, 'sitedown'), { alertname: 'SiteDown', site: 'ams1' });
    await log.waitFor(isPage(source.alertId));
    await bucketUntil((k) => k.includes(`src.${source.alertId}`), 'the source');

    const device = (partition: number, name: string) =>
      trigger('net', fingerprintOn('net', partition, name), { alertname: 'DeviceDown', device: name });
    const t1 = await device(1, 'cr1.ams1');
    const t2 = await device(2, 'cr2.ams1');
    const t3 = await device(3, 'fw1.ams1');
    const elsewhere = await device(2, 'cr1.chi1');
    for (const t of [t1, t2, t3, elsewhere]) expect((await routed(t)).data).toMatchObject({ inhibitableBy: ['site-down'] });
    expect((await routed(t1)).data.site).toBe('ams1');
    expect((await routed(elsewhere)).data.site).toBe('chi1');

    clock.advance(10 * SEC);
    const inhibited = await log.waitFor((e) => is('AlertInhibited')(e) && e.data.by === source.alertId, 3);
    expect(inhibited.map(alertIdOf).sort()).toStrictEqual([t1, t2, t3].map((t) => t.alertId).sort());
    expect((inhibited[0] as EventOf<'AlertInhibited'>).data).toMatchObject({
      rule: 'site-down',
      bySummary: `SiteDown ${source.fingerprint}`,
    });
    // The device at another site waited for a source, found none and pages.
    await log.waitFor(isPage(elsewhere.alertId));
    expect(log.events.filter(is('AlertInhibited', elsewhere.alertId))).toHaveLength(0);

    // One target resolves while inhibited; then the source resolves.
    await resolve(t3);
    await log.waitFor(is('EscalationStopped', t3.alertId));
    await resolve(source);
    for (const t of [t1, t2]) {
      const [step] = await log.waitFor((e) => is('EscalationStepReached', t.alertId)(e));
      expect((step as EventOf<'EscalationStepReached'>).data).toMatchObject({ step: 0, reason: 'released' });
      expect((await log.waitFor(isPage(t.alertId))).map(who)).toStrictEqual(['alice']);
      expect(types(t).slice(0, 4)).toStrictEqual(['AlertRouted', 'AlertInhibited', 'AlertReleased', 'EscalationStepReached']);
    }
    await bucketUntil((k) => !k.includes(`src.${source.alertId}`), 'the source gone');
    await barrier(3);
    expect(types(t3)).toStrictEqual(['AlertRouted', 'AlertInhibited', 'EscalationStopped']);
    for (const t of [t1, t2, elsewhere]) await resolve(t);
  });

  it('a target inhibited by two sources is released when the second of them resolves', async () => {
    const s1 = await trigger('net', fingerprintOn('net', 0, 'sitedown-one'), { alertname: 'SiteDown', site: 'ams1' });
    const s2 = await trigger('net', fingerprintOn('net', 2, 'sitedown-two'), { alertname: 'SiteDown', site: 'ams1' });
    await bucketUntil((k) => k.includes(`src.${s1.alertId}`) && k.includes(`src.${s2.alertId}`), 'both sources');
    const target = await trigger('net', fingerprintOn('net', 1, 'cr2.ams1'), { alertname: 'DeviceDown', device: 'cr2.ams1' });
    await routed(target);
    clock.advance(10 * SEC);
    const [inhibited] = await log.waitFor(is('AlertInhibited', target.alertId));
    const by = (inhibited as EventOf<'AlertInhibited'>).data.by;
    const [firstGone, secondGone] = by === s1.alertId ? [s1, s2] : [s2, s1];

    // The source it names resolves: another still fires, so it stays inhibited.
    await resolve(firstGone);
    await bucketUntil((k) => !k.includes(`src.${firstGone.alertId}`), 'the first source gone');
    await barrier(1);
    expect(log.events.filter(is('AlertReleased', target.alertId))).toHaveLength(0);

    await resolve(secondGone);
    await log.waitFor(is('AlertReleased', target.alertId));
    await log.waitFor(isPage(target.alertId));
    await resolve(target);
  });

  it('a fingerprint that flaps pages its 4th alert as flapping, and not its 5th', async () => {
    const fp = fingerprintOn('flap', 1, 'bgp');
    const labels = { alertname: 'BGPSessionDown', peer: '64500' };
    const flips: Alert[] = [];
    for (let i = 0; i < 5; i++) {
      const a = await trigger('flap', fp, labels, clock.now() + i * SEC);
      flips.push(a);
      if (i < 4) await resolve(a);
    }
    for (const a of flips.slice(0, 3)) {
      const [page] = await log.waitFor(isPage(a.alertId));
      expect((page as Notice).data.flapping).toBeUndefined();
    }
    const [started] = await log.waitFor(is('FlappingStarted', flips[3]!.alertId));
    expect((started as EventOf<'FlappingStarted'>).data).toMatchObject({ fingerprint: fp, flips: 4, windowSeconds: 600 });
    const [page4] = await log.waitFor(isPage(flips[3]!.alertId));
    expect((page4 as Notice).data.flapping).toBe(true);
    await log.waitFor(is('AlertFlapped', flips[4]!.alertId));
    await barrier(1);
    expect(types(flips[4]!)).toStrictEqual(['AlertRouted', 'AlertFlapped']);
    for (const a of flips.slice(0, 3)) expect(log.events.filter(is('FlappingStarted', a.alertId))).toHaveLength(0);
    await resolve(flips[4]!);

    // Quiet for longer than 15 minutes (by the alerts' own times): the next alert ends the flapping and pages as usual.
    const calm = await trigger('flap', fp, labels, clock.now() + 20 * MIN);
    await log.waitFor(is('FlappingEnded', calm.alertId));
    const [page] = await log.waitFor(isPage(calm.alertId));
    expect((page as Notice).data.flapping).toBeUndefined();
    await resolve(calm);
  });

  it("a fingerprint's flips outlive its replica's restart: its 4th alert after the restart still pages as flapping", async () => {
    const fp = fingerprintOn('flap', 2, 'bgp-restart'); // partition 2: replica B's
    const labels = { alertname: 'BGPSessionDown', peer: '64501' };
    const start = clock.now();
    for (let i = 0; i < 3; i++) {
      const a = await trigger('flap', fp, labels, start + i * SEC);
      const [page] = await log.waitFor(isPage(a.alertId));
      expect((page as Notice).data.flapping).toBeUndefined();
      await resolve(a);
      await log.waitFor(is('EscalationStopped', a.alertId));
    }
    // B starts again from the log alone (no snapshots here): the three flips must come back with it.
    await stopBKeepingItsPartitions();
    await startReplica('replica-b');
    await leasesAsPlanned();
    const fourth = await trigger('flap', fp, labels, start + 3 * SEC);
    const [started] = await log.waitFor(is('FlappingStarted', fourth.alertId), 1, 35_000);
    expect((started as EventOf<'FlappingStarted'>).data).toMatchObject({ fingerprint: fp, flips: 4 });
    const [page] = await log.waitFor(isPage(fourth.alertId));
    expect((page as Notice).data.flapping).toBe(true);
    await resolve(fourth);
  }, 70_000);

  it("a person's acknowledgement of an incident reaches its member though the escalator's first sending of it got no answer", async () => {
    const first = await trigger('grp', fingerprintOn('grp', 0, 'pdu'), { alertname: 'PduDown' });
    const [opened] = await log.waitFor(is('IncidentOpened', first.alertId));
    const { incidentId } = (opened as EventOf<'IncidentOpened'>).data;
    const member = await trigger('grp', fingerprintOn('grp', 1, 'pdu'), { alertname: 'PduDown' });
    await log.waitFor(is('AlertGrouped', member.alertId));
    await bucketUntil((k) => k.includes(`mem.${incidentId}.${member.alertId}`), 'the member');
    await log.waitFor(isPage(first.alertId));

    // INTAKE lets go of its subjects and something that never answers listens on the member's
    // partition: the command is sent and its publish times out, after the acknowledgement's own
    // decisions are stored (a crash at that moment is the same for the log).
    const jsm = await jetstreamManager(admin);
    const intake = (await jsm.streams.info(STREAMS.intake)).config;
    await jsm.streams.update(STREAMS.intake, { ...intake, subjects: ['intake-paused.>'] });
    let swallowed = 0;
    const silent = admin.subscribe(subjects.intake(1), {
      callback: () => {
        swallowed++;
      },
    });
    const ack = await publishAlert('AlertAcknowledged', { ...first, by: 'user', userId: 'alice', note: '' });
    await log.waitFor((e) => is('EscalationStopped', first.alertId)(e) && e.data.reason === 'acknowledged');
    const deadline = Date.now() + 10_000;
    while (swallowed === 0 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
    expect(swallowed).toBeGreaterThan(0);
    silent.unsubscribe();
    await jsm.streams.update(STREAMS.intake, intake);

    // The acknowledgement is delivered again once the sending failed, and its command reaches the member.
    const commandFor = async () => {
      const m = await jsm.direct.getMessage(STREAMS.intake, { last_by_subj: subjects.intake(1) }).catch(() => null);
      const e = m && decodeEvent(m.data);
      return e?.type === 'AlertCommandReceived' && e.data.alertId === member.alertId && e.causationId === ack.id ? e : null;
    };
    const until = Date.now() + 35_000;
    let command = await commandFor();
    while (!command && Date.now() < until) {
      await new Promise((r) => setTimeout(r, 100));
      command = await commandFor();
    }
    expect(command?.data).toMatchObject({ command: 'acknowledge', userId: 'alice' });
    await resolve(member);
    await resolve(first);
  }, 70_000);

  it('a group key whose incident just resolved opens a new incident for its next alert on the same partition', async () => {
    const fp = fingerprintOn('grp', 0, 'quick');
    const x = await trigger('grp', fp, { alertname: 'QuickDown' });
    await log.waitFor(is('IncidentOpened', x.alertId));
    await log.waitFor(isPage(x.alertId));
    // Resolved, and at once the next alert of the key: decided right after the incident resolves.
    await resolve(x);
    const y = await trigger('grp', fp, { alertname: 'QuickDown' });
    await log.waitFor(is('IncidentResolved', x.alertId));
    // Y may first be grouped into X's incident (this replica deletes it a moment after deciding
    // IncidentResolved); the incident's end then decides Y again: it opens the next one and pages.
    const [opened] = await log.waitFor(is('IncidentOpened', y.alertId));
    const [resolvedX] = await log.waitFor(is('IncidentResolved', x.alertId));
    expect((opened as EventOf<'IncidentOpened'>).data.incidentId).not.toBe((resolvedX as EventOf<'IncidentResolved'>).data.incidentId);
    await log.waitFor(isPage(y.alertId));
    expect(types(y).filter((t) => t !== 'AlertGrouped')).toStrictEqual([
      'AlertRouted',
      'IncidentOpened',
      'EscalationStepReached',
      'NotificationRequested',
    ]);
    await bucketUntil((k) => k.filter((key) => key.startsWith('grp.') || key.startsWith('mem.')).length === 1, 'only the new incident');
    await resolve(y);
    await log.waitFor(is('IncidentResolved', y.alertId));
    await bucketUntil((k) => !k.some((key) => key.startsWith('grp.') || key.startsWith('mem.')), 'incident gone');
  });

  it('flapping counts each alert once when it also groups (an incident to claim first)', async () => {
    const fp = fingerprintOn('flapgrp', 3, 'bgp-grouped');
    const flips: Alert[] = [];
    for (let i = 0; i < 4; i++) {
      const a = await trigger('flapgrp', fp, { alertname: 'BGPSessionDown' }, clock.now() + i * SEC);
      flips.push(a);
      // Each alert opens its own incident (the one before resolved): wait for it before the next.
      await log.waitFor((e) => is('IncidentOpened', a.alertId)(e) || is('AlertGrouped', a.alertId)(e) || is('AlertFlapped', a.alertId)(e));
      await resolve(a);
      await log.waitFor((e) => is('IncidentResolved', a.alertId)(e) || is('EscalationStopped', a.alertId)(e));
      await bucketUntil((k) => !k.includes(groupEntry('flapgrp|alertname=BGPSessionDown')), 'incident gone');
    }
    expect(flips.slice(0, 3).map((a) => log.events.filter(is('FlappingStarted', a.alertId)).length)).toStrictEqual([0, 0, 0]);
    await log.waitFor(is('FlappingStarted', flips[3]!.alertId));
    const [page] = await log.waitFor(isPage(flips[3]!.alertId));
    expect((page as Notice).data.flapping).toBe(true);
  });

  it("an enterprise customer's alert escalates at SLA − escalateBefore and breaches the SLA at its deadline", async () => {
    const partition = 2;
    const start = clock.now();
    const a = await trigger('sla', fingerprintOn('sla', partition, 'cust'), { alertname: 'CustomerDown', customer_tier: 'enterprise' });
    expect((await routed(a)).data).toMatchObject({ sla: { tier: 'enterprise', responseSeconds: 900, escalateBeforeSeconds: 300 } });
    const [step0] = await log.waitFor(is('EscalationStepReached', a.alertId));
    expect((step0 as EventOf<'EscalationStepReached'>).data).toMatchObject({
      step: 0,
      reason: 'triggered',
      nextAt: new Date(start + 10 * MIN).toISOString(),
    });

    clock.advance(10 * MIN - SEC);
    await barrier(partition);
    expect(log.events.filter(is('EscalationStepReached', a.alertId))).toHaveLength(1);

    clock.advance(SEC);
    const steps = await log.waitFor(is('EscalationStepReached', a.alertId), 2);
    expect((steps[1] as EventOf<'EscalationStepReached'>).data).toMatchObject({ step: 1, reason: 'sla' });
    expect((await log.waitFor(isPage(a.alertId), 2)).map(who)).toStrictEqual(['alice', 'bob']);

    clock.advance(5 * MIN - SEC);
    await barrier(partition);
    expect(log.events.filter(is('SlaBreached', a.alertId))).toHaveLength(0);
    clock.advance(SEC);
    const [breach] = await log.waitFor(is('SlaBreached', a.alertId));
    expect((breach as EventOf<'SlaBreached'>).data).toMatchObject({
      tier: 'enterprise',
      responseSeconds: 900,
      deadline: new Date(start + 15 * MIN).toISOString(),
    });
    await resolve(a);

    // Acknowledged in time: neither the early step nor a breach.
    const b = await trigger('sla', fingerprintOn('sla', partition, 'cust-acked'), {
      alertname: 'CustomerDown',
      customer_tier: 'enterprise',
    });
    await log.waitFor(isPage(b.alertId));
    await publishAlert('AlertAcknowledged', { ...b, by: 'user', userId: 'alice', note: '' });
    await log.waitFor((e) => is('EscalationStopped', b.alertId)(e) && e.data.reason === 'acknowledged');
    clock.advance(16 * MIN);
    await barrier(partition);
    expect(types(b)).toStrictEqual(['AlertRouted', 'EscalationStepReached', 'NotificationRequested', 'EscalationStopped']);
    await resolve(b);
  });

  it('an inhibited alert whose source resolved while its replica was down is released when the replica starts again', async () => {
    const source = await trigger('net', fingerprintOn('net', 1, 'sitedown-again'), { alertname: 'SiteDown', site: 'ams1' });
    await log.waitFor(isPage(source.alertId));
    await bucketUntil((k) => k.includes(`src.${source.alertId}`), 'the source');
    const target = await trigger('net', fingerprintOn('net', 3, 'sw1.ams1'), { alertname: 'DeviceDown', device: 'sw1.ams1' });
    await routed(target);
    clock.advance(10 * SEC);
    await log.waitFor(is('AlertInhibited', target.alertId));

    await stopBKeepingItsPartitions();
    // An entry of partition 3 that no escalation stands behind (as left by a crash): the restart prunes it.
    const ghost = randomUUID();
    await bucket.put(
      `src.${ghost}`,
      JSON.stringify({ alertId: ghost, labels: { site: 'chi1' }, site: 'chi1', rules: ['site-down'], summary: 'ghost', partition: 3 }),
    );
    await resolve(source);
    await bucketUntil((k) => !k.includes(`src.${source.alertId}`), 'the source gone');
    expect(log.events.filter(is('AlertReleased', target.alertId))).toHaveLength(0);

    await startReplica('replica-b');
    await leasesAsPlanned();
    await bucketUntil((k) => !k.includes(`src.${ghost}`), 'the ghost source pruned');
    const [step] = await log.waitFor(is('EscalationStepReached', target.alertId), 1, 35_000);
    expect((step as EventOf<'EscalationStepReached'>).data).toMatchObject({ step: 0, reason: 'released' });
    expect((await log.waitFor(isPage(target.alertId))).map(who)).toStrictEqual(['alice']);
    await barrier(3);
    expect(types(target)).toStrictEqual([
      'AlertRouted',
      'AlertInhibited',
      'AlertReleased',
      'EscalationStepReached',
      'NotificationRequested',
    ]);
  }, 70_000);

  it("an incident whose last member resolved while its first alert's replica was down resolves when the replica starts again", async () => {
    const first = await trigger('grp', fingerprintOn('grp', 2, 'rack'), { alertname: 'RackDown' });
    const [opened] = await log.waitFor(is('IncidentOpened', first.alertId));
    const incident = (opened as EventOf<'IncidentOpened'>).data;
    const member = await trigger('grp', fingerprintOn('grp', 0, 'rack'), { alertname: 'RackDown' });
    await log.waitFor(is('AlertGrouped', member.alertId));
    await bucketUntil((k) => k.includes(`mem.${incident.incidentId}.${member.alertId}`), 'the member');
    // A person acknowledged the member (as the incident's acknowledgement is sent to it): it does not take over.
    await publishAlert('AlertAcknowledged', { ...member, by: 'user', userId: 'alice', note: '' });
    await log.waitFor((e) => is('EscalationStopped', member.alertId)(e) && e.data.reason === 'acknowledged');
    await resolve(first);
    await log.waitFor(is('EscalationStopped', first.alertId));

    await stopBKeepingItsPartitions();
    await resolve(member);
    await bucketUntil((k) => !k.includes(`mem.${incident.incidentId}.${member.alertId}`), 'the member gone');
    expect(log.events.filter(is('IncidentResolved', first.alertId))).toHaveLength(0);

    await startReplica('replica-b');
    await leasesAsPlanned();
    await log.waitFor(is('IncidentResolved', first.alertId), 1, 35_000);
    await bucketUntil((k) => !k.includes(groupEntry(incident.groupKey)), 'the incident gone');
    await barrier(2);
    expect(log.events.filter((e) => is('IncidentResolved')(e) && e.data.incidentId === incident.incidentId)).toHaveLength(1);
    expect(log.events.filter((e) => is('IncidentTakenOver')(e) && e.data.incidentId === incident.incidentId)).toHaveLength(0);
    expect(types(member)).toStrictEqual(['AlertRouted', 'AlertGrouped', 'EscalationStopped', 'EscalationStopped']);
  }, 70_000);

  it("a replica that stops hands its partitions over: the survivor keeps the shared entries and releases on the source's resolve", async () => {
    const source = await trigger('net', fingerprintOn('net', 1, 'sitedown-takeover'), { alertname: 'SiteDown', site: 'ams1' });
    await log.waitFor(isPage(source.alertId));
    await bucketUntil((k) => k.includes(`src.${source.alertId}`), 'the source');
    const target = await trigger('net', fingerprintOn('net', 3, 'fw1.ams1'), { alertname: 'DeviceDown', device: 'fw1.ams1' });
    await routed(target);
    clock.advance(10 * SEC);
    await log.waitFor(is('AlertInhibited', target.alertId));

    await stopReplica('replica-a');
    const deadline = Date.now() + 35_000;
    while ((await leases.get('escalator.p1'))?.string() !== 'replica-b') {
      if (Date.now() > deadline) throw new Error('replica B did not take partition 1 over');
      await new Promise((r) => setTimeout(r, 100));
    }
    // The survivor's rebuild of partition 1 keeps the source: the target stays inhibited.
    await barrier(1);
    expect((await keys()).includes(`src.${source.alertId}`)).toBe(true);
    expect(log.events.filter(is('AlertReleased', target.alertId))).toHaveLength(0);

    await resolve(source);
    const [step] = await log.waitFor(is('EscalationStepReached', target.alertId));
    expect((step as EventOf<'EscalationStepReached'>).data).toMatchObject({ step: 0, reason: 'released' });
    await log.waitFor(isPage(target.alertId));
    await bucketUntil((k) => !k.includes(`src.${source.alertId}`), 'the source gone');
  }, 70_000);
});
