import { randomUUID } from 'node:crypto';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { jetstream, jetstreamManager } from '@nats-io/jetstream';
import type { NatsConnection } from '@nats-io/transport-node';
import {
  buildEvent,
  CONSUMERS,
  decodeEvent,
  encodeEvent,
  partitionOf,
  stableUuid,
  STREAMS,
  subjects,
  type DomainEvent,
  type EscalationEvent,
  type EventData,
  type EventOf,
} from '@oncall/contracts';
import { fileUserDirectory, ManualClock } from '@oncall/shared';
import { startEscalator } from '../index.js';
import { prepareTopology, startTestNats, testLog, type TestNats } from '../../../test/harness.js';
import { appendConfig, followStream, type FollowedStream } from '../../../test/escalation-log.js';

/**
 * Recovery of a partition from the log: what arrived or was cut short while no escalator ran
 * is decided when one starts, and nothing already stored is decided twice.
 */

const USERS = fileUserDirectory([
  { id: 'alice', name: 'Alice', email: 'alice@example.com', timezone: 'UTC', contacts: [{ channel: 'sms', address: '+15555550101' }] },
  { id: 'carol', name: 'Carol', email: 'carol@example.com', timezone: 'UTC', contacts: [{ channel: 'voice', address: '+15555550103' }] },
]);
const SERVICE = 'checkout';
const P = 1;

type Notice = EventOf<'NotificationRequested'>;
const of = (events: readonly DomainEvent[], alertId: string): EscalationEvent[] =>
  events.filter(
    (e): e is EscalationEvent =>
      e.data !== null && typeof e.data === 'object' && 'alertId' in e.data && e.data.alertId === alertId && e.type !== 'AlertTriggered',
  );
const who = (e: EscalationEvent): string => {
  const r = (e as Notice).data.recipient;
  return r.type === 'user' ? r.userId : r.type === 'slack' ? r.channel : r.url;
};

