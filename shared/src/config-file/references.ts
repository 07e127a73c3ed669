import type { z } from 'zod';
import type { EscalationTarget, TemplateChannels } from '@oncall/contracts';
import { validateSchedule } from '../index.js';
import { CHANNEL_PATH, compiled, keyHashOf, type SECTIONS, type SINGLES } from './schemas.js';

/**
 * Checks across elements of the configuration file: duplicate ids, references between sections
 * (heartbeat → service, routing → policy/template/calendar, policy → schedule/rotation, window →
 * service/calendar, NOC model: site → parent site/customer tier, policy → response tier, inhibit
 * rule → sites/calendar, routing rule → ticket provider) and users (through an injected lookup). There are no policy → policy
 * references, so escalation cycles cannot be written: a policy only names users, schedules,
 * rotations, channels and response tiers, and a response tier names no other tier.
 */

export type Path = Array<string | number>;
/** `missing`: the problem is a reference to an element that is not there (kind as in the message: "schedule"). */
export type Issue = { path: Path; message: string; missing?: { kind: string; id: string } };

type Sections = typeof SECTIONS;
export type SectionName = keyof Sections;
export type Element<S extends SectionName> = z.output<Sections[S]>;
/** A parsed element with its index in the file, so errors name the right line of a list. */
export type Indexed<T> = { at: number; value: T };
export type ParsedSections = { [S in SectionName]: Array<Indexed<Element<S>>> };
/** Ids of elements that failed to parse: references to them are not reported a second time. */
export type BrokenIds = { [S in SectionName]: Set<string> };

type Singles = typeof SINGLES;
export type SingleName = keyof Singles;
/** The one-element sections (placement, customerTiers, responseTiers); null when absent or broken. */
export type ParsedSingles = { [S in SingleName]: z.output<Singles[S]> | null };

function duplicates<T>(section: string, items: Array<Indexed<T>>, idOf: (t: T) => string, what: string, issues: Issue[]): Map<string, T> {
  const byId = new Map<string, T>();
  const firstAt = new Map<string, number>();
  for (const { at, value } of items) {
    const id = idOf(value);
    const first = firstAt.get(id);
    if (first !== undefined)
      issues.push({ path: [section, at, 'id'], message: `duplicate ${what} id "${id}" (also ${section}[${first}])` });
    else {
      firstAt.set(id, at);
      byId.set(id, value);
    }
  }
  return byId;
}

