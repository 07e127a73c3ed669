import { Settings } from 'luxon';
import { describe, expect, it } from 'vitest';
import type { ConfigEvent, EventData, RoutingRule, Severity } from '@oncall/contracts';
import { evolveConfig, initialConfigState, type ConfigState } from './config.js';
import { inBusinessHours, toZonedIso } from './calendar.js';
import {
  activeWindows,
  applyEquipmentType,
  compileRule,
  effectiveSeverity,
  severityMap,
  routeAlert,
  ruleCache,
  ruleContext,
  RuleCompileError,
  type RouteDecision,
  type RoutedAlert,
  type SeverityRoute,
} from './routing.js';

const META = { id: 'e', v: 1, occurredAt: '2026-01-01T00:00:00.000Z', causationId: null, correlationId: 't' };
const given = (...events: Array<Omit<ConfigEvent, keyof typeof META>>): ConfigState =>
  events.reduce<ConfigState>((s, e) => evolveConfig(s, { ...e, ...META } as ConfigEvent), initialConfigState());

const rule = (name: string, when: string, actions: Partial<RoutingRule> = {}): RoutingRule => ({
  name,
  when,
  policyId: null,
  templateId: null,
  severity: null,
  ticket: null,
  suppress: false,
  continue: false,
  ...actions,
});
const routing = (rules: RoutingRule[], over: Partial<EventData<'RoutingConfigured'>> = {}): Omit<ConfigEvent, keyof typeof META> => ({
  type: 'RoutingConfigured',
  data: { serviceId: 'core-net', escalationPolicyId: 'noc', templateId: 'default', ackTimeoutSeconds: 1800, rules, ...over },
});
const calendar = (calendarId: string, over: Partial<EventData<'CalendarConfigured'>> = {}): Omit<ConfigEvent, keyof typeof META> => ({
  type: 'CalendarConfigured',
  data: {
    calendarId,
    name: calendarId,
    timeZone: 'Europe/Berlin',
    hours: [{ days: ['mon', 'tue', 'wed', 'thu', 'fri'], from: '09:00', to: '17:00' }],
    holidays: ['2026-12-25'],
    ...over,
  },
});
const window = (windowId: string, over: Partial<EventData<'MaintenanceWindowConfigured'>> = {}): Omit<ConfigEvent, keyof typeof META> => ({
  type: 'MaintenanceWindowConfigured',
  data: {
    windowId,
    name: windowId,
    start: '2026-03-02T22:00:00+01:00',
    end: '2026-03-03T04:00:00+01:00',
    services: [],
    labels: {},
    when: null,
    mode: 'suppress',
    ...over,
  },
});

const alert = (labels: Record<string, string> = {}, over: Partial<RoutedAlert> = {}): RoutedAlert => ({
  serviceId: 'core-net',
  severity: 'warning',
  summary: 'something is wrong',
  source: 'alertmanager',
  fingerprint: 'fp-1',
  labels,
  annotations: {},
  ...over,
});

/** Monday 2026-03-02, 10:00 in Berlin (09:00 UTC). */
const MON_10_BERLIN = Date.parse('2026-03-02T09:00:00Z');
/** Monday 2026-03-02, 23:30 in Berlin: inside the night maintenance window. */
const MON_2330_BERLIN = Date.parse('2026-03-02T22:30:00Z');

const rules = ruleCache();
const route = (config: ConfigState, a: RoutedAlert, now = MON_10_BERLIN): RouteDecision => routeAlert({ alert: a, now }, config, rules);

const DEFAULTS = {
  rules: [],
  policyId: 'noc',
  templateId: 'default',
  severity: 'warning',
  severityBoost: null,
  severityRule: null,
  ticket: null,
  suppressed: null,
  maintenance: [],
  ackTimeoutSeconds: 1800,
  errors: [],
};

