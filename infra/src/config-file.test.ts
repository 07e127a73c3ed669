import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import {
  checkConfigFile,
  ConfigFileError,
  parseConfigFile,
  readAndCheckConfigFile,
  readConfigFile,
  type TemplateValidator,
} from '@oncall/shared/config-file';
import { readUsersFile } from './users-file.js';

const KEY_A = 'key-a-0123456789abcdef';
const KEY_B = 'key-b-0123456789abcdef';

/** Message of the ConfigFileError that parsing `text` as f.yaml throws. */
function errorOf(text: string): string {
  let caught: unknown;
  try {
    parseConfigFile(text, 'f.yaml');
  } catch (err) {
    caught = err;
  }
  expect(caught).toBeInstanceOf(ConfigFileError);
  return (caught as ConfigFileError).message;
}

const EMPTY = {
  services: [],
  heartbeats: [],
  calendars: [],
  templates: [],
  schedules: [],
  escalationPolicies: [],
  maintenanceWindows: [],
  notificationRules: [],
  sites: [],
  inhibitRules: [],
  ticketProviders: [],
  placement: null,
  customerTiers: null,
  responseTiers: null,
  equipmentTypes: null,
};

const service = (id: string, key = KEY_A) => `  - id: ${id}\n    name: N\n    integrationKeys:\n      - name: k\n        key: ${key}\n`;

