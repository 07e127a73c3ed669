import { Environment, ParseError, type ASTNode, type ParseResult } from '@marcbachmann/cel-js';
import type { EquipmentTypeRule, Severity } from '@oncall/contracts';
import { inBusinessHours } from './calendar.js';
import type { ConfigState, MaintenanceWindow } from './config.js';

export { inBusinessHours, inTimeWindows, isValidTimeZone, isValidDate, toZonedIso, type LocalTimeResult } from './calendar.js';

/**
 * Alert routing: CEL rules of a service's RoutingConfigured, maintenance windows and business-hours
 * calendars, decided from a configuration snapshot and a time given as data. Pure; CEL sources
 * are compiled once (the caller passes a cache) and each route builds one small context.
 */

// ─── CEL environment ──────────────────────────────────────────────────────────────────────────

/** `alert` in CEL: typed, so `alert.sevrity` is a compile error instead of a runtime one. */
class AlertFields {
  constructor(
    readonly severity: string,
    readonly summary: string,
    readonly source: string,
    readonly fingerprint: string,
    readonly service: string,
  ) {}
}

/** `now` in CEL: UTC wall clock of the routing instant, plus the instant as a CEL timestamp. */
class NowFields {
  constructor(
    readonly hour: bigint,
    readonly minute: bigint,
    readonly weekday: string,
    readonly date: string,
    readonly time: Date,
  ) {}
}

const env = new Environment({ limits: { maxAstNodes: 2000, maxDepth: 64 } })
  .registerType('Alert', {
    ctor: AlertFields,
    fields: { severity: 'string', summary: 'string', source: 'string', fingerprint: 'string', service: 'string' },
  })
  .registerType('Now', {
    ctor: NowFields,
    fields: { hour: 'int', minute: 'int', weekday: 'string', date: 'string', time: 'google.protobuf.Timestamp' },
  })
  .registerVariable('labels', 'map<string, string>')
  .registerVariable('annotations', 'map<string, string>')
  .registerVariable('alert', 'Alert')
  .registerVariable('now', 'Now')
  .registerVariable('calendars', 'map<string, bool>');

/** What a rule sees. Built by `ruleContext`; exported for tests and tools that evaluate rules. */
export type RuleContext = Readonly<{
  labels: Readonly<Record<string, string>>;
  annotations: Readonly<Record<string, string>>;
  alert: AlertFields;
  now: NowFields;
  calendars: Readonly<Record<string, boolean>>;
}>;

// ─── Compiling ────────────────────────────────────────────────────────────────────────────────

/** A CEL source that does not parse, does not type-check or does not yield a bool. 1-based position. */
export class RuleCompileError extends Error {
  override readonly name = 'RuleCompileError';
  constructor(
    readonly line: number,
    readonly column: number,
    message: string,
    options?: { cause?: unknown },
  ) {
    super(message, options);
  }
}

/** A rule that failed while evaluating (a missing map key, a bad regex, a non-bool `dyn`). */
export class RuleEvaluationError extends Error {
  override readonly name = 'RuleEvaluationError';
}

/** A calendar named by a rule as `calendars.<id>`, `calendars["<id>"]` or `"<id>" in calendars`, where it is written. */
export type CalendarReference = Readonly<{ calendarId: string; line: number; column: number }>;

export type CompiledRule = Readonly<{
  source: string;
  /** Calendars the source names literally, for reference checks at configuration time. */
  calendars: readonly CalendarReference[];
  /** Evaluates the rule; throws RuleEvaluationError when it cannot. */
  matches: (ctx: RuleContext) => boolean;
}>;

function position(source: string, offset: number): { line: number; column: number } {
  const before = source.slice(0, Math.max(0, Math.min(offset, source.length)));
  const lineStart = before.lastIndexOf('\n') + 1;
  return { line: before.split('\n').length, column: offset - lineStart + 1 };
}

function compileError(source: string, offset: number, message: string, cause?: unknown): RuleCompileError {
  const { line, column } = position(source, offset);
  return new RuleCompileError(line, column, message, { cause });
}

