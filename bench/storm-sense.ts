/**
 * `npm run bench:storm-sense` (issue 16): a POP outage as the NOC sees it.
 *
 * The system runs as deployed: ingest, the decider, the escalator, the dispatcher, the projector
 * and query-api each as its own process (their `main.ts`), beside a nats-server and an embedded
 * PostgreSQL. This process is the outside world: Alertmanager's webhooks and the Slack fake (the
 * dispatcher's real @slack/web-api client posts there; a page = one chat.postMessage).
 *
 * Config (docs/noc.md): a site registry (region eu-west with POP ams2 and its devices, region
 * us-east with POP chi1), the inhibit rule `site-down` (source: alertname SiteDown; target: every
 * other alert; scope: site; wait BENCH_INHIBIT_WAIT, 5s), and one service grouping by
 * [alertname] whose policy pages a Slack channel at once.
 *
 * Load: the SiteDown alert of ams2 first (one webhook); then, at BENCH_RATE (1000) alerts/s in
 * webhooks of BENCH_BATCH (25) alerts, BENCH_DEVICE_ALERTS (2000) device alerts at ams2 (half
 * placed by their `site` label, half only by a `device` the registry lists at ams2) interleaved
 * with BENCH_OTHER_ALERTS (200) unrelated alerts at chi1 under 4 alert names (the device alerts
 * use two of the same names: grouping by alertname alone would pull them together if they
 * escaped the inhibition).
 * Expected: 5 pages (SiteDown + one per unrelated alert name), 2000 inhibited, 196 grouped.
 * BENCH_SITE_DOWN_AFTER=k sends the SiteDown with the k-th storm webhook instead of first (the
 * device alerts before it must still be inhibited: they wait the rule's wait for a source).
 *
 * Measured, from the ALERTS and ESCALATIONS streams followed live and the Slack fake:
 *   pages          = chat.postMessage calls once the storm has settled (every alert routed and
 *                    given its verdict — a page, AlertInhibited or AlertGrouped — then
 *                    BENCH_QUIET_SECONDS (3) more with nothing new);
 *   decide_p99_ms  = AlertTriggered's occurredAt → the escalator's AlertRouted occurredAt;
 *   verdict_p99_ms = the same → the alert's verdict (AlertInhibited / AlertGrouped /
 *                    IncidentOpened), over the alerts that are no inhibit target's wait
 *                    (device alerts and SiteDown; the chi1 alerts wait by design, reported apart);
 *   first_page_ms  = the SiteDown webhook sent → its chat.postMessage at the fake;
 *   visible        = alerts ListAlerts (gRPC, query-api) returns for the run, once settled;
 *   idle_cpu_pct   = % of a core each service uses in the 3 s after that, with nothing to do.
 * One JSON line on stdout at the end; progress and the services' warnings on stderr.
 */
import { availableParallelism, loadavg } from 'node:os';
import { setTimeout as sleep } from 'node:timers/promises';
import { pino } from 'pino';
import { Agent, fetch as httpFetch } from 'undici';
import { credentials } from '@grpc/grpc-js';
import { decodeEvent, STREAMS } from '@oncall/contracts';
import { alertingV1 } from '@oncall/contracts/grpc';
import { DeliverPolicy, jetstream } from '@nats-io/jetstream';
import { bearerToken, type Logger } from '@oncall/shared';
import { startSlackFake, type SlackCall } from '../test/fakes/slack.js';
import { cpuPerAlert, startDeployment } from './deployment.js';
import { percentile } from './load.js';
import { say, until } from './processes.js';
import { webhookBody, type AmAlert } from './storm.js';

const RATE = Number(process.env.BENCH_RATE ?? 1000);
const BATCH = Number(process.env.BENCH_BATCH ?? 25);
const DEVICE_ALERTS = Number(process.env.BENCH_DEVICE_ALERTS ?? 2000);
const OTHER_ALERTS = Number(process.env.BENCH_OTHER_ALERTS ?? 200);
const INHIBIT_WAIT = process.env.BENCH_INHIBIT_WAIT ?? '5s';
const QUIET_SECONDS = Number(process.env.BENCH_QUIET_SECONDS ?? 3);
const IDLE_SECONDS = 3;
const SITE_DOWN_AFTER = Number(process.env.BENCH_SITE_DOWN_AFTER ?? 0); // storm webhooks sent before the SiteDown
const PARTITIONS = Number(process.env.ONCALL_PARTITIONS ?? 8);
const KEY = 'bench-storm-sense-integration-key';
const CHANNEL = '#noc';
const log: Logger = pino({ level: process.env.LOG_LEVEL ?? 'warn', base: { service: 'bench-storm-sense' } }, pino.destination(2));
const now = () => performance.timeOrigin + performance.now();