describe('parseConfigFile', () => {
  it('parses a valid file and applies defaults', () => {
    const text = [
      'services:',
      '  - id: payments',
      '    name: Payments',
      '    integrationKeys:',
      '      - name: am',
      `        key: ${KEY_A}`,
      '  - id: web-2',
      '    name: Web',
      '    description: front end',
      '',
    ].join('\n');
    expect(parseConfigFile(text, 'f.yaml')).toStrictEqual({
      ...EMPTY,
      services: [
        { id: 'payments', name: 'Payments', description: '', integrationKeys: [{ name: 'am', key: KEY_A }], routing: null },
        { id: 'web-2', name: 'Web', description: 'front end', integrationKeys: [], routing: null },
      ],
    });
  });

  it.each<[string, number]>([
    ['10s', 10],
    ['5m', 300],
    ['25h', 90_000],
    ['7d', 604_800],
  ])('reads a heartbeat interval of %s as %i seconds', (interval, seconds) => {
    const text = `services:\n  - { id: jobs, name: Jobs }\nheartbeats:\n  - { id: backup, name: Backup, service: jobs, interval: ${interval} }\n`;
    expect(parseConfigFile(text, 'f.yaml').heartbeats).toStrictEqual([
      { id: 'backup', name: 'Backup', service: 'jobs', interval: seconds },
    ]);
  });

  it.each<[string, string, string]>([
    ['an interval without unit', '{ id: b, name: B, service: jobs, interval: 30 }', 'heartbeats[0].interval: Expected string'],
    ['an interval in weeks', '{ id: b, name: B, service: jobs, interval: 2w }', 'heartbeats[0].interval: use a number and a unit'],
    ['an interval under 10 s', '{ id: b, name: B, service: jobs, interval: 5s }', 'heartbeats[0].interval: must be between 10s and 30d'],
    [
      'a service not in the file',
      '{ id: b, name: B, service: nope, interval: 5m }',
      'heartbeats[0].service: no service "nope" in this file',
    ],
  ])('rejects a heartbeat with %s', (_, monitor, message) => {
    const text = `services:\n  - { id: jobs, name: Jobs }\nheartbeats:\n  - ${monitor}\n`;
    expect(() => parseConfigFile(text, 'f.yaml')).toThrow(`f.yaml: ${message}`);
  });

  it.each(['', '\n', '# only a comment\n', 'services:\n'])('an empty file %j gives no services', (text) => {
    expect(parseConfigFile(text, 'f.yaml')).toStrictEqual(EMPTY);
  });

  it.each<[string, string, string]>([
    ['an unknown top-level key', 'servics: []\n', "f.yaml: (root): Unrecognized key(s) in object: 'servics'"],
    [
      'an unknown key in a service (typo)',
      'services:\n  - id: a\n    name: A\n    descripton: x\n',
      "f.yaml: services[0]: Unrecognized key(s) in object: 'descripton'",
    ],
    [
      'an upper-case id',
      'services:\n  - id: Payments\n    name: A\n',
      'f.yaml: services[0].id: use 1-63 lower-case letters, digits and dashes',
    ],
    ['an id starting with a dash', 'services:\n  - id: -a\n    name: A\n', 'f.yaml: services[0].id: use 1-63'],
    ['a missing name', 'services:\n  - id: a\n', 'f.yaml: services[0].name: Required'],
    [
      'a key shorter than 16 characters',
      `services:\n${service('a', 'short-key')}`,
      'f.yaml: services[0].integrationKeys[0].key: integration keys need at least 16 characters',
    ],
    [
      'a key with white space',
      `services:\n${service('a', '"0123456789abcdef ghi"')}`,
      'f.yaml: services[0].integrationKeys[0].key: no white space',
    ],
    [
      'a duplicate service id',
      `services:\n${service('a', KEY_A)}${service('a', KEY_B)}`,
      'f.yaml: services[1].id: duplicate service id "a" (also services[0])',
    ],
    [
      'the same key used twice',
      `services:\n${service('a', KEY_A)}${service('b', KEY_A)}`,
      'f.yaml: services[1].integrationKeys[0].key: the same key is used by services[0].integrationKeys[0]',
    ],
    ['services that is not a list', 'services: {}\n', 'f.yaml: services: Expected array, received object'],
  ])('rejects %s', (_, text, expected) => {
    expect(errorOf(text)).toContain(expected);
  });

  it('refuses text PostgreSQL cannot store (YAML escapes for NUL and lone surrogates), naming each field', () => {
    const text = `services:\n  - id: a\n    name: "Pay\\0ments"\n    description: "half \\ud800 pair"\n    integrationKeys:\n      - name: k\n        key: ${KEY_A}\n`;
    expect(errorOf(text).split('\n')).toEqual([
      'f.yaml: services[0].name: holds a NUL character or a lone surrogate, which PostgreSQL cannot store',
      'f.yaml: services[0].description: holds a NUL character or a lone surrogate, which PostgreSQL cannot store',
    ]);
  });

  it('reports every problem, one per line', () => {
    const lines = errorOf('services:\n  - id: A\n    name: ""\n').split('\n');
    expect(lines).toHaveLength(2);
    expect(lines[0]).toMatch(/^f\.yaml: services\[0\]\.id: /);
    expect(lines[1]).toMatch(/^f\.yaml: services\[0\]\.name: /);
  });

  it.each<[string, string, number]>([
    ['a block inside a flow list', 'services: [\n  - id: a\n', 2],
    ['a bad indentation', 'services:\n  - id: a\n    name: b\n   x: : y\n', 4],
    ['a duplicate map key', 'services: []\nservices: []\n', 2],
  ])('rejects invalid YAML (%s) naming the line', (_, text, line) => {
    expect(errorOf(text)).toMatch(new RegExp(`^f\\.yaml: not valid YAML \\(line ${line}, column \\d+\\): `));
  });
});

