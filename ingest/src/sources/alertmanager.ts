import { z } from 'zod';
import type { Signal } from '@oncall/contracts';
import { normaliseSeverity } from '../domain/severity.js';
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
