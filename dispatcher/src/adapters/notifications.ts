import type { JsMsg } from '@nats-io/jetstream';
import { CONSUMERS, decodeEvent, partitionOfSubject, STREAMS } from '@oncall/contracts';
import { hopFrom, inHop, traceOf, tracingOn, type Logger, type Parkable, type Parking, type TraceHeaders } from '@oncall/shared';
import { retryDelay } from '../domain/limits.js';
import { planDeliveries } from '../domain/plan.js';
import { deliveriesTotal } from '../metrics.js';
import { newAttempt, retryAfter, type DeliveryAttempt, type Next, type Outcome } from '../pipeline/index.js';
import { isTransient, parkReason } from './failures.js';

/** An incident's first alert and how many alerts the incident holds now (IncidentUpdated, docs/noc.md). */
export type IncidentListener = (partition: number, alertId: string, alerts: number) => void;

export type NotificationHandler = Readonly<{
  /** Handles one message of the dispatcher's consumer: acked, handed back for a retry, or parked. Never throws. */
  handle: (m: JsMsg) => Promise<void>;
  /** Runs a parked message through the pipeline again (`oncall parked retry`); throws when it is not delivered. */
  retryParked: (msg: Parkable) => Promise<void>;
}>;

/**
 * From an escalations message to its deliveries: the NotificationRequested it carries (other
 * events are not the dispatcher's), the deliveries it plans, each run through the pipeline.
 */
export function notificationHandler(deps: {
  run: Next;
  parking: Parking;
  log: Logger;
  options: { retryBaseMs: number; retryMaxMs: number };
  onIncident?: IncidentListener | undefined;
}): NotificationHandler {
  const { run, log } = deps;

  const deliver = async (
    data: Uint8Array,
    subject: string,
    delivery: number,
    mayExpire: boolean,
    trace: TraceHeaders | undefined,
  ): Promise<Outcome[]> => {
    const event = decodeEvent(data, { trusted: true });
    if (event.type === 'IncidentUpdated') deps.onIncident?.(partitionOfSubject(subject), event.data.alertId, event.data.alerts);
    if (event.type !== 'NotificationRequested') return [];
    const { data: n, occurredAt } = event;
    const plan = planDeliveries(n);
    if (plan.length === 0) {
      deliveriesTotal.inc({ channel: 'none', outcome: 'failed', reason: 'no_contact_method' });
      log.warn(
        { alertId: n.alertId, notificationId: n.notificationId, recipient: n.recipient },
        'recipient has no contact method; nothing sent',
      );
      return [];
    }
    const partition = partitionOfSubject(subject);
    const requestedAt = Date.parse(occurredAt);
    return Promise.all(
      plan.map((d) => {
        const attempt = newAttempt({ notification: n, delivery: d, partition, try: { delivery, base: 1 }, requestedAt, mayExpire });
        return tracingOn() ? traced(attempt, trace) : run(attempt);
      }),
    );
  };

  /**
   * One `dispatch <channel>` span per delivery (and per try: a redelivered message makes another),
   * a child of the NotificationRequested message's context; the delivery's outcome event carries it.
   */
  const traced = async (a: DeliveryAttempt, trace: TraceHeaders | undefined): Promise<Outcome> => {
    const hop = hopFrom(`dispatch ${a.delivery.channel}`, trace, {
      'oncall.service': 'dispatcher',
      'oncall.alert_id': a.notification.alertId,
      'oncall.notification_id': a.notification.notificationId,
      'oncall.channel': a.delivery.channel,
      'oncall.attempt': a.try.delivery,
    });
    return inHop(
      hop,
      () => run({ ...a, trace: hop.headers }),
      (outcome) => hop.set('oncall.outcome', outcome.kind),
    );
  };

  const backoff = (m: JsMsg) =>
    retryDelay(m.info.deliveryCount, Math.random(), {
      baseMs: deps.options.retryBaseMs,
      maxMs: deps.options.retryMaxMs,
      retryAfterMs: null,
    });

  const failed = async (m: JsMsg, err: unknown): Promise<void> => {
    if (isTransient(err)) {
      const inMs = backoff(m);
      log.warn({ err, seq: m.seq, retryInMs: inMs }, 'notification handling failed for a reason that passes; it will be redelivered');
      m.nak(inMs);
      return;
    }
    const reason = parkReason(err);
    try {
      await deps.parking.park(
        CONSUMERS.dispatcher,
        { stream: STREAMS.escalations, seq: m.seq, subject: m.subject, data: m.data },
        reason,
        err,
      );
      // No reason text: nats-server 2.9 takes only a bare +TERM (and would redeliver the message).
      m.term();
    } catch (parkErr) {
      log.error({ err: parkErr, seq: m.seq }, 'could not park a message; it will be redelivered');
      m.nak(backoff(m));
    }
  };

  return {
    handle: async (m) => {
      let outcomes: Outcome[];
      try {
        outcomes = await deliver(m.data, m.subject, m.info.deliveryCount, m.info.deliveryCount === 1, traceOf(m));
      } catch (err) {
        await failed(m, err);
        return;
      }
      const retryInMs = retryAfter(outcomes);
      if (retryInMs === null) m.ack();
      else m.nak(retryInMs);
    },
    retryParked: async (msg) => {
      // A retry by hand is a deliberate act: an old page is sent, not expired.
      const outcomes = await deliver(msg.data, msg.subject, 1, false, undefined);
      if (retryAfter(outcomes) !== null)
        throw new Error(
          'not delivered yet: a provider failed for a reason that passes, or another process holds the delivery; ask again later',
        );
    },
  };
}