export function crossCheck(
  parsed: ParsedSections,
  broken: BrokenIds,
  singles: ParsedSingles,
  brokenSingles: ReadonlySet<SingleName> = new Set(),
): Issue[] {
  const issues: Issue[] = [];
  const services = duplicates('services', parsed.services, (s) => s.id, 'service', issues);
  const calendars = duplicates('calendars', parsed.calendars, (c) => c.id, 'calendar', issues);
  const templates = duplicates('templates', parsed.templates, (t) => t.id, 'template', issues);
  const schedules = duplicates('schedules', parsed.schedules, (s) => s.id, 'schedule', issues);
  const policies = duplicates('escalationPolicies', parsed.escalationPolicies, (p) => p.id, 'escalation policy', issues);
  duplicates('maintenanceWindows', parsed.maintenanceWindows, (w) => w.id, 'maintenance window', issues);
  const ticketProviders = duplicates('ticketProviders', parsed.ticketProviders, (p) => p.id, 'ticket provider', issues);
  const rulesOf = new Map<string, number>();
  for (const { at, value } of parsed.notificationRules) {
    const first = rulesOf.get(value.user);
    if (first !== undefined)
      issues.push({
        path: ['notificationRules', at, 'user'],
        message: `duplicate notification rules for user "${value.user}" (also notificationRules[${first}])`,
      });
    else rulesOf.set(value.user, at);
  }

  const refTo =
    (kind: string, known: Map<string, unknown>, brokenIds: Set<string>) =>
    (id: string | null, path: Path, prefix = '') => {
      if (id !== null && !known.has(id) && !brokenIds.has(id))
        issues.push({ path, message: `${prefix}no ${kind} "${id}" in this file`, missing: { kind, id } });
    };
  const service = refTo('service', services, broken.services);
  const policy = refTo('escalation policy', policies, broken.escalationPolicies);
  const template = refTo('template', templates, broken.templates);
  const schedule = refTo('schedule', schedules, broken.schedules);
  const calendar = refTo('calendar', calendars, broken.calendars);
  const ticketProvider = refTo('ticket provider', ticketProviders, broken.ticketProviders);
  const calendarsOf = (source: string, path: Path) => {
    for (const ref of compiled(source).calendars) calendar(ref.calendarId, path, `line ${ref.line}, column ${ref.column}: `);
  };

  const keys = new Map<string, string>();
  for (const { at, value: s } of parsed.services) {
    s.integrationKeys.forEach((k, j) => {
      const hash = keyHashOf(k);
      const other = keys.get(hash);
      const field = 'key' in k ? 'key' : 'keyHash';
      if (other) issues.push({ path: ['services', at, 'integrationKeys', j, field], message: `the same key is used by ${other}` });
      else keys.set(hash, `services[${at}].integrationKeys[${j}]`);
    });
    if (!s.routing) continue;
    const base: Path = ['services', at, 'routing'];
    policy(s.routing.escalationPolicy, [...base, 'escalationPolicy']);
    template(s.routing.template, [...base, 'template']);
    s.routing.rules.forEach((r, k) => {
      policy(r.escalationPolicy, [...base, 'rules', k, 'escalationPolicy']);
      template(r.template, [...base, 'rules', k, 'template']);
      ticketProvider(r.ticket, [...base, 'rules', k, 'ticket']);
      calendarsOf(r.when, [...base, 'rules', k, 'when']);
    });
  }

  const monitors = new Set<string>();
  for (const { at, value: h } of parsed.heartbeats) {
    if (monitors.has(h.id)) issues.push({ path: ['heartbeats', at, 'id'], message: `duplicate heartbeat id "${h.id}"` });
    monitors.add(h.id);
    service(h.service, ['heartbeats', at, 'service']);
  }

  const responseTiers = new Set((singles.responseTiers ?? []).map((t) => t.tierId));
  const target = (t: EscalationTarget, path: Path) => {
    if (t.type === 'schedule') schedule(t.scheduleId, [...path, 'schedule']);
    if (t.type === 'rotation') {
      const s = schedules.get(t.scheduleId);
      if (!s) schedule(t.scheduleId, [...path, 'rotation']);
      else if (!s.rotations.some((r) => r.id === t.rotationId))
        issues.push({
          path: [...path, 'rotation'],
          message: `no rotation "${t.rotationId}" in schedule "${t.scheduleId}"`,
          missing: { kind: 'rotation', id: `${t.scheduleId}/${t.rotationId}` },
        });
    }
    if (t.type === 'tier' && !responseTiers.has(t.tierId) && !brokenSingles.has('responseTiers'))
      issues.push({
        path: [...path, 'tier'],
        message: singles.responseTiers
          ? `no response tier "${t.tierId}" in responseTiers`
          : `no response tier "${t.tierId}": the file has no responseTiers`,
      });
  };
  for (const { at, value: p } of parsed.escalationPolicies) {
    p.steps.forEach((step, j) => step.targets.forEach((t, k) => target(t, ['escalationPolicies', at, 'steps', j, 'targets', k])));
  }
  for (const tier of singles.responseTiers ?? []) tier.targets.forEach((t, k) => target(t, ['responseTiers', tier.tierId, 'targets', k]));

  // The on-call calculation's own checks (limits it needs, e.g. shift lengths per rotation type).
  for (const { at, value: s } of parsed.schedules) {
    const problems = validateSchedule({
      scheduleId: s.id,
      name: s.name,
      timeZone: s.timeZone,
      rotations: s.rotations,
      overrides: s.overrides.map((o) => ({ kind: o.kind, userId: o.user, replaces: o.replaces, start: o.start, end: o.end })),
      temporary: s.temporary,
    });
    for (const problem of problems) {
      const colon = problem.indexOf(': ');
      const field =
        colon < 0
          ? []
          : problem
              .slice(0, colon)
              .split('.')
              .map((p) => (/^\d+$/.test(p) ? Number(p) : p.replace(/^userId$/, 'user')));
      issues.push({ path: ['schedules', at, ...field], message: colon < 0 ? problem : problem.slice(colon + 2) });
    }
  }

  for (const { at, value: w } of parsed.maintenanceWindows) {
    w.services.forEach((s, j) => service(s, ['maintenanceWindows', at, 'services', j]));
    if (w.when !== null) calendarsOf(w.when, ['maintenanceWindows', at, 'when']);
  }

  issues.push(...nocCheck(parsed, broken, singles, brokenSingles));
  for (const { at, value: r } of parsed.inhibitRules) {
    calendarsOf(r.source, ['inhibitRules', at, 'source']);
    calendarsOf(r.target, ['inhibitRules', at, 'target']);
  }
  return issues;
}

