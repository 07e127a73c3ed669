import type { AlertStatusWord, BoardAlert } from '@oncall/contracts/console-api';

export const SEVERITIES = ['critical', 'error', 'warning', 'info', 'unknown'] as const;
export const OPEN_STATUSES = ['triggered', 'acknowledged', 'snoozed'] as const satisfies readonly AlertStatusWord[];
export const GROUPINGS = ['service', 'site', 'severity', 'none'] as const;
export type Grouping = (typeof GROUPINGS)[number];

/**
 * What the board shows, all of it kept in the URL query so a link reproduces the view:
 * `status=triggered,acknowledged`, `severity=critical`, `q=free text on the summary`,
 * `group=service|site|severity|none`, `wall=1`, and every other key a label filter
 * (`site=ams2&tier=enterprise`; a comma lists values any of which matches).
 */
export type BoardView = Readonly<{
  statuses: readonly string[];
  severities: readonly string[];
  text: string;
  labels: readonly Readonly<{ key: string; values: readonly string[] }>[];
  group: Grouping;
  wall: boolean;
}>;

const RESERVED = new Set(['status', 'severity', 'q', 'group', 'wall']);
const list = (v: string | null): string[] =>
  (v ?? '')
    .split(',')
    .map((s) => s.trim())
    .filter(Boolean);

export function parseView(query: URLSearchParams): BoardView {
  const labels: { key: string; values: string[] }[] = [];
  for (const [key, value] of query) {
    if (RESERVED.has(key) || !key) continue;
    const values = list(value);
    if (values.length) labels.push({ key, values });
  }
  const group = query.get('group');
  return {
    statuses: list(query.get('status')),
    severities: list(query.get('severity')),
    text: (query.get('q') ?? '').trim(),
    labels,
    group: (GROUPINGS as readonly string[]).includes(group ?? '') ? (group as Grouping) : 'service',
    wall: query.get('wall') === '1',
  };
}

/** The query string of a view (defaults left out, so the plain board is just `/`). */
export function viewQuery(view: BoardView): string {
  const q = new URLSearchParams();
  if (view.statuses.length) q.set('status', view.statuses.join(','));
  if (view.severities.length) q.set('severity', view.severities.join(','));
  if (view.text) q.set('q', view.text);
  for (const l of view.labels) q.append(l.key, l.values.join(','));
  if (view.group !== 'service') q.set('group', view.group);
  if (view.wall) q.set('wall', '1');
  const s = q.toString();
  return s ? `?${s}` : '';
}

/**
 * The filter box's text ("site=ams2 tier=enterprise disk full"): `key=value` words are label
 * filters, the rest is free text on the summary.
 */
export function parseFilterText(text: string): Pick<BoardView, 'labels' | 'text'> {
  const labels: { key: string; values: string[] }[] = [];
  const words: string[] = [];
  for (const word of text.split(/\s+/).filter(Boolean)) {
    const eq = word.indexOf('=');
    const key = eq > 0 ? word.slice(0, eq) : '';
    const values = list(word.slice(eq + 1));
    if (key && !RESERVED.has(key) && values.length) labels.push({ key, values });
    else words.push(word);
  }
  return { labels, text: words.join(' ') };
}

export const filterText = (view: Pick<BoardView, 'labels' | 'text'>): string =>
  [...view.labels.map((l) => `${l.key}=${l.values.join(',')}`), view.text].filter(Boolean).join(' ');

/** `site` is the alert's placement (else its label), `service` its service; any other key a label. */
const labelOf = (a: BoardAlert, key: string): string | undefined =>
  key === 'site' ? (a.site ?? a.labels.site) : key === 'service' ? a.serviceId : a.labels[key];

export function matches(a: BoardAlert, view: BoardView): boolean {
  if (view.statuses.length && !view.statuses.includes(a.status)) return false;
  if (view.severities.length && !view.severities.includes(a.severity)) return false;
  for (const l of view.labels) {
    const v = labelOf(a, l.key);
    if (v === undefined || !l.values.includes(v)) return false;
  }
  if (view.text) {
    const hay = a.summary.toLowerCase();
    for (const w of view.text.toLowerCase().split(/\s+/)) if (!hay.includes(w)) return false;
  }
  return true;
}
