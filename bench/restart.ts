/**
 * `npm run bench:restart` (the trust issue, invariant 10: bounded restarts): how long the stateful
 * parts — the decider and the escalator — take to serve again after a restart, and how much
 * memory they hold, with a long history behind them.
 *
 * Fill: BENCH_EVENTS (1,000,000) lifecycle events through the real pipeline (intake → the decider
 * → ALERTS → the escalator → ESCALATIONS), each service its own process beside a nats-server:
 * 20% of the events are new alerts, 15% resolves of them, the rest updates of open alerts (a
 * summary that changes), so 5% of the alerts stay open. The service's policy pages a Slack channel
 * at once and again after an hour, so every open alert holds a pending escalation and a timer.
 * Nothing else runs (no projector, no dispatcher: they have no state to rebuild).
 *
 * Then, each time timed from starting the two processes until a probe alert sent at that moment
 * is routed by the escalator (AlertRouted stored: both serve again):
 *   restart_s        after `kill -9` of both (they start from their latest periodic snapshot and
 *                    fold the log after it),
 *   clean_restart_s  after SIGTERM (a snapshot at the stop; nothing to fold),
 *   rebuild_s        with the snapshots deleted (the whole log folded: what every restart cost
 *                    before snapshots).
 * rss_mb: resident memory of each process once it serves after the kill -9 restart (the bar:
 * ≤ 300 MB); rss_rebuild_mb after the full rebuild.
 *
 * One JSON line on stdout: {"events", "restart_s", "rss_mb", …}; progress on stderr.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import getPort from 'get-port';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { ChildProcess } from 'node:child_process';
import { pino } from 'pino';
import { jetstreamManager } from '@nats-io/jetstream';
import type { NatsConnection } from '@nats-io/transport-node';
import { CONSUMERS, decodeEvent, STREAMS, subjects, type Signal } from '@oncall/contracts';
import { connectNats, ensureTopology, SnapshotStore, StreamAppender, type Logger } from '@oncall/shared';
import { applyConfig, parseConfigFile } from '@oncall/shared/config-file';
import { startNatsServer } from '../infra/src/nats-server.js';
import { startUsersService } from '../infra/src/users-service.js';
import { IntakePublisher } from '../ingest/src/adapters/intake-publisher.js';
import { ROOT, rssMb, say, spawnService, until } from './processes.js';

const EVENTS = Number(process.env.BENCH_EVENTS ?? 1_000_000);
const PARTITIONS = Number(process.env.ONCALL_PARTITIONS ?? 4);
const SIGNALS_PER_MESSAGE = 50;
const IN_FLIGHT = 64;
const SERVICE = 'restart';
const log: Logger = pino({ level: process.env.LOG_LEVEL ?? 'warn' }, pino.destination(2));

const CONFIG = JSON.stringify({
  services: [
    {
      id: SERVICE,
      name: 'Restart bench',
      integrationKeys: [{ name: 'bench', key: 'restart-bench-key-0000000001' }],
      routing: { escalationPolicy: 'restart-noc' },
    },
  ],
  escalationPolicies: [
    {
      id: 'restart-noc',
      name: 'Restart NOC',
      steps: [
        { delay: '0s', targets: [{ slack: '#noc' }] },
        { delay: '1h', targets: [{ slack: '#noc-escalated' }] },
      ],
    },
  ],
});

const signal = (i: number, status: 'firing' | 'resolved', version = 0): Signal => ({
  fingerprint: `f${i}`,
  status,
  summary: `Link down on edge-${i % 997} (reading ${version})`,
  details: `Interface et-0/0/${i % 48} on edge-${i % 997} stopped forwarding.`,
  severity: 'critical',
  labels: { alertname: 'LinkDown', site: ['fra1', 'ams2', 'lon3', 'par1'][i % 4]!, device: `edge-${i % 997}`, n: String(i) },
  annotations: { runbook_url: 'https://runbooks.example.net/linkdown' },
  startsAt: null,
  endsAt: null,
  generatorUrl: null,
  links: [],
  custom: {},
});

/** Intake messages of SIGNALS_PER_MESSAGE signals each, IN_FLIGHT at a time. */
async function publishAll(publisher: IntakePublisher, signals: Iterable<Signal>): Promise<void> {
  const inFlight = new Set<Promise<unknown>>();
  let batch: Signal[] = [];
  let n = 0;
  const flush = async () => {
    const p = publisher.append(
      { serviceId: SERVICE, source: 'generic', requestId: `restart-${n++}`, signals: batch, context: {}, dedupe: false },
      new Date(),
    );
    batch = [];
    inFlight.add(p);
    void p.finally(() => inFlight.delete(p));
    if (inFlight.size >= IN_FLIGHT) await Promise.race(inFlight);
  };
  for (const s of signals) {
    batch.push(s);
    if (batch.length === SIGNALS_PER_MESSAGE) await flush();
  }
  if (batch.length > 0) await flush();
  await Promise.all(inFlight);
}

