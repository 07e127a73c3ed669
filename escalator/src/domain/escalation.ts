import {
  stableUuid,
  type AlertEvent,
  type AlertSnapshot,
  type ContactChannel,
  type ContactMethod,
  type EscalationEvent,
  type EscalationTarget,
  type EventData,
  type NotificationRule,
  type Priority,
  type Recipient,
  type Severity,
} from '@oncall/contracts';
import { flapVerdict, type FlipHistory, type InhibitTarget } from '@oncall/shared';
import {
  afterNotification,
  chooseContacts,
  firstPage,
  nextRule,
  preferredChannels,
  type LaterRule,
  type RulesCarried,
} from './notification-rules.js';
import { effectiveSeverity } from '@oncall/shared';
import { alertWith, compactAlert } from './alert-content.js';
import { SharedValues } from './shared-values.js';

/**
 * The escalation of one alert as a process manager: `decide(state, input, ctx) → events` and
 * `evolve(state, event) → state`, pure, with `now` and every outside fact (routing, who is on
 * call, contact methods) passed in through `ctx`.
 *
 * The state folds two streams: the alert's lifecycle events (ALERTS, written by the decider) and
 * the escalator's own decisions (ESCALATIONS). `decide` answers an input with a primary decision
 * and then with every follow-up the new state calls for (route → step → notifications), so a
 * `Tick` on a state rebuilt after a crash completes whatever was half done, and timers are just
 * "what is due at `now`" — there is nothing else to persist.
 */

export type EscalationPolicy = EventData<'EscalationPolicyConfigured'>;
export type RouteDecision = Omit<EventData<'AlertRouted'>, 'alertId' | 'serviceId' | 'alert' | 'alertSeq'>;
export type DirectoryUser = Readonly<{ name: string; contacts: readonly ContactMethod[] }>;

export type EscalationContext = Readonly<{
  now: number;
  route: (alert: AlertSnapshot) => RouteDecision;
  policy: (policyId: string) => EscalationPolicy | undefined;
  /** Who a target pages now (schedules and rotations resolved through the on-call calculation). */
  recipients: (target: EscalationTarget) => Recipient[];
  /** A user from the directory; `undefined` when not loaded yet (the shell loads and decides again). */
  user: (userId: string) => DirectoryUser | null | undefined;
  serviceName: (serviceId: string) => string;
  /** A user's notification rules, ordered by delay; none = every contact method at once. */
  rules?: (userId: string) => readonly NotificationRule[] | undefined;
  /** Skip contact methods not verified (the skip is recorded on the notification). */
  requireVerified?: boolean;
  /** The user's contacts with the verifications the log recorded applied (ContactMethodVerified); absent = as the directory says. */
  verifiedContacts?: (userId: string, contacts: readonly ContactMethod[]) => readonly ContactMethod[];
  /** Grouping, inhibition and flapping across alerts (docs/noc.md); absent: every alert pages on its own. */
  storm?: StormContext;
}>;

/**
 * An open incident of a group key, as the replicas share it: `firstAlertId` is the alert leading
 * it (its first, or the one that took over); `leadResolved` says its lead was resolved by its
 * source while other alerts fired (one of them may take over); `from` is the lead before a takeover.
 */
export type IncidentEntry = Readonly<{ incidentId: string; firstAlertId: string; leadResolved?: boolean; from?: string }>;

export type StormContext = Readonly<{
  /** The firing alert that inhibits `target` now, or null. */
  inhibitor: (target: InhibitTarget) => { by: string; rule: string; summary: string } | null;
  /** The open incident of a group key; throws IncidentNeeded when the shell has not claimed or read it yet. */
  incident: (groupKey: string, alertId: string) => IncidentEntry;
  /** The open incident of a group key as this replica knows it, or null (never asks the shell for one). */
  openIncident: (groupKey: string) => IncidentEntry | null;
  /** How many of an incident's other alerts still fire, as far as this replica knows. */
  openMembers: (incidentId: string, firstAlertId: string) => number;
  /** The fingerprint's recent triggers, this alert's last. */
  flips: (serviceId: string, fingerprint: string) => FlipHistory;
}>;

/** The shell must claim (or read) the open incident of `groupKey` and decide again. */
export class IncidentNeeded extends Error {
  override readonly name: string = 'IncidentNeeded';
  constructor(
    readonly groupKey: string,
    readonly alertId: string,
  ) {
    super(`incident of ${groupKey} not known yet`);
  }
}

/**
 * The shell must try to take the incident's paging over for this alert (its lead was resolved by
 * its source, docs/noc.md): a compare-and-set on the incident's entry that one alert wins; then
 * decide again.
 */
export class TakeoverNeeded extends IncidentNeeded {
  override readonly name = 'TakeoverNeeded';
  constructor(
    groupKey: string,
    alertId: string,
    readonly incidentId: string,
  ) {
    super(groupKey, alertId);
    this.message = `incident ${incidentId} of ${groupKey} lost its lead`;
  }
}

/** How this alert relates to others (docs/noc.md); one shared value while nothing does. */
export type Storm = Readonly<{
  inhibited: Readonly<{ by: string; rule: string }> | null;
  released: boolean;
  /**
   * `first`: it leads the incident (opened it, or took it over: `tookOver`) and pages for it.
   * `leadResolved`: it leads, and its source resolved it (not a person: a person's resolve is
   * the incident's, sent to its other alerts), so a firing alert of the incident may take over.
   */
  incident: Readonly<{
    incidentId: string;
    groupKey: string;
    first: boolean;
    resolved: boolean;
    leadResolved?: boolean;
    tookOver?: boolean;
  }> | null;
  flap: 'started' | 'flapped' | 'ended' | null;
  slaBreached: boolean;
  /** Alerts of its incident the first alert's pages last said (IncidentUpdated); absent = 1. */
  incidentAlerts?: number;
}>;

