import { randomBytes } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CONSUMERS, STREAMS, type EventOf } from '@oncall/contracts';
import { createReadModelPool } from '@oncall/shared';
import { waitForProjection } from '@oncall/projector';
import { getAlert } from '@oncall/query-api';
import { followStream, type FollowedStream } from './escalation-log.js';
import { startOtlpReceiver, type OtlpReceiver, type ReceivedSpan } from './fakes/otlp.js';
import type { Recorder } from './fakes/http.js';
import { amAlert, amPayload } from './fixtures.js';
import { createTestDatabase, startTestNats, streamLastSeq, type TestNats } from './harness.js';
import { startUpOn } from './up-process.js';

/**
 * Metrics and traces of the pipeline with every service its own process: one `oncall up` (eight
 * processes, the costliest start in the suite) serves both. The metrics storm runs first, on an
 * empty system, so its counters and gauges are its own; the traces follow on the same system.
 */

const DOCS = new URL('../docs/observability.md', import.meta.url);
const DASHBOARD = new URL('../infra/grafana/oncall-noc-dashboard.json', import.meta.url);

const PROCESSES = ['ingest', 'decider', 'projector', 'escalator', 'dispatcher', 'query-api', 'ticket-bridge', 'oncall up'] as const;
type Process = (typeof PROCESSES)[number];

type Documented = { name: string; type: string; labels: string[]; exposedBy: Set<Process> };

/** The table of docs/observability.md#metrics: metric, type, labels, exposed by. */
function documentedMetrics(markdown: string): Documented[] {
  const section = markdown.slice(markdown.indexOf('## Metrics'));
  const rows: Documented[] = [];
  for (const m of section.matchAll(/^\| `(oncall_\w+)` \| (counter|gauge|histogram) \| ([^|]*) \| ([^|]*) \|/gm)) {
    const labels = m[3]!.trim() === '—' ? [] : [...m[3]!.matchAll(/`(\w+)`/g)].map((l) => l[1]!);
    const by = m[4]!.trim() === 'all' ? [...PROCESSES] : m[4]!.split(',').map((p) => p.trim() as Process);
    for (const p of by) if (!PROCESSES.includes(p)) throw new Error(`${m[1]}: unknown process "${p}" in docs/observability.md`);
    rows.push({ name: m[1]!, type: m[2]!, labels: labels.sort(), exposedBy: new Set(by) });
  }
  return rows;
}

type Sample = { name: string; labels: Record<string, string>; value: number };
/** A /metrics page: TYPE of each metric, and its samples. */
type Scrape = { types: Map<string, string>; samples: Sample[] };

function parseMetrics(text: string): Scrape {
  const types = new Map<string, string>();
  const samples: Sample[] = [];
  for (const line of text.split('\n')) {
    const type = /^# TYPE (\S+) (\S+)$/.exec(line);
    if (type) types.set(type[1]!, type[2]!);
    if (line === '' || line.startsWith('#')) continue;
    const m = /^([a-zA-Z_:][\w:]*)(?:\{(.*)\})? (\S+)$/.exec(line);
    if (!m) throw new Error(`not a sample line: ${line}`);
    const labels = Object.fromEntries([...(m[2] ?? '').matchAll(/(\w+)="((?:[^"\\]|\\.)*)"/g)].map((l) => [l[1]!, l[2]!]));
    samples.push({ name: m[1]!, labels, value: Number(m[3]) });
  }
  return { types, samples };
}

/** The sum of a metric's samples whose labels include `match`. */
const total = (s: Scrape, name: string, match: Record<string, string> = {}) =>
  s.samples
    .filter((x) => x.name === name && Object.entries(match).every(([k, v]) => x.labels[k] === v))
    .reduce((sum, x) => sum + x.value, 0);

/** The metric a sample belongs to: a histogram's `_bucket`, `_sum` and `_count` are its own. */
function metricOf(sample: string, types: ReadonlyMap<string, string>): string {
  const base = sample.replace(/_(bucket|sum|count)$/, '');
  return base !== sample && types.get(base) === 'histogram' ? base : sample;
}

/**
 * The metric names a PromQL expression selects: what is left once strings, label matchers, ranges,
 * `by (…)`/`without (…)` lists, functions (a name before a parenthesis), keywords and numbers are
 * taken out.
 */
