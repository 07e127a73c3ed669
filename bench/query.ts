/**
 * `npm run bench:query` (issue 17): ListAlerts and GetAlert over a large alerts read model.
 *
 * BENCH_ALERTS (1,000,000) alerts are written straight into the read model with SQL (alerts,
 * alert_escalations for 90% of them, tickets for 1%: the tables alerts_with_escalation joins),
 * secondary indexes dropped for the load and built again as the migrations define them, then
 * VACUUM ANALYZE. query-api runs as deployed (query-api/src/main.ts, its own process, beside a
 * nats-server and an embedded PostgreSQL); this process is a grpc-js client. Measured:
 *   first_page_p99_ms   ListAlerts with the default page size (100), p99 of BENCH_PAGES (200) calls
 *                       per filter (none, status=triggered, label site=ams2, one service), call → last
 *                       alert received; the worst filter is the headline, each in first_page_p99_ms_by_filter;
 *                       first_page_1000_p99_ms: pages of 1000, no filter;
 *   stream_alerts_per_sec  one ListAlerts stream of BENCH_STREAM (100,000) alerts (page_size), median
 *                       of 3, messages counted but not decoded (the client shares the two cores);
 *                       stream_alerts_per_sec_decoded: once, decoded by ts-proto as a client would;
 *   get_alert_p99_ms    GetAlert of BENCH_GETS (1000) random alerts, one at a time;
 *   cpu_ms_per_alert    CPU ms per streamed alert of query-api, PostgreSQL and this client (the stream phase);
 *   rss_mb              peak RSS of query-api, nats-server and this client.
 * One JSON line on stdout at the end; progress on stderr.
 */