describe('compileRule', () => {
  it.each<[string, string]>([
    ['labels.site == "fra1"', 'a label comparison'],
    ['has(labels.pop) && labels.pop.startsWith("fra")', 'a guarded prefix'],
    ['alert.severity in ["critical", "error"]', 'membership in a list'],
    ['labels.device.matches("^(cr|er)[0-9]+")', 'a regular expression'],
    ['now.weekday in ["sat", "sun"] || now.hour < 6', 'the UTC clock'],
    ['now.time.getHours("Europe/Berlin") >= 9', 'a CEL timestamp in a zone'],
    ['now.time > timestamp("2026-01-01T00:00:00Z")', 'timestamp comparison'],
    ['calendars["business-hours"] && size(annotations) > 0', 'calendars and size()'],
    ['dyn(labels.flag) == "x"', 'a dyn comparison'],
  ])('accepts %s (%s)', (source) => {
    expect(compileRule(source).source).toBe(source);
  });

  it.each<[string, number, number, string]>([
    ['labels.site == ', 1, 16, 'Unexpected token: EOF'],
    ['labels.site == "a" &&& x', 1, 22, 'Unexpected character: &'],
    ['labels.site == "a" &&\n  lables.pop == "b"', 2, 3, 'Unknown variable: lables'],
    ['alert.sevrity == "critical"', 1, 7, 'No such key: sevrity'],
    ['labels.site == 1', 1, 1, 'no such overload: string == int'],
    ['labels.site', 1, 1, 'the condition must yield a bool, not string'],
    ['now.hour', 1, 1, 'the condition must yield a bool, not int'],
    ['"x"', 1, 1, 'the condition must yield a bool, not string'],
  ])('rejects %j at line %i, column %i', (source, line, column, message) => {
    let caught: unknown;
    try {
      compileRule(source);
    } catch (err) {
      caught = err;
    }
    expect(caught).toBeInstanceOf(RuleCompileError);
    const err = caught as RuleCompileError;
    expect([err.line, err.column]).toStrictEqual([line, column]);
    expect(err.message).toContain(message);
  });

  it('lists the calendars a rule names, with their positions', () => {
    expect(compileRule('calendars.noc_hours ||\n  ("weekend-cover" in calendars && calendars["weekend-cover"])').calendars).toStrictEqual([
      { calendarId: 'noc_hours', line: 1, column: 1 },
      { calendarId: 'weekend-cover', line: 2, column: 4 },
      { calendarId: 'weekend-cover', line: 2, column: 36 },
    ]);
  });

  it('ruleCache compiles a source once and remembers failures', () => {
    const cache = ruleCache();
    expect(cache('labels.a == "b"')).toBe(cache('labels.a == "b"'));
    expect(() => cache('labels.a ==')).toThrow(RuleCompileError);
    expect(() => cache('labels.a ==')).toThrow(RuleCompileError);
  });
});

describe('the CEL context', () => {
  it('exposes the alert, the UTC clock and the calendars', () => {
    const config = given(calendar('noc_hours'));
    const ctx = ruleContext({ alert: alert({ site: 'fra1' }), now: Date.parse('2026-03-07T23:59:30Z') }, config);
    expect(ctx.now).toMatchObject({ hour: 23n, minute: 59n, weekday: 'sat', date: '2026-03-07' });
    expect(ctx.now.time.toISOString()).toBe('2026-03-07T23:59:30.000Z');
    expect(ctx.alert).toMatchObject({ severity: 'warning', service: 'core-net', source: 'alertmanager', fingerprint: 'fp-1' });
    expect(ctx.calendars).toStrictEqual({ noc_hours: false });
  });
});

