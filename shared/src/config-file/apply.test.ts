import { createHash } from 'node:crypto';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { evolveConfig, initialConfigState, routeAlert, ruleCache, stormSense, type ConfigState, type RuleError } from '../index.js';
import { planApply, subjectOf, type PlannedEvent } from './apply.js';
import { parseConfigFile, readConfigFile, type ConfigFile } from './file.js';

type FileService = ConfigFile['services'][number];

const KEY_1 = 'key-one-0123456789abcdef';
const KEY_2 = 'key-two-0123456789abcdef';
const sha256 = (s: string): string => createHash('sha256').update(s).digest('hex');

const svc = (id: string, over: Partial<FileService> = {}): FileService => ({
  id,
  name: `Service ${id}`,
  description: '',
  integrationKeys: [{ name: 'am', key: KEY_1 }],
  routing: null,
  ...over,
});
const file = (...services: FileService[]): ConfigFile => ({
  services,
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
});

/** Appends planned events to a state as the log would, with made-up metadata. */
function applied(state: ConfigState, planned: readonly PlannedEvent[]): ConfigState {
  return planned.reduce(
    (s, p, i) =>
      evolveConfig(s, { ...p, id: `id-${i}`, v: 1, occurredAt: '2026-01-01T00:00:00.000Z', causationId: null, correlationId: 't' }),
    state,
  );
}
const stateOf = (f: ConfigFile): ConfigState => applied(initialConfigState(), planApply(initialConfigState(), f, false));

describe('planApply', () => {
  it('on an empty state plans one ServiceConfigured per service, with key hashes only', () => {
    const f = file(svc('a'), svc('b', { description: 'd', integrationKeys: [{ name: 'x', key: KEY_2 }] }));
    const planned = planApply(initialConfigState(), f, false);
    expect(planned).toStrictEqual([
      {
        type: 'ServiceConfigured',
        data: { serviceId: 'a', name: 'Service a', description: '', integrationKeys: [{ name: 'am', keyHash: sha256(KEY_1) }] },
      },
      {
        type: 'ServiceConfigured',
        data: { serviceId: 'b', name: 'Service b', description: 'd', integrationKeys: [{ name: 'x', keyHash: sha256(KEY_2) }] },
      },
    ]);
    expect(JSON.stringify(planned)).not.toContain(KEY_1);
    expect(JSON.stringify(planned)).not.toContain(KEY_2);
  });

  it('plans nothing once the plan is applied', () => {
    const f = file(svc('a'), svc('b', { integrationKeys: [] }));
    expect(planApply(stateOf(f), f, true)).toStrictEqual([]);
  });

  it('does not care about the order of keys in the file', () => {
    const keys = [
      { name: 'k1', key: KEY_1 },
      { name: 'k2', key: KEY_2 },
    ];
    const current = stateOf(file(svc('a', { integrationKeys: keys })));
    expect(planApply(current, file(svc('a', { integrationKeys: [...keys].reverse() })), false)).toStrictEqual([]);
  });

  it.each<[string, Partial<FileService>]>([
    ['a new name', { name: 'Renamed' }],
    ['a new description', { description: 'now described' }],
    [
      'an added key',
      {
        integrationKeys: [
          { name: 'am', key: KEY_1 },
          { name: 'new', key: KEY_2 },
        ],
      },
    ],
    ['a replaced key', { integrationKeys: [{ name: 'am', key: KEY_2 }] }],
    ['a renamed key', { integrationKeys: [{ name: 'renamed', key: KEY_1 }] }],
    ['no keys', { integrationKeys: [] }],
  ])('plans exactly one ServiceConfigured for %s', (_, change) => {
    const current = stateOf(file(svc('a'), svc('b', { integrationKeys: [] })));
    const planned = planApply(current, file(svc('a', change), svc('b', { integrationKeys: [] })), false);
    expect(planned).toHaveLength(1);
    expect(planned[0]).toMatchObject({ type: 'ServiceConfigured', data: { serviceId: 'a' } });
    expect(planApply(applied(current, planned), file(svc('a', change), svc('b', { integrationKeys: [] })), false)).toStrictEqual([]);
  });

  it.each<[boolean, PlannedEvent[]]>([
    [false, []],
    [true, [{ type: 'ServiceRemoved', data: { serviceId: 'b' } }]],
  ])('with prune=%s, a service missing from the file plans %j', (prune, expected) => {
    const current = stateOf(file(svc('a'), svc('b', { integrationKeys: [] })));
    expect(planApply(current, file(svc('a')), prune)).toStrictEqual(expected);
  });

  it('with prune, an empty file removes every service', () => {
    const current = stateOf(file(svc('a'), svc('b', { integrationKeys: [] })));
    const planned = planApply(current, file(), true);
    expect(planned).toStrictEqual([
      { type: 'ServiceRemoved', data: { serviceId: 'a' } },
      { type: 'ServiceRemoved', data: { serviceId: 'b' } },
    ]);
    expect(applied(current, planned).services.size).toBe(0);
  });
});