type CelError = { summary?: unknown; range?: { start: number } | undefined; message: string };
const summaryOf = (err: CelError): string =>
  typeof err.summary === 'string' ? err.summary : (err.message.split('\n')[0] ?? 'invalid expression');

function calendarReferences(source: string, ast: ASTNode): CalendarReference[] {
  const refs: CalendarReference[] = [];
  const visit = (x: unknown): void => {
    if (Array.isArray(x)) {
      for (const y of x) visit(y);
      return;
    }
    if (typeof x !== 'object' || x === null || !('op' in x) || !('args' in x)) return;
    const node = x as ASTNode;
    if (node.op === '.' || node.op === '[]') {
      const [target, key] = node.args;
      const isCalendars = typeof target === 'object' && target.op === 'id' && target.args === 'calendars';
      const id = typeof key === 'string' ? key : key.op === 'value' && typeof key.args === 'string' ? key.args : null;
      if (isCalendars && id !== null) refs.push({ calendarId: id, ...position(source, node.range.start) });
    } else if (node.op === 'in') {
      const [key, target] = node.args;
      if (target.op === 'id' && target.args === 'calendars' && key.op === 'value' && typeof key.args === 'string') {
        refs.push({ calendarId: key.args, ...position(source, node.range.start) });
      }
    }
    visit(node.args);
  };
  visit(ast);
  return refs;
}

/**
 * Parses and type-checks a CEL condition over `labels`, `annotations` (map<string,string>),
 * `alert` (severity, summary, source, fingerprint, service), `now` (hour, minute, weekday,
 * date: UTC; time: timestamp) and `calendars` (map<string,bool>). The result must be a bool
 * (or `dyn`, checked when evaluated).
 */
export function compileRule(source: string): CompiledRule {
  let parsed: ParseResult;
  try {
    parsed = env.parse(source);
  } catch (err) {
    if (err instanceof ParseError || (err instanceof Error && 'range' in err)) {
      const e = err as CelError;
      throw compileError(source, e.range?.start ?? 0, summaryOf(e), err);
    }
    throw compileError(source, 0, err instanceof Error ? err.message : String(err), err);
  }
  const checked = parsed.check();
  if (!checked.valid) {
    const e = checked.error as CelError | undefined;
    throw compileError(source, e?.range?.start ?? 0, e ? summaryOf(e) : 'does not type-check', e);
  }
  if (checked.type !== 'bool' && checked.type !== 'dyn') {
    throw compileError(source, parsed.ast.range.start, `the condition must yield a bool, not ${checked.type ?? 'unknown'}`);
  }
  const calendars = calendarReferences(source, parsed.ast);
  return {
    source,
    calendars,
    matches: (ctx) => {
      let value: unknown;
      try {
        value = parsed(ctx);
      } catch (err) {
        throw new RuleEvaluationError(err instanceof Error ? summaryOf(err) : String(err), { cause: err });
      }
      if (typeof value !== 'boolean') throw new RuleEvaluationError(`the condition yielded ${typeof value}, not a bool`);
      return value;
    },
  };
}

/**
 * A compile cache by source text, for `routeAlert`. Sources that fail to compile are cached
 * as the error, so a bad rule in the log costs one parse, not one per alert. The cache is
 * bounded: when full it starts over (sources come from configuration, so this is rare).
 */
export function ruleCache(maxEntries = 10_000): (source: string) => CompiledRule {
  const cache = new Map<string, CompiledRule | RuleCompileError>();
  return (source) => {
    let entry = cache.get(source);
    if (entry === undefined) {
      try {
        entry = compileRule(source);
      } catch (err) {
        if (!(err instanceof RuleCompileError)) throw err;
        entry = err;
      }
      if (cache.size >= maxEntries) cache.clear();
      cache.set(source, entry);
    }
    if (entry instanceof RuleCompileError) throw entry;
    return entry;
  };
}

// ─── Context ──────────────────────────────────────────────────────────────────────────────────

