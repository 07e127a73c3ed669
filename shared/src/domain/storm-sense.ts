import type { CustomerTier, Flapping, InhibitRule, SiteRegistry } from '@oncall/contracts';
import type { ConfigState } from './config.js';
import { evaluate, ruleContext, type RoutedAlert, type RuleError, type RuleLookup } from './routing.js';

/**
 * Storm sense (issue 16, docs/noc.md), the pure part: where an alert is (the site registry), which
 * incident group it belongs to, which inhibit rules it is a source or a target of, its flapping
 * thresholds and its customer tier's SLA — decided once, when the alert is routed, and recorded on
 * AlertRouted — and the judgements made later from other alerts (inhibitorOf, flapVerdict).
 */

export type StormSense = {
  site: string | null;
  groupKey: string | null;
  groupLabels: Record<string, string>;
  inhibits: string[];
  inhibitableBy: string[];
  inhibitWaitSeconds: number;
  flapping: Flapping | null;
  sla: { tier: string; responseSeconds: number; escalateBeforeSeconds: number } | null;
};

export function stormSense(
  alert: RoutedAlert,
  now: number,
  matchedRules: readonly string[],
  config: ConfigState,
  compiled: RuleLookup,
  errors: RuleError[],
): StormSense {
  const routing = config.routing.get(alert.serviceId);
  // A matching rule's grouping or flapping (the last that sets one) overrides the service's.
  let grouping = routing?.grouping ?? null;
  let flapping = routing?.flapping ?? null;
  for (const name of matchedRules) {
    const rule = routing?.rules.find((r) => r.name === name);
    if (rule?.grouping !== undefined && rule.grouping !== null) grouping = rule.grouping;
    if (rule?.flapping !== undefined && rule.flapping !== null) flapping = rule.flapping;
  }
  const site = config.sites ? placeAlert(alert.labels, config.sites) : null;
  // `site` in `by` is the alert's site label, else where the registry places it (e.g. by its device).
  const groupLabels: Record<string, string> = {};
  if (grouping) for (const label of grouping.by) groupLabels[label] = alert.labels[label] ?? (label === 'site' ? site : null) ?? '';
  const groupKey = grouping ? `${alert.serviceId}|${grouping.by.map((l) => `${l}=${groupLabels[l]}`).join(',')}` : null;

  const inhibits: string[] = [];
  const inhibitableBy: string[] = [];
  let inhibitWaitSeconds = 0;
  if (config.inhibitRules.size > 0) {
    const ctx = ruleContext({ alert, now }, config);
    for (const rule of config.inhibitRules.values()) {
      if (evaluate(`inhibit:${rule.ruleId}:source`, rule.source, ctx, compiled, errors)) inhibits.push(rule.ruleId);
      if (evaluate(`inhibit:${rule.ruleId}:target`, rule.target, ctx, compiled, errors)) {
        inhibitableBy.push(rule.ruleId);
        inhibitWaitSeconds = Math.max(inhibitWaitSeconds, rule.waitSeconds);
      }
    }
  }
  const tier = tierOf(alert.labels, site, config);
  const sla = tier ? { tier: tier.tierId, responseSeconds: tier.responseSeconds, escalateBeforeSeconds: tier.escalateBeforeSeconds } : null;
  return { site, groupKey, groupLabels, inhibits, inhibitableBy, inhibitWaitSeconds, flapping, sla };
}

// ─── Sites ────────────────────────────────────────────────────────────────────────────────────

type SiteIndex = { parent: Map<string, string | null>; tier: Map<string, string | null>; byDevice: Map<string, string> };
const indexes = new WeakMap<SiteRegistry, SiteIndex>();

function indexOf(registry: SiteRegistry): SiteIndex {
  let index = indexes.get(registry);
  if (!index) {
    index = { parent: new Map(), tier: new Map(), byDevice: new Map() };
    for (const s of registry.sites) {
      index.parent.set(s.siteId, s.parentId);
      index.tier.set(s.siteId, s.tier);
      for (const d of s.devices) if (!index.byDevice.has(d)) index.byDevice.set(d, s.siteId);
    }
    indexes.set(registry, index);
  }
  return index;
}

/** The site an alert is at: the first placement label naming a known site, else the site listing its device; null when none. */
export function placeAlert(labels: Readonly<Record<string, string>>, registry: SiteRegistry): string | null {
  const index = indexOf(registry);
  for (const label of registry.placementLabels) {
    const value = labels[label];
    if (value !== undefined && index.parent.has(value)) return value;
  }
  const device = labels[registry.deviceLabel];
  return device === undefined ? null : (index.byDevice.get(device) ?? null);
}

