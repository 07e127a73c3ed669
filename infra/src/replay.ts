import type { NatsConnection } from '@nats-io/transport-node';
import pg from 'pg';
import { createReadModelPool, partitionCount, type Logger } from '@oncall/shared';
import { dropArchivedFrom, PROJECTIONS, replayProjection, SWITCH_LOCK, type ReplayProgress } from '@oncall/projector';
import { migrate } from './migrate.js';

/** Events applied, and seconds in all and per phase (see rebuildReadModels). */
export type RebuildResult = {
  events: number;
  seconds: number;
  phases: { load: number; indexes: number; catchUp: number; switchOver: number };
};

/** How many indexes are built at a time after the bulk load (PostgreSQL may add parallel workers to each). */
const INDEX_BUILDERS = 2;

/**
 * Rebuilds every read model from sequence 1 into a fresh schema (`<schema>_rebuild`) while the
 * live one keeps serving, then switches over.
 *
 * 1. Bulk load: the fresh schema's secondary indexes (everything but primary keys) are dropped
 *    and the projections replay into the bare tables, side by side on their own connections
 *    (commits with `synchronous_commit = off`), the alerts projection one connection per
 *    partition (see replayProjection). Maintaining the alerts table's secondary indexes
 *    and the timeline's, row by row, was most of a replay's cost, and it grew as the indexes
 *    outgrew memory. The projections need only the primary keys while they load (their ON
 *    CONFLICT targets and UPDATE lookups); see `deferSecondaryIndexes` for the others.
 * 2. Indexes: built again from their saved definitions (sorted builds, same names), and the
 *    tables analyzed for the planner.
 * 3. Catch-up: what arrived during 1 and 2, applied with every index in place.
 * 4. Switch-over: under an exclusive SWITCH_LOCK (live projector batches hold it shared) it
 *    applies what arrived meanwhile and renames the new schema into place in one transaction.
 *    Readers and the live projector resolve table names per statement, so they carry on in the
 *    new schema; events the live projector applies later that the rebuild already has are
 *    skipped by the checkpoint.
 *
 * Running the projections side by side is what the live projector does: no projection reads
 * rows another one writes, and the one table two of them write has disjoint columns per writer.
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
    const partitions = await partitionCount(opts.nc);
    let events = 0;
    const replayAll = async (report?: (p: ReplayProgress) => void) => {
      const skipped = (projection: string, r: { at: { seq: number; subject: string } }) =>
        opts.log.warn(
          { projection, seq: r.at.seq, subject: r.at.subject },
          'skipped an event that cannot be applied (parked by the live projector)',
        );
      const applied = await Promise.all(
        PROJECTIONS.map((projection) => replayProjection(opts.nc, pool, projection, report, partitions, skipped)),
      );
      events += applied.reduce((sum, n) => sum + n, 0);
    };
    const phases = { load: 0, indexes: 0, catchUp: 0, switchOver: 0 };
    let mark = performance.now();
    const phase = (name: keyof typeof phases) => {
      const now = performance.now();
      phases[name] = (now - mark) / 1000;
      mark = now;
    };
    try {
      const done = new Map<string, ReplayProgress>();
      const report = (p: ReplayProgress) => {
        done.set(p.projection, p);
        const all = [...done.values()];
        opts.onProgress?.({ done: all.reduce((s, x) => s + x.done, 0), total: all.reduce((s, x) => s + x.total, 0) });
      };
      await replayAll(report);
      // Alerts the archive holds already are not live any more (live ∪ archive stays the same).
      const archived = await dropArchivedFrom(pool, target, opts.schema);
      phase('load');
      opts.log.info({ events, archived, schema: target, seconds: phases.load }, 'loaded; building indexes');
      await buildIndexes(admin, opts.databaseUrl, target, deferred);
      phase('indexes');
      opts.log.info({ indexes: deferred.length, seconds: phases.indexes }, 'indexed; catching up');
      await replayAll(report);
      phase('catchUp');
      opts.log.info({ events, schema: target }, 'caught up; switching over');

      await admin.query('BEGIN');
      try {
        await admin.query('SELECT pg_advisory_xact_lock($1)', [SWITCH_LOCK]);
        await replayAll();
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
      phase('switchOver');
    } finally {
      await pool.end();
    }
    return { events, seconds: (performance.now() - started) / 1000, phases };
  } finally {
    await admin.end();
  }
}

/**
 * A secondary index dropped for the bulk load: how to drop it, build it (CREATE [UNIQUE] INDEX,
 * which several builders may run on one table at a time) and, for a unique constraint, attach
 * the built index to the constraint again (brief; done after every build).
 */
type DeferredIndex = { name: string; table: string; drop: string; build: string; attach?: string };