export type RoutedAlert = Readonly<{
  serviceId: string;
  severity: Severity;
  summary: string;
  source: string;
  fingerprint: string;
  labels: Readonly<Record<string, string>>;
  annotations: Readonly<Record<string, string>>;
}>;

export type RouteInput = Readonly<{ alert: RoutedAlert; /** epoch milliseconds */ now: number }>;

const WEEKDAY_NAMES = ['sun', 'mon', 'tue', 'wed', 'thu', 'fri', 'sat'] as const;

/**
 * `calendars` only changes at minute boundaries (business hours are HH:mm in zones with whole-
 * minute offsets), so it is computed once per calendar set and UTC minute. Keyed weakly by the
 * calendars map of the ConfigState, which evolveConfig replaces on every calendar change.
 */
const calendarMemo = new WeakMap<ReadonlyMap<string, unknown>, { minute: number; value: Readonly<Record<string, boolean>> }>();

function calendarsAt(config: ConfigState, nowMs: number): Readonly<Record<string, boolean>> {
  const minute = Math.floor(nowMs / 60_000);
  const memo = calendarMemo.get(config.calendars);
  if (memo && memo.minute === minute) return memo.value;
  const value: Record<string, boolean> = {};
  for (const [id, calendar] of config.calendars) value[id] = inBusinessHours(calendar, nowMs);
  calendarMemo.set(config.calendars, { minute, value });
  return value;
}

function nowFields(nowMs: number): NowFields {
  const d = new Date(nowMs);
  const date = `${String(d.getUTCFullYear()).padStart(4, '0')}-${String(d.getUTCMonth() + 1).padStart(2, '0')}-${String(d.getUTCDate()).padStart(2, '0')}`;
  return new NowFields(BigInt(d.getUTCHours()), BigInt(d.getUTCMinutes()), WEEKDAY_NAMES[d.getUTCDay()] ?? 'sun', date, d);
}

/** The CEL context of an alert at an instant. */
export function ruleContext(input: RouteInput, config: ConfigState): RuleContext {
  const a = input.alert;
  return {
    labels: a.labels,
    annotations: a.annotations,
    alert: new AlertFields(a.severity, a.summary, a.source, a.fingerprint, a.serviceId),
    now: nowFields(input.now),
    calendars: calendarsAt(config, input.now),
  };
}

// ─── Maintenance windows ──────────────────────────────────────────────────────────────────────

export type RuleError = Readonly<{ rule: string; message: string }>;

/** The compiled-rule lookup `routeAlert` uses; `ruleCache()` makes one. */
export type RuleLookup = (source: string) => CompiledRule;

const defaultRules = ruleCache();

/** Evaluates a source; a rule that cannot be compiled or evaluated does not match and is reported. */
export function evaluate(name: string, source: string, ctx: RuleContext, compiled: RuleLookup, errors: RuleError[]): boolean {
  try {
    return compiled(source).matches(ctx);
  } catch (err) {
    if (!(err instanceof RuleCompileError) && !(err instanceof RuleEvaluationError)) throw err;
    const where = err instanceof RuleCompileError ? `line ${err.line}, column ${err.column}: ` : '';
    errors.push({ rule: name, message: `${where}${err.message}` });
    return false;
  }
}

function windowCovers(w: MaintenanceWindow, alert: RoutedAlert, nowMs: number): boolean {
  if (w.services.length > 0 && !w.services.includes(alert.serviceId)) return false;
  for (const key in w.labels) if (alert.labels[key] !== w.labels[key]) return false;
  return Date.parse(w.start) <= nowMs && nowMs < Date.parse(w.end);
}

function windowsAt(
  config: ConfigState,
  input: RouteInput,
  ctx: () => RuleContext,
  compiled: RuleLookup,
  errors: RuleError[],
): MaintenanceWindow[] {
  const active: MaintenanceWindow[] = [];
  for (const w of config.maintenance.values()) {
    if (!windowCovers(w, input.alert, input.now)) continue;
    if (w.when !== null && !evaluate(`maintenance:${w.windowId}`, w.when, ctx(), compiled, errors)) continue;
    active.push(w);
  }
  return active;
}