describe('inBusinessHours', () => {
  const berlin = {
    timeZone: 'Europe/Berlin',
    hours: [{ days: ['mon' as const, 'tue' as const, 'wed' as const, 'thu' as const, 'fri' as const], from: '09:00', to: '17:00' }],
    holidays: ['2026-12-25'],
  };
  const night = { timeZone: 'America/New_York', hours: [{ days: ['fri' as const], from: '22:00', to: '06:00' }], holidays: [] };
  it.each<[string, typeof berlin, string, boolean]>([
    ['Monday 09:00 Berlin opens', berlin, '2026-03-02T08:00:00Z', true],
    ['Monday 08:59 Berlin is before', berlin, '2026-03-02T07:59:00Z', false],
    ['Monday 17:00 Berlin has closed', berlin, '2026-03-02T16:00:00Z', false],
    ['Saturday noon is outside', berlin, '2026-03-07T11:00:00Z', false],
    ['summer time: 09:30 CEST is 07:30 UTC', berlin, '2026-07-01T07:30:00Z', true],
    ['a holiday (Friday 25 Dec) is outside', berlin, '2026-12-25T10:00:00Z', false],
    ['a wrapping window covers Friday 23:00 New York', night, '2026-03-07T04:00:00Z', true],
    ['…and Saturday 05:59 New York (the day after)', night, '2026-03-07T10:59:00Z', true],
    ['…but not Saturday 06:00', night, '2026-03-07T11:00:00Z', false],
    ['…nor Saturday 23:00 (not a listed day)', night, '2026-03-08T04:00:00Z', false],
    ['an invalid zone is never inside', { ...berlin, timeZone: 'Mars/Olympus' }, '2026-03-02T10:00:00Z', false],
  ])('%s', (_, cal, at, expected) => {
    expect(inBusinessHours(cal, Date.parse(at))).toBe(expected);
  });
});

describe('toZonedIso', () => {
  it.each<[string, string, string]>([
    ['2026-01-05T09:00', 'Europe/Berlin', '2026-01-05T09:00:00+01:00'],
    ['2026-07-05T09:00:30', 'Europe/Berlin', '2026-07-05T09:00:30+02:00'],
    ['2026-01-05T08:00:00Z', 'Europe/Berlin', '2026-01-05T09:00:00+01:00'],
    ['2026-03-08T03:30', 'America/New_York', '2026-03-08T03:30:00-04:00'],
    ['2026-10-25T02:30', 'Europe/Berlin', '2026-10-25T02:30:00+02:00'],
    ['2026-11-01T01:30', 'America/New_York', '2026-11-01T01:30:00-04:00'],
    ['2026-10-25T03:30', 'Europe/Berlin', '2026-10-25T03:30:00+01:00'],
  ])('reads %s in %s as %s', (text, zone, iso) => {
    expect(toZonedIso(text, zone)).toStrictEqual({ ok: true, iso });
  });

  it.each(['2026-07-01T00:00:00Z', '2026-01-15T00:00:00Z'])(
    'an ambiguous local time is the earlier occurrence whatever the date (now = %s)',
    (now) => {
      const saved = Settings.now;
      Settings.now = () => Date.parse(now);
      try {
        expect(toZonedIso('2026-10-25T02:30', 'Europe/Berlin')).toStrictEqual({ ok: true, iso: '2026-10-25T02:30:00+02:00' });
      } finally {
        Settings.now = saved;
      }
    },
  );
  it.each<[string, string, string]>([
    ['2026-03-29T02:30', 'Europe/Berlin', 'does not exist in Europe/Berlin'],
    ['2026-01-05 09:00', 'Europe/Berlin', 'use ISO 8601'],
    ['2026-02-30T09:00', 'Europe/Berlin', 'not a valid time'],
    ['2026-01-05T09:00', 'Europe/Berlinn', 'unknown time zone'],
  ])('rejects %s in %s', (text, zone, message) => {
    const result = toZonedIso(text, zone);
    expect(result.ok).toBe(false);
    expect(result.ok ? '' : result.message).toContain(message);
  });
});

