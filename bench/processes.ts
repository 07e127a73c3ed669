import { spawn, type ChildProcess } from 'node:child_process';
import { readdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';

export const ROOT = fileURLToPath(new URL('..', import.meta.url));

/**
 * Node flags the services run with (as `npm start` and the README's per-service commands do):
 * young-generation semi-spaces of 32 MB instead of 16, so the garbage of a request or a batch
 * dies young instead of being promoted. Measured on bench:ingest: +12–20% alerts/s accepted,
 * ingest RSS 260 → 200 MB (64 MB: no faster, more memory).
 */
export const NODE_FLAGS = ['--max-semi-space-size=32'];

/**
 * Starts one service entry point as its own Node process (TypeScript through tsx). Without
 * `errors` its log (stdout) is dropped and its stderr inherited; with it, both go to this
 * process's stderr and the service's error and fatal log lines are counted.
 */
export function spawnService(
  entry: string,
  env: Record<string, string>,
  errors?: { count: number },
  onLine?: (line: string) => void,
  opts: Readonly<{ ipc?: boolean }> = {},
): ChildProcess {
  const profile = process.env.BENCH_PROFILE_DIR ? ['--cpu-prof', `--cpu-prof-dir=${process.env.BENCH_PROFILE_DIR}`] : [];
  const stdio: Array<'ignore' | 'pipe' | 'inherit' | 'ipc'> = errors ? ['ignore', 'pipe', 'pipe'] : ['ignore', 'ignore', 'inherit'];
  const child = spawn(process.execPath, [...NODE_FLAGS, ...profile, '--import', 'tsx', entry], {
    cwd: ROOT,
    env: { ...process.env, LOG_LEVEL: 'warn', ...env },
    // With an IPC channel the service says when it is ready, as under `oncall up` (whenReady).
    stdio: opts.ipc ? [...stdio, 'ipc'] : stdio,
  });
  for (const output of errors ? [child.stdout, child.stderr] : []) {
    if (!output) continue;
    createInterface({ input: output }).on('line', (line) => {
      if (/"level":(5|6)0\b/.test(line)) errors!.count += 1;
      if (onLine) onLine(line);
      else process.stderr.write(`${line}\n`);
    });
  }
  return child;
}

/** Resolves when a service spawned with `ipc` says it is ready (shared/src/run.ts); rejects if it exits first. */
export function whenReady(child: ChildProcess, name: string): Promise<void> {
  return new Promise((resolve, reject) => {
    const onMessage = (m: unknown) => {
      if ((m as { type?: unknown } | null)?.type !== 'ready') return;
      child.off('exit', onExit);
      child.off('message', onMessage);
      resolve();
    };
    const onExit = (code: number | null) => {
      child.off('message', onMessage);
      reject(new Error(`${name} exited (${code}) before it was ready`));
    };
    child.on('message', onMessage);
    child.once('exit', onExit);
  });
}

export async function stopProcess(child: ChildProcess | undefined): Promise<void> {
  if (!child || child.exitCode !== null || child.signalCode !== null) return;
  const exited = new Promise((resolve) => child.once('exit', resolve));
  child.kill('SIGTERM');
  await exited;
}

/** Resident set size of a process in MB, from /proc. */
export async function rssMb(pid: number): Promise<number> {
  const status = await readFile(`/proc/${pid}/status`, 'utf8');
  const kb = Number(/VmRSS:\s+(\d+)/.exec(status)?.[1] ?? 0);
  return kb / 1024;
}

/**
 * Memory of a group of processes in MB: a single process's RSS; for several (PostgreSQL's
 * postmaster and backends) the sum of their proportional set sizes, so that the shared buffers
 * every backend maps count once, not once per backend.
 */
export async function memoryMb(pids: readonly number[]): Promise<number> {
  if (pids.length === 1) return rssMb(pids[0]!);
  let kb = 0;
  for (const pid of pids) {
    const rollup = await readFile(`/proc/${pid}/smaps_rollup`, 'utf8').catch(() => '');
    kb += Number(/^Pss:\s+(\d+)/m.exec(rollup)?.[1] ?? 0);
  }
  return kb / 1024;
}

/** The peak memory (memoryMb) of each named group of processes, sampled every 250 ms until `stop()`, in whole MB. */
export function peakMemory(parts: Record<string, () => Promise<readonly number[]>>): { stop: () => Record<string, number> } {
  const peak: Record<string, number> = {};
  const timer = setInterval(() => {
    for (const [name, pids] of Object.entries(parts))
      void pids()
        .then(memoryMb)
        .then(
          (mb) => (peak[name] = Math.max(peak[name] ?? 0, mb)),
          () => undefined,
        );
  }, 250);
  timer.unref(); // a run that fails never calls stop()
  return {
    stop: () => {
      clearInterval(timer);
      return Object.fromEntries(Object.entries(peak).map(([k, v]) => [k, Math.round(v)]));
    },
  };
}

/** CPU time (user + system, all threads, reaped children included) a process has used so far, in ms, from /proc. */
export async function cpuMs(pid: number): Promise<number> {
  return (await cpuSeconds([pid])) * 1000;
}

/** The machine's CPU time so far (all cores, in ticks): idle (idle + iowait) and total, from /proc/stat. */
export async function machineCpu(): Promise<{ idle: number; total: number }> {
  const line = (await readFile('/proc/stat', 'utf8')).split('\n')[0]!;
  const ticks = line.trim().split(/\s+/).slice(1).map(Number);
  return { idle: ticks[3]! + ticks[4]!, total: ticks.reduce((a, b) => a + b, 0) };
}

/** CPU seconds (user + system, reaped children included) of processes, from /proc. */
export async function cpuSeconds(pids: readonly number[]): Promise<number> {
  let ticks = 0;
  for (const pid of pids) {
    const stat = await readFile(`/proc/${pid}/stat`, 'utf8').catch(() => '');
    const f = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    ticks += Number(f[11] ?? 0) + Number(f[12] ?? 0) + Number(f[13] ?? 0) + Number(f[14] ?? 0);
  }
  return ticks / CLOCK_TICKS_PER_SECOND;
}

/** The PostgreSQL server's processes: the postmaster and its children (backends, WAL writer, autovacuum, …). */
export async function postgresPids(dataDir: string): Promise<number[]> {
  const postmaster = Number((await readFile(join(dataDir, 'pgdata', 'postmaster.pid'), 'utf8')).split('\n')[0]);
  const pids = [postmaster];
  for (const entry of await readdir('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    const stat = await readFile(`/proc/${entry}/stat`, 'utf8').catch(() => '');
    if (Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]) === postmaster) pids.push(Number(entry));
  }
  return pids;
}

