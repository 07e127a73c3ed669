import type { ZodError } from 'zod';
import type { AlertSource, Signal } from '@oncall/contracts';
import { normaliseAlertmanager, parseAlertmanager } from '../sources/alertmanager.js';
import { normaliseGrafana, parseGrafana } from '../sources/grafana.js';
import { GenericPayload, normaliseGeneric } from '../sources/generic.js';
import { normalisePagerDuty, PagerDutyEvent } from '../sources/pagerduty.js';

export type Parsed =
  | { ok: true; signals: Signal[]; context: Record<string, unknown>; answer?: Record<string, unknown>; integrationKey?: string }
  | { ok: false; error: ZodError };

/** A webhook format: where it is posted and how its body becomes signals. */
export type SourceRoute = Readonly<{
  paths: readonly string[];
  source: AlertSource;
  /** The integration key travels in the body (PagerDuty's routing_key), not in a header. */
  keyInBody?: boolean;
  parse: (body: unknown, bodyHash: string) => Parsed;
}>;

export const SOURCE_ROUTES: readonly SourceRoute[] = [
  {
    paths: ['/api/v1/webhook/alertmanager'],
    source: 'alertmanager',
    parse: (body) => {
      const p = parseAlertmanager(body);
      return p.success ? { ok: true, ...normaliseAlertmanager(p.data) } : { ok: false, error: p.error };
    },
  },
  {
    paths: ['/api/v1/webhook/grafana'],
    source: 'grafana',
    parse: (body) => {
      const p = parseGrafana(body);
      return p.success ? { ok: true, ...normaliseGrafana(p.data) } : { ok: false, error: p.error };
    },
  },
  {
    paths: ['/api/v1/webhook/generic'],
    source: 'generic',
    parse: (body) => {
      const p = GenericPayload.safeParse(body);
      return p.success ? { ok: true, ...normaliseGeneric(p.data) } : { ok: false, error: p.error };
    },
  },
  {
    // Events API v2 compatible: point any PagerDuty integration at <ingest>/v2/enqueue.
    paths: ['/v2/enqueue', '/api/v1/webhook/pagerduty'],
    source: 'pagerduty',
    keyInBody: true,
    parse: (body, bodyHash) => {
      const p = PagerDutyEvent.safeParse(body);
      if (!p.success) return { ok: false, error: p.error };
      const { signals, context, dedupKey } = normalisePagerDuty(p.data, bodyHash.slice(0, 32));
      return {
        ok: true,
        signals,
        context,
        integrationKey: p.data.routing_key,
        answer: { status: 'success', message: 'Event processed', dedup_key: dedupKey },
      };
    },
  },
];
