import { describe, expect, it } from 'vitest';
import { evolveConfig, initialConfigState, type ConfigState } from '../index.js';
import { planApply, subjectOf, type PlannedEvent } from './apply.js';
import { checkConfigFile, ConfigFileError, parseConfigFile } from './file.js';

const problems = (text: string): string[] => {
  try {
    parseConfigFile(text, 'f.yaml');
  } catch (err) {
    expect(err).toBeInstanceOf(ConfigFileError);
    return [...(err as ConfigFileError).problems];
  }
  throw new Error('expected the file to be rejected');
};

const applied = (state: ConfigState, events: readonly PlannedEvent[]): ConfigState =>
  events.reduce(
    (s, p, i) =>
      evolveConfig(s, { ...p, id: `id-${i}`, v: 1, occurredAt: '2026-01-01T00:00:00.000Z', causationId: null, correlationId: 't' }),
    state,
  );

/** A small NOC file with every part of the model; cases below change one part of it. */
const parts = {
  services: `services:
  - id: core
    name: Core
    routing:
      escalationPolicy: noc
      grouping: { by: [site, alertname] }
      flapping: { flips: 4, window: 10m, quiet: 15m }
      rules:
        - name: bgp
          when: 'has(labels.alertname) && labels.alertname == "BGPSessionDown"'
          flapping: { flips: 3, window: 5m }
          grouping: { by: [device] }
`,
  schedules: `schedules:
  - id: l1
    name: L1
    timeZone: Europe/Amsterdam
    rotations:
      - { id: shifts, type: daily, start: "2026-01-05T08:00", members: [alice, bob] }
`,
  escalationPolicies: `escalationPolicies:
  - id: noc
    name: NOC
    steps:
      - { delay: 5m, targets: [{ tier: L0 }] }
      - { delay: 10m, targets: [{ tier: L1 }, { slack: "#noc" }] }
`,
  responseTiers: `responseTiers:
  L0: { name: Monitoring desk, targets: [{ slack: "#noc-desk" }] }
  L1: { targets: [{ schedule: l1 }, { rotation: l1/shifts }, { user: carol }] }
`,
  customerTiers: `customerTiers:
  tiers:
    enterprise: { name: Enterprise, sla: 15m, escalateBefore: 5m }
    standard: { sla: 4h }
`,
  sites: `sites:
  - { id: eu-west, name: EU West, kind: region, timeZone: Europe/Amsterdam }
  - { id: ams1, name: Amsterdam 1, kind: pop, parent: eu-west, tier: enterprise, devices: [cr1.ams1, cr2.ams1] }
  - { id: ams2, name: Amsterdam 2, kind: pop, parent: eu-west, timeZone: Europe/Amsterdam }
placement: { labels: [site, pop, location], deviceLabel: host }
`,
  inhibitRules: `inhibitRules:
  - name: site-down
    source: 'has(labels.alertname) && labels.alertname == "SiteDown"'
    scope: site
    wait: 10s
  - name: critical-over-warning
    source: 'alert.severity == "critical"'
    target: 'alert.severity == "warning"'
    equal: [alertname, device]
`,
};
type Parts = Record<keyof typeof parts, string>;
const fileWith = (over: Partial<Parts> = {}): string => Object.values({ ...parts, ...over }).join('');

