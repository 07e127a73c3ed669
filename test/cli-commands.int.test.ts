import { spawn } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import getPort from 'get-port';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { Metadata, status, type ServiceError } from '@grpc/grpc-js';
import { STREAMS } from '@oncall/contracts';
import { alertingV1 } from '@oncall/contracts/grpc';
import { ensureDatabase } from '@oncall/infra';
import { createApiToken, userDirectory, type UserDirectory } from '@oncall/shared';
import { parseCommandArgs, runAlertCommand, type CliCommand } from '../infra/src/alert-commands.js';
import { alertHistory } from '../infra/src/history.js';
import { startUsersService, type RunningUsersService } from '../infra/src/users-service.js';
import { amAlert, amPayload } from './fixtures.js';
import { streamLastSeq, testLog } from './harness.js';
import { startTestPipeline, type TestPipeline } from './pipeline.js';

const { AlertStatus } = alertingV1;
const ROOT = fileURLToPath(new URL('..', import.meta.url));
const EXAMPLE_USERS = fileURLToPath(new URL('../examples/users.yaml', import.meta.url));

type Run = { code: number | null; stdout: string; stderr: string };

/** The test pipeline's admin token: the CLI sends ONCALL_API_TOKEN (set in beforeAll, for the in-process calls too). */
let apiToken = '';