function promqlMetrics(expr: string): string[] {
  const stripped = expr
    .replace(/"(?:[^"\\]|\\.)*"|'(?:[^'\\]|\\.)*'/g, ' ')
    .replace(/\{[^}]*\}/g, ' ')
    .replace(/\[[^\]]*\]/g, ' ')
    .replace(/\b(by|without|on|ignoring|group_left|group_right)\s*\([^)]*\)/g, ' ');
  const keywords = new Set(['by', 'without', 'on', 'ignoring', 'group_left', 'group_right', 'bool', 'and', 'or', 'unless', 'offset']);
  const names: string[] = [];
  for (const m of stripped.matchAll(/\b([a-zA-Z_:][\w:]*)\b(\s*\()?/g)) {
    if (m[2] || keywords.has(m[1]!) || /^(inf|nan)$/i.test(m[1]!)) continue;
    names.push(m[1]!);
  }
  return names;
}

describe('promqlMetrics', () => {
  it.each([
    ['sum by (source) (rate(oncall_ingest_signals_total[5m]))', ['oncall_ingest_signals_total']],
    ['histogram_quantile(0.99, sum by (le) (rate(x_seconds_bucket{job="a", le!="+Inf"}[5m])))', ['x_seconds_bucket']],
    ['a / on (job) group_left b offset 5m > bool 0', ['a', 'b']],
    ['max without (instance) (up) or vector(0)', ['up']],
  ])('%s', (expr, names) => {
    expect(promqlMetrics(expr)).toEqual(names);
  });
});

/** Waits (on each span received, no polling) until `done` holds for the spans so far; fails after `timeoutMs`. */
async function spansUntil(spans: Recorder<ReceivedSpan>, done: (s: readonly ReceivedSpan[]) => boolean, timeoutMs = 30_000) {
  const deadline = Date.now() + timeoutMs;
  while (!done(spans.items)) await spans.waitFor(spans.items.length + 1, Math.max(1, deadline - Date.now()));
  return spans.items;
}

const hex = (bytes: number) => randomBytes(bytes).toString('hex');

let otlp: OtlpReceiver;
let nats: TestNats;
let db: { url: string; schema: string };
let running: Awaited<ReturnType<typeof startUpOn>>;

beforeAll(async () => {
  [otlp, nats, db] = await Promise.all([startOtlpReceiver(), startTestNats(), createTestDatabase()]);
  running = await startUpOn(nats, db, {
    OTEL_EXPORTER_OTLP_ENDPOINT: otlp.endpoint,
    // Spans leave each process within 100 ms instead of 5 s.
    OTEL_BSP_SCHEDULE_DELAY: '100',
  });
}, 120_000);

afterAll(async () => {
  await running?.stop();
  await Promise.allSettled([otlp?.close(), nats?.stop()]);
});

