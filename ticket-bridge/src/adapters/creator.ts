import type { JsMsg } from '@nats-io/jetstream';
import { CONSUMERS, decodeEvent, STREAMS, type DomainEvent, type EventData, type EventOf } from '@oncall/contracts';
import { errorText, hopFromMessage, inHop, NO_HOP, TicketFieldError, tracingOn, type Hop } from '@oncall/shared';
import { fieldInputOf } from '../domain/alert.js';
import { idempotencyKeyOf, rateLimitDecision, resumeDelayMs, retryDecision, syncActionFor, type AlertMove } from '../domain/rules.js';
import { ProviderError, type TicketRef } from '../providers/types.js';
import { loadAlert, type LoadedAlert } from './alerts.js';
import { appendTicketEvent, type Deps } from './deps.js';
import { providerCallSeconds, providerCalls, queueDeferred, rateLimited, ticketsCreated } from './metrics.js';
import { SecretMissing, type Configured } from './providers.js';

export const TICKETS_CONSUMER = CONSUMERS.ticketBridgeTickets;

/** How long work handed back (a full lane, a claim another replica holds) waits before it comes again. */
const DEFER_MS = 1000;

/** A failure no retry mends (no such provider, no such alert, a field that does not evaluate). */
class Permanent extends Error {
  override readonly name = 'Permanent';
}

/** Times a provider call and counts its outcome. */
export async function timed<T>(providerId: string, operation: string, fn: () => Promise<T>): Promise<T> {
  const end = providerCallSeconds.startTimer({ provider: providerId, operation });
  try {
    const out = await fn();
    providerCalls.inc({ provider: providerId, operation, outcome: 'ok' });
    return out;
  } catch (err) {
    const outcome = err instanceof ProviderError && err.retryable ? 'retry' : 'failed';
    providerCalls.inc({ provider: providerId, operation, outcome });
    throw err;
  } finally {
    end();
  }
}

/**
 * TicketRequested (`tickets.>`) → one ticket per alert and provider. Each request runs in its
 * provider's lane (a full or paused lane holds it in hand until its turn, up to a bound, and
 * hands it back to JetStream for later beyond it). The (alert, provider) is
 * claimed in KV; a claim taken over from a dead process, or a retry, first asks the provider
 * (`find`) whether an earlier attempt created the ticket; then the ticket is created, recorded
 * (KV, then TicketCreated) and the message acked. A retryable failure is recorded
 * (TicketSyncFailed with retryAt) and the message is handed back with a delay (nak): the retry
 * is as durable as the stream; a permanent one is recorded and the message acked.
 */
export async function handleTicketMessage(d: Deps, m: JsMsg): Promise<void> {
  let event: DomainEvent;
  try {
    event = decodeEvent(m.data, { trusted: true });
  } catch (err) {
    await d.parking.park(TICKETS_CONSUMER, { stream: STREAMS.tickets, seq: m.seq, subject: m.subject, data: m.data }, 'undecodable', err);
    m.ack();
    return;
  }
  const partition = Number(m.subject.split('.')[1]);
  if (event.type === 'TicketLinked') {
    await linkTicket(d, event);
    m.ack();
    return;
  }
  if (event.type !== 'TicketRequested') {
    m.ack();
    return;
  }
  const req = event.data;
  // One `ticket <provider>` span per handling of the request (its provider calls, the events it
  // appends), a child of the TicketRequested message's context. Off: a constant.
  const hop = tracingOn()
    ? hopFromMessage(`ticket ${req.providerId}`, m, {
        'oncall.service': 'ticket-bridge',
        'oncall.alert_id': req.alertId,
        'oncall.provider': req.providerId,
        'oncall.attempt': m.info.deliveryCount,
      })
    : NO_HOP;
  await inHop(hop, () => request(d, m, event, partition, hop));
}

async function request(d: Deps, m: JsMsg, event: EventOf<'TicketRequested'>, partition: number, hop: Hop): Promise<void> {
  const req = event.data;
  const configured = d.providers.get(req.providerId);
  const fail = (err: unknown, attempt: number) => failed(d, m, event, partition, err, attempt, hop);
  if (configured === undefined) return fail(new Permanent(`no ticket provider ${req.providerId} is configured`), 1);
  if ('error' in configured) return fail(new ProviderError(configured.error, configured.retryable), m.info.deliveryCount);
  // A full or paused lane holds the request in hand (within d.holding.creates) until its turn, else it is handed back.
  const run = d.lanes.run(
    req.providerId,
    d.holding.creates,
    async () => {
      await create(d, m, event, partition, configured, hop);
      return true;
    },
    () => false,
  );
  if (run === null) return m.nak(handBackDelay(d, req.providerId));
  if (!(await run)) {
    // The bridge stops: another replica takes it now.
    queueDeferred.inc({ provider: req.providerId, why: 'stopping' });
    m.nak();
  }
}

/**
 * Work its provider's lane did not take (more held than the Holding allows): the delay after which
 * it comes back from JetStream, counted in oncall_ticket_bridge_deferred_total. A paused lane: when
 * the pause ends; else 1–2 s.
 */
