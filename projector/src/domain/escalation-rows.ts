import type { DeliveryEvent, DeliveryStatusEvent, EscalationEvent, EventOf, ProviderStatus, Recipient, Severity } from '@oncall/contracts';
import { severityMap, type SeverityBoost } from '@oncall/shared';

/**
 * The rows of the escalation read models as pure folds of events: `evolve…(row, event, seq) →
 * row`. The projections load the rows a batch touches, fold the batch in stream order and save
 * them, so a batch gives the rows of its events applied one at a time by construction. Field
 * names are the table's column names (a row travels to and from PostgreSQL as JSON); times are
 * the events' ISO strings, or what PostgreSQL rendered for a loaded row.
 */

/** `alert_escalations`: where an alert's escalation stands, from ESCALATIONS alone. */
export type AlertEscalationRow = {
  alert_id: string;
  service_id: string;
  alert_seq: number | null;
  routed_at: string | null;
  routes: number;
  policy_id: string | null;
  template_id: string | null;
  template_version: number | null;
  routing_rules: string[] | null;
  routed_severity: string | null;
  /** The rule that set the severity (it stays until a re-route); null = none. */
  severity_rule: string | null;
  /** What the equipment type did before the rules (AlertRouted.severityBoost). */
  severity_boost: SeverityBoost | null;
  /**
   * Source severity → effective severity under this route (`severityMap`): the view
   * `alerts_with_escalation` gives `severity_map ->> alerts.severity`, so a later source severity
   * (AlertUpdated, another projection) gets the same boost or rule without this one reading it.
   */
  severity_map: Record<Severity, Severity> | null;
  ticket_provider: string | null;
  ack_timeout_seconds: number | null;
  suppressed_by: string | null;
  suppressed_window_id: string | null;
  suppressed_until: string | null;
  maintenance: string[] | null;
  escalation_step: number | null;
  escalation_round: number | null;
  escalation_page: number | null;
  step_reached_at: string | null;
  step_reason: string | null;
  step_recipients: Recipient[] | null;
  next_escalation_at: string | null;
  escalation_stopped_reason: string | null;
  escalation_stopped_at: string | null;
  escalation_stopped_by: string | null;
  reopen_at: string | null;
  reopen_requested_at: string | null;
  reopen_reason: string | null;
  notifications_requested: number;
  updated_at: string;
  last_event_seq: number;
  // Storm sense (issue 16).
  site: string | null;
  group_key: string | null;
  incident_id: string | null;
  inhibited: boolean;
  inhibited_by: string | null;
  inhibited_rule: string | null;
  inhibited_at: string | null;
  released_at: string | null;
  flapping: 'started' | 'flapped' | 'ended' | null;
  flapping_since: string | null;
  tier: string | null;
  sla_response_seconds: number | null;
  sla_deadline: string | null;
  sla_breached_at: string | null;
};

/** Every column of AlertEscalationRow, in no particular order (the compiler checks the set). */
export const ALERT_ESCALATION_COLUMNS = Object.keys({
  alert_id: 0,
  service_id: 0,
  alert_seq: 0,
  routed_at: 0,
  routes: 0,
  policy_id: 0,
  template_id: 0,
  template_version: 0,
  routing_rules: 0,
  routed_severity: 0,
  severity_rule: 0,
  severity_boost: 0,
  severity_map: 0,
  ticket_provider: 0,
  ack_timeout_seconds: 0,
  suppressed_by: 0,
  suppressed_window_id: 0,
  suppressed_until: 0,
  maintenance: 0,
  escalation_step: 0,
  escalation_round: 0,
  escalation_page: 0,
  step_reached_at: 0,
  step_reason: 0,
  step_recipients: 0,
  next_escalation_at: 0,
  escalation_stopped_reason: 0,
  escalation_stopped_at: 0,
  escalation_stopped_by: 0,
  reopen_at: 0,
  reopen_requested_at: 0,
  reopen_reason: 0,
  notifications_requested: 0,
  updated_at: 0,
  last_event_seq: 0,
  site: 0,
  group_key: 0,
  incident_id: 0,
  inhibited: 0,
  inhibited_by: 0,
  inhibited_rule: 0,
  inhibited_at: 0,
  released_at: 0,
  flapping: 0,
  flapping_since: 0,
  tier: 0,
  sla_response_seconds: 0,
  sla_deadline: 0,
  sla_breached_at: 0,
} satisfies Record<keyof AlertEscalationRow, 0>) as Array<keyof AlertEscalationRow>;

