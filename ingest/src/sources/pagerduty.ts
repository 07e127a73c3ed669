import { z } from 'zod';
import type { Link, Signal } from '@oncall/contracts';
import type { Normalised } from './alertmanager.js';
import { isoOrNull, IsoTime } from './common.js';

const PagerDutyEventPayload = z.object({
  summary: z.string().min(1).max(1024),
  source: z.string().min(1),
  /** PagerDuty's own four levels; anything else is rejected, as PagerDuty does. */
  severity: z.enum(['critical', 'error', 'warning', 'info']),
  timestamp: IsoTime.optional(),
  component: z.string().optional(),
  group: z.string().optional(),
  class: z.string().optional(),
  custom_details: z.record(z.string(), z.unknown()).optional(),
});

/**
 * PagerDuty Events API v2 event (the body of `POST /v2/enqueue`). `payload` is required to
 * trigger; acknowledge and resolve need the `dedup_key` of the trigger. A payload sent with
 * acknowledge/resolve is validated like a trigger's. Unknown keys are ignored.
 */
export const PagerDutyEvent = z
  .object({
    /** The integration key. A secret: it must never reach the event log. */
    routing_key: z.string().min(1).max(256),
    event_action: z.enum(['trigger', 'acknowledge', 'resolve']),
    dedup_key: z.string().min(1).max(255).optional(),
    payload: PagerDutyEventPayload.optional(),
    images: z.array(z.object({ src: z.string().min(1), href: z.string().optional(), alt: z.string().optional() })).optional(),
    links: z.array(z.object({ href: z.string().min(1), text: z.string().optional() })).optional(),
    client: z.string().optional(),
    client_url: z.string().optional(),
  })
  .superRefine((e, ctx) => {
    if (e.event_action === 'trigger' && e.payload === undefined) {
      ctx.addIssue({ code: z.ZodIssueCode.custom, path: ['payload'], message: 'Required to trigger' });
    }
    if (e.event_action !== 'trigger' && e.dedup_key === undefined) {
      ctx.addIssue({ code: z.ZodIssueCode.custom, path: ['dedup_key'], message: `Required to ${e.event_action}` });
    }
  });
export type PagerDutyEvent = z.infer<typeof PagerDutyEvent>;

const STATUS = { trigger: 'firing', acknowledge: 'acknowledged', resolve: 'resolved' } as const satisfies Record<
  PagerDutyEvent['event_action'],
  Signal['status']
>;

/** Keys of `payload` that become labels, in this order. */
const LABEL_KEYS = ['source', 'component', 'group', 'class'] as const;

/** Longest label key and value a `custom_details` entry may bring (the generic source's limits). */
const MAX_LABEL_KEY = 1024;
const MAX_LABEL_VALUE = 64 * 1024;

/**
 * Labels of a PagerDuty payload, so routing rules can read them (docs/routing.md, "Labels of each
 * source"): `source`, `component`, `group`, `class` under their own names, then every flat scalar
 * entry of `custom_details` — strings as they are, numbers and booleans as text (`0.75`, `true`).
 * A label already set wins over a `custom_details` entry of the same name; nested objects,
 * arrays, nulls, empty keys and over-long keys or values become no label. `custom` keeps
 * `custom_details` whole either way.
 */
export function pagerDutyLabels(payload: z.infer<typeof PagerDutyEventPayload> | undefined): Record<string, string> {
  const labels: Record<string, string> = {};
  if (!payload) return labels;
  for (const k of LABEL_KEYS) {
    const v = payload[k];
    if (v !== undefined) labels[k] = v;
  }
  for (const [k, v] of Object.entries(payload.custom_details ?? {})) {
    if (k.length === 0 || k.length > MAX_LABEL_KEY || Object.hasOwn(labels, k)) continue;
    const text =
      typeof v === 'string' ? v : typeof v === 'number' && Number.isFinite(v) ? String(v) : typeof v === 'boolean' ? String(v) : null;
    if (text !== null && text.length <= MAX_LABEL_VALUE) labels[k] = text;
  }
  return labels;
}

/**
 * Normalises one event into one signal whose fingerprint is the dedup key. A trigger without a
 * `dedup_key` takes `fallbackDedupKey` (PagerDuty would make one up and answer with it; the
 * caller derives one from the request so a retried request gets the same key). The effective
 * key is returned as `dedupKey`, to be sent back to the caller.
 */
export function normalisePagerDuty(p: PagerDutyEvent, fallbackDedupKey: string): Normalised & { dedupKey: string } {
  const dedupKey = p.dedup_key ?? fallbackDedupKey;
  if (dedupKey.length < 1 || dedupKey.length > 512) {
    throw new RangeError(`fallback dedup key must be 1..512 characters, got ${dedupKey.length}`);
  }
  const ev = p.payload;

  const labels = pagerDutyLabels(ev);

  const links: Link[] = [
    ...(p.links ?? []).map((l) => ({ href: l.href, text: l.text || l.href })),
    ...(p.images ?? []).map((i) => ({ href: i.href || i.src, text: i.alt || 'Image' })),
  ];

  const signal: Signal = {
    fingerprint: dedupKey,
    status: STATUS[p.event_action],
    summary: ev?.summary ?? '',
    details: '',
    severity: ev?.severity ?? 'unknown',
    labels,
    annotations: ev ? { summary: ev.summary } : {},
    startsAt: isoOrNull(ev?.timestamp),
    endsAt: null,
    generatorUrl: p.client_url || null,
    links,
    custom: ev?.custom_details !== undefined ? { custom_details: ev.custom_details } : {},
  };

  const context: Record<string, unknown> = {};
  if (p.client !== undefined) context.client = p.client;
  if (p.client_url !== undefined) context.client_url = p.client_url;

  return { signals: [signal], context, dedupKey };
}
