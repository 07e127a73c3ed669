import { describe, expect, it } from 'vitest';
import { ContactUsageError, parseContactArgs, type ContactArgs } from './contact.js';

describe('oncall contact arguments', () => {
  it.each<[string[], ContactArgs]>([
    [['verify', 'alice', 'sms'], { action: 'verify', userId: 'alice', channel: 'sms' }],
    [['verify', 'bob@example.com', 'email'], { action: 'verify', userId: 'bob@example.com', channel: 'email' }],
    [['confirm', 'alice', 'voice', '012345'], { action: 'confirm', userId: 'alice', channel: 'voice', code: '012345' }],
  ])('%j', (args, expected) => {
    expect(parseContactArgs(args)).toStrictEqual(expected);
  });

  it.each<[string[], string]>([
    [[], 'usage: oncall contact verify|confirm <user> <channel> [<code>]'],
    [['check', 'alice', 'sms'], 'usage: oncall contact verify|confirm <user> <channel> [<code>]'],
    [['verify'], 'name the user'],
    [['verify', 'alice', 'webhook'], 'the channel must be one of sms, voice, email, slack, teams'],
    [['verify', 'alice', 'pager'], 'the channel must be one of sms, voice, email, slack, teams'],
    [['verify', 'alice', 'sms', '123456'], 'verify takes a user and a channel'],
    [['confirm', 'alice', 'sms'], 'confirm takes a user, a channel and the code'],
    [['confirm', 'alice', 'sms', '1', '2'], 'confirm takes a user, a channel and the code'],
  ])('%j is refused', (args, message) => {
    expect(() => parseContactArgs(args)).toThrow(new ContactUsageError(message));
  });
});
