import { z } from 'zod';
import type { Signal } from '@oncall/contracts';
import { normaliseSeverity } from '../domain/severity.js';
import type { Normalised } from './alertmanager.js';
import { fingerprintOfLabels, Labels } from './common.js';

/** One alert of our generic JSON webhook. Unknown keys are ignored. */
export const GenericAlert = z.object({
  summary: z.string().min(1).max(1024),
  details: z.string().optional(),
  /** Any severity word (`critical`, `P2`, `warn`, …); unrecognised words give 'unknown'. */
  severity: z.string().optional(),
  labels: Labels.optional(),
  annotations: Labels.optional(),
  dedup_key: z.string().min(1).max(255).optional(),
  action: z.enum(['trigger', 'close']).default('trigger'),
  links: z.array(z.object({ href: z.string().min(1), text: z.string().optional() })).optional(),
  source_url: z.string().optional(),
});
export type GenericAlert = z.infer<typeof GenericAlert>;

const GenericBatch = z.object({ alerts: z.array(GenericAlert) });

const isBatch = (v: unknown): boolean => typeof v === 'object' && v !== null && !Array.isArray(v) && Object.hasOwn(v, 'alerts');

/**
 * Generic webhook body: one alert object, or `{ "alerts": [ … ] }` (any object with an `alerts`
 * key is a batch). Both parse to the batch form. Issues keep the path of the shape that was sent:
 * `summary` for a single alert, `alerts.2.summary` in a batch (a union would hide both behind
 * one "invalid input" at the root).
 */
export const GenericPayload = z.unknown().transform((v, ctx): z.infer<typeof GenericBatch> => {
  const parsed = isBatch(v) ? GenericBatch.safeParse(v) : GenericAlert.safeParse(v);
  if (!parsed.success) {
    for (const issue of parsed.error.issues) ctx.addIssue(issue);
    return z.NEVER;
  }
  return 'alerts' in parsed.data ? parsed.data : { alerts: [parsed.data] };
});
export type GenericPayload = z.infer<typeof GenericPayload>;

/**
 * Fingerprint of an alert without a dedup_key: its labels plus its summary, so alerts that
 * differ only in summary stay apart and a re-send of the same alert is recognised.
 */
export function genericFingerprint(a: Pick<GenericAlert, 'summary' | 'labels' | 'dedup_key'>): string {
  return a.dedup_key ?? fingerprintOfLabels({ ...a.labels, __summary: a.summary });
}

export function normaliseGeneric(p: GenericPayload): Normalised {
  const signals = p.alerts.map((a): Signal => ({
    fingerprint: genericFingerprint(a),
    status: a.action === 'close' ? 'resolved' : 'firing',
    summary: a.summary,
    details: a.details ?? '',
    severity: normaliseSeverity(a.severity),
    labels: a.labels ?? {},
    annotations: a.annotations ?? {},
    startsAt: null,
    endsAt: null,
    generatorUrl: a.source_url || null,
    links: (a.links ?? []).map((l) => ({ href: l.href, text: l.text || l.href })),
    custom: {},
  }));
  return { signals, context: {} };
}
