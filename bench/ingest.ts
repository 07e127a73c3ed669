/**
 * `npm run bench:ingest`: our durable ingest against a real Alertmanager's in-memory API, on the
 * same machine and from the same load generator. Prints one JSON line at the end.
 */
import { access, chmod, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { spawn, type ChildProcess } from 'node:child_process';
import getPort from 'get-port';
import { jetstream, jetstreamManager, DeliverPolicy } from '@nats-io/jetstream';
import { CONSUMERS, decodeEvent, STREAMS } from '@oncall/contracts';
import { connectNats, createLogger, ensureTopology } from '@oncall/shared';
import { applyConfig, ensureDatabase, migrate, parseConfigFile, startEmbeddedPostgres, startNatsServer } from '@oncall/infra';
import { waitForProjection } from '@oncall/projector';
import { percentile, runLoad } from './load.js';
import { alertmanagerApiBody, stormAlert, webhookBody } from './storm.js';
import { cpuMeter, postgresPids, rssMb, say, spawnService, stopProcess, until } from './processes.js';

const KEY = 'bench-integration-key-000000001';
const ALERTS_PER_REQUEST = 50;
const REQUESTS = Number(process.env.BENCH_REQUESTS ?? 4000);
const NEW_REQUESTS = Number(process.env.BENCH_NEW_REQUESTS ?? 2000);
const CONNECTIONS = Number(process.env.BENCH_CONNECTIONS ?? 32);
const PARTITIONS = Number(process.env.ONCALL_PARTITIONS ?? 4);
const POOL_GROUPS = 100; // 5,000 distinct alerts re-sent again and again
const log = createLogger('bench', 'warn');

const runId = Math.random().toString(36).slice(2, 10);
const repeatHeavy = (n: number) =>
  Array.from({ length: n }, (_, i) => {
    const group = i % POOL_GROUPS;
    return Array.from({ length: ALERTS_PER_REQUEST }, (_, j) => stormAlert(group * ALERTS_PER_REQUEST + j, runId));
  });
const allNew = (n: number, offset: number) =>
  Array.from({ length: n }, (_, i) =>
    Array.from({ length: ALERTS_PER_REQUEST }, (_, j) => stormAlert(offset + i * ALERTS_PER_REQUEST + j, runId)),
  );

async function startAlertmanager(dir: string): Promise<{ url: string; child: ChildProcess } | undefined> {
  const binary = '/usr/bin/prometheus-alertmanager';
  try {
    await access(binary);
  } catch {
    return undefined;
  }
  const port = await getPort();
  await writeFile(join(dir, 'am.yml'), 'route:\n  receiver: blackhole\nreceivers:\n  - name: blackhole\n');
  const child = spawn(
    binary,
    [
      `--config.file=${join(dir, 'am.yml')}`,
      `--storage.path=${join(dir, 'am')}`,
      `--web.listen-address=127.0.0.1:${port}`,
      '--cluster.listen-address=',
      `--web.external-url=http://127.0.0.1:${port}`,
      '--log.level=warn',
    ],
    { stdio: 'ignore' },
  );
  const url = `http://127.0.0.1:${port}`;
  await until(
    async () =>
      fetch(`${url}/-/ready`).then(
        (r) => r.ok,
        () => false,
      ),
    15_000,
    'alertmanager',
  );
  return { url, child };
}

/** The sum of a phase's per-process µs per alert, in ms. */
const msOf = (us: Record<string, number>): number => Number((Object.values(us).reduce((a, b) => a + b, 0) / 1000).toFixed(3));

async function main(): Promise<void> {
  const dir = await mkdtemp(join(tmpdir(), 'oncall-bench-'));
  await chmod(dir, 0o755);
  const children: ChildProcess[] = [];
  const nats = await startNatsServer({ storeDir: join(dir, 'nats'), port: await getPort() });
  const pg = await startEmbeddedPostgres({ dataDir: join(dir, 'pg'), port: await getPort() });
  try {
    await ensureDatabase(pg.url('postgres'), 'oncall');
    const databaseUrl = pg.url('oncall');
    await migrate(databaseUrl, 'oncall');
    const nc = await connectNats(nats.url, 'bench', log);
    await ensureTopology(nc, { partitions: PARTITIONS, replicas: 1 }, log);
    await applyConfig(
      nc,
      parseConfigFile(`services:\n  - id: storm\n    name: Storm\n    integrationKeys:\n      - { name: am, key: ${KEY} }\n`, 'bench.yaml'),
    );

    const ingestPort = await getPort();
    const env = { NATS_URL: nats.url, DATABASE_URL: databaseUrl, ONCALL_PARTITIONS: String(PARTITIONS), INGEST_RATE_LIMIT_PER_SECOND: '0' };
    // The services' error and fatal log lines, counted for the result (their logs go to stderr).
    const errors = { count: 0 };
    const ingest = spawnService('ingest/src/main.ts', { ...env, INGEST_PORT: String(ingestPort), INGEST_HOST: '127.0.0.1' }, errors);
    children.push(ingest);
    const deciderEnv = { ...env, METRICS_PORT: String(await getPort()) };
    let decider = spawnService('ingest/src/decider-main.ts', deciderEnv, errors);
    children.push(decider);
    const projector = spawnService('projector/src/main.ts', { ...env, METRICS_PORT: String(await getPort()) }, errors);
    children.push(projector);
    // CPU per alert of each process in a phase: what the two cores were spent on.
    const meter = () =>
      cpuMeter({
        ingest: async () => [ingest.pid!],
        decider: async () => [decider.pid!],
        projector: async () => [projector.pid!],
        postgres: () => postgresPids(join(dir, 'pg')),
        nats: async () => (nats.process.pid ? [nats.process.pid] : []),
        bench: async () => [process.pid],
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

    // Peak resident memory of each process (the decider's across its two runs).
    const peakRss: Record<string, number> = { ingest: 0, decider: 0, projector: 0, nats: 0 };
    const sampler = setInterval(() => {
      const pids = { ingest: ingest.pid, decider: decider.pid, projector: projector.pid, nats: nats.process.pid };
      for (const [name, pid] of Object.entries(pids)) {
        if (pid === undefined) continue;
        void rssMb(pid).then(
          (mb) => (peakRss[name] = Math.max(peakRss[name] ?? 0, Math.round(mb))),
          () => undefined,
        );
      }
    }, 100);

    const headers = { 'content-type': 'application/json', authorization: `Bearer ${KEY}` };
    const webhookUrl = `${ingestUrl}/api/v1/webhook/alertmanager`;
    const answered = new Map<string, number>();
    const record = (_i: number, text: string) => {
      const a = JSON.parse(text) as { requestId: string; alerts: number };
      answered.set(a.requestId, a.alerts);
    };

    say('warm-up');
    await runLoad({
      url: webhookUrl,
      bodies: repeatHeavy(200).map((a, i) => webhookBody(a, 'warm', i)),
      connections: CONNECTIONS,
      headers,
      onAnswer: record,
    });

    const am = await startAlertmanager(dir);
    let amRate: number | null = null;
    if (am) {
      children.push(am.child);
      say('alertmanager: repeat-heavy storm');
      const amBodies = repeatHeavy(REQUESTS).map((a) => alertmanagerApiBody(a));
      await runLoad({
        url: `${am.url}/api/v2/alerts`,
        bodies: amBodies.slice(0, 200),
        connections: CONNECTIONS,
        headers: { 'content-type': 'application/json' },
      });
      const r = await runLoad({
        url: `${am.url}/api/v2/alerts`,
        bodies: amBodies,
        connections: CONNECTIONS,
        headers: { 'content-type': 'application/json' },
      });
      amRate = (r.ok * ALERTS_PER_REQUEST) / r.seconds;
      say(`alertmanager: ${Math.round(amRate)} alerts/s (${r.failed} failed)`);
      await stopProcess(am.child);
    } else {
      say('note: prometheus-alertmanager is not installed (apt-get install -y prometheus-alertmanager); skipping the comparison');
    }

    say('oncall: repeat-heavy storm');
    const bodies = repeatHeavy(REQUESTS).map((a, i) => webhookBody(a, 'storm', i));
    const stormCpu = await meter();
    const storm = await runLoad({ url: webhookUrl, bodies, connections: CONNECTIONS, headers, onAnswer: record });
    const stormCpuUs = await stormCpu.stop(storm.ok * ALERTS_PER_REQUEST);
    const ourRate = (storm.ok * ALERTS_PER_REQUEST) / storm.seconds;
    say(`oncall: ${Math.round(ourRate)} alerts/s (${storm.failed} failed, statuses ${JSON.stringify(storm.statuses)})`);

    // The decider is stopped while the all-new storm is accepted, then started on the backlog:
    // its rate is measured from its first new event to its last, with the projector running.
    say('oncall: all-new storm into the intake, decider stopped');
    const jsm = await jetstreamManager(nc);
    await until(
      async () => (await jsm.consumers.list(STREAMS.intake).next()).every((c) => c.num_pending === 0 && c.num_ack_pending === 0),
      120_000,
      'the decider to drain',
    );
    await stopProcess(decider);
    const alertsBefore = (await jsm.streams.info(STREAMS.alerts)).state.messages;
    const target = alertsBefore + NEW_REQUESTS * ALERTS_PER_REQUEST;
    const fresh = await runLoad({
      url: webhookUrl,
      bodies: allNew(NEW_REQUESTS, 10_000_000).map((a, i) => webhookBody(a, 'new', i)),
      connections: CONNECTIONS,
      headers,
      onAnswer: record,
    });
    say(
      `oncall: all-new accepted at ${Math.round((fresh.ok * ALERTS_PER_REQUEST) / fresh.seconds)} alerts/s; starting the decider on the backlog`,
    );
    decider = spawnService('ingest/src/decider-main.ts', deciderEnv, errors);
    children.push(decider);
    const decideCpu = await meter();
    await until(async () => (await jsm.streams.info(STREAMS.alerts)).state.messages > alertsBefore, 60_000, 'the first decision');
    const t0 = performance.now();
    const firstCount = (await jsm.streams.info(STREAMS.alerts)).state.messages;
    await until(async () => (await jsm.streams.info(STREAMS.alerts)).state.messages >= target, 120_000, 'the decider');
    const decidedRate = (target - firstCount) / ((performance.now() - t0) / 1000);
    // Includes the decider's start (state rebuild) and the projector's work as it runs meanwhile.
    const decideCpuUs = await decideCpu.stop(target - alertsBefore);
    say(`oncall: decided ${Math.round(decidedRate)} new alerts/s`);

    // The latency target is for a steady 5k alerts/s, not for a pipeline still digesting the
    // 100k-alert backlog above: the projector's catch-up is waited for first.
    say('oncall: waiting for the projector to catch up');
    const alertsLast = (await jsm.streams.info(STREAMS.alerts)).state.last_seq;
    await waitForProjection(databaseUrl, 'oncall', CONSUMERS.projectorAlerts, alertsLast, 120_000);

    say('oncall: latency at 5,000 alerts/s');
    const paced = await runLoad({
      url: webhookUrl,
      bodies: repeatHeavy(1000).map((a, i) => webhookBody(a, 'paced', i)),
      connections: 16,
      headers,
      ratePerSecond: 5000 / ALERTS_PER_REQUEST,
      onAnswer: record,
    });
    clearInterval(sampler);

    say('checking the log for every answered request');
    const inLog = new Set<string>();
    const consumer = await jetstream(nc).consumers.get(STREAMS.intake, { deliver_policy: DeliverPolicy.All });
    const total = (await jsm.streams.info(STREAMS.intake)).state.last_seq;
    const messages = await consumer.consume({ max_messages: 256 });
    for await (const m of messages) {
      const e = decodeEvent(m.data, { trusted: true });
      if (e.type === 'SignalsReceived') inLog.add(e.data.requestId);
      if (m.seq >= total) break;
    }
    let lost = 0;
    for (const [requestId, alerts] of answered) if (!inLog.has(requestId)) lost += alerts;
    await nc.close();

    const result = {
      alerts_per_sec: Math.round(ourRate),
      alertmanager_alerts_per_sec: amRate === null ? null : Math.round(amRate),
      ratio_to_alertmanager: amRate === null ? null : Number((ourRate / amRate).toFixed(2)),
      new_alerts_decided_per_sec: Math.round(decidedRate),
      p50_ms: Number(percentile(paced.latenciesMs, 50).toFixed(2)),
      p99_ms: Number(percentile(paced.latenciesMs, 99).toFixed(2)),
      rss_mb: peakRss,
      lost,
      storm_p99_ms: Number(percentile(storm.latenciesMs, 99).toFixed(2)),
      requests: storm.ok + fresh.ok + paced.ok,
      connections: CONNECTIONS,
      partitions: PARTITIONS,
      error_logs: errors.count,
      // Every process of the phase, the load generator included; the per-process µs follow.
      cpu_ms_per_alert: { repeat_storm: msOf(stormCpuUs), all_new: msOf(decideCpuUs) },
      storm_cpu_us_per_alert: stormCpuUs,
      decide_cpu_us_per_alert: decideCpuUs,
      cores: (await import('node:os')).availableParallelism(),
    };
    process.stdout.write(`${JSON.stringify(result)}\n`);
  } finally {
    for (const c of children.reverse()) await stopProcess(c);
    await pg.stop();
    await nats.stop();
    await rm(dir, { recursive: true, force: true });
  }
}

await main();
