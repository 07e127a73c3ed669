import { ROOT_CONTEXT, SpanKind, SpanStatusCode, trace, type Attributes, type Span, type Tracer } from '@opentelemetry/api';
import { W3CTraceContextPropagator } from '@opentelemetry/core';
import type { NodeTracerProvider } from '@opentelemetry/sdk-trace-node';

/**
 * OpenTelemetry traces across the pipeline (docs/observability.md#tracing). The trace context
 * travels in NATS message headers (`traceparent`, `tracestate`); each hop (ingest's webhook, the
 * decider, the escalator, the dispatcher, the ticket bridge) makes one span, a child of the
 * context its message carries, and puts its own span's context on what it appends.
 *
 * Off unless OTEL_EXPORTER_OTLP_ENDPOINT is set. Off, every helper here returns at its first
 * line: no span objects, no header reads, nothing added to appended messages.
 */

/** The W3C trace context as it travels in message headers. */
export type TraceHeaders = Readonly<{ traceparent: string; tracestate?: string }>;

/** Where a parent context can be read: NATS message headers (`MsgHdrs`) have this `get`. */
type HeaderReader = { get(key: string): string };

/** One hop's span. `headers`: its context, for the messages the hop appends (undefined when tracing is off). */
export interface Hop {
  readonly headers: TraceHeaders | undefined;
  set(key: string, value: string | number | boolean): void;
  /** Ends the span as failed. */
  fail(err: unknown): void;
  end(): void;
}

const OFF: Hop = Object.freeze({ headers: undefined, set: () => undefined, fail: () => undefined, end: () => undefined });
/** A hop that records nothing: what the helpers return when tracing is off. */
export const NO_HOP: Hop = OFF;

let tracer: Tracer | null = null;
let provider: NodeTracerProvider | null = null;
const propagator = new W3CTraceContextPropagator();

/** Whether this process exports traces. */
export function tracingOn(): boolean {
  return tracer !== null;
}

/**
 * Starts exporting this process's spans by OTLP/HTTP (JSON) to OTEL_EXPORTER_OTLP_ENDPOINT (the
 * exporter adds `/v1/traces` and reads the other OTEL_EXPORTER_OTLP_* settings itself), batched
 * (OTEL_BSP_* settings), with `service.name` = `service`. Returns false (and starts nothing)
 * when the endpoint is not set. Called once per process, by runUntilSignal. The SDK is loaded
 * only then: a process without tracing does not load it at all.
 */
export async function startTracing(service: string, env: NodeJS.ProcessEnv = process.env): Promise<boolean> {
  if (tracer) return true;
  if (!env.OTEL_EXPORTER_OTLP_ENDPOINT && !env.OTEL_EXPORTER_OTLP_TRACES_ENDPOINT) return false;
  const [{ NodeTracerProvider }, { BatchSpanProcessor }, { OTLPTraceExporter }, { resourceFromAttributes }, { ATTR_SERVICE_NAME }] =
    await Promise.all([
      import('@opentelemetry/sdk-trace-node'),
      import('@opentelemetry/sdk-trace-base'),
      import('@opentelemetry/exporter-trace-otlp-http'),
      import('@opentelemetry/resources'),
      import('@opentelemetry/semantic-conventions'),
    ]);
  provider = new NodeTracerProvider({
    resource: resourceFromAttributes({ [ATTR_SERVICE_NAME]: service }),
    spanProcessors: [new BatchSpanProcessor(new OTLPTraceExporter())],
  });
  provider.register({ propagator });
  tracer = provider.getTracer('oncall');
  return true;
}

/** How long stopping waits for the last export: a collector that is gone must not hold up the stop. */
const FLUSH_DEADLINE_MS = 1000;

/** Exports the spans still buffered (waiting at most FLUSH_DEADLINE_MS) and stops; a no-op when tracing is off. Never throws. */
export async function stopTracing(): Promise<void> {
  const p = provider;
  provider = null;
  tracer = null;
  if (!p) return;
  let timer: NodeJS.Timeout | undefined;
  const deadline = new Promise<void>((resolve) => (timer = setTimeout(resolve, FLUSH_DEADLINE_MS)));
  await Promise.race([p.shutdown().catch(() => undefined), deadline]);
  clearTimeout(timer);
  trace.disable();
}

/**
 * The trace context a NATS message carries, for a hop that starts later (or elsewhere): undefined
 * when tracing is off (the headers are not read) or the message carries none.
 */
