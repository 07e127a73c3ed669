/**
 * `npm run bench:console` (issue 19): the NOC console's board in headless Chromium with 10,000 open
 * alerts, then during a storm.
 *
 * The system runs as deployed (bench/deployment.ts: every service its own process; query-api
 * serves the built console on its CONSOLE_PORT). This process seeds BENCH_OPEN (10,000) open
 * alerts through the generic webhook in batches, waits until the read model holds them, and opens
 * the board in Debian's chromium (playwright-core) signed in with a read token:
 *   board_first_paint_ms = navigation start → the board shows every open alert (its table says
 *                          how many it shows) with its first rows drawn;
 * then sends BENCH_RATE (500) new alerts/s for BENCH_SECONDS (10), each with a `bench_seq` label:
 *   update_lag_p99_ms = webhook sent → the page drew the alert (the board's `oncall:board-applied`
 *                       event, taken in the animation frame after the one that applied it).
 * The policy's first step waits an hour, so nothing is paged: the figure is the board's path
 * (ingest → decider → projector → query-api's SSE → the page), with every service running.
 * One JSON line on stdout at the end; progress on stderr.
 */
import { availableParallelism, loadavg } from 'node:os';
import { setTimeout as sleep } from 'node:timers/promises';
import pg from 'pg';
import { pino } from 'pino';
import { chromium } from 'playwright-core';
import getPort from 'get-port';
import { Agent, fetch as httpFetch } from 'undici';
import { createApiToken, type Logger } from '@oncall/shared';
import { cpuPerAlert, startDeployment } from './deployment.js';
import { percentile } from './load.js';
import { say, until } from './processes.js';

const OPEN = Number(process.env.BENCH_OPEN ?? 10_000);
const RATE = Number(process.env.BENCH_RATE ?? 500);
const SECONDS = Number(process.env.BENCH_SECONDS ?? 10);
const PARTITIONS = Number(process.env.ONCALL_PARTITIONS ?? 8);
const CHROMIUM = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';
const KEY = 'bench-console-integration-key';
const SITES = ['ams1', 'ams2', 'fra1', 'lon1', 'nyc1', 'chi1', 'sfo1', 'sin1'];
const SEVERITIES = ['critical', 'high', 'warning', 'info'];
const log: Logger = pino({ level: process.env.LOG_LEVEL ?? 'warn', base: { service: 'bench-console' } }, pino.destination(2));

const CONFIG = JSON.stringify({
  services: [{ id: 'bench', name: 'Bench', integrationKeys: [{ name: 'generic', key: KEY }], routing: { escalationPolicy: 'bench' } }],
  escalationPolicies: [{ id: 'bench', name: 'Bench', steps: [{ delay: '1h', targets: [{ user: 'alice' }] }] }],
});

const alert = (kind: string, n: number) => ({
  summary: `${kind} #${n}: interface down on edge-${n % 500}`,
  severity: SEVERITIES[n % SEVERITIES.length],
  dedup_key: `${kind}-${n}`,
  labels: { site: SITES[n % SITES.length]!, device: `edge-${n % 500}`, bench_seq: `${kind}-${n}` },
});

