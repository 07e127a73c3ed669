import type { DatabasePool } from 'slonik';
import { z } from 'zod';
import { alertingV1 } from '@oncall/contracts/grpc';
import type { Logger } from '@oncall/shared';
import { InvalidArgument, NotFound } from './errors.js';
import { serverStream, unary } from './handlers.js';
import { date, toProtoAlert, toTimelineEntry } from './mapping.js';
import { incidentAlerts } from './read-model/alerts.js';
import { getIncident, getIncidentTimeline, listIncidents, type IncidentFilter, type IncidentRow } from './read-model/incidents.js';
import { required, requiredUuid } from './validate.js';

const { IncidentStatus } = alertingV1;

export const DEFAULT_PAGE_SIZE = 100;
export const MAX_PAGE_SIZE = 1000;

/**
 * A page token: where the previous page ended, and the filters it was made for (a token is only
 * good for the request it continues). Opaque to clients: base64url of JSON.
 */
const PageToken = z.object({ at: z.string(), id: z.string().uuid(), f: z.string() });

/** The filters a token binds: status and the service ids, in any order. */
const filterKey = (status: IncidentFilter['status'], serviceIds: readonly string[]): string =>
  JSON.stringify([status, [...new Set(serviceIds)].sort()]);

export function pageToken(row: IncidentRow, status: IncidentFilter['status'], serviceIds: readonly string[]): string {
  const token: z.infer<typeof PageToken> = { at: row.opened_key, id: row.incident_id, f: filterKey(status, serviceIds) };
  return Buffer.from(JSON.stringify(token)).toString('base64url');
}

function cursorOf(token: string, key: string): IncidentFilter['after'] {
  if (token === '') return null;
  let parsed: z.infer<typeof PageToken>;
  try {
    parsed = PageToken.parse(JSON.parse(Buffer.from(token, 'base64url').toString('utf8')));
  } catch {
    throw new InvalidArgument('page_token', 'is not a token this server gave out');
  }
  if (!Number.isFinite(Date.parse(parsed.at))) throw new InvalidArgument('page_token', 'is not a token this server gave out');
  if (parsed.f !== key) throw new InvalidArgument('page_token', 'was given for other filters (status, service_ids)');
  return { openedAt: parsed.at, incidentId: parsed.id.toLowerCase() };
}

/** Validates a ListIncidentsRequest into a read-model filter; throws InvalidArgument naming the field. */
export function toIncidentFilter(req: alertingV1.ListIncidentsRequest): IncidentFilter {
  let status: IncidentFilter['status'];
  switch (req.status) {
    case IncidentStatus.INCIDENT_STATUS_UNSPECIFIED:
      status = null;
      break;
    case IncidentStatus.INCIDENT_STATUS_OPEN:
      status = 'open';
      break;
    case IncidentStatus.INCIDENT_STATUS_RESOLVED:
      status = 'resolved';
      break;
    default:
      throw new InvalidArgument('status', `unknown status ${req.status}`);
  }
  const serviceIds = req.serviceIds.map((id, i) => required(`service_ids[${i}]`, id));
  if (!Number.isInteger(req.pageSize) || req.pageSize < 0 || req.pageSize > MAX_PAGE_SIZE)
    throw new InvalidArgument('page_size', `must be between 0 and ${MAX_PAGE_SIZE}`);
  return {
    status,
    serviceIds,
    pageSize: req.pageSize || DEFAULT_PAGE_SIZE,
    after: cursorOf(req.pageToken, filterKey(status, serviceIds)),
  };
}

export function toProtoIncident(r: IncidentRow): alertingV1.Incident {
  return {
    id: r.incident_id,
    serviceId: r.service_id,
    groupKey: r.group_key,
    groupLabels: r.group_labels ?? {},
    firstAlertId: r.first_alert_id,
    summary: r.summary ?? '',
    status: r.resolved_at === null ? IncidentStatus.INCIDENT_STATUS_OPEN : IncidentStatus.INCIDENT_STATUS_RESOLVED,
    openedAt: date(r.opened_at),
    resolvedAt: date(r.resolved_at),
    alertCount: r.alert_count,
    lastAlertAt: date(r.last_alert_at),
    updatedAt: date(r.updated_at),
  };
}

/** The incident RPCs of AlertService, over `incidents`, `alerts_with_escalation` and `incident_timeline`. */
export function incidentHandlers(
  pool: DatabasePool,
  log: Logger,
): Pick<alertingV1.AlertServiceServer, 'listIncidents' | 'getIncident' | 'getIncidentTimeline'> {
  return {
    listIncidents: unary(log, 'ListIncidents', async (req: alertingV1.ListIncidentsRequest) => {
      const filter = toIncidentFilter(req);
      const found = await listIncidents(pool, filter);
      const page = found.slice(0, filter.pageSize);
      const last = page[page.length - 1];
      return {
        incidents: page.map(toProtoIncident),
        nextPageToken: found.length > filter.pageSize && last ? pageToken(last, filter.status, filter.serviceIds) : '',
      };
    }),
    getIncident: unary(log, 'GetIncident', async (req: alertingV1.GetIncidentRequest) => {
      const id = requiredUuid('incident_id', req.incidentId);
      const row = await getIncident(pool, id);
      if (!row) throw new NotFound(`incident ${id} not found`);
      return { incident: toProtoIncident(row), alerts: (await incidentAlerts(pool, id)).map(toProtoAlert) };
    }),
    getIncidentTimeline: serverStream(log, 'GetIncidentTimeline', async (req: alertingV1.GetIncidentTimelineRequest, write) => {
      const id = requiredUuid('incident_id', req.incidentId);
      const rows = await getIncidentTimeline(pool, id);
      if (rows.length === 0 && !(await getIncident(pool, id))) throw new NotFound(`incident ${id} not found`);
      for (const r of rows) await write(toTimelineEntry(r));
    }),
  };
}
