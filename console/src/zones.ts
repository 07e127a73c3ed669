/** Wall-clock conversions in an IANA time zone: timeline stamps, the override form (datetime-local inputs) and the day ticks. */

const partsFormat = new Map<string, Intl.DateTimeFormat>();
const formatter = (zone: string) => {
  let f = partsFormat.get(zone);
  if (!f) {
    f = new Intl.DateTimeFormat('en-US', {
      timeZone: zone,
      hourCycle: 'h23',
      year: 'numeric',
      month: '2-digit',
      day: '2-digit',
      hour: '2-digit',
      minute: '2-digit',
      second: '2-digit',
    });
    partsFormat.set(zone, f);
  }
  return f;
};

/** The wall clock in `zone` at `ms`, as numbers. */
export function wallClock(ms: number, zone: string) {
  const p = Object.fromEntries(
    formatter(zone)
      .formatToParts(new Date(ms))
      .map((x) => [x.type, x.value]),
  );
  return { y: Number(p.year), mo: Number(p.month), d: Number(p.day), h: Number(p.hour), mi: Number(p.minute), s: Number(p.second) };
}

/** How far `zone` is ahead of UTC at `ms`, in ms. */
export function offsetAt(ms: number, zone: string): number {
  const w = wallClock(ms, zone);
  return Date.UTC(w.y, w.mo - 1, w.d, w.h, w.mi, w.s) - Math.floor(ms / 1000) * 1000;
}

/** Two digits. */
export const pad = (n: number) => String(n).padStart(2, '0');

/** `YYYY-MM-DDTHH:mm` in `zone` (a datetime-local input's value). */
export function toLocalInput(ms: number, zone: string): string {
  const w = wallClock(ms, zone);
  return `${w.y}-${pad(w.mo)}-${pad(w.d)}T${pad(w.h)}:${pad(w.mi)}`;
}

/**
 * The instant a `YYYY-MM-DDTHH:mm` wall-clock time in `zone` names; null if it is not such a time.
 * In a DST gap the time is read with the offset before the change (02:30 on a spring-forward night
 * becomes 03:30); in an overlap, the earlier of the two instants.
 */
export function fromLocalInput(value: string, zone: string): number | null {
  const m = /^(\d{4})-(\d{2})-(\d{2})T(\d{2}):(\d{2})$/.exec(value);
  if (!m) return null;
  const asUtc = Date.UTC(Number(m[1]), Number(m[2]) - 1, Number(m[3]), Number(m[4]), Number(m[5]));
  if (Number.isNaN(asUtc)) return null;
  const before = asUtc - offsetAt(asUtc - 86_400_000, zone);
  const candidates = [asUtc - offsetAt(asUtc - 43_200_000, zone), asUtc - offsetAt(asUtc + 43_200_000, zone), before];
  const exact = candidates.filter((c) => toLocalInput(c, zone) === value).sort((a, b) => a - b);
  return exact[0] ?? asUtc - offsetAt(asUtc - 43_200_000, zone);
}

/** The instants in [from, to) where the date in `zone` changes (local midnights), for day ticks. */
export function midnights(from: number, to: number, zone: string): number[] {
  const out: number[] = [];
  const step = 15 * 60_000;
  let t = Math.ceil(from / step) * step;
  let day = wallClock(t, zone).d;
  for (t += step; t < to; t += step) {
    const d = wallClock(t, zone).d;
    if (d !== day) out.push(t);
    day = d;
  }
  return out;
}
