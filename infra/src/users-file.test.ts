import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { parseUsersFile, readUsersFile, UsersFileError } from './users-file.js';

/** Message of the UsersFileError that parsing `text` as u.yaml throws. */
function errorOf(text: string): string {
  let caught: unknown;
  try {
    parseUsersFile(text, 'u.yaml');
  } catch (err) {
    caught = err;
  }
  expect(caught).toBeInstanceOf(UsersFileError);
  return (caught as UsersFileError).message;
}

/** A file with one user: id a, name A, email a@example.com, and `extra` fields. */
const oneUser = (extra = '') => `users:\n  - { id: a, name: A, email: a@example.com${extra} }\n`;

describe('parseUsersFile', () => {
  it('parses a valid file and applies defaults', () => {
    const text = [
      'users:',
      '  - id: alice',
      '    name: Alice',
      '    email: alice@example.com',
      '    timezone: Europe/Berlin',
      '    phone: "+15555550101"',
      '    slackId: U0ALICE',
      '    teamsId: alice-teams',
      '  - { id: carol, name: Carol, email: carol@example.com, phone: "+15555550103", sms: false }',
      '  - { id: dave, name: Dave, email: dave@example.com }',
      '',
    ].join('\n');
    expect(parseUsersFile(text, 'u.yaml')).toStrictEqual({
      users: [
        {
          id: 'alice',
          name: 'Alice',
          email: 'alice@example.com',
          timezone: 'Europe/Berlin',
          phone: '+15555550101',
          slackId: 'U0ALICE',
          teamsId: 'alice-teams',
          sms: true,
          voice: true,
        },
        { id: 'carol', name: 'Carol', email: 'carol@example.com', timezone: 'UTC', phone: '+15555550103', sms: false, voice: true },
        { id: 'dave', name: 'Dave', email: 'dave@example.com', timezone: 'UTC', sms: false, voice: false },
      ],
    });
  });

  it.each(['', '# nobody yet\n', 'users:\n', 'users: []\n'])('an empty file %j gives no users', (text) => {
    expect(parseUsersFile(text, 'u.yaml')).toStrictEqual({ users: [] });
  });

  it.each(['UTC', 'Etc/GMT+1', 'America/Argentina/Buenos_Aires', 'Asia/Kolkata'])('accepts the time zone %s as written', (zone) => {
    expect(parseUsersFile(oneUser(`, timezone: ${zone}`), 'u.yaml').users[0]?.timezone).toBe(zone);
  });

  it.each<[string, string, string]>([
    ['an unknown top-level key', 'usrs: []\n', "u.yaml: (root): Unrecognized key(s) in object: 'usrs'"],
    ['an unknown key in a user (typo)', oneUser(', slack: U0X'), "u.yaml: users[0]: Unrecognized key(s) in object: 'slack'"],
    ['users that is not a list', 'users: {}\n', 'u.yaml: users: Expected array, received object'],
    ['a missing email', 'users:\n  - { id: a, name: A }\n', 'u.yaml: users[0].email: Required'],
    ['a malformed email', 'users:\n  - { id: a, name: A, email: not-an-email }\n', 'u.yaml: users[0].email: Invalid email'],
    [
      'an id with a space',
      'users:\n  - { id: "a b", name: A, email: a@example.com }\n',
      'u.yaml: users[0].id: use 1-128 letters, digits, dots, dashes, underscores or @, starting with a letter or digit',
    ],
    [
      'a misspelt time zone',
      oneUser(', timezone: Europe/Berln'),
      'u.yaml: users[0].timezone: not an IANA time zone (like Europe/Berlin or UTC)',
    ],
    [
      'an offset instead of a zone',
      oneUser(', timezone: "+01:00"'),
      'u.yaml: users[0].timezone: not an IANA time zone (like Europe/Berlin or UTC)',
    ],
    [
      'an unquoted phone (a YAML number)',
      oneUser(', phone: +15555550101'),
      'u.yaml: users[0].phone: quote the number, like phone: "+15555550101"',
    ],
    ['a phone not in E.164', oneUser(', phone: "555-0101"'), 'u.yaml: users[0].phone: use E.164: + then 7 to 15 digits, like +15555550101'],
    ['sms without a phone', oneUser(', sms: true'), 'u.yaml: users[0].sms: sms needs a phone'],
    ['voice without a phone', oneUser(', voice: true, sms: false'), 'u.yaml: users[0].voice: voice needs a phone'],
    [
      'sms that is not a boolean',
      oneUser(', phone: "+15555550101", sms: "yes"'),
      'u.yaml: users[0].sms: Expected boolean, received string',
    ],
    [
      'a lower-case Slack id',
      oneUser(', slackId: u0alice'),
      'u.yaml: users[0].slackId: a Slack member id starts with U or W, like U024BE7LH',
    ],
    [
      'a duplicate id',
      'users:\n  - { id: a, name: A, email: a@example.com }\n  - { id: b, name: B, email: b@example.com }\n  - { id: a, name: A2, email: a2@example.com }\n',
      'u.yaml: users[2].id: duplicate user id "a" (also users[0])',
    ],
    [
      'a block inside a flow list',
      'users: [\n  - id: a\n',
      'u.yaml: not valid YAML (line 2, column 3): Block collections are not allowed within flow collections at line 2, column 3:',
    ],
    [
      'a key given twice',
      'users:\n  - id: a\n    id: b\n',
      'u.yaml: not valid YAML (line 3, column 5): Map keys must be unique at line 3, column 5:',
    ],
  ])('rejects %s', (_, text, expected) => {
    expect(errorOf(text)).toBe(expected);
  });

  it('reports every problem, one per line', () => {
    expect(errorOf('users:\n  - { id: "", name: "", email: a@example.com }\n').split('\n')).toStrictEqual([
      'u.yaml: users[0].id: use 1-128 letters, digits, dots, dashes, underscores or @, starting with a letter or digit',
      'u.yaml: users[0].name: String must contain at least 1 character(s)',
    ]);
  });
});

describe('readUsersFile', () => {
  it('reads examples/users.yaml', async () => {
    const file = await readUsersFile(fileURLToPath(new URL('../../examples/users.yaml', import.meta.url)));
    expect(file.users.map((u) => [u.id, u.timezone, u.sms, u.voice])).toStrictEqual([
      ['alice', 'Europe/Berlin', true, true],
      ['bob', 'America/New_York', true, true],
      ['carol', 'UTC', false, true],
      ['dave', 'UTC', false, false],
    ]);
  });

  it('names the file it cannot read', async () => {
    await expect(readUsersFile('/nonexistent/users.yaml')).rejects.toThrow(
      new UsersFileError('/nonexistent/users.yaml: cannot read: ENOENT'),
    );
  });

  it('names the file in validation errors', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'oncall-users-'));
    try {
      const path = join(dir, 'users.yaml');
      await writeFile(path, oneUser(', sms: true'));
      await expect(readUsersFile(path)).rejects.toThrow(`${path}: users[0].sms: sms needs a phone`);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});
