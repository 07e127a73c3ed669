import type { BoardAlert } from '@oncall/contracts/console-api';
import { SEVERITIES, type Grouping } from './filters';

/** One line of the board's virtual list: a group heading or an alert (by id). */
export type BoardLine =
  | Readonly<{ kind: 'group'; key: string; label: string; total: number; bySeverity: Readonly<Record<string, number>> }>
  | Readonly<{ kind: 'alert'; id: string }>;

export type BoardLayout = Readonly<{
  lines: readonly BoardLine[];
  shown: number;
  bySeverity: Readonly<Record<string, number>>;
}>;

const rank = (severity: string): number => {
  const i = (SEVERITIES as readonly string[]).indexOf(severity);
  return i < 0 ? SEVERITIES.length : i;
};

const groupKey = (a: BoardAlert, g: Grouping): string =>
  g === 'service' ? a.serviceId : g === 'site' ? (a.site ?? a.labels.site ?? '') : g === 'severity' ? a.severity : '';

const groupLabel = (key: string, g: Grouping): string => (g === 'site' && !key ? '(no site)' : key);

/** Most urgent first: severity, then triggered before acknowledged/snoozed, then newest. */
function compareAlerts(a: BoardAlert, b: BoardAlert): number {
  return (
    rank(a.severity) - rank(b.severity) ||
    Number(a.status !== 'triggered') - Number(b.status !== 'triggered') ||
    (a.createdAt < b.createdAt ? 1 : a.createdAt > b.createdAt ? -1 : 0) ||
    (a.id < b.id ? -1 : 1)
  );
}

/**
 * The board's lines: the shown alerts grouped (groups with a critical alert first, then by name;
 * by severity, most severe first), each group headed by its counts per severity.
 */
export function layoutBoard(alerts: readonly BoardAlert[], group: Grouping): BoardLayout {
  const sorted = [...alerts].sort(compareAlerts);
  const bySeverity: Record<string, number> = {};
  for (const a of sorted) bySeverity[a.severity] = (bySeverity[a.severity] ?? 0) + 1;
  if (group === 'none') return { lines: sorted.map((a) => ({ kind: 'alert', id: a.id })), shown: sorted.length, bySeverity };

  const groups = new Map<string, BoardAlert[]>();
  for (const a of sorted) {
    const k = groupKey(a, group);
    let g = groups.get(k);
    if (!g) groups.set(k, (g = []));
    g.push(a);
  }
  const keys = [...groups.keys()].sort((x, y) =>
    group === 'severity' ? rank(x) - rank(y) : rank(groups.get(x)![0]!.severity) - rank(groups.get(y)![0]!.severity) || x.localeCompare(y),
  );
  const lines: BoardLine[] = [];
  for (const key of keys) {
    const members = groups.get(key)!;
    const counts: Record<string, number> = {};
    for (const a of members) counts[a.severity] = (counts[a.severity] ?? 0) + 1;
    lines.push({ kind: 'group', key, label: groupLabel(key, group), total: members.length, bySeverity: counts });
    for (const a of members) lines.push({ kind: 'alert', id: a.id });
  }
  return { lines, shown: sorted.length, bySeverity };
}
