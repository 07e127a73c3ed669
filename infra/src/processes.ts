import { readFile } from 'node:fs/promises';
import { setTimeout as sleep } from 'node:timers/promises';

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
