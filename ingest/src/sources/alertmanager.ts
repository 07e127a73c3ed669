import { z } from 'zod';
import type { Signal } from '@oncall/contracts';
import { normaliseSeverity } from '../domain/severity.js';
import { checkedParse, ISO_TIME_JSON, LABELS_JSON } from './compiled.js';
import { fingerprintOfLabels, isoOrNull, IsoTime, Labels } from './common.js';

/** One alert of an Alertmanager webhook; Grafana's webhook alerts extend it. */
export const AlertmanagerAlert = z.object({
  status: z.enum(['firing', 'resolved']),
  labels: Labels,
  annotations: Labels.default({}),
  startsAt: IsoTime,
  endsAt: IsoTime.optional(),
  generatorURL: z.string().default(''),
  fingerprint: z.string().max(512).optional(),
});

/** Alertmanager webhook payload, version 4 (Alertmanager ≥ 0.16). Unknown keys are ignored. */
export const AlertmanagerPayload = z.object({
  version: z.literal('4'),
  groupKey: z.string(),
  truncatedAlerts: z.number().int().nonnegative().default(0),
  status: z.enum(['firing', 'resolved']),
  receiver: z.string(),
  groupLabels: Labels.default({}),
  commonLabels: Labels.default({}),
  commonAnnotations: Labels.default({}),
  externalURL: z.string().default(''),
  alerts: z.array(AlertmanagerAlert),
});
export type AlertmanagerPayload = z.infer<typeof AlertmanagerPayload>;

/** `AlertmanagerAlert` as JSON Schema, for the compiled check (compiled.ts); Grafana's extends it. */
export const ALERTMANAGER_ALERT_JSON = {
  type: 'object',
  required: ['status', 'labels', 'startsAt'],
  properties: {
    status: { enum: ['firing', 'resolved'] },
    labels: LABELS_JSON,
    annotations: { ...LABELS_JSON, default: {} },
    startsAt: ISO_TIME_JSON,
    endsAt: ISO_TIME_JSON,
    generatorURL: { type: 'string', default: '' },
    fingerprint: { type: 'string', maxLength: 512 },
  },
} as const;

/** `AlertmanagerPayload`: the compiled check first, zod for the error message of a body it refuses. */
export const parseAlertmanager = checkedParse(AlertmanagerPayload, {
  type: 'object',
  required: ['version', 'groupKey', 'status', 'receiver', 'alerts'],
  properties: {
    version: { const: '4' },
    groupKey: { type: 'string' },
    truncatedAlerts: { type: 'integer', minimum: 0, default: 0 },
    status: { enum: ['firing', 'resolved'] },
    receiver: { type: 'string' },
    groupLabels: { ...LABELS_JSON, default: {} },
    commonLabels: { ...LABELS_JSON, default: {} },
    commonAnnotations: { ...LABELS_JSON, default: {} },
    externalURL: { type: 'string', default: '' },
    alerts: { type: 'array', items: ALERTMANAGER_ALERT_JSON },
  },
});

export type Normalised = { signals: Signal[]; context: Record<string, unknown> };

/** The signal of one Alertmanager-shaped alert (Grafana's extend it with links and values). */
export function alertmanagerSignal(a: z.infer<typeof AlertmanagerAlert>): Signal {
  return {
    fingerprint: a.fingerprint || fingerprintOfLabels(a.labels),
    status: a.status,
    summary: a.annotations.summary ?? a.annotations.description ?? a.annotations.message ?? a.labels.alertname ?? 'alert',
    details: a.annotations.description ?? '',
    severity: normaliseSeverity(a.labels.severity ?? a.labels.priority),
    labels: a.labels,
    annotations: a.annotations,
    startsAt: isoOrNull(a.startsAt),
    endsAt: isoOrNull(a.endsAt),
    generatorUrl: a.generatorURL || null,
    links: [],
    custom: {},
  };
}

export function normaliseAlertmanager(p: AlertmanagerPayload): Normalised {
  const signals = p.alerts.map(alertmanagerSignal);
  return {
    signals,
    context: {
      receiver: p.receiver,
      status: p.status,
      groupKey: p.groupKey,
      groupLabels: p.groupLabels,
      commonLabels: p.commonLabels,
      commonAnnotations: p.commonAnnotations,
      externalURL: p.externalURL,
      truncatedAlerts: p.truncatedAlerts,
    },
  };
}
