import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Metadata, status, type ServiceError } from '@grpc/grpc-js';
import { STREAMS, type alertingV1 } from '@oncall/contracts';
import { parseCommandArgs, runAlertCommand, type CliCommand } from '../infra/src/alert-commands.js';
import { alertHistory } from '../infra/src/history.js';
import { amAlert, amPayload } from './fixtures.js';
import { streamLastSeq } from './harness.js';
import { startTestPipeline, type TestPipeline } from './pipeline.js';

const ROOT = fileURLToPath(new URL('..', import.meta.url));

describe('oncall ack|resolve|escalate|snooze through query-api against the in-process pipeline', () => {
  let p: TestPipeline;
  beforeAll(async () => {
    p = await startTestPipeline();
  });
  afterAll(async () => {
    await p?.stop();
  });

  async function openAlert(name: string): Promise<alertingV1.Alert> {
    const before = await streamLastSeq(p.admin, STREAMS.alerts);
    expect((await p.postAlertmanager(amPayload([amAlert(name)]))).status).toBe(202);
    await p.alertsApplied(before + 1);
    const [alert] = await p.listAlerts({ labelSelector: { alertname: name } });
    return alert!;
  }
  const run = (command: CliCommand, argv: string[], user = 'alice') =>
    runAlertCommand(parseCommandArgs(command, [...argv, '--grpc', p.grpcAddress], { ONCALL_USER: user }));

  it('acts as the named user, recorded as via cli, and says what happened', async () => {
    const a = await openAlert('CliAck');
    const acked = await run('ack', [a.id, '--note', 'looking']);
    expect(acked).toEqual({ code: 0, out: `acknowledged by alice: ${a.id} "CliAck is down"\n`, err: '' });
    const again = await run('ack', [a.id]);
    expect(again.code).toBe(0);
    expect(again.out).toBe(`already acknowledged by alice; nothing changed: ${a.id} "CliAck is down"\n`);
    const snoozed = await run('snooze', [a.id, '--for', '30m'], 'bob');
    expect(snoozed.out).toMatch(/^snoozed until \d{4}-\d\d-\d\dT[\d:.]+Z by bob: /);
    expect((await run('escalate', [a.id])).out).toMatch(/^escalated by alice: /);
    expect((await run('resolve', [a.id])).out).toBe(`resolved by alice: ${a.id} "CliAck is down"\n`);

    const events = await alertHistory(p.admin, a.id);
    const ack = events.find((e) => e.type === 'AlertAcknowledged');
    expect(ack?.data).toMatchObject({ userId: 'alice', note: 'looking', via: 'cli' });
    expect(events.find((e) => e.type === 'AlertResolved')?.data).toMatchObject({ userId: 'alice', via: 'cli' });
  });

  it('a resolved alert: exit 1 and why; an unknown alert: exit 1; a malformed id: exit 2', async () => {
    const a = await openAlert('CliClosed');
    expect((await run('resolve', [a.id])).code).toBe(0);
    const late = await run('ack', [a.id]);
    expect(late).toEqual({ code: 1, out: '', err: `oncall: alert ${a.id} is resolved; nothing done\n` });
    const unknown = await run('ack', ['6f1d8a3e-0000-4000-8000-000000000000']);
    expect(unknown).toEqual({ code: 1, out: '', err: 'oncall: no alert 6f1d8a3e-0000-4000-8000-000000000000\n' });
    const bad = await run('ack', ['not-an-id']);
    expect(bad.code).toBe(2);
    expect(bad.err).toMatch(/^oncall: id: /);
  });

  it('query-api unreachable: exit 1 naming the address', async () => {
    const r = await runAlertCommand(
      parseCommandArgs('ack', ['6f1d8a3e-0000-4000-8000-000000000000', '--grpc', '127.0.0.1:1'], { ONCALL_USER: 'a' }),
      3000,
    );
    expect(r.code).toBe(1);
    expect(r.err).toMatch(/^oncall: (query-api at 127\.0\.0\.1:1 is unavailable|.*[Dd]eadline)/);
  });

  it('query-api refuses an unknown x-oncall-via and appends nothing', async () => {
    const a = await openAlert('CliVia');
    const before = await streamLastSeq(p.admin, STREAMS.intake);
    const md = new Metadata();
    md.set('x-oncall-via', 'carrier-pigeon');
    const err = await new Promise<ServiceError | null>((resolve) =>
      p.client.acknowledgeAlert({ alertId: a.id, userId: 'alice', note: '', requestId: '' }, md, (e) => resolve(e)),
    );
    expect(err?.code).toBe(status.INVALID_ARGUMENT);
    expect(err?.details).toMatch(/^x-oncall-via: must be one of api, cli, /);
    expect(await streamLastSeq(p.admin, STREAMS.intake)).toBe(before);
  });

  it('the oncall binary: exit codes and output', async () => {
    const a = await openAlert('CliBinary');
    const oncall = (args: string[], env: NodeJS.ProcessEnv) => {
      const child = spawn(process.execPath, ['bin/oncall.js', ...args], {
        cwd: ROOT,
        env: { ...process.env, LOG_LEVEL: 'silent', ...env },
        stdio: ['ignore', 'pipe', 'pipe'],
      });
      let stdout = '';
      let stderr = '';
      child.stdout.on('data', (c: Buffer) => (stdout += c.toString()));
      child.stderr.on('data', (c: Buffer) => (stderr += c.toString()));
      return new Promise<{ code: number | null; stdout: string; stderr: string }>((resolve) =>
        child.once('exit', (code) => resolve({ code, stdout, stderr })),
      );
    };
    const [ok, usage] = await Promise.all([
      oncall(['ack', a.id, '--grpc', p.grpcAddress], { ONCALL_USER: 'carol' }),
      oncall(['ack', a.id, '--grpc', p.grpcAddress], { ONCALL_USER: '' }),
    ]);
    expect(ok).toMatchObject({ code: 0, stdout: `acknowledged by carol: ${a.id} "CliBinary is down"\n` });
    expect(usage.code).toBe(2);
    expect(usage.stderr).toContain('--user <id> or ONCALL_USER');
  });
});
