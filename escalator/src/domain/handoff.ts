import type { AlertEvent, ContactChannel, EventData, NotificationRule } from '@oncall/contracts';

type Schedule = EventData<'ScheduleConfigured'>;

/** The on-call calculation (shared/src/domain/oncall.ts), passed in so this stays free of the shell's packages. */
export type OnCallMath = Readonly<{
  onCallAt: (schedule: Schedule, atMs: number) => ReadonlyArray<{ userId: string }>;
  nextChangeAfter: (schedule: Schedule, atMs: number) => number | null;
  shifts: (schedule: Schedule, fromMs: number, toMs: number) => ReadonlyArray<{ userId: string; start: number; end: number }>;
}>;

/**
 * Shift handoffs (seed 004), pure: when a schedule's on-call people change, who hands over to
 * whom, which services the schedule answers for, and the summary both get — what is open, what
 * fired during the outgoing shift, what was acknowledged by whom. Time comes in as data.
 * The shell that turns these into durable timers and notifications is not built yet
 * (docs/notification-rules.md, "Shift handoff summaries").
 */

export type Handoff = Readonly<{
  scheduleId: string;
  at: number;
  /** On call before `at` and not after. */
  outgoing: readonly string[];
  /** On call from `at` and not before. */
  incoming: readonly string[];
  /** Start of the outgoing shift (the earliest start of the outgoing users' continuous time on call). */
  shiftStart: number;
}>;

/** How far back a shift start is looked for; longer shifts are summarised from this far back. */
const MAX_SHIFT_MS = 31 * 86_400_000;
/** Candidate instants tried, and how far ahead, before giving up (many candidates change nothing: restriction edges, one-member rotations). */
const MAX_CANDIDATES = 2_000;
const HORIZON_MS = 400 * 86_400_000;

/** The next instant after `afterMs` where the set of on-call users changes, or null if none does within about a year. */
export function nextHandoff(schedule: Schedule, afterMs: number, math: OnCallMath): Handoff | null {
  const { onCallAt, nextChangeAfter, shifts } = math;
  const ids = (at: number) => new Set(onCallAt(schedule, at).map((u) => u.userId));
  let before = ids(afterMs);
  let t: number | null = afterMs;
  for (let i = 0; i < MAX_CANDIDATES; i++) {
    t = nextChangeAfter(schedule, t);
    if (t === null || t > afterMs + HORIZON_MS) return null;
    const after = ids(t);
    const outgoing = [...before].filter((u) => !after.has(u));
    const incoming = [...after].filter((u) => !before.has(u));
    if (outgoing.length > 0 || incoming.length > 0) {
      const ending = shifts(schedule, Math.max(0, t - MAX_SHIFT_MS), t).filter((s) => s.end === t && outgoing.includes(s.userId));
      const shiftStart = ending.length > 0 ? Math.min(...ending.map((s) => s.start)) : t - MAX_SHIFT_MS;
      return { scheduleId: schedule.scheduleId, at: t, outgoing, incoming, shiftStart };
    }
    before = after;
  }
  return null;
}

/** Services whose routing (defaults or rules) names a policy with a step targeting the schedule. */
export function servicesOfSchedule(
  cfg: Readonly<{
    policies: ReadonlyMap<string, EventData<'EscalationPolicyConfigured'>>;
    routing: ReadonlyMap<string, EventData<'RoutingConfigured'>>;
  }>,
  scheduleId: string,
): string[] {
  const policies = new Set<string>();
  for (const p of cfg.policies.values())
    if (p.steps.some((s) => s.targets.some((t) => (t.type === 'schedule' || t.type === 'rotation') && t.scheduleId === scheduleId)))
      policies.add(p.policyId);
  const services: string[] = [];
  for (const r of cfg.routing.values()) {
    const named = [r.escalationPolicyId, ...r.rules.map((rule) => rule.policyId)];
    if (named.some((id) => id !== null && policies.has(id))) services.push(r.serviceId);
  }
  return services.sort();
}

export type AlertLine = Readonly<{ alertId: string; serviceId: string; summary: string; severity: string; status: string }>;
export type AckLine = Readonly<{ alertId: string; summary: string; userId: string | null; at: string }>;

