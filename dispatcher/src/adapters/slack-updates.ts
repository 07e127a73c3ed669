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
import { slackStatusMessage } from '../render/channels/slack-status.js';

const updates = new Counter({
  name: 'oncall_dispatcher_slack_updates_total',
  help: 'Slack messages edited to show an alert’s state, by outcome (updated, gone = the message cannot be edited any more, retry)',
  labelNames: ['outcome'],
  registers: [registry],
});

/** The latest AlertRouted among an alert's escalation events; null before it is routed. */
function lastRouted(events: readonly DomainEvent[]): EventData<'AlertRouted'> | null {
  for (let i = events.length - 1; i >= 0; i--) {
    const e = events[i]!;
    if (e.type === 'AlertRouted') return e.data;
  }
  return null;
}

/** Lifecycle events that change what an alert's Slack message shows. */
const CHANGES = new Set(['AlertAcknowledged', 'AlertResolved', 'AlertSnoozed', 'AlertEscalated', 'AlertUnacknowledged']);
const IN_HAND = 32;
const RETRY_DELAY_MS = 2000;

export type SlackUpdatesDeps = Readonly<{
  nc: NatsConnection;
  editor: SlackMessageEditor;
  config: ConfigView;
  /** For names in "Acknowledged by …"; null: user ids. */
  users: UserDirectory | null;
  publicUrl: string | null;
  log: Logger;
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

/**
 * Keeps every Slack message sent for an alert showing where it stands: after each lifecycle change
 * (whatever the surface: Slack, SMS, gRPC, the source) and after a Slack delivery of an alert
 * that has already changed, the alert's history and its Slack deliveries are read from the log
 * and each message is edited to the state they give. Built from the log each time, an edit is
 * idempotent: a redelivery or a restart edits to the same or a later state, never an older one.
 * Two durable consumers start at new messages (a first start does not edit history).
 */
export async function runSlackUpdates(deps: SlackUpdatesDeps, stop: AbortSignal): Promise<void> {
  const jsm = await jetstreamManager(deps.nc);
  const js = jetstream(deps.nc);
  const log = deps.log.child({ stage: 'slack-updates', channel: 'slack' });

  /** The subject's events now, and the sequence of the last one. */
  const read = async (stream: string, subject: string): Promise<{ events: DomainEvent[]; last: number }> => {
    const events: DomainEvent[] = [];
    const last = await readExisting(deps.nc, js, stream, subject, (e) => events.push(e));
    return { events, last };
  };

  const lastEventType = async (subject: string): Promise<string | null> => {
    const last = await jsm.streams.getMessage(STREAMS.alerts, { last_by_subj: subject });
    return last === null ? null : decodeEvent(last.data, { trusted: true }).type;
  };
  const lastSeq = async (subject: string): Promise<number> =>
    (await jsm.streams.getMessage(STREAMS.alerts, { last_by_subj: subject }))?.seq ?? 0;

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

  /** Edits the alert's Slack messages to its state now; `onlyIfChanged`: skip a still untouched alert. */
  const refresh = async (partition: number, alertId: string, onlyIfChanged: boolean): Promise<void> => {
    // A page delivered for an alert nobody touched (most of a storm): one direct get says so.
    if (onlyIfChanged && (await lastEventType(subjects.alert(partition, alertId))) === 'AlertTriggered') return;
    const subject = subjects.alert(partition, alertId);
    // Another replica may land an older edit after a newer one: when the log moved on while
    // editing, edit again from it (a few rounds; every later change also brings its own refresh).
    for (let round = 0; round < 3; round++) {
      const history = await read(STREAMS.alerts, subject);
      const view = foldAlert(history.events as AlertEvent[]);
      if (view === null || (onlyIfChanged && view.lastChange === null && view.status === 'triggered')) return;
      const messages = slackMessagesOf((await read(STREAMS.deliveries, subjects.delivery(partition, alertId))).events);
      if (messages.length === 0) return;
      // The severity pages showed: the latest route's (docs/routing.md, "Effective severity").
      const routed = lastRouted((await read(STREAMS.escalations, subjects.escalation(partition, alertId))).events);
      const severity = effectiveSeverity(view.severity as Severity, routed, routed?.alert.severity);
      await edit(alertId, { ...view, severity }, messages, view.severity);
      if ((await lastSeq(subject)) <= history.last) return;
    }
  };

  const edit = async (
    alertId: string,
    view: AlertView,
    messages: ReadonlyArray<{ channel: string; ts: string }>,
    sourceSeverity: string,
  ): Promise<void> => {
    const service = deps.config.state().services.get(view.serviceId)?.name ?? view.serviceId;
    const message = slackStatusMessage(view, service, await names(view), deps.publicUrl, sourceSeverity);
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

  // One refresh at a time per alert in this process: two edits racing could end on the older state.
  const chains = new Map<string, Promise<void>>();
  const serially = (alertId: string, work: () => Promise<void>): Promise<void> => {
    const next = (chains.get(alertId) ?? Promise.resolve()).catch(() => undefined).then(work);
    chains.set(alertId, next);
    const forget = () => {
      if (chains.get(alertId) === next) chains.delete(alertId);
    };
    next.then(forget, forget);
    return next;
  };

  const follow = async (stream: string, consumer: string, filter: string, pick: (e: DomainEvent) => boolean, onlyIfChanged: boolean) => {
    await superviseLoop({ name: consumer, log, stop }, async () => {
      await ensureConsumer(jsm, stream, {
        ...durableConsumer(consumer, filter, IN_HAND),
        deliver_policy: DeliverPolicy.New,
        durable_name: consumer,
      });
      const messages = await (await js.consumers.get(stream, consumer)).consume(consumeOptions(IN_HAND));
      const close = () => void messages.close();
      stop.addEventListener('abort', close, { once: true });
      if (stop.aborted) close();
      const running = new Set<Promise<void>>();
      const handle = async (m: JsMsg): Promise<void> => {
        const [, p, alertId] = m.subject.split('.');
        try {
          const event = decodeEvent(m.data, { trusted: true });
          if (pick(event) && p !== undefined && alertId !== undefined)
            await serially(alertId, () => refresh(Number(p), alertId, onlyIfChanged));
          m.ack();
        } catch (err) {
          log.warn({ err, subject: m.subject }, 'Slack message update failed; trying again');
          m.nak(RETRY_DELAY_MS);
        }
      };
      try {
        for await (const m of messages) {
          while (running.size >= IN_HAND) await Promise.race(running);
          const work: Promise<void> = handle(m).finally(() => running.delete(work));
          running.add(work);
        }
      } finally {
        stop.removeEventListener('abort', close);
        await Promise.allSettled([...running]);
      }
    });
  };

  await Promise.all([
    follow(STREAMS.alerts, CONSUMERS.slackUpdatesAlerts, subjects.alertsAll, (e) => CHANGES.has(e.type), false),
    follow(
      STREAMS.deliveries,
      CONSUMERS.slackUpdatesDeliveries,
      subjects.deliveriesAll,
      (e) => e.type === 'NotificationDelivered' && (e.data as { channel: string }).channel === 'slack',
      true,
    ),
  ]);
}
