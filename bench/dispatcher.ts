/**
 * `npm run bench:dispatcher` (issue 6): end to end from a webhook accepted (HTTP 202) to the
 * Slack fake receiving the page, on real infrastructure, plus the render stage on its own.
 *
 * The system under test runs as it is deployed: ingest, the decider, the escalator and the
 * dispatcher each as its own process (their `main.ts`), beside a nats-server. This process is the
 * outside world: the load generator, the Slack fake (test/fakes/slack.ts; the dispatcher's real
 * @slack/web-api client posts to it) and the file-backed UserService, so both timestamps of an
 * alert come from one clock. With BENCH_PROJECTOR=1 embedded PostgreSQL and the projector run too:
 * not on the notification path, but sharing the cores.
 *
 * Config: service `bench` (one integration key) routes to policy `bench-noc`, whose only step
 * targets the Slack channel #bench-noc with delay 0s (the page goes out the moment the alert is
 * routed; one step, no repeat, so no timer follows), rendered with the template `bench-page`
 * (TemplateVersionPublished; its Slack part is the Block Kit example of docs/templates.md).
 * Every alert is `critical`, so its NotificationRequested has priority critical, which bypasses
 * the per-destination bucket (which would otherwise bundle a storm to one channel into one
 * message per 10 s window). The per-provider bucket for Slack still applies, raised with
 * SLACK_MESSAGES_PER_MINUTE from 3,000/min to 120,000/min: this measures the pipeline, not
 * Slack's rate limit.
 *
 * Load: BENCH_RATE (500) new, unique alerts/s for BENCH_SECONDS (20), one alert per request
 * (generic webhook), paced by send time over up to BENCH_CONNECTIONS (256) keep-alive
 * connections (enough that slow answers do not lower the offered rate), after BENCH_WARMUP (500)
 * uncounted warm-up alerts at 100/s. Each alert carries `[<run> #<n>]` in its summary, which the
 * Slack message's text repeats: the fake's chat.postMessage calls are matched on it.
 *   e2e = Slack fake received − webhook answered 2xx (p50, p99 over every alert that arrived);
 *   duplicates = Slack messages beyond one per alert (and any naming no accepted alert);
 *   missing = accepted alerts without a message BENCH_DRAIN_SECONDS (30) after the last answer.
 * Stage split, from the stored events' JetStream timestamps: request sent → AlertTriggered
 * stored (ingest, intake, decider), → NotificationRequested stored (escalator), → Slack
 * (dispatcher). offered_per_sec is the rate the requests actually went out at. cpu_ms_per_alert:
 * CPU time (all threads) each process used while the load was sent, per alert; rss_mb: peak
 * resident memory per service. error_logs counts the services' error lines over the whole run (a
 * consumer that failed and restarted, a template that fell back to the default).
 * renders_per_sec: benchRenders on the same template and a NotificationRequested-built context
 * for the slack channel, for BENCH_RENDER_MS (3000), before anything else runs.
 *
 * Progress and the services' logs go to stderr; one JSON line goes to stdout at the end.
 * BENCH_DUMP=<file> also writes every alert's timestamps as CSV.
 * ONCALL_PARTITIONS (8).
 */
