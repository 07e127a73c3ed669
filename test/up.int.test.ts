import { chmod, mkdtemp, readdir, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { afterAll, describe, expect, it } from 'vitest';
import { credentials } from '@grpc/grpc-js';
import { CONSUMERS } from '@oncall/contracts';
import { alertingV1 } from '@oncall/contracts/grpc';
import { bearerToken } from '@oncall/shared';
import { waitForProjection } from '@oncall/projector';
import { amAlert, amFiring, amPayload } from './fixtures.js';
import { freePorts, spawnUp, startUp, type Up } from './up-process.js';

/** The process and its descendants, from /proc. */
async function processTree(root: number): Promise<number[]> {
  const parents = new Map<number, number>();
  for (const entry of await readdir('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    const stat = await readFile(`/proc/${entry}/stat`, 'utf8').catch(() => '');
    const ppid = Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]);
    if (ppid) parents.set(Number(entry), ppid);
  }
  const tree = [root];
  for (let i = 0; i < tree.length; i++) for (const [pid, ppid] of parents) if (ppid === tree[i]) tree.push(pid);
  return tree;
}

/** A live process (a zombie waiting for its parent counts as gone). */
async function alive(pid: number): Promise<boolean> {
  const stat = await readFile(`/proc/${pid}/stat`, 'utf8').catch(() => '');
  return stat !== '' && stat[stat.lastIndexOf(')') + 2] !== 'Z';
}

/** A process's CPU niceness (field 19 of /proc/<pid>/stat). */
async function niceness(pid: number): Promise<number> {
  const stat = await readFile(`/proc/${pid}/stat`, 'utf8');
  return Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[16]);
}

const living = async (pids: number[]) => (await Promise.all(pids.map(async (p) => ((await alive(p)) ? [p] : [])))).flat();

/** Processes that are not our children cannot be awaited by event: poll /proc until they are gone. */
async function untilGone(pids: number[], timeoutMs: number): Promise<number[]> {
  const deadline = Date.now() + timeoutMs;
  let left = await living(pids);
  while (left.length > 0 && Date.now() < deadline) {
    await sleep(50);
    left = await living(left);
  }
  return left;
}

async function pidFromFile(file: string): Promise<number | undefined> {
  const text = await readFile(file, 'utf8').catch(() => undefined);
  return text === undefined ? undefined : Number(text.split('\n')[0]);
}

/** Lists alerts with the admin token `oncall up` printed on a line of its own. */
async function listAlerts(grpcPort: number, up: Up): Promise<alertingV1.Alert[]> {
  const [, token] = await up.until(/^ONCALL_API_TOKEN=(oc_\S+)$/m);
  const client = new alertingV1.AlertServiceClient(`127.0.0.1:${grpcPort}`, credentials.createInsecure(), bearerToken(token));
  const alerts: alertingV1.Alert[] = [];
  for await (const a of client.listAlerts(alertingV1.ListAlertsRequest.fromPartial({})) as AsyncIterable<alertingV1.Alert>) alerts.push(a);
  client.close();
  return alerts;
}

