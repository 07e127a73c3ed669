import type { AlertEvent, DeliveryEvent, DeliveryStatusEvent, EscalationEvent, Recipient, TicketEvent } from '@oncall/contracts';
import { describeTicket } from './ticket-timeline.js';

/** ` via slack`, or nothing for the API and older events. */
const via = (surface: string | undefined): string => (surface && surface !== 'api' && surface !== 'system' ? ` via ${surface}` : '');

/** Who did it and what happened, in words, for the alert timeline. Pure. */
export function describe(event: AlertEvent): { actor: string; message: string } {
  switch (event.type) {
    case 'AlertTriggered':
      return { actor: `source:${event.data.source}`, message: `triggered: ${event.data.summary}` };
    case 'AlertUpdated':
      return { actor: 'source', message: `updated ${event.data.changed.join(', ')}` };
    case 'AlertRepeated':
      return {
        actor: 'source',
        message: `repeated (${event.data.repeatCount} ${event.data.repeatCount === 1 ? 'repeat' : 'repeats'} so far)`,
      };
    case 'AlertAcknowledged':
      return event.data.by === 'user'
        ? { actor: user(event.data.userId), message: withNote(`acknowledged${via(event.data.via)}`, event.data.note) }
        : { actor: 'source', message: 'acknowledged by the source' };
    case 'AlertResolved':
      return event.data.by === 'user'
        ? { actor: user(event.data.userId), message: withNote(`resolved${via(event.data.via)}`, event.data.note) }
        : { actor: 'source', message: 'resolved by the source' };
    case 'AlertSnoozed':
      return {
        actor: user(event.data.userId),
        message: withNote(`snoozed until ${event.data.until}${via(event.data.via)}`, event.data.note),
      };
    case 'AlertEscalated':
      return { actor: user(event.data.userId), message: withNote(`escalated to the next step${via(event.data.via)}`, event.data.note) };
    case 'AlertUnacknowledged':
      // Without a user it is the escalator's reopen (ack timeout, snooze end).
      return {
        actor: event.data.userId === null ? 'escalator' : user(event.data.userId),
        message: `reopened (${event.data.reason})${via(event.data.via)}`,
      };
    case 'AlertCommandDeclined':
      return {
        actor: event.data.userId === null ? 'escalator' : user(event.data.userId),
        message: `${event.data.command}${via(event.data.via)} changed nothing: ${event.data.message}`,
      };
    default: {
      const _never: never = event;
      return _never;
    }
  }
}

