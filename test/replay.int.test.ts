import { readFileSync } from 'node:fs';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { jetstream } from '@nats-io/jetstream';
import { buildEvent, encodeEvent, partitionOf, stableUuid, subjects, type DomainEvent, type EventData } from '@oncall/contracts';
import { createReadModelPool } from '@oncall/shared';
import { migrate, rebuildReadModels } from '@oncall/infra';
import { PROJECTIONS, replayProjection, waitForProjection } from '@oncall/projector';
import { amAlert, amPayload } from './fixtures.js';
import { startTestPipeline, type TestPipeline } from './pipeline.js';
import { streamLastSeq, tableRows, testLog } from './harness.js';
import { configLog, configSubjectOf, escalation, eventFactory, user } from './projection-events.js';

/** Every read-model table, its order, and the columns that are wall-clock bookkeeping. */
const TABLES: Array<[table: string, orderBy: string, exclude: string[]]> = [
  ['services', 'id', []],
  ['integration_keys', 'key_hash', []],
  ['alerts', 'id', []],
  ['alert_timeline', 'seq', []],
  ['heartbeat_monitors', 'id', []],
  ['heartbeat_beats', 'monitor_id', []],
  ['schedules', 'id', []],
  ['schedule_rotations', 'schedule_id, position', []],
  ['schedule_overrides', 'schedule_id, position', []],
  ['schedule_temporary', 'schedule_id, position', []],
  ['escalation_policies', 'id', []],
  ['escalation_steps', 'policy_id, step', []],
  ['routing', 'service_id', []],
  ['routing_rules', 'service_id, position', []],
  ['maintenance_windows', 'id', []],
  ['calendars', 'id', []],
  ['templates', 'id', []],
  ['template_versions', 'template_id, version', []],
  ['alert_escalations', 'alert_id', []],
  ['incidents', 'incident_id', []],
  ['escalation_timeline', 'stream, seq', []],
  ['notifications', 'notification_id', []],
  ['notification_deliveries', 'seq', []],
  ['tickets', 'alert_id, provider_id, ticket_key', []],
  ['ticket_requests', 'alert_id, provider_id', []],
  ['ticket_providers', 'id', []],
  ['projection_checkpoints', 'projection', ['updated_at']],
];

type AlertRow = { id: string; service_id: string; fingerprint: string; summary: string; status: string };

/** A user command through intake, as query-api and the escalator send them; the decider turns it into an alert event. */
async function command(
  p: TestPipeline,
  alert: AlertRow,
  data: Pick<EventData<'AlertCommandReceived'>, 'command' | 'userId'> & Partial<EventData<'AlertCommandReceived'>>,
  n: number,
) {
  const event = buildEvent(
    'AlertCommandReceived',
    { alertId: alert.id, serviceId: alert.service_id, fingerprint: alert.fingerprint, note: '', until: null, reason: '', ...data },
    {
      id: stableUuid(`replay-command-${n}`),
      occurredAt: new Date().toISOString(),
      causationId: null,
      correlationId: alert.id,
    },
  );
  await jetstream(p.admin).publish(subjects.intake(partitionOf(alert.service_id, alert.fingerprint, p.partitions)), encodeEvent(event));
}

/** Publishes events in order on their subjects. */
async function publishAll(p: TestPipeline, events: ReadonlyArray<readonly [string, DomainEvent]>): Promise<void> {
  const js = jetstream(p.admin);
  for (const [subject, e] of events) await js.publish(subject, encodeEvent(e));
}

/** Waits until every projection has applied its whole stream. */
async function allApplied(p: TestPipeline): Promise<void> {
  for (const projection of PROJECTIONS) {
    await waitForProjection(p.db.url, p.db.schema, projection.name, await streamLastSeq(p.admin, projection.stream), 20_000);
  }
}

/**
 * Escalation, delivery and ticket events for open alerts of the workload and for an alert the
 * ALERTS stream does not hold (the escalator may run ahead of the alerts projection).
 */
