import type { JetStreamClient } from '@nats-io/jetstream';
import { buildEvent, encodeEvent, stableUuid, subjects, type AlertCommandKind, type AlertEvent, type Surface } from '@oncall/contracts';

/** An alert of an incident other than its first, as the storm bucket lists it. */
export type IncidentMember = Readonly<{ alertId: string; serviceId: string; fingerprint: string; partition: number }>;

/**
 * What a person's answer on an incident's first alert asks of the incident's other alerts
 * (docs/noc.md): acknowledging, snoozing or resolving the incident acts on every alert in it.
 * Sources' own acknowledgements and resolutions are not carried over (each alert's source speaks
 * for it); null when the event is nothing to carry.
 */
export function incidentCommand(event: AlertEvent): { command: AlertCommandKind; until: string | null } | null {
  switch (event.type) {
    case 'AlertAcknowledged':
      return event.data.userId ? { command: 'acknowledge', until: null } : null;
    case 'AlertResolved':
      return event.data.userId ? { command: 'resolve', until: null } : null;
    case 'AlertSnoozed':
      return { command: 'snooze', until: event.data.until };
    default:
      return null;
  }
}

/**
 * Sends the command to each member through the one command path (its intake partition, for the
 * decider to decide like any other command), in the acting person's name and surface.
 * Idempotent: each message id follows the event and the member.
 */
export async function forwardToMembers(
  js: JetStreamClient,
  now: number,
  incidentId: string,
  event: AlertEvent,
  members: readonly IncidentMember[],
): Promise<void> {
  const asked = incidentCommand(event);
  if (!asked || members.length === 0) return;
  const { userId, via } = event.data as { userId: string | null; via?: Surface };
  await Promise.all(
    members.map((m) => {
      const command = buildEvent(
        'AlertCommandReceived',
        {
          alertId: m.alertId,
          serviceId: m.serviceId,
          fingerprint: m.fingerprint,
          command: asked.command,
          userId,
          note: `with incident ${incidentId}`,
          until: asked.until,
          reason: '',
          ...(via ? { via } : {}),
        },
        {
          id: stableUuid(`incident-command:${event.id}:${m.alertId}`),
          occurredAt: new Date(now).toISOString(),
          causationId: event.id,
          correlationId: incidentId,
        },
      );
      return js.publish(subjects.intake(m.partition), encodeEvent(command), { msgID: command.id });
    }),
  );
}