describe("every process's /metrics (oncall up, every service its own process)", () => {
  let urls: Record<Process, string>;
  let escalations: FollowedStream;
  let deliveries: FollowedStream;
  let before: Record<Process, Scrape>;
  let after: Record<Process, Scrape>;

  const scrapeAll = async (): Promise<Record<Process, Scrape>> => {
    const pages = await Promise.all(
      PROCESSES.map(async (p) => {
        const res = await fetch(urls[p]);
        expect(res.status, p).toBe(200);
        expect(res.headers.get('content-type'), p).toMatch(/^text\/plain; version=0\.0\.4/);
        return [p, parseMetrics(await res.text())] as const;
      }),
    );
    return Object.fromEntries(pages) as Record<Process, Scrape>;
  };

  beforeAll(async () => {
    const local = (port: string | undefined) => `http://127.0.0.1:${port}/metrics`;
    const ports = running.ports;
    urls = {
      ingest: `${running.ingestUrl}/metrics`,
      decider: local(ports.DECIDER_METRICS_PORT),
      projector: local(ports.PROJECTOR_METRICS_PORT),
      escalator: local(ports.ESCALATOR_METRICS_PORT),
      dispatcher: local(ports.DISPATCHER_METRICS_PORT),
      'query-api': local(ports.QUERY_API_METRICS_PORT),
      'ticket-bridge': local(ports.TICKET_BRIDGE_METRICS_PORT),
      'oncall up': local(ports.UP_METRICS_PORT),
    };
    const admin = await nats.connect('test');
    [escalations, deliveries] = await Promise.all([followStream(admin, STREAMS.escalations), followStream(admin, STREAMS.deliveries)]);
    before = await scrapeAll();

    // A small storm: 50 new alerts in 5 requests.
    const summaries = new Set<string>();
    for (let r = 0; r < 5; r++) {
      const alerts = Array.from({ length: 10 }, (_, i) => amAlert(`MetricsStorm${r}x${i}`));
      for (const a of alerts) summaries.add(a.annotations.summary!);
      const res = await fetch(`${running.ingestUrl}/api/v1/webhook/alertmanager`, {
        method: 'POST',
        headers: { authorization: 'Bearer demo-alertmanager-key-0001', 'content-type': 'application/json' },
        body: amPayload(alerts),
      });
      expect(res.status).toBe(202);
    }
    // Every storm alert paged and every page delivered (each notification has at least one delivery), and all of it projected.
    const requested = (await escalations.waitFor(
      (e) => e.type === 'NotificationRequested' && summaries.has(e.data.alert.summary),
      50,
      60_000,
    )) as Array<EventOf<'NotificationRequested'>>;
    const pages = new Set(requested.map((e) => e.data.notificationId));
    await deliveries.waitFor((e) => e.type === 'NotificationDelivered' && pages.has(e.data.notificationId), 50, 60_000);
    for (const [stream, projection] of [
      [STREAMS.alerts, CONSUMERS.projectorAlerts],
      [STREAMS.escalations, CONSUMERS.projectorEscalations],
      [STREAMS.deliveries, CONSUMERS.projectorDeliveries],
    ] as const)
      await waitForProjection(db.url, db.schema, projection, await streamLastSeq(admin, stream), 60_000);
    after = await scrapeAll();
  }, 180_000);

  afterAll(async () => {
    await Promise.allSettled([escalations?.close(), deliveries?.close()]);
  });

  it('lists exactly the oncall_* metrics docs/observability.md says, with their types and labels', async () => {
    const documented = documentedMetrics(await readFile(DOCS, 'utf8'));
    expect(documented.length).toBeGreaterThan(40);
    for (const p of PROCESSES) {
      const page = after[p];
      const exposed = [...page.types.keys()].filter((n) => n.startsWith('oncall_') && !n.startsWith('oncall_process_')).sort();
      const expected = documented.filter((d) => d.exposedBy.has(p));
      expect({ process: p, metrics: exposed }).toEqual({ process: p, metrics: expected.map((d) => d.name).sort() });
      for (const d of expected) {
        expect({ process: p, metric: d.name, type: page.types.get(d.name) }).toEqual({ process: p, metric: d.name, type: d.type });
        // Labels as far as samples show them (a labelled metric has none before its first change).
        for (const s of page.samples.filter((x) => metricOf(x.name, page.types) === d.name)) {
          const labels = Object.keys(s.labels)
            .filter((l) => !(d.type === 'histogram' && l === 'le'))
            .sort();
          expect({ process: p, sample: s.name, labels }).toEqual({ process: p, sample: s.name, labels: d.labels });
        }
      }
      // prom-client's process metrics, on every process.
      expect(page.types.get('oncall_process_process_cpu_seconds_total'), p).toBe('counter');
    }
  });

  it('a storm of 50 alerts moves the webhook, decider, projector, escalator and delivery counters', () => {
    const delta = (p: Process, name: string, match: Record<string, string> = {}) =>
      total(after[p], name, match) - total(before[p], name, match);
    expect({
      webhooks: delta('ingest', 'oncall_ingest_requests_total', { source: 'alertmanager', status: '202' }),
      answerTimes: delta('ingest', 'oncall_ingest_request_duration_seconds_count', { source: 'alertmanager' }),
      accepted: delta('ingest', 'oncall_ingest_signals_total', { source: 'alertmanager' }),
      triggered: delta('decider', 'oncall_decider_events_total', { type: 'AlertTriggered' }),
      projected: delta('projector', 'oncall_projector_events_total', { projection: CONSUMERS.projectorAlerts }),
      routed: delta('escalator', 'oncall_escalator_events_total', { type: 'AlertRouted' }),
    }).toEqual({ webhooks: 5, answerTimes: 5, accepted: 50, triggered: 50, projected: 50, routed: 50 });
    // One intake message per request and partition touched.
    expect(delta('decider', 'oncall_decider_inputs_total')).toBeGreaterThanOrEqual(5);
    expect(delta('escalator', 'oncall_escalator_events_total', { type: 'NotificationRequested' })).toBeGreaterThanOrEqual(50);
    expect(delta('dispatcher', 'oncall_dispatcher_deliveries_total', { outcome: 'delivered' })).toBeGreaterThanOrEqual(50);
    expect(delta('dispatcher', 'oncall_dispatcher_deliveries_total', { outcome: 'failed' })).toBe(0);
    // The work is done where it is done: the decider process accepts no webhooks, ingest decides nothing.
    expect(total(after.decider, 'oncall_ingest_signals_total')).toBe(0);
    expect(total(after.ingest, 'oncall_decider_events_total')).toBe(0);
    // Gauges follow: the alerts projection is at the stream's end, the decider holds the 50 open alerts.
    expect(total(after.projector, 'oncall_projector_lag_events', { projection: CONSUMERS.projectorAlerts })).toBe(0);
    expect(total(after.decider, 'oncall_decider_open_alerts')).toBe(50);
  });

  // Its SQL panels are run against the views in replay.int.test.ts.
  it("the Grafana dashboard's PromQL names only metrics the processes expose", async () => {
    type Target = { expr?: string };
    const dashboard = JSON.parse(await readFile(DASHBOARD, 'utf8')) as { panels: Array<{ title: string; targets?: Target[] }> };
    const targets = dashboard.panels.flatMap((p) => (p.targets ?? []).map((t) => ({ panel: p.title, ...t })));
    const types = new Map<string, string>();
    for (const p of PROCESSES) for (const [n, t] of after[p].types) types.set(n, t);
    const promql = targets.filter((t) => t.expr !== undefined);
    expect(promql.length).toBeGreaterThan(0);
    for (const t of promql) expect(promqlMetrics(t.expr!).length, t.panel).toBeGreaterThan(0);
    // A histogram's `_bucket`, `_sum` and `_count` are its own (they have no TYPE line of their own).
    const unknown = promql.flatMap((t) =>
      promqlMetrics(t.expr!)
        .filter((n) => !types.has(metricOf(n, types)))
        .map((n) => `${t.panel}: ${n}`),
    );
    expect(unknown).toEqual([]);
  });
});

