import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import getPort from 'get-port';

/** `oncall up` as a child process, for tests of the pipeline as real processes (up, tracing, metrics). */

const ROOT = fileURLToPath(new URL('..', import.meta.url));

export type Up = {
  child: ChildProcess;
  pid: number;
  output: () => string;
  /** Resolves with the first match of `pattern` in everything `oncall up` has printed so far or prints later. */
  until: (pattern: RegExp) => Promise<RegExpMatchArray>;
  exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
  /** pid of each process in the start-up banner. */
  parts: Map<string, number>;
};

/** `oncall up` as `npm start` runs it, in a process group of its own as in a terminal. */
export function spawnUp(env: NodeJS.ProcessEnv): Up {
  const child = spawn(process.execPath, ['--max-semi-space-size=32', 'bin/oncall.js', 'up'], {
    cwd: ROOT,
    env: { ...process.env, LOG_LEVEL: 'warn', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
    detached: true,
  });
  let out = '';
  const waiting = new Set<() => void>();
  const onData = (chunk: Buffer) => {
    out += chunk.toString();
    for (const check of waiting) check();
  };
  child.stdout?.on('data', onData);
  child.stderr?.on('data', onData);
  return {
    child,
    pid: child.pid!,
    output: () => out,
    until: (pattern) =>
      new Promise((resolve) => {
        const check = () => {
          const m = pattern.exec(out);
          if (!m) return;
          waiting.delete(check);
          resolve(m);
        };
        waiting.add(check);
        check();
      }),
    exited: new Promise((resolve) => child.once('exit', (code, signal) => resolve({ code, signal }))),
    parts: new Map(),
  };
}

export async function startUp(env: NodeJS.ProcessEnv): Promise<Up> {
  const up = spawnUp(env);
  const failed = up.exited.then((e) => Promise.reject(new Error(`oncall up exited with ${e.code ?? e.signal}:\n${up.output()}`)));
  await Promise.race([up.until(/Pipeline is up\./), failed]);
  for (const m of up.output().matchAll(/^ {4}(\S.*?)\s+pid (\d+)/gm)) up.parts.set(m[1]!, Number(m[2]));
  return up;
}

/** A free port for every port setting of `oncall up`. */
export async function freePorts(): Promise<Record<string, string>> {
  const names = [
    'NATS_PORT',
    'PG_PORT',
    'INGEST_PORT',
    'GRPC_PORT',
    'CONSOLE_PORT',
    'DECIDER_METRICS_PORT',
    'PROJECTOR_METRICS_PORT',
    'ESCALATOR_METRICS_PORT',
    'DISPATCHER_METRICS_PORT',
    'QUERY_API_METRICS_PORT',
    'UP_METRICS_PORT',
    'TICKET_BRIDGE_PORT',
    'TICKET_BRIDGE_METRICS_PORT',
  ];
  const ports: Record<string, string> = {};
  for (const name of names) ports[name] = String(await getPort({ port: belowEphemeral() }));
  return ports;
}

/**
 * Random candidates under Linux's ephemeral range (32768–60999). `oncall up` binds its ports
 * seconds after they are chosen, and a port from the ephemeral range (get-port's default) can
 * meanwhile become the local port of any outgoing connection on the machine: query-api once
 * failed with EADDRINUSE that way in a full run. Random, so parallel test files seldom draw alike.
 */
function belowEphemeral(): number[] {
  return Array.from({ length: 50 }, () => 20_000 + Math.floor(Math.random() * 12_000));
}

/**
 * `oncall up` on the test's nats-server and database (so it starts no infrastructure of its own),
 * every port free, `env` added. `stop` ends it (SIGTERM) and removes its data folder.
 */
export async function startUpOn(
  nats: { url: string },
  db: { url: string; schema: string },
  env: NodeJS.ProcessEnv = {},
): Promise<{ up: Up; ports: Record<string, string>; ingestUrl: string; stop: () => Promise<void> }> {
  const dataDir = await mkdtemp(join(tmpdir(), 'oncall-up-on-'));
  const ports = await freePorts();
  let up: Up;
  try {
    up = await startUp({
      ...ports,
      ONCALL_DATA_DIR: dataDir,
      NATS_URL: nats.url,
      DATABASE_URL: db.url,
      READ_MODEL_SCHEMA: db.schema,
      ...env,
    });
  } catch (err) {
    await rm(dataDir, { recursive: true, force: true });
    throw err;
  }
  return {
    up,
    ports,
    ingestUrl: `http://127.0.0.1:${ports.INGEST_PORT}`,
    stop: async () => {
      process.kill(up.pid, 'SIGTERM');
      await up.exited;
      await rm(dataDir, { recursive: true, force: true });
    },
  };
}
