/**
 * `npm run bench:projector`: the alerts projection on a realistic alert event log, written
 * straight into the ALERTS stream (no ingest, no decider). Measures
 *   - events_per_sec: the live projector applying a storm published while it runs
 *     (first publish → checkpoint at the storm's last sequence);
 *   - lag_p99_ms: at a paced rate, publish ack → the projection's commit of that event;
 *   - replay_1m_events_sec: `oncall replay` (rebuildReadModels) of the whole log (1M events by
 *     default): bulk load from sequence 1 into `<schema>_rebuild` without secondary indexes, index
 *     builds, catch-up, switch-over; scaled to 1M events when the log holds another number
 *     (replay_sec is as measured; replay_load_sec the bulk load, replay_index_sec the index builds).
 * Also CPU µs per event of each process (storm_cpu_us_per_event, replay_cpu_us_per_event) and their
 * sums in ms (cpu_ms_per_event: the storm's; replay_cpu_ms_per_event), each process's peak memory
 * (rss_mb: RSS; PostgreSQL's processes' summed PSS) and the load average at the start and end: on a
 * shared machine wall-clock rates follow other people's load.
 * Progress goes to stderr; one JSON line goes to stdout at the end.
 *
 * Environment: BENCH_EVENTS (storm size, 200000), BENCH_PACED_RATE (5000/s), BENCH_PACED_SECONDS (10),
 * BENCH_WARMUP_EVENTS (10000), BENCH_REPLAY_EVENTS (1000000: the log is topped up to this many events
 * before the replay; the replay covers the whole log, so it is never less than the live phases wrote),
 * BENCH_PROJECTOR=process|inprocess (process: projector/src/main.ts as its own Node process, as
 * deployed; inprocess: startProjector in this process), BENCH_PROFILE_DIR (CPU profile of the
 * projector process).
 */
