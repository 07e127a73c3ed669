import type { NatsConnection } from '@nats-io/transport-node';
import { jetstream, JetStreamApiError } from '@nats-io/jetstream';
import { encodeEvent, makeEvent, stableUuid, subjects, type EventData } from '@oncall/contracts';
import { loadConfig, sha256Hex, type ConfigState } from '@oncall/shared';
import type { ConfigFile } from './config-file.js';

export type PlannedEvent =
  | { type: 'ServiceConfigured'; data: EventData<'ServiceConfigured'> }
  | { type: 'ServiceRemoved'; data: EventData<'ServiceRemoved'> }
  | { type: 'HeartbeatMonitorConfigured'; data: EventData<'HeartbeatMonitorConfigured'> }
  | { type: 'HeartbeatMonitorRemoved'; data: EventData<'HeartbeatMonitorRemoved'> };

/**
 * What must be appended to make the log say what the file says. Pure: the same file against
 * the same state plans nothing, so applying a file twice changes nothing. Services missing
 * from the file are removed only with `prune`.
 */
export function planApply(current: ConfigState, file: ConfigFile, prune: boolean): PlannedEvent[] {
  const planned: PlannedEvent[] = [];
  for (const s of file.services) {
    const desired: EventData<'ServiceConfigured'> = {
      serviceId: s.id,
      name: s.name,
      description: s.description,
      integrationKeys: s.integrationKeys.map((k) => ({ name: k.name, keyHash: sha256Hex(k.key) })),
    };
    const existing = current.services.get(s.id);
    if (!existing || canonical(existing) !== canonical(desired)) planned.push({ type: 'ServiceConfigured', data: desired });
  }
  for (const h of file.heartbeats) {
    const desired: EventData<'HeartbeatMonitorConfigured'> = { monitorId: h.id, serviceId: h.service, name: h.name, intervalSeconds: h.interval };
    const existing = current.heartbeats.get(h.id);
    if (!existing || JSON.stringify([existing.serviceId, existing.name, existing.intervalSeconds]) !== JSON.stringify([desired.serviceId, desired.name, desired.intervalSeconds])) {
      planned.push({ type: 'HeartbeatMonitorConfigured', data: desired });
    }
  }
  if (prune) {
    const wanted = new Set(file.services.map((s) => s.id));
    for (const id of current.services.keys()) if (!wanted.has(id)) planned.push({ type: 'ServiceRemoved', data: { serviceId: id } });
    const monitors = new Set(file.heartbeats.map((h) => h.id));
    for (const id of current.heartbeats.keys()) if (!monitors.has(id)) planned.push({ type: 'HeartbeatMonitorRemoved', data: { monitorId: id } });
  }
  return planned;
}

/** The configuration subject an event belongs to. */
export function subjectOf(p: PlannedEvent): string {
  switch (p.type) {
    case 'ServiceConfigured':
    case 'ServiceRemoved':
      return subjects.config('service', p.data.serviceId);
    case 'HeartbeatMonitorConfigured':
    case 'HeartbeatMonitorRemoved':
      return subjects.config('heartbeat', p.data.monitorId);
    default: {
      const _never: never = p;
      return _never;
    }
  }
}

function canonical(s: EventData<'ServiceConfigured'>): string {
  const keys = [...s.integrationKeys].sort((a, b) => a.keyHash.localeCompare(b.keyHash));
  return JSON.stringify([s.serviceId, s.name, s.description, keys.map((k) => [k.name, k.keyHash])]);
}

const WRONG_LAST_SEQUENCE = 10071;

/**
 * Appends the planned configuration events. Each append expects the subject's last sequence
 * as read, so a concurrent writer makes us re-read and re-plan instead of overwriting.
 */
export async function applyConfig(nc: NatsConnection, file: ConfigFile, opts: { prune?: boolean; actor?: string } = {}): Promise<PlannedEvent[]> {
  const js = jetstream(nc);
  for (let attempt = 1; ; attempt++) {
    const { state, subjectSeq } = await loadConfig(nc);
    const planned = planApply(state, file, opts.prune ?? false);
    try {
      for (const p of planned) {
        const subject = subjectOf(p);
        const lastSubjectSequence = subjectSeq.get(subject) ?? 0;
        const msgID = `${subject}:${lastSubjectSequence}:${sha256Hex(JSON.stringify(p))}`;
        const event = makeEvent(p.type, p.data as never, {
          id: stableUuid(msgID),
          occurredAt: new Date().toISOString(),
          causationId: null,
          correlationId: opts.actor ?? 'oncall-apply',
        });
        await js.publish(subject, encodeEvent(event), { msgID, expect: { lastSubjectSequence } });
      }
      return planned;
    } catch (err) {
      const conflict = err instanceof JetStreamApiError && err.code === WRONG_LAST_SEQUENCE;
      if (!conflict || attempt >= 3) throw err;
    }
  }
}