describe('routeAlert', () => {
  it('without routing for the service: no policy, the alert severity, no rules', () => {
    expect(route(initialConfigState(), alert())).toStrictEqual({ ...DEFAULTS, policyId: null, templateId: null, ackTimeoutSeconds: null });
  });

  it('with routing but no matching rule: the service defaults', () => {
    const config = given(routing([rule('never', 'false')]));
    expect(route(config, alert())).toStrictEqual(DEFAULTS);
  });

  it('the first match applies its non-null actions and stops', () => {
    const config = given(
      routing([
        rule('first', 'labels.site == "fra1"', { policyId: 'fra-noc', severity: 'critical' }),
        rule('second', 'labels.site == "fra1"', { policyId: 'never', templateId: 'never' }),
      ]),
    );
    expect(route(config, alert({ site: 'fra1' }))).toStrictEqual({
      ...DEFAULTS,
      rules: ['first'],
      policyId: 'fra-noc',
      severity: 'critical',
      severityRule: 'first',
    });
  });

  it('continue keeps evaluating; later matches override, non-matching rules are skipped', () => {
    const config = given(
      routing([
        rule('tier', 'labels.tier == "enterprise"', { policyId: 'enterprise', ticket: 'jira', continue: true }),
        rule('skipped', 'labels.tier == "standard"', { policyId: 'standard' }),
        rule('boost', 'labels.equipment == "core_router"', { severity: 'critical', continue: true }),
        rule('template', 'true', { templateId: 'enterprise-tpl' }),
        rule('after-the-stop', 'true', { policyId: 'never' }),
      ]),
    );
    expect(route(config, alert({ tier: 'enterprise', equipment: 'core_router' }))).toStrictEqual({
      ...DEFAULTS,
      rules: ['tier', 'boost', 'template'],
      policyId: 'enterprise',
      templateId: 'enterprise-tpl',
      severity: 'critical',
      severityRule: 'boost',
      ticket: 'jira',
    });
  });

  it('a rule that throws (missing key) does not match, is reported, and routing goes on', () => {
    const config = given(
      routing([
        rule('unguarded', 'labels.pop == "fra"', { policyId: 'x' }),
        rule('guarded', 'has(labels.pop) && labels.pop == "fra"', { policyId: 'y' }),
        rule('fallback', 'true', { policyId: 'z' }),
      ]),
    );
    const decision = route(config, alert());
    expect(decision.rules).toStrictEqual(['fallback']);
    expect(decision.policyId).toBe('z');
    expect(decision.errors).toStrictEqual([{ rule: 'unguarded', message: 'No such key: pop' }]);
  });

  it('a rule that does not compile (written to the log by something other than apply) is reported, never thrown', () => {
    const config = given(routing([rule('broken', 'labels.x ==', { policyId: 'x' })]));
    const decision = route(config, alert());
    expect(decision.policyId).toBe('noc');
    expect(decision.errors).toHaveLength(1);
    expect(decision.errors[0]?.message).toMatch(/^line 1, column 12: /);
  });

  it('a dyn condition that yields a non-bool is an evaluation error', () => {
    const config = given(routing([rule('dyn', 'dyn(labels.x)')]));
    expect(route(config, alert({ x: 'yes' })).errors).toStrictEqual([{ rule: 'dyn', message: 'the condition yielded string, not a bool' }]);
  });

  it('a rule with suppress suppresses for good', () => {
    const config = given(routing([rule('flap', 'labels.alertname == "BGPSessionFlap"', { suppress: true })]));
    expect(route(config, alert({ alertname: 'BGPSessionFlap' })).suppressed).toStrictEqual({ by: 'rule', windowId: null, until: null });
  });

  it('routes other services by their own routing only', () => {
    const config = given(routing([rule('all', 'true', { policyId: 'x' })]));
    expect(route(config, alert({}, { serviceId: 'other' })).policyId).toBeNull();
  });

  describe('ISP/NOC rules over labels', () => {
    const config = given(
      calendar('noc_hours'),
      routing([
        rule('bgp-hijack', 'has(labels.alertname) && labels.alertname == "BGPHijack"', {
          policyId: 'security',
          severity: 'critical',
          ticket: 'jira',
        }),
        rule('carrier-flap', 'has(labels.carrier) && has(labels.alertname) && labels.alertname == "BGPRouteFlap"', { suppress: true }),
        rule('enterprise', 'has(labels.customer_tier) && labels.customer_tier in ["enterprise", "premium"]', {
          policyId: 'enterprise-sla',
          continue: true,
        }),
        rule(
          'core-boost',
          'has(labels.equipment_type) && labels.equipment_type in ["core_router", "edge_router"] && alert.severity == "warning"',
          {
            severity: 'error',
            continue: true,
          },
        ),
        rule('fra-pop', 'has(labels.pop) && labels.pop.startsWith("fra")', { templateId: 'de-noc', continue: true }),
        rule('site-dc1-firewall', 'has(labels.site) && labels.site == "dc1" && labels.equipment_type == "firewall"', {
          policyId: 'dc1-security',
        }),
        rule('standard-after-hours', '!calendars.noc_hours && (!has(labels.customer_tier) || labels.customer_tier == "standard")', {
          policyId: 'best-effort',
        }),
      ]),
    );
    it.each<[string, Record<string, string>, number, Partial<RouteDecision>]>([
      [
        'a BGP hijack pages security, critical, with a ticket',
        { alertname: 'BGPHijack', carrier: 'lumen' },
        MON_10_BERLIN,
        { rules: ['bgp-hijack'], policyId: 'security', severity: 'critical', ticket: 'jira' },
      ],
      [
        'a carrier route flap is suppressed',
        { alertname: 'BGPRouteFlap', carrier: 'cogent' },
        MON_10_BERLIN,
        { rules: ['carrier-flap'], suppressed: { by: 'rule', windowId: null, until: null } },
      ],
      [
        'an enterprise customer on a core router at a Frankfurt POP',
        { customer_tier: 'enterprise', equipment_type: 'core_router', pop: 'fra2' },
        MON_10_BERLIN,
        { rules: ['enterprise', 'core-boost', 'fra-pop'], policyId: 'enterprise-sla', severity: 'error', templateId: 'de-noc' },
      ],
      [
        'a firewall at dc1 (continue chain ends at the site rule)',
        { customer_tier: 'premium', equipment_type: 'firewall', site: 'dc1' },
        MON_10_BERLIN,
        { rules: ['enterprise', 'site-dc1-firewall'], policyId: 'dc1-security' },
      ],
      ['a standard customer in business hours: defaults', { customer_tier: 'standard' }, MON_10_BERLIN, { rules: [], policyId: 'noc' }],
      [
        'a standard customer after hours: best effort',
        { customer_tier: 'standard' },
        MON_2330_BERLIN,
        { rules: ['standard-after-hours'], policyId: 'best-effort' },
      ],
      ['no tier after hours counts as standard', {}, MON_2330_BERLIN, { rules: ['standard-after-hours'], policyId: 'best-effort' }],
    ])('%s', (_, labels, now, expected) => {
      const decision = route(config, alert(labels), now);
      expect(decision).toMatchObject(expected);
      expect(decision.errors).toStrictEqual([]);
    });
  });
});

