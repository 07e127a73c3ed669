import { alertingV1 } from '@oncall/contracts';
import type { AlertRow } from './read-model.js';

const { AlertStatus, AlertSource, Severity } = alertingV1;

const STATUS: Record<AlertRow['status'], alertingV1.AlertStatus> = {
  triggered: AlertStatus.ALERT_STATUS_TRIGGERED,
  acknowledged: AlertStatus.ALERT_STATUS_ACKNOWLEDGED,
  resolved: AlertStatus.ALERT_STATUS_RESOLVED,
};
export const STATUS_FROM_PROTO = new Map(Object.entries(STATUS).map(([k, v]) => [v, k as AlertRow['status']]));

const SOURCE: Record<string, alertingV1.AlertSource> = {
  alertmanager: AlertSource.ALERT_SOURCE_ALERTMANAGER,
  grafana: AlertSource.ALERT_SOURCE_GRAFANA,
  generic: AlertSource.ALERT_SOURCE_GENERIC,
  pagerduty: AlertSource.ALERT_SOURCE_PAGERDUTY,
  heartbeat: AlertSource.ALERT_SOURCE_HEARTBEAT,
  manual: AlertSource.ALERT_SOURCE_MANUAL,
};

const SEVERITY: Record<string, alertingV1.Severity> = {
  critical: Severity.SEVERITY_CRITICAL,
  error: Severity.SEVERITY_ERROR,
  warning: Severity.SEVERITY_WARNING,
  info: Severity.SEVERITY_INFO,
  unknown: Severity.SEVERITY_UNSPECIFIED,
};
export const SEVERITY_FROM_PROTO = new Map(Object.entries(SEVERITY).map(([k, v]) => [v, k]));

const date = (ms: number | null): Date | undefined => (ms === null ? undefined : new Date(ms));

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
    externalTicketId: r.external_ticket_id ?? '',
    severity: SEVERITY[r.severity] ?? Severity.SEVERITY_UNSPECIFIED,
    updatedAt: date(r.updated_at),
    generatorUrl: r.generator_url ?? '',
    repeatCount: r.repeat_count,
    escalationStep: 0,
    snoozedUntil: undefined,
    lastEventSequence: r.last_event_seq,
  };
}