import { createHash } from 'node:crypto';
import { chmod, mkdtemp, rm } from 'node:fs/promises';
import { availableParallelism, loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import getPort from 'get-port';
import pg from 'pg';
import { Client, credentials, type ServiceError, type StatusObject } from '@grpc/grpc-js';
import { alertingV1 } from '@oncall/contracts/grpc';
import { ensureDatabase, migrate, startEmbeddedPostgres, startNatsServer } from '@oncall/infra';
import { NEXT_PAGE_TOKEN } from '@oncall/query-api';
import { bearerToken, closeNats, connectNats, createApiToken, createLogger, ensureTopology } from '@oncall/shared';
import { percentile } from './load.js';
import { cpuMs, cpuSeconds, postgresPids, rssMb, say, spawnService, stopProcess, whenReady } from './processes.js';

const ALERTS = Number(process.env.BENCH_ALERTS ?? 1_000_000);
const PAGES = Number(process.env.BENCH_PAGES ?? 200);
const STREAM = Number(process.env.BENCH_STREAM ?? 100_000);
const GETS = Number(process.env.BENCH_GETS ?? 1000);
const SCHEMA = 'oncall';
const SERVICES = 50;
const SITES = ['fra1', 'ams2', 'lon3', 'par1', 'nyc4', 'sjc2', 'sin1', 'syd1', 'gru1', 'waw1'];
const { AlertStatus } = alertingV1;

/** The id of the g-th alert: md5 as a UUID, as the load writes it (random-looking, reproducible). */
const alertId = (g: number): string => {
  const h = createHash('md5').update(`alert-${g}`).digest('hex');
  return `${h.slice(0, 8)}-${h.slice(8, 12)}-${h.slice(12, 16)}-${h.slice(16, 20)}-${h.slice(20)}`;
};

/**
 * The alerts: 5% triggered, 2% acknowledged, 1% snoozed, the rest resolved; 50 services, 10 sites,
 * two alerts per created_at (ties the keyset order must break by id), one every 1.25 s on average.
 */
const LOAD_ALERTS = `
INSERT INTO alerts (id, service_id, fingerprint, status, source, summary, details, severity, labels, annotations, links, custom,
  generator_url, starts_at, created_at, updated_at, acknowledged_at, acknowledged_by, first_acknowledged_at, resolved_at, resolved_by,
  snoozed_until, snoozed_by, repeat_count, last_seen_at, last_event_seq)
SELECT md5('alert-' || g)::uuid, 'svc-' || (g % ${SERVICES}), md5('fp-' || g),
  CASE WHEN g % 100 < 5 THEN 'triggered' WHEN g % 100 < 7 THEN 'acknowledged' WHEN g % 100 < 8 THEN 'snoozed' ELSE 'resolved' END,
  'alertmanager', name || ' on ' || site || '-edge-' || (g % 97), name || ' has been firing for more than 2 minutes on ' || site || '-edge-' || (g % 97),
  (ARRAY['critical', 'warning', 'info'])[g % 3 + 1],
  jsonb_build_object('alertname', name, 'site', site, 'device', site || '-edge-' || (g % 97), 'instance', '10.0.' || (g % 250) || '.' || (g % 7) || ':9100',
    'job', 'node', 'team', CASE WHEN g % 2 = 0 THEN 'network' ELSE 'platform' END, 'severity', (ARRAY['critical', 'warning', 'page'])[g % 3 + 1]),
  jsonb_build_object('summary', name || ' on ' || site, 'runbook_url', 'https://runbooks.example.net/' || lower(name)),
  '[]'::jsonb, '{}'::jsonb, 'http://prometheus.' || site || '.example.net/graph?g0.expr=up%3D%3D0', t, t, t + interval '5 minutes',
  CASE WHEN g % 100 BETWEEN 5 AND 7 THEN t + interval '2 minutes' END, CASE WHEN g % 100 BETWEEN 5 AND 7 THEN 'user-' || (g % 17) END,
  CASE WHEN g % 100 BETWEEN 5 AND 7 OR g % 100 >= 40 THEN t + interval '2 minutes' END,
  CASE WHEN g % 100 >= 8 THEN t + interval '5 minutes' END, CASE WHEN g % 100 >= 90 THEN 'user-' || (g % 17) END,
  CASE WHEN g % 100 = 7 THEN t + interval '1 hour' END, CASE WHEN g % 100 = 7 THEN 'user-' || (g % 17) END,
  g % 5, t + interval '5 minutes', g
FROM (
  SELECT g, timestamptz '2026-10-01T00:00:00Z' + (g / 2) * interval '2500 milliseconds' AS t,
    (ARRAY['InstanceDown', 'BGPSessionDown', 'InterfaceDown', 'HighPacketLoss', 'LinkFlapping', 'HighLatency'])[g % 6 + 1] AS name,
    (ARRAY[${SITES.map((s) => `'${s}'`).join(', ')}])[g % ${SITES.length} + 1] AS site
  FROM generate_series(1, $1::int) g
) s`;

const LOAD_ESCALATIONS = `
INSERT INTO alert_escalations (alert_id, service_id, alert_seq, routed_at, routes, policy_id, escalation_step, escalation_round,
  escalation_page, step_reached_at, escalation_stopped_reason, notifications_requested, updated_at, last_event_seq, site, group_key, tier)
SELECT md5('alert-' || g)::uuid, 'svc-' || (g % ${SERVICES}), g, t, 1, 'policy-' || (g % 5), g % 3, 0, 0, t,
  CASE WHEN g % 100 >= 8 THEN 'resolved' END, 1 + g % 3, t + interval '5 minutes', g,
  (ARRAY[${SITES.map((s) => `'${s}'`).join(', ')}])[g % ${SITES.length} + 1], 'svc-' || (g % ${SERVICES}) || '/' || (g % 1000),
  CASE WHEN g % 5 = 0 THEN 'gold' END
FROM (SELECT g, timestamptz '2026-10-01T00:00:00Z' + (g / 2) * interval '2500 milliseconds' AS t FROM generate_series(1, $1::int) g) s
WHERE g % 10 <> 0`;

const LOAD_TICKETS = `
INSERT INTO tickets (alert_id, provider_id, ticket_key, service_id, url, status, created_at, updated_at, last_event_seq)
SELECT md5('alert-' || g)::uuid, 'jira', 'OPS-' || g, 'svc-' || (g % ${SERVICES}), 'https://jira.example.net/browse/OPS-' || g, 'open',
  now(), now(), g
FROM generate_series(1, $1::int) g WHERE g % 100 = 3`;

/** Loads the read model: secondary indexes dropped, rows inserted, the same indexes built again. */
async function load(db: pg.Client): Promise<void> {
  const { rows: indexes } = await db.query<{ name: string; def: string }>(
    `SELECT i.indexname AS name, i.indexdef AS def FROM pg_indexes i
     WHERE i.schemaname = current_schema() AND i.tablename IN ('alerts', 'alert_escalations', 'tickets')
       AND NOT EXISTS (SELECT 1 FROM pg_constraint c WHERE c.conname = i.indexname)`,
  );
  for (const { name } of indexes) await db.query(`DROP INDEX ${name}`);
  for (const [what, statement] of [
    ['alerts', LOAD_ALERTS],
    ['alert_escalations', LOAD_ESCALATIONS],
    ['tickets', LOAD_TICKETS],
  ] as const) {
    const t = Date.now();
    await db.query(statement, [ALERTS]);
    say(`loaded ${what} in ${((Date.now() - t) / 1000).toFixed(1)} s`);
  }
  const t = Date.now();
  await db.query("SET maintenance_work_mem = '256MB'");
  for (const { def } of indexes) await db.query(def);
  say(`built ${indexes.length} indexes in ${((Date.now() - t) / 1000).toFixed(1)} s`);
  await db.query('VACUUM ANALYZE alerts, alert_escalations, tickets');
}

const ask = <Res>(call: (cb: (err: ServiceError | null, res: Res) => void) => unknown): Promise<Res> =>
  new Promise((resolve, reject) => call((err, res) => (err ? reject(err) : resolve(res))));

const benchLog = createLogger('bench-query', 'warn');

async function main(): Promise<void> {
  const dir = await mkdtemp(join(tmpdir(), 'oncall-bench-query-'));
  await chmod(dir, 0o755);
  const nats = await startNatsServer({ storeDir: join(dir, 'nats'), port: await getPort() });
  const postgres = await startEmbeddedPostgres({ dataDir: join(dir, 'pg'), port: await getPort() });
  let api: ReturnType<typeof spawnService> | undefined;
  try {
    const databaseUrl = postgres.url('oncall');
    await ensureDatabase(postgres.url('postgres'), 'oncall');
    await migrate(databaseUrl, SCHEMA);
    const db = new pg.Client({ connectionString: databaseUrl, options: `-c search_path=${SCHEMA}` });
    db.on('error', () => undefined); // the server stops under it at the end
    await db.connect();
    say(`loading ${ALERTS} alerts`);
    await load(db);

    // An admin token in CONFIG before query-api starts (its first read of CONFIG holds it).
    const nc = await connectNats(nats.url, 'bench-query', benchLog);
    await ensureTopology(nc, { partitions: 4, replicas: 1 }, benchLog);
    const { token } = await createApiToken(nc, { name: 'bench', scopes: ['read'], userId: null, expiresAt: null });
    await closeNats(nc, benchLog);
    const auth = bearerToken(token);

    const grpcPort = await getPort();
    const errors = { count: 0 };
    api = spawnService(
      'query-api/src/main.ts',
      {
        NATS_URL: nats.url,
        DATABASE_URL: databaseUrl,
        READ_MODEL_SCHEMA: SCHEMA,
        ONCALL_PARTITIONS: '4',
        GRPC_PORT: String(grpcPort),
        GRPC_HOST: '127.0.0.1',
        CONSOLE_PORT: '0',
        METRICS_PORT: String(await getPort()),
        LOG_LEVEL: process.env.LOG_LEVEL ?? 'warn',
      },
      errors,
      undefined,
      { ipc: true },
    );
    await whenReady(api, 'query-api');
    const client = new alertingV1.AlertServiceClient(`127.0.0.1:${grpcPort}`, credentials.createInsecure(), {
      ...auth,
      'grpc.max_receive_message_length': -1,
    });
    const peak: Record<string, number> = {};
    const watched: Array<[string, number]> = [
      ['query-api', api.pid!],
      ['nats-server', nats.process.pid!],
      ['bench-client', process.pid],
    ];
    const rssTimer = setInterval(() => {
      for (const [name, pid] of watched)
        void rssMb(pid).then(
          (mb) => (peak[name] = Math.max(peak[name] ?? 0, mb)),
          () => undefined,
        );
    }, 250);

    /** One ListAlerts call: alerts received, ms, the next page token. */
    const list = async (req: Parameters<typeof alertingV1.ListAlertsRequest.fromPartial>[0]) => {
      const start = performance.now();
      const stream = client.listAlerts(alertingV1.ListAlertsRequest.fromPartial(req));
      let token = '';
      stream.on('status', (s: StatusObject) => (token = s.metadata.get(NEXT_PAGE_TOKEN).join('')));
      let n = 0;
      for await (const _ of stream as AsyncIterable<alertingV1.Alert>) n++;
      return { n, ms: performance.now() - start, token };
    };

    /** One ListAlerts call whose messages are counted, not decoded: alerts received, ms. */
    const raw = new Client(`127.0.0.1:${grpcPort}`, credentials.createInsecure(), { ...auth, 'grpc.max_receive_message_length': -1 });
    const count = async (req: Parameters<typeof alertingV1.ListAlertsRequest.fromPartial>[0]) => {
      const start = performance.now();
      const stream = raw.makeServerStreamRequest(
        '/alerting.v1.AlertService/ListAlerts',
        (r: alertingV1.ListAlertsRequest) => Buffer.from(alertingV1.ListAlertsRequest.encode(r).finish()),
        (bytes: Buffer) => bytes,
        alertingV1.ListAlertsRequest.fromPartial(req),
      );
      // Counted in a 'data' listener, not an async iterator (a promise per message).
      const n = await new Promise<number>((resolve, reject) => {
        let received = 0;
        stream.on('data', () => received++);
        stream.on('error', reject);
        stream.on('end', () => resolve(received));
      });
      return { n, ms: performance.now() - start };
    };

    const filters: Record<string, Parameters<typeof alertingV1.ListAlertsRequest.fromPartial>[0]> = {
      none: {},
      status_triggered: { statuses: [AlertStatus.ALERT_STATUS_TRIGGERED] },
      label_site: { labelSelector: { site: 'ams2' } },
      service: { serviceIds: ['svc-7'] },
    };
    for (const f of Object.values(filters)) await list(f); // warm-up: connections, plans, caches
    const byFilter: Record<string, number> = {};
    const pageAlerts: Record<string, number> = {};
    for (const [name, f] of Object.entries(filters)) {
      const times: number[] = [];
      for (let i = 0; i < PAGES; i++) {
        const r = await list(f);
        times.push(r.ms);
        pageAlerts[name] = r.n;
        if (!r.token) throw new Error(`${name}: the first page has no next page token`);
      }
      byFilter[name] = Number(percentile(times, 99).toFixed(1));
      say(`first page (${name}): p50 ${percentile(times, 50).toFixed(1)} ms, p99 ${byFilter[name]} ms, ${pageAlerts[name]} alerts`);
    }

    const thousand: number[] = [];
    for (let i = 0; i < PAGES; i++) thousand.push((await list({ pageSize: 1000 })).ms);
    const firstPage1000 = Number(percentile(thousand, 99).toFixed(1));
    say(`first page of 1000 (none): p50 ${percentile(thousand, 50).toFixed(1)} ms, p99 ${firstPage1000} ms`);

    // Decoded by this client as any client would (ts-proto), on the same two cores as the server.
    const decoded = await list({ pageSize: STREAM });
    say(`stream, decoded here: ${decoded.n} alerts in ${decoded.ms.toFixed(0)} ms (${Math.round(decoded.n / (decoded.ms / 1000))}/s)`);

    // The stream: one page of STREAM alerts, median of three, the messages counted, not decoded
    // (the client's decoding would otherwise compete with the server for the machine's two cores).
    const rates: number[] = [];
    const pgPids = () => postgresPids(join(dir, 'pg'));
    const cpuBefore = { api: await cpuMs(api.pid!), postgres: await cpuSeconds(await pgPids()), client: process.cpuUsage() };
    let streamed = 0;
    for (let i = 0; i < 3; i++) {
      const r = await count({ pageSize: STREAM });
      if (r.n !== Math.min(STREAM, ALERTS)) throw new Error(`streamed ${r.n} alerts, not ${STREAM}`);
      streamed += r.n;
      rates.push(r.n / (r.ms / 1000));
      say(`stream: ${r.n} alerts in ${r.ms.toFixed(0)} ms (${Math.round(r.n / (r.ms / 1000))}/s)`);
    }
    const clientCpu = process.cpuUsage(cpuBefore.client);
    const cpu = {
      'query-api': (await cpuMs(api.pid!)) - cpuBefore.api,
      postgres: ((await cpuSeconds(await pgPids())) - cpuBefore.postgres) * 1000,
      'bench-client': (clientCpu.user + clientCpu.system) / 1000,
    };

    const gets: number[] = [];
    for (let i = 0; i < GETS; i++) {
      const id = alertId(1 + Math.floor(Math.random() * ALERTS));
      const start = performance.now();
      const alert = await ask<alertingV1.Alert>((cb) => client.getAlert({ id }, cb));
      gets.push(performance.now() - start);
      if (alert.id !== id) throw new Error(`GetAlert ${id} answered ${alert.id}`);
    }
    say(`GetAlert: p50 ${percentile(gets, 50).toFixed(2)} ms, p99 ${percentile(gets, 99).toFixed(2)} ms`);
    clearInterval(rssTimer);
    client.close();
    raw.close();
    await db.end();

    const result = {
      alerts: ALERTS,
      first_page_p99_ms: Math.max(...Object.values(byFilter)),
      first_page_alerts: pageAlerts.none,
      first_page_p99_ms_by_filter: byFilter,
      first_page_1000_p99_ms: firstPage1000,
      stream_alerts_per_sec: Math.round(percentile(rates, 50)),
      stream_alerts_per_sec_decoded: Math.round(decoded.n / (decoded.ms / 1000)),
      stream_alerts: STREAM,
      get_alert_p99_ms: Number(percentile(gets, 99).toFixed(2)),
      cpu_ms_per_alert: Object.fromEntries(Object.entries(cpu).map(([k, v]) => [k, Number((v / streamed).toFixed(4))])),
      rss_mb: Object.fromEntries(Object.entries(peak).map(([k, v]) => [k, Math.round(v)])),
      service_errors: errors.count,
      cores: availableParallelism(),
      loadavg: loadavg().map((l) => Number(l.toFixed(2))),
    };
    process.stdout.write(`${JSON.stringify(result)}\n`);
  } finally {
    await stopProcess(api);
    await postgres.stop();
    await nats.stop();
    await rm(dir, { recursive: true, force: true });
  }
}

await main();
