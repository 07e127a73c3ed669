import { alertingV1 } from '@oncall/contracts/grpc';
import { parseOrUsage, UsageError } from './cli-usage.js';
import type { ApiClient } from './grpc-client.js';

const { AlertStatus, Severity } = alertingV1;

export const STATUS_WORDS: Readonly<Record<string, alertingV1.AlertStatus>> = {
  triggered: AlertStatus.ALERT_STATUS_TRIGGERED,
  acknowledged: AlertStatus.ALERT_STATUS_ACKNOWLEDGED,
  snoozed: AlertStatus.ALERT_STATUS_SNOOZED,
  resolved: AlertStatus.ALERT_STATUS_RESOLVED,
};
export const SEVERITY_WORDS: Readonly<Record<string, alertingV1.Severity>> = {
  info: Severity.SEVERITY_INFO,
  warning: Severity.SEVERITY_WARNING,
  error: Severity.SEVERITY_ERROR,
  critical: Severity.SEVERITY_CRITICAL,
};

const wordOf = <E>(words: Readonly<Record<string, E>>, value: E): string => Object.keys(words).find((w) => words[w] === value) ?? 'unknown';
export const statusWord = (s: alertingV1.AlertStatus): string => wordOf(STATUS_WORDS, s);
export const severityWord = (s: alertingV1.Severity): string => wordOf(SEVERITY_WORDS, s);

export const MAX_LIMIT = 10_000;

export type AlertsArgs = Readonly<{ request: alertingV1.ListAlertsRequest; json: boolean; grpc: string | undefined }>;

/** Repeated flags, each of which may also be a comma-separated list. */
const listOf = (values: readonly string[] | undefined): string[] => (values ?? []).flatMap((v) => v.split(',')).map((v) => v.trim());

function wordsOf<E>(flag: string, given: readonly string[] | undefined, words: Readonly<Record<string, E>>): E[] {
  return listOf(given).map((w) => {
    if (!Object.hasOwn(words, w.toLowerCase()))
      throw new UsageError(`alerts ${flag}: "${w}" is not one of ${Object.keys(words).join(', ')}`);
    return words[w.toLowerCase()]!;
  });
}

/**
 * Parses `oncall alerts [--status S] [--severity S] [--service ID] [--label k=v] [--limit N] [--json]
 * [--grpc host:port]` into a ListAlertsRequest; a bad value is a UsageError saying which and why.
 */
export function parseAlertsArgs(argv: string[]): AlertsArgs {
  const { values } = parseOrUsage('alerts', {
    args: argv,
    options: {
      status: { type: 'string', multiple: true },
      severity: { type: 'string', multiple: true },
      service: { type: 'string', multiple: true },
      label: { type: 'string', multiple: true },
      limit: { type: 'string' },
      json: { type: 'boolean', default: false },
      grpc: { type: 'string' },
    },
  });
  const labelSelector: Record<string, string> = {};
  for (const pair of values.label ?? []) {
    const m = /^([^=\s]+)=(.+)$/.exec(pair.trim());
    if (!m) throw new UsageError(`alerts --label: "${pair}" is not key=value, e.g. --label site=ams2`);
    const [, key, value] = m as unknown as [string, string, string];
    if (labelSelector[key] !== undefined && labelSelector[key] !== value)
      throw new UsageError(`alerts --label: ${key} given twice (${labelSelector[key]}, ${value}); an alert has one value per label`);
    labelSelector[key] = value;
  }
  const serviceIds = listOf(values.service);
  if (serviceIds.some((s) => s === '')) throw new UsageError('alerts --service: an empty service id');
  // One page of up to --limit alerts (default 1000), newest first.
  let limit = 1000;
  if (values.limit !== undefined) {
    limit = Number(values.limit);
    if (!/^\d+$/.test(values.limit) || limit < 1 || limit > MAX_LIMIT)
      throw new UsageError(`alerts --limit: "${values.limit}" is not a whole number from 1 to ${MAX_LIMIT}`);
  }
  return {
    request: alertingV1.ListAlertsRequest.fromPartial({
      statuses: wordsOf('--status', values.status, STATUS_WORDS),
      severities: wordsOf('--severity', values.severity, SEVERITY_WORDS),
      serviceIds,
      labelSelector,
      pageSize: limit,
    }),
    json: values.json,
    grpc: values.grpc,
  };
}

/** Streams the alerts ListAlerts answers. */
export async function* listAlerts(client: ApiClient, request: alertingV1.ListAlertsRequest): AsyncGenerator<alertingV1.Alert> {
  yield* client.alerts.listAlerts(request) as AsyncIterable<alertingV1.Alert>;
}

/** How long ago, in the largest whole unit: `45s`, `12m`, `3h`, `2d`. */
export function age(since: Date | undefined, now: number): string {
  if (!since) return '-';
  const s = Math.max(0, Math.floor((now - since.getTime()) / 1000));
  if (s < 60) return `${s}s`;
  if (s < 3600) return `${Math.floor(s / 60)}m`;
  if (s < 86_400) return `${Math.floor(s / 3600)}h`;
  return `${Math.floor(s / 86_400)}d`;
}

/** The site an alert is at: the site registry's, else its `site` label. */
const siteOf = (a: alertingV1.Alert): string => a.site || a.labels.site || '';

/**
 * Alerts as a table: id (first 8 characters), status, severity, service, age, site (a column only
 * when an alert has one), summary. With `width` (a terminal's), summaries are cut to fit it.
 */
export function alertsTable(alerts: readonly alertingV1.Alert[], now: number, width?: number): string {
  if (alerts.length === 0) return 'no alerts\n';
  const withSite = alerts.some((a) => siteOf(a) !== '');
  const head = ['ID', 'STATUS', 'SEVERITY', 'SERVICE', 'AGE', ...(withSite ? ['SITE'] : []), 'SUMMARY'];
  const rows = alerts.map((a) => [
    a.id.slice(0, 8),
    statusWord(a.status),
    severityWord(a.severity),
    a.serviceId,
    age(a.createdAt, now),
    ...(withSite ? [siteOf(a) || '-'] : []),
    a.summary.replace(/\s+/g, ' '),
  ]);
  const widths = head.slice(0, -1).map((h, i) => Math.max(h.length, ...rows.map((r) => r[i]!.length)));
  const summaryRoom = width === undefined ? Infinity : Math.max(20, width - widths.reduce((n, w) => n + w + 2, 0));
  const line = (cells: string[]) => {
    const summary = cells.at(-1)!;
    const cut = summary.length > summaryRoom ? `${summary.slice(0, summaryRoom - 1)}…` : summary;
    return [...cells.slice(0, -1).map((c, i) => c.padEnd(widths[i]!)), cut].join('  ');
  };
  return `${[head, ...rows].map(line).join('\n')}\n`;
}