const equipment = (
  types: EventData<'EquipmentTypesConfigured'>['types'],
  label = 'equipment_type',
): Omit<ConfigEvent, keyof typeof META> => ({ type: 'EquipmentTypesConfigured', data: { label, types } });
const boost = (n: number) => ({ boost: n, severity: null });
const set = (severity: Severity) => ({ boost: null, severity });

describe('applyEquipmentType', () => {
  it.each<[string, { boost: number | null; severity: Severity | null }, Severity, Severity]>([
    ['boost 1: warning → error', boost(1), 'warning', 'error'],
    ['boost 1: info → warning', boost(1), 'info', 'warning'],
    ['boost 2: info → error', boost(2), 'info', 'error'],
    ['boost 1 is capped at critical', boost(1), 'critical', 'critical'],
    ['boost 3 from warning is capped at critical', boost(3), 'warning', 'critical'],
    ['boost -1: error → warning', boost(-1), 'error', 'warning'],
    ['boost -2 is capped at info', boost(-2), 'warning', 'info'],
    ['a boost leaves unknown unknown', boost(2), 'unknown', 'unknown'],
    ['severity sets it, up', set('critical'), 'info', 'critical'],
    ['severity sets it, down', set('info'), 'critical', 'info'],
    ['severity sets unknown too', set('error'), 'unknown', 'error'],
  ])('%s', (_, rule, from, to) => {
    expect(applyEquipmentType(rule, from)).toBe(to);
  });
});