/**
 * Maintenance windows covering the alert now: start ≤ now < end, the alert's service among the
 * window's services (empty = every service), every window label present with the same value, and
 * the window's `when` condition (if any) true. A `when` that fails to evaluate does not cover.
 */
export function activeWindows(
  config: ConfigState,
  alert: RoutedAlert,
  nowMs: number,
  compiled: RuleLookup = defaultRules,
): MaintenanceWindow[] {
  const input = { alert, now: nowMs };
  let ctx: RuleContext | undefined;
  return windowsAt(config, input, () => (ctx ??= ruleContext(input, config)), compiled, []);
}

// ─── Effective severity ───────────────────────────────────────────────────────────────────────

/** The order `boost` moves along; `unknown` is outside it. */
const SEVERITY_SCALE: readonly Severity[] = ['info', 'warning', 'error', 'critical'];
const SEVERITIES: readonly Severity[] = [...SEVERITY_SCALE, 'unknown'];

/** The equipment label when EquipmentTypesConfigured names none (it always does; for tools). */
export const DEFAULT_EQUIPMENT_LABEL = 'equipment_type';

/**
 * An equipment type applied to a severity: `severity` sets it; `boost` moves it that many levels
 * along info → warning → error → critical, capped at both ends; `unknown` stays unknown.
 */
export function applyEquipmentType(rule: EquipmentTypeRule, severity: Severity): Severity {
  if (rule.severity !== null) return rule.severity;
  const at = SEVERITY_SCALE.indexOf(severity);
  if (at < 0 || rule.boost === null) return severity;
  return SEVERITY_SCALE[Math.max(0, Math.min(SEVERITY_SCALE.length - 1, at + rule.boost))]!;
}

/** What the equipment type did to an alert's severity before the rules ran (AlertRouted.severityBoost). */
export type SeverityBoost = {
  from: Severity;
  to: Severity;
  /** `equipment:<type>` */
  by: string;
  boost: number | null;
  severity: Severity | null;
};

/** The equipment type of an alert (its label named by the configuration) and what it does; null = none. */
export function equipmentBoost(config: ConfigState, alert: Pick<RoutedAlert, 'severity' | 'labels'>): SeverityBoost | null {
  const eq = config.equipmentTypes;
  if (!eq) return null;
  const type = alert.labels[eq.label];
  if (type === undefined || !Object.hasOwn(eq.types, type)) return null;
  const rule = eq.types[type]!;
  return { from: alert.severity, to: applyEquipmentType(rule, alert.severity), by: `equipment:${type}`, ...rule };
}

/** The parts of a routing decision the effective severity depends on (AlertRouted's fields). */
export type SeverityRoute = Readonly<{
  severity: Severity;
  severityBoost?: SeverityBoost | null | undefined;
  severityRule?: string | null | undefined;
}>;

/**
 * The effective severity of an alert whose source now says `source`, given how it was routed:
 * a rule that set a severity keeps it (until the alert is routed again); otherwise the route's
 * equipment type is applied again to the source's severity; otherwise the source's. A route
 * recorded before these fields existed (`severityRule` undefined) counts as set by a rule when
 * its severity differs from the one it was routed with (`routedFrom`), else it follows the source.
 */
export function effectiveSeverity(source: Severity, route: SeverityRoute | null, routedFrom?: Severity): Severity {
  if (!route) return source;
  if (route.severityRule === undefined && route.severityBoost === undefined) {
    return routedFrom !== undefined && route.severity !== routedFrom ? route.severity : source;
  }
  if (route.severityRule) return route.severity;
  if (route.severityBoost) return applyEquipmentType(route.severityBoost, source);
  return source;
}

/**
 * `effectiveSeverity` for every source severity: what the read model stores with the route
 * (`alert_escalations.severity_map`), so a view can give the effective severity of an alert's
 * current source severity without knowing the rules.
 */
