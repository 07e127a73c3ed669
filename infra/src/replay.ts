import type { NatsConnection } from '@nats-io/transport-node';
import pg from 'pg';
import { createReadModelPool, type Logger } from '@oncall/shared';
import { PROJECTIONS, replayProjection, SWITCH_LOCK, type ReplayProgress } from '@oncall/projector';
import { migrate } from './migrate.js';

export type RebuildResult = { events: number; seconds: number };

/** How many indexes are built at a time after the bulk load (PostgreSQL adds its own parallel workers to each). */
const INDEX_BUILDERS = 2;

/**
 * Rebuilds every read model from sequence 1 into a fresh schema (`<schema>_rebuild`) while the
 * live one keeps serving, then switches over.
 *
 * 1. Bulk load: the fresh schema's secondary indexes (everything but primary keys) are dropped,
 *    every projection replays into the bare tables (commits with `synchronous_commit = off`), and
 *    the indexes are built again from their saved definitions: a sorted build is far cheaper than
 *    maintaining seven indexes row by row, and the load no longer slows down as they outgrow
 *    memory. The projections need only the primary keys while they load (their ON CONFLICT
 *    targets and the UPDATE lookups); the other indexes serve readers, who never see this schema
 *    before the switch, or check invariants, which building the unique ones checks on the loaded
 *    rows (see `deferSecondaryIndexes`). The tables are analyzed for the planner.
 * 2. Catch-up: what arrived during the load, applied with every index in place.
 * 3. Switch-over: under an exclusive SWITCH_LOCK (live projector batches hold it shared) it
 *    applies what arrived meanwhile and renames the new schema into place in one transaction.
 *    Readers and the live projector resolve table names per statement, so they carry on in the
 *    new schema; events the live projector applies later that the rebuild already has are
 *    skipped by the checkpoint.
 */
export async function rebuildReadModels(opts: {
  nc: NatsConnection;
  databaseUrl: string;
  schema: string;
  log: Logger;
  onProgress?: (p: { done: number; total: number }) => void;
}): Promise<RebuildResult> {
  const started = performance.now();
  const target = `${opts.schema}_rebuild`;
  const admin = new pg.Client({ connectionString: opts.databaseUrl });
  await admin.connect();
  try {
    await admin.query(`DROP SCHEMA IF EXISTS ${ident(target)} CASCADE`);
    await migrate(opts.databaseUrl, target);
    await migrate(opts.databaseUrl, opts.schema);
    const deferred = await deferSecondaryIndexes(admin, target);
    const pool = await createReadModelPool(opts.databaseUrl, target);
    let events = 0;
    try {
      const done = new Map<string, ReplayProgress>();
      const report = (p: ReplayProgress) => {
        done.set(p.projection, p);
        const all = [...done.values()];
        opts.onProgress?.({ done: all.reduce((s, x) => s + x.done, 0), total: all.reduce((s, x) => s + x.total, 0) });
      };
      for (const projection of PROJECTIONS) events += await replayProjection(opts.nc, pool, projection, report);
      const indexing = performance.now();
      await buildIndexes(admin, opts.databaseUrl, deferred);
      await analyze(admin, target);
      opts.log.info({ events, schema: target, indexes: deferred.length, indexSeconds: (performance.now() - indexing) / 1000 }, 'loaded and indexed; catching up');
      for (const projection of PROJECTIONS) events += await replayProjection(opts.nc, pool, projection, report);
      opts.log.info({ events, schema: target }, 'caught up; switching over');

      await admin.query('BEGIN');
      try {
        await admin.query('SELECT pg_advisory_xact_lock($1)', [SWITCH_LOCK]);
        for (const projection of PROJECTIONS) events += await replayProjection(opts.nc, pool, projection);
        const retired = `${opts.schema}_retired`;
        await admin.query(`DROP SCHEMA IF EXISTS ${ident(retired)} CASCADE`);
        await admin.query(`ALTER SCHEMA ${ident(opts.schema)} RENAME TO ${ident(retired)}`);
        await admin.query(`ALTER SCHEMA ${ident(target)} RENAME TO ${ident(opts.schema)}`);
        await admin.query('COMMIT');
        await admin.query(`DROP SCHEMA ${ident(retired)} CASCADE`);
      } catch (err) {
        await admin.query('ROLLBACK').catch(() => undefined);
        throw err;
      }
    } finally {
      await pool.end();
    }
    return { events, seconds: (performance.now() - started) / 1000 };
  } finally {
    await admin.end();
  }
}

/** A secondary index dropped for the bulk load: the statements that drop and create it. */
type DeferredIndex = { name: string; table: string; drop: string; create: string };