describe('routeAlert: equipment types before the rules', () => {
  const types = equipment({ core_router: boost(1), edge_router: boost(1), firewall: set('critical'), lab: boost(-1) });
  const seesSeverity = (sev: Severity) => rule(`sees-${sev}`, `alert.severity == "${sev}"`, { templateId: `tpl-${sev}`, continue: true });
  const config = given(types, routing(['info', 'warning', 'error', 'critical', 'unknown'].map((s) => seesSeverity(s as Severity))));
  it.each<[string, Record<string, string>, Severity, Partial<RouteDecision>]>([
    [
      'a core router warning is boosted to error, and the rules see error',
      { equipment_type: 'core_router' },
      'warning',
      {
        severity: 'error',
        templateId: 'tpl-error',
        rules: ['sees-error'],
        severityBoost: { from: 'warning', to: 'error', by: 'equipment:core_router', boost: 1, severity: null },
        severityRule: null,
      },
    ],
    [
      'a firewall is critical whatever the source said',
      { equipment_type: 'firewall' },
      'info',
      {
        severity: 'critical',
        rules: ['sees-critical'],
        severityBoost: { from: 'info', to: 'critical', by: 'equipment:firewall', boost: null, severity: 'critical' },
      },
    ],
    [
      'a critical core router stays critical (recorded: the boost applies again if the source lowers it)',
      { equipment_type: 'core_router' },
      'critical',
      { severity: 'critical', severityBoost: { from: 'critical', to: 'critical', by: 'equipment:core_router', boost: 1, severity: null } },
    ],
    [
      'a lab device is lowered',
      { equipment_type: 'lab' },
      'error',
      {
        severity: 'warning',
        templateId: 'tpl-warning',
        severityBoost: { from: 'error', to: 'warning', by: 'equipment:lab', boost: -1, severity: null },
      },
    ],
    ['an unconfigured type changes nothing', { equipment_type: 'switch' }, 'warning', { severity: 'warning', severityBoost: null }],
    ['no equipment label changes nothing', { device: 'cr1.fra2' }, 'warning', { severity: 'warning', severityBoost: null }],
    ['an inherited key is no type', { equipment_type: 'constructor' }, 'warning', { severity: 'warning', severityBoost: null }],
  ])('%s', (_, labels, severity, expected) => {
    const decision = route(config, alert(labels, { severity }));
    expect(decision).toMatchObject(expected);
    expect(decision.errors).toStrictEqual([]);
  });

  it('a rule that sets a severity overrides the boost and is named', () => {
    const c = given(
      types,
      routing([rule('calm-lab', 'alert.severity == "error"', { severity: 'info', continue: true }), rule('later', 'true')]),
    );
    expect(route(c, alert({ equipment_type: 'core_router' }))).toMatchObject({
      severity: 'info',
      severityRule: 'calm-lab',
      severityBoost: { from: 'warning', to: 'error' },
      rules: ['calm-lab', 'later'],
    });
  });

  it('the last rule that set a severity is the one recorded', () => {
    const c = given(
      routing([
        rule('a', 'true', { severity: 'error', continue: true }),
        rule('b', 'true', { severity: 'critical', continue: true }),
        rule('c', 'true', { templateId: 'x' }),
      ]),
    );
    expect(route(c, alert())).toMatchObject({ severity: 'critical', severityRule: 'b', severityBoost: null });
  });

  it('the label is configurable', () => {
    const c = given(equipment({ core_router: boost(1) }, 'device_role'));
    expect(route(c, alert({ equipment_type: 'core_router' })).severity).toBe('warning');
    expect(route(c, alert({ device_role: 'core_router' })).severity).toBe('error');
  });

  it('maintenance conditions see the boosted severity too', () => {
    const c = given(types, window('w', { when: 'alert.severity == "critical"' }));
    expect(route(c, alert({ equipment_type: 'firewall' }), MON_2330_BERLIN).suppressed?.windowId).toBe('w');
    expect(route(c, alert({ equipment_type: 'core_router' }), MON_2330_BERLIN).suppressed).toBeNull();
  });

  it('removing the equipment types stops the boost', () => {
    const c = given(types, { type: 'EquipmentTypesRemoved', data: {} });
    expect(route(c, alert({ equipment_type: 'core_router' })).severityBoost).toBeNull();
  });
});