export function initialAlertEscalation(alertId: string, serviceId: string, at: string, seq: number): AlertEscalationRow {
  return {
    alert_id: alertId,
    service_id: serviceId,
    alert_seq: null,
    routed_at: null,
    routes: 0,
    policy_id: null,
    template_id: null,
    template_version: null,
    routing_rules: null,
    routed_severity: null,
    severity_rule: null,
    severity_boost: null,
    severity_map: null,
    ticket_provider: null,
    ack_timeout_seconds: null,
    suppressed_by: null,
    suppressed_window_id: null,
    suppressed_until: null,
    maintenance: null,
    escalation_step: null,
    escalation_round: null,
    escalation_page: null,
    step_reached_at: null,
    step_reason: null,
    step_recipients: null,
    next_escalation_at: null,
    escalation_stopped_reason: null,
    escalation_stopped_at: null,
    escalation_stopped_by: null,
    reopen_at: null,
    reopen_requested_at: null,
    reopen_reason: null,
    notifications_requested: 0,
    updated_at: at,
    last_event_seq: seq,
    site: null,
    group_key: null,
    incident_id: null,
    inhibited: false,
    inhibited_by: null,
    inhibited_rule: null,
    inhibited_at: null,
    released_at: null,
    flapping: null,
    flapping_since: null,
    tier: null,
    sla_response_seconds: null,
    sla_deadline: null,
    sla_breached_at: null,
  };
}

/**
 * One escalation event applied to an alert's row. The escalator routes an alert before anything
 * else, but a row starts from the first event of any type (a log is not re-validated here).
 */
export function evolveAlertEscalation(row: AlertEscalationRow | undefined, event: EscalationEvent, seq: number): AlertEscalationRow {
  const at = event.occurredAt;
  const r: AlertEscalationRow = {
    ...(row ?? initialAlertEscalation(event.data.alertId, event.data.serviceId, at, seq)),
    updated_at: at,
    last_event_seq: seq,
  };
  switch (event.type) {
    case 'AlertRouted': {
      const d = event.data;
      return {
        ...r,
        alert_seq: d.alertSeq,
        routed_at: at,
        routes: r.routes + 1,
        policy_id: d.policyId,
        template_id: d.templateId,
        template_version: d.templateVersion,
        routing_rules: d.rules,
        routed_severity: d.severity,
        severity_rule: d.severityRule ?? null,
        severity_boost: d.severityBoost ?? null,
        severity_map: severityMap(d, d.alert.severity),
        ticket_provider: d.ticket,
        ack_timeout_seconds: d.ackTimeoutSeconds,
        suppressed_by: d.suppressed?.by ?? null,
        suppressed_window_id: d.suppressed?.windowId ?? null,
        suppressed_until: d.suppressed?.until ?? null,
        maintenance: d.maintenance,
        site: d.site ?? null,
        group_key: d.groupKey ?? null,
        tier: d.sla?.tier ?? null,
        sla_response_seconds: d.sla?.responseSeconds ?? null,
        // The escalator's deadline: the alert's trigger + the tier's response time.
        sla_deadline: d.sla ? addSeconds(d.alert.triggeredAt, d.sla.responseSeconds) : null,
      };
    }
    case 'EscalationStepReached': {
      const d = event.data;
      // A step reached means the escalation runs (again): a stop or reopen request is over.
      return {
        ...r,
        escalation_step: d.step,
        escalation_round: d.round,
        escalation_page: d.page,
        step_reached_at: at,
        step_reason: d.reason,
        step_recipients: d.recipients,
        next_escalation_at: d.nextAt,
        escalation_stopped_reason: null,
        escalation_stopped_at: null,
        escalation_stopped_by: null,
        reopen_at: null,
        reopen_requested_at: null,
        reopen_reason: null,
      };
    }
    case 'NotificationRequested':
      return { ...r, notifications_requested: r.notifications_requested + 1 };
    case 'EscalationStopped': {
      const d = event.data;
      // Nothing is due while stopped; the step reached so far stays for the record.
      return {
        ...r,
        next_escalation_at: null,
        escalation_stopped_reason: d.reason,
        escalation_stopped_at: at,
        escalation_stopped_by: d.userId,
        reopen_at: d.reopenAt,
        reopen_requested_at: null,
        reopen_reason: null,
      };
    }
    case 'AlertReopenRequested':
      return { ...r, reopen_requested_at: at, reopen_reason: event.data.reason };
    case 'AlertInhibited':
      return { ...r, inhibited: true, inhibited_by: event.data.by, inhibited_rule: event.data.rule, inhibited_at: at, released_at: null };
    case 'AlertReleased':
      // Who inhibited it stays for the record; the alert pages now.
      return { ...r, inhibited: false, inhibited_by: event.data.by, inhibited_rule: event.data.rule, released_at: at };
    case 'IncidentOpened':
    case 'AlertGrouped':
      return { ...r, incident_id: event.data.incidentId };
    case 'IncidentUpdated':
      // The incident's row counts its alerts itself.
      return r;
    case 'IncidentResolved':
      // On the leading alert's subject: the incident's row says it (`incidents`), the alert's does not change.
      return r;
    case 'IncidentTakenOver':
      // Both alerts stay in the incident; the timeline says who leads it.
      return r;
    case 'FlappingStarted':
      return { ...r, flapping: 'started', flapping_since: at };
    case 'AlertFlapped':
      return { ...r, flapping: 'flapped', flapping_since: event.data.flappingSince };
    case 'FlappingEnded':
      return { ...r, flapping: 'ended', flapping_since: event.data.flappingSince };
    case 'SlaBreached':
      return { ...r, sla_breached_at: r.sla_breached_at ?? at, sla_deadline: event.data.deadline };
    default: {
      const _never: never = event;
      return _never;
    }
  }
}