import { chmod, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { availableParallelism, loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import type { ChildProcess } from 'node:child_process';
import { setTimeout as sleep } from 'node:timers/promises';
import getPort from 'get-port';
import { pino } from 'pino';
import { Agent, request } from 'undici';
import { jetstream, jetstreamManager, DeliverPolicy } from '@nats-io/jetstream';
import type { NatsConnection } from '@nats-io/transport-node';
import { decodeEvent, STREAMS, type EventData } from '@oncall/contracts';
import { connectNats, ensureTopology, type Logger } from '@oncall/shared';
// The infra pieces by file: the package's index also loads `oncall up` (query-api, projector, …).
import { applyConfig, parseConfigFile } from '@oncall/shared/config-file';
import { migrate } from '../infra/src/migrate.js';
import { startNatsServer } from '../infra/src/nats-server.js';
import { ensureDatabase, startEmbeddedPostgres, type RunningPostgres } from '../infra/src/postgres.js';
import { startUsersService } from '../infra/src/users-service.js';
import * as render from '@oncall/shared/render';
import { startSlackFake, type SlackCall } from '../test/fakes/slack.js';
import { percentile } from './load.js';
import { cpuMs, machineCpu, ROOT, rssMb, say, spawnService, stopProcess, until } from './processes.js';

const RATE = Number(process.env.BENCH_RATE ?? 500);
const SECONDS = Number(process.env.BENCH_SECONDS ?? 20);
const WARMUP = Number(process.env.BENCH_WARMUP ?? 500);
const CONNECTIONS = Number(process.env.BENCH_CONNECTIONS ?? 256);
const DRAIN_SECONDS = Number(process.env.BENCH_DRAIN_SECONDS ?? 30);
const PARTITIONS = Number(process.env.ONCALL_PARTITIONS ?? 8);
const WITH_PROJECTOR = process.env.BENCH_PROJECTOR === '1';
const KEY = 'bench-dispatcher-key-0000000001';
const CHANNEL = '#bench-noc';
const log: Logger = pino({ level: process.env.LOG_LEVEL ?? 'warn', base: { service: 'bench' } }, pino.destination(2));
const epochMs = () => performance.timeOrigin + performance.now();

const SLACK_TEMPLATE = render.EXAMPLE_TEMPLATE.channels.slack ?? '';

const CONFIG = JSON.stringify({
  services: [
    {
      id: 'bench',
      name: 'Bench edge network',
      integrationKeys: [{ name: 'generic', key: KEY }],
      routing: { escalationPolicy: 'bench-noc', template: 'bench-page' },
    },
  ],
  escalationPolicies: [{ id: 'bench-noc', name: 'Bench NOC', steps: [{ delay: '0s', targets: [{ slack: CHANNEL }] }] }],
  templates: [
    {
      id: 'bench-page',
      name: 'Bench page',
      variables: {
        required: ['alert.summary', 'service.name'],
        optional: ['annotations.runbook_url', 'labels.namespace', 'labels.severity'],
      },
      channels: { slack: SLACK_TEMPLATE },
    },
  ],
});

const SITES = ['fra1', 'ams2', 'lon3', 'par1', 'nyc4', 'sjc2'];
const NAMES = ['InstanceDown', 'BGPSessionDown', 'InterfaceDown', 'HighPacketLoss', 'LinkFlapping'];

/** The n-th alert: unique (own dedup key), critical, with the labels a NOC alert carries. */
function alertBody(n: number, runId: string): string {
  const site = SITES[n % SITES.length]!;
  const name = NAMES[n % NAMES.length]!;
  const device = `${site}-edge-${String(n % 97).padStart(2, '0')}`;
  return JSON.stringify({
    summary: `${name} on ${device} [${runId} #${n}]`,
    details: `${name} has been firing for more than 2 minutes on ${device} behind core router ${site}-core-1.`,
    severity: 'critical',
    dedup_key: `${runId}-${n}`,
    labels: {
      alertname: name,
      site,
      device,
      namespace: `net-${site}`,
      job: 'node',
      team: 'network',
      instance: `10.0.${(n >> 8) & 255}.${n & 255}:9100`,
    },
    annotations: { runbook_url: `https://runbooks.example.net/${name.toLowerCase()}` },
  });
}

/** A NotificationRequested as the escalator writes it for these alerts, for the render bench. */
function sampleRequest(): EventData<'NotificationRequested'> {
  const alertId = '6f1c1f8e-8a43-4c55-9d3b-0a4c2a9e7d11';
  return {
    alertId,
    serviceId: 'bench',
    notificationId: '0b7e5f0a-3a0c-4d4e-8b7e-2f6a1c9d5e44',
    kind: 'page',
    step: 0,
    round: 0,
    page: 0,
    recipient: { type: 'slack', channel: CHANNEL },
    contacts: [],
    userName: null,
    templateId: 'bench-page',
    templateVersion: 1,
    priority: 'critical',
    alert: {
      alertId,
      serviceId: 'bench',
      serviceName: 'Bench edge network',
      fingerprint: 'abc-42',
      status: 'triggered',
      summary: 'BGPSessionDown on ams2-edge-42 [abc #42]',
      details: 'BGPSessionDown has been firing for more than 2 minutes on ams2-edge-42 behind core router ams2-core-1.',
      severity: 'critical',
      labels: {
        alertname: 'BGPSessionDown',
        site: 'ams2',
        device: 'ams2-edge-42',
        namespace: 'net-ams2',
        job: 'node',
        team: 'network',
        instance: '10.0.0.42:9100',
      },
      annotations: { runbook_url: 'https://runbooks.example.net/bgpsessiondown' },
      links: [],
      source: 'generic',
      triggeredAt: new Date().toISOString(),
    },
    escalation: { policyId: 'bench-noc', policyName: 'Bench NOC', step: 0, totalSteps: 1 },
  };
}

function renderBench(): number {
  const template: render.RenderTemplate = {
    templateId: 'bench-page',
    version: 1,
    variables: { required: [], optional: [] },
    channels: { ...render.EXAMPLE_TEMPLATE.channels, slack: SLACK_TEMPLATE },
  };
  const context = render.buildRenderContext(sampleRequest(), { now: new Date().toISOString(), publicUrl: 'https://oncall.example.net' });
  const [slack] = render.benchRenders({ template, channels: ['slack'], context, durationMs: Number(process.env.BENCH_RENDER_MS ?? 3000) });
  return slack!.rendersPerSecond;
}

const ms = (v: number) => Number(v.toFixed(1));
const stats = (values: number[]) => ({
  p50: ms(percentile(values, 50)),
  p99: ms(percentile(values, 99)),
  max: ms(values.length ? Math.max(...values) : 0),
});

type StageTimes = { triggered: Map<number, number>; requested: Map<number, number> };

/** When each bench alert's AlertTriggered and NotificationRequested were stored (JetStream timestamps). */
async function stageTimes(nc: NatsConnection, runId: string): Promise<StageTimes> {
  const marker = new RegExp(`\\[${runId} #(\\d+)\\]`);
  const byAlertId = new Map<string, number>();
  const out: StageTimes = { triggered: new Map(), requested: new Map() };
  const read = async (stream: string, onEvent: (e: ReturnType<typeof decodeEvent>, at: number) => void) => {
    const jsm = await jetstreamManager(nc);
    const last = (await jsm.streams.info(stream)).state.last_seq;
    if (last === 0) return;
    const consumer = await jetstream(nc).consumers.get(stream, { deliver_policy: DeliverPolicy.All });
    const messages = await consumer.consume({ max_messages: 1000 });
    for await (const m of messages) {
      onEvent(decodeEvent(m.data, { trusted: true }), Number(m.timestampNanos / 1_000_000n));
      if (m.seq >= last) break;
    }
  };
  await read(STREAMS.escalations, (e, at) => {
    if (e.type !== 'NotificationRequested') return;
    const n = marker.exec(e.data.alert.summary)?.[1];
    if (n === undefined) return;
    byAlertId.set(e.data.alertId, Number(n));
    out.requested.set(Number(n), at);
  });
  await read(STREAMS.alerts, (e, at) => {
    if (e.type !== 'AlertTriggered') return;
    const n = byAlertId.get(e.data.alertId);
    if (n !== undefined) out.triggered.set(n, at);
  });
  return out;
}

type Paced = { statuses: Record<number, number>; failed: number; seconds: number };

/** Sends `body(i)` at `started + i / rate` over up to `connections` keep-alive connections. */
async function paced(
  url: string,
  body: (i: number) => string,
  count: number,
  rate: number,
  connections: number,
  out: { sent?: Float64Array; accepted?: Float64Array },
): Promise<Paced> {
  const agent = new Agent({ connections, pipelining: 1, keepAliveTimeout: 30_000 });
  const headers = { 'content-type': 'application/json', authorization: `Bearer ${KEY}` };
  const statuses: Record<number, number> = {};
  let failed = 0;
  let next = 0;
  const started = performance.now();
  const lane = async () => {
    for (;;) {
      const i = next++;
      if (i >= count) return;
      const wait = started + (i * 1000) / rate - performance.now();
      if (wait > 0) await sleep(wait);
      if (out.sent) out.sent[i] = epochMs();
      try {
        const res = await request(url, { method: 'POST', headers, body: body(i), dispatcher: agent });
        await res.body.text();
        statuses[res.statusCode] = (statuses[res.statusCode] ?? 0) + 1;
        if (res.statusCode >= 200 && res.statusCode < 300) {
          if (out.accepted) out.accepted[i] = epochMs();
        } else failed++;
      } catch {
        failed++;
      }
    }
  };
  await Promise.all(Array.from({ length: connections }, lane));
  await agent.close();
  return { statuses, failed, seconds: (performance.now() - started) / 1000 };
}

const WARM_BASE = 1_000_000;

/** What the Slack fake received for this run: arrival time and count per measured alert. */
class Arrivals {
  readonly received: Float64Array;
  readonly messages: Int32Array;
  warm = 0;
  /** Messages naming no alert of this run. */
  unmatched = 0;
  private readonly marker: RegExp;

  constructor(
    runId: string,
    readonly total: number,
  ) {
    this.marker = new RegExp(`\\[${runId} #(\\d+)\\]`);
    this.received = new Float64Array(total).fill(Number.NaN);
    this.messages = new Int32Array(total);
  }

  record(call: SlackCall): void {
    const at = epochMs();
    const text = call.args.text;
    const found = call.method === 'chat.postMessage' && typeof text === 'string' ? this.marker.exec(text)?.[1] : undefined;
    const n = found === undefined ? -1 : Number(found);
    if (n >= WARM_BASE) this.warm++;
    else if (n >= 0 && n < this.total) {
      if (this.messages[n] === 0) this.received[n] = at;
      this.messages[n]! += 1;
    } else this.unmatched++;
  }

  paged(): number {
    return this.messages.reduce((a, c) => a + (c > 0 ? 1 : 0), 0);
  }
}

type Service = { name: string; child: ChildProcess };

async function main(): Promise<void> {
  say(
    `load average ${loadavg()
      .map((l) => l.toFixed(2))
      .join(' ')} on ${availableParallelism()} cores`,
  );
  say('render stage: benchRenders, slack channel');
  const rendersPerSec = renderBench();
  say(`render stage: ${Math.round(rendersPerSec)} renders/s`);

  const runId = Math.random().toString(36).slice(2, 8);
  const total = RATE * SECONDS;
  const arrivals = new Arrivals(runId, total);
  const dir = await mkdtemp(join(tmpdir(), 'oncall-bench-dispatcher-'));
  await chmod(dir, 0o755);
  const nats = await startNatsServer({ storeDir: join(dir, 'nats'), port: await getPort() });
  const slack = await startSlackFake({ channels: [CHANNEL] });
  // Only the arrival is kept: the fake's recorder would hold every request body.
  slack.calls.push = (call: SlackCall) => arrivals.record(call);
  const users = await startUsersService({ file: join(ROOT, 'examples/users.yaml'), port: 0, log });
  let pg: RunningPostgres | undefined;
  const services: Service[] = [];
  const errors = { count: 0 };
  let admin: NatsConnection | undefined;
  try {
    admin = await connectNats(nats.url, 'bench-admin', log);
    await ensureTopology(admin, { partitions: PARTITIONS, replicas: 1 }, log);
    await applyConfig(admin, parseConfigFile(CONFIG, 'bench-dispatcher.yaml'));

    const env = { NATS_URL: nats.url, ONCALL_PARTITIONS: String(PARTITIONS), LOG_LEVEL: process.env.LOG_LEVEL ?? 'warn' };
    const start = async (name: string, entry: string, own: Record<string, string>) =>
      services.push({ name, child: spawnService(entry, { ...env, METRICS_PORT: String(await getPort()), ...own }, errors) });
    if (WITH_PROJECTOR) {
      pg = await startEmbeddedPostgres({ dataDir: join(dir, 'pg'), port: await getPort() });
      await ensureDatabase(pg.url('postgres'), 'oncall');
      await migrate(pg.url('oncall'), 'oncall');
      await start('projector', 'projector/src/main.ts', { DATABASE_URL: pg.url('oncall') });
    }
    const ingestPort = await getPort();
    await start('ingest', 'ingest/src/main.ts', {
      INGEST_PORT: String(ingestPort),
      INGEST_HOST: '127.0.0.1',
      INGEST_RATE_LIMIT_PER_SECOND: '0',
    });
    await start('decider', 'ingest/src/decider-main.ts', {});
    await start('escalator', 'escalator/src/main.ts', { USER_SERVICE_URL: `127.0.0.1:${users.port}`, ESCALATOR_ID: 'bench' });
    // Slack's own limit is not what is measured: the provider bucket is raised to 2,000/s.
    await start('dispatcher', 'dispatcher/src/main.ts', {
      SLACK_TOKEN: slack.token,
      SLACK_API_URL: slack.apiUrl,
      SLACK_MESSAGES_PER_MINUTE: '120000',
    });
    const ingestUrl = `http://127.0.0.1:${ingestPort}`;
    await until(
      async () =>
        fetch(`${ingestUrl}/healthz`).then(
          (r) => r.ok,
          () => false,
        ),
      30_000,
      'ingest',
    );
    const url = `${ingestUrl}/api/v1/webhook/generic`;

    say(`warm-up: ${WARMUP} alerts at 100/s`);
    const warm = await paced(url, (i) => alertBody(WARM_BASE + i, runId), WARMUP, 100, 8, {});
    await until(async () => arrivals.warm >= WARMUP - warm.failed, 60_000, 'the warm-up pages');
    say(`warm-up: ${arrivals.warm} pages at the Slack fake`);

    const sent = new Float64Array(total).fill(Number.NaN);
    const accepted = new Float64Array(total).fill(Number.NaN);
    const acceptedCount = () => accepted.reduce((a, t) => a + (Number.isNaN(t) ? 0 : 1), 0);
    const cpu = async () => Promise.all(services.map((s) => cpuMs(s.child.pid!)));
    const peakRss: Record<string, number> = {};
    const sampler = setInterval(() => {
      for (const s of services)
        void rssMb(s.child.pid!).then(
          (mb) => (peakRss[s.name] = Math.max(peakRss[s.name] ?? 0, mb)),
          () => undefined,
        );
    }, 200);
    const t0 = Date.now();
    const progress = setInterval(
      () =>
        say(
          `${Math.round((Date.now() - t0) / 1000)} s: ${acceptedCount()} accepted, ${arrivals.paged()} paged in Slack; load ${loadavg()[0]!.toFixed(2)}`,
        ),
      5000,
    );
    say(`measuring: ${total} alerts at ${RATE}/s, one per request, up to ${CONNECTIONS} connections`);
    const cpu0 = await cpu();
    const natsCpu0 = await cpuMs(nats.process.pid!);
    const ownCpu0 = process.cpuUsage();
    const machine0 = await machineCpu();
    const load = await paced(url, (i) => alertBody(i, runId), total, RATE, CONNECTIONS, { sent, accepted });
    const cpu1 = await cpu();
    const natsCpu1 = await cpuMs(nats.process.pid!);
    const ownCpu = process.cpuUsage(ownCpu0);
    const machine1 = await machineCpu();
    say(`sent in ${load.seconds.toFixed(1)} s: ${acceptedCount()} accepted, ${load.failed} failed ${JSON.stringify(load.statuses)}`);
    const arrived = async () => accepted.every((t, i) => Number.isNaN(t) || arrivals.messages[i]! > 0);
    await until(arrived, DRAIN_SECONDS * 1000, 'every page').catch(() => say(`drain: gave up after ${DRAIN_SECONDS} s`));
    clearInterval(progress);
    clearInterval(sampler);
    // Late duplicates would arrive within the dispatcher's first retry delay.
    await sleep(2000);

    const e2e: number[] = [];
    const fromSend: number[] = [];
    let duplicates = arrivals.unmatched;
    let missing = 0;
    let alerts = 0;
    for (let i = 0; i < total; i++) {
      const messages = arrivals.messages[i]!;
      if (Number.isNaN(accepted[i]!)) {
        duplicates += messages; // paged although never answered 2xx: counted as extra
        continue;
      }
      alerts++;
      if (messages === 0) {
        missing++;
        continue;
      }
      e2e.push(arrivals.received[i]! - accepted[i]!);
      fromSend.push(arrivals.received[i]! - sent[i]!);
      duplicates += messages - 1;
    }

    say('reading the stage timestamps from the log');
    const stages = await stageTimes(admin, runId);
    const split = { decider: [] as number[], escalator: [] as number[], dispatcher: [] as number[] };
    for (let i = 0; i < total; i++) {
      const t = stages.triggered.get(i);
      const q = stages.requested.get(i);
      if (t === undefined || q === undefined || Number.isNaN(arrivals.received[i]!) || Number.isNaN(sent[i]!)) continue;
      split.decider.push(t - sent[i]!);
      split.escalator.push(q - t);
      split.dispatcher.push(arrivals.received[i]! - q);
    }
    const accepts = Array.from(accepted, (a, i) => a - sent[i]!).filter((v) => !Number.isNaN(v));
    const sentTimes = Array.from(sent).filter((t) => !Number.isNaN(t));
    const sendingMs = Math.max(...sentTimes) - Math.min(...sentTimes);
    const perAlert = (ms: number) => Number((ms / Math.max(1, alerts)).toFixed(2));

    const result = {
      renders_per_sec: Math.round(rendersPerSec),
      e2e_p50_ms: ms(percentile(e2e, 50)),
      e2e_p99_ms: ms(percentile(e2e, 99)),
      duplicates,
      missing,
      alerts,
      e2e_max_ms: ms(e2e.length ? Math.max(...e2e) : 0),
      e2e_from_send_p99_ms: ms(percentile(fromSend, 99)),
      accept_p99_ms: ms(percentile(accepts, 99)),
      offered_per_sec: Math.round(((sentTimes.length - 1) * 1000) / Math.max(1, sendingMs)),
      stages_ms: {
        sent_to_alert_stored: stats(split.decider),
        to_notification_stored: stats(split.escalator),
        to_slack: stats(split.dispatcher),
      },
      cpu_ms_per_alert: Object.fromEntries<number>([
        ...services.map((s, i): [string, number] => [s.name, perAlert(cpu1[i]! - cpu0[i]!)]),
        ['nats', perAlert(natsCpu1 - natsCpu0)],
        ['bench', perAlert((ownCpu.user + ownCpu.system) / 1000)],
      ]),
      machine_cpu_busy: Number((1 - (machine1.idle - machine0.idle) / Math.max(1, machine1.total - machine0.total)).toFixed(2)),
      rss_mb: Object.fromEntries(Object.entries(peakRss).map(([k, v]) => [k, Math.round(v)])),
      failed_requests: load.failed,
      error_logs: errors.count,
      partitions: PARTITIONS,
      projector: WITH_PROJECTOR,
      cores: availableParallelism(),
      load_avg_1m: Number(loadavg()[0]!.toFixed(2)),
    };
    if (process.env.BENCH_DUMP) {
      // Per alert, for plotting: n, sent, accepted, AlertTriggered stored, NotificationRequested stored, Slack received (epoch ms).
      const rows = Array.from({ length: total }, (_, i) =>
        [i, sent[i], accepted[i], stages.triggered.get(i), stages.requested.get(i), arrivals.received[i]]
          .map((v) => (v === undefined || Number.isNaN(v) ? '' : Math.round(v)))
          .join(','),
      );
      await writeFile(process.env.BENCH_DUMP, `n,sent,accepted,triggered,requested,received\n${rows.join('\n')}\n`);
    }
    process.stdout.write(`${JSON.stringify(result)}\n`);
  } finally {
    await Promise.all(services.map((s) => stopProcess(s.child)));
    await admin?.close();
    await users.close();
    await slack.close();
    await pg?.stop();
    await nats.stop();
    await rm(dir, { recursive: true, force: true });
  }
}

await main();
