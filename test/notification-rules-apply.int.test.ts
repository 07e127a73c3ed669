import { spawn } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { NatsConnection } from '@nats-io/transport-node';
import { STREAMS } from '@oncall/contracts';
import { loadConfig } from '@oncall/shared';
import { prepareTopology, startTestNats, streamLastSeq, type TestNats } from './harness.js';

const ROOT = fileURLToPath(new URL('..', import.meta.url));

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

describe('oncall apply: notificationRules', () => {
  let nats: TestNats;
  let nc: NatsConnection;
  let dir: string;
  beforeAll(async () => {
    nats = await startTestNats();
    nc = await nats.connect();
    await prepareTopology(nc);
    dir = await mkdtemp(join(tmpdir(), 'oncall-rules-apply-'));
  });
  afterAll(async () => {
    await nats?.stop();
    await rm(dir, { recursive: true, force: true });
  });

  it('a file with an unknown user, an unknown method, a negative delay and a duplicate appends nothing and names each path', async () => {
    const bad = join(dir, 'bad.yaml');
    await writeFile(
      bad,
      [
        'notificationRules:',
        '  - user: alice',
        '    rules: [{ method: slack, after: 0m }]',
        '  - user: mallory',
        '    rules: [{ method: email, after: 0m }]',
        '  - user: alice',
        '    rules: [{ method: voice, after: 5m }]',
        '  - user: bob',
        '    rules: [{ method: slack, after: 0m }, { method: pager, after: 1m }, { method: sms, after: -1m }]',
        '',
      ].join('\n'),
    );
    const before = await streamLastSeq(nc, STREAMS.config);
    const result = await oncall(['apply', '-f', bad, '--users', 'examples/users.yaml'], { NATS_URL: nats.url, ONCALL_PARTITIONS: '4' });
    expect(result.code).toBe(1);
    expect(result.stderr.split('\n')).toStrictEqual([
      `${bad}: notificationRules[3].rules[1].method: unknown method: use one of sms, voice, email, slack, teams, webhook`,
      `${bad}: notificationRules[3].rules[2].after: a delay cannot be negative ("-1m")`,
      `${bad}: notificationRules[2].user: duplicate notification rules for user "alice" (also notificationRules[0])`,
      `${bad}: notificationRules[1].user: no user "mallory" in examples/users.yaml`,
      `oncall: 4 problems in ${bad}; nothing applied`,
      '',
    ]);
    expect(await streamLastSeq(nc, STREAMS.config)).toBe(before);
  });

  it('examples/notification-rules.yaml applies once, again appends nothing, and the configuration state holds the rules by delay', async () => {
    const env = { NATS_URL: nats.url, ONCALL_PARTITIONS: '4' };
    const args = ['apply', '-f', 'examples/notification-rules.yaml', '--users', 'examples/users.yaml'];
    expect((await oncall(args, env)).code).toBe(0);
    const after = await streamLastSeq(nc, STREAMS.config);
    expect((await oncall(args, env)).code).toBe(0);
    expect(await streamLastSeq(nc, STREAMS.config)).toBe(after);
    const { state } = await loadConfig(nc);
    expect(state.notificationRules.get('alice')?.rules.map((r) => `${r.channel}@${r.delaySeconds}`)).toStrictEqual([
      'slack@0',
      'sms@60',
      'voice@300',
    ]);
  });
});
