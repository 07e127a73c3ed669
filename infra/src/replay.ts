import type { NatsConnection } from '@nats-io/transport-node';
import pg from 'pg';
import { createReadModelPool, type Logger } from '@oncall/shared';
import { PROJECTIONS, replayProjection, SWITCH_LOCK, type ReplayProgress } from '@oncall/projector';
import { migrate } from './migrate.js';

export type RebuildResult = { events: number; seconds: number };

/**
 * Rebuilds every read model from sequence 1 into a fresh schema (`<schema>_rebuild`) while the
 * live one keeps serving, then switches over: under an exclusive SWITCH_LOCK (live projector
 * batches hold it shared) it applies what arrived meanwhile and renames the new schema into
 * place in one transaction. Readers and the live projector resolve table names per statement,
 * so they carry on in the new schema; events the live projector applies later that the rebuild
 * already has are skipped by the checkpoint.
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