import { randomUUID } from 'node:crypto';
import { availableParallelism, loadavg, tmpdir } from 'node:os';
import { chmod, mkdtemp, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { spawn, type ChildProcess } from 'node:child_process';
import getPort from 'get-port';
import pg from 'pg';
import { jetstream, jetstreamManager, type JetStreamClient } from '@nats-io/jetstream';
import {
  buildEvent,
  CONSUMERS,
  encodeEvent,
  partitionOf,
  STREAMS,
  subjects,
  type AlertEvent,
  type AlertSource,
  type EventData,
  type Severity,
} from '@oncall/contracts';
import { connectNats, createLogger, createReadModelPool, ensureTopology } from '@oncall/shared';
import { ensureDatabase, migrate, rebuildReadModels, startEmbeddedPostgres, startNatsServer } from '@oncall/infra';
import { PROJECTION_CHANNEL, startProjector } from '@oncall/projector';
import { percentile } from './load.js';
import { cpuMeter, NODE_FLAGS, peakMemory, postgresPids, ROOT, say, stopProcess } from './processes.js';
import { stormAlert } from './storm.js';

const STORM_EVENTS = Number(process.env.BENCH_EVENTS ?? 200_000);
const PACED_RATE = Number(process.env.BENCH_PACED_RATE ?? 5000);
const PACED_SECONDS = Number(process.env.BENCH_PACED_SECONDS ?? 10);
const REPLAY_EVENTS = Number(process.env.BENCH_REPLAY_EVENTS ?? 1_000_000);
const WARMUP_EVENTS = Number(process.env.BENCH_WARMUP_EVENTS ?? 10_000);
const MODE = process.env.BENCH_PROJECTOR === 'inprocess' ? 'inprocess' : 'process';
const PARTITIONS = 4;
const WINDOW = 1000; // async publishes in flight
const LAG_SAMPLE_EVERY = 10;
const SCHEMA = 'oncall';
const REPLAY_SCHEMA = 'replay_bench';
const log = createLogger('bench', 'warn');

/** Small seeded PRNG (mulberry32): the same log on every run. */
function prng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const SERVICES = ['network-edge', 'network-core', 'dns', 'checkout', 'payments', 'storage'];
const SEVERITY: Record<string, Severity> = { critical: 'critical', page: 'critical', warning: 'warning' };

type OpenAlert = {
  alertId: string;
  serviceId: string;
  fingerprint: string;
  partition: number;
  n: number;
  source: AlertSource;
  repeatCount: number;
  acked: boolean;
  version: number;
};

export type Mix = Record<AlertEvent['type'], number>;

/**
 * A storm-shaped alert log: ~60% AlertTriggered (some re-firing fingerprints that resolved
 * earlier), ~30% AlertResolved, the rest AlertRepeated/AlertUpdated and a few AlertAcknowledged,
 * on open alerts picked at random. Each alert's events are in lifecycle order.
 */
export class AlertLog {
  private readonly rand = prng(20261123);
  private readonly runId = Math.random().toString(36).slice(2, 10);
  private readonly open: OpenAlert[] = [];
  private readonly closed: Array<Pick<OpenAlert, 'serviceId' | 'fingerprint' | 'partition' | 'n'>> = [];
  private clock = Date.parse('2026-11-23T10:00:00.000Z');
  private n = 0;
  /** Events generated per type; the storm has no snoozes, manual escalations or reopens (weight 0). */
  readonly mix: Mix = {
    AlertTriggered: 0,
    AlertUpdated: 0,
    AlertRepeated: 0,
    AlertAcknowledged: 0,
    AlertResolved: 0,
    AlertSnoozed: 0,
    AlertEscalated: 0,
    AlertUnacknowledged: 0,
    AlertCommandDeclined: 0,
  };

  next(): { subject: string; data: Uint8Array } {
    this.clock += 1 + Math.floor(this.rand() * 3);
    const now = new Date(this.clock).toISOString();
    const r = this.rand();
    if (this.open.length === 0 || r < 0.6) return this.trigger(now);
    const i = Math.floor(this.rand() * this.open.length);
    const a = this.open[i]!;
    if (r < 0.9) {
      // resolved: swap-remove from the open set; its fingerprint may fire again later
      this.open[i] = this.open[this.open.length - 1]!;
      this.open.pop();
      if (this.closed.length < 50_000) this.closed.push(a);
      else this.closed[Math.floor(this.rand() * this.closed.length)] = a;
      const byUser = this.rand() < 0.1;
      return this.emit(a, 'AlertResolved', now, {
        ...ref(a),
        by: byUser ? 'user' : 'source',
        userId: byUser ? `user-${a.n % 17}` : null,
        note: byUser ? 'fixed the uplink' : '',
        endsAt: byUser ? null : now,
      });
    }
    if (r < 0.98 || a.acked) {
      a.repeatCount += 1 + Math.floor(this.rand() * 5);
      if (r < 0.95 || a.acked) {
        return this.emit(a, 'AlertRepeated', now, { ...ref(a), repeatCount: a.repeatCount, seenAt: now, ...extras(a, now) });
      }
      a.version++;
      return this.emit(a, 'AlertUpdated', now, {
        ...ref(a),
        ...content(a, this.runId),
        changed: ['summary', 'annotations'],
        repeatCount: a.repeatCount,
        seenAt: now,
      });
    }
    a.acked = true;
    const byUser = this.rand() < 0.5;
    return this.emit(a, 'AlertAcknowledged', now, {
      ...ref(a),
      by: byUser ? 'user' : 'source',
      userId: byUser ? `user-${a.n % 17}` : null,
      note: byUser ? 'looking' : '',
    });
  }

  private trigger(now: string): { subject: string; data: Uint8Array } {
    let base: Pick<OpenAlert, 'serviceId' | 'fingerprint' | 'partition' | 'n'>;
    if (this.closed.length > 0 && this.rand() < 0.1) {
      // a flapping alert: a fingerprint that resolved fires again as a new alert
      const j = Math.floor(this.rand() * this.closed.length);
      base = this.closed[j]!;
      this.closed[j] = this.closed[this.closed.length - 1]!;
      this.closed.pop();
    } else {
      const n = this.n++;
      const serviceId = SERVICES[n % SERVICES.length]!;
      const fingerprint = stormAlert(n, this.runId).fingerprint;
      base = { serviceId, fingerprint, partition: partitionOf(serviceId, fingerprint, PARTITIONS), n };
    }
    const a: OpenAlert = {
      ...base,
      alertId: randomUUID(),
      source: base.n % 5 === 0 ? 'grafana' : 'alertmanager',
      repeatCount: 0,
      acked: false,
      version: 0,
    };
    this.open.push(a);
    const am = stormAlert(a.n, this.runId);
    return this.emit(a, 'AlertTriggered', now, {
      ...ref(a),
      ...content(a, this.runId),
      source: a.source,
      startsAt: am.startsAt,
      generatorUrl: am.generatorURL,
      seenAt: now,
    });
  }

  private emit<T extends AlertEvent['type']>(
    a: OpenAlert,
    type: T,
    occurredAt: string,
    data: EventData<T>,
  ): { subject: string; data: Uint8Array } {
    this.mix[type]++;
    const event = buildEvent(type, data, { id: randomUUID(), occurredAt, causationId: randomUUID(), correlationId: a.alertId });
    return { subject: subjects.alert(a.partition, a.alertId), data: encodeEvent(event) };
  }
}

const ref = (a: OpenAlert) => ({ alertId: a.alertId, serviceId: a.serviceId, fingerprint: a.fingerprint });

/** Grafana refreshes links and values on every send; Alertmanager sends neither. */
function extras(a: OpenAlert, now: string): Pick<EventData<'AlertTriggered'>, 'links' | 'custom'> {
  if (a.source !== 'grafana') return { links: [], custom: {} };
  return {
    links: [
      { href: `https://grafana.example.net/d/net-${a.n % 40}?from=${now}`, text: 'Dashboard' },
      { href: `https://grafana.example.net/d/net-${a.n % 40}?viewPanel=${a.n % 7}`, text: 'Panel' },
    ],
    custom: {
      values: { A: (a.n % 1000) / 10 + a.repeatCount, B: a.repeatCount },
      valueString: `[ var='A' labels={} value=${a.n % 1000} ]`,
    },
  };
}

function content(
  a: OpenAlert,
  runId: string,
): Omit<EventData<'AlertUpdated'>, 'alertId' | 'serviceId' | 'fingerprint' | 'changed' | 'repeatCount' | 'seenAt'> {
  const am = stormAlert(a.n, runId);
  const annotations = a.version === 0 ? am.annotations : { ...am.annotations, summary: `${am.annotations.summary} (still, ${a.version})` };
  return {
    summary: annotations.summary ?? '',
    details: annotations.description ?? '',
    severity: SEVERITY[am.labels.severity ?? ''] ?? 'unknown',
    labels: am.labels,
    annotations,
    ...extras(a, new Date(Date.parse('2026-11-23T10:00:00Z') + a.version * 60_000).toISOString()),
  };
}

/** Async JetStream publishes with at most WINDOW in flight; `onAck` sees each stored sequence. */
export class Publisher {
  private inflight = 0;
  private waiters: Array<() => void> = [];
  private failure: Error | undefined;
  lastSeq = 0;

  constructor(private readonly js: JetStreamClient) {}

  async publish(subject: string, data: Uint8Array, onAck?: (seq: number) => void): Promise<void> {
    while (this.inflight >= WINDOW) await new Promise<void>((r) => this.waiters.push(r));
    if (this.failure) throw this.failure;
    this.inflight++;
    this.js
      .publish(subject, data, { timeout: 30_000 })
      .then(
        (ack) => {
          if (ack.seq > this.lastSeq) this.lastSeq = ack.seq;
          onAck?.(ack.seq);
        },
        (err: unknown) => {
          this.failure ??= err instanceof Error ? err : new Error(String(err));
        },
      )
      .finally(() => {
        this.inflight--;
        this.waiters.shift()?.();
      });
  }

  async drain(): Promise<number> {
    while (this.inflight > 0) await new Promise<void>((r) => this.waiters.push(r));
    if (this.failure) throw this.failure;
    return this.lastSeq;
  }
}

/**
 * Follows the alerts projection's commits through its NOTIFY (what waitForProjection listens
 * to): the time each stream sequence became visible in the read model.
 */
class AppliedWatch {
  applied = 0;
  private waits: Array<{ seq: number; resolve: () => void }> = [];
  private samples: Array<{ seq: number; ackedAt: number }> = [];
  readonly lagsMs: number[] = [];

  private constructor(private readonly client: pg.Client) {}

  static async start(url: string): Promise<AppliedWatch> {
    const client = new pg.Client({ connectionString: url });
    await client.connect();
    const w = new AppliedWatch(client);
    client.on('notification', (n) => {
      const [schema, name, last] = (n.payload ?? '').split(' ');
      if (schema === SCHEMA && name === CONSUMERS.projectorAlerts) w.advance(Number(last), performance.now());
    });
    await client.query(`LISTEN ${PROJECTION_CHANNEL}`);
    return w;
  }

  private advance(seq: number, at: number): void {
    if (seq <= this.applied) return;
    this.applied = seq;
    if (this.samples.length) {
      const still = [];
      for (const s of this.samples)
        if (s.seq <= seq) this.lagsMs.push(Math.max(0, at - s.ackedAt));
        else still.push(s);
      this.samples = still;
    }
    if (this.waits.length) {
      const still = [];
      for (const w of this.waits)
        if (w.seq <= seq) w.resolve();
        else still.push(w);
      this.waits = still;
    }
  }

  /** An event acked now: its lag ends at the commit that covers it. */
  sample(seq: number): void {
    if (seq <= this.applied) this.lagsMs.push(0);
    else this.samples.push({ seq, ackedAt: performance.now() });
  }

  async until(seq: number, timeoutMs = 600_000): Promise<void> {
    if (this.applied >= seq) return;
    let timer: NodeJS.Timeout | undefined;
    try {
      await Promise.race([
        new Promise<void>((resolve) => this.waits.push({ seq, resolve })),
        new Promise<never>((_, reject) => {
          timer = setTimeout(() => reject(new Error(`projection did not reach ${seq} (at ${this.applied})`)), timeoutMs);
        }),
      ]);
    } finally {
      clearTimeout(timer);
    }
  }

  async stop(): Promise<void> {
    await this.client.end();
  }
}

/** projector/src/main.ts as its own process, its log (stdout) on our stderr. */
function spawnProjector(env: Record<string, string>): ChildProcess {
  const profile = process.env.BENCH_PROFILE_DIR ? ['--cpu-prof', `--cpu-prof-dir=${process.env.BENCH_PROFILE_DIR}`] : [];
  return spawn(process.execPath, [...NODE_FLAGS, ...profile, '--import', 'tsx', 'projector/src/main.ts'], {
    cwd: ROOT,
    env: { ...process.env, LOG_LEVEL: 'warn', ...env },
    stdio: ['ignore', process.stderr, 'inherit'],
  });
}

async function main(): Promise<void> {
  const loadStart = loadavg().map((l) => Number(l.toFixed(2)));
  const dir = await mkdtemp(join(tmpdir(), 'oncall-bench-projector-'));
  await chmod(dir, 0o755);
  const nats = await startNatsServer({ storeDir: join(dir, 'nats'), port: await getPort() });
  // nats-server warnings and errors (slow consumers, …) are worth seeing in a benchmark
  nats.process.stderr?.on('data', (chunk: Buffer) => {
    for (const line of chunk.toString().split('\n')) if (/\[(WRN|ERR|FTL)\]/.test(line)) say(`nats-server: ${line}`);
  });
  const pgServer = await startEmbeddedPostgres({ dataDir: join(dir, 'pg'), port: await getPort() });
  let child: ChildProcess | undefined;
  let inProcess: { stop: () => Promise<void> } | undefined;
  let watch: AppliedWatch | undefined;
  try {
    await ensureDatabase(pgServer.url('postgres'), 'oncall');
    const databaseUrl = pgServer.url('oncall');
    await migrate(databaseUrl, SCHEMA);
    const nc = await connectNats(nats.url, 'bench', log);
    await ensureTopology(nc, { partitions: PARTITIONS, replicas: 1 }, log);
    const jsm = await jetstreamManager(nc);
    const pub = new Publisher(jetstream(nc));
    const gen = new AlertLog();
    watch = await AppliedWatch.start(databaseUrl);

    if (MODE === 'process') {
      child = spawnProjector({
        NATS_URL: nats.url,
        DATABASE_URL: databaseUrl,
        READ_MODEL_SCHEMA: SCHEMA,
        ONCALL_PARTITIONS: String(PARTITIONS),
        METRICS_PORT: String(await getPort()),
      });
    } else {
      const pool = await createReadModelPool(databaseUrl, SCHEMA);
      const projectorNc = await connectNats(nats.url, 'projector', log);
      const projector = await startProjector({ nc: projectorNc, pool, log });
      inProcess = {
        stop: async () => {
          await projector.stop();
          await pool.end();
          await projectorNc.close();
        },
      };
    }

    const pgDir = join(dir, 'pg');
    const natsPid = async () => (nats.process.pid ? [nats.process.pid] : []);
    // Peak memory over the whole run; the projector's while it runs (warm-up to the paced phase).
    const memory = peakMemory({
      ...(child?.pid ? { projector: async () => (child?.pid ? [child.pid] : []) } : {}),
      nats: natsPid,
      postgres: () => postgresPids(pgDir),
      bench: async () => [process.pid],
    });

    say(`warm-up: ${WARMUP_EVENTS} events (projector: ${MODE})`);
    for (let i = 0; i < WARMUP_EVENTS; i++) {
      const m = gen.next();
      await pub.publish(m.subject, m.data);
    }
    await watch.until(await pub.drain());

    say(`storm: encoding ${STORM_EVENTS} events`);
    const storm = Array.from({ length: STORM_EVENTS }, () => gen.next());
    say('storm: publishing while the projector runs');
    const stormCpu = await cpuMeter({
      postgres: () => postgresPids(pgDir),
      ...(child?.pid ? { projector: async () => [child!.pid!] } : {}),
      nats: natsPid,
      bench: async () => [process.pid],
    });
    const t0 = performance.now();
    for (const m of storm) await pub.publish(m.subject, m.data);
    const stormLast = await pub.drain();
    const published = performance.now() - t0;
    await watch.until(stormLast);
    const stormSeconds = (performance.now() - t0) / 1000;
    const stormCpuUs = await stormCpu.stop(STORM_EVENTS);
    storm.length = 0;
    const eventsPerSec = STORM_EVENTS / stormSeconds;
    say(
      `storm: published in ${(published / 1000).toFixed(1)} s, applied ${STORM_EVENTS} events in ${stormSeconds.toFixed(1)} s: ${Math.round(eventsPerSec)} events/s`,
    );

    say(`paced: ${PACED_RATE} events/s for ${PACED_SECONDS} s`);
    const pacedEvents = Math.round(PACED_RATE * PACED_SECONDS);
    const paced = Array.from({ length: pacedEvents }, () => gen.next());
    const p0 = performance.now();
    for (let i = 0; i < pacedEvents; i++) {
      const due = p0 + (i * 1000) / PACED_RATE;
      const wait = due - performance.now();
      if (wait > 1) await new Promise((r) => setTimeout(r, wait));
      const m = paced[i]!;
      await pub.publish(m.subject, m.data, i % LAG_SAMPLE_EVERY === 0 ? (seq) => watch!.sample(seq) : undefined);
    }
    const pacedSeconds = (performance.now() - p0) / 1000;
    await watch.until(await pub.drain());
    const lags = watch.lagsMs;
    say(
      `paced: ${Math.round(pacedEvents / pacedSeconds)} events/s offered; lag p50 ${percentile(lags, 50).toFixed(1)} ms, p99 ${percentile(lags, 99).toFixed(1)} ms over ${lags.length} samples`,
    );

    // The live projector is done: stop it so the log top-up and the replay have the machine.
    await stopProcess(child);
    child = undefined;
    await inProcess?.stop();
    inProcess = undefined;

    let total = (await jsm.streams.info(STREAMS.alerts)).state.messages;
    const before = total;
    if (total < REPLAY_EVENTS) {
      say(`log: topping up from ${total} to ${REPLAY_EVENTS} events`);
      const g0 = performance.now();
      for (let i = total; i < REPLAY_EVENTS; i++) {
        const m = gen.next();
        await pub.publish(m.subject, m.data);
        if ((i + 1) % 100_000 === 0 && i + 1 < REPLAY_EVENTS) say(`log: ${i + 1} events`);
      }
      await pub.drain();
      total = (await jsm.streams.info(STREAMS.alerts)).state.messages;
      say(`log: ${total} events (${Math.round((total - before) / ((performance.now() - g0) / 1000))} events/s appended)`);
    }

    // What `oncall replay` does: rebuild into `<schema>_rebuild` (bulk load, then indexes), switch in.
    say(`replay: ${total} events, oncall replay of the schema ${REPLAY_SCHEMA}`);
    await migrate(databaseUrl, REPLAY_SCHEMA);
    let replayBatches = 0;
    const r0 = performance.now();
    let reported = 0;
    const replayCpu = await cpuMeter({ postgres: () => postgresPids(pgDir), nats: natsPid, bench: async () => [process.pid] });
    const rebuilt = await rebuildReadModels({
      nc,
      databaseUrl,
      schema: REPLAY_SCHEMA,
      log,
      onProgress: (p) => {
        replayBatches++;
        if (p.done - reported >= 100_000) {
          reported = p.done;
          say(`replay: ${p.done}/${p.total} (${Math.round(p.done / ((performance.now() - r0) / 1000))} events/s)`);
        }
      },
    });
    const replayed = rebuilt.events;
    const replaySeconds = (performance.now() - r0) / 1000;
    const replayCpuUs = await replayCpu.stop(replayed);
    const { load: loadSeconds, indexes: indexSeconds } = rebuilt.phases;
    const check = new pg.Client({ connectionString: databaseUrl });
    await check.connect();
    const rows = await check.query<{ timeline: string; alerts: string }>(
      `SELECT (SELECT count(*) FROM ${REPLAY_SCHEMA}.alert_timeline) AS timeline, (SELECT count(*) FROM ${REPLAY_SCHEMA}.alerts) AS alerts`,
    );
    await check.end();
    const timelineRows = Number(rows.rows[0]?.timeline);
    if (replayed !== total || timelineRows !== total)
      throw new Error(`replay applied ${replayed} events, ${timelineRows} timeline rows, of ${total}`);
    say(
      `replay: ${replayed} events in ${replaySeconds.toFixed(1)} s (${Math.round(replayed / replaySeconds)} events/s; loaded in ${loadSeconds.toFixed(1)} s, indexes built and analyzed in ${indexSeconds.toFixed(1)} s), ${rows.rows[0]?.alerts} alerts`,
    );
    await nc.close();

    const sumMs = (usPerEvent: Record<string, number>) => Number((Object.values(usPerEvent).reduce((a, b) => a + b, 0) / 1000).toFixed(3));
    const result = {
      events_per_sec: Math.round(eventsPerSec),
      replay_1m_events_sec: Number(((replaySeconds * 1_000_000) / replayed).toFixed(1)),
      // All processes of the storm (projector, PostgreSQL, nats-server, the publishing bench), summed.
      cpu_ms_per_event: sumMs(stormCpuUs),
      replay_cpu_ms_per_event: sumMs(replayCpuUs),
      rss_mb: memory.stop(),
      lag_p99_ms: Number(percentile(lags, 99).toFixed(1)),
      lag_p50_ms: Number(percentile(lags, 50).toFixed(1)),
      events: STORM_EVENTS,
      paced_events_per_sec: PACED_RATE,
      replay_events: replayed,
      replay_sec: Number(replaySeconds.toFixed(1)),
      replay_load_sec: Number(loadSeconds.toFixed(1)),
      replay_index_sec: Number(indexSeconds.toFixed(1)),
      replay_mean_batch: Math.round(replayed / replayBatches),
      mix: gen.mix,
      projector: MODE,
      storm_cpu_us_per_event: stormCpuUs,
      replay_cpu_us_per_event: replayCpuUs,
      cores: availableParallelism(),
      loadavg_start: loadStart,
      loadavg_end: loadavg().map((l) => Number(l.toFixed(2))),
    };
    process.stdout.write(`${JSON.stringify(result)}\n`);
  } finally {
    await stopProcess(child);
    await inProcess?.stop().catch(() => undefined);
    await watch?.stop().catch(() => undefined);
    await pgServer.stop();
    await nats.stop();
    await rm(dir, { recursive: true, force: true });
  }
}

// Run when started as the benchmark; importable (the generator, the publisher) otherwise.
if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) await main();
