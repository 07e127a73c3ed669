import { spawn } from 'node:child_process';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { jetstreamManager } from '@nats-io/jetstream';
import type { NatsConnection } from '@nats-io/transport-node';
import { decodeEvent, STREAMS } from '@oncall/contracts';
import { loadConfig } from '@oncall/shared';
import { apiActor, applyConfig, ConfigEditError, editConfig, readConfigFile, type ConfigEdit } from '@oncall/shared/config-file';
import { prepareTopology, startTestNats, streamLastSeq, type TestNats } from './harness.js';

const ROOT = fileURLToPath(new URL('..', import.meta.url));
const EXAMPLE = join(ROOT, 'examples/oncall.yaml');
const USERS_FILE = join(ROOT, 'examples/users.yaml');
const USERS = new Set(['alice', 'bob', 'carol', 'dave']);
const knownUsers = (ids: string[]) => new Set(ids.filter((id) => USERS.has(id)));

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

const addOverride =
  (user: string, day: string): ConfigEdit =>
  (f) => {
    f.schedules
      .find((s) => s.id === 'noc')!
      .overrides.push({
        kind: 'add',
        user,
        replaces: null,
        start: `${day}T09:00`,
        end: `${day}T17:00`,
      });
  };

describe('configuration writes through the API and oncall apply, one log', () => {
  let nats: TestNats;
  let nc: NatsConnection;
  let dir: string;
  beforeAll(async () => {
    nats = await startTestNats();
    nc = await nats.connect();
    await prepareTopology(nc);
    dir = await mkdtemp(join(tmpdir(), 'oncall-edit-'));
    await applyConfig(nc, await readConfigFile(EXAMPLE));
  });
  afterAll(async () => {
    await nats?.stop();
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  it('an edit appends one event as the API actor and returns its stream sequence', async () => {
    const before = await streamLastSeq(nc, STREAMS.config);
    const { seq, planned } = await editConfig(nc, addOverride('dave', '2026-09-01'), { actor: apiActor('dave'), knownUsers });
    expect(planned.map((p) => p.type)).toStrictEqual(['ScheduleConfigured']);
    expect(seq).toBe(before + 1);
    const msg = await (await jetstreamManager(nc)).streams.getMessage(STREAMS.config, { seq });
    expect(msg?.subject).toBe('config.schedule.noc');
    expect(decodeEvent(msg!.data).correlationId).toBe('api:dave');
  });

  it('an edit that changes nothing appends nothing and returns the last sequence', async () => {
    const last = await streamLastSeq(nc, STREAMS.config);
    expect(await editConfig(nc, () => undefined, { actor: apiActor('dave'), knownUsers })).toStrictEqual({ seq: last, planned: [] });
  });

  it('a bad edit appends nothing', async () => {
    const last = await streamLastSeq(nc, STREAMS.config);
    const err: unknown = await editConfig(nc, addOverride('mallory', '2026-09-02'), { actor: apiActor('dave'), knownUsers }).catch(
      (e: unknown) => e,
    );
    expect(err).toBeInstanceOf(ConfigEditError);
    expect((err as ConfigEditError).issues.map((i) => i.field)).toStrictEqual(['schedules[0].overrides[2].user']);
    expect(await streamLastSeq(nc, STREAMS.config)).toBe(last);
  });

  it('concurrent edits of one schedule both land (the loser re-reads and edits again)', async () => {
    await Promise.all([
      editConfig(nc, addOverride('alice', '2026-10-01'), { actor: apiActor('alice'), knownUsers }),
      editConfig(nc, addOverride('bob', '2026-10-02'), { actor: apiActor('bob'), knownUsers }),
    ]);
    const overrides = (await loadConfig(nc)).state.schedules.get('noc')!.overrides.map((o) => o.userId);
    expect(overrides).toStrictEqual(['carol', 'dave', expect.any(String), expect.any(String)]);
    expect(overrides.slice(2).sort()).toStrictEqual(['alice', 'bob']);
  });

  it('oncall export writes a file that applies with nothing to change', async () => {
    const out = join(dir, 'exported.yaml');
    const exported = await oncall(['export', '--out', out], { NATS_URL: nats.url });
    expect(exported).toMatchObject({ code: 0, stderr: '' });
    const text = await readFile(out, 'utf8');
    expect(text).toContain('keyHash: ');
    expect(text).not.toContain('demo-alertmanager-key-0001');
    const last = await streamLastSeq(nc, STREAMS.config);
    const applied = await oncall(['apply', '-f', out], { NATS_URL: nats.url });
    expect(applied).toMatchObject({ code: 0, stdout: 'nothing to change\n' });
    expect(await streamLastSeq(nc, STREAMS.config)).toBe(last);
  });

  it('oncall apply shows and refuses the drift it would overwrite; --force overwrites it', async () => {
    const last = await streamLastSeq(nc, STREAMS.config);
    const refused = await oncall(['apply', '-f', EXAMPLE, '--users', USERS_FILE], { NATS_URL: nats.url });
    expect(refused.code).toBe(1);
    expect(refused.stdout).toBe('');
    expect(refused.stderr).toMatch(
      /^oncall: the file would overwrite 1 change made through the API:\n {2}config\.schedule\.noc: written by api:(alice|bob) at \d{4}-\d\d-\d\dT[\d:.]+Z \(the file would append ScheduleConfigured\)\noncall: nothing applied; oncall export shows the current configuration, --force overwrites\n$/,
    );
    expect(await streamLastSeq(nc, STREAMS.config)).toBe(last);

    const forced = await oncall(['apply', '-f', EXAMPLE, '--users', USERS_FILE, '--force'], { NATS_URL: nats.url });
    expect(forced).toMatchObject({ code: 0, stdout: 'ScheduleConfigured config.schedule.noc\n' });
    expect((await loadConfig(nc)).state.schedules.get('noc')!.overrides.map((o) => o.userId)).toStrictEqual(['carol']);
    // Written by apply again: no drift any more.
    expect(await oncall(['apply', '-f', EXAMPLE, '--users', USERS_FILE], { NATS_URL: nats.url })).toMatchObject({
      code: 0,
      stdout: 'nothing to change\n',
    });
  });

  it('keepDrift (oncall up) applies the rest of the file and leaves the API change as it is', async () => {
    await editConfig(nc, addOverride('dave', '2026-11-01'), { actor: apiActor('dave'), knownUsers });
    const file = await readConfigFile(EXAMPLE);
    file.calendars[0]!.name = 'Office hours (renamed)';
    const kept: string[] = [];
    const applied = await applyConfig(nc, file, { actor: 'oncall-up', keepDrift: (d) => kept.push(...d.map((x) => x.subject)) });
    expect(kept).toStrictEqual(['config.schedule.noc']);
    expect(applied.map((p) => p.type)).toStrictEqual(['CalendarConfigured']);
    const { state } = await loadConfig(nc);
    expect(state.schedules.get('noc')!.overrides.map((o) => o.userId)).toStrictEqual(['carol', 'dave']);
  });
});