/**
 * What moves an escalation: an alert event (folded, then answered), time passing (`Tick`), or
 * `Retry`: an alert event folded earlier whose decision could not be made (it threw and was
 * parked), decided again on request against the state as it is now — if it still applies.
 */
export type EscalationInput =
  | Readonly<{ type: 'AlertEvent'; event: AlertEvent; seq: number }>
  | Readonly<{ type: 'Tick' }>
  | Readonly<{ type: 'Retry'; event: AlertEvent; seq: number }>;

/** What an escalation event carries before the shell wraps it in an envelope. */
export type Decision = { [E in EscalationEvent as E['type']]: Readonly<{ type: E['type']; data: E['data'] }> }[EscalationEvent['type']];

export type Step = Readonly<{
  /** Position of the step's event among the alert's escalation events: names its notifications. */
  serial: number;
  policyId: string;
  index: number;
  round: number;
  page: number;
  recipients: readonly Recipient[];
  /** Indexes into `recipients` of those paged in this step so far. */
  requested: readonly number[];
  nextAt: number | null;
  untilAllAck: boolean;
  /** Notification rules of this step's users still to come (docs/notification-rules.md). */
  later: readonly LaterRule[];
}>;

export type Escalation = Readonly<{
  /** The alert; without its content (labels, annotations, summary, details, links) while `contentDropped`. */
  alert: AlertSnapshot;
  /**
   * ALERTS sequence of the event whose data is the alert's content (its AlertTriggered or last
   * AlertUpdated); 0 when not known (a state from a snapshot taken before this field). The shell
   * may drop the content of an escalation that waits (`withoutContent`) and read it back from
   * there when a decision needs it (ContentNeeded): every pending escalation would hold it.
   */
  contentSeq: number;
  contentDropped: boolean;
  /** Users who acknowledged since the alert last (re)opened. */
  ackedBy: readonly string[];
  /** Last ALERTS sequence folded in, and the last one a decision answered. */
  alertSeq: number;
  decidedSeq: number;
  /** ALERTS sequence of the last event that changed the alert's lifecycle (all but updates and repeats). */
  lifecycleSeq: number;
  /** Escalation events of this alert so far (ids and the expected subject sequence follow it). */
  events: number;
  route: RouteDecision | null;
  routes: number;
  step: Step | null;
  stopped: Readonly<{ reason: EventData<'EscalationStopped'>['reason']; reopenAt: number | null }> | null;
  reopenRequested: boolean;
  /** Everyone paged so far (one per recipient key, in the order first paged), to tell them about the resolution. */
  paged: readonly Recipient[];
  /** Indexes into `paged` of those told about the resolution. */
  told: readonly number[];
  storm: Storm;
}>;

/** The shell must load these users from the directory and decide again. */
export class UsersNeeded extends Error {
  override readonly name = 'UsersNeeded';
  constructor(readonly userIds: string[]) {
    super(`users not loaded: ${userIds.join(', ')}`);
  }
}

/**
 * The shell must read the alert's content back from the log (the data of the ALERTS event at
 * `seq`), put it into the state (`contentRestored`) and decide again.
 */
export class ContentNeeded extends Error {
  override readonly name = 'ContentNeeded';
  constructor(
    readonly alertId: string,
    readonly seq: number,
  ) {
    super(`content of alert ${alertId} not held (ALERTS ${seq})`);
  }
}

/** The alert with its content; throws ContentNeeded when the state dropped it. */
function contentOf(s: Escalation): AlertSnapshot {
  if (s.contentDropped) throw new ContentNeeded(s.alert.alertId, s.contentSeq);
  return s.alert;
}

const MAX_FOLLOW_UPS = 200;
const MIN_REPAGE_SECONDS = 60;

export function decide(state: Escalation | undefined, input: EscalationInput, ctx: EscalationContext): Decision[] {
  return decideAndEvolve(state, input, ctx).decisions;
}

/**
 * `decide`, and the state it arrives at: the input folded in (when it is a newer alert event)
 * and every decision evolved, in order — what a caller would get by doing that itself, without
 * doing the work twice.
 */
export function decideAndEvolve(
  state: Escalation | undefined,
  input: EscalationInput,
  ctx: EscalationContext,
): { decisions: Decision[]; state: Escalation | undefined } {
  const out: Decision[] = [];
  let s = state;
  if (input.type === 'AlertEvent') {
    if (s && input.seq <= s.alertSeq) return { decisions: out, state };
    const answered = s !== undefined && input.seq <= s.decidedSeq;
    s = foldAlert(s, input.event, input.seq);
    if (!s) return { decisions: out, state: s };
    if (!answered) for (const d of primary(s, input.event, ctx)) s = push(out, s, d);
  }
  if (input.type === 'Retry') {
    if (!s || !stillCurrent(s, input.event, input.seq)) return { decisions: out, state };
    for (const d of primary(s, input.event, ctx)) s = push(out, s, d);
  }
  if (!s) return { decisions: out, state: s };
  for (let i = 0; i < MAX_FOLLOW_UPS; i++) {
    const next = followUp(s, ctx);
    if (!next) return { decisions: out, state: s };
    s = push(out, s, next);
  }
  throw new Error(`escalation of ${s.alert.alertId} did not settle after ${MAX_FOLLOW_UPS} decisions`);
}

function push(out: Decision[], s: Escalation, d: Decision): Escalation {
  out.push(d);
  return evolve(s, d)!;
}

