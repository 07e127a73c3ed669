import { readFileSync } from 'node:fs';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createReadModelPool } from '@oncall/shared';
import { migrate, rebuildReadModels } from '@oncall/infra';
import { PROJECTIONS, replayProjection } from '@oncall/projector';
import { amAlert, amPayload } from './fixtures.js';
import { startTestPipeline, type TestPipeline } from './pipeline.js';
import { tableRows, testLog } from './harness.js';

/** Every read-model table, its order, and the columns that are wall-clock bookkeeping. */
const TABLES: Array<[table: string, orderBy: string, exclude: string[]]> = [
  ['services', 'id', []],
  ['integration_keys', 'key_hash', []],
  ['alerts', 'id', []],
  ['alert_timeline', 'seq', []],
  ['heartbeat_monitors', 'id', []],
  ['heartbeat_beats', 'monitor_id', []],
  ['projection_checkpoints', 'projection', ['updated_at']],
];

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
    await post(amPayload(names.map((n, i) => amAlert(n, i < 2 ? { annotations: { summary: `${n} is down`, description: 'still down' } } : {}))));
    // 2 resolved
    await post(amPayload(['core-1', 'core-2'].map((n) => amAlert(n, { status: 'resolved', endsAt: '2026-11-23T10:05:00Z' })), 'resolved'));
    // core-1 fires again: a new alert
    await post(amPayload([amAlert('core-1', { startsAt: '2026-11-23T10:10:00Z' })]));
    await p.alertsApplied(10);
    live = await snapshot(p.db.url, p.db.schema);
  });
  afterAll(async () => p?.stop());

  it('projected what the workload implies', () => {
    expect(live.alert_timeline).toHaveLength(10);
    expect(live.alerts).toHaveLength(6);
    const statuses = (live.alerts as Array<{ status: string }>).map((a) => a.status).sort();
    expect(statuses).toEqual(['resolved', 'resolved', 'triggered', 'triggered', 'triggered', 'triggered']);
  });

  it('NOC views count open alerts and time to resolve', async () => {
    const bySeverity = await tableRows(p.db.url, p.db.schema, 'noc_open_alerts_by_severity', 'severity');
    // stormless workload: edge-1, edge-2, dns and core-1 (fired again) are open, all critical
    expect(bySeverity).toEqual([{ severity: 'critical', open_alerts: '4', unacknowledged: '4' }]);
    const bySite = (await tableRows(p.db.url, p.db.schema, 'noc_open_alerts_by_site', 'site')) as Array<{ site: string }>;
    expect(bySite.map((r) => r.site)).toEqual(['(none)']);
    const daily = (await tableRows(p.db.url, p.db.schema, 'noc_mtta_mttr_daily', 'service_id')) as Array<Record<string, unknown>>;
    expect(daily).toHaveLength(1);
    expect(daily[0]).toMatchObject({ service_id: 'checkout', alerts: '6', resolved: '2', acknowledged: '0', mtta_seconds: null });
    expect(Number(daily[0]!.mttr_seconds)).toBeGreaterThanOrEqual(0);
  });

  it('every panel query of the shipped Grafana dashboard runs against the views', async () => {
    const dashboard = JSON.parse(readFileSync(new URL('../infra/grafana/oncall-noc-dashboard.json', import.meta.url), 'utf8')) as {
      panels: Array<{ title: string; targets: Array<{ rawSql: string }> }>;
    };
    const client = new pg.Client({ connectionString: p.db.url });
    await client.connect();
    try {
      for (const panel of dashboard.panels) {
        for (const t of panel.targets) {
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
    const result = await rebuildReadModels({ nc: p.admin, databaseUrl: p.db.url, schema: p.db.schema, log: testLog, onProgress: (x) => progress.push(x.done) });
    await during;
    expect(result.events).toBeGreaterThanOrEqual(13); // 10 alert + 3 configuration events at least
    expect(progress.length).toBeGreaterThan(0);
    await p.alertsApplied(15);

    // Served from the switched-in schema, and equal to a replay from scratch.
    expect(await p.listAlerts()).toHaveLength(11);
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