export function severityMap(route: SeverityRoute, routedFrom?: Severity): Record<Severity, Severity> {
  return Object.fromEntries(SEVERITIES.map((s) => [s, effectiveSeverity(s, route, routedFrom)])) as Record<Severity, Severity>;
}

// ─── Routing ──────────────────────────────────────────────────────────────────────────────────

export type RouteDecision = {
  /** Names of the rules that matched and applied, in order; empty = service defaults. */
  rules: string[];
  policyId: string | null;
  templateId: string | null;
  /** Effective: the alert's, then its equipment type's (`severityBoost`), then the rules' (`severityRule`). */
  severity: Severity;
  /** What the alert's equipment type did to its severity before the rules; null = no type. */
  severityBoost: SeverityBoost | null;
  /** The last matching rule that set the severity; null = none. */
  severityRule: string | null;
  /** Ticket provider to open a ticket with. */
  ticket: string | null;
  /** Why nobody is paged now: a rule (for good) or a maintenance window (until its end). */
  suppressed: { by: 'rule' | 'maintenance'; windowId: string | null; until: string | null } | null;
  /** Annotate-mode maintenance windows covering the alert. */
  maintenance: string[];
  ackTimeoutSeconds: number | null;
  /** Rules (and `maintenance:<windowId>` conditions) that could not be evaluated; they did not match. */
  errors: RuleError[];
};

/**
 * Routes an alert at `input.now`. The alert's equipment type (ConfigState.equipmentTypes) changes
 * its severity first, so rules see the boosted `alert.severity`. Defaults come from the service's RoutingConfigured; its rules
 * are tried in order and the first match applies its non-null actions. A matching rule with
 * `continue` lets later rules be tried too, and later matches override. A rule with `suppress`
 * suppresses for good and wins over a maintenance window; otherwise suppress-mode windows
 * suppress until the latest end among them. Never throws for a bad rule: it is reported in
 * `errors` and does not match.
 */
export function routeAlert(original: RouteInput, config: ConfigState, compiled: RuleLookup): RouteDecision {
  const routing = config.routing.get(original.alert.serviceId);
  // The equipment type first: rules and maintenance conditions see the boosted `alert.severity`.
  const severityBoost = equipmentBoost(config, original.alert);
  const input = severityBoost ? { ...original, alert: { ...original.alert, severity: severityBoost.to } } : original;
  const decision: RouteDecision = {
    rules: [],
    policyId: routing?.escalationPolicyId ?? null,
    templateId: routing?.templateId ?? null,
    severity: input.alert.severity,
    severityBoost,
    severityRule: null,
    ticket: null,
    suppressed: null,
    maintenance: [],
    ackTimeoutSeconds: routing?.ackTimeoutSeconds ?? null,
    errors: [],
  };
  let ctx: RuleContext | undefined;
  const context = (): RuleContext => (ctx ??= ruleContext(input, config));

  let suppressedByRule = false;
  for (const rule of routing?.rules ?? []) {
    if (!evaluate(rule.name, rule.when, context(), compiled, decision.errors)) continue;
    decision.rules.push(rule.name);
    if (rule.policyId !== null) decision.policyId = rule.policyId;
    if (rule.templateId !== null) decision.templateId = rule.templateId;
    if (rule.severity !== null) {
      decision.severity = rule.severity;
      decision.severityRule = rule.name;
    }
    if (rule.ticket !== null) decision.ticket = rule.ticket;
    if (rule.suppress) suppressedByRule = true;
    if (!rule.continue) break;
  }

  if (config.maintenance.size > 0) {
    let latest: MaintenanceWindow | undefined;
    for (const w of windowsAt(config, input, context, compiled, decision.errors)) {
      if (w.mode === 'annotate') decision.maintenance.push(w.windowId);
      else if (!latest || Date.parse(w.end) > Date.parse(latest.end)) latest = w;
    }
    if (latest) decision.suppressed = { by: 'maintenance', windowId: latest.windowId, until: latest.end };
  }
  if (suppressedByRule) decision.suppressed = { by: 'rule', windowId: null, until: null };
  return decision;
}