/** The site registry (ids, parents, cycles, devices, tiers), placement and inhibit rules. */
function nocCheck(parsed: ParsedSections, broken: BrokenIds, singles: ParsedSingles, brokenSingles: ReadonlySet<SingleName>): Issue[] {
  const issues: Issue[] = [];
  const sites = duplicates('sites', parsed.sites, (s) => s.id, 'site', issues);
  const hasSites = parsed.sites.length > 0 || broken.sites.size > 0;
  if (singles.placement && !hasSites) issues.push({ path: ['placement'], message: 'placement places alerts at sites: add the sites' });

  const tiers = new Set((singles.customerTiers?.tiers ?? []).map((t) => t.tierId));
  const deviceAt = new Map<string, { site: string; at: number }>();
  for (const { at, value: s } of parsed.sites) {
    if (s.parent !== null && !sites.has(s.parent) && !broken.sites.has(s.parent))
      issues.push({ path: ['sites', at, 'parent'], message: `no site "${s.parent}" in sites` });
    if (s.tier !== null && !tiers.has(s.tier) && !brokenSingles.has('customerTiers'))
      issues.push({
        path: ['sites', at, 'tier'],
        message: singles.customerTiers
          ? `no customer tier "${s.tier}" in customerTiers`
          : `no customer tier "${s.tier}": the file has no customerTiers`,
      });
    s.devices.forEach((d, j) => {
      const other = deviceAt.get(d);
      if (other && other.site !== s.id)
        issues.push({ path: ['sites', at, 'devices', j], message: `device "${d}" is also at site "${other.site}" (sites[${other.at}])` });
      else if (!other) deviceAt.set(d, { site: s.id, at });
    });
  }
  // A cycle is reported once, at the first of its sites in the file.
  const inCycle = new Set<string>();
  for (const { at, value: s } of parsed.sites) {
    if (inCycle.has(s.id) || sites.get(s.id) !== s) continue;
    const chain = [s.id];
    const seen = new Set(chain);
    for (let next = s.parent; next !== null;) {
      const parent = sites.get(next);
      if (!parent) break;
      if (next === s.id) {
        chain.forEach((id) => inCycle.add(id));
        issues.push({ path: ['sites', at, 'parent'], message: `sites form a cycle: ${[...chain, s.id].join(' → ')}` });
        break;
      }
      if (seen.has(next)) break; // a cycle above this site, reported at its own first site
      seen.add(next);
      chain.push(next);
      next = parent.parent;
    }
  }

  const inhibitNames = new Map<string, number>();
  for (const { at, value: r } of parsed.inhibitRules) {
    const first = inhibitNames.get(r.name);
    if (first !== undefined)
      issues.push({ path: ['inhibitRules', at, 'name'], message: `duplicate inhibit rule name "${r.name}" (also inhibitRules[${first}])` });
    else inhibitNames.set(r.name, at);
    if (r.scope === 'site' && !hasSites)
      issues.push({ path: ['inhibitRules', at, 'scope'], message: 'scope site needs the site registry: add sites (or use scope labels)' });
  }
  return issues;
}

