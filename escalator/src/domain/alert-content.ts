import type { AlertSnapshot } from '@oncall/contracts';

/**
 * The alert part of an escalation state, kept small: every pending escalation holds one, so a
 * storm of 100,000 alerts holds 100,000 (docs/performance.md, "Escalator memory").
 *
 * - Strings equal across alerts (service ids, label values such as `alertname` or `site`,
 *   annotations such as a runbook URL or a description naming only the device) are kept once
 *   (SharedStrings): a decoded event has its own copy of each.
 * - The summary and details share the string of the annotation they usually come from
 *   (Alertmanager's summary and description).
 * - The object is built by one literal with every field, so all of them sit inside it (an object
 *   spread from another one keeps the extra ones in a separate backing array).
 *
 * Equal strings are interchangeable, so this changes nothing but memory.
 */

/** Equal strings kept once; the table forgets everything when it grows past its bound (a string then merely stops being shared). */
export class SharedStrings {
  private readonly strings = new Map<string, string>();

  constructor(private readonly bound = 20_000) {}

  get size(): number {
    return this.strings.size;
  }

  of(s: string): string {
    const known = this.strings.get(s);
    if (known !== undefined) return known;
    if (this.strings.size >= this.bound) this.strings.clear();
    this.strings.set(s, s);
    return s;
  }

  /** A copy of `map` whose keys and values are the shared strings (same key order). */
  map(map: Readonly<Record<string, string>>): Record<string, string> {
    // A clone of an object keeps its layout (the decoder's, with every field inside the object).
    const out = { ...map };
    for (const key in out) out[key] = this.of(out[key]!);
    return out;
  }
}

const strings = new SharedStrings();

const NO_LINKS: AlertSnapshot['links'] = Object.freeze([]) as unknown as AlertSnapshot['links'];
const NO_MAP: Readonly<Record<string, string>> = Object.freeze({});

type Content = Pick<AlertSnapshot, 'summary' | 'details' | 'severity' | 'labels' | 'annotations' | 'links'>;
type Identity = Pick<AlertSnapshot, 'alertId' | 'serviceId' | 'serviceName' | 'fingerprint' | 'status' | 'source' | 'triggeredAt'>;

/** The alert `alert` names with `content`, as a state keeps it: strings shared, every field in one object, no `sourceSeverity`. */
export function compactAlert(alert: Identity, content: Content): AlertSnapshot {
  const annotations = shared(content.annotations);
  return {
    alertId: alert.alertId,
    serviceId: strings.of(alert.serviceId),
    serviceName: strings.of(alert.serviceName),
    fingerprint: alert.fingerprint,
    status: alert.status,
    summary: sameAs(content.summary, annotations),
    details: sameAs(content.details, annotations),
    severity: content.severity,
    labels: shared(content.labels),
    annotations,
    links: content.links?.length ? content.links : NO_LINKS,
    source: strings.of(alert.source),
    triggeredAt: alert.triggeredAt,
  };
}

/** `alert` with other fields: content already compact is taken as it is. */
export function alertWith(alert: AlertSnapshot, changes: Partial<Pick<AlertSnapshot, 'status' | 'serviceName'>>): AlertSnapshot {
  return {
    alertId: alert.alertId,
    serviceId: alert.serviceId,
    serviceName: changes.serviceName === undefined ? alert.serviceName : strings.of(changes.serviceName),
    fingerprint: alert.fingerprint,
    status: changes.status ?? alert.status,
    summary: alert.summary,
    details: alert.details,
    severity: alert.severity,
    labels: alert.labels,
    annotations: alert.annotations,
    links: alert.links,
    source: alert.source,
    triggeredAt: alert.triggeredAt,
  };
}

/** The annotation's string when `text` equals one (summary and details usually do), else `text` shared. */
function sameAs(text: string, annotations: Readonly<Record<string, string>>): string {
  for (const key in annotations) if (annotations[key] === text) return annotations[key];
  return strings.of(text);
}

/**
 * A label map with shared strings; an empty one the shared empty map. Anything else (an event a
 * buggy writer stored with `labels: null`) is kept as it is, for the rules to refuse as before.
 */
function shared(map: Readonly<Record<string, string>>): Readonly<Record<string, string>> {
  if (typeof map !== 'object' || map === null) return map;
  for (const _ in map) return strings.map(map);
  return NO_MAP;
}
