import { spawn, type ChildProcess } from 'node:child_process';
import { access, constants, mkdir } from 'node:fs/promises';
import { delimiter, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Logger } from '@oncall/shared';
import { exitOf, stopChild, stopLeftover, tail, type Exit } from './processes.js';

export const NATS_CONF = fileURLToPath(new URL('../../nats.conf', import.meta.url));

export class NatsServerMissingError extends Error {
  override readonly name = 'NatsServerMissingError';
  constructor() {
    super(
      'nats-server not found on PATH: install it with `sudo apt-get install -y nats-server` (Debian/Ubuntu), or set NATS_URL to an existing NATS server',
    );
  }
}

/** The URL of a nats-server started here on `port`. */
export const localNatsUrl = (port: number): string => `nats://127.0.0.1:${port}`;

/** Looks for the binary on PATH and in the sbin folders Debian's package uses. */
export async function findNatsServer(): Promise<string> {
  const dirs = [...(process.env.PATH ?? '').split(delimiter), '/usr/sbin', '/usr/local/sbin', '/sbin'];
  for (const dir of dirs.filter(Boolean)) {
    const candidate = join(dir, 'nats-server');
    try {
      await access(candidate, constants.X_OK);
      return candidate;
    } catch {
      // not here
    }
  }
  throw new NatsServerMissingError();
}

export type RunningNats = {
  url: string;
  process: ChildProcess;
  /** Resolves when the server has exited, stopped or not. */
  exited: Promise<Exit>;
  /** SIGTERM (the server flushes JetStream and exits); SIGKILL after `graceMs` (default 10 s). */
  stop: (graceMs?: number) => Promise<void>;
};

/**
 * Starts nats-server with the repo's nats.conf, JetStream data under `storeDir`, and resolves
 * when the server logs that it is ready. With `ownProcessGroup` the server gets a process group
 * of its own, so that a terminal's Ctrl-C reaches only the process that started it.
 */
export async function startNatsServer(opts: {
  storeDir: string;
  port: number;
  log?: Logger;
  ownProcessGroup?: boolean;
}): Promise<RunningNats> {
  const binary = await findNatsServer();
  await mkdir(opts.storeDir, { recursive: true });
  const pidFile = join(opts.storeDir, 'nats-server.pid');
  if (await stopLeftover(pidFile, 'nats-server')) opts.log?.warn({ pidFile }, 'stopped a nats-server left over from an earlier run');
  const child = spawn(binary, ['-c', NATS_CONF, '-p', String(opts.port), '-sd', opts.storeDir, '-P', pidFile], {
    stdio: ['ignore', 'pipe', 'pipe'],
    detached: opts.ownProcessGroup ?? false,
  });
  const output = tail();
  await new Promise<void>((resolve, reject) => {
    const onData = (chunk: Buffer) => {
      output.add(chunk.toString());
      if (output.text().includes('Server is ready')) {
        child.stderr?.off('data', onData);
        resolve();
      }
    };
    child.stderr?.on('data', onData);
    child.once('exit', (code) => reject(new Error(`nats-server exited with code ${code} before it was ready:\n${output.text()}`)));
    child.once('error', reject);
  });
  child.stderr?.resume();
  child.stdout?.resume();
  return {
    url: localNatsUrl(opts.port),
    process: child,
    exited: exitOf(child),
    stop: async (graceMs = 10_000) => {
      const end = await stopChild(child, 'SIGTERM', graceMs);
      if (end.killed) opts.log?.error({ graceMs }, 'nats-server did not stop in time and was killed');
    },
  };
}