/** The decision an alert event calls for by itself (follow-ups come after). */
function primary(s: Escalation, event: AlertEvent, ctx: EscalationContext): Decision[] {
  const ref = { alertId: s.alert.alertId, serviceId: s.alert.serviceId };
  switch (event.type) {
    case 'AlertAcknowledged': {
      if (s.stopped) return [];
      const userId = event.data.userId;
      const step = s.step;
      if (step?.untilAllAck && userId !== null && stepUsers(step).includes(userId) && unacked(s, step).length > 0) return [];
      const reopenAt = s.route?.ackTimeoutSeconds ? ctx.now + s.route.ackTimeoutSeconds * 1000 : null;
      return [{ type: 'EscalationStopped', data: { ...ref, reason: 'acknowledged', userId, reopenAt: iso(reopenAt) } }];
    }
    case 'AlertSnoozed':
      if (s.stopped?.reason === 'resolved') return [];
      return [{ type: 'EscalationStopped', data: { ...ref, reason: 'snoozed', userId: event.data.userId, reopenAt: event.data.until } }];
    case 'AlertResolved':
      if (s.stopped?.reason === 'resolved') return [];
      return [{ type: 'EscalationStopped', data: { ...ref, reason: 'resolved', userId: event.data.userId, reopenAt: null } }];
    case 'AlertUnacknowledged':
      return startStep(s, ctx, 0, 0, 'reopened');
    case 'AlertEscalated': {
      if (!s.step) return startStep(s, ctx, 0, 0, 'manual');
      const next = advance(s.step, ctx);
      return next ? startStep(s, ctx, next.index, next.round, 'manual') : [];
    }
    case 'AlertTriggered':
    case 'AlertUpdated':
    case 'AlertRepeated':
    case 'AlertCommandDeclined':
      return [];
    default: {
      const _never: never = event;
      return _never;
    }
  }
}

/** The one next thing the state calls for at `ctx.now`, or null when settled. */
function followUp(s: Escalation, ctx: EscalationContext): Decision | null {
  const ref = { alertId: s.alert.alertId, serviceId: s.alert.serviceId };
  const now = ctx.now;
  const lead = leadChange(s, ctx);
  if (lead) return lead;
  if (s.alert.status === 'resolved') return incidentEnd(s, ctx) ?? resolutionNotice(s, ctx);
  if (!s.route) return routed(s, ctx);
  const grown = incidentGrown(s, ctx);
  if (grown) return grown;
  const suppressedUntil = s.route.suppressed?.until ? Date.parse(s.route.suppressed.until) : null;
  if (s.route.suppressed) {
    // A maintenance window's end routes the alert again (another window may cover it by then).
    if (suppressedUntil !== null && suppressedUntil <= now && s.alert.status === 'triggered') return routed(s, ctx);
    return null;
  }
  if (!s.step && !s.stopped) {
    const sense = stormSense(s, ctx);
    if (sense === HOLD) return null;
    if (sense) return sense;
    if (!s.route.policyId || !ctx.policy(s.route.policyId)) {
      return { type: 'EscalationStopped', data: { ...ref, reason: 'no-policy', userId: null, reopenAt: null } };
    }
    const reason =
      s.routes > 1 ? 'maintenance-ended' : s.storm.incident?.tookOver ? 'takeover' : s.storm.released ? 'released' : 'triggered';
    return startStep(s, ctx, 0, 0, reason)[0] ?? null;
  }
  if (s.step && !s.stopped) {
    const step = s.step;
    const missing = step.recipients.find((_, i) => !step.requested.includes(i));
    if (missing) return request(s, step, missing, 'page', ctx);
    const rule = nextRule(step.later, ackedKeys(s));
    if (rule && rule.at <= now)
      return request(
        s,
        step,
        step.recipients.find((r) => recipientKey(r) === rule.key)!,
        'page',
        ctx,
        rule,
      );
  }
  const breach = slaBreach(s, ctx);
  if (breach) return breach;
  if (s.stopped) {
    const { reopenAt } = s.stopped;
    if (reopenAt !== null && reopenAt <= now && !s.reopenRequested && s.alert.status === 'acknowledged') {
      return { type: 'AlertReopenRequested', data: { ...ref, reason: s.stopped.reason === 'snoozed' ? 'snooze-ended' : 'ack-timeout' } };
    }
    return null;
  }
  const step = s.step;
  if (!step || step.nextAt === null || step.nextAt > now) return null;
  if (step.untilAllAck && s.ackedBy.length > 0) {
    // Someone acknowledged: page the others again until each of them has.
    const rest = unackedRecipients(s, step);
    if (rest.length === 0) return { type: 'EscalationStopped', data: { ...ref, reason: 'acknowledged', userId: null, reopenAt: null } };
    return reached(s, ctx, step.index, step.round, step.page + 1, rest, 'repage');
  }
  if (s.alert.status !== 'triggered') return null;
  const next = advance(step, ctx);
  if (!next) return { type: 'EscalationStopped', data: { ...ref, reason: 'exhausted', userId: null, reopenAt: null } };
  return startStep(s, ctx, next.index, next.round, step.nextAt === slaEscalationAt(s) ? 'sla' : 'timeout')[0] ?? null;
}

/** `stormSense` found nothing to record, and the alert must not page yet (or at all). */
const HOLD = Symbol('hold');

/**
 * Before an alert's first page (docs/noc.md): flapping (decided once per alert), then inhibition
 * (held while a source inhibits it, released when none does, waiting the rules' wait first),
 * then grouping (the group key's first alert opens the incident and pages; later ones join it
 * and do not). A decision to record, HOLD, or null: page.
 */