async function main(): Promise<void> {
  say(`load average ${loadavg()[0]!.toFixed(2)} on ${availableParallelism()} cores`);
  const consolePort = await getPort();
  const dep = await startDeployment({
    name: 'bench-console',
    config: CONFIG,
    partitions: PARTITIONS,
    log,
    queryApiEnv: { CONSOLE_PORT: String(consolePort), CONSOLE_HOST: '127.0.0.1' },
    dispatcherEnv: {},
  });
  const consoleUrl = `http://127.0.0.1:${consolePort}`;
  const agent = new Agent({ connections: 32, pipelining: 1, keepAliveTimeout: 30_000 });
  const post = async (body: unknown): Promise<boolean> => {
    const res = await httpFetch(`${dep.ingestUrl}/api/v1/webhook/generic`, {
      dispatcher: agent,
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: `Bearer ${KEY}` },
      body: JSON.stringify(body),
    }).catch(() => null);
    await res?.text();
    return res?.status === 202;
  };
  const db = new pg.Client({ connectionString: dep.databaseUrl });
  const browser = await chromium.launch({ executablePath: CHROMIUM, args: ['--no-sandbox'] });
  try {
    await db.connect();
    const openAlerts = async () =>
      Number((await db.query<{ n: string }>("SELECT count(*) AS n FROM alerts WHERE status <> 'resolved'")).rows[0]!.n);

    say(`seeding ${OPEN} open alerts`);
    const seeded = performance.now();
    const batches = Array.from({ length: Math.ceil(OPEN / 100) }, (_, b) =>
      Array.from({ length: Math.min(100, OPEN - b * 100) }, (_, i) => alert('open', b * 100 + i)),
    );
    let next = 0;
    await Promise.all(
      Array.from({ length: 8 }, async () => {
        for (let b = next++; b < batches.length; b = next++)
          if (!(await post({ alerts: batches[b] }))) throw new Error('a seeding webhook failed');
      }),
    );
    await until(async () => (await openAlerts()) >= OPEN, 300_000, `${OPEN} open alerts in the read model`);
    say(`seeded in ${((performance.now() - seeded) / 1000).toFixed(1)} s`);

    const { token } = await createApiToken(dep.admin, { name: 'bench-console', scopes: ['read'], userId: null, expiresAt: null });
    const context = await browser.newContext({ viewport: { width: 1600, height: 1000 } });
    const login = await context.request.post(`${consoleUrl}/api/session`, { data: { token }, headers: { origin: consoleUrl } });
    if (!login.ok()) throw new Error(`console sign-in failed: ${login.status()} ${await login.text()}`);
    const page = await context.newPage();
    // Every alert the board draws, by its bench_seq label: the first time it was drawn (wall clock).
    // (A script text: this file is type-checked without the DOM's types.)
    await page.addInitScript({
      content: `
        window.benchSeen = {};
        window.addEventListener('oncall:board-applied', (e) => {
          requestAnimationFrame(() => {
            const at = Date.now();
            for (const d of e.detail) for (const a of d.upserts) {
              const k = a.labels.bench_seq;
              if (k && !(k in window.benchSeen)) window.benchSeen[k] = at;
            }
          });
        });`,
    });

    say('opening the board');
    const navigated = Date.now();
    await page.goto(`${consoleUrl}/`);
    await page.waitForSelector(`[data-shown="${OPEN}"] [data-alert-id]`, { timeout: 60_000 });
    const firstPaint = Date.now() - navigated;
    await page.waitForSelector('[data-live="live"]', { timeout: 30_000 });
    say(`board drawn with ${OPEN} alerts in ${firstPaint} ms`);

    const total = RATE * SECONDS;
    say(`storm: ${total} alerts at ${RATE}/s`);
    const sentAt = new Map<string, number>();
    const cpu0 = await dep.cpu();
    const rss = dep.sampleRss();
    const started = performance.now();
    let failed = 0;
    await Promise.all(
      Array.from({ length: 32 }, async (_, lane) => {
        for (let n = lane; n < total; n += 32) {
          const wait = started + (n * 1000) / RATE - performance.now();
          if (wait > 0) await sleep(wait);
          sentAt.set(`storm-${n}`, Date.now());
          if (!(await post(alert('storm', n)))) failed++;
        }
      }),
    );
    const seen = () => page.evaluate<Record<string, number>>('window.benchSeen');
    await until(
      async () => Object.keys(await seen()).filter((k) => k.startsWith('storm-')).length >= total - failed,
      60_000,
      'every storm alert on the board',
    ).catch(() => say('gave up waiting for every storm alert after 60 s'));
    const drawn = await seen();
    const peakRss = rss.stop();
    const cpu1 = await dep.cpu();
    const lags = [...sentAt].flatMap(([k, at]) => (drawn[k] === undefined ? [] : [drawn[k] - at]));
    const rows = await page.locator('[data-alert-id]').count();
    process.stdout.write(
      `${JSON.stringify({
        alerts_open: OPEN,
        board_first_paint_ms: firstPaint,
        update_lag_p99_ms: Math.round(percentile(lags, 99)),
        update_lag_p50_ms: Math.round(percentile(lags, 50)),
        storm_alerts: total,
        storm_rate: RATE,
        storm_failed: failed,
        storm_not_drawn: total - failed - lags.length,
        rows_in_dom: rows,
        cpu_ms_per_alert: cpuPerAlert(cpu0, cpu1, total),
        rss_mb: peakRss,
        error_logs: dep.errors.count,
        cores: availableParallelism(),
      })}\n`,
    );
  } finally {
    await browser.close();
    await db.end().catch(() => undefined);
    await agent.close();
    await dep.stop();
  }
}

await main();