const AMS2_DEVICES = Array.from({ length: 40 }, (_, i) => `${['cr', 'sw', 'fw', 'pdu'][i % 4]}${i}.ams2`);
const DEVICE_NAMES = ['InterfaceDown', 'BGPSessionDown', 'HighPacketLoss', 'DeviceUnreachable'];
const OTHER_NAMES = ['InterfaceDown', 'BGPSessionDown', 'HighLatency', 'PowerSupplyFailed'];

const CONFIG = JSON.stringify({
  services: [
    {
      id: 'core-network',
      name: 'Core network',
      integrationKeys: [{ name: 'alertmanager', key: KEY }],
      routing: { escalationPolicy: 'noc', grouping: { by: ['alertname'] } },
    },
  ],
  escalationPolicies: [{ id: 'noc', name: 'NOC channel', steps: [{ delay: '0s', targets: [{ slack: CHANNEL }] }] }],
  sites: [
    { id: 'eu-west', name: 'Europe West', kind: 'region', timeZone: 'Europe/Amsterdam' },
    { id: 'us-east', name: 'US East', kind: 'region', timeZone: 'America/New_York' },
    { id: 'ams2', name: 'Amsterdam 2', kind: 'pop', parent: 'eu-west', devices: AMS2_DEVICES },
    { id: 'chi1', name: 'Chicago 1', kind: 'pop', parent: 'us-east', devices: ['cr1.chi1', 'cr2.chi1', 'pdu1.chi1'] },
  ],
  placement: { labels: ['site', 'pop'], deviceLabel: 'device' },
  inhibitRules: [
    {
      name: 'site-down',
      source: 'has(labels.alertname) && labels.alertname == "SiteDown"',
      target: '!(has(labels.alertname) && labels.alertname == "SiteDown")',
      scope: 'site',
      wait: INHIBIT_WAIT,
    },
  ],
});

type Kind = 'site-down' | 'device' | 'other';
const run = Date.now().toString(16).slice(-9);
const KIND_DIGIT: Record<Kind, string> = { 'site-down': '0', device: '1', other: '2' };

function alert(kind: Kind, n: number): AmAlert {
  const labels: Record<string, string> = { severity: 'critical', job: 'snmp', run, bench_kind: kind };
  let summary: string;
  if (kind === 'site-down') {
    Object.assign(labels, { alertname: 'SiteDown', site: 'ams2' });
    summary = 'SiteDown: POP ams2 unreachable';
  } else if (kind === 'device') {
    const device = AMS2_DEVICES[n % AMS2_DEVICES.length]!;
    Object.assign(labels, { alertname: DEVICE_NAMES[n % DEVICE_NAMES.length]!, device, ifIndex: String(n) });
    if (n % 2 === 0) labels.site = 'ams2'; // the other half is placed by its device alone
    summary = `${labels.alertname} on ${device} (port ${n})`;
  } else {
    const device = ['cr1.chi1', 'cr2.chi1', 'pdu1.chi1'][n % 3]!;
    Object.assign(labels, { alertname: OTHER_NAMES[n % OTHER_NAMES.length]!, site: 'chi1', device, ifIndex: String(n) });
    summary = `${labels.alertname} on ${device} (#${n})`;
  }
  return {
    status: 'firing',
    labels,
    annotations: { summary },
    startsAt: new Date().toISOString(),
    endsAt: '0001-01-01T00:00:00Z',
    generatorURL: 'http://prometheus.example.net/graph',
    fingerprint: `${KIND_DIGIT[kind]}${run}${n.toString(16).padStart(6, '0')}`, // 16 hex digits, unique per alert
  };
}

