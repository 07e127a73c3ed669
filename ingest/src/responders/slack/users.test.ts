import { describe, expect, it } from 'vitest';
import { fileUserDirectory, initialConfigState, type ConfigState, type DirectoryUser } from '@oncall/shared';
import { configuredUserIds, slackIndex, SlackUsers } from './users.js';
import { createLogger } from '@oncall/shared';

const u = (id: string, slack: string | null): DirectoryUser => ({
  id,
  name: id.toUpperCase(),
  email: `${id}@x`,
  timezone: 'UTC',
  contacts: slack === null ? [{ channel: 'email', address: `${id}@x` }] : [{ channel: 'slack', address: slack }],
});

const config: ConfigState = {
  ...initialConfigState(),
  schedules: new Map([
    [
      's',
      {
        scheduleId: 's',
        name: 'S',
        timeZone: 'UTC',
        rotations: [
          { id: 'r', name: 'r', type: 'daily', shiftLength: 1, start: '2026-01-01T00:00:00Z', members: ['ann', 'ben'], restrictions: [] },
        ],
        overrides: [{ kind: 'replace', userId: 'cid', replaces: 'ann', start: '2026-01-01T00:00:00Z', end: '2026-01-02T00:00:00Z' }],
        temporary: [{ start: '2026-01-01T00:00:00Z', end: '2026-01-02T00:00:00Z', users: ['dee'] }],
      },
    ],
  ]),
  policies: new Map([
    [
      'p',
      {
        policyId: 'p',
        name: 'P',
        repeat: 0,
        steps: [
          {
            delaySeconds: 0,
            untilAllAck: false,
            targets: [
              { type: 'user', userId: 'eve' },
              { type: 'slack', channel: 'C1' },
              { type: 'schedule', scheduleId: 's' },
            ],
          },
        ],
      },
    ],
  ]),
};

describe('the Slack member map', () => {
  it('takes every user the configuration names', () => {
    expect(configuredUserIds(config)).toStrictEqual(['ann', 'ben', 'cid', 'dee', 'eve']);
  });

  it('indexes users by their Slack contact', () => {
    const index = slackIndex([u('ann', 'U1'), u('ben', null), u('cid', 'U3')]);
    expect([...index.entries()].map(([k, v]) => [k, v.id])).toStrictEqual([
      ['U1', 'ann'],
      ['U3', 'cid'],
    ]);
  });

  it('finds a member linked after the last build on a miss, at most every missRefreshMs', async () => {
    let now = 0;
    const users = [u('ann', 'U1')];
    const directory = { getUsers: (ids: readonly string[]) => fileUserDirectory(users).getUsers(ids), close: () => undefined };
    const map = new SlackUsers(
      directory,
      () => config,
      createLogger('test', 'silent'),
      () => now,
      { refreshMs: 60_000, missRefreshMs: 5_000 },
    );
    expect((await map.bySlackId('U1'))?.id).toBe('ann');
    users.push(u('ben', 'U2'));
    expect(await map.bySlackId('U2')).toBeNull();
    now = 6_000;
    expect((await map.bySlackId('U2'))?.id).toBe('ben');
    expect(map.nameOf('ben')).toBe('BEN');
    expect(map.nameOf('zed')).toBe('zed');
  });
});
