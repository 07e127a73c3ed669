import type { DatabasePool } from 'slonik';
import type { alertingV1, ticketingV1 } from '@oncall/contracts/grpc';
import type { Logger } from '@oncall/shared';
import type { TicketCommands, TicketStatusInput } from './adapters/ticket-commands.js';
import { viaOf } from './alert-service.js';
import {
  parseTicketId,
  providerIdOf,
  ticketKeyOf,
  ticketStateOf,
  ticketUrlOf,
  toProvider,
  toTicket,
  toTicketStatus,
  type TicketRef,
} from './domain/tickets.js';
import { ApiError, InvalidArgument, NotFound, Unavailable } from './errors.js';
import { bidiStream, unary, type CallContext } from './handlers.js';
import { getAlert } from './read-model/alerts.js';
import { ticketByKey, ticketProviders, ticketsOfAlert, type TicketRow } from './read-model/tickets.js';
import { bounded, requiredUuid, uuid } from './validate.js';

/**
 * TicketIntegrationService (alerting.v1) and TicketingService (ticketing.v1): two faces of one
 * thing. Commands append ticket events (TicketRequested, TicketLinked, TicketStatusChanged) and
 * answer from the tickets read model once it has them; reads come from the read model; the
 * ticket bridge does the calls to providers (docs/tickets.md#api).
 */

const MAX_ID = 256;
const MAX_TEXT = 4096;
const optional = (field: string, value: string, max = MAX_ID): string | null => (value === '' ? null : bounded(field, value, max));

function usable(commands: TicketCommands | null): TicketCommands {
  if (!commands)
    throw new Unavailable('ticket commands need a NATS connection and the projection feed, which this server was started without');
  return commands;
}

function noInlineProvider(req: alertingV1.CreateTicketRequest): void {
  const message = 'providers are configured in the configuration file (ticketProviders); name one with provider_id';
  if (Object.keys(req.providerConfig).length > 0) throw new InvalidArgument('provider_config', message);
  if (Object.keys(req.fieldMappings).length > 0) throw new InvalidArgument('field_mappings', `${message}; its fields map the alert`);
}

/** The ticket of a request: its id, or an alert (and provider); NOT_FOUND when there is none. */
async function findTicket(pool: DatabasePool, ticketId: string, alertId: string, providerId: string): Promise<TicketRow> {
  if (ticketId !== '') {
    const { providerId: p, key } = parseTicketId('ticket_id', ticketId);
    const [row] = await ticketByKey(pool, p, key);
    if (!row) throw new NotFound(`no ticket ${ticketId}`);
    return row;
  }
  if (alertId === '') throw new InvalidArgument('ticket_id', 'give ticket_id, or alert_id (and optionally provider_id)');
  const id = requiredUuid('alert_id', alertId);
  const provider = providerId === '' ? null : providerIdOf('provider_id', providerId);
  const [row] = await ticketsOfAlert(pool, id, provider);
  if (row) return row;
  if (!(await getAlert(pool, id))) throw new NotFound(`alert ${id} not found`);
  throw new NotFound(`alert ${id} has no ticket${provider === null ? '' : ` from ${provider}`}`);
}

/** A status update's ticket: `ticket_id`, or provider id and key. */
function refOf(ticketId: string, providerId: string, key: string): TicketRef {
  if (ticketId !== '') return parseTicketId('ticket_id', ticketId);
  if (providerId === '' && key === '') throw new InvalidArgument('ticket_id', 'give ticket_id, or provider_id and external_ticket_id');
  return { providerId: providerIdOf('provider_id', providerId), key: ticketKeyOf('external_ticket_id', key) };
}

function statusInput(
  ticket: TicketRef,
  u: { status: string; state: string; actor: string; comment: string; changeId: string },
): TicketStatusInput {
  if (u.status.trim() === '') throw new InvalidArgument('status', "is required: the provider's own status word");
  return {
    ticket,
    status: bounded('status', u.status, MAX_ID),
    state: ticketStateOf('state', u.state),
    actor: optional('actor', u.actor),
    comment: optional('comment', u.comment, MAX_TEXT),
    changeId: optional('change_id', u.changeId),
  };
}

/** One ack per update: a refused update is acked with its error and the stream goes on. */
async function acked<T>(run: () => Promise<T>, refused: (message: string) => T): Promise<T> {
  try {
    return await run();
  } catch (err) {
    if (err instanceof ApiError) return refused(err.message);
    throw err;
  }
}