function stormSense(s: Escalation, ctx: EscalationContext): Decision | typeof HOLD | null {
  const storm = ctx.storm;
  const route = s.route;
  if (!storm || !route) return null;
  const alert = contentOf(s);
  const ref = { alertId: alert.alertId, serviceId: alert.serviceId };
  const { fingerprint } = alert;
  if (route.flapping && s.storm.flap === null) {
    const history = storm.flips(s.alert.serviceId, fingerprint);
    const since = iso(history.flappingSince) ?? s.alert.triggeredAt;
    switch (flapVerdict(history, route.flapping)) {
      case 'starts':
        return {
          type: 'FlappingStarted',
          data: { ...ref, fingerprint, flips: route.flapping.flips, windowSeconds: route.flapping.windowSeconds },
        };
      case 'continues':
        return { type: 'AlertFlapped', data: { ...ref, fingerprint, flappingSince: since } };
      case 'ends':
        return { type: 'FlappingEnded', data: { ...ref, fingerprint, flappingSince: since } };
      case 'normal':
        break;
    }
  }
  if (s.storm.flap === 'flapped') return HOLD;
  const inhibitableBy = route.inhibitableBy ?? NONE;
  if (inhibitableBy.length > 0 && !s.storm.released) {
    const target = { alertId: ref.alertId, labels: alert.labels, site: route.site ?? null, inhibitableBy };
    const by = storm.inhibitor(target);
    if (by) return s.storm.inhibited ? HOLD : { type: 'AlertInhibited', data: { ...ref, by: by.by, rule: by.rule, bySummary: by.summary } };
    if (s.storm.inhibited) return { type: 'AlertReleased', data: { ...ref, ...s.storm.inhibited } };
    if (ctx.now < inhibitWaitEnd(s)) return HOLD;
  }
  const groupKey = route.groupKey;
  if (groupKey) {
    const incident = storm.incident(groupKey, ref.alertId);
    if (s.storm.incident?.incidentId !== incident.incidentId) {
      if (incident.firstAlertId === ref.alertId)
        return {
          type: 'IncidentOpened',
          data: { ...ref, incidentId: incident.incidentId, groupKey, groupLabels: route.groupLabels ?? {}, summary: alert.summary },
        };
      return { type: 'AlertGrouped', data: { ...ref, incidentId: incident.incidentId, groupKey, firstAlertId: incident.firstAlertId } };
    }
    if (!s.storm.incident.first) {
      // Its lead was resolved by its source: this firing, unacknowledged alert may take over (one wins).
      if (incident.leadResolved && incident.firstAlertId !== ref.alertId)
        throw new TakeoverNeeded(groupKey, ref.alertId, incident.incidentId);
      return HOLD;
    }
  }
  return null;
}

/**
 * The incident's lead changed (docs/noc.md, "Grouping"): the shell's compare-and-set made this
 * alert the lead of the incident it joined (it takes over: `from` lets go), or this alert led it
 * and another took over. Recorded on each one's subject, so a rebuild knows who leads.
 */
function leadChange(s: Escalation, ctx: EscalationContext): Decision | null {
  const incident = s.storm.incident;
  if (!incident || incident.resolved || !ctx.storm) return null;
  const entry = ctx.storm.openIncident(incident.groupKey);
  if (!entry || entry.incidentId !== incident.incidentId) return null;
  const self = s.alert.alertId;
  const lead = entry.firstAlertId;
  let from: string;
  // Taken over: the compare-and-set named this alert (`from` led it before).
  if (!incident.first && lead === self && entry.from !== undefined) from = entry.from;
  // Let go: another alert took over.
  else if (incident.first && lead !== self) from = self;
  else return null;
  return {
    type: 'IncidentTakenOver',
    data: {
      alertId: self,
      serviceId: s.alert.serviceId,
      incidentId: incident.incidentId,
      groupKey: incident.groupKey,
      from,
      to: lead,
    },
  };
}

/** Until when a possible target of inhibit rules waits for a source (its trigger + the longest wait of its rules). */
const inhibitWaitEnd = (s: Escalation): number => Date.parse(s.alert.triggeredAt) + (s.route?.inhibitWaitSeconds ?? 0) * 1000;

/** The first alert of an incident, resolved: the incident resolves once none of its alerts fires. */
function incidentEnd(s: Escalation, ctx: EscalationContext): Decision | null {
  const incident = s.storm.incident;
  if (!incident?.first || incident.resolved || !ctx.storm) return null;
  if (ctx.storm.openMembers(incident.incidentId, s.alert.alertId) > 0) return null;
  return {
    type: 'IncidentResolved',
    data: { alertId: s.alert.alertId, serviceId: s.alert.serviceId, incidentId: incident.incidentId, groupKey: incident.groupKey },
  };
}

/**
 * More alerts joined the incident this alert leads than its pages say (the shell wakes it at most
 * every few seconds). Told once it has paged: an alert taking the incident over pages first, so
 * the size edits a page that is there.
 */
function incidentGrown(s: Escalation, ctx: EscalationContext): Decision | null {
  const incident = s.storm.incident;
  if (!incident?.first || incident.resolved || !ctx.storm) return null;
  const paging = !s.stopped && (!s.step || s.step.requested.length < s.step.recipients.length);
  if (paging) return null;
  const alerts = ctx.storm.openMembers(incident.incidentId, s.alert.alertId) + 1;
  if (alerts <= (s.storm.incidentAlerts ?? 1)) return null;
  return {
    type: 'IncidentUpdated',
    data: { alertId: s.alert.alertId, serviceId: s.alert.serviceId, incidentId: incident.incidentId, alerts },
  };
}

/** When the alert's customer tier SLA ends (acknowledge by then), or null without one. */
function slaDeadline(s: Escalation): number | null {
  const sla = s.route?.sla;
  return sla ? Date.parse(s.alert.triggeredAt) + sla.responseSeconds * 1000 : null;
}

/** When an unacknowledged alert with an SLA moves to its next step at the latest. */
function slaEscalationAt(s: Escalation): number | null {
  const deadline = slaDeadline(s);
  return deadline === null ? null : deadline - (s.route?.sla?.escalateBeforeSeconds ?? 0) * 1000;
}

/** Nobody acknowledged a paged alert within its tier's SLA: recorded once. */
function slaBreach(s: Escalation, ctx: EscalationContext): Decision | null {
  const deadline = slaDeadline(s);
  const sla = s.route?.sla;
  if (!sla || deadline === null || s.storm.slaBreached || !s.step || s.alert.status !== 'triggered' || ctx.now < deadline) return null;
  return {
    type: 'SlaBreached',
    data: {
      alertId: s.alert.alertId,
      serviceId: s.alert.serviceId,
      tier: sla.tier,
      responseSeconds: sla.responseSeconds,
      deadline: iso(deadline)!,
    },
  };
}

