import type { ChildProcess } from 'node:child_process';
import { readFile } from 'node:fs/promises';
import { setTimeout as sleep } from 'node:timers/promises';

/** How a child process ended: an exit code, or the signal that killed it. */
export type Exit = { code: number | null; signal: NodeJS.Signals | null };

export const describeExit = (e: Exit): string => (e.signal ? `signal ${e.signal}` : `exit code ${e.code}`);

/** Resolves when the child has exited; at once if it already has. */
export function exitOf(child: ChildProcess): Promise<Exit> {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve({ code: child.exitCode, signal: child.signalCode });
  return new Promise((resolve) => child.once('exit', (code, signal) => resolve({ code, signal })));
}

/**
 * Asks a child to stop with `signal` and waits up to `graceMs` for it to exit; then kills it
 * (SIGKILL) and waits for that. Returns how it ended and whether it had to be killed.
 */
export async function stopChild(child: ChildProcess, signal: NodeJS.Signals, graceMs: number): Promise<Exit & { killed: boolean }> {
  const exited = exitOf(child);
  child.kill(signal);
  let timer: NodeJS.Timeout | undefined;
  const deadline = new Promise<'deadline'>((resolve) => (timer = setTimeout(() => resolve('deadline'), graceMs)));
  const first = await Promise.race([exited, deadline]);
  clearTimeout(timer);
  if (first !== 'deadline') return { ...first, killed: false };
  child.kill('SIGKILL');
  return { ...(await exited), killed: true };
}

/** The last `max` characters written to a stream (a child's stderr), for error messages. */
export function tail(max = 4000): { add: (text: string) => void; text: () => string } {
  let buffer = '';
  return {
    add: (text) => {
      buffer = (buffer + text).slice(-max);
    },
    text: () => buffer,
  };
}

/** True when `pid` is a live process whose command line contains `name`. */
export async function isRunning(pid: number, name: string): Promise<boolean> {
  try {
    const cmdline = await readFile(`/proc/${pid}/cmdline`, 'utf8');
    return cmdline.includes(name);
  } catch {
    return false;
  }
}

/**
 * Stops a process left behind by an earlier run that was killed (kill -9 leaves its children
 * running, holding ports and data folders): SIGTERM, then SIGKILL after `graceMs`.
 */
export async function stopLeftover(pidFile: string, name: string, signal: NodeJS.Signals = 'SIGTERM', graceMs = 10_000): Promise<boolean> {
  let pid: number;
  try {
    pid = Number((await readFile(pidFile, 'utf8')).split('\n')[0]);
  } catch {
    return false;
  }
  if (!Number.isInteger(pid) || pid <= 0 || !(await isRunning(pid, name))) return false;
  process.kill(pid, signal);
  const deadline = Date.now() + graceMs;
  // An unrelated process cannot be awaited by event; poll its /proc entry.
  while (await isRunning(pid, name)) {
    if (Date.now() > deadline) process.kill(pid, 'SIGKILL');
    await sleep(50);
  }
  return true;
}
