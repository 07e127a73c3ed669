import { signal } from '@preact/signals';
import { pad, wallClock } from './zones';

/** Wall-clock milliseconds, ticking once a second: ages and "next escalation in" read it. */
export const now = signal(Date.now());
setInterval(() => (now.value = Date.now()), 1000);

/** The viewer's time zone (the browser's). */
export const viewerZone = Intl.DateTimeFormat().resolvedOptions().timeZone;

/** "42s", "5m", "3h 12m", "2d 4h": short enough for a board cell. */
export function formatAge(ms: number): string {
  const s = Math.max(0, Math.floor(ms / 1000));
  if (s < 60) return `${s}s`;
  const m = Math.floor(s / 60);
  if (m < 60) return `${m}m`;
  const h = Math.floor(m / 60);
  if (h < 48) return `${h}h ${m % 60}m`;
  return `${Math.floor(h / 24)}d ${h % 24}h`;
}

const formats = new Map<string, Intl.DateTimeFormat>();
const fmt = (zone: string, opts: Intl.DateTimeFormatOptions) => {
  const key = zone + JSON.stringify(opts);
  let f = formats.get(key);
  if (!f) {
    f = new Intl.DateTimeFormat('en-GB', { ...opts, timeZone: zone });
    formats.set(key, f);
  }
  return f;
};

/** "Sun 06 Dec, 14:05" in `zone` (default the viewer's). */
export const formatTime = (iso: string, zone = viewerZone): string =>
  fmt(zone, { weekday: 'short', day: '2-digit', month: 'short', hour: '2-digit', minute: '2-digit', hourCycle: 'h23' }).format(
    new Date(iso),
  );

/** "2026-12-06 14:05:09" in `zone`, for timelines. */
export const formatStamp = (iso: string, zone = viewerZone): string => {
  const w = wallClock(Date.parse(iso), zone);
  return `${w.y}-${pad(w.mo)}-${pad(w.d)} ${pad(w.h)}:${pad(w.mi)}:${pad(w.s)}`;
};

/** "Sun 06" for day ticks of the on-call picture. */
export const formatDay = (ms: number, zone: string): string => fmt(zone, { weekday: 'short', day: '2-digit' }).format(new Date(ms));

/** Seconds as "4m 10s" / "2h 5m", for MTTA and MTTR. */
export function formatDuration(seconds: number | null): string {
  if (seconds === null) return '—';
  if (seconds < 60) return `${Math.round(seconds)}s`;
  if (seconds < 3600) return `${Math.floor(seconds / 60)}m ${Math.round(seconds % 60)}s`;
  return `${Math.floor(seconds / 3600)}h ${Math.floor((seconds % 3600) / 60)}m`;
}