function routed(s: Escalation, ctx: EscalationContext): Decision {
  const alert = { ...contentOf(s), serviceName: ctx.serviceName(s.alert.serviceId) };
  return {
    type: 'AlertRouted',
    data: { alertId: alert.alertId, serviceId: alert.serviceId, alert, alertSeq: s.alertSeq, ...ctx.route(alert) },
  };
}

/**
 * The step after `step`: the next one, or the first of the next round, or null when exhausted.
 * The policy as it is now decides: a policy edited mid-escalation takes effect at the next step.
 */
function advance(step: Step, ctx: EscalationContext): { index: number; round: number } | null {
  const policy = ctx.policy(step.policyId);
  if (!policy) return null;
  if (step.index + 1 < policy.steps.length) return { index: step.index + 1, round: step.round };
  if (step.round < policy.repeat) return { index: 0, round: step.round + 1 };
  return null;
}

function startStep(
  s: Escalation,
  ctx: EscalationContext,
  index: number,
  round: number,
  reason: EventData<'EscalationStepReached'>['reason'],
): Decision[] {
  if (s.alert.status === 'resolved' || !s.route?.policyId || s.route.suppressed) return [];
  const policy = ctx.policy(s.route.policyId);
  if (!policy) return [];
  const step = policy.steps[Math.min(index, policy.steps.length - 1)]!;
  const recipients = dedupe(step.targets.flatMap((t) => ctx.recipients(t)));
  return [reachedWith(s, ctx, policy, Math.min(index, policy.steps.length - 1), round, 0, recipients, reason)];
}

function reached(
  s: Escalation,
  ctx: EscalationContext,
  index: number,
  round: number,
  page: number,
  recipients: Recipient[],
  reason: EventData<'EscalationStepReached'>['reason'],
): Decision {
  return reachedWith(s, ctx, ctx.policy(s.step!.policyId), index, round, page, recipients, reason);
}

function reachedWith(
  s: Escalation,
  ctx: EscalationContext,
  policy: EscalationPolicy | undefined,
  index: number,
  round: number,
  page: number,
  recipients: Recipient[],
  reason: EventData<'EscalationStepReached'>['reason'],
): Decision {
  const step = policy?.steps[index];
  const last = !policy || (index + 1 >= policy.steps.length && round >= policy.repeat && !step?.untilAllAck);
  // Re-pages wait at least a minute, so a zero delay cannot page in a loop.
  const delay = step?.untilAllAck ? Math.max(step.delaySeconds, MIN_REPAGE_SECONDS) : (step?.delaySeconds ?? 0);
  let nextAt = step && !last ? ctx.now + delay * 1000 : null;
  // A customer tier's SLA brings the next step forward, so it is reached before the SLA ends.
  const slaAt = slaEscalationAt(s);
  if (nextAt !== null && slaAt !== null && slaAt > ctx.now && slaAt < nextAt && s.alert.status === 'triggered') nextAt = slaAt;
  return {
    type: 'EscalationStepReached',
    data: {
      alertId: s.alert.alertId,
      serviceId: s.alert.serviceId,
      policyId: policy?.policyId ?? s.step?.policyId ?? '',
      step: index,
      round,
      page,
      recipients,
      untilAllAck: step?.untilAllAck ?? false,
      nextAt: iso(nextAt),
      reason,
    },
  };
}

/**
 * One recipient's notification: the page of a step (with the user's rules due at once, and the
 * later ones recorded), one later rule when it is due (`rule`), or the resolution notice.
 */
function request(s: Escalation, step: Step, r: Recipient, kind: 'page' | 'resolved', ctx: EscalationContext, rule?: LaterRule): Decision {
  // Before the user's lookup: the content's read and the user's load then come one after the other, each once.
  const alert = effectiveAlert(s, contentOf(s));
  let contacts: ContactMethod[] = [];
  let userName: string | null = null;
  let carried: RulesCarried | undefined;
  let skipped: ReturnType<typeof chooseContacts>['skipped'] = [];
  if (r.type === 'user') {
    const user = ctx.user(r.userId);
    if (user === undefined) throw new UsersNeeded([r.userId]);
    userName = user?.name ?? null;
    const rules = ctx.rules?.(r.userId);
    let channels: ContactChannel[] | null = null;
    // A later rule fires as the page recorded it, even if the user's rules changed since.
    if (rule) {
      channels = [rule.channel];
      carried = { indexes: [rule.index], later: [] };
    } else if (rules?.length && kind === 'page') {
      const first = firstPage(rules, ctx.now);
      channels = first.channels;
      carried = first.carried;
    } else if (rules?.length) channels = preferredChannels(rules);
    const known = user?.contacts ?? [];
    const chosen = chooseContacts(
      ctx.verifiedContacts ? ctx.verifiedContacts(r.userId, known) : known,
      channels,
      ctx.requireVerified ?? false,
    );
    contacts = chosen.contacts;
    skipped = chosen.skipped;
  }
  const policy = ctx.policy(step.policyId);
  return {
    type: 'NotificationRequested',
    data: {
      alertId: s.alert.alertId,
      serviceId: s.alert.serviceId,
      notificationId: notificationId(s, step, r, kind, rule?.index),
      kind,
      step: step.index,
      round: step.round,
      page: step.page,
      recipient: r,
      contacts,
      userName,
      templateId: s.route?.templateId ?? null,
      templateVersion: s.route?.templateVersion ?? null,
      priority: kind === 'resolved' ? 'low' : priorityOf(alert.severity),
      alert,
      escalation: {
        policyId: step.policyId,
        policyName: policy?.name ?? step.policyId,
        step: step.index,
        totalSteps: policy?.steps.length ?? 0,
      },
      ...(carried ? { rules: carried } : {}),
      ...(skipped.length > 0 ? { skipped } : {}),
      ...(s.storm.flap === 'started' && kind === 'page' ? { flapping: true } : {}),
      ...(s.storm.incident?.first ? { incidentId: s.storm.incident.incidentId } : {}),
    },
  };
}