describe('npm start (oncall up) on the embedded default', () => {
  const folders: string[] = [];
  const running = new Set<Up>();
  const start = async (env: NodeJS.ProcessEnv) => {
    const up = await startUp(env);
    running.add(up);
    void up.exited.then(() => running.delete(up));
    return up;
  };
  afterAll(async () => {
    for (const up of running) {
      process.kill(up.pid, 'SIGTERM');
      await up.exited;
    }
    for (const folder of folders) await rm(folder, { recursive: true, force: true });
  });

  it('runs every service as its own process, restarts a service, nats-server and PostgreSQL killed with -9, survives kill -9 of itself, and stops on Ctrl-C and SIGTERM within 10 s leaving nothing behind', async () => {
    const dataDir = await mkdtemp(join(tmpdir(), 'oncall-up-'));
    folders.push(dataDir);
    await chmod(dataDir, 0o755);
    const ports = await freePorts();
    const env = { ONCALL_DATA_DIR: dataDir, ONCALL_POSTGRES_NICE: '5', ...ports };
    const databaseUrl = `postgres://postgres:postgres@127.0.0.1:${ports.PG_PORT}/oncall`;
    const post = (body: string) =>
      fetch(`http://127.0.0.1:${ports.INGEST_PORT}/api/v1/webhook/alertmanager`, {
        method: 'POST',
        headers: { authorization: 'Bearer demo-alertmanager-key-0001', 'content-type': 'application/json' },
        body,
      });

    const first = await start(env);
    const services = ['ingest', 'decider', 'projector', 'escalator', 'dispatcher', 'query-api', 'ticket-bridge'];
    expect([...first.parts.keys()]).toEqual(['oncall up', 'nats-server', 'postgres', ...services]);
    expect(new Set(first.parts.values()).size).toBe(first.parts.size);
    // ONCALL_POSTGRES_NICE: the read model's database gives way to the decision path; the services do not.
    expect(await niceness(first.parts.get('postgres')!)).toBe(5);
    expect(await niceness(first.parts.get('decider')!)).toBe(0);
    expect((await post(amFiring)).status).toBe(202);
    await waitForProjection(databaseUrl, 'oncall', CONSUMERS.projectorAlerts, 1);
    // No provider configured: the page is printed on the console with its action link, which opens the alert.
    const [, link] = await first.until(/│ act: +(http:\/\/127\.0\.0\.1:\d+\/a\/\S+)/);
    expect((await fetch(link!)).status).toBe(200);
    // The NOC console is served by query-api at the printed URL (its API asks for a sign-in).
    const [, consoleUrl] = await first.until(/console: +(http:\/\/127\.0\.0\.1:\d+)\//);
    expect(consoleUrl).toBe(`http://127.0.0.1:${ports.CONSOLE_PORT}`);
    expect((await fetch(`${consoleUrl}/api/board`)).status).toBe(401);

    // kill -9 of one service: restarted, counted, and the pipeline serves again.
    process.kill(first.parts.get('decider')!, 'SIGKILL');
    await first.until(/decider is running again/);
    expect((await post(amPayload([amAlert('DiskFull')]))).status).toBe(202);
    await waitForProjection(databaseUrl, 'oncall', CONSUMERS.projectorAlerts, 2);
    const metrics = await (await fetch(`http://127.0.0.1:${ports.UP_METRICS_PORT}/metrics`)).text();
    expect(metrics).toContain('oncall_up_restarts_total{service="decider"} 1');
    expect(first.output()).toMatch(/decider exited with signal SIGKILL; restarting it in \d\.\d s/);

    // kill -9 of nats-server and of the PostgreSQL postmaster: started again on the same data; the services reconnect.
    process.kill(first.parts.get('nats-server')!, 'SIGKILL');
    await first.until(/nats-server is running again/);
    process.kill(first.parts.get('postgres')!, 'SIGKILL');
    await first.until(/PostgreSQL is running again/);
    expect((await post(amPayload([amAlert('AfterInfraRestart')]))).status).toBe(202);
    await waitForProjection(databaseUrl, 'oncall', CONSUMERS.projectorAlerts, 3);

    // kill -9 of oncall up: its services stop by themselves; nats-server and PostgreSQL are stopped at the next start.
    const natsPid = await pidFromFile(join(dataDir, 'nats', 'nats-server.pid'));
    const postgresPid = await pidFromFile(join(dataDir, 'postgres', 'pgdata', 'postmaster.pid'));
    const infra = [...(await processTree(natsPid!)), ...(await processTree(postgresPid!))];
    const own = (await processTree(first.pid)).filter((p) => p !== first.pid && !infra.includes(p));
    process.kill(first.pid, 'SIGKILL');
    await first.exited;
    expect(await untilGone(own, 10_000)).toEqual([]);

    const second = await start(env);
    expect(await living(infra)).toEqual([]);
    const alerts = await listAlerts(Number(ports.GRPC_PORT), second);
    expect(alerts).toHaveLength(3);
    expect(alerts.map((a) => [a.serviceId, a.fingerprint, a.status])).toContainEqual([
      'demo',
      '3803e91d9c8292eb',
      alertingV1.AlertStatus.ALERT_STATUS_TRIGGERED,
    ]);

    // Ctrl-C in a terminal: SIGINT to the whole process group of `npm start`.
    const stops = [
      { name: 'Ctrl-C', send: (up: Up) => process.kill(-up.pid, 'SIGINT') },
      { name: 'SIGTERM to oncall up alone', send: (up: Up) => process.kill(up.pid, 'SIGTERM') },
    ];
    let up = second;
    for (const stop of stops) {
      const tree = await processTree(up.pid);
      expect(tree.length, stop.name).toBeGreaterThan(10);
      const t0 = Date.now();
      stop.send(up);
      const exit = await up.exited;
      expect({ stop: stop.name, ...exit, inTime: Date.now() - t0 < 10_000 }).toEqual({
        stop: stop.name,
        code: 0,
        signal: null,
        inTime: true,
      });
      expect(await living(tree), stop.name).toEqual([]);
      expect(up.output(), stop.name).not.toMatch(/stop failed|did not stop|was killed/);

      up = await start(env);
      expect(up.output()).not.toContain('left over');
      expect((await listAlerts(Number(ports.GRPC_PORT), up)).map((a) => a.id).sort()).toEqual(alerts.map((a) => a.id).sort());
    }
  }, 300_000);

  it('says in one line why PostgreSQL cannot run under a folder others cannot enter, before starting anything', async () => {
    const closed = await mkdtemp(join(tmpdir(), 'oncall-closed-'));
    folders.push(closed);
    const up = spawnUp({ ONCALL_DATA_DIR: join(closed, 'data'), ...(await freePorts()) });
    expect((await up.exited).code).toBe(1);
    expect(up.output()).toBe(
      `oncall: the embedded PostgreSQL runs as the postgres user, which cannot enter ${closed} (mode 0700) above its data folder (${closed}/data/postgres): ` +
        `run \`chmod o+x ${closed}\`, or set ONCALL_DATA_DIR to a data folder others can enter, or set DATABASE_URL to a PostgreSQL of your own\n`,
    );
    expect(await readdir(closed)).toEqual([]);
  });

  it('stops nats-server when PostgreSQL fails to start', async () => {
    const dataDir = await mkdtemp(join(tmpdir(), 'oncall-up-'));
    folders.push(dataDir);
    await chmod(dataDir, 0o755);
    const up = spawnUp({ ONCALL_DATA_DIR: dataDir, ONCALL_PG_SETTINGS: 'shared_buffers=lots', ...(await freePorts()) });
    expect((await up.exited).code).toBe(1);
    expect(up.output()).toContain('invalid value for parameter "shared_buffers": "lots"');
    const nats = await pidFromFile(join(dataDir, 'nats', 'nats-server.pid'));
    expect(nats === undefined || !(await alive(nats))).toBe(true);
  });
});
