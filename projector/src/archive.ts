import { sql, type DatabasePool, type DatabaseTransactionConnection } from 'slonik';
import { z } from 'zod';
import type { Logger } from '@oncall/shared';
import { SWITCH_LOCK } from './adapters/apply.js';

/**
 * The archive: resolved alerts older than a configured age move, with every row that belongs to
 * them, from the live read model into the schema `<schema>_archive`, whose tables are partitioned
 * by the month the alert was resolved. The live tables stay small; nothing is lost: an alert is
 * either live or archived, and readers (GetAlert, its timeline, `oncall history`) look in both.
 *
 * A replay rebuilds the live tables from the log and leaves the archive as it is; alerts already
 * archived are taken out of the rebuilt tables before the switch-over, so live ∪ archive is the
 * same before and after (docs/reliability.md, "Archive and retention").
 */

/** Tables with rows per alert, and the column naming the alert. `alerts` comes first: it decides what moves. */
export const ARCHIVED_TABLES = [
  { table: 'alerts', alertColumn: 'id' },
  { table: 'alert_timeline', alertColumn: 'alert_id' },
  { table: 'alert_escalations', alertColumn: 'alert_id' },
  { table: 'escalation_timeline', alertColumn: 'alert_id' },
  { table: 'notifications', alertColumn: 'alert_id' },
  { table: 'notification_deliveries', alertColumn: 'alert_id' },
  { table: 'tickets', alertColumn: 'alert_id' },
  { table: 'ticket_requests', alertColumn: 'alert_id' },
] as const;

/** Views of the live schema made again in the archive over its tables, so readers query both alike. */
const ARCHIVED_VIEWS = ['alerts_with_escalation', 'alert_timeline_all'];

export const archiveSchemaOf = (schema: string): string => `${schema}_archive`;

const ident = (name: string) => sql.identifier([name]);
/** SQL text PostgreSQL itself gave (a type name, a view definition), spliced in as it is. */
const raw = (text: string) => {
  // What a template literal passes: frozen parts with frozen raw parts (slonik checks).
  const parts: TemplateStringsArray = Object.freeze(Object.assign([text], { raw: Object.freeze([text]) }));
  return sql.fragment(parts);
};
const qualified = (schema: string, name: string) => sql.identifier([schema, name]);

const Column = z.object({ column_name: z.string() });

/**
 * Creates the archive schema, its tables (the live columns plus `archive_month`, partitioned by
 * it), columns added to the live tables since, and its views. Idempotent; run at start.
 */
export async function ensureArchive(pool: DatabasePool, schema: string): Promise<void> {
  const archive = archiveSchemaOf(schema);
  await pool.transaction(async (tx) => {
    await tx.query(sql.unsafe`SELECT pg_advisory_xact_lock(hashtext(${`archive:${schema}`}))`);
    await tx.query(sql.unsafe`CREATE SCHEMA IF NOT EXISTS ${ident(archive)}`);
    for (const { table, alertColumn } of ARCHIVED_TABLES) {
      await tx.query(sql.unsafe`
        CREATE TABLE IF NOT EXISTS ${qualified(archive, table)} (LIKE ${qualified(schema, table)}, archive_month date NOT NULL)
        PARTITION BY RANGE (archive_month)`);
      // Readers find an archived alert's rows by its id (a partitioned index: every month has it).
      await tx.query(sql.unsafe`
        CREATE INDEX IF NOT EXISTS ${ident(`${table}_by_alert`)} ON ${qualified(archive, table)} (${ident(alertColumn)})`);
      const live = await columnsOf(tx, schema, table);
      const archived = new Set(await columnsOf(tx, archive, table));
      for (const column of live.filter((c) => !archived.has(c))) {
        const type = await tx.oneFirst(sql.type(z.object({ t: z.string() }))`
          SELECT format_type(a.atttypid, a.atttypmod) AS t FROM pg_attribute a
          WHERE a.attrelid = ${`${schema}.${table}`}::regclass AND a.attname = ${column}`);
        await tx.query(sql.unsafe`ALTER TABLE ${qualified(archive, table)} ADD COLUMN ${ident(column)} ${raw(type)}`);
      }
    }
    for (const view of ARCHIVED_VIEWS) {
      await tx.query(sql.unsafe`SET LOCAL search_path TO ${ident(schema)}`);
      const definition = await tx.oneFirst(sql.type(z.object({ d: z.string() }))`SELECT pg_get_viewdef(${view}::regclass) AS d`);
      await tx.query(sql.unsafe`SET LOCAL search_path TO ${ident(archive)}`);
      await tx.query(sql.unsafe`CREATE OR REPLACE VIEW ${ident(view)} AS ${raw(definition.replace(/;\s*$/, ''))}`);
    }
  });
}

async function columnsOf(tx: DatabaseTransactionConnection, schema: string, table: string): Promise<string[]> {
  const rows = await tx.any(sql.type(Column)`
    SELECT column_name FROM information_schema.columns WHERE table_schema = ${schema} AND table_name = ${table}
    AND column_name <> 'archive_month' ORDER BY ordinal_position`);
  return rows.map((r) => r.column_name);
}

/**
 * Moves resolved alerts whose `resolved_at` is before `before`, `batch` at a time (each batch one
 * transaction, under SWITCH_LOCK shared like the live projector's batches), with their rows of every
 * ARCHIVED_TABLES table, into the archive. Returns how many alerts moved.
 */