function resolutionNotice(s: Escalation, ctx: EscalationContext): Decision | null {
  const step = s.step;
  if (!step) return null;
  const untold = s.paged.find((_, i) => !s.told.includes(i));
  return untold ? request(s, step, untold, 'resolved', ctx) : null;
}

/**
 * The alert as pages show it: `severity` the effective one (docs/routing.md, "Effective severity":
 * the route's rule severity, else its equipment type applied again to the source's current
 * severity), `sourceSeverity` the source's. A route recorded before those fields keeps its severity.
 */
function effectiveAlert(s: Escalation, alert: AlertSnapshot): AlertSnapshot {
  const route = s.route;
  if (!route) return alert;
  const legacy = route.severityRule === undefined && route.severityBoost === undefined;
  const severity = legacy ? route.severity : effectiveSeverity(alert.severity, route);
  return { ...alert, severity, sourceSeverity: alert.severity };
}

export function evolve(state: Escalation | undefined, d: Decision): Escalation | undefined {
  if (d.type === 'AlertRouted') {
    const { alert, alertSeq: _seq, alertId: _a, serviceId: _s, ...route } = d.data;
    const base = state ?? initial(alert);
    return {
      ...base,
      alert: alertWith(base.alert, { serviceName: alert.serviceName }),
      route: routes.of(route),
      routes: base.routes + 1,
      events: base.events + 1,
    };
  }
  if (!state) return state;
  const s = { ...state, events: state.events + 1 };
  switch (d.type) {
    case 'EscalationStepReached': {
      const e = d.data;
      return {
        ...s,
        stopped: null,
        reopenRequested: false,
        step: {
          serial: state.events,
          policyId: e.policyId,
          index: e.step,
          round: e.round,
          page: e.page,
          recipients: recipientLists.of(e.recipients),
          requested: NONE,
          nextAt: e.nextAt ? Date.parse(e.nextAt) : null,
          untilAllAck: e.untilAllAck,
          later: NONE,
        },
      };
    }
    case 'NotificationRequested': {
      // Notifications follow their step's event, so a page belongs to the current step.
      const key = recipientKey(d.data.recipient);
      if (d.data.kind === 'resolved')
        return {
          ...s,
          told: mark(
            s.told,
            s.paged.findIndex((r) => recipientKey(r) === key),
          ),
        };
      const step = s.step && {
        ...s.step,
        requested: mark(
          s.step.requested,
          s.step.recipients.findIndex((r) => recipientKey(r) === key),
        ),
        later: d.data.rules ? afterNotification(s.step.later, key, d.data.rules) : s.step.later,
      };
      const at = s.paged.findIndex((r) => recipientKey(r) === key);
      // Usually the step's own recipients, in order: one shared list.
      const paged = recipientLists.of(
        at < 0 ? withLast(s.paged, d.data.recipient) : s.paged.map((r, i) => (i === at ? d.data.recipient : r)),
      );
      return { ...s, step, paged };
    }
    case 'EscalationStopped': {
      const incident = s.storm.incident;
      // The lead resolved by its source (a person's resolve is sent to the incident's other alerts).
      const leadResolved = d.data.reason === 'resolved' && d.data.userId === null && incident?.first === true && !incident.resolved;
      return {
        ...s,
        stopped: { reason: d.data.reason, reopenAt: d.data.reopenAt ? Date.parse(d.data.reopenAt) : null },
        reopenRequested: false,
        ...(leadResolved ? { storm: { ...s.storm, incident: { ...incident, leadResolved: true } } } : {}),
      };
    }
    case 'AlertReopenRequested':
      return { ...s, reopenRequested: true };
    case 'AlertInhibited':
      return { ...s, storm: { ...s.storm, inhibited: { by: d.data.by, rule: d.data.rule } } };
    case 'AlertReleased':
      return { ...s, storm: { ...s.storm, inhibited: null, released: true } };
    case 'IncidentOpened':
    case 'AlertGrouped': {
      const { incidentId, groupKey } = d.data;
      return { ...s, storm: { ...s.storm, incident: { incidentId, groupKey, first: d.type === 'IncidentOpened', resolved: false } } };
    }
    case 'IncidentResolved':
      return { ...s, storm: { ...s.storm, incident: s.storm.incident && { ...s.storm.incident, resolved: true } } };
    case 'IncidentUpdated':
      return { ...s, storm: { ...s.storm, incidentAlerts: d.data.alerts } };
    case 'IncidentTakenOver': {
      const incident = s.storm.incident;
      if (!incident) return s;
      const took = d.data.to === s.alert.alertId;
      // The one taking over leads from now on; the one letting go is done with the incident.
      const next = took
        ? { ...incident, first: true, tookOver: true }
        : { incidentId: incident.incidentId, groupKey: incident.groupKey, first: false, resolved: false };
      return { ...s, storm: { ...s.storm, incident: next } };
    }
    case 'FlappingStarted':
      return { ...s, storm: { ...s.storm, flap: 'started' } };
    case 'AlertFlapped':
      return { ...s, storm: { ...s.storm, flap: 'flapped' } };
    case 'FlappingEnded':
      return { ...s, storm: { ...s.storm, flap: 'ended' } };
    case 'SlaBreached':
      return { ...s, storm: { ...s.storm, slaBreached: true } };
    default: {
      const _never: never = d;
      return _never;
    }
  }
}

