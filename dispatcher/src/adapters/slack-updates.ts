import { DeliverPolicy, jetstream, jetstreamManager, type JsMsg } from '@nats-io/jetstream';
import type { NatsConnection } from '@nats-io/transport-node';
import {
  CONSUMERS,
  decodeEvent,
  durableConsumer,
  STREAMS,
  subjects,
  type AlertEvent,
  type DomainEvent,
  type EventData,
  type Severity,
} from '@oncall/contracts';
import {
  effectiveSeverity,
  foldAlert,
  type AlertView,
  closeOnAbort,
  consumeOptions,
  ensureConsumer,
  readExisting,
  registry,
  superviseLoop,
  type ConfigView,
  type Logger,
  type UserDirectory,
} from '@oncall/shared';
import { Counter } from 'prom-client';

import { SlackUpdateError, type SlackMessageEditor } from '../notifiers/slack-update.js';
import { slackStatusMessage } from '@oncall/shared/render';
import type { IncidentListener } from './notifications.js';

const updates = new Counter({
  name: 'oncall_dispatcher_slack_updates_total',
  help: 'Slack messages edited to show an alert’s state, by outcome (updated, gone = the message cannot be edited any more, retry)',
  labelNames: ['outcome'],
  registers: [registry],
});

/** Lifecycle events that change what an alert's Slack message shows. */
const CHANGES = new Set(['AlertAcknowledged', 'AlertResolved', 'AlertSnoozed', 'AlertEscalated', 'AlertUnacknowledged']);
/**
 * Messages delivered and not yet acknowledged: a change is acknowledged once its edit is made, so
 * this bounds the edits in progress (32 capped a storm of presses at 32 edits per Slack round
 * trip). As many as the editor's HTTP pool has sockets (slack-update.ts): no edit's timeout runs
 * while it waits for a socket.
 */
const MAX_ACK_PENDING = 128;
const PULL_BATCH = 64;
const RETRY_DELAY_MS = 2000;

export type SlackUpdatesDeps = Readonly<{
  nc: NatsConnection;
  editor: SlackMessageEditor;
  config: ConfigView;
  /** For names in "Acknowledged by …"; null: user ids. */
  users: UserDirectory | null;
  publicUrl: string | null;
  log: Logger;
  /** Where the dispatcher's consumer tells of IncidentUpdated events (it reads ESCALATIONS already). */
  incidents?: { listen: (listener: IncidentListener) => void };
}>;

/** `<channel>/<ts>` of every Slack message delivered for the alert. */
export function slackMessagesOf(deliveries: readonly DomainEvent[]): Array<{ channel: string; ts: string }> {
  const seen = new Set<string>();
  const out: Array<{ channel: string; ts: string }> = [];
  for (const e of deliveries) {
    if (e.type !== 'NotificationDelivered') continue;
    const d = e.data as { channel: string; providerMessageId: string | null };
    if (d.channel !== 'slack' || d.providerMessageId === null || seen.has(d.providerMessageId)) continue;
    const slash = d.providerMessageId.indexOf('/');
    if (slash <= 0) continue;
    seen.add(d.providerMessageId);
    out.push({ channel: d.providerMessageId.slice(0, slash), ts: d.providerMessageId.slice(slash + 1) });
  }
  return out;
}

/** An alert as this process knows it: its view, exact at an ALERTS sequence, and its Slack messages. */
type Known = {
  partition: number;
  alertId: string;
  /** foldAlert of the alert's subject up to `seq` (null with seq 0: not read yet). */
  view: AlertView | null;
  /** The ALERTS sequence `view` is exact at: every event of the subject up to it is folded. */
  seq: number;
  /** The highest ALERTS sequence of this alert the consumer delivered. */
  seen: number;
  /** Alerts of the incident it opened, as its latest IncidentUpdated says (0: none). */
  incidentAlerts: number;
  /** The AlertRouted that routed it (undefined: not read yet). */
  routed?: EventData<'AlertRouted'> | null;
  /** The alert's Slack messages, read from its deliveries subject up to `deliveriesSeq`. */
  messages: Array<{ channel: string; ts: string }>;
  deliveriesSeq: number;
  /** The edit in progress; `again`: something changed meanwhile, edit once more after it. */
  running: Promise<void> | null;
  again: boolean;
  /** Messages acknowledged once an edit made after they arrived succeeds (nak'd if it fails). */
  waiting: JsMsg[];
};

