/**
 * `bench/console.ts` (issue 19): the NOC console's board in headless Chromium with 10,000 open
 * alerts, then a storm.
 *
 * The system runs as deployed (bench/deployment.ts: every service its own process, query-api
 * serving the built console on its CONSOLE_PORT). This process seeds BENCH_OPEN (10,000) open
 * alerts by generic webhook, signs a Chromium page in (playwright-core, Debian's /usr/bin/chromium)
 * and opens the board, then sends a storm of BENCH_RATE (500) new alerts/s for BENCH_SECONDS (10).
 *   board_first_paint_ms = navigation start → the first alert row painted (the snapshot of every
 *                          open alert fetched, parsed, laid out and the visible rows rendered);
 *   update_lag_p99_ms    = webhook sent → the storm alert's row painted on the board, for every storm
 *                          alert that reached the screen (the board shows the newest first, so each
 *                          delta's newest alerts are on screen; the rest are in the list, scrolled
 *                          away); "painted" is the animation frame after the row entered the DOM;
 *   server_lag_*_ms      = webhook sent → the alert in the live stream, read by this process (the
 *                          pipeline's and the server's share of the lag, over every storm alert);
 *   page_delay_p99_ms    = that stream event → the row painted (the page's share, painted rows);
 *   longest_frame_ms     = the longest gap between animation frames during the storm (a frozen page
 *                          shows here);
 *   cpu_ms_per_alert     = CPU of each service, nats-server, PostgreSQL and the page's main thread
 *                          (Chromium's TaskDuration) during the storm, per storm alert;
 *   rss_mb               = peak RSS of each service and nats-server; the page's JS heap.
 * One JSON line on stdout at the end; progress on stderr. `npm run build:console` first (the
 * bench builds console/dist when it is missing).
 */
import { execFileSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { availableParallelism } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { pino } from 'pino';
import { chromium } from 'playwright-core';
import { Agent, fetch as httpFetch } from 'undici';
import type { Logger } from '@oncall/shared';
import { cpuPerAlert, startDeployment } from './deployment.js';
import { percentile } from './load.js';
import { ROOT, say, until } from './processes.js';

const OPEN = Number(process.env.BENCH_OPEN ?? 10_000);
const RATE = Number(process.env.BENCH_RATE ?? 500);
const SECONDS = Number(process.env.BENCH_SECONDS ?? 10);
const PARTITIONS = Number(process.env.ONCALL_PARTITIONS ?? 8);
const KEY = 'bench-console-integration-key';
const log: Logger = pino({ level: process.env.LOG_LEVEL ?? 'warn', base: { service: 'bench-console' } }, pino.destination(2));

// No escalation policy: the alerts open and stay open; the bench is about the board, not paging.
const CONFIG = JSON.stringify({ services: [{ id: 'bench', name: 'Bench', integrationKeys: [{ name: 'generic', key: KEY }] }] });
const SITES = ['ams2', 'fra1', 'lon3', 'par1', 'nyc1'];
const SEVERITIES = ['critical', 'error', 'warning', 'info'];

/** Runs in the page before the app: stamps the first row and every storm row when painted, and the frame gaps. */
const PAGE_PROBE = `
  window.__probe = { firstRow: null, seen: {}, maxGap: 0, watchGaps: false };
  const p = window.__probe;
  let pending = [];
  let scheduled = false;
  const stamp = () => {
    scheduled = false;
    const t = performance.timeOrigin + performance.now();
    if (p.firstRow === null && pending.length) p.firstRow = performance.now();
    for (const n of pending) if (!(n in p.seen)) p.seen[n] = t;
    pending = [];
  };
  new MutationObserver((records) => {
    for (const r of records)
      for (const node of r.addedNodes) {
        if (!(node instanceof HTMLElement) || !node.dataset.alertId) continue;
        const m = /^storm #(\\d+)$/.exec(node.querySelector('.summary')?.textContent ?? '');
        pending.push(m ? m[1] : 'seed');
      }
    if (pending.length && !scheduled) { scheduled = true; requestAnimationFrame(stamp); }
  }).observe(document, { childList: true, subtree: true });
  let last = performance.now();
  const frame = (t) => { if (p.watchGaps) p.maxGap = Math.max(p.maxGap, t - last); last = t; requestAnimationFrame(frame); };
  requestAnimationFrame(frame);
`;

type Probe = { firstRow: number | null; seen: Record<string, number>; maxGap: number; watchGaps: boolean };

async function main(): Promise<void> {
  if (!existsSync(join(ROOT, 'console/dist/index.html')))
    execFileSync('npx', ['vite', 'build', 'console', '--logLevel', 'warn'], { cwd: ROOT, stdio: 'inherit' });
  const dep = await startDeployment({ name: 'console', config: CONFIG, partitions: PARTITIONS, log, dispatcherEnv: {} });
  const agent = new Agent({ connections: 32, pipelining: 1, keepAliveTimeout: 30_000 });
  const browser = await chromium.launch({ executablePath: '/usr/bin/chromium', args: ['--no-sandbox'] });
  try {
    const post = (alerts: object[]) =>
      httpFetch(`${dep.ingestUrl}/api/v1/webhook/generic`, {
        dispatcher: agent,
        method: 'POST',
        headers: { 'content-type': 'application/json', authorization: `Bearer ${KEY}` },
        body: JSON.stringify({ alerts }),
      }).then(
        async (res) => (await res.text(), res.status === 202),
        () => false,
      );

    // Seed: OPEN alerts over five sites and four severities, 200 to a request.
    say(`seeding ${OPEN} open alerts`);
    for (let from = 0; from < OPEN; from += 200 * 8)
      await Promise.all(
        Array.from({ length: 8 }, (_, lane) => {
          const start = from + lane * 200;
          const n = Math.min(200, OPEN - start);
          if (n <= 0) return Promise.resolve(true);
          return post(
            Array.from({ length: n }, (_, k) => ({
              summary: `seed alert ${start + k} on host-${(start + k) % 211}`,
              severity: SEVERITIES[(start + k) % SEVERITIES.length],
              labels: { site: SITES[(start + k) % SITES.length]!, tier: (start + k) % 3 ? 'standard' : 'enterprise' },
              dedup_key: `seed-${start + k}`,
            })),
          );
        }),
      );

    // Sign in (an admin token acting as alice, as `npm start` prints) and wait for the board to hold every seeded alert.
    const context = await browser.newContext({ viewport: { width: 1920, height: 1080 } });
    const page = await context.newPage();
    await page.goto(`${dep.consoleUrl}/login`);
    await page.getByLabel('API token').fill(dep.apiToken);
    await page.getByLabel(/^Act as user/).fill('alice');
    await page.getByRole('button', { name: 'Sign in' }).click();
    await page.waitForURL((u) => u.pathname === '/');
    // From here on this process reads the API with the same session (the login tab closed: a second
    // board in the same renderer would share the page's main thread).
    const cookie = (await context.cookies()).map((c) => `${c.name}=${c.value}`).join('; ');
    await page.close();
    const boardSize = async () => {
      const res = await httpFetch(`${dep.consoleUrl}/api/board`, { dispatcher: agent, headers: { cookie } });
      return ((await res.json()) as { alerts: unknown[] }).alerts.length;
    };
    await until(async () => (await boardSize()) >= OPEN, 120_000, `${OPEN} open alerts on the board`);

    // First paint: a fresh page on the full board (newest first, ungrouped: storm alerts land on screen).
    const board = await context.newPage();
    await board.addInitScript(PAGE_PROBE);
    await board.goto(`${dep.consoleUrl}/?group=none`);
    await board.locator('[data-live=live]').waitFor({ timeout: 30_000 });
    // The probe lives in the page (this file is typed for node, without the DOM).
    const probeNow = () => board.evaluate<Probe>('window.__probe');
    await until(async () => (await probeNow()).firstRow !== null, 30_000, 'first row');
    const firstPaint = (await probeNow()).firstRow!;
    say(`first row painted at ${firstPaint.toFixed(0)} ms`);
    const cdp = await context.newCDPSession(board);
    await cdp.send('Performance.enable');
    const pageMetrics = async () => Object.fromEntries((await cdp.send('Performance.getMetrics')).metrics.map((m) => [m.name, m.value]));

    // The server's share of the lag: the same live stream, read here.
    const sseAt = new Map<number, number>();
    const sse = new AbortController();
    void (async () => {
      const res = await httpFetch(`${dep.consoleUrl}/api/board/events`, { headers: { cookie }, signal: sse.signal });
      const decoder = new TextDecoder();
      for await (const chunk of res.body as AsyncIterable<Uint8Array>) {
        const t = Date.now();
        for (const m of decoder.decode(chunk, { stream: true }).matchAll(/"summary":"storm #(\d+)"/g)) {
          const n = Number(m[1]);
          if (!sseAt.has(n)) sseAt.set(n, t);
        }
      }
    })().catch(() => undefined);

    // The storm.
    say(`storm: ${RATE * SECONDS} alerts at ${RATE}/s`);
    await board.evaluate('window.__probe.watchGaps = true');
    const cpu0 = await dep.cpu();
    const page0 = await pageMetrics();
    const rss = dep.sampleRss();
    const sentAt = new Map<number, number>();
    const total = RATE * SECONDS;
    const perTick = Math.max(1, Math.round(RATE / 20));
    const started = performance.now();
    let failed = 0;
    const inflight: Promise<void>[] = [];
    for (let n = 0, tick = 0; n < total; tick++) {
      const wait = started + tick * 50 - performance.now();
      if (wait > 0) await sleep(wait);
      const batch = Array.from({ length: Math.min(perTick, total - n) }, (_, k) => n + k);
      n += batch.length;
      const at = Date.now();
      for (const i of batch) sentAt.set(i, at);
      inflight.push(
        post(
          batch.map((i) => ({
            summary: `storm #${i}`,
            severity: 'critical',
            labels: { site: SITES[i % SITES.length]! },
            dedup_key: `storm-${i}`,
          })),
        ).then((ok) => void (ok || (failed += batch.length))),
      );
    }
    await Promise.all(inflight);
    await until(async () => (await boardSize()) >= OPEN + total - failed, 60_000, 'every storm alert on the board').catch(() =>
      say('gave up waiting for every storm alert after 60 s'),
    );
    await sleep(1000);
    const probe = await probeNow();
    sse.abort();
    const peakRss = rss.stop();
    const cpu1 = await dep.cpu();
    const page1 = await pageMetrics();
    const lags = Object.entries(probe.seen)
      .filter(([n]) => n !== 'seed')
      .map(([n, t]) => t - sentAt.get(Number(n))!);
    const sseLags = [...sseAt].map(([n, t]) => t - sentAt.get(n)!);
    const pageDelays = Object.entries(probe.seen)
      .filter(([n]) => n !== 'seed' && sseAt.has(Number(n)))
      .map(([n, t]) => t - sseAt.get(Number(n))!);
    const ms = (v: number) => Number(v.toFixed(1));
    process.stdout.write(
      `${JSON.stringify({
        alerts_open: OPEN,
        board_first_paint_ms: ms(firstPaint),
        update_lag_p99_ms: ms(percentile(lags, 99)),
        update_lag_p50_ms: ms(percentile(lags, 50)),
        storm_rows_painted: lags.length,
        server_lag_p99_ms: ms(percentile(sseLags, 99)),
        server_lag_p50_ms: ms(percentile(sseLags, 50)),
        page_delay_p99_ms: ms(percentile(pageDelays, 99)),
        longest_frame_ms: ms(probe.maxGap),
        storm_alerts: total,
        alerts_per_sec: RATE,
        failed_alerts: failed,
        cpu_ms_per_alert: {
          ...cpuPerAlert(cpu0, cpu1, total),
          'browser-main': Number(((((page1.TaskDuration ?? 0) - (page0.TaskDuration ?? 0)) * 1000) / total).toFixed(2)),
        },
        rss_mb: { ...peakRss, 'browser-js-heap': Math.round((page1.JSHeapUsedSize ?? 0) / 1024 / 1024) },
        error_logs: dep.errors.count,
        cores: availableParallelism(),
      })}\n`,
    );
  } finally {
    await browser.close();
    await agent.close();
    await dep.stop();
  }
}

await main();