/** `iso` + `seconds` as an ISO time; null when `iso` is not a time (a log is not re-validated here). */
function addSeconds(iso: string, seconds: number): string | null {
  const ms = Date.parse(iso);
  return Number.isFinite(ms) ? new Date(ms + seconds * 1000).toISOString() : null;
}

/**
 * `incidents`: what a batch's events say about one incident, as a merge that does not depend on
 * the order of the events (an incident's events are on the subjects of its alerts, which may lie
 * in different partitions, and a partitioned replay applies the partitions side by side). The
 * projection upserts the batch's deltas, merging them into the stored rows the same way
 * (`mergeIncident`, and the SQL of the escalations projection).
 */
export type IncidentRow = {
  incident_id: string;
  service_id: string;
  group_key: string;
  /** IncidentOpened's; null until it is applied. */
  group_labels: Record<string, string> | null;
  first_alert_id: string;
  summary: string | null;
  /** The earliest event of the incident. */
  opened_at: string;
  resolved_at: string | null;
  /** IncidentOpened + AlertGrouped events. */
  alert_count: number;
  /** The latest IncidentOpened / AlertGrouped; null while none is applied. */
  last_alert_at: string | null;
  updated_at: string;
  last_event_seq: number;
};

export const INCIDENT_COLUMNS = Object.keys({
  incident_id: 0,
  service_id: 0,
  group_key: 0,
  group_labels: 0,
  first_alert_id: 0,
  summary: 0,
  opened_at: 0,
  resolved_at: 0,
  alert_count: 0,
  last_alert_at: 0,
  updated_at: 0,
  last_event_seq: 0,
} satisfies Record<keyof IncidentRow, 0>) as Array<keyof IncidentRow>;

export type IncidentEvent = EventOf<'IncidentOpened'> | EventOf<'AlertGrouped'> | EventOf<'IncidentResolved'>;

export const isIncidentEvent = (e: EscalationEvent): e is IncidentEvent =>
  e.type === 'IncidentOpened' || e.type === 'AlertGrouped' || e.type === 'IncidentResolved';

/** One incident event as a row of its own (what it alone says about the incident). */
export function incidentDelta(event: IncidentEvent, seq: number): IncidentRow {
  const at = event.occurredAt;
  const d = event.data;
  const base = {
    incident_id: d.incidentId,
    service_id: d.serviceId,
    group_key: d.groupKey,
    group_labels: null,
    summary: null,
    opened_at: at,
    resolved_at: null,
    alert_count: 0,
    last_alert_at: at,
    updated_at: at,
    last_event_seq: seq,
  };
  switch (event.type) {
    case 'IncidentOpened':
      return { ...base, first_alert_id: d.alertId, group_labels: event.data.groupLabels, summary: event.data.summary, alert_count: 1 };
    case 'AlertGrouped':
      return { ...base, first_alert_id: event.data.firstAlertId, alert_count: 1 };
    case 'IncidentResolved':
      // Written on the first alert's subject.
      return { ...base, first_alert_id: d.alertId, resolved_at: at, last_alert_at: null };
    default: {
      const _never: never = event;
      return _never;
    }
  }
}