/** Timeline words for the escalator's, dispatcher's and ticket bridge's events of an alert. Pure. */
export function describeOther(event: EscalationEvent | DeliveryEvent | DeliveryStatusEvent | TicketEvent): {
  actor: string;
  message: string;
} {
  switch (event.type) {
    case 'AlertRouted': {
      const d = event.data;
      const how = d.rules.length > 0 ? `rules ${d.rules.join(', ')}` : 'service defaults';
      const template = d.templateId ? `, template ${d.templateId}${d.templateVersion === null ? '' : ` v${d.templateVersion}`}` : '';
      const suppressed = d.suppressed
        ? `; suppressed by ${d.suppressed.by === 'maintenance' ? `maintenance window ${d.suppressed.windowId ?? '?'}` : 'a rule'}${d.suppressed.until ? ` until ${d.suppressed.until}` : ''}`
        : '';
      const maintenance = d.maintenance.length > 0 ? `; in maintenance ${d.maintenance.join(', ')}` : '';
      return { actor: 'escalator', message: `routed by ${how}: policy ${d.policyId ?? '(none)'}${template}${suppressed}${maintenance}` };
    }
    case 'EscalationStepReached': {
      const d = event.data;
      const page = d.page > 0 ? `, re-page ${d.page}` : '';
      const next = d.nextAt ? `; next at ${d.nextAt}` : '; last step';
      const who = d.recipients.length > 0 ? d.recipients.map(recipient).join(', ') : 'nobody';
      return {
        actor: 'escalator',
        message: `step ${d.step + 1} (round ${d.round + 1}${page}) reached (${d.reason}): paging ${who}${next}`,
      };
    }
    case 'NotificationRequested': {
      const d = event.data;
      const via = d.contacts.length > 0 ? ` via ${d.contacts.map((c) => c.channel).join(', ')}` : '';
      const what = d.kind === 'page' ? `${d.priority} page` : 'resolution notice';
      // Notification rules: which rule this is, and the methods left out (docs/notification-rules.md).
      const rule = d.rules && d.rules.later.length === 0 && d.rules.indexes.length === 1 ? ` (rule ${d.rules.indexes[0]! + 1})` : '';
      const skipped = d.skipped?.length ? `; skipped ${d.skipped.map((s) => `${s.channel} (${s.reason})`).join(', ')}` : '';
      const later = d.rules?.later.length
        ? `; then ${d.rules.later.map((l) => `${l.channel} at ${l.at}`).join(', ')} unless acknowledged`
        : '';
      return { actor: 'escalator', message: `${what} requested for ${recipient(d.recipient)}${via}${rule}${skipped}${later}` };
    }
    case 'EscalationStopped': {
      const d = event.data;
      const by = d.userId ? ` by ${d.userId}` : '';
      const reopen = d.reopenAt ? `; reopens at ${d.reopenAt}` : '';
      return { actor: 'escalator', message: `escalation stopped: ${d.reason}${by}${reopen}` };
    }
    case 'AlertReopenRequested':
      return { actor: 'escalator', message: `reopen requested (${event.data.reason})` };
    case 'NotificationDelivered': {
      const d = event.data;
      const bundled = d.bundled > 1 ? `, ${d.bundled} alerts in one message` : '';
      return { actor: 'dispatcher', message: `${d.channel} delivered to ${d.destination} (${attempts(d.attempts)}${bundled})` };
    }
    case 'NotificationFailed': {
      const d = event.data;
      const fallback = d.fallback ? `; trying ${d.fallback}` : '';
      return {
        actor: 'dispatcher',
        message: `${d.channel} to ${d.destination} failed: ${d.reason} (${attempts(d.attempts)}${d.retryable ? ', retryable' : ''})${fallback}`,
      };
    }
    case 'NotificationStatusReported': {
      const d = event.data;
      const code = d.errorCode ? ` (error ${d.errorCode})` : '';
      return { actor: 'provider', message: `${d.channel} to ${d.destination}: ${d.status}${code}` };
    }
    case 'TicketRequested':
    case 'TicketCreated':
    case 'TicketUpdated':
    case 'TicketSyncFailed':
    case 'TicketLinked':
    case 'TicketStatusChanged':
      return describeTicket(event);
    case 'AlertInhibited':
      return { actor: 'escalator', message: `inhibited by rule ${event.data.rule} while ${event.data.by} fires (${event.data.bySummary})` };
    case 'AlertReleased':
      return { actor: 'escalator', message: `released: ${event.data.by} no longer fires (rule ${event.data.rule})` };
    case 'IncidentOpened':
      return { actor: 'escalator', message: `opened incident ${event.data.incidentId} for ${event.data.groupKey}` };
    case 'AlertGrouped':
      return { actor: 'escalator', message: `joined incident ${event.data.incidentId} (${event.data.groupKey}); not paged` };
    case 'IncidentUpdated':
      return { actor: 'escalator', message: `incident ${event.data.incidentId} now has ${event.data.alerts} alerts` };
    case 'IncidentResolved':
      return { actor: 'escalator', message: `incident ${event.data.incidentId} resolved: its last alert resolved` };
    case 'IncidentTakenOver':
      return event.data.to === event.data.alertId
        ? {
            actor: 'escalator',
            message: `took over incident ${event.data.incidentId} from ${event.data.from} (resolved by its source while this one still fires); pages for it now`,
          }
        : { actor: 'escalator', message: `resolved by its source; ${event.data.to} took over incident ${event.data.incidentId}` };
    case 'FlappingStarted':
      return { actor: 'escalator', message: `flapping: fired ${event.data.flips} times within ${event.data.windowSeconds} s` };
    case 'AlertFlapped':
      return { actor: 'escalator', message: `flapping since ${event.data.flappingSince}; not paged` };
    case 'FlappingEnded':
      return { actor: 'escalator', message: `no longer flapping (since ${event.data.flappingSince})` };
    case 'SlaBreached':
      return {
        actor: 'escalator',
        message: `SLA of tier ${event.data.tier} breached: not acknowledged within ${event.data.responseSeconds} s`,
      };
    default: {
      const _never: never = event;
      return _never;
    }
  }
}

const user = (userId: string | null): string => `user:${userId ?? 'unknown'}`;
const withNote = (what: string, note: string): string => (note ? `${what}: ${note}` : what);
const attempts = (n: number): string => `${n} ${n === 1 ? 'attempt' : 'attempts'}`;

function recipient(r: Recipient): string {
  switch (r.type) {
    case 'user':
      return `user:${r.userId}${r.via ? ` (${r.via})` : ''}`;
    case 'slack':
      return `slack:${r.channel}`;
    case 'webhook':
      return 'webhook';
    default: {
      const _never: never = r;
      return _never;
    }
  }
}