describe('traces across the pipeline, every service its own process (oncall up)', () => {
  const post = (body: string, headers: Record<string, string> = {}) =>
    fetch(`${running.ingestUrl}/api/v1/webhook/alertmanager`, {
      method: 'POST',
      headers: { authorization: 'Bearer demo-alertmanager-key-0001', 'content-type': 'application/json', ...headers },
      body,
    });

  const query = async <T extends pg.QueryResultRow>(text: string, values: unknown[]): Promise<T | undefined> => {
    const client = new pg.Client({ connectionString: db.url });
    await client.connect();
    try {
      return (await client.query<T>(text, values)).rows[0];
    } finally {
      await client.end();
    }
  };
  const traceIdOfAlert = async (alertId: string) =>
    (await query<{ trace_id: string | null }>(`SELECT trace_id FROM "${db.schema}".alerts WHERE id = $1`, [alertId]))?.trace_id ?? null;
  const alertRow = (summary: string) =>
    query<{ id: string; trace_id: string | null }>(`SELECT id, trace_id FROM "${db.schema}".alerts WHERE summary = $1`, [summary]);

  it("carries the caller's trace from the webhook through decide, escalate, dispatch and the ticket, and records it on the alert", async () => {
    const traceId = hex(16);
    const callerSpan = hex(8);
    // team=db: the example configuration's routing rule asks the `jira` provider for a ticket.
    const alert = amAlert('TracedDiskFull', { labels: { alertname: 'TracedDiskFull', severity: 'critical', team: 'db' } });
    const res = await post(amPayload([alert]), { traceparent: `00-${traceId}-${callerSpan}-01` });
    expect(res.status).toBe(202);

    const ofTrace = (s: readonly ReceivedSpan[]) => s.filter((x) => x.traceId === traceId);
    const one = (s: readonly ReceivedSpan[], name: string | RegExp, attrs: Record<string, string> = {}) =>
      ofTrace(s).filter(
        (x) =>
          (typeof name === 'string' ? x.name === name : name.test(x.name)) &&
          Object.entries(attrs).every(([k, v]) => x.attributes[k] === v),
      );
    const spans = await spansUntil(otlp.spans, (s) =>
      [
        one(s, 'ingest webhook'),
        one(s, 'decide'),
        one(s, 'escalate', { 'oncall.input': 'AlertTriggered' }),
        one(s, /^dispatch /),
        one(s, 'ticket jira'),
      ].every((found) => found.length > 0),
    );
    expect(otlp.refused).toEqual([]);

    // One chain of parents, each span from its own process (service.name) and naming its service.
    const [ingest] = one(spans, 'ingest webhook');
    const [decide] = one(spans, 'decide');
    const [escalate] = one(spans, 'escalate', { 'oncall.input': 'AlertTriggered' });
    const [dispatch] = one(spans, /^dispatch /);
    const [ticket] = one(spans, 'ticket jira');
    const hop = (s: ReceivedSpan | undefined) =>
      s && { service: s.service, attribute: s.attributes['oncall.service'], parent: s.parentSpanId };
    expect(hop(ingest)).toEqual({ service: 'ingest', attribute: 'ingest', parent: callerSpan });
    expect(hop(decide)).toEqual({ service: 'decider', attribute: 'decider', parent: ingest!.spanId });
    expect(hop(escalate)).toEqual({ service: 'escalator', attribute: 'escalator', parent: decide!.spanId });
    expect(hop(dispatch)).toEqual({ service: 'dispatcher', attribute: 'dispatcher', parent: escalate!.spanId });
    expect(hop(ticket)).toEqual({ service: 'ticket-bridge', attribute: 'ticket-bridge', parent: escalate!.spanId });
    expect(ingest!.attributes).toMatchObject({ 'oncall.source': 'alertmanager', 'oncall.service_id': 'demo', 'oncall.signals': 1 });
    expect(dispatch!.attributes['oncall.channel']).toBe(dispatch!.name.slice('dispatch '.length));
    expect(dispatch!.attributes['oncall.outcome']).toBe('sent');

    // The alert's trace id, for the console's link: from the AlertTriggered message's headers.
    const alertId = String(escalate!.attributes['oncall.alert_id']);
    expect(dispatch!.attributes['oncall.alert_id']).toBe(alertId);
    await waitForProjection(db.url, db.schema, CONSUMERS.projectorAlerts, 1);
    expect(await traceIdOfAlert(alertId)).toBe(traceId);
    const pool = await createReadModelPool(db.url, db.schema);
    try {
      expect((await getAlert(pool, alertId))?.traceId).toBe(traceId);
    } finally {
      await pool.end();
    }
  }, 60_000);

  it('starts a trace for a request without a traceparent, or with a malformed one, and the alert records that trace', async () => {
    const earlier = new Set<string>();
    for (const [name, headers] of [
      ['UntracedCaller', {}],
      ['MalformedTraceparent', { traceparent: '00-not-a-trace-context-01' }],
    ] as const) {
      const admin = await nats.connect('test');
      const before = await streamLastSeq(admin, STREAMS.alerts);
      expect((await post(amPayload([amAlert(name)]), headers)).status).toBe(202);
      await waitForProjection(db.url, db.schema, CONSUMERS.projectorAlerts, before + 1);
      const row = await alertRow(`${name} is down`);
      expect(row?.trace_id).toMatch(/^[0-9a-f]{32}$/);
      const traceId = row!.trace_id!;
      expect(earlier.has(traceId)).toBe(false);
      earlier.add(traceId);
      const spans = await spansUntil(otlp.spans, (s) =>
        ['ingest webhook', 'decide'].every((n) => s.some((x) => x.traceId === traceId && x.name === n)),
      );
      const ingest = spans.find((x) => x.traceId === traceId && x.name === 'ingest webhook')!;
      const decide = spans.find((x) => x.traceId === traceId && x.name === 'decide')!;
      expect([ingest.parentSpanId, decide.parentSpanId]).toEqual(['', ingest.spanId]);
    }
  }, 60_000);
});