/**
 * Drops every index of `schema` except primary keys, unique constraints included, and returns
 * how to create each again (its catalog definition, same name: later migrations find it).
 *
 * The projections' ON CONFLICT targets are all primary keys, and nothing reads through the other
 * indexes during a replay. Two of them are unique and so also check the log:
 *  - `alerts_one_open_per_fingerprint` (at most one open alert per service and fingerprint): the
 *    projection never reads through it, it only fails a statement that breaks it. Built after
 *    the load it checks the final rows; the live projector checks the rows at each batch
 *    boundary (a batch folds an alert's events into one row, so states inside a batch are never
 *    checked either). The decider is what guarantees it; a log that breaks it makes this build
 *    fail, and the rebuild stops before the switch-over with the live schema untouched.
 *  - `event_id` uniqueness of the timelines: likewise checked on the loaded rows.
 */
async function deferSecondaryIndexes(admin: pg.Client, schema: string): Promise<DeferredIndex[]> {
  const { rows } = await admin.query<{ index: string; table: string; constraint: string | null; definition: string }>(
    `SELECT i.indexrelid::regclass::text AS index, i.indrelid::regclass::text AS table, c.conname AS constraint,
       CASE WHEN c.oid IS NULL THEN pg_get_indexdef(i.indexrelid) ELSE pg_get_constraintdef(c.oid) END AS definition
     FROM pg_index i
     JOIN pg_class t ON t.oid = i.indrelid
     JOIN pg_namespace n ON n.oid = t.relnamespace
     LEFT JOIN pg_constraint c ON c.conindid = i.indexrelid AND c.conrelid = i.indrelid AND c.contype IN ('u', 'x')
     WHERE n.nspname = $1 AND NOT i.indisprimary AND t.relname <> 'pgmigrations'`,
    [schema],
  );
  const deferred = rows.map((r): DeferredIndex => ({
    name: r.index,
    table: r.table,
    drop: r.constraint ? `ALTER TABLE ${r.table} DROP CONSTRAINT ${ident(r.constraint)}` : `DROP INDEX ${r.index}`,
    create: r.constraint ? `ALTER TABLE ${r.table} ADD CONSTRAINT ${ident(r.constraint)} ${r.definition}` : r.definition,
  }));
  for (const d of deferred) await admin.query(d.drop);
  return deferred;
}

/** Creates the deferred indexes, INDEX_BUILDERS at a time on their own connections, biggest tables first. */
async function buildIndexes(admin: pg.Client, databaseUrl: string, deferred: readonly DeferredIndex[]): Promise<void> {
  const sizes = new Map<string, number>();
  for (const { table } of deferred) {
    if (!sizes.has(table)) sizes.set(table, Number((await admin.query<{ size: string }>('SELECT pg_relation_size($1::regclass) AS size', [table])).rows[0]?.size));
  }
  const queue = [...deferred].sort((a, b) => sizes.get(b.table)! - sizes.get(a.table)!);
  const builder = async () => {
    const client = new pg.Client({ connectionString: databaseUrl });
    await client.connect();
    try {
      await client.query(`SET maintenance_work_mem = '256MB'`);
      for (let next = queue.shift(); next; next = queue.shift()) {
        try {
          await client.query(next.create);
        } catch (cause) {
          throw new IndexBuildError(`building ${next.name} after the bulk load failed: ${(cause as Error).message}`, { cause });
        }
      }
    } finally {
      await client.end();
    }
  };
  await Promise.all(Array.from({ length: Math.min(INDEX_BUILDERS, queue.length) }, builder));
}

/** Fresh statistics for the planner: the rebuilt tables are read as soon as they are switched in. */
async function analyze(admin: pg.Client, schema: string): Promise<void> {
  const { rows } = await admin.query<{ relname: string }>('SELECT relname FROM pg_stat_user_tables WHERE schemaname = $1', [schema]);
  for (const { relname } of rows) await admin.query(`ANALYZE ${ident(schema)}.${ident(relname)}`);
}

/** An index of the rebuilt schema could not be built: for a unique one, the log breaks its invariant. */
export class IndexBuildError extends Error {
  override readonly name = 'IndexBuildError';
}

const ident = (name: string): string => `"${name.replace(/"/g, '""')}"`;

/**
 * Progress for a terminal (one line redrawn: done/total, rate, ETA) or, when stderr is not a
 * terminal, a plain line every two seconds.
 */
export function progressPrinter(out: NodeJS.WriteStream, started = performance.now()): (p: { done: number; total: number }) => void {
  let lastLine = 0;
  return ({ done, total }) => {
    const now = performance.now();
    const seconds = (now - started) / 1000;
    const rate = seconds > 0 ? done / seconds : 0;
    const eta = rate > 0 ? Math.max(0, (total - done) / rate) : 0;
    const pct = total > 0 ? Math.min(100, (100 * done) / total) : 100;
    const width = 30;
    const bar = '#'.repeat(Math.round((pct / 100) * width)).padEnd(width, '.');
    const text = `replay [${bar}] ${pct.toFixed(1)}%  ${done.toLocaleString('en')}/${total.toLocaleString('en')} events  ${Math.round(rate).toLocaleString('en')}/s  ETA ${eta.toFixed(0)} s`;
    if (out.isTTY) {
      out.write(`\r${text}${done >= total ? '\n' : ''}`);
    } else if (now - lastLine > 2000 || done >= total) {
      lastLine = now;
      out.write(`${text}\n`);
    }
  };
}
