import { describe, expect, it } from 'vitest';
import type { InhibitRule, SiteRegistry } from '@oncall/contracts';
import { initialConfigState, type ConfigState } from './config.js';
import { ruleCache } from './routing.js';
import { flapVerdict, flappingConfigured, inhibitorOf, placeAlert, siteWithin, stormSense, type InhibitSource } from './storm-sense.js';

const site = (siteId: string, parentId: string | null, extra: { tier?: string; devices?: string[] } = {}) => ({
  siteId,
  name: siteId,
  kind: 'pop' as const,
  parentId,
  timeZone: null,
  tier: extra.tier ?? null,
  devices: extra.devices ?? [],
});
const REGISTRY: SiteRegistry = {
  sites: [site('eu', null, { tier: 'premium' }), site('ams', 'eu'), site('ams2', 'ams', { devices: ['ams2-r1'] }), site('nyc1', null)],
  placementLabels: ['site', 'pop'],
  deviceLabel: 'device',
};

describe('placeAlert', () => {
  it.each<[string, Record<string, string>, string | null]>([
    ['a site label naming a known site', { site: 'ams2' }, 'ams2'],
    ['the first placement label wins', { site: 'nyc1', pop: 'ams2' }, 'nyc1'],
    ['an unknown site falls through to the next label', { site: 'mars', pop: 'ams2' }, 'ams2'],
    ['a device listed at a site', { device: 'ams2-r1' }, 'ams2'],
    ['nothing known', { device: 'other', site: 'mars' }, null],
  ])('%s', (_, labels, expected) => {
    expect(placeAlert(labels, REGISTRY)).toBe(expected);
  });
});

describe('siteWithin', () => {
  it.each<[string, string, boolean]>([
    ['ams2', 'ams2', true],
    ['ams2', 'ams', true],
    ['ams2', 'eu', true],
    ['ams', 'ams2', false],
    ['nyc1', 'eu', false],
  ])('%s within %s: %s', (a, b, expected) => {
    expect(siteWithin(a, b, REGISTRY)).toBe(expected);
  });

  it('a cycle in the parents ends the walk', () => {
    const cyclic: SiteRegistry = { ...REGISTRY, sites: [site('a', 'b'), site('b', 'a')] };
    expect(siteWithin('a', 'c', cyclic)).toBe(false);
  });
});

const rule = (over: Partial<InhibitRule>): InhibitRule => ({
  ruleId: 'r',
  source: 'true',
  target: 'true',
  equal: [],
  scope: 'labels',
  waitSeconds: 0,
  ...over,
});

describe('inhibitorOf', () => {
  const rules = new Map([
    ['site-down', rule({ ruleId: 'site-down', scope: 'site' })],
    ['same-cluster', rule({ ruleId: 'same-cluster', equal: ['cluster'] })],
  ]);
  const source = (alertId: string, over: Partial<InhibitSource>): InhibitSource => ({
    alertId,
    labels: {},
    site: null,
    rules: [],
    summary: `${alertId} fires`,
    ...over,
  });
  const SRC = '11111111-1111-4111-8111-111111111111';
  const target = (over: { labels?: Record<string, string>; site?: string | null; inhibitableBy?: string[] }) => ({
    alertId: '22222222-2222-4222-8222-222222222222',
    labels: over.labels ?? {},
    site: over.site ?? null,
    inhibitableBy: over.inhibitableBy ?? ['site-down', 'same-cluster'],
  });

  it.each<[string, InhibitSource, ReturnType<typeof target>, string | null]>([
    [
      'site scope: a target below the source’s site',
      source(SRC, { site: 'ams', rules: ['site-down'] }),
      target({ site: 'ams2' }),
      'site-down',
    ],
    ['site scope: a target elsewhere', source(SRC, { site: 'ams', rules: ['site-down'] }), target({ site: 'nyc1' }), null],
    ['site scope: a target with no site', source(SRC, { site: 'ams', rules: ['site-down'] }), target({}), null],
    [
      'equal labels: same values',
      source(SRC, { labels: { cluster: 'c1' }, rules: ['same-cluster'] }),
      target({ labels: { cluster: 'c1' } }),
      'same-cluster',
    ],
    [
      'equal labels: different values',
      source(SRC, { labels: { cluster: 'c1' }, rules: ['same-cluster'] }),
      target({ labels: { cluster: 'c2' } }),
      null,
    ],
    ['equal labels: missing on both counts as equal', source(SRC, { rules: ['same-cluster'] }), target({}), 'same-cluster'],
    [
      'a rule the target is not a target of',
      source(SRC, { site: 'ams', rules: ['site-down'] }),
      target({ site: 'ams2', inhibitableBy: ['same-cluster'] }),
      null,
    ],
    [
      'an alert never inhibits itself',
      source('22222222-2222-4222-8222-222222222222', { site: 'ams', rules: ['site-down'] }),
      target({ site: 'ams2' }),
      null,
    ],
  ])('%s', (_, src, tgt, expected) => {
    expect(inhibitorOf(tgt, [src], rules, REGISTRY)?.rule ?? null).toBe(expected);
  });
});