/** Folds an alert lifecycle event into the alert part of the state. */
export function foldAlert(state: Escalation | undefined, event: AlertEvent, seq: number): Escalation | undefined {
  if (event.type === 'AlertTriggered') {
    const d = event.data;
    const alert = compactAlert(
      {
        alertId: d.alertId,
        serviceId: d.serviceId,
        serviceName: d.serviceId,
        fingerprint: d.fingerprint,
        status: 'triggered',
        source: d.source,
        triggeredAt: d.seenAt,
      },
      d,
    );
    return { ...(state ?? { ...initial(alert), contentSeq: seq }), alertSeq: seq, lifecycleSeq: seq };
  }
  if (!state) return state;
  const s = { ...state, alertSeq: seq, lifecycleSeq: isContent(event) ? state.lifecycleSeq : seq };
  switch (event.type) {
    case 'AlertUpdated':
      return { ...s, alert: compactAlert(s.alert, event.data), contentSeq: seq, contentDropped: false };
    case 'AlertRepeated':
    case 'AlertEscalated':
    case 'AlertCommandDeclined':
      return s;
    case 'AlertAcknowledged': {
      const userId = event.data.userId;
      const ackedBy = userId && !s.ackedBy.includes(userId) ? withLast(s.ackedBy, userId) : s.ackedBy;
      return { ...s, ackedBy, alert: alertWith(s.alert, { status: 'acknowledged' }) };
    }
    case 'AlertSnoozed':
      return { ...s, alert: alertWith(s.alert, { status: 'acknowledged' }) };
    case 'AlertUnacknowledged':
      return { ...s, ackedBy: NONE, alert: alertWith(s.alert, { status: 'triggered' }) };
    case 'AlertResolved':
      return { ...s, alert: alertWith(s.alert, { status: 'resolved' }) };
    default: {
      const _never: never = event;
      return _never;
    }
  }
}

/** Events that leave the lifecycle as it was: content changes, and a command's answer that nothing changed. */
const isContent = (event: AlertEvent): boolean =>
  event.type === 'AlertUpdated' || event.type === 'AlertRepeated' || event.type === 'AlertCommandDeclined';

/**
 * Whether an alert event folded into `s` earlier (at `seq`) may still be decided: it is folded,
 * and no later acknowledgement, snooze, reopen, escalation or resolve was (an acknowledgement
 * retried after the alert reopened, or an escalation after it was acknowledged, no longer
 * applies). Events that only carry content (and the trigger) decide no more than what the state
 * calls for now, so they always may.
 */
export function stillCurrent(s: Escalation, event: AlertEvent, seq: number): boolean {
  return seq <= s.alertSeq && (isContent(event) || event.type === 'AlertTriggered' || s.lifecycleSeq === seq);
}

/** Marks the alert events a stored decision answered (its envelope's causation sequence). */
export const answered = (s: Escalation, causationSeq: number | undefined): Escalation =>
  causationSeq && causationSeq > s.decidedSeq ? { ...s, decidedSeq: causationSeq } : s;

export function initial(alert: AlertSnapshot): Escalation {
  return {
    alert,
    contentSeq: 0,
    contentDropped: false,
    ackedBy: NONE,
    alertSeq: 0,
    decidedSeq: 0,
    lifecycleSeq: 0,
    events: 0,
    route: null,
    routes: 0,
    step: null,
    stopped: null,
    reopenRequested: false,
    paged: NONE,
    told: NONE,
    storm: NO_STORM,
  };
}

/**
 * `s` in one object with every field inside it. States made by spreading another one (`{ ...s,
 * events }`) may keep most fields in a separate backing array; the shell keeps each state it
 * holds in this form (docs/performance.md, "Escalator memory"). The same value: nothing but
 * memory changes.
 */
export function compactState(s: Escalation): Escalation {
  return {
    alert: s.alert,
    contentSeq: s.contentSeq,
    contentDropped: s.contentDropped,
    ackedBy: s.ackedBy,
    alertSeq: s.alertSeq,
    decidedSeq: s.decidedSeq,
    lifecycleSeq: s.lifecycleSeq,
    events: s.events,
    route: s.route,
    routes: s.routes,
    step: s.step,
    stopped: s.stopped,
    reopenRequested: s.reopenRequested,
    paged: s.paged,
    told: s.told,
    storm: s.storm,
  };
}

/**
 * A state read back from its JSON form (a snapshot) as deciding builds it: the parts equal
 * across escalations shared again, empty lists the shared empty list.
 */
export function restored(s: Escalation): Escalation {
  const none = <T>(list: readonly T[]): readonly T[] => (list.length === 0 ? NONE : list);
  const indexes = (list: readonly number[]): readonly number[] => (list.length === 0 ? NONE : indexLists.of(list));
  return compactState({
    ...s,
    alert: compactAlert(s.alert, s.alert),
    // Snapshots taken before the content could be dropped: held, and not known where it is in the log.
    contentSeq: s.contentSeq ?? 0,
    contentDropped: s.contentDropped ?? false,
    ackedBy: none(s.ackedBy),
    route: s.route && routes.of(s.route),
    // Snapshots taken before notification rules have no `later`.
    step: s.step && {
      ...s.step,
      recipients: recipientLists.of(s.step.recipients),
      requested: indexes(s.step.requested),
      later: none((s.step.later as Step['later'] | undefined) ?? NONE),
    },
    paged: s.paged.length === 0 ? NONE : recipientLists.of(s.paged),
    told: indexes(s.told),
    // Snapshots taken before issue 16 have no `storm`.
    storm: s.storm ?? NO_STORM,
  });
}

/**
 * `s` without its alert's content when it may go (docs/performance.md, "Escalator memory"): the
 * content is known to be in the log (`contentSeq`), the escalation has reached a step (so the
 * content is needed again only to page or to route anew, which read it back), and the alert is
 * no inhibition source (whose labels the shared storm entries follow). Else `s` itself.
 */
export function withoutContent(s: Escalation): Escalation {
  if (s.contentDropped || s.contentSeq === 0 || !s.step || (s.route?.inhibits?.length ?? 0) > 0) return s;
  const a = s.alert;
  const alert = compactAlert(a, { summary: '', details: '', severity: a.severity, labels: NO_MAP, annotations: NO_MAP, links: NO_LINKS });
  return compactState({ ...s, alert, contentDropped: true });
}