function escalationWorkload(alerts: AlertRow[]) {
  const f = eventFactory();
  const on = (a: AlertRow) => escalation(f, a.summary, a.service_id, a.id);
  const ghost = escalation(f, 'ghost');
  const [first, second, third] = alerts;
  const x = on(first!);
  const y = on(second!);
  const z = on(third!);
  const esc = (p: string) => (e: DomainEvent) => [`${p}.0.${(e.data as { alertId: string }).alertId}`, e] as const;
  const incident = stableUuid('replay-incident');
  const group = 'checkout|site=fra1';
  return {
    escalations: [
      ghost.routed(),
      ghost.step(0, 0, [user('zoe')]),
      ghost.requested('1', user('zoe')),
      x.routed({
        rules: ['db'],
        site: 'fra1',
        groupKey: group,
        groupLabels: { site: 'fra1' },
        sla: { tier: 'gold', responseSeconds: 600, escalateBeforeSeconds: 60 },
      }),
      x.step(0, 0, [user('alice')]),
      x.requested('1', user('alice'), { channels: ['sms', 'voice'] }),
      y.routed({ suppressed: { by: 'maintenance', windowId: 'fra1', until: '2026-11-24T02:00:00.000Z' }, maintenance: ['ams1'] }),
      z.routed(),
      z.step(0, 0, [{ type: 'slack', channel: '#ops' }]),
      z.requested('1', { type: 'slack', channel: '#ops' }),
      x.step(1, 0, [user('bob')], { nextInMinutes: null }),
      x.requested('2', user('bob')),
      x.stopped('acknowledged', 'bob', 60),
      y.routed(),
      y.step(0, 0, [user('carol')]),
      y.requested('1', user('carol'), { channels: ['email'] }),
      z.stopped('exhausted'),
      x.reopenRequested(),
      x.step(0, 0, [user('alice')], { reason: 'reopened' }),
      x.requested('3', user('alice')),
      // storm sense: x opens an incident that z joins; x inhibits y for a while; x breaches its SLA;
      // x's source resolves it while z fires: z takes the incident over and resolves it
      x.incidentOpened(incident, group, { site: 'fra1' }),
      y.inhibited(first!.id),
      z.grouped(incident, group, first!.id),
      y.released(first!.id),
      x.slaBreached('gold', 600),
      z.flappingStarted(),
      z.takenOver(incident, group, first!.id, third!.id),
      x.takenOver(incident, group, first!.id, third!.id),
      z.incidentResolved(incident, group),
    ].map(esc('escalations')),
    deliveries: [
      ghost.delivered('1', 'sms'),
      x.failed('1', 'sms', 'voice'),
      z.delivered('1', 'slack'),
      x.delivered('1', 'voice', 2),
      x.delivered('2', 'sms'),
      y.failed('1', 'email', null),
      x.failed('3', 'sms', 'voice'),
    ].map(esc('deliveries')),
    tickets: [
      x.ticketRequested(),
      x.ticketFailed(1),
      x.ticketCreated('OPS-1'),
      x.ticketStatus('OPS-1', 'In Progress'),
      z.ticketCreated('OPS-2'),
      x.ticketStatus('OPS-1', 'Done', 'jira', { state: 'resolved', actor: 'jane' }),
    ].map(esc('tickets')),
  };
}

async function snapshot(url: string, schema: string): Promise<Record<string, unknown[]>> {
  const out: Record<string, unknown[]> = {};
  for (const [table, orderBy, exclude] of TABLES) out[table] = await tableRows(url, schema, table, orderBy, exclude);
  return out;
}

