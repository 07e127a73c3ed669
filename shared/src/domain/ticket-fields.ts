import { Environment, type ParseResult } from '@marcbachmann/cel-js';

/**
 * Ticket field mapping (issue 18): each provider field is a CEL expression over `alert`,
 * `labels`, `annotations` and `service`, e.g.
 *   priority:    'alert.severity == "critical" ? "Highest" : "Medium"'
 *   summary:     '"[" + service.name + "] " + alert.summary'
 *   description: 'alert.details + ("runbook" in annotations ? "\n\nRunbook: " + annotations.runbook : "")'
 *   labels:      '["oncall", labels.team]'
 * Compiled (parsed and type-checked) once at `oncall apply` and when the bridge loads the
 * configuration; evaluated per ticket. Pure: no I/O, no clock.
 */

class TicketAlertFields {
  constructor(
    readonly id: string,
    readonly severity: string,
    readonly summary: string,
    readonly details: string,
    readonly status: string,
    readonly source: string,
    readonly fingerprint: string,
    readonly url: string,
  ) {}
}

class TicketServiceFields {
  constructor(
    readonly id: string,
    readonly name: string,
  ) {}
}

const env = new Environment({ limits: { maxAstNodes: 2000, maxDepth: 64 } })
  .registerType('TicketAlert', {
    ctor: TicketAlertFields,
    fields: {
      id: 'string',
      severity: 'string',
      summary: 'string',
      details: 'string',
      status: 'string',
      source: 'string',
      fingerprint: 'string',
      url: 'string',
    },
  })
  .registerType('TicketService', { ctor: TicketServiceFields, fields: { id: 'string', name: 'string' } })
  .registerVariable('alert', 'TicketAlert')
  .registerVariable('service', 'TicketService')
  .registerVariable('labels', 'map<string, string>')
  .registerVariable('annotations', 'map<string, string>');

/** What a field expression sees. */
export type TicketFieldInput = Readonly<{
  alert: Readonly<{
    id: string;
    severity: string;
    summary: string;
    details: string;
    status: string;
    source: string;
    fingerprint: string;
    /** The alert's page; '' when no public URL is configured. */
    url: string;
  }>;
  service: Readonly<{ id: string; name: string }>;
  labels: Readonly<Record<string, string>>;
  annotations: Readonly<Record<string, string>>;
}>;

/** A field expression that does not parse or type-check; `field` names the provider field. */
export class TicketFieldError extends Error {
  override readonly name = 'TicketFieldError';
  constructor(
    readonly field: string,
    message: string,
  ) {
    super(`field ${field}: ${message}`);
  }
}

export type CompiledTicketFields = Readonly<{
  fields: readonly string[];
  /** Evaluates every field; a field whose expression fails at run time (a missing label) throws TicketFieldError. */
  evaluate: (input: TicketFieldInput) => Record<string, unknown>;
}>;

const firstLine = (err: unknown): string => (err instanceof Error ? (err.message.split('\n')[0] ?? err.message) : String(err));

/** CEL values as JSON values: ints arrive as bigint. */
function plain(value: unknown): unknown {
  if (typeof value === 'bigint') return Number(value);
  if (Array.isArray(value)) return value.map(plain);
  if (value instanceof Map) return Object.fromEntries([...value].map(([k, v]) => [String(k), plain(v)]));
  if (value !== null && typeof value === 'object' && Object.getPrototypeOf(value) === Object.prototype) {
    return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, plain(v)]));
  }
  return value;
}

/** Compiles a provider's `fields`; throws TicketFieldError for the first bad expression. */
export function compileTicketFields(fields: Readonly<Record<string, string>>): CompiledTicketFields {
  const compiled: [string, ParseResult][] = [];
  for (const [field, source] of Object.entries(fields)) {
    let parsed: ParseResult;
    try {
      parsed = env.parse(source);
    } catch (err) {
      throw new TicketFieldError(field, firstLine(err));
    }
    const checked = parsed.check();
    if (!checked.valid) throw new TicketFieldError(field, firstLine(checked.error));
    compiled.push([field, parsed]);
  }
  return {
    fields: compiled.map(([f]) => f),
    evaluate: (input) => {
      const ctx = {
        alert: new TicketAlertFields(
          input.alert.id,
          input.alert.severity,
          input.alert.summary,
          input.alert.details,
          input.alert.status,
          input.alert.source,
          input.alert.fingerprint,
          input.alert.url,
        ),
        service: new TicketServiceFields(input.service.id, input.service.name),
        labels: input.labels,
        annotations: input.annotations,
      };
      const out: Record<string, unknown> = {};
      for (const [field, parsed] of compiled) {
        try {
          out[field] = plain(parsed(ctx));
        } catch (err) {
          throw new TicketFieldError(field, firstLine(err));
        }
      }
      return out;
    },
  };
}