/** `siteId` is `ancestorId` or lies below it (parents followed; a cycle ends the walk). */
export function siteWithin(siteId: string, ancestorId: string, registry: SiteRegistry): boolean {
  const { parent } = indexOf(registry);
  const seen = new Set<string>();
  for (let at: string | null | undefined = siteId; at != null && !seen.has(at); at = parent.get(at)) {
    if (at === ancestorId) return true;
    seen.add(at);
  }
  return false;
}

/** The alert's customer tier: its tier label, else the nearest tier up its site's parents. */
function tierOf(labels: Readonly<Record<string, string>>, site: string | null, config: ConfigState): CustomerTier | null {
  const tiers = config.customerTiers;
  if (!tiers) return null;
  const named = labels[tiers.label];
  if (named !== undefined) return tiers.tiers.get(named) ?? null;
  if (!site || !config.sites) return null;
  const { parent, tier } = indexOf(config.sites);
  const seen = new Set<string>();
  for (let at: string | null | undefined = site; at != null && !seen.has(at); at = parent.get(at)) {
    const t = tier.get(at);
    if (t) return tiers.tiers.get(t) ?? null;
    seen.add(at);
  }
  return null;
}

// ─── Inhibition ───────────────────────────────────────────────────────────────────────────────

/** A firing alert that matched the source of some inhibit rules. */
export type InhibitSource = Readonly<{
  alertId: string;
  labels: Readonly<Record<string, string>>;
  site: string | null;
  rules: readonly string[];
  summary: string;
}>;

export type InhibitTarget = Readonly<{
  alertId: string;
  labels: Readonly<Record<string, string>>;
  site: string | null;
  inhibitableBy: readonly string[];
}>;

/**
 * The firing source that inhibits `target` now, or null. As Alertmanager: the `equal` labels must
 * have the same values on both (a missing label is the empty string); scope `site`: the target is
 * at the source's site or below it. An alert never inhibits itself.
 */
export function inhibitorOf(
  target: InhibitTarget,
  sources: Iterable<InhibitSource>,
  rules: ReadonlyMap<string, InhibitRule>,
  registry: SiteRegistry | null,
): { by: string; rule: string; summary: string } | null {
  if (target.inhibitableBy.length === 0) return null;
  for (const source of sources) {
    if (source.alertId === target.alertId) continue;
    for (const ruleId of source.rules) {
      const rule = rules.get(ruleId);
      if (!rule || !target.inhibitableBy.includes(ruleId)) continue;
      if (rule.equal.some((l) => (source.labels[l] ?? '') !== (target.labels[l] ?? ''))) continue;
      if (rule.scope === 'site' && !(registry && target.site && source.site && siteWithin(target.site, source.site, registry))) continue;
      return { by: source.alertId, rule: ruleId, summary: source.summary };
    }
  }
  return null;
}

// ─── Flapping ─────────────────────────────────────────────────────────────────────────────────

/** One fingerprint's recent triggers (epoch ms, ascending, the current one last) and since when it flaps. */
export type FlipHistory = Readonly<{ triggers: readonly number[]; flappingSince: number | null }>;

/** Whether any service or routing rule detects flapping: without one, flip histories matter to no decision. */
export function flappingConfigured(config: ConfigState): boolean {
  for (const routing of config.routing.values()) if (routing.flapping || routing.rules.some((r) => r.flapping)) return true;
  return false;
}

export type FlapVerdict = 'normal' | 'starts' | 'continues' | 'ends';

/**
 * A new alert of a fingerprint: flapping `starts` when `flips` triggers (this one included) fall
 * within the window; while flapping, a trigger `continues` it unless the one before was at least
 * the quiet period ago (`ends`: this alert pages as usual).
 */
export function flapVerdict(history: FlipHistory, f: Flapping): FlapVerdict {
  const { triggers, flappingSince } = history;
  const current = triggers[triggers.length - 1];
  if (current === undefined) return 'normal';
  if (flappingSince !== null) {
    const previous = triggers[triggers.length - 2];
    return previous !== undefined && current - previous < f.quietSeconds * 1000 ? 'continues' : 'ends';
  }
  const from = current - f.windowSeconds * 1000;
  let within = 0;
  for (const t of triggers) if (t >= from) within++;
  return within >= f.flips ? 'starts' : 'normal';
}