describe('the NOC model in the config file', () => {
  it('parses sites, placement, inhibit rules, tiers, tier targets, grouping and flapping', () => {
    const f = parseConfigFile(fileWith(), 'f.yaml');
    expect(f.sites).toStrictEqual([
      { id: 'eu-west', name: 'EU West', kind: 'region', parent: null, timeZone: 'Europe/Amsterdam', tier: null, devices: [] },
      {
        id: 'ams1',
        name: 'Amsterdam 1',
        kind: 'pop',
        parent: 'eu-west',
        timeZone: null,
        tier: 'enterprise',
        devices: ['cr1.ams1', 'cr2.ams1'],
      },
      { id: 'ams2', name: 'Amsterdam 2', kind: 'pop', parent: 'eu-west', timeZone: 'Europe/Amsterdam', tier: null, devices: [] },
    ]);
    expect(f.placement).toStrictEqual({ labels: ['site', 'pop', 'location'], deviceLabel: 'host' });
    expect(f.inhibitRules).toStrictEqual([
      {
        name: 'site-down',
        source: 'has(labels.alertname) && labels.alertname == "SiteDown"',
        target: 'true',
        equal: [],
        scope: 'site',
        wait: 10,
      },
      {
        name: 'critical-over-warning',
        source: 'alert.severity == "critical"',
        target: 'alert.severity == "warning"',
        equal: ['alertname', 'device'],
        scope: 'labels',
        wait: 0,
      },
    ]);
    expect(f.customerTiers).toStrictEqual({
      label: 'customer_tier',
      tiers: [
        { tierId: 'enterprise', name: 'Enterprise', responseSeconds: 900, escalateBeforeSeconds: 300 },
        { tierId: 'standard', name: 'standard', responseSeconds: 14_400, escalateBeforeSeconds: 0 },
      ],
    });
    expect(f.responseTiers).toStrictEqual([
      { tierId: 'L0', name: 'Monitoring desk', targets: [{ type: 'slack', channel: '#noc-desk' }] },
      {
        tierId: 'L1',
        name: 'L1',
        targets: [
          { type: 'schedule', scheduleId: 'l1' },
          { type: 'rotation', scheduleId: 'l1', rotationId: 'shifts' },
          { type: 'user', userId: 'carol' },
        ],
      },
    ]);
    expect(f.escalationPolicies[0]?.steps.map((s) => s.targets)).toStrictEqual([
      [{ type: 'tier', tierId: 'L0' }],
      [
        { type: 'tier', tierId: 'L1' },
        { type: 'slack', channel: '#noc' },
      ],
    ]);
    const routing = f.services[0]?.routing;
    expect(routing?.grouping).toStrictEqual({ by: ['site', 'alertname'] });
    expect(routing?.flapping).toStrictEqual({ flips: 4, windowSeconds: 600, quietSeconds: 900 });
    expect(routing?.rules[0]).toMatchObject({
      grouping: { by: ['device'] },
      flapping: { flips: 3, windowSeconds: 300, quietSeconds: 300 },
    });
  });

  it('placement defaults to the site and pop labels and the device label', () => {
    const f = parseConfigFile(fileWith({ sites: parts.sites.replace(/placement:.*\n/, '') }), 'f.yaml');
    expect(f.placement).toBeNull();
    const registry = planApply(initialConfigState(), f, false).find((p) => p.type === 'SiteRegistryConfigured');
    expect(registry?.data).toMatchObject({ placementLabels: ['site', 'pop'], deviceLabel: 'device' });
  });

  it.each<[string, Partial<Parts>, string[]]>([
    // Sites
    [
      'an unknown key in a site',
      { sites: parts.sites.replace('kind: region', 'kind: region, zone: x') },
      ["f.yaml: sites[0]: Unrecognized key(s) in object: 'zone'"],
    ],
    [
      'an unknown site kind',
      { sites: parts.sites.replace('kind: region', 'kind: continent') },
      [
        "f.yaml: sites[0].kind: Invalid enum value. Expected 'region' | 'datacenter' | 'pop' | 'colo' | 'edge' | 'site', received 'continent'",
      ],
    ],
    [
      'a parent that is not a site',
      { sites: parts.sites.replace('parent: eu-west, tier', 'parent: eu-east, tier') },
      ['f.yaml: sites[1].parent: no site "eu-east" in sites'],
    ],
    [
      'sites that are their own ancestors',
      { sites: parts.sites.replace('kind: region,', 'kind: region, parent: ams2,') },
      ['f.yaml: sites[0].parent: sites form a cycle: eu-west → ams2 → eu-west'],
    ],
    [
      'a site that is its own parent',
      { sites: parts.sites.replace('kind: region,', 'kind: region, parent: eu-west,') },
      ['f.yaml: sites[0].parent: sites form a cycle: eu-west → eu-west'],
    ],
    [
      'a duplicate site id',
      { sites: parts.sites.replace('id: ams2', 'id: ams1') },
      ['f.yaml: sites[2].id: duplicate site id "ams1" (also sites[1])'],
    ],
    [
      'a device at two sites',
      { sites: parts.sites.replace('timeZone: Europe/Amsterdam }\nplacement', 'devices: [cr2.ams1] }\nplacement') },
      ['f.yaml: sites[2].devices[0]: device "cr2.ams1" is also at site "ams1" (sites[1])'],
    ],
    [
      'a device listed twice at one site',
      { sites: parts.sites.replace('[cr1.ams1, cr2.ams1]', '[cr1.ams1, cr1.ams1]') },
      ['f.yaml: sites[1].devices[1]: device "cr1.ams1" is listed twice (also [0])'],
    ],
    [
      'an unknown time zone',
      { sites: parts.sites.replace('timeZone: Europe/Amsterdam }\nplacement', 'timeZone: Europe/Amsterdm }\nplacement') },
      ['f.yaml: sites[2].timeZone: unknown time zone "Europe/Amsterdm" (use an IANA name like Europe/Amsterdam or UTC)'],
    ],
    [
      'a tier that is not a customer tier',
      { sites: parts.sites.replace('tier: enterprise', 'tier: gold') },
      ['f.yaml: sites[1].tier: no customer tier "gold" in customerTiers'],
    ],
    [
      'a tier without customer tiers',
      { customerTiers: '' },
      ['f.yaml: sites[1].tier: no customer tier "enterprise": the file has no customerTiers'],
    ],
    [
      'placement without sites',
      { sites: 'placement: { labels: [site] }\n', inhibitRules: '' },
      ['f.yaml: placement: placement places alerts at sites: add the sites'],
    ],
    [
      'a placement label that is no label name',
      { sites: parts.sites.replace('[site, pop, location]', '[site, "pop-name"]') },
      ['f.yaml: placement.labels[1]: use a label name like site or customer_tier'],
    ],
    // Inhibit rules
    [
      'an inhibit source that does not compile, with its line and column',
      { inhibitRules: parts.inhibitRules.replace('alert.severity == "critical"', 'alert.severity === "critical"') },
      ['f.yaml: inhibitRules[1].source: line 1, column 18: Unexpected character: ='],
    ],
    [
      'an inhibit target over several lines with a typo',
      {
        inhibitRules: parts.inhibitRules.replace(
          'target: \'alert.severity == "warning"\'',
          'target: "alert.severity == \\"warning\\" &&\\n  lables.x == \\"y\\""',
        ),
      },
      ['f.yaml: inhibitRules[1].target: line 2, column 3: Unknown variable: lables'],
    ],
    [
      'an inhibit rule naming a calendar the file lacks',
      { inhibitRules: parts.inhibitRules.replace('target: \'alert.severity == "warning"\'', "target: '!calendars.noc_hours'") },
      ['f.yaml: inhibitRules[1].target: line 1, column 2: no calendar "noc_hours" in this file'],
    ],
    [
      'an unknown key in an inhibit rule',
      { inhibitRules: parts.inhibitRules.replace('scope: site', 'scope: site\n    equals: [site]') },
      ["f.yaml: inhibitRules[0]: Unrecognized key(s) in object: 'equals'"],
    ],
    [
      'scope site without sites',
      { sites: '' },
      ['f.yaml: inhibitRules[0].scope: scope site needs the site registry: add sites (or use scope labels)'],
    ],
    [
      'scope labels without equal labels',
      { inhibitRules: parts.inhibitRules.replace('    equal: [alertname, device]\n', '') },
      [
        'f.yaml: inhibitRules[1].equal: with scope labels, list the labels a source and a target share (or use scope site): otherwise one source inhibits every target anywhere',
      ],
    ],
    [
      'a wait without unit',
      { inhibitRules: parts.inhibitRules.replace('wait: 10s', 'wait: 10') },
      ['f.yaml: inhibitRules[0].wait: Expected string, received number'],
    ],
    [
      'a wait over an hour',
      { inhibitRules: parts.inhibitRules.replace('wait: 10s', 'wait: 2h') },
      ['f.yaml: inhibitRules[0].wait: must be between 0s and 1h'],
    ],
    [
      'two inhibit rules with one name',
      { inhibitRules: parts.inhibitRules.replace('name: critical-over-warning', 'name: site-down') },
      ['f.yaml: inhibitRules[1].name: duplicate inhibit rule name "site-down" (also inhibitRules[0])'],
    ],
    [
      'an inhibit rule name that cannot be a subject',
      { inhibitRules: parts.inhibitRules.replace('name: site-down', 'name: site.down') },
      ['f.yaml: inhibitRules[0].name: use 1-63 lower-case letters, digits, dashes and underscores'],
    ],
    // Tiers
    [
      'escalateBefore as long as the SLA',
      { customerTiers: parts.customerTiers.replace('escalateBefore: 5m', 'escalateBefore: 15m') },
      ['f.yaml: customerTiers.tiers.enterprise.escalateBefore: must be shorter than the SLA (900s is not under 900s)'],
    ],
    [
      'an SLA without unit',
      { customerTiers: parts.customerTiers.replace('sla: 4h', 'sla: 4') },
      ['f.yaml: customerTiers.tiers.standard.sla: Expected string, received number'],
    ],
    [
      'a customer tier without an SLA',
      { customerTiers: parts.customerTiers.replace('{ sla: 4h }', '{ name: Standard }') },
      ['f.yaml: customerTiers.tiers.standard.sla: Required'],
    ],
    [
      'a typo in customer tiers',
      { customerTiers: parts.customerTiers.replace('tiers:', 'teirs:') },
      ['f.yaml: customerTiers.tiers: Required', "f.yaml: customerTiers: Unrecognized key(s) in object: 'teirs'"],
    ],
    [
      'a policy naming a response tier the file lacks',
      { escalationPolicies: parts.escalationPolicies.replace('{ tier: L1 }', '{ tier: L2 }') },
      ['f.yaml: escalationPolicies[0].steps[1].targets[0].tier: no response tier "L2" in responseTiers'],
    ],
    [
      'a policy naming a tier without response tiers',
      { responseTiers: '' },
      [
        'f.yaml: escalationPolicies[0].steps[0].targets[0].tier: no response tier "L0": the file has no responseTiers',
        'f.yaml: escalationPolicies[0].steps[1].targets[0].tier: no response tier "L1": the file has no responseTiers',
      ],
    ],
    [
      'a target with a tier and a user',
      { escalationPolicies: parts.escalationPolicies.replace('{ tier: L0 }', '{ tier: L0, user: alice }') },
      [
        'f.yaml: escalationPolicies[0].steps[0].targets[0]: give exactly one of user, schedule, rotation, slack, webhook, tier (found user, tier)',
      ],
    ],
    [
      'a response tier naming a tier',
      { responseTiers: parts.responseTiers.replace('{ slack: "#noc-desk" }', '{ tier: L1 }') },
      ['f.yaml: responseTiers.L0.targets[0].tier: a response tier names users, schedules, rotations and channels, not another tier'],
    ],
    [
      'a response tier naming an unknown rotation',
      { responseTiers: parts.responseTiers.replace('l1/shifts', 'l1/nights') },
      ['f.yaml: responseTiers.L1.targets[1].rotation: no rotation "nights" in schedule "l1"'],
    ],
    [
      'a response tier without targets',
      { responseTiers: parts.responseTiers.replace('targets: [{ slack: "#noc-desk" }]', 'targets: []') },
      ['f.yaml: responseTiers.L0.targets: list at least one target'],
    ],
    [
      'a response tier id that is not one',
      { responseTiers: parts.responseTiers.replace('L0:', '"L 0":') },
      // References to a broken section are not reported a second time.
      ['f.yaml: responseTiers.L 0: use 1-63 letters, digits, dashes and underscores'],
    ],
    // Grouping and flapping
    [
      'grouping without labels',
      { services: parts.services.replace('grouping: { by: [site, alertname] }', 'grouping: { by: [] }') },
      ['f.yaml: services[0].routing.grouping.by: list at least one label'],
    ],
    [
      'a grouping label listed twice',
      { services: parts.services.replace('[site, alertname]', '[site, site]') },
      ['f.yaml: services[0].routing.grouping.by[1]: label "site" is listed twice'],
    ],
    [
      'one flip',
      { services: parts.services.replace('flips: 3', 'flips: 1') },
      ['f.yaml: services[0].routing.rules[0].flapping.flips: flapping needs at least 2 flips'],
    ],
    [
      'a flapping window without unit',
      { services: parts.services.replace('window: 10m', 'window: 600') },
      ['f.yaml: services[0].routing.flapping.window: Expected string, received number'],
    ],
    [
      'a typo in flapping',
      { services: parts.services.replace('quiet: 15m', 'quite: 15m') },
      ["f.yaml: services[0].routing.flapping: Unrecognized key(s) in object: 'quite'"],
    ],
  ])('rejects %s', (_, over, expected) => {
    expect(problems(fileWith(over))).toStrictEqual(expected);
  });

  it('checks users named by response tiers', async () => {
    const err = (await checkConfigFile(fileWith(), 'f.yaml', {
      knownUsers: () => new Set(['alice', 'bob']),
      usersSource: 'users.yaml',
    }).catch((e: unknown) => e)) as ConfigFileError;
    expect(err.problems).toStrictEqual(['f.yaml: responseTiers.L1.targets[2].user: no user "carol" in users.yaml']);
  });
});