/** A small valid file with every section; cases below change one part of it. */
const parts = {
  services: `services:
  - id: web
    name: Web
    routing:
      escalationPolicy: p1
      template: t1
      ackTimeout: 30m
      rules:
        - { name: r1, when: 'has(labels.site) && labels.site == "fra1"', severity: critical, continue: true }
        - { name: r2, when: 'calendars.biz', template: t1 }
`,
  calendars: `calendars:
  - { id: biz, name: Biz, timeZone: Europe/Berlin, hours: [{ days: [mon, fri], from: "09:00", to: "17:00" }], holidays: ["2026-12-25"] }
`,
  templates: `templates:
  - { id: t1, name: T1, channels: { sms: "{{ alert.summary }}", email: { subject: "s", text: "t" } } }
`,
  schedules: `schedules:
  - id: s1
    name: S1
    timeZone: Europe/Berlin
    rotations:
      - { id: r1, type: weekly, start: "2026-01-05T09:00", members: [alice, bob], restrictions: [{ days: [sat, sun], from: "00:00", to: "00:00" }] }
    overrides:
      - { kind: replace, user: carol, replaces: alice, start: "2026-02-02T09:00", end: "2026-02-09T09:00" }
    temporary:
      - { start: "2026-12-24T00:00:00Z", end: "2026-12-27T00:00:00Z", users: [carol] }
`,
  escalationPolicies: `escalationPolicies:
  - id: p1
    name: P1
    repeat: 1
    steps:
      - { delay: 5m, targets: [{ schedule: s1 }] }
      - { delay: 10m, untilAllAck: true, targets: [{ user: carol }, { slack: "#noc" }, { rotation: s1/r1 }, { webhook: "https://example.net/hook" }] }
`,
  maintenanceWindows: `maintenanceWindows:
  - { id: m1, name: M1, timeZone: Europe/Berlin, start: "2026-03-10T22:00", end: "2026-03-11T04:00", services: [web], labels: { site: fra1 } }
  - { id: m2, name: M2, start: "2026-03-12T01:00:00+01:00", end: "2026-03-12T03:00:00+01:00", when: 'calendars.biz', mode: annotate }
`,
};
type Parts = Record<keyof typeof parts, string>;
const fileWith = (over: Partial<Parts> = {}): string => Object.values({ ...parts, ...over }).join('');

