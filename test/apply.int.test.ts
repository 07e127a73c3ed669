import { spawn } from 'node:child_process';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { NatsConnection } from '@nats-io/transport-node';
import { STREAMS } from '@oncall/contracts';
import { loadConfig, sha256Hex } from '@oncall/shared';
import { applyConfig, parseConfigFile, readConfigFile } from '@oncall/infra';
import { readAndCheckConfigFile, subjectOf } from '@oncall/shared/config-file';
import { readUsersFile } from '../infra/src/users-file.js';
import { prepareTopology, startTestNats, streamLastSeq, type TestNats } from './harness.js';

const file = (name: string, keys: string[]) =>
  parseConfigFile(
    `services:\n  - id: payments\n    name: ${name}\n    integrationKeys:\n${keys.map((k, i) => `      - { name: k${i}, key: ${k} }`).join('\n')}\n`,
    'payments.yaml',
  );

describe('oncall apply', () => {
  let nats: TestNats;
  let nc: NatsConnection;
  beforeAll(async () => {
    nats = await startTestNats();
    nc = await nats.connect();
    await prepareTopology(nc);
  });
  afterAll(async () => nats?.stop());

  it('appends the configuration once; the same file again changes nothing', async () => {
    const f = file('Payments', ['payments-key-aaaaaaaa']);
    expect(await applyConfig(nc, f)).toHaveLength(1);
    expect(await applyConfig(nc, f)).toEqual([]);
    expect(await streamLastSeq(nc, STREAMS.config)).toBe(1);
    const { state } = await loadConfig(nc);
    expect(state.serviceByKeyHash.get(sha256Hex('payments-key-aaaaaaaa'))).toBe('payments');
  });

  it('appends one event for a change, and the log never holds the key itself', async () => {
    const applied = await applyConfig(nc, file('Payments', ['payments-key-aaaaaaaa', 'payments-key-bbbbbbbb']));
    expect(applied).toHaveLength(1);
    expect(await streamLastSeq(nc, STREAMS.config)).toBe(2);
    expect(JSON.stringify(applied)).not.toContain('payments-key-bbbbbbbb');
    const { state } = await loadConfig(nc);
    expect(state.services.get('payments')?.integrationKeys).toHaveLength(2);
  });

  it('removes services missing from the file only with prune', async () => {
    const empty = parseConfigFile('services: []', 'empty.yaml');
    expect(await applyConfig(nc, empty)).toEqual([]);
    expect(await applyConfig(nc, empty, { prune: true })).toEqual([{ type: 'ServiceRemoved', data: { serviceId: 'payments' } }]);
    expect((await loadConfig(nc)).state.services.size).toBe(0);
  });
});

const ROOT = fileURLToPath(new URL('..', import.meta.url));
const EXAMPLE = join(ROOT, 'examples/oncall.yaml');
const USERS = join(ROOT, 'examples/users.yaml');