const FULL = `
services:
  - id: web
    name: Web
    integrationKeys: [{ name: am, key: ${KEY_1} }]
    routing:
      escalationPolicy: p1
      template: t1
      ackTimeout: 30m
      rules:
        - { name: fra, when: 'has(labels.site) && labels.site == "fra1"', severity: critical, ticket: jira, continue: true }
        - { name: biz, when: 'calendars.biz', escalationPolicy: p2, template: t1 }
heartbeats:
  - { id: web-canary, name: Canary, service: web, interval: 5m }
ticketProviders:
  - id: jira
    type: jira
    name: Jira
    settings: { baseUrl: 'https://example.atlassian.net', project: OPS }
    auth: { kind: basic, username: oncall@example.com, password: { env: JIRA_TOKEN } }
    fields: { summary: 'alert.summary' }
calendars:
  - { id: biz, name: Biz, timeZone: Europe/Berlin, hours: [{ days: [mon, fri], from: "09:00", to: "17:00" }] }
templates:
  - { id: t1, name: T1, channels: { sms: "{{ alert.summary }}" } }
schedules:
  - id: s1
    name: S1
    timeZone: Europe/Berlin
    rotations:
      - { id: r1, type: weekly, start: "2026-01-05T09:00", members: [alice, bob] }
    overrides:
      - { kind: add, user: carol, start: "2026-02-02T09:00", end: "2026-02-03T09:00" }
escalationPolicies:
  - { id: p1, name: P1, steps: [{ delay: 5m, targets: [{ schedule: s1 }] }, { delay: 10m, targets: [{ user: carol }, { slack: "#noc" }] }] }
  - { id: p2, name: P2, repeat: 2, steps: [{ delay: 5m, untilAllAck: true, targets: [{ rotation: s1/r1 }] }] }
maintenanceWindows:
  - { id: m1, name: M1, timeZone: Europe/Berlin, start: "2026-03-10T22:00", end: "2026-03-11T04:00", labels: { site: fra1 } }
`;
const full = (text = FULL): ConfigFile => parseConfigFile(text, 'f.yaml');