const least = (a: string, b: string): string => (Date.parse(b) < Date.parse(a) ? b : a);
/** The later time; null counts as unknown (as PostgreSQL's `greatest`). */
const greatest = (a: string | null, b: string | null): string | null =>
  a === null ? b : b === null ? a : Date.parse(b) > Date.parse(a) ? b : a;

/**
 * The incident's first alert: the IncidentOpened's (the delta with `group_labels`), whichever side
 * it is on. Events after a takeover (docs/noc.md) name the alert leading the incident then, so
 * without the IncidentOpened the row keeps what it has until that is merged.
 */
const firstAlertOf = (a: IncidentRow, b: IncidentRow): string =>
  a.group_labels === null && b.group_labels !== null ? b.first_alert_id : a.first_alert_id;

/**
 * Two deltas (or a row and a delta) of one incident merged: commutative and associative, so any
 * split and order of the events gives the same row. The SQL upsert of the escalations projection
 * merges the same way.
 */
export function mergeIncident(a: IncidentRow, b: IncidentRow): IncidentRow {
  return {
    incident_id: a.incident_id,
    service_id: a.service_id,
    group_key: a.group_key,
    group_labels: a.group_labels ?? b.group_labels,
    first_alert_id: firstAlertOf(a, b),
    summary: a.summary ?? b.summary,
    opened_at: least(a.opened_at, b.opened_at),
    resolved_at: greatest(a.resolved_at, b.resolved_at),
    alert_count: a.alert_count + b.alert_count,
    last_alert_at: greatest(a.last_alert_at, b.last_alert_at),
    updated_at: greatest(a.updated_at, b.updated_at)!,
    last_event_seq: Math.max(a.last_event_seq, b.last_event_seq),
  };
}

/** The request columns of `notifications`, written by the escalations projection. */
export type NotificationRequestRow = {
  notification_id: string;
  alert_id: string;
  service_id: string;
  kind: string;
  step: number;
  round: number;
  page: number;
  recipient: Recipient;
  recipient_type: string;
  user_id: string | null;
  contacts: unknown;
  template_id: string | null;
  template_version: number | null;
  priority: string;
  requested_at: string;
  request_seq: number;
};

export const NOTIFICATION_REQUEST_COLUMNS = Object.keys({
  notification_id: 0,
  alert_id: 0,
  service_id: 0,
  kind: 0,
  step: 0,
  round: 0,
  page: 0,
  recipient: 0,
  recipient_type: 0,
  user_id: 0,
  contacts: 0,
  template_id: 0,
  template_version: 0,
  priority: 0,
  requested_at: 0,
  request_seq: 0,
} satisfies Record<keyof NotificationRequestRow, 0>) as Array<keyof NotificationRequestRow>;

export function notificationRequest(event: EventOf<'NotificationRequested'>, seq: number): NotificationRequestRow {
  const d = event.data;
  return {
    notification_id: d.notificationId,
    alert_id: d.alertId,
    service_id: d.serviceId,
    kind: d.kind,
    step: d.step,
    round: d.round,
    page: d.page,
    recipient: d.recipient,
    recipient_type: d.recipient.type,
    user_id: d.recipient.type === 'user' ? d.recipient.userId : null,
    contacts: d.contacts,
    template_id: d.templateId,
    template_version: d.templateVersion,
    priority: d.priority,
    requested_at: event.occurredAt,
    request_seq: seq,
  };
}

export type NotificationStatus = 'requested' | 'delivered' | 'failed';

/** What the provider said later about a message it accepted (Twilio status callbacks). */
export type ProviderReport = { status: ProviderStatus; errorCode: string | null; at: string; providerMessageId: string };

export type ChannelOutcome = (
  | { status: 'delivered'; destination: string; attempts: number; at: string; providerMessageId: string | null }
  | {
      status: 'failed';
      destination: string;
      attempts: number;
      at: string;
      reason: string;
      retryable: boolean;
      error: string;
      fallback: string | null;
    }
) & { provider?: ProviderReport };

