import { describe, expect, it } from 'vitest';
import { initialConfigState, type ConfigState } from '@oncall/shared';
import { alertsText, parseSlash, whoText, type SlashCommand } from './slash.js';

describe('parseSlash', () => {
  it.each<[string, SlashCommand]>([
    ['', { kind: 'help' }],
    ['help', { kind: 'help' }],
    ['who', { kind: 'who', schedule: null }],
    ['  who   Primary   DB ', { kind: 'who', schedule: 'Primary DB' }],
    ['alerts', { kind: 'alerts' }],
    ['alerts now', { kind: 'invalid', error: '`/oncall alerts` takes no arguments' }],
    ['ack 0F0E5B8E', { kind: 'act', command: 'acknowledge', idPrefix: '0f0e5b8e' }],
    [
      'acknowledge 0f0e5b8e-7a43-4d57-9d0e-8b7f6a1c2d3e',
      { kind: 'act', command: 'acknowledge', idPrefix: '0f0e5b8e-7a43-4d57-9d0e-8b7f6a1c2d3e' },
    ],
    ['resolve 0f0e', { kind: 'act', command: 'resolve', idPrefix: '0f0e' }],
    ['resolve 0f0', { kind: 'invalid', error: '`/oncall resolve <alert id>` needs an alert id or its first 4+ characters' }],
    ['ack', { kind: 'invalid', error: '`/oncall ack <alert id>` needs an alert id or its first 4+ characters' }],
    ['ack zzzz', { kind: 'invalid', error: '`/oncall ack <alert id>` needs an alert id or its first 4+ characters' }],
    ['ack 0f0e 1234', { kind: 'invalid', error: '`/oncall ack <alert id>` needs an alert id or its first 4+ characters' }],
    ['delete everything', { kind: 'invalid', error: 'unknown command `delete`' }],
  ])('%j', (text, expected) => {
    expect(parseSlash(text)).toStrictEqual(expected);
  });
});

const schedule = (scheduleId: string, name: string, members: string[]) => ({
  scheduleId,
  name,
  timeZone: 'Europe/Berlin',
  rotations: [{ id: 'r', name: 'r', type: 'weekly' as const, shiftLength: 1, start: '2026-01-05T09:00:00Z', members, restrictions: [] }],
  overrides: [],
  temporary: [],
});
const config: ConfigState = {
  ...initialConfigState(),
  schedules: new Map([
    ['primary', schedule('primary', 'Primary', ['u1', 'u2'])],
    ['db', schedule('db', 'Database', ['u2'])],
  ]),
};
const nameOf = (id: string) => ({ u1: 'alice', u2: 'bob' })[id] ?? id;
const NOW = Date.parse('2026-01-13T10:00:00Z'); // second week: bob on Primary

describe('whoText', () => {
  it.each<[string | null, string]>([
    [null, '*Database*: bob\n*Primary*: bob'],
    ['primary', '*Primary*: bob'],
    ['DATABASE', '*Database*: bob'],
    ['ops', 'No schedule called "ops". Schedules: Database, Primary.'],
  ])('%s', (which, text) => {
    expect(whoText(config, which, NOW, nameOf)).toBe(text);
  });
  it('before the first handoff nobody is on call', () => {
    expect(whoText(config, 'primary', Date.parse('2025-01-01T00:00:00Z'), nameOf)).toBe('*Primary*: nobody');
  });
  it('says when there are no schedules', () => {
    expect(whoText(initialConfigState(), null, NOW, nameOf)).toBe('No schedules are configured.');
  });
});

describe('alertsText', () => {
  const row = (id: string, severity: string, site: string | null, status = 'triggered') => ({
    id,
    severity,
    site,
    status,
    summary: `s-${id}`,
    serviceId: 'checkout',
  });
  it('groups by severity, worst first, then site', () => {
    const rows = [
      row('aaaaaaaa1', 'warning', 'fra1'),
      row('bbbbbbbb2', 'critical', 'iad1', 'acknowledged'),
      row('cccccccc3', 'critical', 'fra1'),
      row('dddddddd4', 'info', null),
    ];
    expect(alertsText(rows, 4, 10)).toBe(
      [
        '4 open alerts',
        '*critical* · fra1 (1)',
        '• `cccccccc` checkout: s-cccccccc3',
        '*critical* · iad1 (1)',
        '• `bbbbbbbb` checkout: s-bbbbbbbb2 _(acknowledged)_',
        '*warning* · fra1 (1)',
        '• `aaaaaaaa` checkout: s-aaaaaaaa1',
        '*info* · no site (1)',
        '• `dddddddd` checkout: s-dddddddd4',
      ].join('\n'),
    );
  });
  it('says how many more there are', () => {
    expect(
      alertsText([row('aaaaaaaa', 'critical', null), row('bbbbbbbb', 'critical', null)], 30, 1)
        .split('\n')
        .at(-1),
    ).toBe('…and 29 more');
  });
  it('says when nothing is open', () => {
    expect(alertsText([], 0, 10)).toBe('No open alerts. :tada:');
  });
});