/**
 * CPU used by each process of the benchmark between `start()` and `stop()`, in µs per event:
 * on a shared machine wall-clock rates move with other people's load, CPU per event much less.
 */
export async function cpuMeter(
  parts: Record<string, () => Promise<number[]>>,
): Promise<{ stop: (events: number) => Promise<Record<string, number>> }> {
  const read = async () =>
    Object.fromEntries(await Promise.all(Object.entries(parts).map(async ([k, pids]) => [k, await cpuSeconds(await pids())] as const)));
  const before = await read();
  return {
    stop: async (events) => {
      // Backends that ended meanwhile are counted by the postmaster's reaped-children time.
      const after = await read();
      return Object.fromEntries(Object.keys(parts).map((k) => [k, Math.round(((after[k]! - before[k]!) * 1e6) / events)]));
    },
  };
}

/** USER_HZ: 100 on every Linux build Node supports (`getconf CLK_TCK`). */
const CLOCK_TICKS_PER_SECOND = 100;

/** A progress line on stderr (stdout carries only a benchmark's result line), with the time of day. */
export const say = (msg: string): void => void process.stderr.write(`${new Date().toISOString().slice(11, 19)} ${msg}\n`);

/** Polls `check` until it is true (benchmarks may poll; tests await events instead). */
export async function until(check: () => Promise<boolean>, timeoutMs: number, what: string): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}