describe('planApply: schedules, policies, routing, calendars, templates, maintenance windows', () => {
  it('on an empty state plans every element, referenced things first, on its own subject', () => {
    const planned = planApply(initialConfigState(), full(), false);
    expect(planned.map((p) => `${p.type} ${subjectOf(p)}`)).toStrictEqual([
      'ServiceConfigured config.service.web',
      'TemplateVersionPublished config.template.t1',
      'TicketProviderConfigured config.ticket-provider.jira',
      'HeartbeatMonitorConfigured config.heartbeat.web-canary',
      'CalendarConfigured config.calendar.biz',
      'ScheduleConfigured config.schedule.s1',
      'EscalationPolicyConfigured config.policy.p1',
      'EscalationPolicyConfigured config.policy.p2',
      'RoutingConfigured config.routing.web',
      'MaintenanceWindowConfigured config.maintenance.m1',
    ]);
  });

  it('builds the contract events from the file', () => {
    const planned = planApply(initialConfigState(), full(), false);
    const find = (type: PlannedEvent['type'], id: string) => planned.find((p) => p.type === type && subjectOf(p).endsWith(`.${id}`))?.data;
    expect(find('RoutingConfigured', 'web')).toStrictEqual({
      serviceId: 'web',
      escalationPolicyId: 'p1',
      templateId: 't1',
      ackTimeoutSeconds: 1800,
      rules: [
        {
          name: 'fra',
          when: 'has(labels.site) && labels.site == "fra1"',
          policyId: null,
          templateId: null,
          severity: 'critical',
          ticket: 'jira',
          suppress: false,
          continue: true,
        },
        {
          name: 'biz',
          when: 'calendars.biz',
          policyId: 'p2',
          templateId: 't1',
          severity: null,
          ticket: null,
          suppress: false,
          continue: false,
        },
      ],
    });
    expect(find('ScheduleConfigured', 's1')).toStrictEqual({
      scheduleId: 's1',
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
          restrictions: [],
        },
      ],
      overrides: [{ kind: 'add', userId: 'carol', replaces: null, start: '2026-02-02T09:00:00+01:00', end: '2026-02-03T09:00:00+01:00' }],
      temporary: [],
    });
    expect(find('EscalationPolicyConfigured', 'p2')).toStrictEqual({
      policyId: 'p2',
      name: 'P2',
      repeat: 2,
      steps: [{ delaySeconds: 300, untilAllAck: true, targets: [{ type: 'rotation', scheduleId: 's1', rotationId: 'r1' }] }],
    });
    expect(find('TemplateVersionPublished', 't1')).toStrictEqual({
      templateId: 't1',
      version: 1,
      name: 'T1',
      description: '',
      channels: {
        slack: null,
        teams: null,
        emailSubject: null,
        emailHtml: null,
        emailText: null,
        sms: '{{ alert.summary }}',
        voice: null,
        webhook: null,
      },
      variables: { required: [], optional: [] },
      createdBy: 'oncall apply',
    });
  });

  it('plans nothing once the plan is applied, even with prune', () => {
    const state = applied(initialConfigState(), planApply(initialConfigState(), full(), false));
    expect(planApply(state, full(), true)).toStrictEqual([]);
  });

  it.each<[string, string, string]>([
    ['a schedule member', 'members: [alice, bob]', 'ScheduleConfigured'],
    ['a step delay', 'delay: 10m', 'EscalationPolicyConfigured'],
    ['a rule condition', "when: 'calendars.biz'", 'RoutingConfigured'],
    ['a holiday', 'from: "09:00", to: "17:00" }]', 'CalendarConfigured'],
    ['a window label', 'labels: { site: fra1 }', 'MaintenanceWindowConfigured'],
  ])('plans exactly one event for a change of %s', (_, find, type) => {
    const state = applied(initialConfigState(), planApply(initialConfigState(), full(), false));
    const replacement: Record<string, string> = {
      ScheduleConfigured: 'members: [bob, alice]',
      EscalationPolicyConfigured: 'delay: 15m',
      RoutingConfigured: "when: '!calendars.biz'",
      CalendarConfigured: 'from: "09:00", to: "17:00" }], holidays: ["2026-12-25"]',
      MaintenanceWindowConfigured: 'labels: { site: fra2 }',
    };
    const changed = full(FULL.replace(find, replacement[type] ?? ''));
    const planned = planApply(state, changed, false);
    expect(planned.map((p) => p.type)).toStrictEqual([type]);
    expect(planApply(applied(state, planned), changed, false)).toStrictEqual([]);
  });

  it('a changed template gets the next version; an unchanged one nothing', () => {
    const state = applied(initialConfigState(), planApply(initialConfigState(), full(), false));
    const changed = full(FULL.replace('sms: "{{ alert.summary }}"', 'sms: "[{{ alert.severity }}] {{ alert.summary }}"'));
    const planned = planApply(state, changed, false, { createdBy: 'alice' });
    expect(planned).toMatchObject([
      {
        type: 'TemplateVersionPublished',
        data: { templateId: 't1', version: 2, createdBy: 'alice', channels: { sms: '[{{ alert.severity }}] {{ alert.summary }}' } },
      },
    ]);
    const after = applied(state, planned);
    expect(after.templates.get('t1')?.version).toBe(2);
    expect(planApply(after, changed, false, { createdBy: 'bob' })).toStrictEqual([]);
  });

  it('a template removed and listed again continues after the highest version ever published', () => {
    expect(planApply(initialConfigState(), full(), false, { templateVersions: new Map([['t1', 4]]) })).toContainEqual(
      expect.objectContaining({
        type: 'TemplateVersionPublished',
        data: expect.objectContaining({ templateId: 't1', version: 5 }) as unknown,
      }),
    );
  });

  it('a service that loses its routing block keeps its routing unless pruned', () => {
    const state = applied(initialConfigState(), planApply(initialConfigState(), full(), false));
    const withoutRouting = full();
    const web = withoutRouting.services[0]!;
    withoutRouting.services[0] = { ...web, routing: null };
    expect(planApply(state, withoutRouting, false)).toStrictEqual([]);
    expect(planApply(state, withoutRouting, true)).toStrictEqual([{ type: 'RoutingRemoved', data: { serviceId: 'web' } }]);
  });

  it('with prune, an empty file removes everything, referring things first', () => {
    const state = applied(initialConfigState(), planApply(initialConfigState(), full(), false));
    const planned = planApply(state, file(), true);
    expect(planned.map((p) => `${p.type} ${subjectOf(p)}`)).toStrictEqual([
      'MaintenanceWindowRemoved config.maintenance.m1',
      'RoutingRemoved config.routing.web',
      'TicketProviderRemoved config.ticket-provider.jira',
      'HeartbeatMonitorRemoved config.heartbeat.web-canary',
      'ServiceRemoved config.service.web',
      'EscalationPolicyRemoved config.policy.p1',
      'EscalationPolicyRemoved config.policy.p2',
      'ScheduleRemoved config.schedule.s1',
      'TemplateRemoved config.template.t1',
      'CalendarRemoved config.calendar.biz',
    ]);
    const empty = applied(state, planned);
    expect(
      [
        empty.services,
        empty.routing,
        empty.schedules,
        empty.policies,
        empty.calendars,
        empty.templates,
        empty.maintenance,
        empty.heartbeats,
      ].map((m) => m.size),
    ).toStrictEqual([0, 0, 0, 0, 0, 0, 0, 0]);
  });
});

