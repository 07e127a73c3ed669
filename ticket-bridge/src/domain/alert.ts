import type { AlertEvent } from '@oncall/contracts';
import type { TicketFieldInput } from '@oncall/shared';
import type { TicketAlert } from '../providers/types.js';

/**
 * The alert a ticket is made from, folded from its history on the ALERTS stream: the content of
 * the last AlertTriggered/AlertUpdated and the status of the last lifecycle event (and the ids
 * of the lifecycle events that made it: `statusEventIds`). Pure.
 */
export function foldTicketAlert(
  events: readonly AlertEvent[],
  service: Readonly<{ name: string }> | null,
  publicUrl: string | null,
): (TicketAlert & { source: string; statusEventIds: readonly string[] }) | null {
  let alert: (TicketAlert & { source: string; statusEventIds: readonly string[] }) | null = null;
  for (const e of events) {
    if (e.type === 'AlertTriggered') {
      const d = e.data;
      alert = {
        alertId: d.alertId,
        serviceId: d.serviceId,
        serviceName: service?.name ?? d.serviceId,
        fingerprint: d.fingerprint,
        summary: d.summary,
        details: d.details,
        severity: d.severity,
        status: 'triggered',
        labels: d.labels,
        annotations: d.annotations,
        links: d.links,
        startsAt: d.startsAt,
        url: publicUrl === null ? null : `${publicUrl.replace(/\/$/, '')}/alerts/${d.alertId}`,
        source: d.source,
        statusEventIds: [],
      };
      continue;
    }
    if (!alert) continue;
    switch (e.type) {
      case 'AlertUpdated':
        alert = {
          ...alert,
          summary: e.data.summary,
          details: e.data.details,
          severity: e.data.severity,
          labels: e.data.labels,
          annotations: e.data.annotations,
          links: e.data.links,
        };
        break;
      case 'AlertAcknowledged':
      case 'AlertSnoozed':
        alert = { ...alert, status: 'acknowledged', statusEventIds: [...alert.statusEventIds, e.id] };
        break;
      case 'AlertResolved':
        alert = { ...alert, status: 'resolved', statusEventIds: [...alert.statusEventIds, e.id] };
        break;
      case 'AlertUnacknowledged':
        alert = { ...alert, status: 'triggered', statusEventIds: [...alert.statusEventIds, e.id] };
        break;
      default:
        break;
    }
  }
  return alert;
}

/** What the field mapping sees of an alert. */
export function fieldInputOf(alert: TicketAlert & { source: string }): TicketFieldInput {
  return {
    alert: {
      id: alert.alertId,
      severity: alert.severity,
      summary: alert.summary,
      details: alert.details,
      status: alert.status,
      source: alert.source,
      fingerprint: alert.fingerprint,
      url: alert.url ?? '',
    },
    service: { id: alert.serviceId, name: alert.serviceName },
    labels: alert.labels,
    annotations: alert.annotations,
  };
}

/** The alert `TestProvider` previews with when it is given none. */
export function sampleAlert(service: Readonly<{ id: string; name: string }>): TicketAlert & { source: string } {
  return {
    alertId: '00000000-0000-4000-8000-000000000000',
    serviceId: service.id,
    serviceName: service.name,
    fingerprint: 'sample',
    summary: 'Sample alert: disk almost full on db-1',
    details: 'Disk /var is 95% full.',
    severity: 'critical',
    status: 'triggered',
    labels: { alertname: 'DiskFull', instance: 'db-1', team: 'platform' },
    annotations: { runbook: 'https://runbooks.example.com/disk-full' },
    links: [],
    startsAt: null,
    url: null,
    source: 'generic',
  };
}
