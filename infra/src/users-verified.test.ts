import { describe, expect, it } from 'vitest';
import { toContacts } from '@oncall/shared';
import { parseUsersFile, unverifiedChannels, UsersFileError } from './users-file.js';

const user = (extra: string) => `users:\n  - { id: a, name: A, email: a@example.com, phone: "+15555550101", slackId: U0A${extra} }\n`;
const only = (text: string) => parseUsersFile(text, 'u.yaml').users[0]!;

describe('users file: verified contact methods', () => {
  it.each<[string, string, string[]]>([
    ['no verified list: every method counts as verified', '', []],
    ['a verified list: the others are unverified', ', verified: [email, sms]', ['slack', 'voice']],
    ['sms off: nothing to verify there', ', sms: false, verified: [email, slack, voice]', []],
  ])('%s', (_name, extra, unverified) => {
    expect(unverifiedChannels(only(user(extra)))).toStrictEqual(unverified);
  });

  it.each<[string, string, string]>([
    ['an unknown method', ', verified: [pager]', 'u.yaml: users[0].verified[0]: use one of email, slack, teams, sms, voice'],
    ['a method the user lacks', ', verified: [teams]', 'u.yaml: users[0].verified[0]: the user has no teams contact to verify'],
    ['a method twice', ', verified: [sms, sms]', 'u.yaml: users[0].verified[1]: sms is listed twice'],
  ])('rejects %s', (_name, extra, message) => {
    expect(() => parseUsersFile(user(extra), 'u.yaml')).toThrow(new UsersFileError(message));
  });

  it('reaches the escalator through UserService as verified: false on the unverified methods only', () => {
    const contacts = toContacts({
      email: 'a@example.com',
      slackId: 'U0A',
      phone: '+15555550101',
      teamsId: '',
      userId: 'a',
      smsEnabled: true,
      voiceEnabled: false,
      unverifiedChannels: ['sms'],
    });
    expect(contacts).toStrictEqual([
      { channel: 'email', address: 'a@example.com' },
      { channel: 'slack', address: 'U0A' },
      { channel: 'sms', address: '+15555550101', verified: false },
    ]);
  });
});