describe('effectiveSeverity: a later source severity against the route', () => {
  const boosted: SeverityRoute = {
    severity: 'error',
    severityBoost: { from: 'warning', to: 'error', by: 'equipment:core_router', boost: 1, severity: null },
    severityRule: null,
  };
  const fixed: SeverityRoute = { severity: 'critical', severityBoost: null, severityRule: 'bgp-hijack' };
  const plain: SeverityRoute = { severity: 'warning', severityBoost: null, severityRule: null };
  it.each<[string, Severity, SeverityRoute | null, Severity | undefined, Severity]>([
    ['not routed yet: the source', 'warning', null, undefined, 'warning'],
    ['no boost, no rule: follows the source', 'critical', plain, undefined, 'critical'],
    ['the boost applies again to the new source severity', 'info', boosted, undefined, 'warning'],
    ['the boost applies again, capped', 'critical', boosted, undefined, 'critical'],
    ['a rule severity stays whatever the source says', 'info', fixed, undefined, 'critical'],
    ['a rule over a boost stays too', 'info', { ...boosted, severity: 'info', severityRule: 'calm' }, undefined, 'info'],
    ['an old route (no fields) that changed the severity keeps it', 'info', { severity: 'error' }, 'warning', 'error'],
    ['an old route that did not change it follows the source', 'critical', { severity: 'warning' }, 'warning', 'critical'],
  ])('%s', (_, source, r, routedFrom, expected) => {
    expect(effectiveSeverity(source, r, routedFrom)).toBe(expected);
  });

  it('severityMap lists every source severity', () => {
    expect(severityMap(boosted)).toStrictEqual({
      info: 'warning',
      warning: 'error',
      error: 'critical',
      critical: 'critical',
      unknown: 'unknown',
    });
    expect(severityMap(fixed)).toStrictEqual({
      info: 'critical',
      warning: 'critical',
      error: 'critical',
      critical: 'critical',
      unknown: 'critical',
    });
  });
});