export function ticketIntegrationService(
  pool: DatabasePool,
  log: Logger,
  commands: TicketCommands | null,
): alertingV1.TicketIntegrationServiceServer {
  const request = async (req: alertingV1.CreateTicketRequest, ctx: CallContext) => {
    noInlineProvider(req);
    const input = {
      alertId: requiredUuid('alert_id', req.alertId),
      providerId: providerIdOf('provider_id', req.providerId),
      providerType: bounded('provider_type', req.providerType, 64),
      userId: optional('user_id', req.userId),
      requestId: optional('request_id', req.requestId),
    };
    return usable(commands).request(input, ctx);
  };
  return {
    createTicketFromAlert: unary(log, 'CreateTicketFromAlert', async (req: alertingV1.CreateTicketRequest, ctx) => {
      const { rows, seq } = await request(req, ctx);
      const [row] = rows;
      if (!row) throw new Unavailable('the ticket request was appended but is not in the read model');
      const status = toTicketStatus(row);
      return {
        ticketId: status.ticketId,
        externalTicketId: status.externalTicketId,
        externalUrl: status.externalUrl,
        status,
        logSequence: seq,
      };
    }),
    getTicketStatus: unary(log, 'GetTicketStatus', async (req: alertingV1.GetTicketStatusRequest) =>
      toTicketStatus(await findTicket(pool, req.ticketId, req.alertId, req.providerId)),
    ),
    syncTicketStatus: bidiStream(log, 'SyncTicketStatus', (u: alertingV1.TicketStatusUpdate, ctx) =>
      acked<alertingV1.SyncAckResponse>(
        async () => {
          const ref = refOf(u.ticketId, u.providerId, u.externalTicketId);
          const m = u.metadata;
          const input = statusInput(ref, {
            status: u.status,
            state: u.state,
            actor: m.actor ?? '',
            comment: m.comment ?? '',
            changeId: m.change_id ?? '',
          });
          await usable(commands).statusChanged(input, ctx);
          return { ticketId: `${ref.providerId}:${ref.key}`, accepted: true, error: '' };
        },
        (error) => ({ ticketId: u.ticketId || (u.providerId && `${u.providerId}:${u.externalTicketId}`), accepted: false, error }),
      ),
    ),
    linkAlertToTicket: unary(log, 'LinkAlertToTicket', async (req: alertingV1.LinkRequest, ctx) => {
      const row = await usable(commands).link(
        {
          alertId: requiredUuid('alert_id', req.alertId),
          providerId: providerIdOf('provider_id', req.providerId),
          providerType: bounded('provider_type', req.providerType, 64),
          key: ticketKeyOf('external_ticket_id', req.externalTicketId),
          url: ticketUrlOf('external_url', req.externalUrl),
          userId: optional('user_id', req.userId),
          requestId: optional('request_id', req.requestId),
          via: viaOf(ctx.via),
        },
        ctx,
      );
      return { ticketId: toTicket(row).ticketId, linked: true };
    }),
  };
}

export function ticketingService(pool: DatabasePool, log: Logger, commands: TicketCommands | null): ticketingV1.TicketingServiceServer {
  return {
    createTicket: unary(log, 'CreateTicket', async (req: ticketingV1.CreateTicketRequest, ctx) => {
      const input = {
        alertId: requiredUuid('alert_id', req.alertId),
        providerId: providerIdOf('provider_id', req.providerId),
        providerType: '',
        userId: optional('user_id', req.userId),
        requestId: optional('request_id', req.requestId),
      };
      const [row] = (await usable(commands).request(input, ctx)).rows;
      if (!row) throw new Unavailable('the ticket request was appended but is not in the read model');
      return toTicket(row);
    }),
    updateTicket: unary(log, 'UpdateTicket', async (req: ticketingV1.UpdateTicketRequest, ctx) => {
      const input = statusInput(parseTicketId('ticket_id', req.ticketId), req);
      const [row] = await usable(commands).statusChanged(input, ctx);
      if (!row) throw new NotFound(`no ticket ${req.ticketId}`);
      return toTicket(row);
    }),
    getTicket: unary(log, 'GetTicket', async (req: ticketingV1.GetTicketRequest) =>
      toTicket(await findTicket(pool, req.ticketId, req.alertId, req.providerId)),
    ),
    linkAlertToTicket: unary(log, 'LinkAlertToTicket', async (req: ticketingV1.LinkRequest, ctx) => {
      const row = await usable(commands).link(
        {
          alertId: requiredUuid('alert_id', req.alertId),
          providerId: providerIdOf('provider_id', req.providerId),
          providerType: '',
          key: ticketKeyOf('key', req.key),
          url: ticketUrlOf('url', req.url),
          userId: optional('user_id', req.userId),
          requestId: optional('request_id', req.requestId),
          via: viaOf(ctx.via),
        },
        ctx,
      );
      return { ticket: toTicket(row) };
    }),
    syncStatus: bidiStream(log, 'SyncStatus', (s: ticketingV1.ExternalStatus, ctx) =>
      acked<ticketingV1.InternalStatus>(
        async () => {
          const ref = parseTicketId('ticket_id', s.ticketId);
          const rows = await usable(commands).statusChanged(statusInput(ref, s), ctx);
          return { ticketId: s.ticketId, accepted: true, error: '', alertIds: [...new Set(rows.map((r) => r.alert_id))] };
        },
        (error) => ({ ticketId: s.ticketId, accepted: false, error, alertIds: [] }),
      ),
    ),
    listProviders: unary(log, 'ListProviders', async () => ({ providers: (await ticketProviders(pool)).map(toProvider) })),
    testProvider: unary(log, 'TestProvider', async (req: ticketingV1.TestProviderRequest, ctx) => {
      const providerId = providerIdOf('provider_id', req.providerId);
      const alertId = uuid('alert_id', req.alertId, 'optional');
      const reply = await usable(commands).test(providerId, alertId, ctx);
      return {
        ok: reply.ok,
        error: reply.error ?? '',
        fieldsJson: reply.fields === null ? '' : JSON.stringify(reply.fields),
        latencyMs: Math.round(reply.latencyMs ?? 0),
      };
    }),
  };
}