/**
 * Drops every index of `schema` except primary keys, unique constraints included, and returns
 * how to create each again from its catalog definition, with the same name (later migrations
 * find it).
 *
 * The projections' ON CONFLICT targets are all primary keys, and nothing reads through the other
 * indexes during a replay. Two of them are unique, and so also check the log:
 *  - `alerts_one_open_per_fingerprint` (at most one open alert per service and fingerprint): the
 *    projection never reads through it, it only fails a statement that breaks it. Built after
 *    the load it checks the final rows; the live projector checks the rows at each batch
 *    boundary (a batch folds an alert's events into one row, so states inside a batch are not
 *    checked there either). The decider is what guarantees it; a log that breaks it in the final
 *    rows makes the build fail (IndexBuildError), and the rebuild stops before the switch-over
 *    with the live schema untouched.
 *  - the timelines' unique `event_id`: likewise checked on the loaded rows.
 */
async function deferSecondaryIndexes(admin: pg.Client, schema: string): Promise<DeferredIndex[]> {
  const { rows } = await admin.query<{
    index: string;
    index_name: string;
    table: string;
    constraint: string | null;
    type: string | null;
    index_def: string;
    constraint_def: string | null;
  }>(
    `SELECT i.indexrelid::regclass::text AS index, ic.relname AS index_name, i.indrelid::regclass::text AS table,
       c.conname AS constraint, c.contype AS type, pg_get_indexdef(i.indexrelid) AS index_def, pg_get_constraintdef(c.oid) AS constraint_def
     FROM pg_index i
     JOIN pg_class ic ON ic.oid = i.indexrelid
     JOIN pg_class t ON t.oid = i.indrelid
     JOIN pg_namespace n ON n.oid = t.relnamespace
     LEFT JOIN pg_constraint c ON c.conindid = i.indexrelid AND c.conrelid = i.indrelid AND c.contype IN ('u', 'x')
     WHERE n.nspname = $1 AND NOT i.indisprimary AND t.relname <> 'pgmigrations'`,
    [schema],
  );
  const deferred = rows.map((r): DeferredIndex => {
    const index = { name: r.index, table: r.table };
    if (!r.constraint) return { ...index, drop: `DROP INDEX ${r.index}`, build: r.index_def };
    const drop = `ALTER TABLE ${r.table} DROP CONSTRAINT ${ident(r.constraint)}`;
    // An exclusion constraint cannot adopt an index: it builds its own.
    if (r.type === 'x')
      return { ...index, drop, build: `ALTER TABLE ${r.table} ADD CONSTRAINT ${ident(r.constraint)} ${r.constraint_def}` };
    return {
      ...index,
      drop,
      build: r.index_def,
      attach: `ALTER TABLE ${r.table} ADD CONSTRAINT ${ident(r.constraint)} UNIQUE USING INDEX ${ident(r.index_name)}`,
    };
  });
  for (const d of deferred) await admin.query(d.drop);
  return deferred;
}

/**
 * Analyzes the schema's tables and builds the deferred indexes, INDEX_BUILDERS statements at a
 * time on their own connections, biggest tables first, without PostgreSQL's parallel workers:
 * the builders are the parallelism, and a parallel GIN build (PostgreSQL 18) took 2.6 times the
 * CPU of a serial one (labels of 600k alerts: 12.7 s against 4.8 s). ANALYZE comes first (it and
 * CREATE INDEX on one table wait for each other); its statistics are the same with or without
 * plain column indexes. The switched-in schema is queried at once: it needs them.
 */
async function buildIndexes(admin: pg.Client, databaseUrl: string, schema: string, deferred: readonly DeferredIndex[]): Promise<void> {
  const { rows: tables } = await admin.query<{ table: string; bytes: string }>(
    `SELECT c.oid::regclass::text AS table, pg_relation_size(c.oid) AS bytes FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
     WHERE n.nspname = $1 AND c.relkind = 'r' ORDER BY 2 DESC`,
    [schema],
  );
  const size = new Map(tables.map((t) => [t.table, Number(t.bytes)]));
  const queue: Array<{ name: string; statement: string }> = [
    ...tables.map((t) => ({ name: `statistics of ${t.table}`, statement: `ANALYZE ${t.table}` })),
    ...[...deferred].sort((a, b) => (size.get(b.table) ?? 0) - (size.get(a.table) ?? 0)).map((d) => ({ name: d.name, statement: d.build })),
  ];
  const run = async (client: pg.Client, name: string, statement: string) => {
    try {
      await client.query(statement);
    } catch (cause) {
      throw new IndexBuildError(`building ${name} after the bulk load failed: ${(cause as Error).message}`, { cause });
    }
  };
  const builder = async () => {
    const client = new pg.Client({ connectionString: databaseUrl });
    await client.connect();
    try {
      await client.query(`SET maintenance_work_mem = '256MB'; SET max_parallel_maintenance_workers = 0`);
      for (let next = queue.shift(); next; next = queue.shift()) await run(client, next.name, next.statement);
    } finally {
      await client.end();
    }
  };
  await Promise.all(Array.from({ length: INDEX_BUILDERS }, builder));
  for (const index of deferred) if (index.attach) await run(admin, index.name, index.attach);
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