describe('escalator partition recovery', () => {
  let nats: TestNats;
  let admin: NatsConnection;
  let log: FollowedStream;
  let escalator: { stop: () => Promise<void> } | null = null;
  const clock = new ManualClock(Date.now());
  const start = async () => {
    escalator = await startEscalator({
      nc: await nats.connect('escalator'),
      partitions: P,
      users: USERS,
      log: testLog,
      owner: 'recovery-test',
      clock,
    });
  };
  const stop = async () => {
    await escalator?.stop();
    escalator = null;
  };

  /** Writes an AlertTriggered as the decider would (with `over` as a buggy one might); returns its alert id and ALERTS sequence. */
  const trigger = async (
    fingerprint: string,
    over: Partial<EventData<'AlertTriggered'>> = {},
  ): Promise<{ alertId: string; seq: number }> => {
    const alertId = randomUUID();
    const now = new Date(clock.now()).toISOString();
    const data = { ...triggerData(alertId, SERVICE, fingerprint, now), ...over };
    const event = buildEvent('AlertTriggered', data, { id: randomUUID(), occurredAt: now, causationId: null, correlationId: alertId });
    const ack = await jetstream(admin).publish(subjects.alert(partitionOf(data.serviceId, fingerprint, P), alertId), encodeEvent(event));
    return { alertId, seq: ack.seq };
  };

  /** Appends an escalation event as the escalator would have before a crash. */
  const appendDecision = async <T extends EscalationEvent['type']>(alertId: string, type: T, data: EventData<T>, causationSeq?: number) => {
    const before = of(log.events, alertId);
    const event = buildEvent(type, data, {
      id: stableUuid(`escalation:${alertId}:${before.length}`),
      occurredAt: new Date(clock.now()).toISOString(),
      causationId: null,
      ...(causationSeq ? { causationSeq } : {}),
      correlationId: alertId,
    }) as EscalationEvent;
    const lastSubjectSequence = (
      await jetstream(admin).publish(subjects.escalation(0, alertId), encodeEvent(event), {
        msgID: event.id,
        expect: { lastSubjectSequence: await lastSeqOf(alertId) },
      })
    ).seq;
    await log.waitFor((e) => e.id === event.id);
    return lastSubjectSequence;
  };
  const lastSeqOf = async (alertId: string): Promise<number> => {
    const jsm = await jetstreamManager(admin);
    const msg = await jsm.streams.getMessage(STREAMS.escalations, { last_by_subj: subjects.escalation(0, alertId) }).catch(() => null);
    return msg?.seq ?? 0;
  };

  beforeAll(async () => {
    nats = await startTestNats();
    admin = await nats.connect('admin');
    await prepareTopology(admin, P);
    await appendConfig(admin, 'policy', SERVICE, 'EscalationPolicyConfigured', {
      policyId: SERVICE,
      name: 'Checkout',
      repeat: 0,
      steps: [
        { delaySeconds: 300, targets: [{ type: 'user', userId: 'alice' }], untilAllAck: false },
        {
          delaySeconds: 600,
          targets: [
            { type: 'user', userId: 'carol' },
            { type: 'slack', channel: '#noc' },
          ],
          untilAllAck: false,
        },
      ],
    });
    // A window for another service whose labels the malformed event below cannot be matched against.
    await appendConfig(admin, 'maintenance', 'lab', 'MaintenanceWindowConfigured', {
      windowId: 'lab',
      name: 'Lab rebuild',
      start: new Date(clock.now() - 3_600_000).toISOString(),
      end: new Date(clock.now() + 10 * 86_400_000).toISOString(),
      services: ['legacy'],
      labels: { site: 'lab1' },
      when: null,
      mode: 'suppress',
    });
    await appendConfig(admin, 'routing', SERVICE, 'RoutingConfigured', {
      serviceId: SERVICE,
      escalationPolicyId: SERVICE,
      templateId: null,
      ackTimeoutSeconds: null,
      rules: [],
    });
    log = await followStream(admin, STREAMS.escalations);
  });

  afterEach(stop);

  afterAll(async () => {
    await log.close();
    await nats.stop();
  });

  it('pages an alert that arrived while no escalator ran, once, and nothing decided before again', async () => {
    await start();
    const before = await trigger('web-1');
    await log.waitFor((e) => e.type === 'NotificationRequested' && e.data.alertId === before.alertId);
    await stop();

    const during = await trigger('web-2');
    await start();
    await log.waitFor((e) => e.type === 'NotificationRequested' && e.data.alertId === during.alertId);
    // A barrier: with one partition, a later alert is answered after everything before it.
    const barrier = await trigger('barrier-1');
    await log.waitFor((e) => e.type === 'NotificationRequested' && e.data.alertId === barrier.alertId);

    expect(of(log.events, during.alertId).map((e) => e.type)).toStrictEqual([
      'AlertRouted',
      'EscalationStepReached',
      'NotificationRequested',
    ]);
    expect(of(log.events, before.alertId).map((e) => e.type)).toStrictEqual([
      'AlertRouted',
      'EscalationStepReached',
      'NotificationRequested',
    ]);
  });

  it('completes the decisions of an alert event a crash cut short (after the first append), without repeating that one', async () => {
    await start();
    const template = await trigger('template');
    const [routedTemplate] = await log.waitFor((e) => e.type === 'AlertRouted' && e.data.alertId === template.alertId);
    await stop();

    // Stored before the crash: the alert event and its AlertRouted; never acked.
    const cut = await trigger('web-3');
    const routed = (routedTemplate as EventOf<'AlertRouted'>).data;
    await appendDecision(
      cut.alertId,
      'AlertRouted',
      {
        ...routed,
        alertId: cut.alertId,
        alertSeq: cut.seq,
        alert: { ...routed.alert, alertId: cut.alertId, fingerprint: 'web-3', summary: 'down: web-3', labels: { host: 'web-3' } },
      },
      cut.seq,
    );

    await start();
    await log.waitFor((e) => e.type === 'NotificationRequested' && e.data.alertId === cut.alertId);
    const barrier = await trigger('barrier-2');
    await log.waitFor((e) => e.type === 'NotificationRequested' && e.data.alertId === barrier.alertId);
    const events = of(log.events, cut.alertId);
    expect(events.map((e) => e.type)).toStrictEqual(['AlertRouted', 'EscalationStepReached', 'NotificationRequested']);
    expect(events.slice(2).map(who)).toStrictEqual(['alice']);
  });

  it('completes a timer decision a crash cut short: the step is stored, its pages are requested after the restart, once', async () => {
    await start();
    const alert = await trigger('web-4');
    await log.waitFor((e) => e.type === 'NotificationRequested' && e.data.alertId === alert.alertId);
    await stop();

    // The step-1 timeout was stored; its two pages were not.
    await appendDecision(alert.alertId, 'EscalationStepReached', {
      alertId: alert.alertId,
      serviceId: SERVICE,
      policyId: SERVICE,
      step: 1,
      round: 0,
      page: 0,
      untilAllAck: false,
      reason: 'timeout',
      recipients: [
        { type: 'user', userId: 'carol', via: 'direct' },
        { type: 'slack', channel: '#noc' },
      ],
      nextAt: null,
    });
    await start();
    await log.waitFor((e) => e.type === 'NotificationRequested' && e.data.alertId === alert.alertId, 3);
    const barrier = await trigger('barrier-3');
    await log.waitFor((e) => e.type === 'NotificationRequested' && e.data.alertId === barrier.alertId);
    const notices = of(log.events, alert.alertId).filter((e) => e.type === 'NotificationRequested');
    expect(notices.map(who)).toStrictEqual(['alice', 'carol', '#noc']);
  });

  it('goes on when its durable consumer is deleted under it: later alerts are paged, nothing twice', async () => {
    await start();
    const before = await trigger('web-5');
    await log.waitFor((e) => e.type === 'NotificationRequested' && e.data.alertId === before.alertId);
    const jsm = await jetstreamManager(admin);
    const created = (await jsm.consumers.info(STREAMS.alerts, CONSUMERS.escalator(0))).created;
    await jsm.consumers.delete(STREAMS.alerts, CONSUMERS.escalator(0));
    const after = await trigger('web-6');
    await log.waitFor((e) => e.type === 'NotificationRequested' && e.data.alertId === after.alertId, 1, 20_000);
    const barrier = await trigger('barrier-5');
    await log.waitFor((e) => e.type === 'NotificationRequested' && e.data.alertId === barrier.alertId);

    for (const alert of [before, after, barrier])
      expect(of(log.events, alert.alertId).map((e) => e.type)).toStrictEqual([
        'AlertRouted',
        'EscalationStepReached',
        'NotificationRequested',
      ]);
    // A new consumer (created after the deletion) answers and acks the alerts that followed.
    await expect
      .poll(async () => (await jsm.consumers.info(STREAMS.alerts, CONSUMERS.escalator(0))).ack_floor.stream_seq)
      .toBeGreaterThanOrEqual(barrier.seq);
    expect((await jsm.consumers.info(STREAMS.alerts, CONSUMERS.escalator(0))).created).not.toBe(created);
  });

  it('parks an alert event it cannot decode and one it cannot decide, goes on, and reads both at a restart without failing', async () => {
    await start();
    const garbage = await jetstream(admin).publish(subjects.alert(0, randomUUID()), 'not an event {');
    // Written by a buggy decider: labels null. Routing throws on it while a window for its service filters by label.
    const undecidable = await trigger('old-1', { serviceId: 'legacy', labels: null as unknown as Record<string, string> });
    const legacyId = undecidable.alertId;
    const after = await trigger('web-7');
    await log.waitFor((e) => e.type === 'NotificationRequested' && e.data.alertId === after.alertId);

    await expect.poll(async () => (await parked(admin)).length).toBe(2);
    expect(await parked(admin)).toMatchObject([
      { consumer: CONSUMERS.escalator(0), stream: STREAMS.alerts, seq: garbage.seq, reason: 'undecodable' },
      { consumer: CONSUMERS.escalator(0), stream: STREAMS.alerts, seq: undecidable.seq, reason: 'undecidable', error: /TypeError/ },
    ]);
    const jsm = await jetstreamManager(admin);
    await expect
      .poll(async () => (await jsm.consumers.info(STREAMS.alerts, CONSUMERS.escalator(0))).ack_floor.stream_seq)
      .toBeGreaterThanOrEqual(after.seq);

    // A restart reads both from the log without failing, and parks nothing twice.
    await stop();
    await start();
    const barrier = await trigger('barrier-6');
    await log.waitFor((e) => e.type === 'NotificationRequested' && e.data.alertId === barrier.alertId);
    expect(await parked(admin)).toHaveLength(2);
    expect(of(log.events, legacyId)).toStrictEqual([]);

    // Retried, both fail again, and say why.
    expect(await retry(admin, garbage.seq)).toMatchObject({ outcome: 'failed', error: /not JSON/ });
    expect(await retry(admin, undecidable.seq)).toMatchObject({ outcome: 'failed', error: /TypeError/ });
  });

  it('an alert its policy cannot escalate is parked; once the routing is fixed, a retry pages it, once', async () => {
    // A step with more recipients than one decision may request: deciding the alert throws.
    await appendConfig(admin, 'policy', 'huge', 'EscalationPolicyConfigured', {
      policyId: 'huge',
      name: 'Everyone',
      repeat: 0,
      steps: [
        {
          delaySeconds: 300,
          targets: Array.from({ length: 250 }, (_, i) => ({ type: 'slack' as const, channel: `#room-${i}` })),
          untilAllAck: false,
        },
      ],
    });
    await appendConfig(admin, 'routing', 'bulk', 'RoutingConfigured', {
      serviceId: 'bulk',
      escalationPolicyId: 'huge',
      templateId: null,
      ackTimeoutSeconds: null,
      rules: [],
    });
    await start();
    const { alertId, seq } = await trigger('bulk-1', { serviceId: 'bulk' });
    await expect.poll(async () => (await parked(admin)).filter((p) => p.seq === seq)).toMatchObject([{ reason: 'undecidable' }]);
    expect(await retry(admin, seq)).toMatchObject({ outcome: 'failed', error: /did not settle/ });

    await appendConfig(admin, 'routing', 'bulk', 'RoutingConfigured', {
      serviceId: 'bulk',
      escalationPolicyId: SERVICE,
      templateId: null,
      ackTimeoutSeconds: null,
      rules: [],
    });
    await expect.poll(async () => (await retry(admin, seq)).outcome, { timeout: 10_000 }).toBe('applied');
    // Applied means appended; the followed log reads them a moment later (a busy machine showed none yet).
    await log.waitFor((e) => e.type === 'NotificationRequested' && e.data.alertId === alertId);
    const decided = ['AlertRouted', 'EscalationStepReached', 'NotificationRequested'];
    expect(of(log.events, alertId).map((e) => e.type)).toStrictEqual(decided);
    expect(of(log.events, alertId).slice(2).map(who)).toStrictEqual(['alice']);
    // Retried again: the escalation has moved on from it; nothing is decided twice.
    expect(await retry(admin, seq)).toMatchObject({ outcome: 'applied' });
    const barrier = await trigger('barrier-7');
    await log.waitFor((e) => e.type === 'NotificationRequested' && e.data.alertId === barrier.alertId);
    expect(of(log.events, alertId).map((e) => e.type)).toStrictEqual(decided);
  });
});

