import type { EventData } from '@oncall/contracts';
import type { OnCallSegment, ScheduleTimeline } from '@oncall/contracts';
import { onCallAt, ScheduleError, shifts } from '@oncall/shared';

type Schedule = EventData<'ScheduleConfigured'>;

const iso = (ms: number): string => new Date(ms).toISOString();

/** The view's window: [from, from + days) with `at` for "on call now". */
export type OnCallWindow = Readonly<{ from: number; to: number; at: number }>;

/**
 * One schedule over the window, from the escalator's own calculation (shared/domain/oncall.ts):
 * `onCallNow` is `onCallAt` (what GetOnCallUsers answers), `final` its continuous spans
 * (`shifts`), each layer the same calculation on that rotation alone, and the handoffs where the
 * final set changes. Pure.
 */
export function scheduleTimeline(s: Schedule, w: OnCallWindow, nameOf: (userId: string) => string): ScheduleTimeline {
  const segment = (x: { userId: string; start: number; end: number }): OnCallSegment => ({
    start: iso(x.start),
    end: iso(x.end),
    userId: x.userId,
    userName: nameOf(x.userId),
  });
  const base = { id: s.scheduleId, name: s.name, timeZone: s.timeZone };
  try {
    const final = shifts(s, w.from, w.to);
    const layers = s.rotations.map((r) => ({
      id: r.id,
      name: r.name,
      segments: shifts({ ...s, rotations: [r], overrides: [], temporary: [] }, w.from, w.to).map(segment),
    }));
    const overrides = s.overrides.flatMap((o): OnCallSegment[] => {
      const start = Math.max(Date.parse(o.start), w.from);
      const end = Math.min(Date.parse(o.end), w.to);
      if (!(start < end)) return [];
      return [{ ...segment({ userId: o.userId, start, end }), kind: o.kind, replaces: o.replaces ?? null }];
    });
    return {
      ...base,
      onCallNow: onCallAt(s, w.at).map((u) => u.userId),
      layers,
      overrides,
      final: final.map(segment),
      handoffs: handoffsOf(final, w),
    };
  } catch (err) {
    if (!(err instanceof ScheduleError)) throw err;
    return { ...base, onCallNow: [], layers: [], overrides: [], final: [], handoffs: [], problem: err.message };
  }
}

/** The instants inside the window where someone's continuous span starts or ends: where the on-call set changes. */
export function handoffsOf(spans: readonly { start: number; end: number }[], w: { from: number; to: number }): string[] {
  const at = new Set<number>();
  for (const s of spans) {
    if (s.start > w.from && s.start < w.to) at.add(s.start);
    if (s.end > w.from && s.end < w.to) at.add(s.end);
  }
  return [...at].sort((a, b) => a - b).map(iso);
}

export const MAX_DAYS = 31;
export const DEFAULT_DAYS = 14;