type Seen = {
  kind: Kind;
  alertname: string;
  sent?: number;
  triggeredAt: number;
  routedAt?: number;
  verdict?: string;
  verdictAt?: number;
  pageAt?: number;
  pages: number;
};

async function main(): Promise<void> {
  say(
    `load average ${loadavg()
      .map((l) => l.toFixed(2))
      .join(' ')} on ${availableParallelism()} cores`,
  );
  const slack = await startSlackFake();
  const agent = new Agent({ connections: 16, pipelining: 1, keepAliveTimeout: 30_000 });
  const dep = await startDeployment({
    name: 'bench-storm-sense',
    config: CONFIG,
    partitions: PARTITIONS,
    log,
    dispatcherEnv: { SLACK_TOKEN: slack.token, SLACK_API_URL: slack.apiUrl, SLACK_MESSAGES_PER_MINUTE: '120000' },
  }).catch(async (err: unknown) => {
    await slack.close();
    throw err;
  });
  const { admin, ingestUrl, grpcPort, services } = dep;
  try {
    say(`pids: ${services.map((s) => `${s.name} ${s.child.pid}`).join(', ')}, bench ${process.pid}`);

    // ─── The log, followed live ───────────────────────────────────────────────────────────────
    const sentAt = new Map<string, number>(); // fingerprint → webhook sent
    const alerts = new Map<string, Seen>(); // alert id → what the log said
    const early = new Map<string, Array<(s: Seen) => void>>(); // escalations read before the alert's trigger
    const counts: Record<string, number> = {};
    const routedAfterSend: number[] = [];
    const on = (alertId: string, f: (s: Seen) => void) => {
      const s = alerts.get(alertId);
      if (s) f(s);
      else early.set(alertId, [...(early.get(alertId) ?? []), f]);
    };
    const js = jetstream(admin);
    const alertFeed = await (await js.consumers.get(STREAMS.alerts, { deliver_policy: DeliverPolicy.New })).consume();
    void (async () => {
      for await (const m of alertFeed) {
        const e = decodeEvent(m.data, { trusted: true });
        if (e.type !== 'AlertTriggered') continue;
        const kind = (e.data.labels.bench_kind ?? 'other') as Kind;
        const s: Seen = {
          kind,
          alertname: e.data.labels.alertname ?? '',
          sent: sentAt.get(e.data.fingerprint),
          triggeredAt: Date.parse(e.occurredAt),
          pages: 0,
        };
        alerts.set(e.data.alertId, s);
        for (const f of early.get(e.data.alertId) ?? []) f(s);
        early.delete(e.data.alertId);
      }
    })();
    const escalationFeed = await (await js.consumers.get(STREAMS.escalations, { deliver_policy: DeliverPolicy.New })).consume();
    void (async () => {
      for await (const m of escalationFeed) {
        const e = decodeEvent(m.data, { trusted: true });
        counts[e.type] = (counts[e.type] ?? 0) + 1;
        const d = e.data as { alertId?: string; kind?: string };
        if (!d.alertId) continue;
        const at = Date.parse(e.occurredAt);
        switch (e.type) {
          case 'AlertRouted':
            on(d.alertId, (s) => {
              if (s.routedAt === undefined) s.routedAt = at;
              if (s.sent !== undefined) routedAfterSend.push(at - s.sent);
            });
            break;
          case 'AlertInhibited':
          case 'AlertGrouped':
          case 'IncidentOpened':
          case 'AlertReleased':
            on(d.alertId, (s) => {
              if (s.verdict === undefined || e.type === 'AlertReleased') {
                s.verdict = e.type;
                s.verdictAt ??= at;
              }
            });
            break;
          case 'NotificationRequested':
            if (d.kind === 'page')
              on(d.alertId, (s) => {
                s.pages += 1;
                s.pageAt ??= at;
              });
            break;
        }
      }
    })();

    let firstPageAt: number | null = null;
    let lastPostAt = 0;
    const posts: SlackCall[] = [];
    const record = slack.calls.push.bind(slack.calls);
    slack.calls.push = (call: SlackCall) => {
      record(call);
      if (call.method !== 'chat.postMessage') return;
      posts.push(call);
      lastPostAt = now();
      if (firstPageAt === null && JSON.stringify(call.args).includes('SiteDown')) firstPageAt = now();
    };

    // ─── The storm ────────────────────────────────────────────────────────────────────────────
    const cpu0 = await dep.cpu();
    const rss = dep.sampleRss();

    let failed = 0;
    const send = async (batch: AmAlert[], seq: number) => {
      const at = now();
      for (const a of batch) sentAt.set(a.fingerprint, at);
      const res = await httpFetch(`${ingestUrl}/api/v1/webhook/alertmanager`, {
        dispatcher: agent,
        method: 'POST',
        headers: { 'content-type': 'application/json', authorization: `Bearer ${KEY}` },
        body: webhookBody(batch, 'storm', seq),
      }).catch(() => null);
      await res?.text();
      if (res?.status !== 202) failed += batch.length;
    };

    const total = 1 + DEVICE_ALERTS + OTHER_ALERTS;
    say(`storm: SiteDown of ams2, then ${DEVICE_ALERTS} device alerts at ams2 + ${OTHER_ALERTS} at chi1 at ${RATE}/s (${BATCH} a webhook)`);
    const firstSentAt = now();
    if (SITE_DOWN_AFTER === 0) await send([alert('site-down', 0)], 0);
    // Device and unrelated alerts interleaved evenly, in webhooks of BATCH.
    const rest: AmAlert[] = [];
    for (let d = 0, o = 0; d < DEVICE_ALERTS || o < OTHER_ALERTS;) {
      if (o < OTHER_ALERTS && (d >= DEVICE_ALERTS || o * DEVICE_ALERTS <= d * OTHER_ALERTS)) rest.push(alert('other', o++));
      else rest.push(alert('device', d++));
    }
    const batches = Array.from({ length: Math.ceil(rest.length / BATCH) }, (_, i) => rest.slice(i * BATCH, (i + 1) * BATCH));
    const started = performance.now();
    await Promise.all(
      batches.map(async (b, i) => {
        const wait = started + (i * BATCH * 1000) / RATE - performance.now();
        if (wait > 0) await sleep(wait);
        // The race variant: the SiteDown arrives in the middle of its POP's alerts.
        await Promise.all([send(b, i + 1), SITE_DOWN_AFTER > 0 && i === SITE_DOWN_AFTER ? send([alert('site-down', 0)], 0) : null]);
      }),
    );
    const sendSeconds = (performance.now() - started) / 1000;
    say(`sent ${total} alerts in ${sendSeconds.toFixed(2)} s (${failed} refused); waiting for every verdict`);

    // ─── Settled: every alert routed and given its verdict, every page posted, then quiet ──────
    const settled = () =>
      alerts.size >= total &&
      [...alerts.values()].every(
        (s) => s.routedAt !== undefined && (s.verdict === 'AlertInhibited' || s.verdict === 'AlertGrouped' || s.pages > 0),
      ) &&
      posts.length >= (counts.NotificationRequested ?? 0);
    let settledAt: number | null = null;
    await until(async () => settled(), 120_000, 'every verdict').then(
      () => (settledAt = now()),
      () => say(`gave up after 120 s: ${alerts.size} alerts seen, ${[...alerts.values()].filter((s) => s.verdict).length} with a verdict`),
    );
    const quietFrom = Math.max(now(), lastPostAt);
    await until(async () => now() - Math.max(quietFrom, lastPostAt) >= QUIET_SECONDS * 1000, 60_000, 'quiet');
    const peakRss = rss.stop();
    const cpu1 = await dep.cpu();
    // Once settled nothing is left to do: what each process still burns (a held alert woken over
    // and over would show here).
    await sleep(IDLE_SECONDS * 1000);
    const cpu2 = await dep.cpu();
    const idle = Object.fromEntries(services.map((s) => [s.name, Math.round((cpu2[s.name]! - cpu1[s.name]!) / (IDLE_SECONDS * 10))]));

    // Every alert visible through query-api (gRPC ListAlerts, the run's label).
    const client = new alertingV1.AlertServiceClient(`127.0.0.1:${grpcPort}`, credentials.createInsecure(), bearerToken(dep.apiToken));
    const list = async () => {
      let n = 0;
      const stream = client.listAlerts(alertingV1.ListAlertsRequest.fromPartial({ labelSelector: { run }, pageSize: 100_000 }));
      for await (const _ of stream as AsyncIterable<alertingV1.Alert>) n++;
      return n;
    };
    let visible = 0;
    await until(async () => (visible = await list()) >= total, 30_000, 'every alert visible').catch(() => undefined);
    client.close();

    const seen = [...alerts.values()];
    const ms = (v: number) => Number(v.toFixed(1));
    const decide = seen.filter((s) => s.routedAt !== undefined).map((s) => s.routedAt! - s.triggeredAt);
    const prompt = seen.filter((s) => s.kind !== 'other' && s.verdictAt !== undefined).map((s) => s.verdictAt! - s.triggeredAt);
    const waited = seen.filter((s) => s.kind === 'other' && s.verdictAt !== undefined).map((s) => s.verdictAt! - s.triggeredAt);
    const paged = seen.filter((s) => s.pages > 0).map((s) => `${s.kind}:${s.alertname}${s.pages > 1 ? `×${s.pages}` : ''}`);
    const verdicts = (kind: Kind) =>
      Object.fromEntries(
        [...new Set(seen.filter((s) => s.kind === kind).map((s) => s.verdict ?? 'none'))].map((v) => [
          v,
          seen.filter((s) => s.kind === kind && (s.verdict ?? 'none') === v).length,
        ]),
      );
    say(`paged alerts: ${paged.join(', ')}`);
    const sd = seen.find((s) => s.kind === 'site-down');
    const rel = (t: number | undefined) => (t === undefined ? '–' : `${Math.round(t - firstSentAt)} ms`);
    if (sd)
      say(
        `SiteDown after the first webhook: sent ${rel(sd.sent)}, triggered ${rel(sd.triggeredAt)}, routed ${rel(sd.routedAt)}, ` +
          `${sd.verdict} ${rel(sd.verdictAt)}, page requested ${rel(sd.pageAt)}, at Slack ${rel(firstPageAt ?? undefined)}`,
      );
    say(
      `verdicts: SiteDown ${JSON.stringify(verdicts('site-down'))}, ams2 devices ${JSON.stringify(verdicts('device'))}, chi1 ${JSON.stringify(verdicts('other'))}`,
    );
    say(`escalation events: ${JSON.stringify(counts)}`);
    const perAlert = cpuPerAlert(cpu0, cpu1, total);
    const cpuTotal = Object.keys(cpu1).reduce((sum, k) => (k === 'bench' ? sum : sum + cpu1[k]! - cpu0[k]!), 0);
    process.stdout.write(
      `${JSON.stringify({
        alerts: total,
        pages: posts.length,
        inhibited: counts.AlertInhibited ?? 0,
        grouped: counts.AlertGrouped ?? 0,
        released: counts.AlertReleased ?? 0,
        incidents: counts.IncidentOpened ?? 0,
        decide_p99_ms: ms(percentile(decide, 99)),
        decide_p50_ms: ms(percentile(decide, 50)),
        verdict_p99_ms: ms(percentile(prompt, 99)),
        waited_verdict_p50_ms: ms(percentile(waited, 50)),
        send_to_routed_p99_ms: ms(percentile(routedAfterSend, 99)),
        site_down_after_webhooks: SITE_DOWN_AFTER,
        first_page_ms: firstPageAt === null ? null : ms(firstPageAt - firstSentAt),
        settled_ms: settledAt === null ? null : ms(settledAt - firstSentAt),
        visible,
        seen: alerts.size,
        send_seconds: Number(sendSeconds.toFixed(2)),
        failed_alerts: failed,
        cpu_ms_per_alert: { ...perAlert, total: Number((cpuTotal / total).toFixed(2)) },
        idle_cpu_pct: idle,
        rss_mb: peakRss,
        error_logs: dep.errors.count,
        cores: availableParallelism(),
        load_avg: Number(loadavg()[0]!.toFixed(2)),
      })}\n`,
    );
  } finally {
    await agent.close();
    await slack.close();
    await dep.stop();
  }
}

await main();
process.exit(0);
