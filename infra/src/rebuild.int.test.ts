import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { NatsConnection } from '@nats-io/transport-node';
import { jetstream } from '@nats-io/jetstream';
import { buildEvent, encodeEvent, stableUuid, subjects } from '@oncall/contracts';
import { migrate } from './migrate.js';
import { rebuildReadModels, IndexBuildError } from './replay.js';
import { createTestDatabase, prepareTopology, startTestNats, testLog, type TestNats } from '../../test/harness.js';

const AT = '2026-11-23T10:00:00.000Z';

/** Appends an AlertTriggered (and, with `resolve`, its AlertResolved) straight into ALERTS. */
async function alert(nc: NatsConnection, name: string, opts: { fingerprint?: string; resolve?: boolean } = {}): Promise<void> {
  const js = jetstream(nc);
  const ref = { alertId: stableUuid(`rebuild-${name}`), serviceId: 'svc', fingerprint: opts.fingerprint ?? `fp-${name}` };
  const meta = (kind: string) => ({
    id: stableUuid(`rebuild-${kind}-${name}`),
    occurredAt: AT,
    causationId: null,
    correlationId: 'rebuild-test',
  });
  await js.publish(
    subjects.alert(0, ref.alertId),
    encodeEvent(
      buildEvent(
        'AlertTriggered',
        {
          ...ref,
          source: 'generic',
          summary: name,
          details: '',
          severity: 'critical',
          labels: { site: 'fra1' },
          annotations: {},
          links: [],
          custom: {},
          startsAt: null,
          generatorUrl: null,
          seenAt: AT,
        },
        meta('t'),
      ),
    ),
  );
  if (opts.resolve) {
    await js.publish(
      subjects.alert(0, ref.alertId),
      encodeEvent(buildEvent('AlertResolved', { ...ref, by: 'source', userId: null, note: '', endsAt: null }, meta('r'))),
    );
  }
}

/** Every index and constraint of a schema, with the schema name taken out of their definitions. */
async function catalog(url: string, schema: string): Promise<unknown[]> {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    const { rows } = await client.query<{ kind: string; table: string; name: string; definition: string }>(
      `SELECT 'index' AS kind, tablename AS table, indexname AS name, indexdef AS definition FROM pg_indexes WHERE schemaname = $1
       UNION ALL
       SELECT 'constraint', c.conrelid::regclass::text, c.conname, c.contype::text || ' ' || pg_get_constraintdef(c.oid)
       FROM pg_constraint c JOIN pg_namespace n ON n.oid = c.connamespace WHERE n.nspname = $1
       ORDER BY 1, 2, 3`,
      [schema],
    );
    return rows.map((r) => ({ ...r, table: r.table.replace(`${schema}.`, ''), definition: r.definition.replaceAll(`${schema}.`, '') }));
  } finally {
    await client.end();
  }
}

describe('oncall replay bulk-loads without secondary indexes', () => {
  let nats: TestNats;
  beforeAll(async () => {
    nats = await startTestNats();
  });
  afterAll(async () => nats?.stop());

  it('leaves exactly the indexes and constraints of a migrated schema, and the rows', async () => {
    const nc = await nats.connect();
    await prepareTopology(nc);
    const db = await createTestDatabase();
    await alert(nc, 'a');
    await alert(nc, 'b', { resolve: true });
    await alert(nc, 'c', { fingerprint: 'fp-b' });

    const result = await rebuildReadModels({ nc, databaseUrl: db.url, schema: db.schema, log: testLog });
    expect(result.events).toBe(4);
    await migrate(db.url, 'reference');
    const rebuilt = await catalog(db.url, db.schema);
    expect(rebuilt).toEqual(await catalog(db.url, 'reference'));
    expect(rebuilt).toContainEqual(expect.objectContaining({ name: 'alerts_one_open_per_fingerprint' }));
    expect(rebuilt).toContainEqual(expect.objectContaining({ kind: 'constraint', name: 'alert_timeline_event_id_key' }));
    const client = new pg.Client({ connectionString: db.url });
    await client.connect();
    const { rows } = await client.query(`SELECT summary, status FROM "${db.schema}".alerts ORDER BY summary`);
    await client.end();
    expect(rows).toEqual([
      { summary: 'a', status: 'triggered' },
      { summary: 'b', status: 'resolved' },
      { summary: 'c', status: 'triggered' },
    ]);
  });

  it('a log with two open alerts for one fingerprint fails the rebuild before the switch-over', async () => {
    const nc = await nats.connect();
    await prepareTopology(nc);
    const db = await createTestDatabase();
    await alert(nc, 'first', { fingerprint: 'fp-same' });
    await alert(nc, 'second', { fingerprint: 'fp-same' });

    const rebuild = rebuildReadModels({ nc, databaseUrl: db.url, schema: db.schema, log: testLog });
    await expect(rebuild).rejects.toBeInstanceOf(IndexBuildError);
    await expect(rebuild).rejects.toThrow(/alerts_one_open_per_fingerprint/);
    // the live schema is the one that was there, with its indexes
    expect(await catalog(db.url, db.schema)).toContainEqual(expect.objectContaining({ name: 'alerts_one_open_per_fingerprint' }));
    const client = new pg.Client({ connectionString: db.url });
    await client.connect();
    const { rows } = await client.query(`SELECT count(*)::int AS n FROM "${db.schema}".alerts`);
    await client.end();
    expect(rows[0]).toEqual({ n: 0 });
  });
});
