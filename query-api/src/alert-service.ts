import type { sendUnaryData, ServerUnaryCall, ServerWritableStream } from '@grpc/grpc-js';
import type { DatabasePool } from 'slonik';
import type { alertingV1 } from '@oncall/contracts';
import type { Logger } from '@oncall/shared';
import { getAlert, getTimeline, listAlerts, type AlertFilter } from './read-model.js';
import { SEVERITY_FROM_PROTO, STATUS_FROM_PROTO, toProtoAlert } from './mapping.js';
import { InvalidArgument, NotFound, toServiceError } from './errors.js';

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
export const DEFAULT_LIST_LIMIT = 1000;
export const MAX_LIST_LIMIT = 10_000;

/** Validates a ListAlertsRequest into a read-model filter; throws InvalidArgument naming the field. */
export function toFilter(req: alertingV1.ListAlertsRequest): AlertFilter {
  if (req.limit < 0 || req.limit > MAX_LIST_LIMIT) throw new InvalidArgument('limit', `must be between 0 and ${MAX_LIST_LIMIT}`);
  const statuses = req.statuses.map((s, i) => {
    const st = STATUS_FROM_PROTO.get(s);
    if (!st) throw new InvalidArgument(`statuses[${i}]`, `unknown status ${s}`);
    return st;
  });
  const severities = req.severities.map((s, i) => {
    const sev = SEVERITY_FROM_PROTO.get(s);
    if (!sev) throw new InvalidArgument(`severities[${i}]`, `unknown severity ${s}`);
    return sev;
  });
  return {
    serviceIds: req.serviceIds,
    statuses,
    severities,
    labelSelector: req.labelSelector,
    createdAfter: req.createdAfter,
    createdBefore: req.createdBefore,
    limit: req.limit || DEFAULT_LIST_LIMIT,
  };
}

export function alertService(pool: DatabasePool, log: Logger): Partial<alertingV1.AlertServiceServer> {
  return {
    getAlert: (call: ServerUnaryCall<alertingV1.GetAlertRequest, alertingV1.Alert>, callback: sendUnaryData<alertingV1.Alert>) => {
      const run = async () => {
        const { id } = call.request;
        if (!UUID.test(id)) throw new InvalidArgument('id', 'must be a UUID');
        const row = await getAlert(pool, id);
        if (!row) throw new NotFound(`alert ${id} not found`);
        return toProtoAlert(row);
      };
      run().then(
        (alert) => callback(null, alert),
        (err: unknown) => {
          if (!(err instanceof InvalidArgument || err instanceof NotFound)) log.error({ err }, 'GetAlert failed');
          callback(toServiceError(err), null);
        },
      );
    },
    getAlertTimeline: (call: ServerWritableStream<alertingV1.GetAlertTimelineRequest, alertingV1.TimelineEntry>) => {
      const run = async () => {
        const { alertId } = call.request;
        if (!UUID.test(alertId)) throw new InvalidArgument('alert_id', 'must be a UUID');
        const rows = await getTimeline(pool, alertId);
        if (rows.length === 0 && !(await getAlert(pool, alertId))) throw new NotFound(`alert ${alertId} not found`);
        for (const r of rows) {
          if (call.cancelled) return;
          const entry = {
            alertId: r.alert_id,
            sequence: r.seq,
            eventId: r.event_id,
            eventType: r.event_type,
            occurredAt: new Date(r.occurred_at),
            actor: r.actor,
            message: r.message,
          };
          if (!call.write(entry)) await new Promise((resolve) => call.once('drain', resolve));
        }
      };
      run().then(
        () => call.end(),
        (err: unknown) => {
          if (!(err instanceof InvalidArgument || err instanceof NotFound)) log.error({ err }, 'GetAlertTimeline failed');
          call.emit('error', toServiceError(err));
        },
      );
    },
    listAlerts: (call: ServerWritableStream<alertingV1.ListAlertsRequest, alertingV1.Alert>) => {
      const run = async () => {
        const rows = await listAlerts(pool, toFilter(call.request));
        for (const row of rows) {
          if (call.cancelled) return;
          if (!call.write(toProtoAlert(row))) await new Promise((resolve) => call.once('drain', resolve));
        }
      };
      run().then(
        () => call.end(),
        (err: unknown) => {
          if (!(err instanceof InvalidArgument)) log.error({ err }, 'ListAlerts failed');
          call.emit('error', toServiceError(err));
        },
      );
    },
  };
}