describe('planApply: equipment types', () => {
  const withTypes = (types: string, label = ''): ConfigFile =>
    full(`${FULL}equipmentTypes:\n${label ? `  label: ${label}\n` : ''}  types:\n${types}`);
  const TYPES = '    core_router: { boost: 1 }\n    firewall: { severity: critical }\n';

  it('plans EquipmentTypesConfigured (label defaults to equipment_type) before schedules and routing, on config.equipment.default', () => {
    const planned = planApply(initialConfigState(), withTypes(TYPES), false);
    expect(planned.map((p) => `${p.type} ${subjectOf(p)}`)).toContain('EquipmentTypesConfigured config.equipment.default');
    const types = planned.findIndex((p) => p.type === 'EquipmentTypesConfigured');
    expect(types).toBeLessThan(planned.findIndex((p) => p.type === 'RoutingConfigured'));
    expect(planned[types]?.data).toStrictEqual({
      label: 'equipment_type',
      types: { core_router: { boost: 1, severity: null }, firewall: { boost: null, severity: 'critical' } },
    });
  });

  it('plans nothing once applied; one event for a change; a removal only with prune', () => {
    const state = applied(initialConfigState(), planApply(initialConfigState(), withTypes(TYPES), false));
    expect(planApply(state, withTypes(TYPES), true)).toStrictEqual([]);
    const changed = planApply(state, withTypes(TYPES, 'device_role'), false);
    expect(changed).toStrictEqual([
      {
        type: 'EquipmentTypesConfigured',
        data: {
          label: 'device_role',
          types: { core_router: { boost: 1, severity: null }, firewall: { boost: null, severity: 'critical' } },
        },
      },
    ]);
    expect(planApply(state, full(), false)).toStrictEqual([]);
    expect(planApply(state, full(), true)).toStrictEqual([{ type: 'EquipmentTypesRemoved', data: {} }]);
    expect(applied(state, planApply(state, full(), true)).equipmentTypes).toBeNull();
  });

  it.each<[string, string, string]>([
    ['neither boost nor severity', '    x: {}\n', 'equipmentTypes.types.x: give exactly one of boost'],
    ['both', '    x: { boost: 1, severity: critical }\n', 'equipmentTypes.types.x: give exactly one of boost'],
    ['a boost of 4', '    x: { boost: 4 }\n', 'equipmentTypes.types.x.boost: at most 3 levels up'],
    ['a boost of 0', '    x: { boost: 0 }\n', 'equipmentTypes.types.x.boost: a boost of 0 changes nothing'],
    ['a fractional boost', '    x: { boost: 1.5 }\n', 'equipmentTypes.types.x.boost: use a whole number of levels'],
    ['an unknown severity', '    x: { severity: high }\n', 'equipmentTypes.types.x.severity: Invalid enum value'],
    ['an unknown key', '    x: { boost: 1, bost: 2 }\n', "equipmentTypes.types.x: Unrecognized key(s) in object: 'bost'"],
  ])('rejects %s', (_, types, message) => {
    expect(() => withTypes(types)).toThrow(message);
  });

  it('rejects an unknown key next to types, and an empty label', () => {
    expect(() => full(`${FULL}equipmentTypes:\n  typs: {}\n  types: {}\n`)).toThrow(
      "equipmentTypes: Unrecognized key(s) in object: 'typs'",
    );
    expect(() => full(`${FULL}equipmentTypes:\n  label: ""\n  types: {}\n`)).toThrow('equipmentTypes.label:');
  });
});

