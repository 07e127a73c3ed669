import type { JsMsg } from '@nats-io/jetstream';
import { CONSUMERS, decodeEvent, STREAMS, type AlertEvent } from '@oncall/contracts';
import { errorText, hopFromMessage, NO_HOP, tracingOn, type Hop } from '@oncall/shared';
import { retryDecision, syncActionFor, type AlertMove, type SyncAction } from '../domain/rules.js';
import { ProviderError } from '../providers/types.js';
import { handBackDelay, rateLimitPause, timed } from './creator.js';
import { appendTicketEvent, type Deps } from './deps.js';
import { queueDeferred } from './metrics.js';
import type { Configured, Unusable } from './providers.js';
import type { Created } from './records.js';

export const ALERTS_CONSUMER = CONSUMERS.ticketBridgeAlerts;

const DEFER_MS = 1000;

const MOVES = new Set(['AlertAcknowledged', 'AlertResolved', 'AlertUnacknowledged']);
const TYPE_AT_START = /^\{"type":"([A-Za-z]+)"/;

/**
 * Whether a message may be an event the sync acts on, from its first bytes: the bridge reads the
 * whole ALERTS stream and most of it (triggers, updates, repeats) concerns no ticket, so those are
 * not parsed. Events are written with `type` as their first key; a message that does not start so
 * is parsed.
 */
export function mayMove(data: Uint8Array): boolean {
  const head = TYPE_AT_START.exec(Buffer.from(data.buffer, data.byteOffset, Math.min(data.length, 48)).toString('latin1'));
  return head === null || MOVES.has(head[1]!);
}

const moveOf = (e: AlertEvent): AlertMove | null => {
  switch (e.type) {
    case 'AlertAcknowledged':
    case 'AlertResolved':
      return { type: e.type, via: e.data.via ?? (e.data.by === 'source' ? 'source' : null), userId: e.data.userId, note: e.data.note };
    case 'AlertUnacknowledged':
      return { type: e.type, via: e.data.via ?? null, userId: e.data.userId, note: e.data.reason };
    default:
      return null;
  }
};

/**
 * Alert lifecycle events (`alerts.>`) → the alert's tickets follow: acknowledged, resolved,
 * reopened (AlertUnacknowledged: an ack timeout, a snooze's end or a person) move the ticket as
 * `sync` says (TicketUpdated). Alerts without tickets are known from memory (no round trip). An
 * event applied to a ticket is remembered on its record, so a redelivery changes nothing twice; a
 * failed update is retried like a create (TicketSyncFailed, nak with a delay); a 429 pauses the
 * provider's lane and the event comes back after it, with no TicketSyncFailed.
 */
export async function handleAlertEvent(
  d: Deps,
  m: JsMsg,
  ordered: (alertId: string, fn: () => Promise<void>) => Promise<void>,
): Promise<void> {
  if (!mayMove(m.data)) {
    m.ack();
    return;
  }
  let event: AlertEvent;
  try {
    event = decodeEvent(m.data, { trusted: true }) as AlertEvent;
  } catch (err) {
    await d.parking.park(ALERTS_CONSUMER, { stream: STREAMS.alerts, seq: m.seq, subject: m.subject, data: m.data }, 'undecodable', err);
    m.ack();
    return;
  }
  const move = moveOf(event);
  const providers = move === null ? [] : d.records.providersOf(event.data.alertId);
  if (move === null || providers.length === 0) {
    m.ack();
    return;
  }
  await ordered(event.data.alertId, async () => {
    let later: number | null = null;
    for (const providerId of providers) {
      const wait = await syncOne(d, m, event, move, providerId);
      if (wait !== null) later = Math.max(later ?? 0, wait);
    }
    if (later === null) m.ack();
    else m.nak(later);
  });
}

/** Applies the event to the alert's ticket at one provider; returns a delay when it must be tried again, else null. */
async function syncOne(d: Deps, m: JsMsg, event: AlertEvent, move: AlertMove, providerId: string): Promise<number | null> {
  const { alertId } = event.data;
  const got = await d.records.get(providerId, alertId);
  if (!got || got.record.state === 'failed') return null;
  if (got.record.state === 'claimed') {
    // Being created right now: the event is applied once the ticket exists.
    queueDeferred.inc({ provider: providerId, why: 'ticket-being-created' });
    return DEFER_MS;
  }
  const record = got.record;
  if (record.applied.includes(event.id)) return null;
  const c = d.providers.get(providerId);
  if (c === undefined) return null;
  const sync = d.config.state().ticketProviders.get(providerId)?.sync;
  const action = sync === undefined ? null : syncActionFor(move, sync);
  if (action === null) return null;
  // A `ticket <provider>` span for the update, a child of the alert event's message (the decision
  // to acknowledge or resolve); the events it appends carry it. Off: a constant.
  const hop = tracingOn()
    ? hopFromMessage(`ticket ${providerId}`, m, {
        'oncall.service': 'ticket-bridge',
        'oncall.alert_id': alertId,
        'oncall.provider': providerId,
        'oncall.operation': 'update',
        'oncall.ticket_key': record.ticket.key,
      })
    : NO_HOP;
  try {
    const wait = await update(d, m, event, providerId, record, c, action, hop);
    hop.end();
    return wait;
  } catch (err) {
    hop.fail(err);
    throw err;
  }
}

async function update(
  d: Deps,
  m: JsMsg,
  event: AlertEvent,
  providerId: string,
  record: Created,
  c: Configured | Unusable,
  action: SyncAction,
  hop: Hop,
): Promise<number | null> {
  const { alertId, serviceId } = event.data;
  const log = d.log.child({ alertId, providerId, ticketKey: record.ticket.key });
  const partition = Number(m.subject.split('.')[1]);
  try {
    if ('error' in c) throw new ProviderError(c.error, c.retryable);
    // A full or paused lane holds the update in hand (within d.holding.updates), else it is handed back.
    const run = d.lanes.run(
      providerId,
      d.holding.updates,
      async () => {
        if (action.state !== null) await d.records.setting(providerId, alertId, action.state, d.now());
        await timed(providerId, 'update', () =>
          c.provider.update(c.ctx, record.ticket, { kind: action.kind, transition: action.transition, comment: action.comment }),
        );
        return true;
      },
      () => false,
    );
    if (run === null) return handBackDelay(d, providerId);
    if (!(await run)) {
      queueDeferred.inc({ provider: providerId, why: 'stopping' });
      return 0;
    }
    await d.records.applied(providerId, alertId, event.id, action.state, d.now());
    await appendTicketEvent(
      d,
      'TicketUpdated',
      { alertId, serviceId, providerId, ticketKey: record.ticket.key, change: action.kind, state: action.state, cause: event.id },
      { partition, idKey: `ticket-updated:${event.id}:${providerId}`, causationId: event.id, trace: hop.headers },
    );
    log.info({ change: action.kind }, 'ticket updated');
    return null;
  } catch (err) {
    if (!(err instanceof ProviderError)) throw err;
    const paused = rateLimitPause(d, providerId, 'update', err);
    if (paused !== null) return paused;
    // Attempts are the calls that failed, not deliveries: a full or paused lane hands the message back without a call.
    const attempt = await d.records.updateFailed(providerId, alertId, event.id);
    const decision = retryDecision({ retryable: err.retryable, retryAfterMs: err.retryAfterMs }, attempt, d.retry, d.now(), d.random());
    hop.set('oncall.error', errorText(err));
    await appendTicketEvent(
      d,
      'TicketSyncFailed',
      {
        alertId,
        serviceId,
        providerId,
        ticketKey: record.ticket.key,
        operation: 'update',
        error: errorText(err),
        httpStatus: err.httpStatus,
        attempt,
        permanent: decision.kind === 'give-up',
        retryAt: decision.kind === 'retry' ? decision.retryAt : null,
      },
      { partition, idKey: `ticket-failed:${event.id}:${providerId}:update:${attempt}`, causationId: event.id, trace: hop.headers },
    );
    if (decision.kind === 'retry') {
      log.warn({ err: err.message, attempt, retryInMs: decision.delayMs }, 'updating a ticket failed; trying again later');
      return decision.delayMs;
    }
    // Given up: remembered as applied, so a redelivery (another provider's retry) does not try it again.
    await d.records.applied(providerId, alertId, event.id, null, d.now());
    log.error({ err: err.message, attempt, why: decision.why }, 'updating a ticket failed for good');
    return null;
  }
}

/** Runs work of one alert in order within this process (an acknowledgement before the resolve that follows it). */
export function perAlertOrder(): (alertId: string, fn: () => Promise<void>) => Promise<void> {
  const tails = new Map<string, Promise<void>>();
  return (alertId, fn) => {
    const run = (tails.get(alertId) ?? Promise.resolve()).then(fn);
    const tail = run.catch(() => undefined);
    tails.set(alertId, tail);
    void tail.then(() => {
      if (tails.get(alertId) === tail) tails.delete(alertId);
    });
    return run;
  };
}