describe('flapVerdict', () => {
  const F = { flips: 3, windowSeconds: 60, quietSeconds: 120 };
  it.each<[string, number[], number | null, string]>([
    ['no triggers', [], null, 'normal'],
    ['two within the window', [0, 30_000], null, 'normal'],
    ['three within the window', [0, 30_000, 60_000], null, 'starts'],
    ['three, one just outside', [0, 30_001, 60_002], null, 'normal'],
    ['flapping, the previous flip 1 min ago', [0, 60_000], 0, 'continues'],
    ['flapping, the previous flip the quiet period ago', [0, 120_000], 0, 'ends'],
  ])('%s: %s', (_, triggers, since, expected) => {
    expect(flapVerdict({ triggers, flappingSince: since }, F)).toBe(expected);
  });
});

describe('stormSense', () => {
  const config: ConfigState = {
    ...initialConfigState(),
    sites: REGISTRY,
    inhibitRules: new Map([
      [
        'site-down',
        rule({
          ruleId: 'site-down',
          source: 'labels.alertname == "SiteDown"',
          target: 'labels.alertname != "SiteDown"',
          scope: 'site',
          waitSeconds: 10,
        }),
      ],
    ]),
    customerTiers: {
      label: 'customer_tier',
      tiers: new Map([
        ['premium', { tierId: 'premium', name: 'Premium', responseSeconds: 900, escalateBeforeSeconds: 300 }],
        ['enterprise', { tierId: 'enterprise', name: 'Enterprise', responseSeconds: 300, escalateBeforeSeconds: 60 }],
      ]),
    },
    routing: new Map([
      [
        'core',
        {
          serviceId: 'core',
          escalationPolicyId: 'p',
          templateId: null,
          ackTimeoutSeconds: null,
          grouping: { by: ['site', 'alertname'] },
          flapping: null,
          rules: [
            {
              name: 'bgp',
              when: 'true',
              policyId: null,
              templateId: null,
              severity: null,
              ticket: null,
              suppress: false,
              continue: false,
              grouping: { by: ['peer'] },
              flapping: { flips: 4, windowSeconds: 600, quietSeconds: 900 },
            },
          ],
        },
      ],
    ]),
  };
  const alert = (labels: Record<string, string>) => ({
    serviceId: 'core',
    severity: 'critical' as const,
    summary: 's',
    source: 'alertmanager',
    fingerprint: 'fp',
    labels,
    annotations: {},
  });
  const sense = (labels: Record<string, string>, matched: string[] = []) => stormSense(alert(labels), 0, matched, config, ruleCache(), []);

  it('knows whether any service or rule detects flapping (flip histories are kept in snapshots only then)', () => {
    const core = config.routing.get('core')!;
    const withRouting = (r: typeof core): ConfigState => ({ ...config, routing: new Map([['core', r]]) });
    expect(flappingConfigured(initialConfigState())).toBe(false);
    expect(flappingConfigured(config)).toBe(true); // the rule's
    expect(flappingConfigured(withRouting({ ...core, rules: core.rules.map((r) => ({ ...r, flapping: null })) }))).toBe(false);
    expect(flappingConfigured(withRouting({ ...core, rules: [], flapping: { flips: 3, windowSeconds: 60, quietSeconds: 60 } }))).toBe(true);
  });

  it('places the alert, groups it by the service’s labels, and finds it a target of the site-down rule with its wait', () => {
    expect(sense({ device: 'ams2-r1', alertname: 'DeviceDown' })).toStrictEqual({
      site: 'ams2',
      groupKey: 'core|site=ams2,alertname=DeviceDown',
      groupLabels: { site: 'ams2', alertname: 'DeviceDown' },
      inhibits: [],
      inhibitableBy: ['site-down'],
      inhibitWaitSeconds: 10,
      flapping: null,
      sla: { tier: 'premium', responseSeconds: 900, escalateBeforeSeconds: 300 },
    });
  });

  it('a site-down alert is a source, not a target', () => {
    const s = sense({ site: 'ams', alertname: 'SiteDown' });
    expect([s.inhibits, s.inhibitableBy]).toStrictEqual([['site-down'], []]);
  });

  it('a matched rule’s grouping and flapping override the service’s; the tier label wins over the site’s tier', () => {
    const s = sense({ site: 'ams2', peer: '10.0.0.1', customer_tier: 'enterprise' }, ['bgp']);
    expect([s.groupKey, s.flapping?.flips, s.sla?.tier]).toStrictEqual(['core|peer=10.0.0.1', 4, 'enterprise']);
  });

  it('an unknown tier label gives no SLA', () => {
    expect(sense({ site: 'ams2', customer_tier: 'gold' }).sla).toBeNull();
  });
});