describe('parseConfigFile: schedules, policies, routing, calendars, templates, maintenance windows', () => {
  it('parses every section into seconds, ISO times with offsets and the contract shapes', () => {
    const f = parseConfigFile(fileWith(), 'f.yaml');
    expect(f.services[0]?.routing).toStrictEqual({
      escalationPolicy: 'p1',
      template: 't1',
      ackTimeout: 1800,
      grouping: null,
      flapping: null,
      rules: [
        {
          name: 'r1',
          when: 'has(labels.site) && labels.site == "fra1"',
          escalationPolicy: null,
          template: null,
          severity: 'critical',
          ticket: null,
          suppress: false,
          grouping: null,
          flapping: null,
          continue: true,
        },
        {
          name: 'r2',
          when: 'calendars.biz',
          escalationPolicy: null,
          template: 't1',
          severity: null,
          ticket: null,
          suppress: false,
          grouping: null,
          flapping: null,
          continue: false,
        },
      ],
    });
    expect(f.schedules[0]).toStrictEqual({
      id: 's1',
      name: 'S1',
      timeZone: 'Europe/Berlin',
      rotations: [
        {
          id: 'r1',
          name: 'r1',
          type: 'weekly',
          shiftLength: 1,
          start: '2026-01-05T09:00:00+01:00',
          members: ['alice', 'bob'],
          restrictions: [{ days: ['sat', 'sun'], from: '00:00', to: '00:00' }],
        },
      ],
      overrides: [
        { kind: 'replace', user: 'carol', replaces: 'alice', start: '2026-02-02T09:00:00+01:00', end: '2026-02-09T09:00:00+01:00' },
      ],
      temporary: [{ start: '2026-12-24T01:00:00+01:00', end: '2026-12-27T01:00:00+01:00', users: ['carol'] }],
    });
    expect(f.escalationPolicies[0]).toStrictEqual({
      id: 'p1',
      name: 'P1',
      repeat: 1,
      steps: [
        { delay: 300, untilAllAck: false, targets: [{ type: 'schedule', scheduleId: 's1' }] },
        {
          delay: 600,
          untilAllAck: true,
          targets: [
            { type: 'user', userId: 'carol' },
            { type: 'slack', channel: '#noc' },
            { type: 'rotation', scheduleId: 's1', rotationId: 'r1' },
            { type: 'webhook', url: 'https://example.net/hook' },
          ],
        },
      ],
    });
    expect(f.templates[0]).toStrictEqual({
      id: 't1',
      name: 'T1',
      description: '',
      variables: { required: [], optional: [] },
      channels: {
        slack: null,
        teams: null,
        emailSubject: 's',
        emailHtml: null,
        emailText: 't',
        sms: '{{ alert.summary }}',
        voice: null,
        webhook: null,
      },
    });
    expect(f.maintenanceWindows).toStrictEqual([
      {
        id: 'm1',
        name: 'M1',
        start: '2026-03-10T22:00:00+01:00',
        end: '2026-03-11T04:00:00+01:00',
        services: ['web'],
        labels: { site: 'fra1' },
        when: null,
        mode: 'suppress',
      },
      {
        id: 'm2',
        name: 'M2',
        start: '2026-03-12T01:00:00+01:00',
        end: '2026-03-12T03:00:00+01:00',
        services: [],
        labels: {},
        when: 'calendars.biz',
        mode: 'annotate',
      },
    ]);
    expect(f.calendars).toStrictEqual([
      {
        id: 'biz',
        name: 'Biz',
        timeZone: 'Europe/Berlin',
        hours: [{ days: ['mon', 'fri'], from: '09:00', to: '17:00' }],
        holidays: ['2026-12-25'],
      },
    ]);
  });

  it.each<[string, Partial<Parts>, string[]]>([
    [
      'invalid CEL, with its line and column',
      { services: parts.services.replace('calendars.biz', 'labels.site == "a" &&& x') },
      ['f.yaml: services[0].routing.rules[1].when: line 1, column 22: Unexpected character: &'],
    ],
    [
      'CEL over several lines, positioned in its own source',
      { services: parts.services.replace("when: 'calendars.biz'", 'when: "labels.site == \\"a\\" &&\\n  lables.pop == \\"b\\""') },
      ['f.yaml: services[0].routing.rules[1].when: line 2, column 3: Unknown variable: lables'],
    ],
    [
      'a CEL condition that is not a bool',
      { services: parts.services.replace('calendars.biz', 'labels.site') },
      ['f.yaml: services[0].routing.rules[1].when: line 1, column 1: the condition must yield a bool, not string'],
    ],
    [
      'a typo in an alert field',
      { services: parts.services.replace('calendars.biz', 'alert.sevrity == "critical"') },
      ['f.yaml: services[0].routing.rules[1].when: line 1, column 7: No such key: sevrity'],
    ],
    [
      'a calendar a rule names but the file lacks',
      { services: parts.services.replace('calendars.biz', 'now.hour > 8 && !calendars.nope') },
      ['f.yaml: services[0].routing.rules[1].when: line 1, column 18: no calendar "nope" in this file'],
    ],
    [
      'an unknown default policy',
      { services: parts.services.replace('escalationPolicy: p1', 'escalationPolicy: p9') },
      ['f.yaml: services[0].routing.escalationPolicy: no escalation policy "p9" in this file'],
    ],
    [
      'an unknown template in a rule',
      { services: parts.services.replace('template: t1 }', 'template: t9 }') },
      ['f.yaml: services[0].routing.rules[1].template: no template "t9" in this file'],
    ],
    [
      'an ack timeout under a minute',
      { services: parts.services.replace('ackTimeout: 30m', 'ackTimeout: 30s') },
      ['f.yaml: services[0].routing.ackTimeout: must be between 1m and 7d'],
    ],
    [
      'two rules with one name',
      { services: parts.services.replace('name: r2', 'name: r1') },
      ['f.yaml: services[0].routing.rules[1].name: duplicate rule name "r1" (also rules[0])'],
    ],
    [
      'an unknown severity',
      { services: parts.services.replace('severity: critical', 'severity: sev1') },
      [
        "f.yaml: services[0].routing.rules[0].severity: Invalid enum value. Expected 'critical' | 'error' | 'warning' | 'info' | 'unknown', received 'sev1'",
      ],
    ],
    [
      'an unknown key in a rule',
      { services: parts.services.replace('severity: critical', 'severty: critical') },
      ["f.yaml: services[0].routing.rules[0]: Unrecognized key(s) in object: 'severty'"],
    ],
    [
      'an invalid time zone',
      { schedules: parts.schedules.replace('timeZone: Europe/Berlin', 'timeZone: Europe/Berlinn') },
      ['f.yaml: schedules[0].timeZone: unknown time zone "Europe/Berlinn" (use an IANA name like Europe/Berlin or UTC)'],
    ],
    [
      'an invalid calendar time zone',
      { calendars: parts.calendars.replace('Europe/Berlin', 'CET+1') },
      ['f.yaml: calendars[0].timeZone: unknown time zone "CET+1" (use an IANA name like Europe/Berlin or UTC)'],
    ],
    [
      'a holiday that is no date',
      { calendars: parts.calendars.replace('2026-12-25', '2026-02-30') },
      ['f.yaml: calendars[0].holidays[0]: use a real date as YYYY-MM-DD'],
    ],
    [
      'a local start skipped by DST',
      { schedules: parts.schedules.replace('2026-01-05T09:00', '2026-03-29T02:30') },
      ['f.yaml: schedules[0].rotations[0].start: 2026-03-29T02:30 does not exist in Europe/Berlin (the clocks skip it)'],
    ],
    [
      'a start that is no time',
      { schedules: parts.schedules.replace('2026-01-05T09:00', 'next monday') },
      ['f.yaml: schedules[0].rotations[0].start: use ISO 8601 with an offset (2026-01-05T09:00:00+01:00) or local time (2026-01-05T09:00)'],
    ],
    [
      'an override that ends before it starts',
      { schedules: parts.schedules.replace('2026-02-09T09:00', '2026-02-01T09:00') },
      ['f.yaml: schedules[0].overrides[0].end: must be after start (2026-02-02T09:00:00+01:00)'],
    ],
    [
      'a temporary schedule that ends when it starts',
      { schedules: parts.schedules.replace('2026-12-27T00:00:00Z', '2026-12-24T01:00:00+01:00') },
      ['f.yaml: schedules[0].temporary[0].end: must be after start (2026-12-24T01:00:00+01:00)'],
    ],
    [
      'a replace override without the user it replaces',
      { schedules: parts.schedules.replace(' replaces: alice,', '') },
      ['f.yaml: schedules[0].overrides[0].replaces: a replace override names the user it replaces'],
    ],
    [
      'an add override naming a user it replaces',
      { schedules: parts.schedules.replace('kind: replace', 'kind: add') },
      ['f.yaml: schedules[0].overrides[0].replaces: only a replace override names a user it replaces (this one is add)'],
    ],
    [
      'a restriction without days',
      { schedules: parts.schedules.replace('days: [sat, sun]', 'days: []') },
      ['f.yaml: schedules[0].rotations[0].restrictions[0].days: list at least one day (mon … sun)'],
    ],
    [
      'a restriction time that is no time',
      { schedules: parts.schedules.replace('to: "00:00"', 'to: "24:00"') },
      ['f.yaml: schedules[0].rotations[0].restrictions[0].to: use HH:mm (24 h)'],
    ],
    [
      'a shift longer than the on-call calculation allows',
      { schedules: parts.schedules.replace('type: weekly,', 'type: weekly, shiftLength: 60,') },
      ['f.yaml: schedules[0].rotations[0].shiftLength: must be a whole number from 1 to 53 for a weekly rotation'],
    ],
    [
      'a rotation without members',
      { schedules: parts.schedules.replace('members: [alice, bob]', 'members: []') },
      ['f.yaml: schedules[0].rotations[0].members: list at least one member'],
    ],
    [
      'duplicate rotation ids',
      {
        schedules: parts.schedules.replace(
          '    overrides:',
          '      - { id: r1, type: daily, start: "2026-01-05T09:00", members: [bob] }\n    overrides:',
        ),
      },
      ['f.yaml: schedules[0].rotations[1].id: duplicate rotation id "r1" (also rotations[0])'],
    ],
    [
      'duplicate schedule ids',
      { schedules: parts.schedules + parts.schedules.replace('schedules:\n', '') },
      ['f.yaml: schedules[1].id: duplicate schedule id "s1" (also schedules[0])'],
    ],
    [
      'an unknown schedule in a target',
      { escalationPolicies: parts.escalationPolicies.replace('{ schedule: s1 }', '{ schedule: x }') },
      ['f.yaml: escalationPolicies[0].steps[0].targets[0].schedule: no schedule "x" in this file'],
    ],
    [
      'an unknown rotation in a target',
      { escalationPolicies: parts.escalationPolicies.replace('s1/r1', 's1/r9') },
      ['f.yaml: escalationPolicies[0].steps[1].targets[2].rotation: no rotation "r9" in schedule "s1"'],
    ],
    [
      'a rotation target of an unknown schedule',
      { escalationPolicies: parts.escalationPolicies.replace('s1/r1', 's9/r1') },
      ['f.yaml: escalationPolicies[0].steps[1].targets[2].rotation: no schedule "s9" in this file'],
    ],
    [
      'a target with two kinds',
      { escalationPolicies: parts.escalationPolicies.replace('{ user: carol }', '{ user: carol, slack: "#x" }') },
      [
        'f.yaml: escalationPolicies[0].steps[1].targets[0]: give exactly one of user, schedule, rotation, slack, webhook, tier (found user, slack)',
      ],
    ],
    [
      'a target with no kind',
      { escalationPolicies: parts.escalationPolicies.replace('{ user: carol }', '{}') },
      ['f.yaml: escalationPolicies[0].steps[1].targets[0]: give exactly one of user, schedule, rotation, slack, webhook, tier'],
    ],
    [
      'a Slack channel without #',
      { escalationPolicies: parts.escalationPolicies.replace('"#noc"', 'noc') },
      ['f.yaml: escalationPolicies[0].steps[1].targets[1].slack: use a channel name like "#noc" or a channel id like C0123ABCD'],
    ],
    [
      'a webhook that is no URL',
      { escalationPolicies: parts.escalationPolicies.replace('https://example.net/hook', 'ftp://example.net/x') },
      ['f.yaml: escalationPolicies[0].steps[1].targets[3].webhook: use an http or https URL'],
    ],
    [
      'a step delay without unit',
      { escalationPolicies: parts.escalationPolicies.replace('delay: 5m', 'delay: 5') },
      ['f.yaml: escalationPolicies[0].steps[0].delay: Expected string, received number'],
    ],
    [
      'a typo in a step',
      { escalationPolicies: parts.escalationPolicies.replace('untilAllAck', 'untilAllAcked') },
      ["f.yaml: escalationPolicies[0].steps[1]: Unrecognized key(s) in object: 'untilAllAcked'"],
    ],
    [
      're-paging every few seconds',
      { escalationPolicies: parts.escalationPolicies.replace('delay: 10m', 'delay: 30s') },
      ['f.yaml: escalationPolicies[0].steps[1].delay: untilAllAck re-pages every delay: use at least 1m'],
    ],
    [
      'a repeating policy without delays',
      {
        escalationPolicies: parts.escalationPolicies
          .replace('delay: 5m', 'delay: 0s')
          .replace('delay: 10m, untilAllAck: true', 'delay: 0s'),
      },
      ['f.yaml: escalationPolicies[0].repeat: repeating a policy whose steps all have delay 0s would page in a loop'],
    ],
    [
      'a policy without steps',
      { escalationPolicies: 'escalationPolicies:\n  - { id: p1, name: P1, steps: [] }\n' },
      ['f.yaml: escalationPolicies[0].steps: list at least one step'],
    ],
    [
      'a maintenance window ending before its start',
      { maintenanceWindows: parts.maintenanceWindows.replace('2026-03-11T04:00', '2026-03-10T21:00') },
      ['f.yaml: maintenanceWindows[0].end: must be after start (2026-03-10T22:00:00+01:00)'],
    ],
    [
      'a window time without offset or zone',
      { maintenanceWindows: parts.maintenanceWindows.replace('2026-03-12T01:00:00+01:00', '2026-03-12T01:00') },
      ['f.yaml: maintenanceWindows[1].start: add an offset (2026-03-02T22:00:00+01:00) or set timeZone to write local time'],
    ],
    [
      'a window of an unknown service',
      { maintenanceWindows: parts.maintenanceWindows.replace('services: [web]', 'services: [web, api]') },
      ['f.yaml: maintenanceWindows[0].services[1]: no service "api" in this file'],
    ],
    [
      'a window condition that does not compile',
      { maintenanceWindows: parts.maintenanceWindows.replace("when: 'calendars.biz'", "when: 'labels.x =='") },
      ['f.yaml: maintenanceWindows[1].when: line 1, column 12: Unexpected token: EOF'],
    ],
    [
      'a window with an unknown mode',
      { maintenanceWindows: parts.maintenanceWindows.replace('mode: annotate', 'mode: mute') },
      ["f.yaml: maintenanceWindows[1].mode: Invalid enum value. Expected 'suppress' | 'annotate', received 'mute'"],
    ],
    [
      'a template without channels',
      { templates: 'templates:\n  - { id: t1, name: T1, channels: {} }\n' },
      ['f.yaml: templates[0].channels: give at least one channel (slack, teams, email, sms, voice, webhook)'],
    ],
    [
      'an email without a body',
      { templates: parts.templates.replace(', text: "t"', '') },
      ['f.yaml: templates[0].channels.email: give html, text or both'],
    ],
    [
      'an unknown channel',
      { templates: parts.templates.replace('sms:', 'pager:') },
      ["f.yaml: templates[0].channels: Unrecognized key(s) in object: 'pager'"],
    ],
    [
      'duplicate template ids',
      { templates: parts.templates + parts.templates.replace('templates:\n', '') },
      ['f.yaml: templates[1].id: duplicate template id "t1" (also templates[0])'],
    ],
    [
      'an id with capitals (what named the old id now misses it)',
      { calendars: parts.calendars.replace('id: biz', 'id: Biz') },
      [
        'f.yaml: calendars[0].id: use 1-63 lower-case letters, digits, dashes and underscores',
        'f.yaml: services[0].routing.rules[1].when: line 1, column 1: no calendar "biz" in this file',
        'f.yaml: maintenanceWindows[1].when: line 1, column 1: no calendar "biz" in this file',
      ],
    ],
  ])('rejects %s', (_, over, expected) => {
    expect(errorOf(fileWith(over)).split('\n')).toStrictEqual(expected);
  });

  it('does not report references to an element that is itself broken', () => {
    const text = fileWith({ escalationPolicies: parts.escalationPolicies.replace('delay: 5m', 'delay: soon') });
    expect(errorOf(text).split('\n')).toStrictEqual([
      'f.yaml: escalationPolicies[0].steps[0].delay: use a number and a unit: 30s, 5m, 25h, 7d',
    ]);
  });

  it('reports every problem of every section together, in file order, then the references', () => {
    const text = fileWith({
      services: parts.services.replace('calendars.biz', 'calendars.biz &&').replace('escalationPolicy: p1', 'escalationPolicy: p9'),
      schedules: parts.schedules.replace('timeZone: Europe/Berlin', 'timeZone: Mars/Olympus'),
      escalationPolicies: parts.escalationPolicies.replace('{ schedule: s1 }', '{ schedule: x }'),
      maintenanceWindows: parts.maintenanceWindows.replace('2026-03-11T04:00', '2026-03-10T21:00'),
    });
    expect(errorOf(text).split('\n')).toStrictEqual([
      'f.yaml: services[0].routing.rules[1].when: line 1, column 17: Unexpected token: EOF',
      'f.yaml: schedules[0].timeZone: unknown time zone "Mars/Olympus" (use an IANA name like Europe/Berlin or UTC)',
      'f.yaml: maintenanceWindows[0].end: must be after start (2026-03-10T22:00:00+01:00)',
      'f.yaml: escalationPolicies[0].steps[0].targets[0].schedule: no schedule "x" in this file',
    ]);
  });
});