function triggerData(alertId: string, serviceId: string, fingerprint: string, seenAt: string): EventData<'AlertTriggered'> {
  return {
    alertId,
    serviceId,
    fingerprint,
    source: 'generic',
    summary: `down: ${fingerprint}`,
    details: '',
    severity: 'critical',
    labels: { host: fingerprint },
    annotations: {},
    links: [],
    custom: {},
    startsAt: null,
    generatorUrl: null,
    seenAt,
  };
}

/** What the escalator parked so far. */
async function parked(nc: NatsConnection): Promise<Array<EventData<'MessageParked'>>> {
  const jsm = await jetstreamManager(nc);
  const last = (await jsm.streams.info(STREAMS.parked)).state.last_seq;
  const out: Array<EventData<'MessageParked'>> = [];
  for (let seq = 1; seq <= last; seq++) {
    const m = await jsm.streams.getMessage(STREAMS.parked, { seq });
    const e = m && decodeEvent(m.data);
    if (e?.type === 'MessageParked') out.push(e.data);
  }
  return out;
}

/** Asks the partition's owner to retry a parked message, as `oncall parked retry` does. */
async function retry(nc: NatsConnection, seq: number): Promise<{ outcome: string; error: string | null }> {
  const answer = await nc.request(subjects.parkedRetry(CONSUMERS.escalator(0)), JSON.stringify({ stream: STREAMS.alerts, seq }), {
    timeout: 10_000,
  });
  return JSON.parse(answer.string()) as { outcome: string; error: string | null };
}
