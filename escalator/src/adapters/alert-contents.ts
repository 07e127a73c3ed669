import { jetstreamManager, type JetStreamManager } from '@nats-io/jetstream';
import type { NatsConnection } from '@nats-io/transport-node';
import { decodeEvent, STREAMS } from '@oncall/contracts';
import { backoffMs, type Logger } from '@oncall/shared';
import type { AlertContent } from '../domain/escalation.js';

const RETRY = { baseMs: 500, maxMs: 5000 };

/** Where an alert's content is: the ALERTS event (AlertTriggered or AlertUpdated) at `seq`. */
export type ContentWanted = Readonly<{ alertId: string; seq: number; severity: AlertContent['severity'] }>;

/**
 * Reads alerts' content back from the log for escalations that dropped it while they waited
 * (docs/performance.md, "Escalator memory"): one direct get per alert, all of a batch at once.
 * A read that fails is retried with back-off until the server answers: decisions wait, nothing
 * is skipped. An event that is not there (the stream lost it) or not the alert's content event
 * gives a stand-in content that says so, with a warning: the page still goes out.
 */
export class AlertContents {
  private jsm: Promise<JetStreamManager> | null = null;

  constructor(
    private readonly nc: NatsConnection,
    private readonly log: Logger,
  ) {}

  /** The content of each alert wanted, by alert id; null when `cancelled()` said to give up between attempts. */
  async read(wanted: readonly ContentWanted[], cancelled: () => boolean): Promise<Map<string, AlertContent> | null> {
    for (let attempt = 1; !cancelled(); attempt++) {
      try {
        this.jsm ??= jetstreamManager(this.nc);
        const jsm = await this.jsm;
        const found = await Promise.all(wanted.map((w) => jsm.direct.getMessage(STREAMS.alerts, { seq: w.seq })));
        const out = new Map<string, AlertContent>();
        wanted.forEach((w, i) => out.set(w.alertId, this.contentOf(w, found[i]?.data)));
        return out;
      } catch (err) {
        this.jsm = null;
        const retryInMs = backoffMs(attempt, Math.random(), RETRY);
        this.log.warn(
          { err, alerts: wanted.length, retryInMs },
          'reading alert content from the log failed; decisions wait and it is retried',
        );
        await new Promise((resolve) => setTimeout(resolve, retryInMs).unref());
      }
    }
    return null;
  }

  private contentOf(w: ContentWanted, data: Uint8Array | undefined): AlertContent {
    let why: string;
    try {
      const event = data ? decodeEvent(data, { trusted: true }) : null;
      if ((event?.type === 'AlertTriggered' || event?.type === 'AlertUpdated') && event.data.alertId === w.alertId) return event.data;
      why = event ? `${event.type} of another alert` : 'no such event';
    } catch (err) {
      why = `undecodable: ${err instanceof Error ? err.message : String(err)}`;
    }
    this.log.warn(
      { alertId: w.alertId, seq: w.seq, why },
      'alert content not in the log where its escalation says; paging with a stand-in',
    );
    return {
      summary: `(alert ${w.alertId}: its content is not in the log at ALERTS ${w.seq})`,
      details: '',
      severity: w.severity,
      labels: {},
      annotations: {},
      links: [],
    };
  }
}