/** Alerts kept in memory; beyond, the least recently added idle ones are forgotten (read again from the log if they change). */
const MAX_KNOWN = 10_000;

/**
 * Keeps every Slack message sent for an alert showing where it stands: after each lifecycle change
 * (whatever the surface: Slack, SMS, gRPC, the source) and after a Slack delivery of an alert
 * that has already changed, each message is edited to the state the log gives.
 *
 * The process keeps a small view of each alert it has seen (shared foldAlert), exact at an ALERTS
 * sequence: an AlertTriggered is the first event of its subject, so its view is exact at once;
 * before an edit, the events after that sequence are read from the subject with direct gets (one
 * per event, usually one), and so are the alert's Slack deliveries after the last one read. An
 * alert not in memory (a restart, a change seen first by another replica, an evicted one) is read
 * from its subject in full. The log stays the truth, so an edit is idempotent: a redelivery, a
 * restart, replicas sharing the consumers all end at the latest state. Changes of one alert that
 * arrive while it is being edited are folded into one more edit (coalesced), and after each edit
 * one direct get checks whether the subject moved on meanwhile (another replica's change), editing
 * again if so (a few rounds). Two durable consumers start at new messages (a first start does not
 * edit history).
 */
export async function runSlackUpdates(deps: SlackUpdatesDeps, stop: AbortSignal): Promise<void> {
  const jsm = await jetstreamManager(deps.nc);
  const js = jetstream(deps.nc);
  const log = deps.log.child({ stage: 'slack-updates', channel: 'slack' });
  const known = new Map<string, Known>();

  const names = async (view: AlertView): Promise<(id: string) => string> => {
    const id = view.lastChange?.userId;
    if (!id || deps.users === null) return (x) => x;
    try {
      const { users } = await deps.users.getUsers([id]);
      return (x) => users.get(x)?.name ?? x;
    } catch (err) {
      log.warn({ err, userId: id }, 'user name not available; showing the id');
      return (x) => x;
    }
  };

  /** The first message of `subject` at or after `from`, by direct get; null when there is none. */
  const next = async (stream: string, subject: string, from: number): Promise<{ seq: number; event: DomainEvent } | null> => {
    const m = await jsm.direct.getMessage(stream, { seq: from, next_by_subj: subject });
    return m === null ? null : { seq: m.seq, event: decodeEvent(m.data, { trusted: true }) };
  };

  const entry = (partition: number, alertId: string): Known => {
    let k = known.get(alertId);
    if (k === undefined) {
      k = {
        partition,
        alertId,
        view: null,
        seq: 0,
        seen: 0,
        messages: [],
        deliveriesSeq: 0,
        incidentAlerts: 0,
        running: null,
        again: false,
        waiting: [],
      };
      known.set(alertId, k);
      if (known.size > MAX_KNOWN) {
        for (const [id, old] of known) {
          if (known.size <= MAX_KNOWN) break;
          if (old.running === null && old !== k) known.delete(id);
        }
      }
    }
    return k;
  };

  /** Brings the view to the subject's present (at least to `seen`); `untilEnd`: read until no event follows. */
  const catchUp = async (k: Known, untilEnd: boolean): Promise<boolean> => {
    const subject = subjects.alert(k.partition, k.alertId);
    let moved = false;
    if (k.seq === 0) {
      const events: DomainEvent[] = [];
      const last = await readExisting(deps.nc, js, STREAMS.alerts, subject, (e) => events.push(e));
      k.view = foldAlert(events as AlertEvent[]);
      k.seq = last;
      moved = true;
    }
    while (untilEnd || k.seq < k.seen) {
      const m = await next(STREAMS.alerts, subject, k.seq + 1);
      if (m === null) break;
      k.view = foldAlert([m.event as AlertEvent], k.view);
      k.seq = m.seq;
      moved = true;
    }
    k.seen = Math.max(k.seen, k.seq);
    return moved;
  };

  const readMessages = async (k: Known): Promise<void> => {
    const subject = subjects.delivery(k.partition, k.alertId);
    for (;;) {
      const m = await next(STREAMS.deliveries, subject, k.deliveriesSeq + 1);
      if (m === null) return;
      k.deliveriesSeq = m.seq;
      for (const msg of slackMessagesOf([m.event]))
        if (!k.messages.some((x) => x.channel === msg.channel && x.ts === msg.ts)) k.messages.push(msg);
    }
  };

  /** The alert's route (its first escalation event), read once; null while it has none. */
  const routeOf = async (k: Known): Promise<EventData<'AlertRouted'> | null> => {
    if (k.routed === undefined) {
      const m = await next(STREAMS.escalations, subjects.escalation(k.partition, k.alertId), 1);
      if (m === null) return null;
      k.routed = m.event.type === 'AlertRouted' ? m.event.data : null;
    }
    return k.routed;
  };

  const changed = (view: AlertView | null): view is AlertView => view !== null && (view.lastChange !== null || view.status !== 'triggered');

  /** Edits the alert's Slack messages to its state now, if it has changed and has any. */
  const refresh = async (k: Known): Promise<void> => {
    const shows = (view: AlertView | null): view is AlertView => changed(view) || (view !== null && k.incidentAlerts > 1);
    // An edit is likely (a change came): its three reads at once, not one round trip after the
    // other (ack → message edited, bench:ack). All settle before a failure is thrown, so none
    // writes into the entry after the retry has reset it.
    const likely = k.seen > k.seq || shows(k.view);
    const reads = await Promise.allSettled(likely ? [catchUp(k, false), readMessages(k), routeOf(k)] : [catchUp(k, false)]);
    for (const r of reads) if (r.status === 'rejected') throw r.reason;
    if (!shows(k.view)) return;
    if (!likely) await readMessages(k);
    if (k.messages.length === 0) return;
    // Another replica may land an older edit after a newer one: when the log moved on while
    // editing, edit again from it (a few rounds; every later change also brings its own refresh).
    for (let round = 0; round < 3; round++) {
      // The severity pages showed: the route's (docs/routing.md, "Effective severity").
      const routed = await routeOf(k);
      const severity = effectiveSeverity(k.view.severity as Severity, routed, routed?.alert.severity);
      await edit(k.alertId, { ...k.view, severity }, k.messages, k.view.severity, k.incidentAlerts);
      if (!(await catchUp(k, true))) return;
    }
  };

  const edit = async (
    alertId: string,
    view: AlertView,
    messages: ReadonlyArray<{ channel: string; ts: string }>,
    sourceSeverity: string,
    incidentAlerts: number,
  ): Promise<void> => {
    const service = deps.config.state().services.get(view.serviceId)?.name ?? view.serviceId;
    const message = slackStatusMessage(view, service, await names(view), deps.publicUrl, sourceSeverity, incidentAlerts);
    for (const { channel, ts } of messages) {
      try {
        await deps.editor.update(channel, ts, message);
        updates.inc({ outcome: 'updated' });
        log.debug({ alertId, channel, ts, status: view.status }, 'Slack message updated');
      } catch (err) {
        if (!(err instanceof SlackUpdateError) || err.reason === 'retry') {
          updates.inc({ outcome: 'retry' });
          throw err;
        }
        updates.inc({ outcome: 'gone' });
        log.info({ alertId, channel, ts, code: err.providerCode }, 'Slack message cannot be edited; left as it is');
      }
    }
  };

  // One edit at a time per alert in this process (two racing could end on the older state);
  // whatever arrives meanwhile is covered by one more edit after it.
  const running = new Set<Promise<void>>();
  const schedule = (k: Known, m: JsMsg | null): void => {
    if (m !== null) k.waiting.push(m);
    if (k.running !== null) {
      k.again = true;
      return;
    }
    const work = (async () => {
      do {
        k.again = false;
        const covered = k.waiting.splice(0);
        try {
          await refresh(k);
          for (const c of covered) c.ack();
        } catch (err) {
          log.warn({ err, alertId: k.alertId }, 'Slack message update failed; trying again');
          // Forget what may be half read; the redelivery reads the alert again.
          k.seq = 0;
          k.view = null;
          k.deliveriesSeq = 0;
          k.messages = [];
          for (const c of covered) c.nak(RETRY_DELAY_MS);
        }
      } while (k.again && !stop.aborted);
      for (const c of k.waiting.splice(0)) c.nak();
      k.running = null;
      if (k.view?.status === 'resolved') known.delete(k.alertId);
    })();
    k.running = work;
    running.add(work);
    void work.finally(() => running.delete(work));
  };

  /** ALERTS: AlertTriggered starts a view; a change edits the alert's messages. */
  const onAlert = (m: JsMsg, p: number, alertId: string, event: DomainEvent): void => {
    if (event.type === 'AlertTriggered') {
      const k = entry(p, alertId);
      if (k.seq === 0) {
        k.view = foldAlert([event]);
        k.seq = m.seq;
      }
      k.seen = Math.max(k.seen, m.seq);
      m.ack();
      return;
    }
    if (!CHANGES.has(event.type)) {
      const k = known.get(alertId);
      if (k !== undefined) k.seen = Math.max(k.seen, m.seq);
      m.ack();
      return;
    }
    const k = entry(p, alertId);
    k.seen = Math.max(k.seen, m.seq);
    schedule(k, m);
  };

  /** DELIVERIES: a Slack page of an alert that has already changed is edited at once. */
  const onDelivery = async (m: JsMsg, p: number, alertId: string, event: DomainEvent): Promise<void> => {
    if (event.type !== 'NotificationDelivered' || (event.data as { channel: string }).channel !== 'slack') {
      m.ack();
      return;
    }
    let k = known.get(alertId);
    // A page delivered for an alert nobody touched (most of a storm): its view, or one direct get, says so.
    if (k === undefined || (!changed(k.view) && k.seen <= k.seq)) {
      const last = await jsm.direct.getMessage(STREAMS.alerts, { last_by_subj: subjects.alert(p, alertId) });
      if (last === null || last.seq === k?.seq || decodeEvent(last.data, { trusted: true }).type === 'AlertTriggered') {
        m.ack();
        return;
      }
      // The alert changed (maybe before this process's consumer has it): edit up to that change now.
      k = entry(p, alertId);
      k.seen = Math.max(k.seen, last.seq);
    }
    schedule(k, m);
  };

  /** More alerts joined the incident an alert's page stands for (IncidentUpdated, at most every few seconds per incident). */
  deps.incidents?.listen((p, alertId, alerts) => {
    const k = entry(p, alertId);
    if (alerts <= k.incidentAlerts) return;
    k.incidentAlerts = alerts;
    schedule(k, null);
  });

  const follow = async (
    stream: string,
    consumer: string,
    filter: string,
    on: (m: JsMsg, p: number, alertId: string, event: DomainEvent) => void | Promise<void>,
  ) => {
    await superviseLoop({ name: consumer, log, stop }, async () => {
      await ensureConsumer(jsm, stream, {
        ...durableConsumer(consumer, filter, MAX_ACK_PENDING),
        deliver_policy: DeliverPolicy.New,
        durable_name: consumer,
      });
      // A consumer made by an earlier version allowed fewer: raise it (max_ack_pending may be edited).
      const pending = (await jsm.consumers.info(stream, consumer)).config.max_ack_pending ?? MAX_ACK_PENDING;
      if (pending > 0 && pending < MAX_ACK_PENDING)
        await jsm.consumers
          .update(stream, consumer, { max_ack_pending: MAX_ACK_PENDING })
          .catch((err: unknown) =>
            log.warn({ err, consumer, pending }, 'could not raise the consumer’s max_ack_pending; editing with it as it is'),
          );
      const messages = await (await js.consumers.get(stream, consumer)).consume(consumeOptions(PULL_BATCH));
      const forget = closeOnAbort(messages, stop);
      try {
        for await (const m of messages) {
          const [, p, alertId] = m.subject.split('.');
          const failed = (err: unknown) => {
            log.warn({ err, subject: m.subject }, 'Slack message update failed; trying again');
            m.nak(RETRY_DELAY_MS);
          };
          try {
            if (p === undefined || alertId === undefined) m.ack();
            else {
              // Handled in arrival order; an asynchronous part (a direct get) runs beside the next messages.
              const work = on(m, Number(p), alertId, decodeEvent(m.data, { trusted: true }));
              if (work !== undefined) {
                const tracked: Promise<void> = work.catch(failed).finally(() => running.delete(tracked));
                running.add(tracked);
              }
            }
          } catch (err) {
            failed(err);
          }
        }
      } finally {
        forget();
        await Promise.allSettled([...running]);
      }
    });
  };

  await Promise.all([
    follow(STREAMS.alerts, CONSUMERS.slackUpdatesAlerts, subjects.alertsAll, onAlert),
    follow(STREAMS.deliveries, CONSUMERS.slackUpdatesDeliveries, subjects.deliveriesAll, onDelivery),
  ]);
}
