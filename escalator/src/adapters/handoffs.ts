import { jetstream, jetstreamManager } from '@nats-io/jetstream';
import type { NatsConnection } from '@nats-io/transport-node';
import { buildEvent, decodeEvent, encodeEvent, stableUuid, STREAMS, subjects, type AlertEvent, type EventData } from '@oncall/contracts';
import {
  nextChangeAfter,
  onCallAt,
  readExisting,
  shifts,
  withLogVerifications,
  type Clock,
  type ConfigView,
  type Logger,
  type UserDirectory,
} from '@oncall/shared';
import { handoffChannel, handoffText, nextHandoff, servicesOfSchedule, summarize, type Handoff } from '../domain/handoff.js';
import { chooseContacts } from '../domain/notification-rules.js';

const CHECK_EVERY_MS = 1000;
const MATH = { onCallAt, nextChangeAfter, shifts };
type Schedule = EventData<'ScheduleConfigured'>;

/**
 * Shift handoff summaries (one owner, under a lease, like the heartbeat watcher). Each schedule's
 * next handoff is a durable timer: it is computed from the schedule and the last summary stored
 * on `escalations.handoffs.<scheduleId>` (a summary's `at`), so a handoff passed while no
 * escalator ran is summarised late, once, after a restart (the event id and message id are
 * stable per schedule and instant). Watching a schedule for the first time starts at now.
 *
 * The summary is read from the ALERTS stream (every retained event: a handoff is rare; a
 * read-model query would scale better) and goes to the incoming and the outgoing people by
 * their preferred method (first notification rule, else e-mail).
 */
export class HandoffWatcher {
  /** Next handoff per schedule, with the schedule it was computed from (recomputed when it changes). */
  private readonly next = new Map<string, { schedule: Schedule; handoff: Handoff | null }>();

  constructor(
    private readonly deps: {
      nc: NatsConnection;
      config: ConfigView;
      users: UserDirectory;
      clock: Clock;
      log: Logger;
      /** Leave out unverified contact methods (as pages do). */
      requireVerified: boolean;
    },
  ) {}

  /** Checks now and then a second after each check began, until `lost` aborts; resolves once the last check is done. */
  async run(lost: AbortSignal): Promise<void> {
    let cancel = (): void => undefined;
    let running: Promise<void> = Promise.resolve();
    const check = () => {
      const startedAt = this.deps.clock.now();
      running = this.check()
        .catch((err: unknown) => this.deps.log.error({ err }, 'handoff check failed; tried again at the next check'))
        .then(() => {
          if (!lost.aborted) cancel = this.deps.clock.at(startedAt + CHECK_EVERY_MS, check);
        });
    };
    check();
    await new Promise<void>((resolve) => {
      if (lost.aborted) resolve();
      else lost.addEventListener('abort', () => resolve(), { once: true });
    });
    cancel();
    await running;
    cancel();
  }

  private async check(): Promise<void> {
    const now = this.deps.clock.now();
    const schedules = this.deps.config.state().schedules;
    for (const id of this.next.keys()) if (!schedules.has(id)) this.next.delete(id);
    for (const schedule of schedules.values()) {
      let entry = this.next.get(schedule.scheduleId);
      if (entry?.schedule !== schedule) {
        const last = await this.lastSummarised(schedule.scheduleId);
        entry = { schedule, handoff: nextHandoff(schedule, last ?? now, MATH) };
        this.next.set(schedule.scheduleId, entry);
      }
      while (entry.handoff && entry.handoff.at <= now) {
        await this.send(schedule, entry.handoff);
        entry.handoff = nextHandoff(schedule, entry.handoff.at, MATH);
      }
    }
  }

  /** The instant of the last summary stored for the schedule, or null. */
  private async lastSummarised(scheduleId: string): Promise<number | null> {
    const jsm = await jetstreamManager(this.deps.nc);
    const m = await jsm.streams.getMessage(STREAMS.escalations, { last_by_subj: subjects.handoff(scheduleId) });
    if (!m) return null;
    const e = decodeEvent(m.data);
    return e.type === 'HandoffSummaryRequested' ? Date.parse(e.data.at) : null;
  }

  private async send(schedule: Schedule, handoff: Handoff): Promise<void> {
    const cfg = this.deps.config.state();
    const services = servicesOfSchedule(cfg, schedule.scheduleId);
    const events: AlertEvent[] = [];
    if (services.length > 0)
      await readExisting(this.deps.nc, jetstream(this.deps.nc), STREAMS.alerts, subjects.alertsAll, (e) => {
        if (e.type.startsWith('Alert') && 'serviceId' in e.data) events.push(e as AlertEvent);
      });
    const summary = summarize(events, services, handoff);
    const people = [
      ...handoff.incoming.map((userId) => ({ userId, role: 'incoming' as const })),
      ...handoff.outgoing.map((userId) => ({ userId, role: 'outgoing' as const })),
    ];
    const found = await this.deps.users.getUsers(people.map((p) => p.userId));
    const recipients = people.map((p) => {
      const channel = handoffChannel(cfg.notificationRules.get(p.userId)?.rules);
      return {
        ...p,
        channel,
        contacts: chooseContacts(
          withLogVerifications(cfg.verifiedContacts, p.userId, found.users.get(p.userId)?.contacts ?? []),
          [channel],
          this.deps.requireVerified,
        ).contacts,
      };
    });
    const at = new Date(handoff.at).toISOString();
    const data: EventData<'HandoffSummaryRequested'> = {
      scheduleId: schedule.scheduleId,
      scheduleName: schedule.name,
      at,
      shiftStart: new Date(handoff.shiftStart).toISOString(),
      outgoing: [...handoff.outgoing],
      incoming: [...handoff.incoming],
      services,
      recipients,
      open: [...summary.open],
      fired: [...summary.fired],
      acked: [...summary.acked],
      text: {
        incoming: handoffText(schedule, handoff, summary, 'incoming'),
        outgoing: handoffText(schedule, handoff, summary, 'outgoing'),
      },
    };
    const msgID = `handoff:${schedule.scheduleId}:${at}`;
    const event = buildEvent('HandoffSummaryRequested', data, {
      id: stableUuid(msgID),
      occurredAt: new Date(this.deps.clock.now()).toISOString(),
      causationId: null,
      correlationId: msgID,
    });
    await jetstream(this.deps.nc).publish(subjects.handoff(schedule.scheduleId), encodeEvent(event), { msgID });
    this.deps.log.info(
      { schedule: schedule.scheduleId, at, incoming: handoff.incoming, outgoing: handoff.outgoing, open: summary.open.length },
      'handoff summary requested',
    );
  }
}
