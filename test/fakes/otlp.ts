import { Recorder, sendJson, startHttpServer } from './http.js';

/** A span as the OTLP/HTTP receiver got it; ids in hex, attributes flattened. */
export type ReceivedSpan = Readonly<{
  /** The resource's `service.name`: the process that sent it. */
  service: string;
  name: string;
  traceId: string;
  spanId: string;
  /** '' for a root span. */
  parentSpanId: string;
  kind: number;
  attributes: Readonly<Record<string, string | number | boolean>>;
}>;

export type OtlpReceiver = {
  /** What to set OTEL_EXPORTER_OTLP_ENDPOINT to (the exporter adds `/v1/traces`). */
  endpoint: string;
  spans: Recorder<ReceivedSpan>;
  /** Request bodies that were not OTLP/JSON trace exports (a test fails on any). */
  refused: string[];
  close: () => Promise<void>;
};

type AnyValue = { stringValue?: string; boolValue?: boolean; intValue?: number | string; doubleValue?: number };
type KeyValue = { key: string; value?: AnyValue };
/** The parts of an ExportTraceServiceRequest in OTLP/JSON (opentelemetry-proto, JSON mapping) read here. */
type ExportRequest = {
  resourceSpans?: Array<{
    resource?: { attributes?: KeyValue[] };
    scopeSpans?: Array<{
      spans?: Array<{ traceId: string; spanId: string; parentSpanId?: string; name: string; kind?: number; attributes?: KeyValue[] }>;
    }>;
  }>;
};

/**
 * A local OTLP/HTTP trace receiver. `@opentelemetry/exporter-trace-otlp-http` posts JSON
 * (`Content-Type: application/json`, ids as hex strings) to `<endpoint>/v1/traces`; each span is
 * recorded. Anything else is answered 400 and kept in `refused`.
 */
export async function startOtlpReceiver(): Promise<OtlpReceiver> {
  const spans = new Recorder<ReceivedSpan>();
  const refused: string[] = [];
  const server = await startHttpServer((req, res, body) => {
    if (req.method !== 'POST' || req.url !== '/v1/traces' || !String(req.headers['content-type']).startsWith('application/json')) {
      refused.push(`${req.method} ${req.url} ${req.headers['content-type']}`);
      sendJson(res, 400, {});
      return;
    }
    let request: ExportRequest;
    try {
      request = JSON.parse(body) as ExportRequest;
    } catch {
      refused.push(body.slice(0, 200));
      sendJson(res, 400, {});
      return;
    }
    for (const rs of request.resourceSpans ?? []) {
      const service = String(flatten(rs.resource?.attributes)['service.name'] ?? '');
      for (const ss of rs.scopeSpans ?? [])
        for (const s of ss.spans ?? [])
          spans.push({
            service,
            name: s.name,
            traceId: s.traceId,
            spanId: s.spanId,
            parentSpanId: s.parentSpanId ?? '',
            kind: s.kind ?? 0,
            attributes: flatten(s.attributes),
          });
    }
    sendJson(res, 200, {});
  });
  return { endpoint: `http://127.0.0.1:${server.port}`, spans, refused, close: () => server.close() };
}

function flatten(attributes: KeyValue[] | undefined): Record<string, string | number | boolean> {
  const out: Record<string, string | number | boolean> = {};
  for (const { key, value } of attributes ?? []) {
    if (!value) continue;
    const v = value.stringValue ?? value.boolValue ?? value.doubleValue ?? value.intValue;
    if (v !== undefined) out[key] = typeof v === 'string' && value.intValue !== undefined ? Number(v) : v;
  }
  return out;
}
