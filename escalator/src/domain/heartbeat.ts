import type { EventData, Signal } from '@oncall/contracts';

/**
 * Heartbeat expiry, pure. A monitor is due at its last beat (or, with none seen, the time the
 * escalator started watching it) plus its interval. Past due it fires once; the next beat
 * resolves it. The signals go through intake like any source's, so the decider dedups them
 * (a firing signal for an open alert is a repeat) and they are idempotent across restarts.
 *
 * `expired` says that a firing signal is stored. An outcome's `state` is the one to keep once
 * its `signal` is stored; when sending it fails, the shell keeps `unsent(before, outcome)`
 * instead (the beat remembered, `expired` unchanged), and the next tick sends it again: a
 * failed or cut-short send never loses an expiry or its recovery.
 */

export type Monitor = EventData<'HeartbeatMonitorConfigured'>;

export type MonitorState = Readonly<{
  lastBeat: number | null;
  /** When watching began; the baseline of a monitor that never beat. */
  since: number;
  expired: boolean;
}>;

export const HEARTBEAT_FINGERPRINT_PREFIX = 'heartbeat:';

export const dueOf = (m: Monitor, s: MonitorState): number => (s.lastBeat ?? s.since) + m.intervalSeconds * 1000;

export type HeartbeatOutcome = Readonly<{ state: MonitorState; signal: Signal | null }>;

export function onBeat(m: Monitor, s: MonitorState, at: number): HeartbeatOutcome {
  const state = { ...s, lastBeat: Math.max(at, s.lastBeat ?? at), expired: false };
  return { state, signal: s.expired ? signal(m, 'resolved', at) : null };
}

export function onTick(m: Monitor, s: MonitorState, now: number): HeartbeatOutcome {
  if (s.expired) {
    // A beat came after the expiry and its resolution is not stored: send it again.
    if (s.lastBeat !== null && now < dueOf(m, s)) return { state: { ...s, expired: false }, signal: signal(m, 'resolved', s.lastBeat) };
    return { state: s, signal: null };
  }
  if (now < dueOf(m, s)) return { state: s, signal: null };
  return { state: { ...s, expired: true }, signal: signal(m, 'firing', dueOf(m, s)) };
}

/** The state to keep when an outcome's signal could not be stored. */
export const unsent = (before: MonitorState, out: HeartbeatOutcome): MonitorState => ({ ...out.state, expired: before.expired });

function signal(m: Monitor, status: 'firing' | 'resolved', at: number): Signal {
  const when = new Date(at).toISOString();
  return {
    fingerprint: `${HEARTBEAT_FINGERPRINT_PREFIX}${m.monitorId}`,
    status,
    summary: `Heartbeat ${m.name} missed: no beat for ${formatInterval(m.intervalSeconds)}`,
    details: `Monitor ${m.monitorId} expects a beat at least every ${formatInterval(m.intervalSeconds)}.`,
    severity: 'critical',
    labels: { alertname: 'HeartbeatMissed', monitor: m.monitorId },
    annotations: {},
    startsAt: status === 'firing' ? when : null,
    endsAt: status === 'resolved' ? when : null,
    generatorUrl: null,
    links: [],
    custom: {},
  };
}

export function formatInterval(seconds: number): string {
  for (const [unit, size] of [
    ['d', 86400],
    ['h', 3600],
    ['m', 60],
  ] as const)
    if (seconds % size === 0) return `${seconds / size}${unit}`;
  return `${seconds}s`;
}