export function handBackDelay(d: Deps, providerId: string): number {
  const paused = pauseDelay(d, providerId);
  if (paused !== null) return paused;
  queueDeferred.inc({ provider: providerId, why: 'lane-full' });
  return DEFER_MS + Math.floor(d.random() * DEFER_MS);
}

/** The provider's lane is paused (it answered 429): the delay after which work comes back (attempts untouched), else null. */
export function pauseDelay(d: Deps, providerId: string): number | null {
  const now = d.now();
  const until = d.lanes.pausedUntil(providerId, now);
  if (until === null) return null;
  queueDeferred.inc({ provider: providerId, why: 'rate-limited' });
  return resumeDelayMs(until, now, DEFER_MS, d.random());
}

/**
 * A 429: the provider's lane pauses until its Retry-After; returns the delay after which the work
 * comes back (null: not a 429). Counted in a metric and logged once per pause, not as a failed
 * attempt nor a TicketSyncFailed: a rate limit says nothing about this ticket.
 */
export function rateLimitPause(d: Deps, providerId: string, operation: string, err: unknown): number | null {
  if (!(err instanceof ProviderError)) return null;
  const now = d.now();
  const decision = rateLimitDecision(err, d.retry, now);
  if (decision === null) return null;
  rateLimited.inc({ provider: providerId, operation });
  if (d.lanes.pause(providerId, decision.until, now))
    d.log.warn({ providerId, operation, pauseMs: decision.pauseMs }, 'the ticket provider is rate limiting; its lane pauses');
  return pauseDelay(d, providerId);
}

async function create(d: Deps, m: JsMsg, event: EventOf<'TicketRequested'>, partition: number, c: Configured, hop: Hop): Promise<void> {
  const { alertId, providerId, serviceId } = event.data;
  const log = d.log.child({ alertId, providerId });
  const claim = await d.records.claim(providerId, alertId, d.owner, d.now(), d.claimStaleMs);
  if (claim.kind === 'busy') {
    queueDeferred.inc({ provider: providerId, why: 'claimed-elsewhere' });
    m.nak(DEFER_MS + Math.floor(d.random() * DEFER_MS));
    return;
  }
  if (claim.kind === 'created') {
    // An earlier attempt created it (and may have died before recording it in the log): the same event again.
    await recordCreated(d, event, partition, claim.record.ticket, false, hop);
    m.ack();
    return;
  }
  if (claim.takenOver) log.warn({ attempt: claim.attempts }, 'took over the claim of a process that stopped mid-create');
  try {
    const alert = await loadAlert(d.nc, d.js, d.config, { alertId, publicUrl: d.publicUrl, partitions: d.partitions });
    if (!alert) throw new Permanent(`alert ${alertId} is not in the ALERTS stream`);
    let fields: Record<string, unknown>;
    try {
      fields = c.fields.evaluate(fieldInputOf(alert));
    } catch (err) {
      if (err instanceof TicketFieldError) throw new Permanent(err.message);
      throw err;
    }
    const key = idempotencyKeyOf(alertId);
    // The first claim ever of this (alert, provider) knows no earlier attempt reached the provider: no lookup needed.
    const earlier = claim.attempts > 1 || claim.takenOver ? await timed(providerId, 'find', () => c.provider.find(c.ctx, key)) : null;
    const ticket = earlier ?? (await timed(providerId, 'create', () => c.provider.create(c.ctx, { alert, fields, idempotencyKey: key })));
    await d.records.created(
      { alertId, serviceId, fingerprint: alert.fingerprint, partition: alert.partition, providerId },
      ticket,
      d.now(),
    );
    await recordCreated(d, event, partition, ticket, earlier !== null, hop);
    hop.set('oncall.ticket_key', ticket.key);
    d.providers.markHealth(providerId, true);
    log.info({ ticketKey: ticket.key, found: earlier !== null }, 'ticket created');
    await catchUp(d, c, event, partition, ticket, alert);
    m.ack();
  } catch (err) {
    await failed(d, m, event, partition, err, claim.attempts, hop);
  }
}

/**
 * A person linked an existing ticket to the alert (TicketLinked): the ticket is indexed so its
 * inbound changes find the alert, and it becomes the alert's ticket at that provider unless the
 * alert has one there already (then only the index is added). Its external id is not known: the
 * key stands for it until the provider reports it.
 */
async function linkTicket(d: Deps, event: EventOf<'TicketLinked'>): Promise<void> {
  const { alertId, serviceId, providerId, ticketKey, url } = event.data;
  const alert = await loadAlert(d.nc, d.js, d.config, { alertId, publicUrl: d.publicUrl, partitions: d.partitions });
  if (!alert) {
    d.log.warn({ alertId, providerId, ticketKey }, 'a ticket was linked to an alert not in the ALERTS stream; not indexed');
    return;
  }
  const index = { alertId, serviceId, fingerprint: alert.fingerprint, partition: alert.partition, providerId };
  const adopted = await d.records.linked(index, { key: ticketKey, externalId: ticketKey, url });
  d.log.info({ alertId, providerId, ticketKey, adopted }, 'linked ticket indexed');
}

