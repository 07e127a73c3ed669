import { z } from 'zod';
import type { Link, Signal } from '@oncall/contracts';
import { ALERTMANAGER_ALERT_JSON, AlertmanagerAlert, alertmanagerSignal, type Normalised } from './alertmanager.js';
import { Labels } from './common.js';
import { checkedParse, LABELS_JSON } from './compiled.js';

const GrafanaAlert = AlertmanagerAlert.extend({
  silenceURL: z.string().default(''),
  dashboardURL: z.string().default(''),
  panelURL: z.string().default(''),
  /** Values of the rule's queries and expressions by refId; null when the rule had none (a Go nil map). */
  values: z.record(z.string(), z.number()).nullable().optional(),
  /** Deprecated by Grafana in favour of `values`, still sent; "" when there are none. */
  valueString: z.string().optional(),
  /** Only sent when the rule takes screenshots. */
  imageURL: z.string().optional(),
});

/**
 * Grafana unified alerting webhook payload (contact point "webhook", payload version "1",
 * Grafana ≥ 9). Legacy (pre-unified) alerting payloads have no `version` and are rejected.
 * Unknown keys (`state`, `message`, per-alert `orgId`, `extraData`, …) are ignored.
 */
export const GrafanaPayload = z.object({
  version: z.literal('1'),
  receiver: z.string(),
  status: z.enum(['firing', 'resolved']),
  orgId: z.number().int(),
  groupKey: z.string(),
  truncatedAlerts: z.number().int().nonnegative().default(0),
  groupLabels: Labels.default({}),
  commonLabels: Labels.default({}),
  commonAnnotations: Labels.default({}),
  externalURL: z.string().default(''),
  title: z.string().default(''),
  state: z.string().optional(),
  message: z.string().optional(),
  alerts: z.array(GrafanaAlert),
});
export type GrafanaPayload = z.infer<typeof GrafanaPayload>;
type GrafanaAlert = GrafanaPayload['alerts'][number];

/**
 * `GrafanaPayload`: the compiled check first, zod for the error message of a body it refuses.
 * One known difference, on the safe side: a value of 1e400 (Infinity) in `values` is refused by
 * the check (strict numbers) and accepted by zod, which then decides.
 */
export const parseGrafana = checkedParse(GrafanaPayload, {
  type: 'object',
  required: ['version', 'receiver', 'status', 'orgId', 'groupKey', 'alerts'],
  properties: {
    version: { const: '1' },
    receiver: { type: 'string' },
    status: { enum: ['firing', 'resolved'] },
    orgId: { type: 'integer' },
    groupKey: { type: 'string' },
    truncatedAlerts: { type: 'integer', minimum: 0, default: 0 },
    groupLabels: { ...LABELS_JSON, default: {} },
    commonLabels: { ...LABELS_JSON, default: {} },
    commonAnnotations: { ...LABELS_JSON, default: {} },
    externalURL: { type: 'string', default: '' },
    title: { type: 'string', default: '' },
    state: { type: 'string' },
    message: { type: 'string' },
    alerts: {
      type: 'array',
      items: {
        ...ALERTMANAGER_ALERT_JSON,
        properties: {
          ...ALERTMANAGER_ALERT_JSON.properties,
          silenceURL: { type: 'string', default: '' },
          dashboardURL: { type: 'string', default: '' },
          panelURL: { type: 'string', default: '' },
          values: { type: ['object', 'null'], additionalProperties: { type: 'number' } },
          valueString: { type: 'string' },
          imageURL: { type: 'string' },
        },
      },
    },
  },
});

/** The first argument that is a non-empty string (templated annotations may render as ""). */
function firstNonEmpty(...candidates: Array<string | undefined>): string | undefined {
  return candidates.find((c) => c !== undefined && c !== '');
}

function linksOf(a: GrafanaAlert): Link[] {
  const links: Link[] = [];
  const add = (href: string | undefined, text: string): void => {
    if (href) links.push({ href, text });
  };
  add(a.dashboardURL, 'Dashboard');
  add(a.panelURL, 'Panel');
  add(a.silenceURL, 'Silence');
  add(a.imageURL, 'Image');
  return links;
}

function customOf(a: GrafanaAlert): Record<string, unknown> {
  const custom: Record<string, unknown> = {};
  if (a.values) custom.values = a.values;
  if (a.valueString) custom.valueString = a.valueString;
  return custom;
}

export function normaliseGrafana(p: GrafanaPayload): Normalised {
  const signals = p.alerts.map((a): Signal => ({
    ...alertmanagerSignal(a),
    summary: firstNonEmpty(a.annotations.summary, a.annotations.description, a.labels.alertname) ?? 'alert',
    links: linksOf(a),
    custom: customOf(a),
  }));
  return {
    signals,
    context: {
      receiver: p.receiver,
      status: p.status,
      orgId: p.orgId,
      groupKey: p.groupKey,
      groupLabels: p.groupLabels,
      commonLabels: p.commonLabels,
      commonAnnotations: p.commonAnnotations,
      externalURL: p.externalURL,
      truncatedAlerts: p.truncatedAlerts,
      title: p.title,
    },
  };
}