describe('the read models are a pure function of the log', () => {
  let p: TestPipeline;
  let live: Record<string, unknown[]>;

  beforeAll(async () => {
    p = await startTestPipeline({ partitions: 3 });
    const names = ['edge-1', 'edge-2', 'core-1', 'core-2', 'dns'];
    const post = async (body: string) => expect((await p.postAlertmanager(body)).status).toBe(202);
    // 5 triggered
    await post(amPayload(names.map((n) => amAlert(n))));
    // 2 updated (annotation changed), 3 plain repeats that change nothing
    await post(
      amPayload(names.map((n, i) => amAlert(n, i < 2 ? { annotations: { summary: `${n} is down`, description: 'still down' } } : {}))),
    );
    // 2 resolved
    await post(
      amPayload(
        ['core-1', 'core-2'].map((n) => amAlert(n, { status: 'resolved', endsAt: '2026-11-23T10:05:00Z' })),
        'resolved',
      ),
    );
    // Configuration of every kind, while alerts come in.
    const config = publishAll(
      p,
      configLog(eventFactory()).map((e) => [configSubjectOf(e), e] as const),
    );
    // core-1 fires again: a new alert
    await post(amPayload([amAlert('core-1', { startsAt: '2026-11-23T10:10:00Z' })]));
    await p.alertsApplied(10);
    await config;

    // Users and the escalator act on open alerts (through the decider), while escalation,
    // delivery and ticket events arrive on their streams: the live projections interleave.
    const open = (await tableRows(p.db.url, p.db.schema, 'alerts', 'summary')) as AlertRow[];
    const alert = (name: string) => open.find((a) => a.summary === `${name} is down` && a.status !== 'resolved')!;
    const work = escalationWorkload([alert('edge-1'), alert('edge-2'), alert('dns')]);
    const side = Promise.all([publishAll(p, work.escalations), publishAll(p, work.deliveries), publishAll(p, work.tickets)]);
    await command(p, alert('edge-1'), { command: 'acknowledge', userId: 'alice' }, 1);
    await command(p, alert('edge-2'), { command: 'snooze', userId: 'bob', until: '2030-01-01T00:00:00Z', note: 'after the upgrade' }, 2);
    await command(p, alert('dns'), { command: 'escalate', userId: 'carol', note: 'need the network team' }, 3);
    await command(p, alert('edge-1'), { command: 'unacknowledge', userId: null, reason: 'ack-timeout' }, 4);
    await command(p, alert('edge-1'), { command: 'acknowledge', userId: 'dave' }, 5);
    await side;
    await p.alertsApplied(15);
    await allApplied(p);
    live = await snapshot(p.db.url, p.db.schema);
  });
  afterAll(async () => p?.stop());

  it('projected what the workload implies', () => {
    expect(live.alert_timeline).toHaveLength(15);
    expect(live.alerts).toHaveLength(6);
    const byName = new Map(
      (live.alerts as Array<Record<string, unknown>>).filter((a) => a.status !== 'resolved').map((a) => [a.summary, a]),
    );
    expect(byName.get('edge-1 is down')).toMatchObject({ status: 'acknowledged', acknowledged_by: 'dave' });
    const edge1 = byName.get('edge-1 is down')!;
    expect((edge1.first_acknowledged_at as Date) < (edge1.acknowledged_at as Date)).toBe(true);
    expect(byName.get('edge-2 is down')).toMatchObject({
      status: 'snoozed',
      snoozed_by: 'bob',
      snoozed_until: new Date('2030-01-01T00:00:00Z'),
    });
    expect(byName.get('dns is down')).toMatchObject({ status: 'triggered', escalated_by: 'carol' });
    const statuses = (live.alerts as Array<{ status: string }>).map((a) => a.status).sort();
    expect(statuses).toEqual(['acknowledged', 'resolved', 'resolved', 'snoozed', 'triggered', 'triggered']);
    // configuration of every kind, escalation state of four alerts (one not in ALERTS), six notifications
    for (const table of [
      'schedules',
      'schedule_rotations',
      'schedule_temporary',
      'escalation_policies',
      'escalation_steps',
      'routing',
      'routing_rules',
      'maintenance_windows',
      'calendars',
      'templates',
      'template_versions',
      'tickets',
      'ticket_requests',
    ])
      expect(live[table], table).not.toHaveLength(0);
    expect(live.alert_escalations).toHaveLength(4);
    expect(live.notifications).toHaveLength(6);
    expect(live.notification_deliveries).toHaveLength(7);
    expect(live.escalation_timeline).toHaveLength(29 + 7 + 6);
    expect(live.incidents).toMatchObject([{ alert_count: 2, first_alert_id: edge1.id, summary: 'edge-1 is down is down' }]);
    expect((live.incidents![0] as { resolved_at: unknown }).resolved_at).toBeInstanceOf(Date);
  });

  it('NOC views count open alerts and time to resolve', async () => {
    const bySeverity = await tableRows(p.db.url, p.db.schema, 'noc_open_alerts_by_severity', 'severity');
    // stormless workload: edge-1 (acknowledged), edge-2 (snoozed), dns and core-1 (fired again) are open, all critical
    expect(bySeverity).toEqual([{ severity: 'critical', open_alerts: '4', unacknowledged: '2' }]);
    const bySite = (await tableRows(p.db.url, p.db.schema, 'noc_open_alerts_by_site', 'site')) as Array<{ site: string }>;
    expect(bySite.map((r) => r.site)).toEqual(['(none)']);
    const daily = (await tableRows(p.db.url, p.db.schema, 'noc_mtta_mttr_daily', 'service_id')) as Array<Record<string, unknown>>;
    expect(daily).toHaveLength(1);
    expect(daily[0]).toMatchObject({ service_id: 'checkout', alerts: '6', resolved: '2', acknowledged: '1' });
    expect(Number(daily[0]!.mttr_seconds)).toBeGreaterThanOrEqual(0);
    expect(Number(daily[0]!.mtta_seconds)).toBeGreaterThanOrEqual(0);
    const sla = (await tableRows(p.db.url, p.db.schema, 'noc_sla_mtta_weekly', 'tier')) as Array<Record<string, unknown>>;
    // edge-1 has the gold tier: acknowledged (alice first), and its SLA breach recorded
    expect(sla).toMatchObject([{ tier: 'gold', alerts: '1', acknowledged: '1', breached: '1', sla_seconds: 600 }]);
    expect(Number(sla[0]!.mtta_seconds)).toBeGreaterThanOrEqual(0);
    const escalating = (await tableRows(p.db.url, p.db.schema, 'noc_escalations_open', 'alert_id')) as Array<Record<string, unknown>>;
    expect(escalating).toHaveLength(4);
    expect(escalating.filter((r) => r.policy_id !== null)).toHaveLength(3);
    const channels = (await tableRows(p.db.url, p.db.schema, 'noc_notifications_by_channel_day', 'channel')) as Array<{
      channel: string;
      sent: string;
      failed: string;
    }>;
    expect(channels.map((c) => [c.channel, c.sent, c.failed])).toStrictEqual([
      ['email', '0', '1'],
      ['slack', '1', '0'],
      ['sms', '2', '2'],
      ['voice', '1', '0'],
    ]);
  });

  it('every panel query of the shipped Grafana dashboard runs against the views', async () => {
    const dashboard = JSON.parse(readFileSync(new URL('../infra/grafana/oncall-noc-dashboard.json', import.meta.url), 'utf8')) as {
      panels: Array<{ title: string; targets?: Array<{ rawSql?: string }> }>;
    };
    const client = new pg.Client({ connectionString: p.db.url });
    await client.connect();
    try {
      for (const panel of dashboard.panels) {
        // The PostgreSQL panels; the Prometheus ones (`expr`) are checked in observability.int.test.ts.
        for (const t of panel.targets ?? []) {
          if (t.rawSql === undefined) continue;
          // Grafana expands its macros before the query reaches PostgreSQL.
          const query = t.rawSql.replace(/\$__timeFilter\((\w+)\)/g, 'TRUE');
          await expect(client.query(query), panel.title).resolves.toBeDefined();
        }
      }
    } finally {
      await client.end();
    }
  });

  it('a replay from sequence 1 into a fresh schema reproduces every row', async () => {
    await migrate(p.db.url, 'replay_check');
    const pool = await createReadModelPool(p.db.url, 'replay_check');
    try {
      for (const projection of PROJECTIONS) await replayProjection(p.admin, pool, projection);
    } finally {
      await pool.end();
    }
    expect(await snapshot(p.db.url, 'replay_check')).toEqual(live);
  });

  it('oncall replay rebuilds into a fresh schema and switches over while the live projector runs and alerts keep coming', async () => {
    const during = (async () => {
      for (let i = 0; i < 5; i++) expect((await p.postAlertmanager(amPayload([amAlert(`during-${i}`)]))).status).toBe(202);
    })();
    const progress: number[] = [];
    const result = await rebuildReadModels({
      nc: p.admin,
      databaseUrl: p.db.url,
      schema: p.db.schema,
      log: testLog,
      onProgress: (x) => progress.push(x.done),
    });
    await during;
    expect(result.events).toBeGreaterThanOrEqual(15 + 3 + 27 + 31); // alert, configuration, escalation/delivery/ticket events at least
    expect(progress.length).toBeGreaterThan(0);
    await p.alertsApplied(20);
    await allApplied(p);

    // Served from the switched-in schema, and equal to a replay from scratch.
    expect(await p.listAlerts()).toHaveLength(11);
    expect(await tableRows(p.db.url, p.db.schema, 'alerts', 'id')).toHaveLength(11);
    await migrate(p.db.url, 'replay_after_switch');
    const pool = await createReadModelPool(p.db.url, 'replay_after_switch');
    try {
      for (const projection of PROJECTIONS) await replayProjection(p.admin, pool, projection);
    } finally {
      await pool.end();
    }
    expect(await snapshot(p.db.url, p.db.schema)).toEqual(await snapshot(p.db.url, 'replay_after_switch'));
  });
});