export async function archiveResolved(
  pool: DatabasePool,
  schema: string,
  before: Date,
  opts: { batch?: number; log?: Logger } = {},
): Promise<number> {
  const archive = archiveSchemaOf(schema);
  const batch = opts.batch ?? 1000;
  const columns = await pool.transaction(async (tx) =>
    Object.fromEntries(await Promise.all(ARCHIVED_TABLES.map(async ({ table }) => [table, await columnsOf(tx, schema, table)] as const))),
  );
  let moved = 0;
  for (;;) {
    const count = await pool.transaction(async (tx) => {
      await tx.query(sql.unsafe`SELECT pg_advisory_xact_lock_shared(${SWITCH_LOCK})`);
      const months = await tx.anyFirst(sql.type(z.object({ m: z.string() }))`
        SELECT DISTINCT to_char(date_trunc('month', resolved_at), 'YYYY-MM-DD') AS m FROM (
          SELECT resolved_at FROM ${qualified(schema, 'alerts')}
          WHERE status = 'resolved' AND resolved_at < ${before.toISOString()} ORDER BY resolved_at LIMIT ${batch}) p`);
      if (months.length === 0) return 0;
      for (const m of months) await ensureMonth(tx, archive, m);
      await tx.query(sql.unsafe`
        CREATE TEMP TABLE archiving ON COMMIT DROP AS
        SELECT id, date_trunc('month', resolved_at)::date AS archive_month FROM ${qualified(schema, 'alerts')}
        WHERE status = 'resolved' AND resolved_at < ${before.toISOString()} ORDER BY resolved_at LIMIT ${batch}`);
      for (const { table, alertColumn } of ARCHIVED_TABLES) {
        const cols = sql.join((columns[table] ?? []).map(ident), sql.fragment`, `);
        const source = qualified(schema, table);
        await tx.query(sql.unsafe`
          WITH moved AS (
            DELETE FROM ${source} t USING archiving x WHERE t.${ident(alertColumn)} = x.id RETURNING t.*, x.archive_month
          )
          INSERT INTO ${qualified(archive, table)} (${cols}, archive_month) SELECT ${cols}, archive_month FROM moved`);
      }
      return Number(await tx.oneFirst(sql.unsafe`SELECT count(*) FROM archiving`));
    });
    moved += count;
    if (count < batch) break;
  }
  if (moved > 0) opts.log?.info({ moved, before: before.toISOString(), archive }, 'resolved alerts archived');
  return moved;
}

/** The month partition of every archive table, created when first needed (`YYYY-MM-01`). */
async function ensureMonth(tx: DatabaseTransactionConnection, archive: string, month: string): Promise<void> {
  // DDL takes no parameters: the bounds are spliced in, so they must be dates and nothing else.
  if (!/^\d{4}-\d{2}-01$/.test(month)) throw new Error(`not a month: ${month}`);
  const [y, m] = month.split('-').map(Number) as [number, number];
  const next = m === 12 ? `${y + 1}-01-01` : `${y}-${String(m + 1).padStart(2, '0')}-01`;
  const suffix = `${y}${String(m).padStart(2, '0')}`;
  for (const { table } of ARCHIVED_TABLES) {
    await tx.query(sql.unsafe`
      CREATE TABLE IF NOT EXISTS ${qualified(archive, `${table}_${suffix}`)} PARTITION OF ${qualified(archive, table)}
      FOR VALUES FROM (${raw(`'${month}'`)}) TO (${raw(`'${next}'`)})`);
  }
}

/**
 * Takes out of a rebuilt schema every row of alerts already in the archive (a replay rebuilds
 * them from the log while the archive keeps them). Returns how many alerts were taken out.
 */
export async function dropArchivedFrom(pool: DatabasePool, rebuilt: string, liveSchema: string): Promise<number> {
  const archive = archiveSchemaOf(liveSchema);
  return pool.transaction(async (tx) => {
    const exists = await tx.oneFirst(
      sql.type(z.object({ r: z.string().nullable() }))`SELECT to_regclass(${`${archive}.alerts`})::text AS r`,
    );
    if (!exists) return 0;
    let alerts = 0;
    for (const { table, alertColumn } of ARCHIVED_TABLES) {
      const result = await tx.query(sql.unsafe`
        DELETE FROM ${qualified(rebuilt, table)} t USING ${qualified(archive, 'alerts')} a WHERE t.${ident(alertColumn)} = a.id`);
      if (table === 'alerts') alerts = result.rowCount;
    }
    return alerts;
  });
}

/**
 * Runs archiveResolved every `everyMs` for alerts resolved more than `afterMs` ago (0: never),
 * in the projector process. A failed run is logged and tried at the next.
 */
export function startArchiver(opts: { pool: DatabasePool; schema: string; afterMs: number; everyMs: number; log: Logger }): () => void {
  if (opts.afterMs <= 0) return () => undefined;
  let running = false;
  const run = () => {
    if (running) return;
    running = true;
    archiveResolved(opts.pool, opts.schema, new Date(Date.now() - opts.afterMs), { log: opts.log })
      .catch((err: unknown) => opts.log.warn({ err }, 'archiving failed; tried again at the next run'))
      .finally(() => (running = false));
  };
  const timer = setInterval(run, opts.everyMs);
  timer.unref();
  const first = setTimeout(run, Math.min(opts.everyMs, 60_000));
  first.unref();
  return () => {
    clearInterval(timer);
    clearTimeout(first);
  };
}
