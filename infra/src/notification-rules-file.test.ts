import { describe, expect, it } from 'vitest';
import { evolveConfig, initialConfigState, type ConfigState } from '@oncall/shared';
import {
  planApply,
  subjectOf,
  type PlannedEvent,
  checkConfigFile,
  ConfigFileError,
  parseConfigFile,
  readAndCheckConfigFile,
} from '@oncall/shared/config-file';
import { readUsersFile } from './users-file.js';

const problems = (text: string): string[] => {
  try {
    parseConfigFile(text, 'f.yaml');
  } catch (err) {
    expect(err).toBeInstanceOf(ConfigFileError);
    return [...(err as ConfigFileError).problems];
  }
  throw new Error('expected the file to be rejected');
};

const GOOD = `notificationRules:
  - user: alice
    rules:
      - { method: sms, after: 1m }
      - { method: slack, after: 0m }
      - { method: voice, after: 5m }
  - user: bob.smith
    rules:
      - { method: email, after: 0s }
`;

const applied = (state: ConfigState, events: PlannedEvent[]): ConfigState =>
  events.reduce(
    (s, p, i) =>
      evolveConfig(s, { ...p, id: `id-${i}`, v: 1, occurredAt: '2026-01-01T00:00:00.000Z', causationId: null, correlationId: 't' }),
    state,
  );

describe('notificationRules in the config file', () => {
  it('parses rules, ordered by delay (the first is the preferred method)', () => {
    const f = parseConfigFile(GOOD, 'f.yaml');
    expect(f.notificationRules).toStrictEqual([
      {
        user: 'alice',
        rules: [
          { channel: 'slack', delaySeconds: 0 },
          { channel: 'sms', delaySeconds: 60 },
          { channel: 'voice', delaySeconds: 300 },
        ],
      },
      { user: 'bob.smith', rules: [{ channel: 'email', delaySeconds: 0 }] },
    ]);
  });

  it.each([
    [
      'unknown method',
      `notificationRules:\n  - user: a\n    rules: [{ method: pager, after: 0m }]\n`,
      ['f.yaml: notificationRules[0].rules[0].method: unknown method: use one of sms, voice, email, slack, teams, webhook'],
    ],
    [
      'negative delay',
      `notificationRules:\n  - user: a\n    rules: [{ method: sms, after: -1m }]\n`,
      ['f.yaml: notificationRules[0].rules[0].after: a delay cannot be negative ("-1m")'],
    ],
    [
      'delay as a bare number',
      `notificationRules:\n  - user: a\n    rules: [{ method: sms, after: 5 }]\n`,
      ['f.yaml: notificationRules[0].rules[0].after: use a duration with a unit, like 0m, 90s or 5m'],
    ],
    [
      'duplicate rule',
      `notificationRules:\n  - user: a\n    rules: [{ method: sms, after: 1m }, { method: sms, after: 60s }]\n`,
      ['f.yaml: notificationRules[0].rules[1]: duplicate rule: sms after 60s (also rules[0])'],
    ],
    [
      'duplicate user',
      `notificationRules:\n  - user: a\n    rules: [{ method: sms, after: 0m }]\n  - user: a\n    rules: [{ method: email, after: 0m }]\n`,
      ['f.yaml: notificationRules[1].user: duplicate notification rules for user "a" (also notificationRules[0])'],
    ],
    [
      'no rules',
      `notificationRules:\n  - user: a\n    rules: []\n`,
      ['f.yaml: notificationRules[0].rules: list at least one rule (method and after)'],
    ],
    [
      'unknown key',
      `notificationRules:\n  - user: a\n    rules: [{ method: sms, after: 0m, channel: x }]\n`,
      ["f.yaml: notificationRules[0].rules[0]: Unrecognized key(s) in object: 'channel'"],
    ],
  ])('rejects %s with a message naming the path', (_name, text, expected) => {
    expect(problems(text)).toStrictEqual(expected);
  });

  it('rejects rules of a user the directory does not know', async () => {
    const err = (await checkConfigFile(GOOD, 'f.yaml', { knownUsers: () => new Set(['alice']), usersSource: 'users.yaml' }).catch(
      (e: unknown) => e,
    )) as ConfigFileError;
    expect(err).toBeInstanceOf(ConfigFileError);
    expect(err.problems).toStrictEqual(['f.yaml: notificationRules[1].user: no user "bob.smith" in users.yaml']);
  });

  it('plans one event per user on config.rules.<user>, nothing the second time, and removals only with prune', () => {
    const f = parseConfigFile(GOOD, 'f.yaml');
    const planned = planApply(initialConfigState(), f, false);
    expect(planned.map((p) => [p.type, subjectOf(p)])).toStrictEqual([
      ['NotificationRulesConfigured', 'config.rules.alice'],
      // A dot would split the subject: the id is encoded.
      ['NotificationRulesConfigured', 'config.rules.x-626f622e736d697468'],
    ]);
    const state = applied(initialConfigState(), planned);
    expect(state.notificationRules.get('alice')?.rules[0]).toStrictEqual({ channel: 'slack', delaySeconds: 0 });
    expect(planApply(state, f, true)).toStrictEqual([]);
    const fewer = { ...f, notificationRules: f.notificationRules.slice(0, 1) };
    expect(planApply(state, fewer, false)).toStrictEqual([]);
    expect(planApply(state, fewer, true)).toStrictEqual([{ type: 'NotificationRulesRemoved', data: { userId: 'bob.smith' } }]);
  });
});

describe('examples/notification-rules.yaml', () => {
  it('is valid against examples/users.yaml', async () => {
    const root = new URL('../../examples/', import.meta.url);
    const ids = new Set((await readUsersFile(new URL('users.yaml', root).pathname)).users.map((u) => u.id));
    const { file } = await readAndCheckConfigFile(new URL('notification-rules.yaml', root).pathname, { knownUsers: () => ids });
    expect(file.notificationRules.map((u) => u.user)).toStrictEqual(['alice', 'bob', 'carol']);
  });
});
