/**
 * `npm run bench:tickets` (issue 18): a storm of alerts that a routing rule sends to Jira, against
 * a Jira stand-in that allows BENCH_JIRA_RPS (20) requests/s and answers 429 with Retry-After
 * beyond, with two ticket bridges of which one is killed (SIGKILL) midway.
 *
 * The system runs as deployed (bench/deployment.ts) plus two `ticket-bridge/src/main.ts`
 * processes. This process is the outside world: the webhooks (BENCH_ALERTS (2000) new alerts at
 * BENCH_RATE (500)/s) and Jira (ticket-bridge/src/providers/jira/stand-in.ts, the provider's real
 * REST protocol). Once every ticket exists (or BENCH_TIMEOUT_S passed), BENCH_CLOSES (200) issues
 * are closed in Jira one after another, each with Jira's signed webhook to the surviving bridge.
 *   tickets      issues in Jira carrying one alert's label;
 *   duplicates   issues beyond the first per alert;
 *   lost         alerts without an issue when the wait ended;
 *   create_p99_s webhook sent → the issue is in Jira (seen by a 50 ms poll of the stand-in);
 *   inbound_sync_p99_ms  the close's webhook sent → AlertResolved on the ALERTS stream;
 *   tickets_deliveries   deliveries of the bridges' TICKETS consumer, each hand-back's again
 *                        included, against tickets_messages (the stream's messages it read).
 * One JSON line on stdout at the end; progress and the services' warnings on stderr.
 */
import { availableParallelism, loadavg } from 'node:os';
import { setTimeout as sleep } from 'node:timers/promises';
import getPort from 'get-port';
import { pino } from 'pino';
import { DeliverPolicy, jetstream, jetstreamManager } from '@nats-io/jetstream';
import { CONSUMERS, decodeEvent, STREAMS } from '@oncall/contracts';
import type { Logger } from '@oncall/shared';
import { startJiraStandIn } from '../ticket-bridge/src/providers/jira/stand-in.js';
import { startSlackFake } from '../test/fakes/slack.js';
import { cpuPerAlert, startDeployment } from './deployment.js';
import { percentile, runLoad } from './load.js';
import { say, until } from './processes.js';

const ALERTS = Number(process.env.BENCH_ALERTS ?? 2000);
const RATE = Number(process.env.BENCH_RATE ?? 500);
const JIRA_RPS = Number(process.env.BENCH_JIRA_RPS ?? 20);
const CLOSES = Number(process.env.BENCH_CLOSES ?? 200);
const TIMEOUT_S = Number(process.env.BENCH_TIMEOUT_S ?? 600);
const PARTITIONS = Number(process.env.ONCALL_PARTITIONS ?? 4);
const KEY = 'bench-tickets-integration-key';
const JIRA_USER = 'oncall-bot@example.com';
const JIRA_TOKEN = 'bench-jira-api-token';
const WEBHOOK_SECRET = 'bench-jira-webhook-secret';
const log: Logger = pino({ level: process.env.LOG_LEVEL ?? 'warn', base: { service: 'bench-tickets' } }, pino.destination(2));
const now = () => performance.timeOrigin + performance.now();
const LABEL = /^oncall-([0-9a-f-]{36})$/;

const config = (jiraUrl: string) =>
  JSON.stringify({
    services: [
      {
        id: 'bench',
        name: 'Bench',
        integrationKeys: [{ name: 'generic', key: KEY }],
        routing: { escalationPolicy: 'bench', rules: [{ name: 'every-alert-a-ticket', when: 'true', ticket: 'jira' }] },
      },
    ],
    // Nobody is paged within the benchmark: the first step waits an hour.
    escalationPolicies: [{ id: 'bench', name: 'Bench', steps: [{ delay: '1h', targets: [{ slack: 'C0BENCH' }] }] }],
    ticketProviders: [
      {
        id: 'jira',
        type: 'jira',
        name: 'Jira stand-in',
        settings: { baseUrl: jiraUrl, apiVersion: 3, project: 'OPS', issueType: 'Task' },
        auth: { kind: 'basic', username: JIRA_USER, password: { env: 'JIRA_API_TOKEN' } },
        fields: { summary: 'alert.summary', priority: 'alert.severity == "critical" ? "Highest" : "Medium"' },
        sync: { onAcknowledge: { transition: 'In Progress' }, onResolve: { transition: 'Done' }, resolveAlertOn: ['resolved', 'closed'] },
        inboundSecret: { env: 'JIRA_WEBHOOK_SECRET' },
      },
    ],
  });