/** The outcome columns of `notifications`, written by the deliveries projection. */
export type NotificationOutcomeRow = {
  notification_id: string;
  alert_id: string;
  service_id: string;
  status: NotificationStatus;
  /** The latest outcome per channel. */
  channels: Record<string, ChannelOutcome>;
  /** The first delivery. */
  delivered_at: string | null;
  outcomes: number;
  last_outcome_at: string | null;
  delivery_seq: number | null;
};

export const NOTIFICATION_OUTCOME_COLUMNS = Object.keys({
  notification_id: 0,
  alert_id: 0,
  service_id: 0,
  status: 0,
  channels: 0,
  delivered_at: 0,
  outcomes: 0,
  last_outcome_at: 0,
  delivery_seq: 0,
} satisfies Record<keyof NotificationOutcomeRow, 0>) as Array<keyof NotificationOutcomeRow>;

/** Before any outcome: also the columns' defaults in the table, for a row the request created. */
export function initialNotificationOutcome(notificationId: string, alertId: string, serviceId: string): NotificationOutcomeRow {
  return {
    notification_id: notificationId,
    alert_id: alertId,
    service_id: serviceId,
    status: 'requested',
    channels: {},
    delivered_at: null,
    outcomes: 0,
    last_outcome_at: null,
    delivery_seq: null,
  };
}

/**
 * One delivery outcome applied to a notification. Delivered on any channel is final; a failure
 * with a fallback channel leaves the notification in flight (`requested`, unless it was
 * delivered), a failure without one fails it.
 */
export function evolveNotificationOutcome(
  row: NotificationOutcomeRow | undefined,
  event: DeliveryEvent | DeliveryStatusEvent,
  seq: number,
): NotificationOutcomeRow {
  const d = event.data;
  const at = event.occurredAt;
  const r = row ?? initialNotificationOutcome(d.notificationId, d.alertId, d.serviceId);
  if (event.type === 'NotificationStatusReported') return withProviderReport(r, event, seq);
  // A status callback can overtake the dispatcher's own record of the send: keep what it said.
  const provider = r.channels[d.channel]?.provider;
  const kept = provider === undefined ? {} : { provider };
  const base = { ...r, outcomes: r.outcomes + 1, last_outcome_at: at, delivery_seq: seq };
  switch (event.type) {
    case 'NotificationDelivered': {
      const e = event.data;
      const outcome: ChannelOutcome = {
        status: 'delivered',
        destination: e.destination,
        attempts: e.attempts,
        at,
        providerMessageId: e.providerMessageId,
        ...kept,
      };
      return { ...base, status: 'delivered', delivered_at: r.delivered_at ?? at, channels: { ...r.channels, [e.channel]: outcome } };
    }
    case 'NotificationFailed': {
      const e = event.data;
      const outcome: ChannelOutcome = {
        status: 'failed',
        destination: e.destination,
        attempts: e.attempts,
        at,
        reason: e.reason,
        retryable: e.retryable,
        error: e.error,
        fallback: e.fallback,
        ...kept,
      };
      const status: NotificationStatus = r.status === 'delivered' ? 'delivered' : e.fallback ? 'requested' : 'failed';
      return { ...base, status, channels: { ...r.channels, [e.channel]: outcome } };
    }
    default: {
      const _never: never = event;
      return _never;
    }
  }
}

/**
 * The provider's later word on a channel's message. The notification's status stays: the send
 * succeeded; a report that came before the dispatcher's record (Twilio can be that quick) stands
 * for it until that record arrives, since the provider had accepted the message.
 */
function withProviderReport(r: NotificationOutcomeRow, event: DeliveryStatusEvent, seq: number): NotificationOutcomeRow {
  const d = event.data;
  const at = event.occurredAt;
  const provider: ProviderReport = { status: d.status, errorCode: d.errorCode, at, providerMessageId: d.providerMessageId };
  const before = r.channels[d.channel];
  const outcome: ChannelOutcome =
    before === undefined
      ? { status: 'delivered', destination: d.destination, attempts: 1, at, providerMessageId: d.providerMessageId, provider }
      : { ...before, provider };
  const status: NotificationStatus = before === undefined ? 'delivered' : r.status;
  return {
    ...r,
    status,
    delivered_at: before === undefined ? (r.delivered_at ?? at) : r.delivered_at,
    channels: { ...r.channels, [d.channel]: outcome },
    delivery_seq: seq,
  };
}