/** The real `oncall` binary in its own process, with `env` over this one's (and quiet logs). */
function oncall(args: string[], env: NodeJS.ProcessEnv = {}): Promise<Run> {
  const child = spawn(process.execPath, ['bin/oncall.js', ...args], {
    cwd: ROOT,
    env: { ...process.env, LOG_LEVEL: 'silent', ONCALL_API_TOKEN: apiToken, ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (c: Buffer) => (stdout += c.toString()));
  child.stderr.on('data', (c: Buffer) => (stderr += c.toString()));
  return new Promise((resolve) => child.once('close', (code) => resolve({ code, stdout, stderr })));
}

describe('oncall ack|resolve|escalate|snooze through query-api against the in-process pipeline', () => {
  let p: TestPipeline;
  let users: RunningUsersService;
  let directory: UserDirectory;
  beforeAll(async () => {
    users = await startUsersService({ file: EXAMPLE_USERS, port: 0, log: testLog });
    directory = userDirectory(`127.0.0.1:${users.port}`);
    p = await startTestPipeline({ users: directory });
    apiToken = p.token;
    process.env.ONCALL_API_TOKEN = p.token;
  });
  let usersClosed = false;
  afterAll(async () => {
    await p?.stop();
    directory?.close();
    if (!usersClosed) await users?.close();
  });

  async function openAlert(name: string, opts: Parameters<typeof amAlert>[1] = {}): Promise<alertingV1.Alert> {
    const before = await streamLastSeq(p.admin, STREAMS.alerts);
    expect((await p.postAlertmanager(amPayload([amAlert(name, opts)]))).status).toBe(202);
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
    expect(r.err).toMatch(/^oncall: cannot reach query-api at 127\.0\.0\.1:1 \(--grpc\): connect ECONNREFUSED 127\.0\.0\.1:1; use --grpc/);
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
    const [ok, usage] = await Promise.all([
      oncall(['ack', a.id, '--grpc', p.grpcAddress], { ONCALL_USER: 'carol' }),
      oncall(['ack', a.id, '--grpc', p.grpcAddress], { ONCALL_USER: '' }),
    ]);
    expect(ok).toMatchObject({ code: 0, stdout: `acknowledged by carol: ${a.id} "CliBinary is down"\n` });
    expect(usage.code).toBe(2);
    expect(usage.stderr).toContain('--user or ONCALL_USER is empty');
  });

  it("without --user the token's user acts; a token bound to nobody must name one", async () => {
    const a = await openAlert('CliTokenUser');
    const { token } = await createApiToken(p.admin, { name: 'dave', scopes: ['read', 'respond'], userId: 'dave', expiresAt: null });
    const noUser = { ONCALL_API_TOKEN: token };
    const mine = await oncall(['ack', a.id, '--grpc', p.grpcAddress], noUser);
    expect(mine).toMatchObject({ code: 0, stdout: `acknowledged by dave: ${a.id} "CliTokenUser is down"\n` });
    const other = await oncall(['resolve', a.id, '--grpc', p.grpcAddress, '--user', 'carol'], noUser);
    expect(other.code).toBe(1);
    expect(other.stderr).toContain(`acts as "dave" only`);
    const unbound = await oncall(['resolve', a.id, '--grpc', p.grpcAddress]);
    expect(unbound.code).toBe(2);
    expect(unbound.stderr).toContain('user_id');
  });

  const grpcPort = () => ({ GRPC_PORT: p.grpcAddress.split(':')[1]!, ONCALL_GRPC: '' });

  it('oncall alerts: a table by default, JSON lines with --json, filtered by label, service and status; GRPC_PORT is where it dials', async () => {
    const ams = await openAlert('CliSiteA', { labels: { alertname: 'CliSiteA', severity: 'critical', site: 'ams2' } });
    await openAlert('CliSiteB', { labels: { alertname: 'CliSiteB', severity: 'warning', site: 'fra1' } });
    const env = grpcPort();
    const [table, json, resolved, payroll, badStatus, badLabel] = await Promise.all([
      oncall(['alerts', '--label', 'site=ams2'], env),
      oncall(['alerts', '--json', '--label', 'site=ams2', '--label', 'alertname=CliSiteA', '--status', 'triggered,acknowledged'], env),
      oncall(['alerts', '--label', 'site=ams2', '--status', 'resolved'], env),
      oncall(['alerts', '--label', 'site=ams2', '--service', 'payroll'], env),
      oncall(['alerts', '--status', 'open'], env),
      oncall(['alerts', '--label', 'site'], env),
    ]);
    expect(table.stderr).toBe('');
    const lines = table.stdout.trimEnd().split('\n');
    expect(lines).toHaveLength(2);
    expect(lines[0]).toMatch(/^ID {8}STATUS {5}SEVERITY {2}SERVICE {3}AGE +SITE {2}SUMMARY$/);
    expect(lines[1]).toMatch(new RegExp(`^${ams.id.slice(0, 8)}  triggered  critical  checkout  \\d+[smhd] +ams2  CliSiteA is down$`));
    expect(json.code).toBe(0);
    const rows = json.stdout
      .trimEnd()
      .split('\n')
      .map((l) => JSON.parse(l) as { id: string; labels: Record<string, string>; status: string });
    expect(rows.map((r) => [r.id, r.labels.site, r.status])).toEqual([[ams.id, 'ams2', 'ALERT_STATUS_TRIGGERED']]);
    expect(resolved).toMatchObject({ code: 0, stdout: 'no alerts\n' });
    expect(payroll).toMatchObject({ code: 0, stdout: 'no alerts\n' });
    expect(badStatus).toMatchObject({ code: 2, stdout: '' });
    expect(badStatus.stderr).toBe('oncall: alerts --status: "open" is not one of triggered, acknowledged, snoozed, resolved\n');
    expect(badLabel).toMatchObject({ code: 2, stderr: 'oncall: alerts --label: "site" is not key=value, e.g. --label site=ams2\n' });
  }, 90_000);

  it('oncall history: the timeline of a real alert (readable and --json); an unknown id exits 1, a malformed one 2', async () => {
    const a = await openAlert('CliHistory');
    expect((await run('ack', [a.id, '--note', 'mine'])).code).toBe(0);
    const unknownId = '6f1d8a3e-0000-4000-8000-00000000abcd';
    const env = grpcPort();
    const [text, json, unknown, malformed] = await Promise.all([
      oncall(['history', a.id], env),
      oncall(['history', a.id, '--json'], env),
      oncall(['history', unknownId], env),
      oncall(['history', 'not-an-id'], env),
    ]);
    expect(text.stderr).toBe('');
    expect(text.code).toBe(0);
    const [head, state, escalation, blank, ...entries] = text.stdout.trimEnd().split('\n');
    expect([head, state, escalation, blank]).toEqual([
      `alert ${a.id} "CliHistory is down"`,
      expect.stringMatching(/^ {2}acknowledged, critical, service checkout, created \d{4}-\d\d-\d\d \d\d:\d\d:\d\dZ$/),
      '  escalation: not routed yet',
      '',
    ]);
    expect(entries).toEqual([
      expect.stringMatching(/^\d{4}-\d\d-\d\d \d\d:\d\d:\d\dZ {2}alert {2}AlertTriggered {5}\S/),
      expect.stringMatching(
        /^\d{4}-\d\d-\d\d \d\d:\d\d:\d\dZ {2}alert {2}AlertAcknowledged {2}by user:alice {2}acknowledged via cli: mine$/,
      ),
    ]);
    const doc = JSON.parse(json.stdout) as {
      alert: { id: string };
      escalation: { alertId: string };
      timeline: Array<{ eventType: string }>;
    };
    expect(doc.alert.id).toBe(a.id);
    expect(doc.escalation.alertId).toBe(a.id);
    expect(doc.timeline.map((t) => t.eventType)).toEqual(['AlertTriggered', 'AlertAcknowledged']);
    expect(unknown).toEqual({ code: 1, stdout: '', stderr: `oncall: alert ${unknownId} not found\n` });
    expect(malformed.code).toBe(2);
    expect(malformed.stderr).toBe('oncall: history: "not-an-id" is not an alert id (a UUID, as oncall alerts --json shows)\n');
  }, 90_000);

  it('--help and -h on every command and subcommand print its usage and exit 0; an unknown command or flag exits 2', async () => {
    const asks: Array<[string[], string]> = [
      [['--help'], 'usage: oncall <command>'],
      [['up', '--help'], 'usage: oncall up'],
      [['apply', '-h'], 'usage: oncall apply -f'],
      [['replay', '--help'], 'usage: oncall replay'],
      [['alerts', '--help'], 'usage: oncall alerts'],
      [['ack', '--help'], 'usage: oncall ack|resolve|escalate|snooze'],
      [['resolve', 'x', '-h'], 'usage: oncall ack|resolve|escalate|snooze'],
      [['escalate', '--help'], 'usage: oncall ack|resolve|escalate|snooze'],
      [['snooze', '--help'], 'usage: oncall ack|resolve|escalate|snooze'],
      [['history', '--help'], 'usage: oncall history <alert-id>'],
      [['parked', '--help'], 'usage: oncall parked'],
      [['parked', 'retry', '--help'], 'usage: oncall parked retry'],
      [['contact', '--help'], 'usage: oncall contact'],
      [['contact', 'verify', '--help'], 'usage: oncall contact verify'],
      [['contact', 'confirm', '-h'], 'usage: oncall contact confirm'],
      [['migrate', '--help'], 'usage: oncall migrate'],
    ];
    const answers = await Promise.all(asks.map(([args]) => oncall(args)));
    answers.forEach((r, i) => {
      expect({ args: asks[i]![0], code: r.code, stderr: r.stderr, head: r.stdout.split('\n')[0]!.slice(0, asks[i]![1].length) }).toEqual({
        args: asks[i]![0],
        code: 0,
        stderr: '',
        head: asks[i]![1],
      });
    });
    const [command, flag] = await Promise.all([oncall(['acknowledge', 'x']), oncall(['migrate', '--schema', 'x'])]);
    expect(command).toEqual({ code: 2, stdout: '', stderr: 'oncall: unknown command "acknowledge"; oncall --help lists them\n' });
    expect(flag).toEqual({ code: 2, stdout: '', stderr: "oncall: migrate: Unknown option '--schema'; oncall migrate --help\n" });
  }, 90_000);

  it('NATS_PORT and PG_PORT are honoured as oncall up reads them; a server it cannot reach is named with the setting', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'oncall-cli-'));
    const file = join(dir, 'oncall.yaml');
    await writeFile(file, 'services:\n  - id: cli-env\n    name: CLI env\n');
    const adminUrl = inject('pgAdminUrl');
    await ensureDatabase(adminUrl, 'oncall');
    const schema = `cli_${randomUUID().replace(/-/g, '').slice(0, 12)}`;
    const closed = await getPort();
    const natsPort = new URL(p.nats.url).port;
    const pgPort = new URL(adminUrl).port;
    try {
      const [applied, migrated, natsDown, pgDown] = await Promise.all([
        oncall(['apply', '-f', file], { NATS_PORT: natsPort, NATS_URL: '' }),
        oncall(['migrate'], { PG_PORT: pgPort, DATABASE_URL: '', READ_MODEL_SCHEMA: schema }),
        oncall(['apply', '-f', file], { NATS_PORT: String(closed), NATS_URL: '' }),
        oncall(['migrate'], { PG_PORT: String(closed), DATABASE_URL: '' }),
      ]);
      expect(applied.code).toBe(0);
      expect(applied.stdout).toContain('cli-env');
      expect(migrated).toMatchObject({ code: 0, stderr: '' });
      const db = new pg.Client({ connectionString: adminUrl.replace(/\/postgres$/, '/oncall') });
      await db.connect();
      try {
        const { rowCount } = await db.query('SELECT 1 FROM information_schema.schemata WHERE schema_name = $1', [schema]);
        expect(rowCount).toBe(1);
        await db.query(`DROP SCHEMA "${schema}" CASCADE`);
      } finally {
        await db.end();
      }
      expect(natsDown.code).toBe(1);
      expect(natsDown.stderr).toContain(
        `oncall: cannot reach NATS at nats://127.0.0.1:${closed} (NATS_PORT=${closed}): connect ECONNREFUSED 127.0.0.1:${closed}; set NATS_URL, or NATS_PORT`,
      );
      expect(pgDown.code).toBe(1);
      expect(pgDown.stderr).toBe(
        `oncall: cannot reach PostgreSQL at postgres://postgres:***@127.0.0.1:${closed}/oncall (PG_PORT=${closed}): connect ECONNREFUSED 127.0.0.1:${closed}; set DATABASE_URL, or PG_PORT for the PostgreSQL oncall up starts\n`,
      );
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  }, 90_000);

  it('an alert command in the name of a user the UserService does not know: INVALID_ARGUMENT on user_id, nothing appended', async () => {
    const a = await openAlert('CliNobody');
    const before = await streamLastSeq(p.admin, STREAMS.intake);
    const cli = await oncall(['ack', a.id, '--user', 'nobody'], grpcPort());
    expect(cli).toEqual({ code: 2, stdout: '', stderr: 'oncall: user_id: user nobody does not exist\n' });
    const base = { alertId: a.id, userId: 'mallory', note: '', requestId: '' };
    const errors = await Promise.all([
      new Promise<ServiceError | null>((resolve) => p.client.acknowledgeAlert(base, (e) => resolve(e))),
      new Promise<ServiceError | null>((resolve) => p.client.resolveAlert(base, (e) => resolve(e))),
      new Promise<ServiceError | null>((resolve) => p.client.escalateAlert(base, (e) => resolve(e))),
      new Promise<ServiceError | null>((resolve) =>
        p.client.snoozeAlert({ ...base, duration: { seconds: 600, nanos: 0 } }, (e) => resolve(e)),
      ),
    ]);
    for (const err of errors) {
      expect(err?.code).toBe(status.INVALID_ARGUMENT);
      expect(err?.details).toBe('user_id: user mallory does not exist');
      expect(err?.metadata.get('invalid-field')).toEqual(['user_id']);
    }
    expect(await streamLastSeq(p.admin, STREAMS.intake)).toBe(before);
    expect((await p.getAlert(a.id)).status).toBe(AlertStatus.ALERT_STATUS_TRIGGERED);
  });

  it('the UserService unreachable: UNAVAILABLE saying so, nothing appended (last: it stops the UserService)', async () => {
    // A user no earlier test acted as: the directory client caches the users it found for 30 s.
    const a = await openAlert('CliNoDirectory');
    await users.close();
    usersClosed = true;
    const before = await streamLastSeq(p.admin, STREAMS.intake);
    const err = await new Promise<ServiceError | null>((resolve) =>
      p.client.acknowledgeAlert({ alertId: a.id, userId: 'not-looked-up-yet', note: '', requestId: '' }, (e) => resolve(e)),
    );
    expect(err?.code).toBe(status.UNAVAILABLE);
    expect(err?.details).toMatch(/^cannot check user_id: UserService at 127\.0\.0\.1:\d+: UNAVAILABLE: /);
    expect(await streamLastSeq(p.admin, STREAMS.intake)).toBe(before);
  });
});
