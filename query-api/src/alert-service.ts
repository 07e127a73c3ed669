import type { DatabasePool } from 'slonik';
import type { alertingV1 } from '@oncall/contracts/grpc';
import type { Logger } from '@oncall/shared';
import type { AlertCommandInput, AlertCommands } from './adapters/alert-commands.js';
import type { ManualAlerts } from './adapters/manual-alerts.js';
import { Surface, type AlertCommandKind as CommandKind } from '@oncall/contracts';
import { COMMAND_FOR_STATUS } from './domain/commands.js';
import { toManualAlert } from './domain/manual-alert.js';
import { InvalidArgument, NotFound, Unavailable } from './errors.js';
import { serverStream, unary, type CallContext, type Write } from './handlers.js';
import { incidentHandlers } from './incident-service.js';
import { AlertBytes } from './alert-bytes.js';
import { toAlertList } from './alert-filter.js';
import { streamPage } from './list-page.js';
import { apiStep, STATUS_FROM_PROTO, toProtoAlert, toTimelineEntry } from './mapping.js';
import { encodePageToken } from './page-token.js';
import {
  alertsAfter,
  getAlert,
  getTimeline,
  type AlertCursor,
  type AlertListRow,
  type AlertRow,
  type ListPool,
} from './read-model/alerts.js';
import { bounded, required, requiredUuid } from './validate.js';

/** Snoozes last at least a minute (the decider refuses an end that is already past) and at most 30 days. */
export const MIN_SNOOZE_SECONDS = 60;
export const MAX_SNOOZE_SECONDS = 30 * 86_400;
const MAX_NOTE = 4096;
/** Alerts per read-model query of a ListAlerts page. */
const LIST_BATCH = 1000;

/** A listed alert and its wire bytes. */
type EncodedAlert = { row: AlertListRow; bytes: Buffer };

type CommandRequest = { alertId: string; userId: string; note: string; requestId: string };

/** Validates the fields every alert command has; throws InvalidArgument naming the field. */
export function toCommand(command: CommandKind, req: CommandRequest, snoozeSeconds: number | null = null): AlertCommandInput {
  return {
    alertId: requiredUuid('alert_id', req.alertId),
    command,
    userId: required('user_id', req.userId),
    note: bounded('note', req.note, MAX_NOTE),
    requestId: bounded('request_id', req.requestId, 256),
    snoozeSeconds,
  };
}

/** The snooze length in whole seconds; throws InvalidArgument naming `duration`. */
export function snoozeSeconds(duration: { seconds: number; nanos: number } | undefined): number {
  if (!duration) throw new InvalidArgument('duration', 'is required');
  const seconds = duration.seconds + duration.nanos / 1e9;
  if (!Number.isFinite(seconds) || seconds < MIN_SNOOZE_SECONDS || seconds > MAX_SNOOZE_SECONDS) {
    throw new InvalidArgument('duration', `must be between ${MIN_SNOOZE_SECONDS} s and ${MAX_SNOOZE_SECONDS / 86_400} days`);
  }
  return Math.round(seconds);
}

/** Surfaces a client may say it acts from (`x-oncall-via`); `system` is the pipeline's own. */
export const CLIENT_SURFACES: readonly Surface[] = Surface.options.filter((s) => s !== 'system');

/** The `x-oncall-via` header as a surface (absent: the API itself); throws InvalidArgument naming the header. */
export function viaOf(header: string | null | undefined): Surface {
  if (header === null || header === undefined || header === '') return 'api';
  const via = CLIENT_SURFACES.find((s) => s === header);
  if (!via) throw new InvalidArgument('x-oncall-via', `must be one of ${CLIENT_SURFACES.join(', ')}`);
  return via;
}

/** The command UpdateAlertStatus stands for; throws InvalidArgument naming `status`. */
export function commandForStatus(status: alertingV1.AlertStatus): CommandKind {
  const word = STATUS_FROM_PROTO.get(status);
  if (word === 'snoozed') throw new InvalidArgument('status', 'use SnoozeAlert: a snooze needs a duration');
  const command = word && COMMAND_FOR_STATUS[word];
  if (!command) throw new InvalidArgument('status', `must be TRIGGERED, ACKNOWLEDGED or RESOLVED, not ${status}`);
  return command;
}