/** `oncall apply …` as a user runs it; resolves with the exit code and what it printed. */
function oncall(args: string[], env: NodeJS.ProcessEnv): Promise<{ code: number | null; stdout: string; stderr: string }> {
  const child = spawn(process.execPath, ['bin/oncall.js', ...args], {
    cwd: ROOT,
    env: { ...process.env, LOG_LEVEL: 'silent', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (c: Buffer) => (stdout += c.toString()));
  child.stderr.on('data', (c: Buffer) => (stderr += c.toString()));
  return new Promise((resolve) => child.once('close', (code) => resolve({ code, stdout, stderr })));
}

describe('oncall apply: schedules, policies, routing, calendars, templates, maintenance windows', () => {
  let nats: TestNats;
  let nc: NatsConnection;
  let dir: string;
  beforeAll(async () => {
    nats = await startTestNats();
    nc = await nats.connect();
    await prepareTopology(nc);
    dir = await mkdtemp(join(tmpdir(), 'oncall-apply-'));
  });
  afterAll(async () => {
    await nats?.stop();
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  it('applying examples/oncall.yaml appends every element once; applying it again appends nothing', async () => {
    const ids = new Set((await readUsersFile(USERS)).users.map((u) => u.id));
    const { file } = await readAndCheckConfigFile(EXAMPLE, { knownUsers: () => ids, usersSource: USERS });
    const applied = await applyConfig(nc, file, { createdBy: 'test' });
    expect(applied.map((p) => `${p.type} ${subjectOf(p)}`)).toStrictEqual([
      'ServiceConfigured config.service.demo',
      'TemplateVersionPublished config.template.default',
      'TicketProviderConfigured config.ticket-provider.jira',
      'HeartbeatMonitorConfigured config.heartbeat.demo-canary',
      'CalendarConfigured config.calendar.office_hours',
      'ScheduleConfigured config.schedule.noc',
      'EscalationPolicyConfigured config.policy.noc-default',
      'EscalationPolicyConfigured config.policy.noc-urgent',
      'RoutingConfigured config.routing.demo',
    ]);
    expect(await streamLastSeq(nc, STREAMS.config)).toBe(9);

    const { state } = await loadConfig(nc);
    expect(state.ticketProviders.get('jira')).toMatchObject({ type: 'jira', auth: { password: { env: 'JIRA_API_TOKEN' } } });
    expect(state.routing.get('demo')).toMatchObject({ escalationPolicyId: 'noc-default', templateId: 'default', ackTimeoutSeconds: 1800 });
    expect(state.schedules.get('noc')?.rotations.map((r) => [r.id, r.start, r.members])).toStrictEqual([
      ['primary', '2026-01-05T09:00:00+01:00', ['alice', 'bob']],
      ['after-hours', '2026-01-05T18:00:00+01:00', ['bob', 'alice']],
    ]);
    expect(state.policies.get('noc-default')?.steps.map((s) => [s.delaySeconds, s.targets])).toStrictEqual([
      [300, [{ type: 'schedule', scheduleId: 'noc' }]],
      [
        600,
        [
          { type: 'user', userId: 'carol' },
          { type: 'slack', channel: '#noc' },
        ],
      ],
    ]);
    expect(state.templates.get('default')).toMatchObject({ version: 1, createdBy: 'test' });

    expect(await applyConfig(nc, file)).toStrictEqual([]);
    expect(await streamLastSeq(nc, STREAMS.config)).toBe(9);
  });

  it('a changed template appends version 2, and only that', async () => {
    const text = (await readFile(EXAMPLE, 'utf8')).replace(
      'voice: "{{ alert.severity }} alert for',
      'voice: "Attention. {{ alert.severity }} alert for',
    );
    const applied = await applyConfig(nc, parseConfigFile(text, 'changed.yaml'), { createdBy: 'test' });
    expect(applied).toMatchObject([{ type: 'TemplateVersionPublished', data: { templateId: 'default', version: 2 } }]);
    expect(await streamLastSeq(nc, STREAMS.config)).toBe(10);
    expect((await loadConfig(nc)).state.templates.get('default')?.channels.voice).toMatch(/^Attention\. /);
  });

  it('a template pruned and listed again continues its version numbers from the log', async () => {
    const withoutTemplate = parseConfigFile(
      (await readFile(EXAMPLE, 'utf8')).replace(/\ntemplates:[\s\S]*$/, '\n').replace(/\n {6}template: default/, ''),
      'no-template.yaml',
    );
    expect(await applyConfig(nc, withoutTemplate, { prune: true })).toStrictEqual([
      { type: 'RoutingConfigured', data: expect.objectContaining({ serviceId: 'demo', templateId: null }) as unknown },
      { type: 'TemplateRemoved', data: { templateId: 'default' } },
    ]);
    expect((await loadConfig(nc)).state.templates.has('default')).toBe(false);
    const again = await applyConfig(nc, await readConfigFile(EXAMPLE));
    expect(again).toMatchObject([
      { type: 'TemplateVersionPublished', data: { templateId: 'default', version: 3 } },
      { type: 'RoutingConfigured', data: { serviceId: 'demo', templateId: 'default' } },
    ]);
  });

  it('the CLI applies examples/isp-noc.yaml checking users, then finds nothing to change', async () => {
    const env = { NATS_URL: nats.url, ONCALL_PARTITIONS: '4' };
    const first = await oncall(['apply', '-f', 'examples/isp-noc.yaml', '--users', 'examples/users.yaml'], env);
    expect(first.stderr).toBe('');
    expect(first.code).toBe(0);
    expect(first.stdout).toContain('RoutingConfigured config.routing.core-network\n');
    expect(first.stdout).toContain('MaintenanceWindowConfigured config.maintenance.fra1-power-work\n');
    expect(first.stdout).toContain('EquipmentTypesConfigured config.equipment.default\n');
    const state = (await loadConfig(nc)).state;
    expect(state.equipmentTypes).toMatchObject({ label: 'equipment_type', types: { firewall: { boost: null, severity: 'critical' } } });
    expect(state.maintenance.get('fra1-power-work')).toMatchObject({
      start: '2026-03-10T22:00:00+01:00',
      end: '2026-03-11T04:00:00+01:00',
      labels: { site: 'fra1' },
      mode: 'suppress',
    });
    expect(state.templates.get('noc')?.createdBy).not.toBe('');

    const second = await oncall(['apply', '-f', 'examples/isp-noc.yaml', '--users', 'examples/users.yaml'], env);
    expect([second.code, second.stdout, second.stderr]).toStrictEqual([0, 'nothing to change\n', '']);
  });

  it('without --users the CLI applies but warns that users were not checked', async () => {
    const result = await oncall(['apply', '-f', 'examples/isp-noc.yaml'], {
      NATS_URL: nats.url,
      ONCALL_PARTITIONS: '4',
      USER_SERVICE_URL: '',
    });
    expect(result.code).toBe(0);
    expect(result.stderr).toBe('warning: examples/isp-noc.yaml: users not checked: no user source given (oncall apply --users <file>)\n');
  });

  it('a bad file (invalid CEL, unknown user, bad zone) appends nothing and prints every error', async () => {
    const bad = join(dir, 'bad.yaml');
    const text = (await readFile(EXAMPLE, 'utf8'))
      .replace(
        'when: alert.severity == "critical" && !calendars.office_hours',
        'when: alert.severity == "critical" && && !calendars.office_hours',
      )
      .replace('members: [alice, bob]', 'members: [alice, mallory]')
      .replace('    timeZone: Europe/Berlin\n    hours:', '    timeZone: Europe/Berln\n    hours:');
    await writeFile(bad, text);
    const before = await streamLastSeq(nc, STREAMS.config);
    const result = await oncall(['apply', '-f', bad, '--users', 'examples/users.yaml'], { NATS_URL: nats.url, ONCALL_PARTITIONS: '4' });
    expect(result.code).toBe(1);
    expect(result.stdout).toBe('');
    expect(result.stderr.split('\n')).toStrictEqual([
      `${bad}: services[0].routing.rules[2].when: line 1, column 33: Unexpected token: AND`,
      `${bad}: calendars[0].timeZone: unknown time zone "Europe/Berln" (use an IANA name like Europe/Berlin or UTC)`,
      `${bad}: schedules[0].rotations[0].members[1]: no user "mallory" in examples/users.yaml`,
      `oncall: 3 problems in ${bad}; nothing applied`,
      '',
    ]);
    expect(await streamLastSeq(nc, STREAMS.config)).toBe(before);
  });
});