describe('examples/isp-noc.yaml, applied to an empty state', () => {
  const example = () => readConfigFile(fileURLToPath(new URL('../../../examples/isp-noc.yaml', import.meta.url)));

  it('holds the NOC model of docs/noc.md, and applying it again plans nothing', async () => {
    const f = await example();
    const state = applied(initialConfigState(), planApply(initialConfigState(), f, false));
    expect(planApply(state, f, true)).toStrictEqual([]);
    expect(state.sites?.sites.map((s) => `${s.siteId}<${s.parentId ?? ''}`)).toStrictEqual([
      'eu-west<',
      'us-east<',
      'ams1<eu-west',
      'ams2<eu-west',
      'nyc1<us-east',
      'chi1<us-east',
    ]);
    expect(
      [...(state.customerTiers?.tiers.values() ?? [])].map((t) => [t.tierId, t.responseSeconds, t.escalateBeforeSeconds]),
    ).toStrictEqual([
      ['enterprise', 900, 300],
      ['premium', 1800, 600],
      ['standard', 14_400, 1800],
    ]);
    expect([...state.responseTiers.keys()]).toStrictEqual(['L0', 'L1', 'L2', 'L3']);
    expect(state.policies.get('noc-tiered')?.steps.map((s) => s.targets)).toStrictEqual(
      ['L0', 'L1', 'L2', 'L3'].map((tierId) => [{ type: 'tier', tierId }]),
    );
    expect(state.inhibitRules.get('site-down')).toMatchObject({ scope: 'site', waitSeconds: 10, target: 'true' });

    const rules = ruleCache();
    const sense = (labels: Record<string, string>) => {
      const alert = {
        serviceId: 'core-network',
        severity: 'warning',
        summary: 's',
        source: 'am',
        fingerprint: 'f',
        labels,
        annotations: {},
      } as const;
      const now = Date.parse('2026-03-02T09:00:00Z');
      const errors: RuleError[] = [];
      const routed = routeAlert({ alert, now }, state, rules);
      return { ...stormSense(alert, now, routed.rules, state, rules, errors), errors };
    };
    expect(sense({ alertname: 'BGPSessionDown', device: 'cr1.nyc1' })).toMatchObject({
      site: 'nyc1',
      groupKey: 'core-network|site=nyc1,alertname=BGPSessionDown',
      flapping: { flips: 4, windowSeconds: 600, quietSeconds: 900 },
      sla: { tier: 'premium', responseSeconds: 1800, escalateBeforeSeconds: 600 },
      inhibitableBy: ['site-down', 'device-down'],
      errors: [],
    });
    expect(sense({ alertname: 'SiteDown', site: 'ams1' })).toMatchObject({
      site: 'ams1',
      groupKey: 'core-network|site=ams1,alertname=SiteDown',
      flapping: null,
      sla: { tier: 'enterprise' },
      inhibits: ['site-down'],
      errors: [],
    });
  });

  it('routes as docs/routing.md describes', async () => {
    const f = await example();
    const state = applied(initialConfigState(), planApply(initialConfigState(), f, false));
    const rules = ruleCache();
    const route = (labels: Record<string, string>, at: string) =>
      routeAlert(
        {
          alert: {
            serviceId: 'core-network',
            severity: 'warning',
            summary: 's',
            source: 'alertmanager',
            fingerprint: 'f',
            labels,
            annotations: {},
          },
          now: Date.parse(at),
        },
        state,
        rules,
      );
    expect(route({ customer_tier: 'enterprise', equipment_type: 'core_router', pop: 'fra2' }, '2026-03-02T09:00:00Z')).toMatchObject({
      rules: ['enterprise-sla', 'frankfurt-pops'],
      policyId: 'enterprise-sla',
      templateId: 'noc-de',
      severity: 'error',
      severityBoost: { from: 'warning', to: 'error', by: 'equipment:core_router', boost: 1, severity: null },
      severityRule: null,
      errors: [],
    });
    // A firewall is critical before the rules run: the after-hours rule (not for critical) leaves it alone.
    expect(route({ equipment_type: 'firewall', customer_tier: 'standard' }, '2026-03-02T22:30:00Z')).toMatchObject({
      rules: [],
      policyId: 'noc-tiered',
      severity: 'critical',
      severityBoost: { from: 'warning', to: 'critical', by: 'equipment:firewall' },
      errors: [],
    });
    expect(route({ alertname: 'BGPSessionDown', carrier: 'lumen', customer_tier: 'premium' }, '2026-03-02T09:00:00Z')).toMatchObject({
      rules: ['bgp-session-flaps', 'carrier-session-down', 'enterprise-sla'],
      policyId: 'enterprise-sla',
      ticket: 'carrier-portal',
      errors: [],
    });
    expect(route({ site: 'fra1' }, '2026-03-10T22:30:00Z')).toMatchObject({
      rules: ['standard-after-hours'],
      policyId: 'noc-l1-only',
      suppressed: { by: 'maintenance', windowId: 'fra1-power-work', until: '2026-03-11T04:00:00+01:00' },
    });
  });
});