/** AlertService: reads from the read model; commands through intake with read-your-writes. */
export function alertService(
  pool: DatabasePool,
  listPool: ListPool,
  log: Logger,
  commands: AlertCommands | null,
  manual: ManualAlerts | null = null,
): Partial<alertingV1.AlertServiceServer> {
  const run = (input: AlertCommandInput, ctx: CallContext): Promise<AlertRow> => {
    if (!commands)
      throw new Unavailable('alert commands need a NATS connection and the projection feed, which this server was started without');
    return commands.run({ ...input, via: viaOf(ctx.via) }, ctx);
  };
  return {
    createAlert: unary(log, 'CreateAlert', async (req: alertingV1.CreateAlertRequest, ctx) => {
      const input = toManualAlert(req);
      if (!manual)
        throw new Unavailable('CreateAlert needs a NATS connection and the projection feed, which this server was started without');
      return toProtoAlert(await manual.create(input, ctx));
    }),
    getAlert: unary(log, 'GetAlert', async (req: alertingV1.GetAlertRequest) => {
      const id = requiredUuid('id', req.id);
      const row = await getAlert(pool, id);
      if (!row) throw new NotFound(`alert ${id} not found`);
      return toProtoAlert(row);
    }),
    getAlertTimeline: serverStream(log, 'GetAlertTimeline', async (req: alertingV1.GetAlertTimelineRequest, write) => {
      const alertId = requiredUuid('alert_id', req.alertId);
      const rows = await getTimeline(pool, alertId);
      if (rows.length === 0 && !(await getAlert(pool, alertId))) throw new NotFound(`alert ${alertId} not found`);
      for (const r of rows) await write(toTimelineEntry(r));
    }),
    // Alerts go out as their wire bytes, encoded as each batch arrives (AlertBytes); the server's
    // ListAlerts serializer passes them through (preEncoded).
    listAlerts: serverStream(log, 'ListAlerts', async (req: alertingV1.ListAlertsRequest, write: Write<Buffer>, ctx) => {
      const list = toAlertList(req);
      const encoder = new AlertBytes();
      return streamPage<EncodedAlert, AlertCursor>({
        pageSize: list.pageSize,
        batch: LIST_BATCH,
        after: list.after,
        fetch: async (after, limit) => {
          const rows = await alertsAfter(listPool, list.query, after, limit);
          const bytes = encoder.encodeAll(rows);
          return rows.map((row, i) => ({ row, bytes: bytes[i]! }));
        },
        keyOf: ({ row }) => ({ createdAt: row.created_key, id: row.id }),
        token: (key) => encodePageToken([key.createdAt, key.id], list.digest),
        write: (alert) => write(alert.bytes),
        signal: ctx.signal,
      });
    }) as unknown as alertingV1.AlertServiceServer['listAlerts'],
    acknowledgeAlert: unary(log, 'AcknowledgeAlert', async (req: alertingV1.AcknowledgeRequest, ctx) => ({
      alert: toProtoAlert(await run(toCommand('acknowledge', req), ctx)),
    })),
    resolveAlert: unary(log, 'ResolveAlert', async (req: alertingV1.ResolveRequest, ctx) => ({
      alert: toProtoAlert(await run(toCommand('resolve', req), ctx)),
    })),
    escalateAlert: unary(log, 'EscalateAlert', async (req: alertingV1.EscalateRequest, ctx) => {
      const row = await run(toCommand('escalate', req), ctx);
      return { alert: toProtoAlert(row), escalationStep: apiStep(row.escalation_step) };
    }),
    snoozeAlert: unary(log, 'SnoozeAlert', async (req: alertingV1.SnoozeRequest, ctx) => {
      const input = toCommand('snooze', req, snoozeSeconds(req.duration));
      const row = await run(input, ctx);
      return { alert: toProtoAlert(row), snoozedUntil: row.snoozed_until === null ? undefined : new Date(row.snoozed_until) };
    }),
    updateAlertStatus: unary(log, 'UpdateAlertStatus', async (req: alertingV1.UpdateStatusRequest, ctx) =>
      toProtoAlert(await run(toCommand(commandForStatus(req.status), req), ctx)),
    ),
    ...incidentHandlers(pool, log),
  };
}
