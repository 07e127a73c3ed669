/**
 * Where the board's live stream stands: the alerts projection's ALERTS sequence and the
 * escalations projection's ESCALATIONS sequence (alerts.last_event_seq and
 * alert_escalations.last_event_seq count in them). Written `"<alerts>.<escalations>"`, the SSE id.
 */
export type BoardCursor = Readonly<{ alerts: number; escalations: number }>;

export const formatCursor = (c: BoardCursor): string => `${c.alerts}.${c.escalations}`;

/** A cursor as the browser sends it back (Last-Event-ID or ?cursor=); null when it is not one. */
export function parseCursor(text: string | undefined | null): BoardCursor | null {
  if (text === undefined || text === null) return null;
  const m = /^(\d{1,15})\.(\d{1,15})$/.exec(text.trim());
  if (!m) return null;
  return { alerts: Number(m[1]), escalations: Number(m[2]) };
}

/** `a` is at or after `b` in both sequences. */
export const atOrAfter = (a: BoardCursor, b: BoardCursor): boolean => a.alerts >= b.alerts && a.escalations >= b.escalations;

export const sameCursor = (a: BoardCursor, b: BoardCursor): boolean => a.alerts === b.alerts && a.escalations === b.escalations;

/** The later of two cursors, sequence by sequence. */
export const laterOf = (a: BoardCursor, b: BoardCursor): BoardCursor => ({
  alerts: Math.max(a.alerts, b.alerts),
  escalations: Math.max(a.escalations, b.escalations),
});
