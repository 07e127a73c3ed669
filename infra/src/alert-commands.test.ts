import { describe, expect, it } from 'vitest';
import { parseCommandArgs, parseDuration, type CliCommand } from './alert-commands.js';
import { UsageError } from './cli-usage.js';

const ID = '6f1d8a3e-0000-4000-8000-000000000000';

describe('oncall ack|resolve|escalate|snooze arguments', () => {
  it('reads the alert, the user (flag over ONCALL_USER), the note and the snooze length', () => {
    expect(parseCommandArgs('snooze', [ID, '--for', '30m', '--note', 'on it'], { ONCALL_USER: 'alice' })).toEqual({
      command: 'snooze',
      alertId: ID,
      userId: 'alice',
      note: 'on it',
      snoozeSeconds: 1800,
      grpc: expect.objectContaining({ address: '127.0.0.1:50051', from: 'the default, GRPC_PORT 50051' }) as unknown,
    });
    expect(parseCommandArgs('ack', [ID, '--user', 'bob', '--grpc', 'h:1'], { ONCALL_USER: 'alice', GRPC_PORT: '5' })).toMatchObject({
      userId: 'bob',
      grpc: { address: 'h:1', from: '--grpc' },
      snoozeSeconds: null,
    });
    expect(parseCommandArgs('ack', [ID], {}).userId).toBe(''); // the token's user acts
    expect(parseCommandArgs('ack', [ID], { ONCALL_USER: 'alice', GRPC_PORT: '15051' }).grpc).toMatchObject({
      address: '127.0.0.1:15051',
      from: 'GRPC_PORT=15051',
    });
  });

  it.each<[string, CliCommand, string[], NodeJS.ProcessEnv, RegExp]>([
    ['no alert id', 'ack', [], { ONCALL_USER: 'a' }, /ack needs an alert id/],
    ['a blank user', 'resolve', [ID, '--user', ' '], {}, /--user or ONCALL_USER is empty/],
    ['a blank ONCALL_USER', 'ack', [ID], { ONCALL_USER: '' }, /--user or ONCALL_USER is empty/],
    ['snooze without --for', 'snooze', [ID], { ONCALL_USER: 'a' }, /snooze needs --for/],
    ['snooze with a bad length', 'snooze', [ID, '--for', '30 minutes'], { ONCALL_USER: 'a' }, /not a duration: 30 minutes/],
    ['--for on ack', 'ack', [ID, '--for', '1h'], { ONCALL_USER: 'a' }, /--for is for snooze only/],
    ['two ids', 'escalate', [ID, ID], { ONCALL_USER: 'a' }, /unexpected argument/],
    ['an unknown flag', 'ack', [ID, '--force'], { ONCALL_USER: 'a' }, /Unknown option '--force'/],
  ])('%s is a usage error', (_name, command, argv, env, message) => {
    expect(() => parseCommandArgs(command, argv, env)).toThrow(UsageError);
    expect(() => parseCommandArgs(command, argv, env)).toThrow(message);
  });

  it.each([
    ['90s', 90],
    ['30m', 1800],
    ['2h', 7200],
    ['1d', 86_400],
    ['30', null],
    ['1.5h', null],
    ['-1h', null],
  ])('duration %s → %s', (text, seconds) => {
    expect(parseDuration(text)).toBe(seconds);
  });
});