describe('checkConfigFile', () => {
  const users =
    (...ids: string[]) =>
    () =>
      new Set(ids);

  it('accepts the file when every user exists, without warnings', async () => {
    const { file, warnings } = await checkConfigFile(fileWith(), 'f.yaml', {
      knownUsers: users('alice', 'bob', 'carol'),
      usersSource: 'users.yaml',
    });
    expect(file.schedules).toHaveLength(1);
    expect(warnings).toStrictEqual([]);
  });

  it('names every place an unknown user is used', async () => {
    const text = fileWith({
      schedules: parts.schedules.replace('[alice, bob]', '[alice, dave]').replace('users: [carol]', 'users: [erin]'),
    });
    const err = await checkConfigFile(text, 'f.yaml', { knownUsers: users('alice', 'bob', 'carol'), usersSource: 'users.yaml' }).catch(
      (e: unknown) => e,
    );
    expect(err).toBeInstanceOf(ConfigFileError);
    expect((err as ConfigFileError).problems).toStrictEqual([
      'f.yaml: schedules[0].rotations[0].members[1]: no user "dave" in users.yaml',
      'f.yaml: schedules[0].temporary[0].users[0]: no user "erin" in users.yaml',
    ]);
  });

  it('asks for every referenced user once, sorted', async () => {
    const asked: string[][] = [];
    await checkConfigFile(fileWith(), 'f.yaml', { knownUsers: (ids) => (asked.push(ids), new Set(ids)) });
    expect(asked).toStrictEqual([['alice', 'bob', 'carol']]);
  });

  it('without a user source, warns that users were not checked', async () => {
    const { warnings } = await checkConfigFile(fileWith({ schedules: parts.schedules.replace('[alice, bob]', '[nobody]') }), 'f.yaml');
    expect(warnings).toStrictEqual(['f.yaml: users not checked: no user source given (oncall apply --users <file>)']);
  });

  it('reports a user source that fails as a problem', async () => {
    const failing = () => Promise.reject(new Error('connection refused'));
    await expect(checkConfigFile(fileWith(), 'f.yaml', { knownUsers: failing, usersSource: 'UserService at 127.0.0.1:1' })).rejects.toThrow(
      'f.yaml: (root): users could not be checked against UserService at 127.0.0.1:1: connection refused',
    );
  });

  it('reports file problems and user problems together', async () => {
    const text = fileWith({
      calendars: parts.calendars.replace('timeZone: Europe/Berlin', 'timeZone: Nowhere'),
      schedules: parts.schedules.replace('[alice, bob]', '[alice, zed]'),
    });
    const err = (await checkConfigFile(text, 'f.yaml', { knownUsers: users('alice', 'bob', 'carol'), usersSource: 'users.yaml' }).catch(
      (e: unknown) => e,
    )) as ConfigFileError;
    expect(err.problems).toStrictEqual([
      'f.yaml: calendars[0].timeZone: unknown time zone "Nowhere" (use an IANA name like Europe/Berlin or UTC)',
      'f.yaml: schedules[0].rotations[0].members[1]: no user "zed" in users.yaml',
    ]);
  });

  it('maps what the template validator finds onto the file', async () => {
    const validateTemplate: TemplateValidator = (t) => [
      { channel: 'emailText', message: `liquid: unclosed tag in ${t.id}` },
      { channel: null, message: 'required variable alert.nope is never used' },
    ];
    const err = (await checkConfigFile(fileWith(), 'f.yaml', { knownUsers: users('alice', 'bob', 'carol'), validateTemplate }).catch(
      (e: unknown) => e,
    )) as ConfigFileError;
    expect(err.problems).toStrictEqual([
      'f.yaml: templates[0].channels.email.text: liquid: unclosed tag in t1',
      'f.yaml: templates[0]: required variable alert.nope is never used',
    ]);
  });
});

describe('the example files', () => {
  const example = (name: string) => fileURLToPath(new URL(`../../examples/${name}`, import.meta.url));
  it.each(['oncall.yaml', 'isp-noc.yaml'])('examples/%s is valid against examples/users.yaml', async (name) => {
    const ids = new Set((await readUsersFile(example('users.yaml'))).users.map((u) => u.id));
    const { file, warnings } = await readAndCheckConfigFile(example(name), { knownUsers: () => ids, usersSource: 'users.yaml' });
    expect(warnings).toStrictEqual([]);
    expect(file.services.length).toBeGreaterThan(0);
  });

  it('examples/oncall.yaml keeps the demo service, its key and the canary as tests rely on them', async () => {
    const file = await readConfigFile(example('oncall.yaml'));
    expect(file.services.find((s) => s.id === 'demo')?.integrationKeys).toStrictEqual([
      { name: 'alertmanager', key: 'demo-alertmanager-key-0001' },
    ]);
    expect(file.heartbeats).toStrictEqual([{ id: 'demo-canary', name: 'Demo canary job', service: 'demo', interval: 300 }]);
  });
});
