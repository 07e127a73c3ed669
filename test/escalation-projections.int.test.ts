import { spawn, type ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import getPort from 'get-port';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { jetstream } from '@nats-io/jetstream';
import { CONSUMERS, encodeEvent, stableUuid, STREAMS, type DomainEvent, type EventData } from '@oncall/contracts';
import { createReadModelPool } from '@oncall/shared';
import { entryArgs } from '../infra/src/entry.js';
import { migrate } from '../infra/src/migrate.js';
import {
  alertsProjection,
  applyBatch,
  configProjection,
  deliveriesProjection,
  escalationsProjection,
  replayProjection,
  ticketsProjection,
  waitForProjection,
  type Projection,
} from '@oncall/projector';
import type { DatabasePool } from 'slonik';
import { createTestDatabase, prepareTopology, startTestNats, streamLastSeq, tableRows, type TestNats } from './harness.js';
import {
  alertLifecycle,
  alertRef,
  configLog,
  configSubjectOf,
  escalation,
  eventFactory,
  notificationIdOf,
  user,
} from './projection-events.js';

type Message = { seq: number; subject: string; data: Uint8Array };
type Db = { url: string; schema: string; pool: DatabasePool };

/** Messages of one stream with consecutive sequences. */
function streamOf(events: readonly DomainEvent[], subject: (e: DomainEvent) => string): Message[] {
  return events.map((e, i) => ({ seq: i + 1, subject: subject(e), data: encodeEvent(e) }));
}
/** The event's subject, in one of two partitions by its alert id (so a partitioned replay has two to load). */
const perAlert = (prefix: string) => (e: DomainEvent) => {
  const alertId = (e.data as { alertId: string }).alertId;
  return `${prefix}.${Number.parseInt(alertId[0]!, 16) % 2}.${alertId}`;
};

const dbs: Db[] = [];
async function freshDb(): Promise<Db> {
  const db = await createTestDatabase();
  const d = { ...db, pool: await createReadModelPool(db.url, db.schema) };
  dbs.push(d);
  return d;
}
afterAll(async () => {
  await Promise.all(dbs.map((d) => d.pool.end()));
});

async function applyInBatches(db: Db, projection: Projection, messages: readonly Message[], sizes: readonly number[]): Promise<void> {
  let i = 0;
  for (let k = 0; i < messages.length; k++) {
    const size = sizes[k % sizes.length]!;
    await applyBatch(db.pool, projection, messages.slice(i, i + size));
    i += size;
  }
}

const TABLES: Array<[string, string]> = [
  ['alert_escalations', 'alert_id'],
  ['incidents', 'incident_id'],
  ['notifications', 'notification_id'],
  ['notification_deliveries', 'seq'],
  ['tickets', 'alert_id, provider_id, ticket_key'],
  ['ticket_requests', 'alert_id, provider_id'],
  ['escalation_timeline', 'stream, seq'],
  ['projection_checkpoints', 'projection'],
];
async function rows(db: Db): Promise<Record<string, unknown[]>> {
  const out: Record<string, unknown[]> = {};
  for (const [table, order] of TABLES)
    out[table] = await tableRows(db.url, db.schema, table, order, table === 'projection_checkpoints' ? ['updated_at'] : []);
  return out;
}

const INCIDENT = stableUuid('incident-fra1');
const GROUP = 'checkout|site=fra1';

/**
 * A workload of three alerts: `a` escalates to step 2, is acknowledged, reopened by the ack
 * timeout and escalates again; `b` is routed into a maintenance window and routed again when
 * it ends; `c` is exhausted. Notifications are delivered, fail over to another channel, or fail.
 * Storm sense: `d` (partition 0) opens an incident that `f` and `g` (partition 1) join, `f`
 * after an inhibition by `d` and its release; `d` breaches its tier's SLA, `b` starts flapping,
 * `g` flaps; `d` resolves while `f` fires, `f` takes the incident over, pages, and the incident
 * resolves on `f`'s subject.
 */
function workload() {
  const f = eventFactory();
  const a = escalation(f, 'a');
  const b = escalation(f, 'b', 'payroll');
  const c = escalation(f, 'c');
  const d = escalation(f, 'd');
  const ff = escalation(f, 'f');
  const g = escalation(f, 'g');
  const dId = alertRef('d').alertId;
  const fId = alertRef('f').alertId;
  const storm = { site: 'fra1-r1', groupKey: GROUP, groupLabels: { site: 'fra1' } };
  const gold = { tier: 'gold', responseSeconds: 600, escalateBeforeSeconds: 60 };
  const esc: DomainEvent[] = [
    a.routed({ rules: ['db'], alertSeq: 1 }),
    b.routed({
      suppressed: { by: 'maintenance', windowId: 'fra1', until: '2026-11-24T02:00:00.000Z' },
      maintenance: ['ams1'],
      alertSeq: 2,
    }),
    a.step(0, 0, [user('alice')]),
    a.requested('1', user('alice'), { channels: ['sms', 'voice'] }),
    c.routed({ alertSeq: 3 }),
    c.step(0, 0, [{ type: 'slack', channel: '#ops' }], { nextInMinutes: null }),
    c.requested('1', { type: 'slack', channel: '#ops' }),
    a.step(1, 0, [user('bob'), { type: 'webhook', url: 'https://hooks.example.com/x' }], { nextInMinutes: 10 }),
    a.requested('2-bob', user('bob')),
    a.requested('2-hook', { type: 'webhook', url: 'https://hooks.example.com/x' }),
    c.stopped('exhausted'),
    a.stopped('acknowledged', 'bob', 60),
    b.routed({ alertSeq: 2 }),
    b.step(0, 0, [user('carol')]),
    b.requested('1', user('carol'), { channels: ['email'] }),
    a.reopenRequested('ack-timeout'),
    a.step(0, 0, [user('alice')], { reason: 'reopened' }),
    a.requested('3', user('alice')),
    d.routed({ ...storm, sla: gold, alertSeq: 4 }),
    ff.routed({ ...storm, sla: gold, alertSeq: 5 }),
    ff.inhibited(dId),
    d.incidentOpened(INCIDENT, GROUP, { site: 'fra1' }),
    d.step(0, 0, [user('alice')]),
    d.requested('1', user('alice')),
    b.flappingStarted(),
    g.routed({ ...storm, alertSeq: 6 }),
    g.flapped('2026-11-23T09:50:00.000Z'),
    g.grouped(INCIDENT, GROUP, dId),
    ff.released(dId),
    ff.grouped(INCIDENT, GROUP, dId),
    d.slaBreached('gold', 600),
    // d's source resolved it while f still fired: f took the incident over, paged, and resolved it at the end.
    ff.takenOver(INCIDENT, GROUP, dId, fId),
    ff.step(0, 0, [user('alice')], { reason: 'takeover' }),
    d.takenOver(INCIDENT, GROUP, dId, fId),
    ff.incidentResolved(INCIDENT, GROUP),
  ];
  const del: DomainEvent[] = [
    a.failed('1', 'sms', 'voice'),
    c.delivered('1', 'slack'),
    a.delivered('1', 'voice', 2),
    a.delivered('2-bob', 'sms'),
    a.failed('2-hook', 'webhook', null, 5),
    b.failed('1', 'email', null),
    a.failed('3', 'sms', 'voice'),
  ];
  const tix: DomainEvent[] = [
    a.ticketRequested(),
    a.ticketCreated('OPS-1'),
    a.ticketRequested('jira', 'alice'),
    a.ticketUpdated('OPS-1', 'acknowledged', 'in_progress'),
    a.ticketStatus('OPS-1', 'In Progress', 'jira', { state: 'in_progress', actor: 'oncall-bot', echo: true }),
    c.ticketRequested('jira', 'bob'),
    c.ticketFailed(1),
    c.ticketFailed(2),
    c.ticketFound('OPS-2', '10002'),
    a.ticketStatus('OPS-1', 'Done', 'jira', { state: 'resolved', actor: 'jane@example.com', echo: false }),
    b.ticketStatus('SN-9', 'New', 'servicenow'),
    d.ticketRequested('servicenow'),
    d.ticketFailed(1, { providerId: 'servicenow' }),
    d.ticketFailed(2, { providerId: 'servicenow', permanent: true }),
    g.ticketLinked('CASE-7', 'carol', 'salesforce'),
    c.ticketFailed(1, { key: 'OPS-2', httpStatus: null }),
  ];
  return {
    escalations: streamOf(esc, perAlert('escalations')),
    deliveries: streamOf(del, perAlert('deliveries')),
    tickets: streamOf(tix, perAlert('tickets')),
  };
}

describe('escalation, delivery and ticket projections', () => {
  const log = workload();
  let reference: Record<string, unknown[]>;

  beforeAll(async () => {
    // One event per transaction: the reference every other way of applying must equal.
    const db = await freshDb();
    for (const m of log.escalations) await applyBatch(db.pool, escalationsProjection, [m]);
    for (const m of log.deliveries) await applyBatch(db.pool, deliveriesProjection, [m]);
    for (const m of log.tickets) await applyBatch(db.pool, ticketsProjection, [m]);
    reference = await rows(db);
  });

  it('alert_escalations: where each escalation stands', () => {
    const byId = new Map((reference.alert_escalations as Array<Record<string, unknown>>).map((r) => [r.alert_id, r]));
    expect(byId.size).toBe(6);
    expect(byId.get(alertRef('a').alertId)).toMatchObject({
      routes: 1,
      routing_rules: ['db'],
      policy_id: 'primary',
      escalation_step: 0,
      escalation_round: 0,
      step_reason: 'reopened',
      escalation_stopped_reason: null,
      reopen_at: null,
      reopen_requested_at: null,
      notifications_requested: 4,
      last_event_seq: '18',
      step_recipients: [user('alice')],
    });
    expect(byId.get(alertRef('a').alertId)!.next_escalation_at).toBeInstanceOf(Date);
    expect(byId.get(alertRef('b', 'payroll').alertId)).toMatchObject({
      service_id: 'payroll',
      routes: 2,
      suppressed_by: null,
      suppressed_until: null,
      maintenance: [],
      escalation_step: 0,
      alert_seq: '2',
    });
    expect(byId.get(alertRef('c').alertId)).toMatchObject({
      escalation_stopped_reason: 'exhausted',
      next_escalation_at: null,
      escalation_step: 0,
    });
  });

  it('storm sense: incident membership, inhibition, flapping and the SLA on the alert rows; the incident row', () => {
    const byId = new Map((reference.alert_escalations as Array<Record<string, unknown>>).map((r) => [r.alert_id, r]));
    const dId = alertRef('d').alertId;
    expect(byId.get(dId)).toMatchObject({
      site: 'fra1-r1',
      group_key: GROUP,
      incident_id: INCIDENT,
      inhibited: false,
      tier: 'gold',
      sla_response_seconds: 600,
      sla_deadline: new Date('2026-11-23T10:10:00.000Z'),
      escalation_step: 0,
    });
    expect(byId.get(dId)!.sla_breached_at).toBeInstanceOf(Date);
    expect(byId.get(alertRef('f').alertId)).toMatchObject({
      incident_id: INCIDENT,
      inhibited: false,
      inhibited_by: dId,
      inhibited_rule: 'site-down',
      sla_breached_at: null,
      escalation_step: 0,
      step_reason: 'takeover',
    });
    expect(byId.get(alertRef('f').alertId)!.released_at).toBeInstanceOf(Date);
    expect(byId.get(alertRef('g').alertId)).toMatchObject({ incident_id: INCIDENT, flapping: 'flapped', tier: null, sla_deadline: null });
    expect(byId.get(alertRef('b', 'payroll').alertId)).toMatchObject({ flapping: 'started', incident_id: null, inhibited: false });
    const [incident] = reference.incidents as Array<Record<string, unknown>>;
    expect(reference.incidents).toHaveLength(1);
    expect(incident).toMatchObject({
      incident_id: INCIDENT,
      service_id: 'checkout',
      group_key: GROUP,
      group_labels: { site: 'fra1' },
      first_alert_id: dId,
      summary: 'd is down',
      alert_count: 3,
    });
    expect((incident!.opened_at as Date) < (incident!.last_alert_at as Date)).toBe(true);
    expect((incident!.last_alert_at as Date) < (incident!.resolved_at as Date)).toBe(true);
  });

  it('partitions applied one after the other, in either order (as a partitioned replay may), give the same rows', async () => {
    const ofPartition = (n: number) => log.escalations.filter((m) => m.subject.startsWith(`escalations.${n}.`));
    expect(ofPartition(0).length).toBeGreaterThan(0);
    expect(ofPartition(1).length).toBeGreaterThan(0);
    for (const order of [
      [1, 0],
      [0, 1],
    ]) {
      const db = await freshDb();
      for (const n of order)
        await applyInBatches(db, { ...escalationsProjection, name: `${escalationsProjection.name}#p${n}` }, ofPartition(n), [4]);
      const got = await rows(db);
      for (const table of ['alert_escalations', 'incidents'])
        expect(got[table], `${table}, partitions ${order.join(', ')}`).toEqual(reference[table]);
      const ofEscalations = (rs: unknown[] | undefined) => rs!.filter((r) => (r as { stream: string }).stream === STREAMS.escalations);
      expect(got.escalation_timeline).toEqual(ofEscalations(reference.escalation_timeline));
    }
  });

  it('an incident taken over: its row names the alert that opened it, whichever partition a replay applies first', async () => {
    // The lead and the alert taking over on partition 0; a later alert, joining under the new lead, on partition 1.
    const named = (partition: number, prefix: string): string => {
      for (let i = 0; ; i++) if (Number.parseInt(alertRef(`${prefix}${i}`).alertId[0]!, 16) % 2 === partition) return `${prefix}${i}`;
    };
    const f = eventFactory();
    const [lead, taker, late] = [named(0, 'lead'), named(0, 'taker'), named(1, 'late')];
    const [h, k, m] = [escalation(f, lead), escalation(f, taker), escalation(f, late)];
    const [hId, kId] = [alertRef(lead).alertId, alertRef(taker).alertId];
    const incidentId = stableUuid('incident-taken-over');
    const key = 'checkout|site=fra2';
    const messages = streamOf(
      [
        h.incidentOpened(incidentId, key, { site: 'fra2' }),
        k.grouped(incidentId, key, hId),
        k.takenOver(incidentId, key, hId, kId),
        h.takenOver(incidentId, key, hId, kId),
        m.grouped(incidentId, key, kId),
        k.incidentResolved(incidentId, key),
      ],
      perAlert('escalations'),
    );
    const one = await freshDb();
    for (const msg of messages) await applyBatch(one.pool, escalationsProjection, [msg]);
    const expected = (await rows(one)).incidents;
    expect(expected).toMatchObject([{ incident_id: incidentId, first_alert_id: hId, alert_count: 3 }]);
    expect((expected![0] as { resolved_at: unknown }).resolved_at).toBeInstanceOf(Date);
    for (const order of [
      [1, 0],
      [0, 1],
    ]) {
      const db = await freshDb();
      for (const n of order)
        await applyInBatches(
          db,
          { ...escalationsProjection, name: `${escalationsProjection.name}#p${n}` },
          messages.filter((msg) => msg.subject.startsWith(`escalations.${n}.`)),
          [1],
        );
      expect((await rows(db)).incidents, `partitions ${order.join(', ')}`).toEqual(expected);
    }
  });

  it('notifications: one row per notification, request and outcome', () => {
    const byId = new Map((reference.notifications as Array<Record<string, unknown>>).map((r) => [r.notification_id, r]));
    expect(byId.size).toBe(7);
    expect(byId.get(notificationIdOf('a', '1'))).toMatchObject({
      kind: 'page',
      user_id: 'alice',
      recipient_type: 'user',
      status: 'delivered',
      outcomes: 2,
      request_seq: '4',
      delivery_seq: '3',
      channels: { sms: { status: 'failed', fallback: 'voice' }, voice: { status: 'delivered', attempts: 2 } },
    });
    expect(byId.get(notificationIdOf('a', '2-hook'))).toMatchObject({ recipient_type: 'webhook', user_id: null, status: 'failed' });
    expect(byId.get(notificationIdOf('a', '3'))).toMatchObject({ status: 'requested', delivered_at: null, outcomes: 1 });
    expect(byId.get(notificationIdOf('b', '1'))).toMatchObject({ service_id: 'payroll', status: 'failed' });
    expect(byId.get(notificationIdOf('c', '1'))).toMatchObject({ recipient_type: 'slack', status: 'delivered' });
    expect(reference.notification_deliveries).toHaveLength(7);
    expect(reference.notification_deliveries![0]).toMatchObject({
      outcome: 'failed',
      channel: 'sms',
      reason: 'provider_unavailable',
      retryable: true,
      fallback: 'voice',
      provider_message_id: null,
    });
  });

  it('tickets: created or linked, then the provider status; a status without its creation still shows', () => {
    expect(
      (reference.tickets as Array<Record<string, unknown>>)
        .map(
          ({
            ticket_key,
            provider_id,
            status,
            state,
            url,
            external_id,
            found,
            linked,
            linked_by,
            last_change,
            status_actor,
            status_echo,
          }) => ({
            ticket_key,
            provider_id,
            status,
            state,
            url,
            external_id,
            found,
            linked,
            linked_by,
            last_change,
            status_actor,
            status_echo,
          }),
        )
        .sort((x, y) => String(x.ticket_key).localeCompare(String(y.ticket_key))),
    ).toStrictEqual([
      {
        ticket_key: 'CASE-7',
        provider_id: 'salesforce',
        status: 'linked',
        state: 'open',
        url: 'https://salesforce.example.com/CASE-7',
        external_id: null,
        found: false,
        linked: true,
        linked_by: 'carol',
        last_change: null,
        status_actor: null,
        status_echo: null,
      },
      {
        ticket_key: 'OPS-1',
        provider_id: 'jira',
        status: 'Done',
        state: 'resolved',
        url: 'https://jira.example.com/OPS-1',
        external_id: null,
        found: false,
        linked: false,
        linked_by: null,
        last_change: 'acknowledged',
        status_actor: 'jane@example.com',
        status_echo: false,
      },
      {
        ticket_key: 'OPS-2',
        provider_id: 'jira',
        status: 'created',
        state: 'open',
        url: null,
        external_id: '10002',
        found: true,
        linked: false,
        linked_by: null,
        last_change: null,
        status_actor: null,
        status_echo: null,
      },
      {
        ticket_key: 'SN-9',
        provider_id: 'servicenow',
        status: 'New',
        state: null,
        url: null,
        external_id: null,
        found: false,
        linked: false,
        linked_by: null,
        last_change: null,
        status_actor: null,
        status_echo: false,
      },
    ]);
  });

  it('ticket_requests: the first request, then created, retrying or failed with the last error', () => {
    const byAlert = new Map(
      (reference.ticket_requests as Array<Record<string, unknown>>).map((r) => [`${String(r.alert_id)} ${String(r.provider_id)}`, r]),
    );
    expect(byAlert.size).toBe(3);
    expect(byAlert.get(`${alertRef('a').alertId} jira`)).toMatchObject({
      status: 'created',
      requested_by: 'rule',
      requested_user: null,
      request_id: 'req-a-jira-rule',
      ticket_key: 'OPS-1',
      attempts: 0,
      last_error: null,
    });
    expect(byAlert.get(`${alertRef('c').alertId} jira`)).toMatchObject({
      status: 'created',
      requested_by: 'api',
      requested_user: 'bob',
      ticket_key: 'OPS-2',
      attempts: 1,
      last_error: 'rate limited',
      last_error_status: null,
      last_error_operation: 'update',
      last_error_permanent: false,
    });
    expect(byAlert.get(`${alertRef('d').alertId} servicenow`)).toMatchObject({
      status: 'failed',
      ticket_key: null,
      attempts: 2,
      last_error: 'invalid credentials',
      last_error_status: 401,
      last_error_operation: 'create',
      last_error_permanent: true,
      retry_at: null,
      last_success_at: null,
    });
  });

  it('escalation_timeline: every event once, with the escalator, dispatcher or ticket system as actor', () => {
    const timeline = reference.escalation_timeline as Array<{ stream: string; actor: string; message: string }>;
    expect(timeline).toHaveLength(log.escalations.length + log.deliveries.length + log.tickets.length);
    expect(new Set(timeline.filter((t) => t.stream === STREAMS.escalations).map((t) => t.actor))).toStrictEqual(new Set(['escalator']));
    expect(new Set(timeline.filter((t) => t.stream === STREAMS.deliveries).map((t) => t.actor))).toStrictEqual(new Set(['dispatcher']));
    expect(timeline.some((t) => t.message.includes('paging user:bob (schedule:primary), webhook'))).toBe(true);
    const tickets = timeline.filter((t) => t.stream === STREAMS.tickets).map((t) => `${t.actor}: ${t.message}`);
    expect(tickets).toContain('user:carol: linked to ticket CASE-7 in salesforce (https://salesforce.example.com/CASE-7)');
    expect(tickets).toContain('ticket:jira: ticket OPS-1 is now Done by jane@example.com');
    expect(tickets).toContain('ticket:jira: ticket OPS-1 is now In Progress by oncall-bot (our own change, echoed)');
    expect(tickets).toContain('ticket:servicenow: ticket create failed (HTTP 401), attempt 2: invalid credentials; not retried');
  });

  it.each<[string, number[]]>([
    ['the whole log in one batch', [1000]],
    ['batches of two', [2]],
    ['uneven batches', [3, 1, 5, 2]],
  ])('%s gives the rows of one event at a time, in either projection order', async (_, sizes) => {
    const deliveriesFirst = await freshDb();
    await applyInBatches(deliveriesFirst, deliveriesProjection, log.deliveries, sizes);
    await applyInBatches(deliveriesFirst, ticketsProjection, log.tickets, sizes);
    await applyInBatches(deliveriesFirst, escalationsProjection, log.escalations, sizes);
    expect(await rows(deliveriesFirst)).toEqual(reference);
  });

  it('interleaved batches of the two projections that share notifications give the same rows', async () => {
    const db = await freshDb();
    const e = [...log.escalations];
    const d = [...log.deliveries];
    // outcomes arrive before, between and after the requests they answer
    while (e.length > 0 || d.length > 0) {
      if (d.length > 0) await applyBatch(db.pool, deliveriesProjection, d.splice(0, 2));
      if (e.length > 0) await applyBatch(db.pool, escalationsProjection, e.splice(0, 3));
    }
    for (const m of log.tickets) await applyBatch(db.pool, ticketsProjection, [m]);
    expect(await rows(db)).toEqual(reference);
  });

  it('a batch applied again after a crash before its ack changes nothing', async () => {
    const db = await freshDb();
    await applyBatch(db.pool, escalationsProjection, log.escalations.slice(0, 10));
    expect(await applyBatch(db.pool, escalationsProjection, log.escalations.slice(0, 12))).toBe(2);
    await applyBatch(db.pool, escalationsProjection, log.escalations);
    await applyBatch(db.pool, deliveriesProjection, log.deliveries);
    await applyBatch(db.pool, deliveriesProjection, log.deliveries);
    await applyBatch(db.pool, ticketsProjection, log.tickets);
    expect(await rows(db)).toEqual(reference);
  });

  it("views: the effective severity (equipment boost applied again to a later source severity; a rule severity kept), whatever the projections' order", async () => {
    const f = eventFactory(Date.parse('2026-11-23T09:00:00.000Z'));
    const lc = { a: alertLifecycle(f, 'a'), b: alertLifecycle(f, 'b'), c: alertLifecycle(f, 'c') };
    const alertEvents = streamOf(
      [
        lc.a.triggered('warning'),
        lc.b.triggered('warning'),
        lc.c.triggered('warning'),
        lc.a.severityChanged('info'),
        lc.b.severityChanged('info'),
      ],
      perAlert('alerts'),
    );
    const esc = { a: escalation(f, 'a'), b: escalation(f, 'b'), c: escalation(f, 'c') };
    const routes = streamOf(
      [
        esc.a.routed({
          sourceSeverity: 'warning',
          severity: 'error',
          severityBoost: { from: 'warning', to: 'error', by: 'equipment:core_router', boost: 1, severity: null },
          severityRule: null,
        }),
        esc.b.routed({ sourceSeverity: 'warning', severity: 'critical', severityBoost: null, severityRule: 'bgp-hijack' }),
      ],
      perAlert('escalations'),
    );
    const views = async (order: 'alerts first' | 'escalations first') => {
      const db = await freshDb();
      const batches: Array<[Projection, typeof alertEvents]> = [
        [alertsProjection, alertEvents],
        [escalationsProjection, routes],
      ];
      for (const [projection, messages] of order === 'alerts first' ? batches : batches.reverse())
        await applyBatch(db.pool, projection, messages);
      const joined = (await tableRows(db.url, db.schema, 'alerts_with_escalation', 'id')) as Array<Record<string, unknown>>;
      const open = (await tableRows(db.url, db.schema, 'noc_open_alerts', 'id')) as Array<Record<string, unknown>>;
      const bySeverity: unknown = await tableRows(db.url, db.schema, 'noc_open_alerts_by_severity', 'severity');
      const pick = (rs: Array<Record<string, unknown>>): Record<string, unknown> =>
        Object.fromEntries(rs.map((r) => [String(r.id), [r.severity, r.source_severity]]));
      return { joined: pick(joined), open: pick(open), bySeverity };
    };
    const first = await views('alerts first');
    expect(first.joined).toStrictEqual({
      [alertRef('a').alertId]: ['warning', 'info'], // core router: info boosted by one
      [alertRef('b').alertId]: ['critical', 'info'], // the rule's severity stays
      [alertRef('c').alertId]: ['warning', 'warning'], // not routed yet: the source's
    });
    expect(first.open).toStrictEqual(first.joined);
    expect(first.bySeverity).toEqual([
      { severity: 'critical', open_alerts: '1', unacknowledged: '1' },
      { severity: 'warning', open_alerts: '2', unacknowledged: '2' },
    ]);
    expect(await views('escalations first')).toStrictEqual(first);
  });

  it('views: alerts with their escalation and ticket, open escalations, notifications per channel and day, the merged timeline', async () => {
    const db = await freshDb();
    const f = eventFactory(Date.parse('2026-11-23T09:00:00.000Z'));
    const lifecycle = {
      a: alertLifecycle(f, 'a'),
      b: alertLifecycle(f, 'b', 'payroll'),
      c: alertLifecycle(f, 'c'),
      d: alertLifecycle(f, 'd'),
      f: alertLifecycle(f, 'f'),
    };
    const alertEvents = [
      lifecycle.a.triggered(),
      lifecycle.b.triggered(),
      lifecycle.c.triggered(),
      lifecycle.c.resolved(),
      lifecycle.a.snoozed('bob', 30),
      lifecycle.d.triggered(),
      lifecycle.f.triggered(),
      lifecycle.d.acknowledged('alice'),
    ];
    await applyBatch(db.pool, alertsProjection, streamOf(alertEvents, perAlert('alerts')));
    await applyBatch(db.pool, escalationsProjection, log.escalations);
    await applyBatch(db.pool, deliveriesProjection, log.deliveries);
    await applyBatch(db.pool, ticketsProjection, log.tickets);

    const joined = (await tableRows(db.url, db.schema, 'alerts_with_escalation', 'id')) as Array<Record<string, unknown>>;
    expect(joined).toHaveLength(5);
    expect(joined.find((r) => r.id === alertRef('f').alertId)).toMatchObject({
      site: 'fra1-r1',
      incident_id: INCIDENT,
      inhibited: false,
      inhibited_by: alertRef('d').alertId,
      tier: 'gold',
      sla_deadline: new Date('2026-11-23T10:10:00.000Z'),
      sla_breached_at: null,
    });
    const sla = (await tableRows(db.url, db.schema, 'noc_sla_mtta_weekly', 'tier')) as Array<Record<string, unknown>>;
    expect(sla.map(({ week: _week, mtta_seconds: _m, p90_tta_seconds: _p, ...rest }) => rest)).toEqual([
      { tier: 'gold', alerts: '2', acknowledged: '1', acked_within_sla: '1', breached: '1', sla_seconds: 600 },
    ]);
    expect(Number(sla[0]!.mtta_seconds)).toBe(2);
    expect(sla[0]!.p90_tta_seconds).toBe(2);
    const ofIncident = (await tableRows(db.url, db.schema, 'incident_timeline', 'occurred_at, stream_rank, seq')) as Array<
      Record<string, unknown>
    >;
    expect(new Set(ofIncident.map((r) => r.incident_id))).toStrictEqual(new Set([INCIDENT]));
    expect(new Set(ofIncident.map((r) => r.alert_id))).toStrictEqual(new Set(['d', 'f', 'g'].map((n) => alertRef(n).alertId)));
    expect(ofIncident.map((r) => r.event_type)).toContain('IncidentResolved');
    expect(ofIncident.filter((r) => r.event_type === 'IncidentTakenOver').map((r) => r.message)).toStrictEqual([
      `took over incident ${INCIDENT} from ${alertRef('d').alertId} (resolved by its source while this one still fires); pages for it now`,
      `resolved by its source; ${alertRef('f').alertId} took over incident ${INCIDENT}`,
    ]);
    expect(ofIncident.filter((r) => r.stream === 'ALERTS')).toHaveLength(3);
    expect(joined.find((r) => r.id === alertRef('a').alertId)).toMatchObject({
      status: 'snoozed',
      snoozed_by: 'bob',
      policy_id: 'primary',
      routing_rules: ['db'],
      escalation_step: 0,
      ticket_key: 'OPS-1',
      ticket_url: 'https://jira.example.com/OPS-1',
    });
    const open = (await tableRows(db.url, db.schema, 'noc_escalations_open', 'alert_id')) as Array<Record<string, unknown>>;
    expect(open.map((r) => r.alert_id).sort()).toStrictEqual(
      [alertRef('a').alertId, alertRef('b', 'payroll').alertId, alertRef('d').alertId, alertRef('f').alertId].sort(),
    );
    const channels = (await tableRows(db.url, db.schema, 'noc_notifications_by_channel_day', 'channel')) as Array<Record<string, unknown>>;
    // one UTC day (a timestamp without zone, which the driver reads in the local zone)
    expect(new Set(channels.map((r) => (r.day as Date).getTime())).size).toBe(1);
    expect(channels.map(({ day: _day, ...rest }) => rest)).toEqual([
      { channel: 'email', sent: '0', failed: '1', failed_without_fallback: '1', attempts: '3' },
      { channel: 'slack', sent: '1', failed: '0', failed_without_fallback: '0', attempts: '1' },
      { channel: 'sms', sent: '1', failed: '2', failed_without_fallback: '0', attempts: '7' },
      { channel: 'voice', sent: '1', failed: '0', failed_without_fallback: '0', attempts: '2' },
      { channel: 'webhook', sent: '0', failed: '1', failed_without_fallback: '1', attempts: '5' },
    ]);
    const history = (await tableRows(db.url, db.schema, 'alert_timeline_all', 'occurred_at, stream_rank, seq')) as Array<
      Record<string, unknown>
    >;
    const ofA = history.filter((r) => r.alert_id === alertRef('a').alertId);
    expect(ofA.map((r) => r.stream)).toContain('ALERTS');
    expect(ofA.map((r) => r.event_type).slice(0, 3)).toStrictEqual(['AlertTriggered', 'AlertSnoozed', 'AlertRouted']);
    expect(ofA).toHaveLength(2 + 11 + 4 + 6);
  });
});

describe('configuration projection', () => {
  let db: Db;
  const q = (table: string, order: string) => tableRows(db.url, db.schema, table, order);

  beforeAll(async () => {
    db = await freshDb();
    const events = configLog(eventFactory());
    const messages = streamOf(events, configSubjectOf);
    // configuration is applied one event at a time; split anyway, as the live projector would
    await applyInBatches(db, configProjection, messages, [4, 1, 7]);
  });

  it('schedules: replaced whole, layers and overrides in list order', async () => {
    expect(await q('schedules', 'id')).toMatchObject([
      { id: 'primary', name: 'Primary (24/7)', time_zone: 'Europe/Berlin', last_event_seq: '3' },
      { id: 'secondary', name: 'Secondary', time_zone: 'UTC' },
    ]);
    expect(await q('schedule_rotations', 'schedule_id, position')).toEqual([
      {
        schedule_id: 'primary',
        position: 0,
        rotation_id: 'weekly',
        name: 'Weekly',
        type: 'weekly',
        shift_length: 1,
        starts_at: new Date('2026-11-02T08:00:00Z'),
        members: ['bob', 'alice'],
        restrictions: [],
      },
      {
        schedule_id: 'secondary',
        position: 0,
        rotation_id: 'daily',
        name: 'Daily',
        type: 'daily',
        shift_length: 1,
        starts_at: new Date('2026-11-02T08:00:00Z'),
        members: ['hank'],
        restrictions: [],
      },
    ]);
    expect(await q('schedule_overrides', 'schedule_id, position')).toEqual([]);
    expect(await q('schedule_temporary', 'schedule_id, position')).toEqual([
      {
        schedule_id: 'primary',
        position: 0,
        starts_at: new Date('2026-12-23T23:00:00Z'),
        ends_at: new Date('2026-12-26T23:00:00Z'),
        users: ['frank'],
      },
    ]);
  });

  it('escalation policies and their steps; a removed policy is gone with its steps', async () => {
    expect(await q('escalation_policies', 'id')).toMatchObject([{ id: 'primary', name: 'Primary', repeats: 1 }]);
    expect(await q('escalation_steps', 'policy_id, step')).toEqual([
      { policy_id: 'primary', step: 0, delay_seconds: 300, until_all_ack: false, targets: [{ type: 'schedule', scheduleId: 'primary' }] },
      {
        policy_id: 'primary',
        step: 1,
        delay_seconds: 600,
        until_all_ack: true,
        targets: [
          { type: 'user', userId: 'ivan' },
          { type: 'slack', channel: '#ops' },
        ],
      },
    ]);
  });

  it('routing defaults and ordered rules', async () => {
    expect(await q('routing', 'service_id')).toMatchObject([
      { service_id: 'checkout', escalation_policy_id: 'primary', template_id: 'default', ack_timeout_seconds: 3600 },
    ]);
    expect(await q('routing_rules', 'service_id, position')).toEqual([
      {
        service_id: 'checkout',
        position: 0,
        name: 'db',
        condition: 'labels.team == "db"',
        policy_id: 'primary',
        template_id: null,
        severity: null,
        ticket_provider: 'jira',
        suppress: false,
        continue_matching: true,
      },
      {
        service_id: 'checkout',
        position: 1,
        name: 'test',
        condition: 'labels.env == "test"',
        policy_id: null,
        template_id: null,
        severity: 'info',
        ticket_provider: null,
        suppress: true,
        continue_matching: false,
      },
    ]);
  });

  it('maintenance windows and calendars', async () => {
    expect(await q('maintenance_windows', 'id')).toMatchObject([
      {
        id: 'fra1',
        services: ['checkout'],
        labels: { site: 'fra1' },
        condition: null,
        mode: 'suppress',
        starts_at: new Date('2026-11-23T22:00:00Z'),
      },
    ]);
    expect(await q('calendars', 'id')).toMatchObject([
      {
        id: 'business',
        time_zone: 'Europe/Berlin',
        hours: [{ days: ['mon', 'tue', 'wed', 'thu', 'fri'], from: '09:00', to: '17:00' }],
        holidays: ['2026-12-25', '2026-12-26'],
      },
    ]);
  });

  it('templates: every version immutable, latest_version the last published; a removed template is gone with its versions', async () => {
    expect(await q('templates', 'id')).toMatchObject([{ id: 'default', latest_version: 1, name: 'Default (again)' }]);
    const versions = (await q('template_versions', 'template_id, version')) as Array<Record<string, unknown>>;
    expect(versions.map((v) => [v.version, v.description, v.created_by])).toStrictEqual([
      [1, 'first', 'alice'],
      [2, 'second', 'bob'],
    ]);
    expect(versions[1]).toMatchObject({
      required_variables: ['alert.summary'],
      optional_variables: ['alert.details'],
      channels: { voice: 'Alert: {{ alert.summary }}' },
    });
  });

  it('ticket providers: configured, replaced whole, removed; secrets stay references', async () => {
    const fresh = await freshDb();
    const f = eventFactory();
    const provider = (name: string): EventData<'TicketProviderConfigured'> => ({
      providerId: 'jira',
      type: 'jira',
      name,
      settings: { baseUrl: 'https://example.atlassian.net', project: 'OPS' },
      auth: { kind: 'basic', username: 'bot@example.com', password: { env: 'JIRA_TOKEN' } },
      fields: { summary: 'alert.summary' },
      sync: {
        onAcknowledge: { transition: 'In Progress', comment: true },
        onResolve: { transition: 'Done', comment: true },
        onReopen: { transition: null, comment: false },
        resolveAlertOn: ['resolved'],
        mirrorComments: false,
        pollSeconds: null,
      },
      inboundSecret: { file: '/run/secrets/jira' },
    });
    const events = [
      f.make('TicketProviderConfigured', provider('Jira')),
      f.make('TicketProviderConfigured', { ...provider('SN'), providerId: 'sn', type: 'servicenow', inboundSecret: null }),
      f.make('TicketProviderConfigured', provider('Jira Cloud')),
    ];
    await applyInBatches(fresh, configProjection, streamOf(events, configSubjectOf), [1]);
    const providers = (await tableRows(fresh.url, fresh.schema, 'ticket_providers', 'id')) as Array<Record<string, unknown>>;
    expect(
      providers.map(({ id, type, name, auth, inbound_secret, last_event_seq }) => ({
        id,
        type,
        name,
        auth,
        inbound_secret,
        last_event_seq,
      })),
    ).toStrictEqual([
      {
        id: 'jira',
        type: 'jira',
        name: 'Jira Cloud',
        auth: { kind: 'basic', username: 'bot@example.com', password: { env: 'JIRA_TOKEN' } },
        inbound_secret: { file: '/run/secrets/jira' },
        last_event_seq: '3',
      },
      { id: 'sn', type: 'servicenow', name: 'SN', auth: provider('SN').auth, inbound_secret: null, last_event_seq: '2' },
    ]);
    const removed = streamOf([...events, f.make('TicketProviderRemoved', { providerId: 'jira' })], configSubjectOf).slice(3);
    await applyBatch(fresh.pool, configProjection, removed);
    expect(((await tableRows(fresh.url, fresh.schema, 'ticket_providers', 'id')) as Array<{ id: string }>).map((r) => r.id)).toStrictEqual([
      'sn',
    ]);
  });
});

describe('escalation and deliveries projections in a projector killed with SIGKILL mid-stream', () => {
  const ROOT = fileURLToPath(new URL('..', import.meta.url));
  const ALERTS = 2000;
  let nats: TestNats;
  let child: ChildProcess | undefined;
  beforeAll(async () => {
    nats = await startTestNats();
  });
  afterAll(async () => {
    child?.kill('SIGKILL');
    await nats?.stop();
  });
  const start = (env: Record<string, string>) =>
    spawn(process.execPath, entryArgs('projector/src/main.ts'), {
      cwd: ROOT,
      env: { ...process.env, LOG_LEVEL: 'error', ...env },
      stdio: ['ignore', 'ignore', 'inherit'],
    });

  it('resumes from its checkpoints with no row lost or doubled', async () => {
    const nc = await nats.connect();
    await prepareTopology(nc);
    const db = await createTestDatabase();
    const js = jetstream(nc);
    const acks: Array<Promise<unknown>> = [];
    const f = eventFactory();
    for (let i = 0; i < ALERTS; i++) {
      const a = escalation(f, `kill-${i}`);
      for (const e of [a.routed(), a.step(0, 0, [user(`u${i % 7}`)]), a.requested('1', user(`u${i % 7}`))])
        acks.push(js.publish(perAlert('escalations')(e), encodeEvent(e)));
      const outcome = i % 3 === 0 ? a.failed('1', 'sms', i % 2 ? 'voice' : null) : a.delivered('1', 'sms');
      acks.push(js.publish(perAlert('deliveries')(outcome), encodeEvent(outcome)));
      // A few hundred in flight at a time: 8,000 at once outwait the publish timeout on a busy machine.
      if (acks.length >= 400) await Promise.all(acks.splice(0));
    }
    await Promise.all(acks);
    const last = { escalations: await streamLastSeq(nc, STREAMS.escalations), deliveries: await streamLastSeq(nc, STREAMS.deliveries) };
    const env = { NATS_URL: nats.url, DATABASE_URL: db.url, READ_MODEL_SCHEMA: db.schema, METRICS_PORT: String(await getPort()) };

    child = start(env);
    await waitForProjection(db.url, db.schema, CONSUMERS.projectorEscalations, 1, 30_000);
    child.kill('SIGKILL');
    await new Promise((resolve) => child!.once('exit', resolve));
    const checkpoints = (await tableRows(db.url, db.schema, 'projection_checkpoints', 'projection')) as Array<{
      projection: string;
      last_seq: string;
    }>;
    expect(Number(checkpoints.find((c) => c.projection === CONSUMERS.projectorEscalations)?.last_seq)).toBeLessThan(last.escalations);

    child = start(env);
    await waitForProjection(db.url, db.schema, CONSUMERS.projectorEscalations, last.escalations, 30_000);
    await waitForProjection(db.url, db.schema, CONSUMERS.projectorDeliveries, last.deliveries, 30_000);
    child.kill('SIGTERM');

    await migrate(db.url, 'fresh');
    const pool = await createReadModelPool(db.url, 'fresh');
    // Partitioned, as `oncall replay` loads them: one consumer per partition, side by side.
    await Promise.all([
      replayProjection(nc, pool, deliveriesProjection, undefined, 2),
      replayProjection(nc, pool, escalationsProjection, undefined, 2),
    ]);
    await pool.end();
    for (const [table, order] of TABLES.slice(0, -1)) {
      const live = await tableRows(db.url, db.schema, table, order);
      expect(live, table).toEqual(await tableRows(db.url, 'fresh', table, order));
    }
    expect(await tableRows(db.url, db.schema, 'alert_escalations', 'alert_id')).toHaveLength(ALERTS);
    expect(await tableRows(db.url, db.schema, 'notification_deliveries', 'seq')).toHaveLength(ALERTS);
  }, 90_000);
});