async function main(): Promise<void> {
  say(`load average ${loadavg()[0]!.toFixed(2)} on ${availableParallelism()} cores`);
  const bridgePorts = [await getPort(), await getPort()];
  const survivorEvents = `http://127.0.0.1:${bridgePorts[1]}/api/v1/tickets/jira/events`;
  const jira = await startJiraStandIn({
    apiVersion: '3',
    auth: { kind: 'basic', username: JIRA_USER, password: JIRA_TOKEN },
    rateLimitPerSecond: JIRA_RPS,
    // Changes the bridge makes come back as Jira's webhooks, as they would from a real Jira.
    webhook: { url: survivorEvents, secret: WEBHOOK_SECRET },
  });
  const slack = await startSlackFake();
  const bridgeEnv = (i: number) => ({
    TICKET_BRIDGE_PORT: String(bridgePorts[i]),
    TICKET_BRIDGE_ID: `bench-bridge-${i}`,
    JIRA_API_TOKEN: JIRA_TOKEN,
    JIRA_WEBHOOK_SECRET: WEBHOOK_SECRET,
  });
  const dep = await startDeployment({
    name: 'bench-tickets',
    config: config(jira.url),
    partitions: PARTITIONS,
    log,
    dispatcherEnv: { SLACK_TOKEN: slack.token, SLACK_API_URL: slack.apiUrl },
    extra: [0, 1].map((i) => ({ name: `ticket-bridge-${i}`, entry: 'ticket-bridge/src/main.ts', env: bridgeEnv(i) })),
  }).catch(async (err: unknown) => {
    await Promise.all([jira.close(), slack.close()]);
    throw err;
  });
  try {
    const sentAt = new Map<string, number>(); // summary → when its webhook was sent
    const createdAfter = new Map<string, number>(); // alert id → seconds from webhook to issue
    const issuesOf = new Map<string, string[]>(); // alert id → issue keys
    const seen = new Set<string>();
    const watch = setInterval(() => {
      for (const issue of jira.issues.values()) {
        if (seen.has(issue.key)) continue;
        seen.add(issue.key);
        const alertId = issue.fields.labels.map((l) => LABEL.exec(l)?.[1]).find((x) => x !== undefined);
        if (alertId === undefined) continue;
        issuesOf.set(alertId, [...(issuesOf.get(alertId) ?? []), issue.key]);
        const sent = sentAt.get(issue.fields.summary);
        if (sent !== undefined && !createdAfter.has(alertId)) createdAfter.set(alertId, (now() - sent) / 1000);
      }
    }, 50);

    const resolvedAt = new Map<string, number>();
    const follower = await (await jetstream(dep.admin).consumers.get(STREAMS.alerts, { deliver_policy: DeliverPolicy.New })).consume();
    void (async () => {
      for await (const m of follower) {
        const e = decodeEvent(m.data, { trusted: true });
        if (e.type === 'AlertResolved' && !resolvedAt.has(e.data.alertId)) resolvedAt.set(e.data.alertId, now());
      }
    })();

    // Alerts whose ticket the bridge gave up on (TicketSyncFailed, permanent): the wait ends when every alert has a ticket or was given up.
    const givenUp = new Set<string>();
    const tickets = await (await jetstream(dep.admin).consumers.get(STREAMS.tickets, { deliver_policy: DeliverPolicy.New })).consume();
    void (async () => {
      for await (const m of tickets) {
        const e = decodeEvent(m.data, { trusted: true });
        if (e.type === 'TicketSyncFailed' && e.data.permanent && e.data.operation === 'create') givenUp.add(e.data.alertId);
      }
    })();
    const settled = () => issuesOf.size + [...givenUp].filter((id) => !issuesOf.has(id)).length >= ALERTS;

    say(`storm: ${ALERTS} alerts at ${RATE}/s, each to become one Jira issue at ≤ ${JIRA_RPS} requests/s; bridge 0 is killed midway`);
    const cpu0 = await dep.cpu();
    const rss = dep.sampleRss();
    const bodies = Array.from({ length: ALERTS }, (_, n) =>
      JSON.stringify({ summary: `storm #${n}`, severity: 'critical', dedup_key: `storm-${n}` }),
    );
    const summaries = Array.from({ length: ALERTS }, (_, n) => `storm #${n}`);
    const started = now();
    const load = runLoad({
      url: `${dep.ingestUrl}/api/v1/webhook/generic`,
      bodies,
      connections: 16,
      ratePerSecond: RATE,
      headers: { 'content-type': 'application/json', authorization: `Bearer ${KEY}` },
    });
    // The load sends at a fixed rate, so request n leaves at started + n / RATE.
    summaries.forEach((s, n) => sentAt.set(s, started + (n * 1000) / RATE));
    const sent = await load;

    const victim = dep.services.find((s) => s.name === 'ticket-bridge-0')!.child;
    await until(async () => issuesOf.size >= ALERTS * 0.3 || settled(), TIMEOUT_S * 1000, 'a third of the tickets');
    const cpuAtKill = await dep.cpu(); // a killed process's CPU can no longer be read: its share is counted up to here
    victim.kill('SIGKILL');
    say(`killed ticket-bridge-0 (SIGKILL) at ${issuesOf.size} tickets`);
    await until(async () => settled(), TIMEOUT_S * 1000, 'every ticket').catch(() =>
      say(`gave up waiting after ${TIMEOUT_S} s with ${issuesOf.size} tickets`),
    );
    if (givenUp.size > 0) say(`the bridge gave up on ${givenUp.size} tickets`);
    const createSeconds = (now() - started) / 1000;
    // Late duplicates would come from retries still in flight: give them a moment to show.
    await sleep(3000);
    clearInterval(watch);

    say(`inbound: ${CLOSES} issues closed in Jira one after another`);
    const closeLatencies: number[] = [];
    const closable = [...issuesOf.entries()].slice(0, CLOSES);
    for (const [alertId, [key]] of closable) {
      const t0 = now();
      await jira.resolveIssue(key!, { webhookUrl: survivorEvents, secret: WEBHOOK_SECRET, by: 'Jane NOC' });
      await until(async () => resolvedAt.has(alertId), 30_000, `alert ${alertId} resolved`).catch(() => undefined);
      const at = resolvedAt.get(alertId);
      if (at !== undefined) closeLatencies.push(at - t0);
    }
    const peakRss = rss.stop();
    // Every delivery of the bridges' tickets consumer, redeliveries included (a hand-back comes again), against the messages it read.
    const ticketsConsumer = await (await jetstreamManager(dep.admin)).consumers.info(STREAMS.tickets, CONSUMERS.ticketBridgeTickets);
    const cpu1 = { ...(await dep.cpu()), 'ticket-bridge-0': cpuAtKill['ticket-bridge-0']! };
    follower.stop();
    tickets.stop();

    const duplicates = [...issuesOf.values()].reduce((n, keys) => n + keys.length - 1, 0);
    const created = [...createdAfter.values()];
    process.stdout.write(
      `${JSON.stringify({
        alerts: ALERTS,
        tickets: issuesOf.size,
        duplicates,
        lost: ALERTS - issuesOf.size,
        given_up: givenUp.size,
        create_p99_s: Number(percentile(created, 99).toFixed(1)),
        create_p50_s: Number(percentile(created, 50).toFixed(1)),
        all_created_s: Number(createSeconds.toFixed(1)),
        inbound_sync_p99_ms: Number(percentile(closeLatencies, 99).toFixed(1)),
        inbound_sync_p50_ms: Number(percentile(closeLatencies, 50).toFixed(1)),
        closes: closable.length,
        closes_not_synced: closable.length - closeLatencies.length,
        tickets_messages: ticketsConsumer.delivered.stream_seq,
        tickets_deliveries: ticketsConsumer.delivered.consumer_seq,
        jira_requests: jira.requests.length,
        jira_429s: jira.requests.filter((r) => r.status === 429).length,
        jira_requests_per_sec_limit: JIRA_RPS,
        failed_webhooks: sent.failed,
        cpu_ms_per_alert: cpuPerAlert(cpu0, cpu1, ALERTS),
        rss_mb: peakRss,
        error_logs: dep.errors.count,
        cores: availableParallelism(),
      })}\n`,
    );
  } finally {
    await dep.stop();
    await Promise.all([jira.close(), slack.close()]);
  }
}

await main();
