import { randomBytes } from 'node:crypto';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CONSUMERS, STREAMS } from '@oncall/contracts';
import { createReadModelPool } from '@oncall/shared';
import { waitForProjection } from '@oncall/projector';
import { getAlert } from '@oncall/query-api';
import { startOtlpReceiver, type OtlpReceiver, type ReceivedSpan } from './fakes/otlp.js';
import type { Recorder } from './fakes/http.js';
import { amAlert, amPayload } from './fixtures.js';
import { createTestDatabase, startTestNats, streamLastSeq, type TestNats } from './harness.js';
import { startUpOn } from './up-process.js';

/** Waits (on each span received, no polling) until `done` holds for the spans so far; fails after `timeoutMs`. */
async function spansUntil(spans: Recorder<ReceivedSpan>, done: (s: readonly ReceivedSpan[]) => boolean, timeoutMs = 30_000) {
  const deadline = Date.now() + timeoutMs;
  while (!done(spans.items)) await spans.waitFor(spans.items.length + 1, Math.max(1, deadline - Date.now()));
  return spans.items;
}

const hex = (bytes: number) => randomBytes(bytes).toString('hex');

describe('traces across the pipeline, every service its own process (oncall up)', () => {
  let otlp: OtlpReceiver;
  let nats: TestNats;
  let db: { url: string; schema: string };
  let running: Awaited<ReturnType<typeof startUpOn>> | undefined;
  let ingestUrl: string;

  beforeAll(async () => {
    [otlp, nats, db] = await Promise.all([startOtlpReceiver(), startTestNats(), createTestDatabase()]);
    running = await startUpOn(nats, db, {
      OTEL_EXPORTER_OTLP_ENDPOINT: otlp.endpoint,
      // Spans leave each process within 100 ms instead of 5 s.
      OTEL_BSP_SCHEDULE_DELAY: '100',
    });
    ingestUrl = running.ingestUrl;
  }, 120_000);

  afterAll(async () => {
    await running?.stop();
    await Promise.allSettled([otlp?.close(), nats?.stop()]);
  });

  const post = (body: string, headers: Record<string, string> = {}) =>
    fetch(`${ingestUrl}/api/v1/webhook/alertmanager`, {
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
