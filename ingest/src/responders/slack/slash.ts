import { onCallAt } from '@oncall/shared';
import type { ConfigState } from '@oncall/shared';
import type { NameOf } from './wording.js';

/** What `/oncall <text>` asks for. */
export type SlashCommand =
  | Readonly<{ kind: 'help' }>
  | Readonly<{ kind: 'who'; schedule: string | null }>
  | Readonly<{ kind: 'alerts' }>
  | Readonly<{ kind: 'act'; command: 'acknowledge' | 'resolve'; idPrefix: string }>
  | Readonly<{ kind: 'invalid'; error: string }>;

/** An alert id or a prefix of one: at least 4 characters of it. */
const ID_PREFIX = /^[0-9a-f][0-9a-f-]{3,35}$/;

export function parseSlash(text: string): SlashCommand {
  const [verb = '', ...rest] = text
    .trim()
    .split(/\s+/)
    .filter((w) => w !== '');
  const arg = rest.join(' ');
  switch (verb.toLowerCase()) {
    case '':
    case 'help':
      return { kind: 'help' };
    case 'who':
      return { kind: 'who', schedule: arg === '' ? null : arg };
    case 'alerts':
      return rest.length === 0 ? { kind: 'alerts' } : { kind: 'invalid', error: '`/oncall alerts` takes no arguments' };
    case 'ack':
    case 'acknowledge':
    case 'resolve': {
      const command = verb.toLowerCase() === 'resolve' ? 'resolve' : 'acknowledge';
      const id = (rest[0] ?? '').toLowerCase();
      if (rest.length !== 1 || !ID_PREFIX.test(id))
        return { kind: 'invalid', error: `\`/oncall ${verb} <alert id>\` needs an alert id or its first 4+ characters` };
      return { kind: 'act', command, idPrefix: id };
    }
    default:
      return { kind: 'invalid', error: `unknown command \`${verb.slice(0, 30)}\`` };
  }
}

export const HELP = [
  '*/oncall who [schedule]* — who is on call now (every schedule, or the one named)',
  '*/oncall alerts* — open alerts by severity and site',
  '*/oncall ack <alert id>* — acknowledge an alert (the first 8 characters of its id are enough)',
  '*/oncall resolve <alert id>* — resolve an alert',
  '*/oncall help* — this list',
].join('\n');

/** Who is on call now on each schedule (or the one named, by id or name). */
export function whoText(config: ConfigState, schedule: string | null, nowMs: number, nameOf: NameOf): string {
  const all = [...config.schedules.values()].sort((a, b) => a.name.localeCompare(b.name));
  if (all.length === 0) return 'No schedules are configured.';
  const wanted = schedule?.toLowerCase();
  const chosen = wanted === undefined ? all : all.filter((s) => s.scheduleId.toLowerCase() === wanted || s.name.toLowerCase() === wanted);
  if (chosen.length === 0) return `No schedule called "${schedule ?? ''}". Schedules: ${all.map((s) => s.name).join(', ')}.`;
  return chosen
    .map((s) => {
      const users = onCallAt(s, nowMs);
      return `*${s.name}*: ${users.length === 0 ? 'nobody' : users.map((u) => nameOf(u.userId)).join(', ')}`;
    })
    .join('\n');
}

/** An open alert as `/oncall alerts` lists it. */
export type OpenAlertRow = Readonly<{
  id: string;
  severity: string;
  site: string | null;
  status: string;
  summary: string;
  serviceId: string;
}>;

const SEVERITY_ORDER = ['critical', 'error', 'warning', 'info'];
const rank = (s: string): number => {
  const i = SEVERITY_ORDER.indexOf(s);
  return i === -1 ? SEVERITY_ORDER.length : i;
};

/** Open alerts grouped by severity (worst first), then site; at most `limit` listed. */
export function alertsText(rows: readonly OpenAlertRow[], total: number, limit: number): string {
  if (rows.length === 0) return 'No open alerts. :tada:';
  const groups = new Map<string, OpenAlertRow[]>();
  const sorted = [...rows].sort((a, b) => rank(a.severity) - rank(b.severity) || (a.site ?? '~').localeCompare(b.site ?? '~'));
  for (const r of sorted.slice(0, limit)) {
    const key = `*${r.severity}* · ${r.site ?? 'no site'}`;
    groups.set(key, [...(groups.get(key) ?? []), r]);
  }
  const lines: string[] = [`${total} open alert${total === 1 ? '' : 's'}`];
  for (const [key, list] of groups) {
    lines.push(`${key} (${list.length})`);
    for (const r of list)
      lines.push(
        `• \`${r.id.slice(0, 8)}\` ${r.serviceId}: ${r.summary.slice(0, 120)}${r.status === 'acknowledged' ? ' _(acknowledged)_' : ''}`,
      );
  }
  if (total > Math.min(rows.length, limit)) lines.push(`…and ${total - Math.min(rows.length, limit)} more`);
  return lines.join('\n');
}