export type HandoffSummary = Readonly<{
  /** Open (triggered or acknowledged) at the handoff. */
  open: readonly AlertLine[];
  /** Triggered during the outgoing shift. */
  fired: readonly AlertLine[];
  /** Acknowledgements during the outgoing shift, in order. */
  acked: readonly AckLine[];
}>;

type Known = { line: AlertLine; triggeredAt: number };

/**
 * The summary of a handoff from the alert events of the schedule's services up to the handoff
 * (in log order; events of other services and after `handoff.at` are ignored). An alert opened
 * before the shift is open only if its events say so: the caller reads far enough back.
 */
export function summarize(
  events: readonly AlertEvent[],
  services: readonly string[],
  handoff: Pick<Handoff, 'at' | 'shiftStart'>,
): HandoffSummary {
  const wanted = new Set(services);
  const alerts = new Map<string, Known>();
  const acked: AckLine[] = [];
  for (const e of events) {
    const at = Date.parse(e.occurredAt);
    if (!wanted.has(e.data.serviceId) || at >= handoff.at) continue;
    const known = alerts.get(e.data.alertId);
    const set = (status: string) => known && alerts.set(e.data.alertId, { ...known, line: { ...known.line, status } });
    switch (e.type) {
      case 'AlertTriggered':
        alerts.set(e.data.alertId, {
          line: {
            alertId: e.data.alertId,
            serviceId: e.data.serviceId,
            summary: e.data.summary,
            severity: e.data.severity,
            status: 'triggered',
          },
          triggeredAt: at,
        });
        break;
      case 'AlertAcknowledged':
        set('acknowledged');
        if (at >= handoff.shiftStart)
          acked.push({ alertId: e.data.alertId, summary: known?.line.summary ?? e.data.alertId, userId: e.data.userId, at: e.occurredAt });
        break;
      case 'AlertSnoozed':
        set('acknowledged');
        break;
      case 'AlertUnacknowledged':
        set('triggered');
        break;
      case 'AlertResolved':
        set('resolved');
        break;
      case 'AlertUpdated':
        if (known) alerts.set(e.data.alertId, { ...known, line: { ...known.line, summary: e.data.summary, severity: e.data.severity } });
        break;
      case 'AlertRepeated':
      case 'AlertEscalated':
      case 'AlertCommandDeclined':
        break;
      default: {
        const _never: never = e;
        return _never;
      }
    }
  }
  const all = [...alerts.values()];
  return {
    open: all.filter((a) => a.line.status !== 'resolved').map((a) => a.line),
    fired: all.filter((a) => a.triggeredAt >= handoff.shiftStart).map((a) => a.line),
    acked,
  };
}

/** The method a handoff summary goes by: the user's first rule's, else e-mail. */
export const handoffChannel = (rules: readonly NotificationRule[] | undefined): ContactChannel => rules?.[0]?.channel ?? 'email';

/** The summary as plain text, for the generic `handoff` template's text channels. */
export function handoffText(
  schedule: Pick<EventData<'ScheduleConfigured'>, 'name'>,
  handoff: Handoff,
  summary: HandoffSummary,
  role: 'incoming' | 'outgoing',
): string {
  const who = (ids: readonly string[]) => (ids.length > 0 ? ids.join(', ') : 'nobody');
  const lines = [
    `${schedule.name}: ${role === 'incoming' ? `you take over from ${who(handoff.outgoing)}` : `you hand over to ${who(handoff.incoming)}`} at ${new Date(handoff.at).toISOString()}`,
    `Open (${summary.open.length}):`,
    ...summary.open.map((a) => `- [${a.severity}] ${a.summary} (${a.serviceId}, ${a.status})`),
    `Fired during the shift (${summary.fired.length}):`,
    ...summary.fired.map((a) => `- [${a.severity}] ${a.summary} (${a.serviceId})`),
    `Acknowledged during the shift (${summary.acked.length}):`,
    ...summary.acked.map((a) => `- ${a.summary} by ${a.userId ?? 'the source'} at ${a.at}`),
  ];
  return lines.join('\n');
}
