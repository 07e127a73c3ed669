import { spawn, type ChildProcess } from 'node:child_process';
import { chmod, mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import getPort from 'get-port';
import { afterAll, describe, expect, it } from 'vitest';
import { credentials } from '@grpc/grpc-js';
import { alertingV1, CONSUMERS } from '@oncall/contracts';
import { waitForProjection } from '@oncall/projector';
import { amFiring } from './fixtures.js';

const ROOT = fileURLToPath(new URL('..', import.meta.url));

/** Starts `oncall up` and resolves when it prints that the pipeline is up. */
function startUp(env: NodeJS.ProcessEnv): Promise<ChildProcess> {
  const child = spawn(process.execPath, ['bin/oncall.js', 'up'], {
    cwd: ROOT,
    env: { ...process.env, ...env, LOG_LEVEL: 'warn' },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  return new Promise((resolve, reject) => {
    const onData = (chunk: Buffer) => {
      out += chunk.toString();
      if (out.includes('Pipeline is up.')) resolve(child);
    };
    child.stdout?.on('data', onData);
    child.stderr?.on('data', onData);
    child.once('exit', (code) => reject(new Error(`oncall up exited with ${code}:\n${out}`)));
  });
}

const exited = (child: ChildProcess) => new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));

async function pidAlive(pidFile: string): Promise<boolean> {
  const pid = Number((await readFile(pidFile, 'utf8')).split('\n')[0]);
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

describe('npm start (oncall up) on the embedded default', () => {
  let dataDir: string;
  let child: ChildProcess | undefined;
  afterAll(async () => {
    if (child && child.exitCode === null) {
      child.kill('SIGINT');
      await exited(child);
    }
    if (dataDir) await rm(dataDir, { recursive: true, force: true });
  });

  it('takes an alert, survives kill -9 with every alert kept, and stops cleanly on Ctrl-C', async () => {
    dataDir = await mkdtemp(join(tmpdir(), 'oncall-up-'));
    await chmod(dataDir, 0o755);
    const ports = { NATS_PORT: await getPort(), PG_PORT: await getPort(), INGEST_PORT: await getPort(), GRPC_PORT: await getPort() };
    const env = { ONCALL_DATA_DIR: dataDir, ...Object.fromEntries(Object.entries(ports).map(([k, v]) => [k, String(v)])) };
    child = await startUp(env);

    const res = await fetch(`http://127.0.0.1:${ports.INGEST_PORT}/api/v1/webhook/alertmanager`, {
      method: 'POST',
      headers: { authorization: 'Bearer demo-alertmanager-key-0001', 'content-type': 'application/json' },
      body: amFiring,
    });
    expect(res.status).toBe(202);
    const databaseUrl = `postgres://postgres:postgres@127.0.0.1:${ports.PG_PORT}/oncall`;
    await waitForProjection(databaseUrl, 'oncall', CONSUMERS.projectorAlerts, 1);

    child.kill('SIGKILL');
    await exited(child);
    child = await startUp(env);

    const client = new alertingV1.AlertServiceClient(`127.0.0.1:${ports.GRPC_PORT}`, credentials.createInsecure());
    const alerts: alertingV1.Alert[] = [];
    for await (const a of client.listAlerts(alertingV1.ListAlertsRequest.fromPartial({})) as AsyncIterable<alertingV1.Alert>)
      alerts.push(a);
    client.close();
    expect(alerts.map((a) => [a.serviceId, a.fingerprint, a.status])).toEqual([
      ['demo', '3803e91d9c8292eb', alertingV1.AlertStatus.ALERT_STATUS_TRIGGERED],
    ]);

    child.kill('SIGINT');
    expect(await exited(child)).toBe(0);
    expect(await pidAlive(join(dataDir, 'nats', 'nats-server.pid'))).toBe(false);
    expect(await pidAlive(join(dataDir, 'postgres', 'pgdata', 'postmaster.pid')).catch(() => false)).toBe(false);
  });
});
