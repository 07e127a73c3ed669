import { randomUUID } from 'node:crypto';
import { jetstream, type JetStreamClient } from '@nats-io/jetstream';
import {
  CONSUMERS,
  encodeEvent,
  makeEvent,
  partitionOf,
  stableUuid,
  subjects,
  TICKET_TEST_SUBJECT,
  TicketTestReply,
  type EventData,
  type Surface,
  type TicketState,
  type TicketTestRequest,
} from '@oncall/contracts';
import { checkProviderType, type TicketRef } from '../domain/tickets.js';
import { DeadlineExceeded, InvalidArgument, NotFound, Unavailable } from '../errors.js';
import { callerOf } from '../consistency.js';
import type { CallContext } from '../handlers.js';
import { getAlert, type AlertRow } from '../read-model/alerts.js';
import { ticketByKey, ticketProvider, ticketsOfAlert, type ProviderRow, type TicketRow } from '../read-model/tickets.js';
import type { WriteDeps } from './write-deps.js';

export type TicketCommandsDeps = WriteDeps;

/** How long TestProvider waits for the ticket bridge. */
export const TEST_TIMEOUT_MS = 5_000;

export type TicketRequestInput = Readonly<{
  alertId: string;
  providerId: string;
  providerType: string;
  userId: string | null;
  /** The client's idempotency key, or null. */
  requestId: string | null;
}>;

export type TicketLinkInput = TicketRequestInput & Readonly<{ key: string; url: string | null; via: Surface }>;

export type TicketStatusInput = Readonly<{
  ticket: TicketRef;
  status: string;
  state: TicketState | null;
  actor: string | null;
  comment: string | null;
  changeId: string | null;
}>;

/**
 * Ticket commands of the API: each appends one event on the alert's ticket subject
 * (`tickets.<p>.<alertId>`, p = the alert's partition) with a JetStream msgID from the client's
 * request id, so a retried call appends nothing, and answers once the tickets projection has
 * applied it (read-your-writes). The ticket bridge does the rest (docs/tickets.md).
 */
export class TicketCommands {
  private readonly js: JetStreamClient;

  constructor(private readonly deps: TicketCommandsDeps) {
    this.js = jetstream(deps.nc);
  }

  /** TicketRequested; the alert's rows of that provider once projected, and the request's sequence. */
  async request(input: TicketRequestInput, ctx: CallContext): Promise<{ rows: readonly TicketRow[]; seq: number }> {
    const alert = await this.alert(input.alertId);
    await this.provider(input.providerId, input.providerType);
    const requestId = input.requestId ?? randomUUID();
    const data: EventData<'TicketRequested'> = {
      alertId: alert.id,
      serviceId: alert.service_id,
      providerId: input.providerId,
      requestedBy: 'api',
      userId: input.userId,
      requestId,
    };
    const seq = await this.append(alert, 'TicketRequested', data, `ticket-request:${alert.id}:${input.providerId}:${requestId}`, ctx);
    return { rows: await ticketsOfAlert(this.deps.pool, alert.id, input.providerId), seq };
  }

  /** TicketLinked; the linked ticket once projected. */
  async link(input: TicketLinkInput, ctx: CallContext): Promise<TicketRow> {
    const alert = await this.alert(input.alertId);
    await this.provider(input.providerId, input.providerType);
    const data: EventData<'TicketLinked'> = {
      alertId: alert.id,
      serviceId: alert.service_id,
      providerId: input.providerId,
      ticketKey: input.key,
      url: input.url,
      userId: input.userId,
      via: input.via,
    };
    const key = `ticket-link:${alert.id}:${input.providerId}:${input.key}:${input.requestId ?? randomUUID()}`;
    await this.append(alert, 'TicketLinked', data, key, ctx);
    const row = (await ticketByKey(this.deps.pool, input.providerId, input.key)).find((r) => r.alert_id === alert.id);
    if (!row) throw new Unavailable(`ticket ${input.providerId}:${input.key} was linked but is not in the read model`);
    return row;
  }