describe('the NOC model, applied', () => {
  it('plans one event per part on its own subject, referenced things first', () => {
    const planned = planApply(initialConfigState(), parseConfigFile(fileWith(), 'f.yaml'), false);
    expect(planned.map((p) => `${p.type} ${subjectOf(p)}`)).toStrictEqual([
      'ServiceConfigured config.service.core',
      'ScheduleConfigured config.schedule.l1',
      'CustomerTiersConfigured config.noc.customer-tiers',
      'ResponseTiersConfigured config.noc.response-tiers',
      'EscalationPolicyConfigured config.policy.noc',
      'SiteRegistryConfigured config.noc.sites',
      'RoutingConfigured config.routing.core',
      'InhibitRuleConfigured config.inhibit.site-down',
      'InhibitRuleConfigured config.inhibit.critical-over-warning',
    ]);
    const data = (type: PlannedEvent['type']) => planned.find((p) => p.type === type)?.data;
    expect(data('SiteRegistryConfigured')).toStrictEqual({
      sites: [
        { siteId: 'eu-west', name: 'EU West', kind: 'region', parentId: null, timeZone: 'Europe/Amsterdam', tier: null, devices: [] },
        {
          siteId: 'ams1',
          name: 'Amsterdam 1',
          kind: 'pop',
          parentId: 'eu-west',
          timeZone: null,
          tier: 'enterprise',
          devices: ['cr1.ams1', 'cr2.ams1'],
        },
        { siteId: 'ams2', name: 'Amsterdam 2', kind: 'pop', parentId: 'eu-west', timeZone: 'Europe/Amsterdam', tier: null, devices: [] },
      ],
      placementLabels: ['site', 'pop', 'location'],
      deviceLabel: 'host',
    });
    expect(data('InhibitRuleConfigured')).toStrictEqual({
      ruleId: 'site-down',
      source: 'has(labels.alertname) && labels.alertname == "SiteDown"',
      target: 'true',
      equal: [],
      scope: 'site',
      waitSeconds: 10,
    });
    expect(data('RoutingConfigured')).toMatchObject({
      grouping: { by: ['site', 'alertname'] },
      flapping: { flips: 4, windowSeconds: 600, quietSeconds: 900 },
      rules: [{ name: 'bgp', grouping: { by: ['device'] }, flapping: { flips: 3, windowSeconds: 300, quietSeconds: 300 } }],
    });
    expect(data('EscalationPolicyConfigured')).toMatchObject({ steps: [{ targets: [{ type: 'tier', tierId: 'L0' }] }, {}] });
  });

  it('the applied state is what the file says, and applying it again plans nothing, even with prune', () => {
    const f = parseConfigFile(fileWith(), 'f.yaml');
    const state = applied(initialConfigState(), planApply(initialConfigState(), f, false));
    expect(state.sites?.sites.map((s) => s.siteId)).toStrictEqual(['eu-west', 'ams1', 'ams2']);
    expect([...state.inhibitRules.keys()]).toStrictEqual(['site-down', 'critical-over-warning']);
    expect(state.customerTiers?.label).toBe('customer_tier');
    expect([...(state.customerTiers?.tiers.keys() ?? [])]).toStrictEqual(['enterprise', 'standard']);
    expect([...state.responseTiers.keys()]).toStrictEqual(['L0', 'L1']);
    expect(planApply(state, f, false)).toStrictEqual([]);
    expect(planApply(state, f, true)).toStrictEqual([]);
  });

  it('routing without grouping or flapping is written as before issue 16, so old routing is not rewritten', () => {
    const f = parseConfigFile(
      fileWith({ services: 'services:\n  - { id: core, name: Core, routing: { escalationPolicy: noc } }\n' }),
      'f.yaml',
    );
    const routing = planApply(initialConfigState(), f, false).find((p) => p.type === 'RoutingConfigured')?.data;
    expect(routing).toStrictEqual({ serviceId: 'core', escalationPolicyId: 'noc', templateId: null, ackTimeoutSeconds: null, rules: [] });
  });

  it.each<[string, Partial<Parts>, string[]]>([
    ['an SLA', { customerTiers: parts.customerTiers.replace('sla: 15m', 'sla: 30m') }, ['CustomerTiersConfigured']],
    ['a response tier target', { responseTiers: parts.responseTiers.replace('#noc-desk', '#noc-l0') }, ['ResponseTiersConfigured']],
    ['a device', { sites: parts.sites.replace('cr2.ams1]', 'cr3.ams1]') }, ['SiteRegistryConfigured']],
    ['the placement', { sites: parts.sites.replace('deviceLabel: host', 'deviceLabel: device') }, ['SiteRegistryConfigured']],
    ['an inhibit wait', { inhibitRules: parts.inhibitRules.replace('wait: 10s', 'wait: 30s') }, ['InhibitRuleConfigured']],
    ['a flapping threshold', { services: parts.services.replace('flips: 4', 'flips: 5') }, ['RoutingConfigured']],
    ['a rule grouping', { services: parts.services.replace('[device]', '[device, alertname]') }, ['RoutingConfigured']],
  ])('plans exactly one event for a change of %s', (_, over, types) => {
    const state = applied(initialConfigState(), planApply(initialConfigState(), parseConfigFile(fileWith(), 'f.yaml'), false));
    const changed = parseConfigFile(fileWith(over), 'f.yaml');
    const planned = planApply(state, changed, false);
    expect(planned.map((p) => p.type)).toStrictEqual(types);
    expect(planApply(applied(state, planned), changed, false)).toStrictEqual([]);
  });

  it('prune removes inhibit rules no longer in the file; without prune they stay', () => {
    const state = applied(initialConfigState(), planApply(initialConfigState(), parseConfigFile(fileWith(), 'f.yaml'), false));
    const fewer = parseConfigFile(
      fileWith({ inhibitRules: parts.inhibitRules.replace(/ {2}- name: critical-over-warning[^]*$/, '') }),
      'f.yaml',
    );
    expect(planApply(state, fewer, false)).toStrictEqual([]);
    const planned = planApply(state, fewer, true);
    expect(planned.map((p) => `${p.type} ${subjectOf(p)}`)).toStrictEqual(['InhibitRuleRemoved config.inhibit.critical-over-warning']);
    expect([...applied(state, planned).inhibitRules.keys()]).toStrictEqual(['site-down']);
  });

  it('with prune, an empty file removes inhibit rules first and leaves the registry and the tier lists empty', () => {
    const state = applied(initialConfigState(), planApply(initialConfigState(), parseConfigFile(fileWith(), 'f.yaml'), false));
    const planned = planApply(state, parseConfigFile('', 'f.yaml'), true);
    expect(planned.map((p) => `${p.type} ${subjectOf(p)}`)).toStrictEqual([
      'InhibitRuleRemoved config.inhibit.site-down',
      'InhibitRuleRemoved config.inhibit.critical-over-warning',
      'RoutingRemoved config.routing.core',
      'ServiceRemoved config.service.core',
      'EscalationPolicyRemoved config.policy.noc',
      'ResponseTiersConfigured config.noc.response-tiers',
      'SiteRegistryConfigured config.noc.sites',
      'CustomerTiersConfigured config.noc.customer-tiers',
      'ScheduleRemoved config.schedule.l1',
    ]);
    const empty = applied(state, planned);
    expect([empty.inhibitRules.size, empty.responseTiers.size, empty.sites?.sites.length, empty.customerTiers?.tiers.size]).toStrictEqual([
      0, 0, 0, 0,
    ]);
    expect(planApply(empty, parseConfigFile('', 'f.yaml'), true)).toStrictEqual([]);
  });
});