export function traceOf(m: { readonly headers?: HeaderReader | undefined }): TraceHeaders | undefined {
  if (!tracer) return undefined;
  return fromReader(m.headers);
}

/** A hop started by a NATS message: a child of the context in its headers, or a new trace if it carries none. */
export function hopFromMessage(
  name: string,
  m: { readonly headers?: HeaderReader | undefined },
  attributes?: Attributes,
  kind: SpanKind = SpanKind.CONSUMER,
): Hop {
  if (!tracer) return OFF;
  return startHop(name, fromReader(m.headers), attributes, kind);
}

/** A hop whose parent context was carried along (traceOf), or a new trace when there is none. */
export function hopFrom(name: string, parent: TraceHeaders | undefined, attributes?: Attributes, kind: SpanKind = SpanKind.CONSUMER): Hop {
  if (!tracer) return OFF;
  return startHop(name, parent, attributes, kind);
}

/**
 * Runs `work` as the hop's span: ended when it resolves (`result` may first set attributes from
 * its value), failed and rethrown when it throws.
 */
export async function inHop<T>(hop: Hop, work: () => Promise<T>, result?: (value: T) => void): Promise<T> {
  try {
    const value = await work();
    result?.(value);
    hop.end();
    return value;
  } catch (err) {
    hop.fail(err);
    throw err;
  }
}

/** A hop started by an HTTP request: honours the caller's `traceparent` header, else a new trace. */
export function hopFromHttp(name: string, headers: Readonly<Record<string, string | string[] | undefined>>, attributes?: Attributes): Hop {
  if (!tracer) return OFF;
  const traceparent = headers.traceparent;
  const tracestate = headers.tracestate;
  const parent = typeof traceparent === 'string' ? { traceparent, ...(typeof tracestate === 'string' && { tracestate }) } : undefined;
  return startHop(name, parent, attributes, SpanKind.SERVER);
}

/** The trace id of a `traceparent` value (version 00 format), or null when it is not one. */
export function traceIdOf(traceparent: string | undefined): string | null {
  if (!traceparent) return null;
  const m = /^[0-9a-f]{2}-([0-9a-f]{32})-[0-9a-f]{16}-[0-9a-f]{2}$/.exec(traceparent.trim());
  return m && !/^0+$/.test(m[1]!) ? m[1]! : null;
}

function fromReader(h: HeaderReader | undefined): TraceHeaders | undefined {
  if (!h) return undefined;
  const traceparent = h.get('traceparent');
  if (!traceparent) return undefined;
  const tracestate = h.get('tracestate');
  return tracestate ? { traceparent, tracestate } : { traceparent };
}

function startHop(name: string, parent: TraceHeaders | undefined, attributes: Attributes | undefined, kind: SpanKind): Hop {
  // An invalid traceparent extracts to nothing: the hop starts a new trace.
  const parentContext = parent ? propagator.extract(ROOT_CONTEXT, parent, getter) : ROOT_CONTEXT;
  const span = tracer!.startSpan(name, { kind, ...(attributes && { attributes }) }, parentContext);
  const carrier: { traceparent?: string; tracestate?: string } = {};
  propagator.inject(trace.setSpan(ROOT_CONTEXT, span), carrier, setter);
  return new SpanHop(span, carrier.traceparent ? (carrier as TraceHeaders) : undefined);
}

class SpanHop implements Hop {
  private ended = false;
  constructor(
    private readonly span: Span,
    readonly headers: TraceHeaders | undefined,
  ) {}
  set(key: string, value: string | number | boolean): void {
    this.span.setAttribute(key, value);
  }
  fail(err: unknown): void {
    if (this.ended) return;
    this.span.recordException(err instanceof Error ? err : String(err));
    this.span.setStatus({ code: SpanStatusCode.ERROR, message: err instanceof Error ? err.message : String(err) });
    this.end();
  }
  end(): void {
    if (this.ended) return;
    this.ended = true;
    this.span.end();
  }
}

const getter = {
  keys: (c: TraceHeaders) => Object.keys(c),
  get: (c: TraceHeaders, key: string) => (key === 'traceparent' ? c.traceparent : key === 'tracestate' ? c.tracestate : undefined),
};
const setter = {
  set: (c: { traceparent?: string; tracestate?: string }, key: string, value: string) => {
    if (key === 'traceparent' || key === 'tracestate') c[key] = value;
  },
};
