import { alertingV1 } from '@oncall/contracts/grpc';
import type { AlertRow, AlertStatusWord, TimelineRow } from './read-model/alerts.js';

const { AlertStatus, AlertSource, Severity } = alertingV1;

export const STATUS: Record<AlertStatusWord, alertingV1.AlertStatus> = {
  triggered: AlertStatus.ALERT_STATUS_TRIGGERED,
  acknowledged: AlertStatus.ALERT_STATUS_ACKNOWLEDGED,
  snoozed: AlertStatus.ALERT_STATUS_SNOOZED,
  resolved: AlertStatus.ALERT_STATUS_RESOLVED,
};
export const STATUS_FROM_PROTO = new Map(Object.entries(STATUS).map(([k, v]) => [v, k as AlertStatusWord]));

export const SOURCE: Record<string, alertingV1.AlertSource> = {
  alertmanager: AlertSource.ALERT_SOURCE_ALERTMANAGER,
  grafana: AlertSource.ALERT_SOURCE_GRAFANA,
  generic: AlertSource.ALERT_SOURCE_GENERIC,
  pagerduty: AlertSource.ALERT_SOURCE_PAGERDUTY,
  heartbeat: AlertSource.ALERT_SOURCE_HEARTBEAT,
  manual: AlertSource.ALERT_SOURCE_MANUAL,
};

export const SEVERITY: Record<string, alertingV1.Severity> = {
  critical: Severity.SEVERITY_CRITICAL,
  error: Severity.SEVERITY_ERROR,
  warning: Severity.SEVERITY_WARNING,
  info: Severity.SEVERITY_INFO,
  unknown: Severity.SEVERITY_UNSPECIFIED,
};
export const SEVERITY_FROM_PROTO = new Map(Object.entries(SEVERITY).map(([k, v]) => [v, k]));

export const date = (ms: number | null): Date | undefined => (ms === null ? undefined : new Date(ms));

/** The read model's zero-based step as the API's one-based step; 0 = no step reached yet. */
export const apiStep = (step: number | null): number => (step === null ? 0 : step + 1);

export function toProtoAlert(r: AlertRow): alertingV1.Alert {
  return {
    id: r.id,
    serviceId: r.service_id,
    summary: r.summary,
    details: r.details,
    status: STATUS[r.status],
    source: SOURCE[r.source] ?? AlertSource.ALERT_SOURCE_UNSPECIFIED,
    fingerprint: r.fingerprint,
    labels: r.labels,
    annotations: r.annotations,
    createdAt: date(r.created_at),
    acknowledgedAt: date(r.acknowledged_at),
    acknowledgedByUserId: r.acknowledged_by ?? '',
    resolvedAt: date(r.resolved_at),
    resolvedByUserId: r.resolved_by ?? '',
    externalTicketId: r.ticket_key ?? r.external_ticket_id ?? '',
    severity: SEVERITY[r.severity] ?? Severity.SEVERITY_UNSPECIFIED,
    sourceSeverity: SEVERITY[r.source_severity] ?? Severity.SEVERITY_UNSPECIFIED,
    updatedAt: date(r.updated_at),
    generatorUrl: r.generator_url ?? '',
    repeatCount: r.repeat_count,
    escalationStep: apiStep(r.escalation_step),
    snoozedUntil: date(r.snoozed_until),
    lastEventSequence: r.last_event_seq,
    escalationPolicyId: r.policy_id ?? '',
    nextEscalationAt: date(r.next_escalation_at),
    escalationSuppressed: r.suppressed_by !== null,
    escalationSuppressedBy: r.suppressed_by ?? '',
    escalationSuppressedUntil: date(r.suppressed_until),
    escalationRound: r.escalation_round ?? 0,
    escalationStoppedReason: r.escalation_stopped_reason ?? '',
    snoozedByUserId: r.snoozed_by ?? '',
    escalatedAt: date(r.escalated_at),
    escalatedByUserId: r.escalated_by ?? '',
    externalTicketUrl: r.ticket_url ?? '',
    site: r.site ?? '',
    groupKey: r.group_key ?? '',
    incidentId: r.incident_id ?? '',
    inhibited: r.inhibited ?? false,
    inhibitedBy: r.inhibited_by ?? '',
    inhibitedRule: r.inhibited_rule ?? '',
    flapping: r.flapping ?? '',
    tier: r.tier ?? '',
    slaDeadline: date(r.sla_deadline),
    slaBreachedAt: date(r.sla_breached_at),
  };
}

export function toTimelineEntry(r: TimelineRow): alertingV1.TimelineEntry {
  return {
    alertId: r.alert_id,
    sequence: r.seq,
    eventId: r.event_id,
    eventType: r.event_type,
    occurredAt: new Date(r.occurred_at),
    actor: r.actor,
    message: r.message,
    stream: r.stream,
  };
}