/** `s` with its alert's content read back from the log (`data`: of the ALERTS event at `s.contentSeq`). */
export function contentRestored(s: Escalation, data: AlertContent): Escalation {
  return compactState({ ...s, alert: compactAlert(s.alert, data), contentDropped: false });
}

/** The content fields of an AlertTriggered or AlertUpdated. */
export type AlertContent = Pick<AlertSnapshot, 'summary' | 'details' | 'severity' | 'labels' | 'annotations' | 'links'>;

const NO_MAP: Readonly<Record<string, string>> = Object.freeze({});
const NO_LINKS: AlertSnapshot['links'] = Object.freeze([]) as unknown as AlertSnapshot['links'];

/** The empty list every state starts with (shared: states are immutable). */
const NONE: readonly never[] = Object.freeze([]);
const NO_STORM: Storm = Object.freeze({ inhibited: null, released: false, incident: null, flap: null, slaBreached: false });
const routes = new SharedValues<RouteDecision>();
const recipientLists = new SharedValues<readonly Recipient[]>();
/** Lists of indexes (who was paged, who was told): mostly `[0]`, `[0, 1]`, … */
const indexLists = new SharedValues<readonly number[]>();

/** `list` with index `i` in it (a no-op for -1 or an index already there). */
const mark = (list: readonly number[], i: number): readonly number[] =>
  i < 0 || list.includes(i) ? list : indexLists.of(withLast(list, i));

/**
 * `list` and `item`, in an array of exactly that length: a list grown by spreading or pushing
 * keeps room for many more entries, and every pending escalation holds a few.
 */
function withLast<T>(list: readonly T[], item: T): T[] {
  const out = new Array<T>(list.length + 1);
  for (let i = 0; i < list.length; i++) out[i] = list[i]!;
  out[list.length] = item;
  return out;
}

/** When this escalation next needs a Tick, or null when only an alert event can move it. */
export function dueAt(s: Escalation): number | null {
  if (s.alert.status === 'resolved') return null;
  if (s.route?.suppressed) return s.route.suppressed.until ? Date.parse(s.route.suppressed.until) : null;
  if (s.stopped) return s.stopped.reopenAt !== null && !s.reopenRequested && s.alert.status === 'acknowledged' ? s.stopped.reopenAt : null;
  if (!s.step) {
    // A possible inhibition target waits for a source before its first page; held ones (inhibited,
    // joined to an incident, flapped) are woken by the shell. A held alert past its wait must not
    // be due: its due time stays in the past, so it would be ticked again and again.
    const held = s.storm.inhibited || s.storm.incident || s.storm.flap === 'flapped';
    const waiting = s.route && !held && !s.storm.released && (s.route.inhibitableBy?.length ?? 0) > 0;
    return waiting && s.alert.status === 'triggered' ? inhibitWaitEnd(s) : null;
  }
  const stepDue =
    s.step.nextAt !== null && (s.alert.status === 'triggered' || (s.step.untilAllAck && s.ackedBy.length > 0)) ? s.step.nextAt : null;
  const ruleDue = nextRule(s.step.later, ackedKeys(s))?.at ?? null;
  const breachDue = !s.storm.slaBreached && s.alert.status === 'triggered' ? slaDeadline(s) : null;
  return earliest(earliest(stepDue, ruleDue), breachDue);
}

const earliest = (a: number | null, b: number | null): number | null => (a === null ? b : b === null ? a : Math.min(a, b));

/** Recipient keys of the users who acknowledged: their later rules do not fire. */
const ackedKeys = (s: Escalation): string[] => s.ackedBy.map((userId) => `user:${userId}`);

/** Nothing more can happen: resolved and everyone told. The shell drops such states. */
export const isSettled = (s: Escalation): boolean =>
  s.alert.status === 'resolved' &&
  (!s.step || s.told.length === s.paged.length) &&
  !(s.storm.incident?.first && !s.storm.incident.resolved);

export function recipientKey(r: Recipient): string {
  switch (r.type) {
    case 'user':
      return `user:${r.userId}`;
    case 'slack':
      return `slack:${r.channel}`;
    case 'webhook':
      return `webhook:${r.url}`;
    default: {
      const _never: never = r;
      return _never;
    }
  }
}

/**
 * Stable per (alert, step reached, recipient) — a step reached again after a reopen is a new
 * one — or (alert, recipient) for the resolution: the dispatcher's idempotency starts here.
 */
export function notificationId(s: Escalation, step: Step, r: Recipient, kind: 'page' | 'resolved', rule?: number): string {
  const alertId = s.alert.alertId;
  if (kind === 'resolved') return stableUuid(`notification:${alertId}/resolved/${recipientKey(r)}`);
  const base = `notification:${alertId}/step-${step.serial}/${recipientKey(r)}`;
  return stableUuid(rule === undefined ? base : `${base}/rule-${rule}`);
}

export function priorityOf(severity: Severity): Priority {
  switch (severity) {
    case 'critical':
      return 'critical';
    case 'error':
      return 'high';
    case 'warning':
      return 'normal';
    default:
      return 'low';
  }
}

const stepUsers = (step: Step): string[] => step.recipients.flatMap((r) => (r.type === 'user' ? [r.userId] : []));
const unacked = (s: Escalation, step: Step): string[] => stepUsers(step).filter((u) => !s.ackedBy.includes(u));
const unackedRecipients = (s: Escalation, step: Step): Recipient[] =>
  step.recipients.filter((r) => r.type === 'user' && !s.ackedBy.includes(r.userId));

function dedupe(recipients: Recipient[]): Recipient[] {
  const seen = new Map<string, Recipient>();
  for (const r of recipients) if (!seen.has(recipientKey(r))) seen.set(recipientKey(r), r);
  return [...seen.values()];
}

const iso = (ms: number | null): string | null => (ms === null ? null : new Date(ms).toISOString());