describe('maintenance windows', () => {
  const cases: Array<[string, ConfigState, RoutedAlert, number, Pick<RouteDecision, 'suppressed' | 'maintenance'>]> = [
    [
      'a window for every service suppresses until its end',
      given(window('w1')),
      alert(),
      MON_2330_BERLIN,
      { suppressed: { by: 'maintenance', windowId: 'w1', until: '2026-03-03T04:00:00+01:00' }, maintenance: [] },
    ],
    ['before the window starts nothing happens', given(window('w1')), alert(), MON_10_BERLIN, { suppressed: null, maintenance: [] }],
    [
      'at the window end it is over (end is exclusive)',
      given(window('w1')),
      alert(),
      Date.parse('2026-03-03T03:00:00Z'),
      { suppressed: null, maintenance: [] },
    ],
    [
      'at the window start it applies (start is inclusive)',
      given(window('w1')),
      alert(),
      Date.parse('2026-03-02T21:00:00Z'),
      { suppressed: { by: 'maintenance', windowId: 'w1', until: '2026-03-03T04:00:00+01:00' }, maintenance: [] },
    ],
    [
      'a window of another service does not apply',
      given(window('w1', { services: ['billing'] })),
      alert(),
      MON_2330_BERLIN,
      { suppressed: null, maintenance: [] },
    ],
    [
      'a window listing the service applies',
      given(window('w1', { services: ['billing', 'core-net'] })),
      alert(),
      MON_2330_BERLIN,
      { suppressed: { by: 'maintenance', windowId: 'w1', until: '2026-03-03T04:00:00+01:00' }, maintenance: [] },
    ],
    [
      'labels must all match (site and device)',
      given(window('w1', { labels: { site: 'fra1', device: 'cr1' } })),
      alert({ site: 'fra1', device: 'cr2' }),
      MON_2330_BERLIN,
      { suppressed: null, maintenance: [] },
    ],
    [
      'labels that all match apply',
      given(window('w1', { labels: { site: 'fra1', device: 'cr1' } })),
      alert({ site: 'fra1', device: 'cr1', pop: 'x' }),
      MON_2330_BERLIN,
      { suppressed: { by: 'maintenance', windowId: 'w1', until: '2026-03-03T04:00:00+01:00' }, maintenance: [] },
    ],
    [
      'a when condition that is false does not apply',
      given(window('w1', { when: 'has(labels.pop) && labels.pop == "ams1"' })),
      alert({ pop: 'fra1' }),
      MON_2330_BERLIN,
      { suppressed: null, maintenance: [] },
    ],
    [
      'annotate mode lists the window and pages',
      given(window('w1', { mode: 'annotate' }), window('w2', { mode: 'annotate' })),
      alert(),
      MON_2330_BERLIN,
      { suppressed: null, maintenance: ['w1', 'w2'] },
    ],
    [
      'several suppressing windows: the latest end',
      given(window('short'), window('long', { end: '2026-03-03T08:00:00+01:00' }), window('mid', { end: '2026-03-03T06:00:00+01:00' })),
      alert(),
      MON_2330_BERLIN,
      { suppressed: { by: 'maintenance', windowId: 'long', until: '2026-03-03T08:00:00+01:00' }, maintenance: [] },
    ],
  ];
  it.each(cases)('%s', (_, config, a, now, expected) => {
    expect(route(config, a, now)).toMatchObject(expected);
  });

  it('a suppressing rule wins over a maintenance window, annotations are still listed', () => {
    const config = given(window('w1'), window('w2', { mode: 'annotate' }), routing([rule('mute', 'true', { suppress: true })]));
    expect(route(config, alert(), MON_2330_BERLIN)).toMatchObject({
      suppressed: { by: 'rule', windowId: null, until: null },
      maintenance: ['w2'],
    });
  });

  it('a when condition that throws does not cover and is reported', () => {
    const config = given(window('w1', { when: 'labels.pop == "fra1"' }));
    expect(route(config, alert(), MON_2330_BERLIN)).toMatchObject({
      suppressed: null,
      errors: [{ rule: 'maintenance:w1', message: 'No such key: pop' }],
    });
  });

  it('activeWindows lists the covering windows of either mode', () => {
    const config = given(
      window('w1'),
      window('w2', { mode: 'annotate', labels: { site: 'fra1' } }),
      window('w3', { labels: { site: 'ams1' } }),
    );
    expect(activeWindows(config, alert({ site: 'fra1' }), MON_2330_BERLIN).map((w) => w.windowId)).toStrictEqual(['w1', 'w2']);
  });
});

describe('speed', () => {
  it('routes a service with ten rules and a calendar well above 50k alerts/s (reported, loosely asserted)', () => {
    const config = given(
      calendar('noc_hours'),
      window('w1', { labels: { site: 'ams9' } }),
      routing(
        Array.from({ length: 10 }, (_, i) =>
          rule(`r${i}`, `has(labels.pop) && labels.pop == "pop${i}" && (alert.severity == "critical" || !calendars.noc_hours)`, {
            policyId: `p${i}`,
          }),
        ),
      ),
    );
    const alerts = Array.from({ length: 100 }, (_, i) => alert({ pop: `pop${i % 12}`, site: 'fra1' }));
    const n = 50_000;
    const start = performance.now();
    for (let i = 0; i < n; i++) route(config, alerts[i % 100]!, MON_10_BERLIN + i);
    const perSecond = n / ((performance.now() - start) / 1000);
    console.info(`routeAlert: ${Math.round(perSecond)} routes/s`);
    expect(perSecond).toBeGreaterThan(10_000);
  });
});