/** Every place the file names a user, for the user check. */
export function userReferences(
  parsed: Pick<ParsedSections, 'schedules' | 'escalationPolicies' | 'notificationRules'>,
  singles?: Pick<ParsedSingles, 'responseTiers'>,
): Array<{ path: Path; userId: string }> {
  const refs: Array<{ path: Path; userId: string }> = [];
  for (const { at, value } of parsed.notificationRules) refs.push({ path: ['notificationRules', at, 'user'], userId: value.user });
  for (const { at, value: s } of parsed.schedules) {
    s.rotations.forEach((r, j) =>
      r.members.forEach((u, k) => refs.push({ path: ['schedules', at, 'rotations', j, 'members', k], userId: u })),
    );
    s.overrides.forEach((o, j) => {
      refs.push({ path: ['schedules', at, 'overrides', j, 'user'], userId: o.user });
      if (o.replaces !== null) refs.push({ path: ['schedules', at, 'overrides', j, 'replaces'], userId: o.replaces });
    });
    s.temporary.forEach((t, j) => t.users.forEach((u, k) => refs.push({ path: ['schedules', at, 'temporary', j, 'users', k], userId: u })));
  }
  for (const { at, value: p } of parsed.escalationPolicies) {
    p.steps.forEach((step, j) =>
      step.targets.forEach((t, k) => {
        if (t.type === 'user') refs.push({ path: ['escalationPolicies', at, 'steps', j, 'targets', k, 'user'], userId: t.userId });
      }),
    );
  }
  for (const tier of singles?.responseTiers ?? [])
    tier.targets.forEach((t, k) => {
      if (t.type === 'user') refs.push({ path: ['responseTiers', tier.tierId, 'targets', k, 'user'], userId: t.userId });
    });
  return refs;
}

/** Which of these user ids exist (kneutral-api's UserService, a users file, a fixed list). */
export type KnownUsers = (ids: string[]) => Promise<ReadonlySet<string>> | ReadonlySet<string>;

export async function checkUsers(
  parsed: Pick<ParsedSections, 'schedules' | 'escalationPolicies' | 'notificationRules'>,
  knownUsers: KnownUsers,
  source: string,
  singles?: Pick<ParsedSingles, 'responseTiers'>,
): Promise<Issue[]> {
  const refs = userReferences(parsed, singles);
  if (refs.length === 0) return [];
  let known: ReadonlySet<string>;
  try {
    known = await knownUsers([...new Set(refs.map((r) => r.userId))].sort());
  } catch (err) {
    return [{ path: [], message: `users could not be checked against ${source}: ${err instanceof Error ? err.message : String(err)}` }];
  }
  return refs.filter((r) => !known.has(r.userId)).map((r) => ({ path: r.path, message: `no user "${r.userId}" in ${source}` }));
}

/** A template as the file declares it, for the dispatcher's template validator. */
export type TemplateToValidate = Element<'templates'>;
/** A problem the validator found: in one channel (null = the template as a whole). */
export type TemplateProblem = { channel: keyof TemplateChannels | null; message: string };
/** Validates templates (liquid syntax, variables); supplied by the dispatcher's template engine. */
export type TemplateValidator = (template: TemplateToValidate) => TemplateProblem[] | Promise<TemplateProblem[]>;

export async function checkTemplates(templates: Array<Indexed<TemplateToValidate>>, validate: TemplateValidator): Promise<Issue[]> {
  const issues: Issue[] = [];
  for (const { at, value } of templates) {
    for (const p of await validate(value)) {
      issues.push({
        path: p.channel === null ? ['templates', at] : ['templates', at, 'channels', ...CHANNEL_PATH[p.channel]],
        message: p.message,
      });
    }
  }
  return issues;
}