/**
 * An alert acknowledged or resolved before its ticket was claimed: those events found no ticket,
 * so the new ticket is brought up to the alert's status now. The alert events are remembered as
 * applied (a later delivery of one changes nothing). Best effort: a failure is logged.
 */
async function catchUp(
  d: Deps,
  c: Configured,
  event: EventOf<'TicketRequested'>,
  partition: number,
  ticket: TicketRef,
  alert: LoadedAlert,
): Promise<void> {
  const cause = alert.statusEventIds.at(-1);
  if (alert.status === 'triggered' || cause === undefined) return;
  const { alertId, serviceId, providerId } = event.data;
  const move: AlertMove = { type: alert.status === 'resolved' ? 'AlertResolved' : 'AlertAcknowledged', via: null, userId: null, note: '' };
  const action = syncActionFor(move, c.config.sync);
  if (action === null) return;
  try {
    if (action.state !== null) await d.records.setting(providerId, alertId, action.state, d.now());
    await timed(providerId, 'update', () =>
      c.provider.update(c.ctx, ticket, { kind: action.kind, transition: action.transition, comment: action.comment }),
    );
    // Every lifecycle event the status reflects counts as applied: a later delivery of one must not move the ticket back.
    await d.records.applied(providerId, alertId, alert.statusEventIds, action.state, d.now());
    await appendTicketEvent(
      d,
      'TicketUpdated',
      { alertId, serviceId, providerId, ticketKey: ticket.key, change: action.kind, state: action.state, cause },
      { partition, idKey: `ticket-updated:${cause}:${providerId}`, causationId: cause },
    );
  } catch (err) {
    d.log.warn({ err, alertId, providerId }, 'the new ticket could not be brought up to the alert status');
  }
}

async function recordCreated(
  d: Deps,
  event: EventOf<'TicketRequested'>,
  partition: number,
  ticket: TicketRef,
  found: boolean,
  hop: Hop,
): Promise<void> {
  const { alertId, serviceId, providerId } = event.data;
  const data: EventData<'TicketCreated'> = {
    alertId,
    serviceId,
    providerId,
    ticketKey: ticket.key,
    url: ticket.url,
    externalId: ticket.externalId,
    found,
  };
  await appendTicketEvent(d, 'TicketCreated', data, {
    partition,
    idKey: `ticket-created:${alertId}:${providerId}`,
    causationId: event.id,
    trace: hop.headers,
  });
  ticketsCreated.inc({ provider: providerId, found: String(found) });
}

/** Records a failed attempt and either hands the message back for a retry or acks it (given up). */
async function failed(
  d: Deps,
  m: JsMsg,
  event: EventOf<'TicketRequested'>,
  partition: number,
  err: unknown,
  attempt: number,
  hop: Hop,
): Promise<void> {
  const { alertId, serviceId, providerId } = event.data;
  const log = d.log.child({ alertId, providerId });
  hop.set('oncall.error', errorText(err));
  const paused = rateLimitPause(d, providerId, 'create', err);
  if (paused !== null) {
    // The attempt does not count: the next claim counts this one again (and a 429 created nothing, so no lookup is owed).
    await d.records.failed(providerId, alertId, attempt - 1, false, d.now());
    m.nak(paused);
    return;
  }
  if (!(err instanceof ProviderError) && !(err instanceof Permanent)) {
    // Our own trouble (NATS, KV): nothing to record against the provider; try again later.
    log.error({ err, attempt }, 'creating a ticket failed; it comes back later');
    await d.records.failed(providerId, alertId, attempt, false, d.now()).catch(() => undefined);
    m.nak(5000);
    return;
  }
  const failure =
    err instanceof ProviderError ? { retryable: err.retryable, retryAfterMs: err.retryAfterMs } : { retryable: false, retryAfterMs: null };
  const decision = retryDecision(failure, attempt, d.retry, d.now(), d.random());
  const permanent = decision.kind === 'give-up';
  if (err instanceof ProviderError && (err.httpStatus === 401 || err.httpStatus === 403 || err instanceof SecretMissing))
    d.providers.markHealth(providerId, false);
  await d.records.failed(providerId, alertId, attempt, permanent, d.now());
  await appendTicketEvent(
    d,
    'TicketSyncFailed',
    {
      alertId,
      serviceId,
      providerId,
      ticketKey: null,
      operation: 'create',
      error: errorText(err),
      httpStatus: err instanceof ProviderError ? err.httpStatus : null,
      attempt,
      permanent,
      retryAt: decision.kind === 'retry' ? decision.retryAt : null,
    },
    { partition, idKey: `ticket-failed:${alertId}:${providerId}:create:${attempt}`, causationId: event.id, trace: hop.headers },
  );
  if (decision.kind === 'retry') {
    log.warn({ err: err.message, attempt, retryInMs: decision.delayMs }, 'creating a ticket failed; trying again later');
    m.nak(decision.delayMs);
  } else {
    log.error({ err: err.message, attempt, why: decision.why }, 'creating a ticket failed for good');
    m.ack();
  }
}