  /** TicketStatusChanged on every alert the ticket belongs to; their rows once projected. NOT_FOUND for an unknown ticket. */
  async statusChanged(input: TicketStatusInput, ctx: CallContext): Promise<readonly TicketRow[]> {
    const { providerId, key } = input.ticket;
    const before = await ticketByKey(this.deps.pool, providerId, key);
    if (before.length === 0) throw new NotFound(`no ticket ${providerId}:${key} (create or link it first)`);
    const change = input.changeId ?? randomUUID();
    for (const alertId of new Set(before.map((r) => r.alert_id))) {
      const alert = await this.alert(alertId);
      const data: EventData<'TicketStatusChanged'> = {
        alertId: alert.id,
        serviceId: alert.service_id,
        providerId,
        ticketKey: key,
        status: input.status,
        ...(input.state !== null && { state: input.state }),
        actor: input.actor,
        echo: false,
        comment: input.comment,
        ...(input.changeId !== null && { changeId: input.changeId }),
      };
      await this.append(alert, 'TicketStatusChanged', data, `ticket-status:${alert.id}:${providerId}:${key}:${change}`, ctx);
    }
    return ticketByKey(this.deps.pool, providerId, key);
  }

  /** Asks the ticket bridge to check the provider (and map the alert's fields). */
  async test(providerId: string, alertId: string | null, ctx: CallContext): Promise<TicketTestReply> {
    if (!(await ticketProvider(this.deps.pool, providerId)))
      throw new InvalidArgument('provider_id', `no ticket provider "${providerId}" is configured`);
    if (alertId !== null) await this.alert(alertId);
    const request: TicketTestRequest = { providerId, alertId };
    const timeout = Math.max(1, Math.min(TEST_TIMEOUT_MS, (ctx.deadline ?? Infinity) - this.deps.now()));
    let text: string;
    try {
      text = (await this.deps.nc.request(TICKET_TEST_SUBJECT, JSON.stringify(request), { timeout })).string();
    } catch (err) {
      throw new Unavailable(`ticket-bridge not running: no answer on ${TICKET_TEST_SUBJECT} within ${timeout} ms`, { cause: err });
    }
    let parsed: ReturnType<typeof TicketTestReply.safeParse>;
    try {
      parsed = TicketTestReply.safeParse(JSON.parse(text));
    } catch (err) {
      throw new Unavailable('ticket-bridge answered TestProvider with something that is not JSON', { cause: err });
    }
    if (!parsed.success) throw new Unavailable(`ticket-bridge answered TestProvider in an unknown shape: ${parsed.error.message}`);
    return parsed.data;
  }

  private async alert(alertId: string): Promise<AlertRow> {
    const row = await getAlert(this.deps.pool, alertId);
    if (!row) throw new NotFound(`alert ${alertId} not found`);
    return row;
  }

  private async provider(providerId: string, providerType: string): Promise<ProviderRow> {
    const provider = await ticketProvider(this.deps.pool, providerId);
    if (!provider) throw new InvalidArgument('provider_id', `no ticket provider "${providerId}" is configured (ticketProviders)`);
    checkProviderType('provider_type', providerType, provider);
    return provider;
  }

  /** Appends one event (a repeat of the same key appends nothing) and waits until the tickets projection has it. */
  private async append<T extends 'TicketRequested' | 'TicketLinked' | 'TicketStatusChanged'>(
    alert: AlertRow,
    type: T,
    data: EventData<T>,
    key: string,
    ctx: CallContext,
  ): Promise<number> {
    const { now, timeoutMs } = this.deps;
    const subject = subjects.ticket(partitionOf(alert.service_id, alert.fingerprint, this.deps.partitions), alert.id);
    const event = makeEvent(type, data, {
      id: stableUuid(key),
      occurredAt: new Date(now()).toISOString(),
      causationId: null,
      // Who appended it: the caller's token (its address without one), as configuration writes record it.
      correlationId: `api:${callerOf(ctx) ?? 'unknown'}`,
    });
    let seq: number;
    try {
      seq = (await this.js.publish(subject, encodeEvent(event), { msgID: key })).seq;
    } catch (err) {
      throw new Unavailable(`cannot append ${type}: ${err instanceof Error ? err.message : String(err)}`, { cause: err });
    }
    const timeout = AbortSignal.timeout(Math.max(0, Math.min(timeoutMs, (ctx.deadline ?? Infinity) - now())));
    try {
      await this.deps.feed.waitFor(CONSUMERS.projectorTickets, seq, AbortSignal.any([ctx.signal, timeout]));
    } catch (err) {
      if (timeout.aborted && !ctx.signal.aborted)
        throw new DeadlineExceeded(`${type} was appended (TICKETS sequence ${seq}) but is not in the read model yet`, { cause: err });
      throw err;
    }
    this.deps.log.debug({ alertId: alert.id, type, seq }, 'ticket command appended');
    return seq;
  }
}