async function lastSeq(nc: NatsConnection, stream: string): Promise<number> {
  return (await (await jetstreamManager(nc)).streams.info(stream)).state.last_seq;
}

/** Every escalator partition has answered every alert event. */
async function escalatorCaughtUp(nc: NatsConnection): Promise<boolean> {
  const jsm = await jetstreamManager(nc);
  for (let p = 0; p < PARTITIONS; p++) {
    const info = await jsm.consumers.info(STREAMS.alerts, CONSUMERS.escalator(p)).catch(() => null);
    if (!info || info.num_pending + info.num_ack_pending > 0) return false;
  }
  return true;
}

/** Resolves when an AlertRouted for the probe's fingerprint is stored. */
function routedProbe(nc: NatsConnection, fingerprint: string): Promise<void> {
  return new Promise((resolve) => {
    const sub = nc.subscribe(subjects.escalationsAll, {
      callback: (_err, m) => {
        const e = decodeEvent(m.data, { trusted: true });
        if (e.type === 'AlertRouted' && e.data.alert.fingerprint === fingerprint) {
          sub.unsubscribe();
          resolve();
        }
      },
    });
  });
}

async function main(): Promise<void> {
  const dir = await mkdtemp(join(tmpdir(), 'oncall-bench-restart-'));
  const nats = await startNatsServer({ storeDir: join(dir, 'nats'), port: await getPort(), log });
  const users = await startUsersService({ file: join(ROOT, 'examples/users.yaml'), port: 0, log });
  const nc = await connectNats(nats.url, 'bench-restart', log);
  const children: ChildProcess[] = [];
  try {
    await ensureTopology(nc, { partitions: PARTITIONS, replicas: 1 }, log);
    await applyConfig(nc, parseConfigFile(CONFIG, 'bench.yaml'));
    const env = {
      NATS_URL: nats.url,
      ONCALL_PARTITIONS: String(PARTITIONS),
      USER_SERVICE_URL: `127.0.0.1:${users.port}`,
      METRICS_PORT: '0',
    };
    const errors = { count: 0 };
    /** The slowest partition's recovery (ms) of each part, from their log lines, since the last start. */
    let recovery = { decider: 0, escalator: 0 };
    const onLine = (line: string) => {
      if (/"level":(4|5|6)0\b/.test(line)) process.stderr.write(`${line}\n`);
      const m = /"ms":(\d+)/.exec(line);
      if (!m) return;
      if (line.includes('partition state recovered')) recovery.decider = Math.max(recovery.decider, Number(m[1]));
      if (line.includes('escalator partition rebuilt')) recovery.escalator = Math.max(recovery.escalator, Number(m[1]));
    };
    const start = () => {
      recovery = { decider: 0, escalator: 0 };
      const logged = { ...env, LOG_LEVEL: 'info' };
      return {
        decider: spawnService('ingest/src/decider-main.ts', logged, errors, onLine),
        escalator: spawnService('escalator/src/main.ts', logged, errors, onLine),
      };
    };
    let procs = start();
    children.push(procs.decider, procs.escalator);

    const created = Math.round(EVENTS * 0.2);
    const resolved = Math.round(EVENTS * 0.15);
    const updates = EVENTS - created - resolved;
    const open = created - resolved;
    say(`fill: ${created} alerts, ${updates} updates of open ones, ${resolved} resolved (${open} stay open)`);
    const t0 = performance.now();
    const publisher = new IntakePublisher(new StreamAppender(nc), PARTITIONS);
    await publishAll(
      publisher,
      (function* () {
        for (let i = 0; i < created; i++) yield signal(i, 'firing');
        // Updates go to the alerts that stay open (resolved ones first, so their updates are spent before they go).
        for (let u = 0; u < updates; u++) yield signal(resolved + (u % open), 'firing', 1 + Math.floor(u / open));
        for (let i = 0; i < resolved; i++) yield signal(i, 'resolved');
      })(),
    );
    await until(async () => (await lastSeq(nc, STREAMS.alerts)) >= EVENTS, 1_800_000, `${EVENTS} lifecycle events`);
    say(`decided ${EVENTS} events in ${((performance.now() - t0) / 1000).toFixed(0)} s; waiting for the escalator`);
    await until(() => escalatorCaughtUp(nc), 1_800_000, 'the escalator to answer every alert event');
    const escalations = await lastSeq(nc, STREAMS.escalations);
    say(`filled in ${((performance.now() - t0) / 1000).toFixed(0)} s: ${escalations} escalation events`);

    let probes = 0;
    /** Starts both, sends a probe alert at once, and times until the escalator routed it. */
    const restart = async (): Promise<{ seconds: number; rss: Record<string, number>; recoveryMs: Record<string, number> }> => {
      const fingerprint = `probe-${probes++}`;
      const routed = routedProbe(nc, fingerprint);
      const t = performance.now();
      procs = start();
      children.push(procs.decider, procs.escalator);
      await publisher.append(
        {
          serviceId: SERVICE,
          source: 'generic',
          requestId: fingerprint,
          signals: [{ ...signal(0, 'firing'), fingerprint }],
          context: {},
          dedupe: false,
        },
        new Date(),
      );
      await routed;
      const seconds = (performance.now() - t) / 1000;
      // Settled: what each holds once it serves (and whatever recovery left behind).
      await until(() => escalatorCaughtUp(nc), 120_000, 'the escalator after the restart');
      const rss = { decider: Math.round(await rssMb(procs.decider.pid!)), escalator: Math.round(await rssMb(procs.escalator.pid!)) };
      return { seconds: Number(seconds.toFixed(2)), rss, recoveryMs: { ...recovery } };
    };
    const exited = (c: ChildProcess) =>
      new Promise((resolve) => (c.exitCode !== null || c.signalCode !== null ? resolve(null) : c.once('exit', resolve)));
    const stop = async (signal: NodeJS.Signals) => {
      for (const c of [procs.decider, procs.escalator]) c.kill(signal);
      await Promise.all([exited(procs.decider), exited(procs.escalator)]);
    };

    say('kill -9 of both, restart');
    await stop('SIGKILL');
    const afterKill = await restart();
    say(`served again after ${afterKill.seconds} s; RSS ${JSON.stringify(afterKill.rss)}`);

    say('SIGTERM of both (snapshots at the stop), restart');
    await stop('SIGTERM');
    const clean = await restart();
    say(`served again after ${clean.seconds} s`);

    say('snapshots deleted: the whole log folded, as before snapshots');
    await stop('SIGKILL');
    const store = await SnapshotStore.open(nc);
    for (let p = 0; p < PARTITIONS; p++) {
      await store.delete(`decider-p${p}`);
      await store.delete(`escalator-p${p}`);
    }
    const rebuild = await restart();
    say(`served again after ${rebuild.seconds} s; RSS ${JSON.stringify(rebuild.rss)}`);
    await stop('SIGTERM');

    process.stdout.write(
      `${JSON.stringify({
        events: EVENTS,
        restart_s: afterKill.seconds,
        rss_mb: afterKill.rss,
        recovery_ms: afterKill.recoveryMs,
        clean_recovery_ms: clean.recoveryMs,
        clean_restart_s: clean.seconds,
        rebuild_s: rebuild.seconds,
        rss_rebuild_mb: rebuild.rss,
        rebuild_recovery_ms: rebuild.recoveryMs,
        open_alerts: open,
        escalation_events: escalations,
        partitions: PARTITIONS,
        error_logs: errors.count,
      })}\n`,
    );
  } finally {
    for (const c of children) if (c.exitCode === null && c.signalCode === null) c.kill('SIGKILL');
    await nc.close();
    await users.close();
    await nats.stop();
    await rm(dir, { recursive: true, force: true });
  }
}

main().catch((err: unknown) => {
  process.stderr.write(`bench:restart: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`);
  process.exit(1);
});
