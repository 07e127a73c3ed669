import { describe, expect, it } from 'vitest';
import { COMMANDS, helpFor, OVERVIEW, parseOrUsage, UsageError } from './cli-usage.js';

describe('oncall help', () => {
  it.each<[string, string[], string | null]>([
    ['no arguments', [], 'usage: oncall <command> [options]'],
    ['--help', ['--help'], 'usage: oncall <command> [options]'],
    ['-h', ['-h'], 'usage: oncall <command> [options]'],
    ['help', ['help'], 'usage: oncall <command> [options]'],
    ['help <command>', ['help', 'alerts'], 'usage: oncall alerts '],
    ['help <command> <subcommand>', ['help', 'parked', 'retry'], 'usage: oncall parked retry '],
    ['<command> --help', ['apply', '--help'], 'usage: oncall apply -f'],
    ['<command> -h after its arguments', ['history', '6f1d8a3e-0000-4000-8000-000000000000', '-h'], 'usage: oncall history '],
    ['an alert command shares ack help', ['snooze', '--help'], 'usage: oncall ack|resolve|escalate|snooze '],
    ['<command> <subcommand> --help', ['contact', 'verify', '--help'], 'usage: oncall contact verify '],
    ['an unknown subcommand: the command help', ['parked', 'frob', '--help'], 'usage: oncall parked [--all]'],
    ['--help after -- is an argument', ['history', '--', '--help'], null],
    ['no help asked', ['alerts', '--json'], null],
  ])('%s', (_name, argv, start) => {
    const help = helpFor(argv);
    if (start === null) expect(help).toBeNull();
    else expect(help?.startsWith(start)).toBe(true);
  });

  it('the overview lists every top-level command; every command help says where the servers are when it talks to one', () => {
    for (const command of ['up', 'apply', 'replay', 'alerts', 'ack', 'history', 'parked', 'contact', 'migrate'])
      expect(OVERVIEW).toContain(`  ${COMMANDS[command]!.synopsis}\n`);
    for (const command of ['alerts', 'ack', 'history', 'apply']) expect(helpFor([command, '--help'])).toContain('GRPC_PORT');
  });

  it.each([
    [['acknowledge'], 'unknown command "acknowledge"; oncall --help lists them'],
    [['help', 'frob'], 'unknown command "frob"; oncall --help lists them'],
    [['frob', '--help'], 'unknown command "frob"; oncall --help lists them'],
  ])('%j is a usage error', (argv, message) => {
    expect(() => helpFor(argv)).toThrow(new UsageError(message));
  });

  it.each([
    [['--bogus'], "alerts: Unknown option '--bogus'; oncall alerts --help"],
    [['--limit'], "alerts: Option '--limit <value>' argument missing; oncall alerts --help"],
    [['extra'], "alerts: Unexpected argument 'extra'; oncall alerts --help"],
  ])('parseOrUsage %j: a UsageError naming the command', (args, message) => {
    expect(() => parseOrUsage('alerts', { args, options: { limit: { type: 'string' } } })).toThrow(new UsageError(message));
  });
});
