import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { jetstreamManager } from '@nats-io/jetstream';
import { STREAMS, subjects } from '@oncall/contracts';
import { alertingV1 } from '@oncall/contracts/grpc';
import { rebuildReadModels } from '@oncall/infra';
import { archiveResolved, archiveSchemaOf, ensureArchive } from '@oncall/projector';
import { amAlert, amPayload } from './fixtures.js';
import { startTestPipeline, type TestPipeline } from './pipeline.js';
import { streamLastSeq, tableRows, testLog } from './harness.js';

const { AlertStatus } = alertingV1;
const ROOT = fileURLToPath(new URL('..', import.meta.url));
const run = promisify(execFile);

describe('archive: resolved alerts leave the live tables, and stay readable', () => {
  let p: TestPipeline;
  beforeAll(async () => {
    p = await startTestPipeline();
  });
  afterAll(async () => p?.stop());

  it('moves resolved alerts older than the cut-off with their rows; GetAlert, the timeline and a replay still see them', async () => {
    const names = ['a', 'b', 'c', 'd'];
    expect((await p.postAlertmanager(amPayload(names.map((n) => amAlert(`arch-${n}`))))).status).toBe(202);
    const resolved = names.slice(0, 3).map((n) => ({ ...amAlert(`arch-${n}`), status: 'resolved' }));
    expect((await p.postAlertmanager(amPayload(resolved, 'resolved'))).status).toBe(202);
    await p.alertsApplied(7);
    await ensureArchive(p.pool, p.db.schema);
    await ensureArchive(p.pool, p.db.schema); // idempotent

    // Nothing resolved before an hour ago: nothing moves.
    expect(await archiveResolved(p.pool, p.db.schema, new Date(Date.now() - 3_600_000))).toBe(0);
    expect(await archiveResolved(p.pool, p.db.schema, new Date(Date.now() + 1000), { batch: 2, log: testLog })).toBe(3);

    const live = (await tableRows(p.db.url, p.db.schema, 'alerts', 'id')) as Array<{ status: string }>;
    expect(live.map((a) => a.status)).toEqual(['triggered']);
    const archived = (await tableRows(p.db.url, archiveSchemaOf(p.db.schema), 'alerts', 'id')) as Array<{
      status: string;
      archive_month: Date;
    }>;
    expect(archived.map((a) => a.status)).toEqual(['resolved', 'resolved', 'resolved']);
    expect(archived[0]!.archive_month.getUTCDate()).toBe(1);
    const timeline = await tableRows(p.db.url, archiveSchemaOf(p.db.schema), 'alert_timeline', 'seq');
    expect(timeline).toHaveLength(6);

    const [gone] = (await tableRows(p.db.url, archiveSchemaOf(p.db.schema), 'alerts', 'id')) as Array<{ id: string }>;
    expect((await p.getAlert(gone!.id)).status).toBe(AlertStatus.ALERT_STATUS_RESOLVED);
    const events: string[] = [];
    for await (const t of p.client.getAlertTimeline({ alertId: gone!.id }) as AsyncIterable<alertingV1.TimelineEntry>)
      events.push(t.eventType);
    expect(events).toEqual(['AlertTriggered', 'AlertResolved']);
    expect(await p.listAlerts({})).toHaveLength(1);

    // A replay rebuilds from the log, which still holds the archived alerts: they stay archived, not live twice.
    await rebuildReadModels({ nc: p.admin, databaseUrl: p.db.url, schema: p.db.schema, log: testLog });
    const afterReplay = (await tableRows(p.db.url, p.db.schema, 'alerts', 'id')) as Array<{ status: string }>;
    expect(afterReplay.map((a) => a.status)).toEqual(['triggered']);
    expect(await tableRows(p.db.url, archiveSchemaOf(p.db.schema), 'alerts', 'id')).toHaveLength(3);
    expect(await streamLastSeq(p.admin, STREAMS.alerts)).toBe(7);

    // Past the log's retention (its events purged here), `oncall history --log` reads the archive; an unknown id is an error.
    await (await jetstreamManager(p.admin)).streams.purge(STREAMS.alerts, { filter: subjects.alertHistory(gone!.id) });
    const env = { ...process.env, NATS_URL: p.nats.url, DATABASE_URL: p.db.url, READ_MODEL_SCHEMA: p.db.schema, LOG_LEVEL: 'silent' };
    const history = await run(process.execPath, ['bin/oncall.js', 'history', '--log', gone!.id], { cwd: ROOT, env });
    const lines = history.stdout
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l) as { source: string; event_type: string });
    expect(lines.map((l) => [l.source, l.event_type])).toEqual([
      ['archive', 'AlertTriggered'],
      ['archive', 'AlertResolved'],
    ]);
    const unknown = await run(process.execPath, ['bin/oncall.js', 'history', '--log', '6f1d8a3e-0000-4000-8000-000000000000'], {
      cwd: ROOT,
      env,
    }).catch((e: { code: number; stderr: string }) => e);
    expect(unknown).toMatchObject({
      code: 1,
      stderr: expect.stringContaining('alert 6f1d8a3e-0000-4000-8000-000000000000 not found') as unknown,
    });
  });
});
