/**
 * `npm run bench:escalator`: the escalator (startEscalator in a process of its own, with the
 * services' Node flags, real system clock, users from a file directory) against a throwaway
 * nats-server, fed AlertTriggered events written straight into the ALERTS stream, as the decider
 * would write them, by a load generator in another process (pipelined async publishes, at most
 * 1000 in flight). Measures
 *   - oncall_lookups_per_sec: `onCallAt(schedule, t)` over random instants of a year, for a NOC
 *     schedule in America/New_York (DST) with three layers (two restricted), overrides and
 *     temporary schedules; a pure microbenchmark, run first, before anything else is started;
 *   - alerts_per_sec: BENCH_TIMERS new alerts, each routed (six CEL rules, a calendar, a
 *     maintenance window that does not cover it), its schedule resolved, and answered with
 *     AlertRouted + EscalationStepReached + NotificationRequested; the rate is alerts / (first
 *     publish → every escalator consumer has acked every alert; a message is acked only after its
 *     decisions are stored). A warm-up of BENCH_WARMUP alerts (one-step policy) runs before;
 *   - timers / fire_lag_p50_ms / fire_lag_p99_ms: the same alerts then wait on their first step
 *     (BENCH_DELAY_SECONDS, default 60: every alert is created before the first timer is due), so
 *     BENCH_TIMERS timers are pending and fall due spread over as long as creating them took
 *     (fire_spread_s; at the same rate they were created). Lag = occurredAt of the second step's
 *     EscalationStepReached (reason timeout) − nextAt of the first step, both read from the log,
 *     over every alert; fire_to_stored_p99_ms is the same up to when JetStream stored that event;
 *   - with BENCH_STORM_RATE=R (new alerts/s, default 0): while the timers fall due, new alerts (to
 *     a one-step policy, so they add no timers) are published at R/s: the lag under ingest load.
 *   - the escalator's memory (its process's RSS from /proc, every 250 ms): `rss_mb` the peak over
 *     the run, `rss_mb_started` once started (before any alert), `rss_mb_create_peak` while the
 *     alerts are answered, `rss_mb_wait_peak` from then until the first timer is due (the
 *     partitions write their snapshots then), `rss_mb_fire_peak` while the timers fire, and with every timer pending
 *     right after a full GC `rss_mb_pending_after_gc` / `heap_mb_pending_after_gc` (the live heap:
 *     what the pending escalations hold). BENCH_HEAP_SNAPSHOT=file: a heap snapshot of the
 *     escalator at that point (it takes seconds and memory: the fire figures of such a run are off).
 * The log is checked at the end: one page per alert on creation, one timeout step per alert,
 * no notification id twice. Also reported: event-loop delay p99 and utilisation of the escalator
 * while timers fire, an upper bound of the append round trip p99 (from the escalator's
 * histogram), and the CPU the escalator, nats-server and the publisher used per phase (% of one
 * core) with cpu_ms_per_alert (escalator + nats-server CPU per alert answered): the machine's
 * other work skews every rate, so the line also has the load average before the run and the CPU
 * other processes used in each phase (cpu_pct_*_other_processes). Everything (nats-server,
 * escalator, load generator) shares one machine.
 *
 * Progress goes to stderr; one JSON line goes to stdout at the end.
 * Environment: BENCH_TIMERS (100000), BENCH_WARMUP (2000), BENCH_DELAY_SECONDS (60),
 * BENCH_STORM_RATE (0), BENCH_LOOKUP_SECONDS (2), ONCALL_PARTITIONS (8), BENCH_PROFILE_DIR (CPU
 * profiles of the escalator while alerts are answered and while timers fire), BENCH_DUMP (a file
 * for "due lag partition storedLag" per timer), BENCH_HEAP_SNAPSHOT, BENCH_ESCALATOR_FLAGS (more
 * Node flags for the escalator's process, e.g. GC settings to compare).
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { Session } from 'node:inspector/promises';
import { availableParallelism, loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { monitorEventLoopDelay, performance } from 'node:perf_hooks';
import { writeHeapSnapshot } from 'node:v8';
import getPort from 'get-port';
import { jetstream, jetstreamManager, DeliverPolicy, type JetStreamClient, type JetStreamManager } from '@nats-io/jetstream';
import type { NatsConnection } from '@nats-io/transport-node';
import {
  buildEvent,
  CONSUMERS,
  decodeEvent,
  encodeEvent,
  makeEvent,
  partitionOf,
  STREAMS,
  subjects,
  type ConfigKind,
  type EventData,
  type EventType,
  type Severity,
} from '@oncall/contracts';
import { connectNats, createLogger, ensureTopology, fileUserDirectory, onCallAt, registry, type DirectoryUser } from '@oncall/shared';
import { startNatsServer } from '@oncall/infra';
import { startEscalator } from '@oncall/escalator';
import { percentile } from './load.js';
import { NODE_FLAGS, rssMb, say } from './processes.js';
import { stormAlert } from './storm.js';

const TIMERS = Number(process.env.BENCH_TIMERS ?? 100_000);
const WARMUP = Number(process.env.BENCH_WARMUP ?? 2000);
const DELAY_SECONDS = Number(process.env.BENCH_DELAY_SECONDS ?? 60);
const STORM_RATE = Number(process.env.BENCH_STORM_RATE ?? 0);
const LOOKUP_SECONDS = Number(process.env.BENCH_LOOKUP_SECONDS ?? 2);
const PARTITIONS = Number(process.env.ONCALL_PARTITIONS ?? 8);
const WINDOW = 1000; // async publishes in flight
/** tsx for the child processes, unless this file runs bundled as JavaScript (to measure what tsx costs: docs/performance.md). */
const TS_LOADER = import.meta.url.endsWith('.ts') ? ['--import', 'tsx'] : [];
const SERVICE = 'edge-network';
const log = createLogger('bench', 'warn');

type Schedule = EventData<'ScheduleConfigured'>;

/** Small seeded PRNG (mulberry32). */
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

const MEMBERS = ['ana', 'ben', 'chen', 'dara', 'eli', 'fatima'];
const USERS: DirectoryUser[] = [...MEMBERS, 'carol', 'dave', 'night-1', 'night-2', 'weekend-1', 'weekend-2', 'sub'].map((id, i) => ({
  id,
  name: id[0]!.toUpperCase() + id.slice(1),
  email: `${id}@example.net`,
  timezone: 'America/New_York',
  contacts: [
    { channel: 'email', address: `${id}@example.net` },
    { channel: 'slack', address: `U${1000 + i}` },
    { channel: 'sms', address: `+1555555${String(1000 + i)}` },
  ],
}));

/**
 * A NOC schedule: a weekly 24×7 base layer, a weeknight layer (20:00–08:00, wraps midnight)
 * and a weekend layer above it; overrides and temporary schedules at `overridesAround`.
 * Every layer has one member on call, and no override removes anyone, so exactly one user is
 * on call at any instant after the start.
 */
function nocSchedule(overridesAround: number, overrideCount: number): Schedule {
  const rand = prng(7);
  const iso = (ms: number) => new Date(ms).toISOString();
  const H = 3_600_000;
  const overrides: Schedule['overrides'] = Array.from({ length: overrideCount }, (_, i) => {
    const start = overridesAround + Math.floor((rand() - 0.5) * 300 * 24) * H;
    const kind = i % 3 === 0 ? 'add' : 'replace';
    return {
      kind,
      userId: 'sub',
      replaces: kind === 'replace' ? MEMBERS[i % MEMBERS.length]! : null,
      start: iso(start),
      end: iso(start + (2 + (i % 30)) * H),
    };
  });
  return {
    scheduleId: 'noc',
    name: 'NOC primary',
    timeZone: 'America/New_York',
    rotations: [
      {
        id: 'base',
        name: 'Weekly base',
        type: 'weekly',
        shiftLength: 1,
        start: '2025-01-06T09:00:00-05:00',
        members: MEMBERS,
        restrictions: [],
      },
      {
        id: 'nights',
        name: 'Weeknights',
        type: 'daily',
        shiftLength: 1,
        start: '2025-01-06T20:00:00-05:00',
        members: ['night-1', 'night-2'],
        restrictions: [{ days: ['mon', 'tue', 'wed', 'thu'], from: '20:00', to: '08:00' }],
      },
      {
        id: 'weekend',
        name: 'Weekend',
        type: 'weekly',
        shiftLength: 1,
        start: '2025-01-04T00:00:00-05:00',
        members: ['weekend-1', 'weekend-2'],
        restrictions: [{ days: ['sat', 'sun'], from: '00:00', to: '00:00' }],
      },
    ],
    overrides,
    temporary: [
      { start: iso(overridesAround - 90 * 24 * H), end: iso(overridesAround - 88 * 24 * H), users: ['carol'] },
      { start: iso(overridesAround + 120 * 24 * H), end: iso(overridesAround + 121 * 24 * H), users: ['dave', 'carol'] },
    ],
  };
}

function lookupBench(): { perSec: number; lookups: number } {
  const year = Date.parse('2026-01-01T00:00:00Z');
  const schedule = nocSchedule(year + 180 * 86_400_000, 40);
  const rand = prng(42);
  const instants = Float64Array.from({ length: 1 << 20 }, () => year + Math.floor(rand() * 365 * 86_400_000));
  let sink = 0;
  for (let i = 0; i < 50_000; i++) sink += onCallAt(schedule, instants[i]!).length; // warm caches and JIT
  let n = 0;
  const t0 = performance.now();
  const end = t0 + LOOKUP_SECONDS * 1000;
  while (performance.now() < end) {
    for (let j = 0; j < 10_000; j++) sink += onCallAt(schedule, instants[(n + j) & (instants.length - 1)]!).length;
    n += 10_000;
  }
  const seconds = (performance.now() - t0) / 1000;
  if (sink === 0) throw new Error('nobody was ever on call');
  return { perSec: n / seconds, lookups: n };
}

async function appendConfig<T extends EventType>(
  js: JetStreamClient,
  kind: ConfigKind,
  id: string,
  type: T,
  data: EventData<T>,
): Promise<void> {
  const event = makeEvent(type, data, {
    id: randomUUID(),
    occurredAt: new Date().toISOString(),
    causationId: null,
    correlationId: `bench-${kind}-${id}`,
  });
  await js.publish(subjects.config(kind, id), encodeEvent(event));
}

async function seedConfig(js: JetStreamClient): Promise<void> {
  const now = Date.now();
  // Overrides around the run but not covering it (the live count of recipients stays one).
  await appendConfig(js, 'schedule', 'noc', 'ScheduleConfigured', nocSchedule(now + 200 * 86_400_000, 12));
  await appendConfig(js, 'service', SERVICE, 'ServiceConfigured', {
    serviceId: SERVICE,
    name: 'Edge network',
    description: 'routers and links',
    integrationKeys: [],
  });
  await appendConfig(js, 'calendar', 'office', 'CalendarConfigured', {
    calendarId: 'office',
    name: 'Office hours',
    timeZone: 'Europe/Berlin',
    hours: [{ days: ['mon', 'tue', 'wed', 'thu', 'fri'], from: '09:00', to: '17:00' }],
    holidays: ['2026-12-25'],
  });
  await appendConfig(js, 'policy', 'noc', 'EscalationPolicyConfigured', {
    policyId: 'noc',
    name: 'NOC escalation',
    repeat: 0,
    steps: [
      { delaySeconds: DELAY_SECONDS, targets: [{ type: 'schedule', scheduleId: 'noc' }], untilAllAck: false },
      {
        delaySeconds: 600,
        targets: [
          { type: 'user', userId: 'carol' },
          { type: 'slack', channel: '#noc' },
        ],
        untilAllAck: false,
      },
      { delaySeconds: 900, targets: [{ type: 'rotation', scheduleId: 'noc', rotationId: 'base' }], untilAllAck: false },
    ],
  });
  await appendConfig(js, 'policy', 'single', 'EscalationPolicyConfigured', {
    policyId: 'single',
    name: 'Page dave once',
    repeat: 0,
    steps: [{ delaySeconds: 0, targets: [{ type: 'user', userId: 'dave' }], untilAllAck: false }],
  });
  await appendConfig(js, 'policy', 'db', 'EscalationPolicyConfigured', {
    policyId: 'db',
    name: 'DB team',
    repeat: 1,
    steps: [{ delaySeconds: 300, targets: [{ type: 'user', userId: 'carol' }], untilAllAck: true }],
  });
  const rule = (name: string, when: string, actions: Partial<EventData<'RoutingConfigured'>['rules'][number]> = {}) => ({
    name,
    when,
    policyId: null,
    templateId: null,
    severity: null,
    ticket: null,
    suppress: false,
    continue: false,
    ...actions,
  });
  await appendConfig(js, 'routing', SERVICE, 'RoutingConfigured', {
    serviceId: SERVICE,
    escalationPolicyId: 'noc',
    templateId: null,
    ackTimeoutSeconds: 1800,
    rules: [
      rule('staging-quiet', 'has(labels.env) && labels.env == "staging"', { suppress: true }),
      rule('db-team', 'has(labels.team) && labels.team == "db"', { policyId: 'db' }),
      rule('gold-customers', 'has(labels.customer_tier) && labels.customer_tier in ["gold", "platinum"]', {
        severity: 'critical',
        continue: true,
      }),
      rule('power', 'has(labels.alertname) && labels.alertname.matches("^(UPS|PDU|CRAC)")', { policyId: 'db' }),
      rule('bench-single', 'has(labels.bench) && labels.bench == "single"', { policyId: 'single' }),
      rule('after-hours', 'alert.severity == "critical" && !calendars.office', { continue: true }),
    ],
  });
  await appendConfig(js, 'maintenance', 'lab', 'MaintenanceWindowConfigured', {
    windowId: 'lab',
    name: 'Lab rebuild',
    start: new Date(now - 3_600_000).toISOString(),
    end: new Date(now + 86_400_000).toISOString(),
    services: [SERVICE],
    labels: { site: 'lab1' },
    when: null,
    mode: 'suppress',
  });
}

const runId = process.env.BENCH_RUN_ID ?? Math.random().toString(36).slice(2, 10);
const SEVERITY: Record<string, Severity> = { critical: 'critical', page: 'critical', warning: 'warning' };

/** The AlertTriggered the decider would write for storm alert n, and where it goes. */
function triggered(n: number, extraLabels: Record<string, string> = {}): { subject: string; data: Uint8Array; alertId: string } {
  const am = stormAlert(n, runId);
  const alertId = randomUUID();
  const now = new Date().toISOString();
  const event = buildEvent(
    'AlertTriggered',
    {
      alertId,
      serviceId: SERVICE,
      fingerprint: am.fingerprint,
      source: 'alertmanager',
      summary: am.annotations.summary ?? '',
      details: am.annotations.description ?? '',
      severity: SEVERITY[am.labels.severity ?? ''] ?? 'unknown',
      labels: { ...am.labels, ...extraLabels },
      annotations: am.annotations,
      links: [],
      custom: {},
      startsAt: am.startsAt,
      generatorUrl: am.generatorURL,
      seenAt: now,
    },
    { id: randomUUID(), occurredAt: now, causationId: randomUUID(), correlationId: alertId },
  );
  return { subject: subjects.alert(partitionOf(SERVICE, am.fingerprint, PARTITIONS), alertId), data: encodeEvent(event), alertId };
}

/** Async JetStream publishes with at most WINDOW in flight. */
class Publisher {
  private inflight = 0;
  private waiters: Array<() => void> = [];
  private error: unknown;

  constructor(private readonly js: JetStreamClient) {}

  async publish(subject: string, data: Uint8Array): Promise<void> {
    while (this.inflight >= WINDOW) await new Promise<void>((r) => this.waiters.push(r));
    if (this.error) throw new Error('a publish failed', { cause: this.error });
    this.inflight++;
    this.js.publish(subject, data, { timeout: 30_000 }).then(
      () => this.done(),
      (err: unknown) => {
        this.error = err;
        this.done();
      },
    );
  }

  private done(): void {
    this.inflight--;
    this.waiters.shift()?.();
  }

  async drain(): Promise<void> {
    while (this.inflight > 0) await new Promise<void>((r) => this.waiters.push(r));
    if (this.error) throw new Error('a publish failed', { cause: this.error });
  }
}

/** CPU seconds (user + system) a process has used so far, from /proc. */
async function cpuSeconds(pid: number): Promise<number> {
  const fields = (await readFile(`/proc/${pid}/stat`, 'utf8')).split(') ')[1]!.split(' ');
  return (Number(fields[11]) + Number(fields[12])) / 100; // utime, stime in clock ticks (USER_HZ = 100)
}

/** CPU seconds the whole machine has spent busy so far (all cores), from /proc/stat. */
async function machineBusySeconds(): Promise<number> {
  const [, ...fields] = (await readFile('/proc/stat', 'utf8')).split('\n')[0]!.trim().split(/\s+/);
  const [user, nice, system, , , irq, softirq, steal] = fields.map(Number);
  return (user! + nice! + system! + irq! + softirq! + steal!) / 100;
}

/**
 * CPU used over a phase, in % of one core, by this process (the escalator), nats-server, the
 * publisher, and everything else on the machine (`others`: other people's work skews the run).
 */
async function cpuMeter(
  escalatorPid: number,
  natsPid: number,
  publisherPid: number,
): Promise<() => Promise<{ escalator: number; nats: number; publisher: number; others: number }>> {
  const t0 = performance.now();
  const escalator0 = await cpuSeconds(escalatorPid);
  const nats0 = await cpuSeconds(natsPid);
  const publisher0 = await cpuSeconds(publisherPid);
  const machine0 = await machineBusySeconds();
  return async () => {
    const seconds = (performance.now() - t0) / 1000;
    const used = {
      escalator: (await cpuSeconds(escalatorPid)) - escalator0,
      nats: (await cpuSeconds(natsPid)) - nats0,
      publisher: (await cpuSeconds(publisherPid)) - publisher0,
    };
    const machine = (await machineBusySeconds()) - machine0;
    const pct = (cpu: number) => Math.round((cpu / seconds) * 100);
    return {
      escalator: pct(used.escalator),
      nats: pct(used.nats),
      publisher: pct(used.publisher),
      others: Math.max(0, pct(machine - used.escalator - used.nats - used.publisher)),
    };
  };
}

/** With BENCH_PROFILE_DIR: a CPU profile of the escalator over one phase (open it in Chrome DevTools). */
async function profilePhase(escalator: EscalatorProcess, name: string): Promise<() => Promise<void>> {
  const dir = process.env.BENCH_PROFILE_DIR;
  if (!dir) return async () => undefined;
  await escalator.ask({ op: 'profile-start' });
  return async () => void (await escalator.ask({ op: 'profile-stop', path: join(dir, `escalator-${name}.cpuprofile`) }));
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Cumulative bucket counts of a histogram of a registry (the escalator's metrics, asked in its process). */
async function bucketsOf(name: string): Promise<Array<[number, number]>> {
  const values = ((await registry.getSingleMetric(name)?.get())?.values ?? []) as Array<{
    metricName?: string;
    labels: Record<string, string | number | undefined>;
    value: number;
  }>;
  const out: Array<[number, number]> = [];
  for (const v of values)
    if (v.metricName === `${name}_bucket`) out.push([v.labels.le === '+Inf' ? Infinity : Number(v.labels.le), v.value]);
  return out;
}

/** The bucket bound (ms) under which `q` % of the observations made between two snapshots fall. */
function bucketQuantileMs(before: Map<number, number>, after: Map<number, number>, q: number): number | null {
  const bounds = [...after.keys()].sort((a, b) => a - b);
  const total = (after.get(Infinity) ?? 0) - (before.get(Infinity) ?? 0);
  if (total === 0) return null;
  for (const le of bounds) if ((after.get(le) ?? 0) - (before.get(le) ?? 0) >= (total * q) / 100) return le === Infinity ? null : le * 1000;
  return null;
}

/** Alerts n = from … from + count - 1, as fast as the server takes them (rate 0) or paced at `rate` per second. */
type PublishJob = { from: number; count: number; labels: Record<string, string>; rate: number };
type PublishDone = { seconds: number };

/**
 * The load generator runs as its own process, as the decider does in a deployment: its
 * publishing does not hold up the escalator's event loop (it still takes CPU on the same cores).
 */
class PublisherProcess {
  private constructor(readonly child: ChildProcess) {}

  static async start(natsUrl: string): Promise<PublisherProcess> {
    const child = spawn(process.execPath, [...TS_LOADER, fileURLToPath(import.meta.url)], {
      env: {
        ...process.env,
        BENCH_ESCALATOR_ROLE: 'publisher',
        BENCH_NATS_URL: natsUrl,
        BENCH_RUN_ID: runId,
        ONCALL_PARTITIONS: String(PARTITIONS),
      },
      stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
    });
    await new Promise<void>((resolve, reject) => {
      child.once('message', () => resolve());
      child.once('exit', (code) => reject(new Error(`the publisher exited with ${code}`)));
    });
    return new PublisherProcess(child);
  }

  run(job: PublishJob): Promise<PublishDone> {
    return new Promise((resolve) => {
      this.child.once('message', (m) => resolve(m as PublishDone));
      this.child.send(job);
    });
  }

  async stop(): Promise<void> {
    if (this.child.exitCode !== null) return;
    const exited = new Promise((r) => this.child.once('exit', r));
    this.child.kill('SIGTERM');
    await exited;
  }
}

async function publisherMain(): Promise<void> {
  const nc = await connectNats(process.env.BENCH_NATS_URL!, 'bench-publisher', log);
  const pub = new Publisher(jetstream(nc));
  process.on('message', (m) => {
    const job = m as PublishJob;
    void (async () => {
      const t0 = performance.now();
      for (let i = 0; i < job.count; i++) {
        if (job.rate > 0) {
          const at = t0 + (i / job.rate) * 1000;
          if (performance.now() < at) await sleep(at - performance.now());
        }
        await pub.publish(...pick(triggered(job.from + i, job.labels)));
      }
      await pub.drain();
      process.send!({ seconds: (performance.now() - t0) / 1000 } satisfies PublishDone);
    })();
  });
  process.send!('ready');
}

/** Polls `check` every `everyMs` until it is true. */
async function until(check: () => Promise<boolean>, timeoutMs: number, what: string, everyMs = 50): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await sleep(everyMs);
  }
}

/** Messages the escalator's consumers have not acked yet (null until every consumer exists). */
async function unacked(jsm: JetStreamManager): Promise<number | null> {
  let total = 0;
  for (let p = 0; p < PARTITIONS; p++) {
    try {
      const info = await jsm.consumers.info(STREAMS.alerts, CONSUMERS.escalator(p));
      total += info.num_pending + info.num_ack_pending;
    } catch {
      return null;
    }
  }
  return total;
}

const lastSeq = async (jsm: JetStreamManager, stream: string) => (await jsm.streams.info(stream)).state.last_seq;

/** What the checks need of an escalation event (the whole log of a run does not fit in memory twice). */
type Timeline = {
  alertId: string;
  type: string;
  occurredAt: number;
  /** When JetStream stored it. */
  storedAt: number;
  partition: number;
  reason?: string;
  policyId?: string;
  step?: number;
  nextAt?: string | null;
  kind?: string;
  notificationId?: string;
};

/** Every escalation event of the run, read once at the end (not while measuring). */
async function readEscalations(nc: NatsConnection, through: number): Promise<Timeline[]> {
  const consumer = await jetstream(nc).consumers.get(STREAMS.escalations, { deliver_policy: DeliverPolicy.All });
  const out: Timeline[] = [];
  const messages = await consumer.consume({ max_messages: 2000 });
  for await (const m of messages) {
    const e = decodeEvent(m.data, { trusted: true });
    const d = e.data as Record<string, unknown>;
    out.push({
      alertId: String(d.alertId),
      type: e.type,
      occurredAt: Date.parse(e.occurredAt),
      storedAt: m.info.timestampNanos / 1e6,
      partition: Number(m.subject.split('.')[1]),
      reason: d.reason as string | undefined,
      policyId: d.policyId as string | undefined,
      step: d.step as number | undefined,
      nextAt: d.nextAt as string | null | undefined,
      kind: d.kind as string | undefined,
      notificationId: d.notificationId as string | undefined,
    });
    if (m.seq >= through) break;
  }
  await messages.close();
  return out;
}

async function main(): Promise<void> {
  const loadBefore = Number(loadavg()[0]!.toFixed(1)); // other work on the machine skews every number
  say(`on-call lookups for ${LOOKUP_SECONDS} s (load average ${loadBefore})`);
  const lookups = lookupBench();
  say(`on-call: ${Math.round(lookups.perSec)} lookups/s`);

  const dir = await mkdtemp(join(tmpdir(), 'oncall-bench-escalator-'));
  const nats = await startNatsServer({ storeDir: join(dir, 'nats'), port: await getPort() });
  // Peak RSS over the whole run and per phase (the phase's own peak is reset when it starts).
  let peakRss = 0;
  let phasePeak = 0;
  let sampler: NodeJS.Timeout | undefined;
  let escalator: EscalatorProcess | undefined;
  let publisher: PublisherProcess | undefined;
  const conns: NatsConnection[] = [];
  try {
    const nc = await connectNats(nats.url, 'bench', log);
    conns.push(nc);
    await ensureTopology(nc, { partitions: PARTITIONS, replicas: 1 }, log);
    const js = jetstream(nc);
    const jsm = await jetstreamManager(nc);
    await seedConfig(js);
    escalator = await EscalatorProcess.start(nats.url);
    const escalatorPid = escalator.child.pid!;
    const before = await escalator.ask<Memory>({ op: 'memory', gc: true });
    say(`escalator started: rss ${Math.round(before.rss)} MB, live heap ${Math.round(before.heapUsed)} MB`);
    sampler = setInterval(() => {
      void rssMb(escalatorPid).then(
        (rss) => {
          peakRss = Math.max(peakRss, rss);
          phasePeak = Math.max(phasePeak, rss);
        },
        () => undefined,
      );
    }, 250);
    publisher = await PublisherProcess.start(nats.url);

    say(`warm-up: ${WARMUP} alerts to a one-step policy`);
    await publisher.run({ from: 10_000_000, count: WARMUP, labels: { bench: 'single' }, rate: 0 });
    await until(async () => (await unacked(jsm)) === 0, 120_000, 'the warm-up');
    const base = await lastSeq(jsm, STREAMS.escalations);

    say(`${TIMERS} new alerts (first step waits ${DELAY_SECONDS} s)`);
    const natsPid = nats.process.pid!;
    phasePeak = 0;
    const createCpu = await cpuMeter(escalatorPid, natsPid, publisher.child.pid!);
    const createProfile = await profilePhase(escalator, 'create');
    const t0 = performance.now();
    const created0 = Date.now();
    const { seconds: publishSeconds } = await publisher.run({ from: 0, count: TIMERS, labels: {}, rate: 0 });
    say(`published at ${Math.round(TIMERS / publishSeconds)}/s; waiting for the escalator`);
    let progress = performance.now();
    await until(
      async () => {
        const left = await unacked(jsm);
        if (performance.now() - progress > 2000) {
          progress = performance.now();
          say(`  ${left} alerts not answered yet`);
        }
        return left === 0;
      },
      600_000,
      'the escalator to answer every alert',
    );
    const answeredMs = performance.now() - t0;
    const created1 = Date.now();
    const createdCpu = await createCpu();
    const heapAfterCreate = (await escalator.ask<Memory>({ op: 'memory', gc: false })).heapUsed;
    await createProfile();
    const rssCreatePeak = phasePeak;
    // What the pending escalations hold once the garbage of creating them is collected.
    const live = await escalator.ask<Memory>({ op: 'memory', gc: true });
    phasePeak = 0;
    const snapshotPath = process.env.BENCH_HEAP_SNAPSHOT;
    if (snapshotPath) say(`heap snapshot: ${await escalator.ask<string>({ op: 'heap-snapshot', path: snapshotPath })}`);
    say(
      `pending: rss ${Math.round(live.rss)} MB, live heap ${Math.round(live.heapUsed)} MB of ${Math.round(live.heapTotal)} MB, external ${Math.round(live.external)} MB (peak while creating ${Math.round(rssCreatePeak)} MB)`,
    );
    const alertsPerSec = TIMERS / (answeredMs / 1000);
    say(
      `answered ${Math.round(alertsPerSec)} alerts/s (${(answeredMs / 1000).toFixed(1)} s); cpu escalator ${createdCpu.escalator}%, nats-server ${createdCpu.nats}%, publisher ${createdCpu.publisher}%, other processes ${createdCpu.others}%`,
    );
    const firstFire = created0 + DELAY_SECONDS * 1000;
    if (created1 > firstFire)
      say(`note: creating took longer than the first step's delay; timers fired while alerts were still being created`);

    // Each alert: routed, step 0, one page; its timer: step 1 and two pages (three events each time).
    const target = base + TIMERS * 6;
    // Storm: for as long as the timers fire, new alerts (one-step policy: three events each, no timer).
    const storm = STORM_RATE > 0 ? Math.round((STORM_RATE * (created1 - created0)) / 1000) : 0;
    const stormDone = (async () => {
      if (storm === 0) return;
      await sleep(Math.max(0, firstFire - Date.now()));
      say(`storm: ${storm} new alerts at ${STORM_RATE}/s while the timers fire`);
      await publisher.run({ from: 20_000_000, count: storm, labels: { bench: 'single' }, rate: STORM_RATE });
    })();
    say(`waiting for ${TIMERS} timers (first due in ${Math.max(0, Math.round((firstFire - Date.now()) / 1000))} s)`);
    await sleep(Math.max(0, firstFire - Date.now() - 500));
    await escalator.ask({ op: 'loop-start' });
    // Between answering the last alert and the first timer: the partitions' snapshots are written then (5 s after the changes stop).
    const rssWaitPeak = phasePeak;
    phasePeak = 0;
    const fireCpu = await cpuMeter(escalatorPid, natsPid, publisher.child.pid!);
    const appendBefore = new Map(await escalator.ask<Array<[number, number]>>({ op: 'buckets', name: APPEND_SECONDS }));
    const fireProfile = await profilePhase(escalator, 'fire');
    progress = performance.now();
    await until(
      async () => {
        const seq = await lastSeq(jsm, STREAMS.escalations);
        if (performance.now() - progress > 2000) {
          progress = performance.now();
          say(`  ${seq - base - TIMERS * 3} of ${TIMERS * 3} timer decisions stored`);
        }
        return seq >= target + storm * 3;
      },
      created1 - created0 + 600_000,
      'the timers',
      200,
    );
    const rssFirePeak = phasePeak;
    const firedCpu = await fireCpu();
    const loop = await escalator.ask<{ delayP99Ms: number; utilization: number }>({ op: 'loop-stop' });
    const appendAfter = new Map(await escalator.ask<Array<[number, number]>>({ op: 'buckets', name: APPEND_SECONDS }));
    await fireProfile();
    await stormDone;
    await until(
      async () => (await lastSeq(jsm, STREAMS.escalations)) >= target + storm * 3 && (await unacked(jsm)) === 0,
      120_000,
      'the storm alerts',
    );
    clearInterval(sampler);
    await escalator.stop();
    escalator = undefined;

    say('reading the escalation log');
    const events = await readEscalations(nc, await lastSeq(jsm, STREAMS.escalations));
    const nextAt = new Map<string, number>();
    const lags: number[] = [];
    const storeLags: number[] = [];
    const byDue: Array<[due: number, lag: number, partition: number, stored: number]> = [];
    let pagesOnCreate = 0;
    let timeouts = 0;
    for (const e of events) {
      if (e.type === 'EscalationStepReached') {
        if (e.reason === 'timeout' && e.policyId === 'noc' && e.step === 1) {
          const due = nextAt.get(e.alertId);
          if (due === undefined) throw new Error(`timeout step of ${e.alertId} without an earlier step`);
          lags.push(e.occurredAt - due);
          storeLags.push(e.storedAt - due);
          byDue.push([due, e.occurredAt - due, e.partition, e.storedAt - due]);
          timeouts++;
        } else if (e.policyId === 'noc' && e.step === 0) {
          nextAt.set(e.alertId, Date.parse(String(e.nextAt)));
        }
      } else if (e.type === 'NotificationRequested' && e.kind === 'page' && e.step === 0 && nextAt.has(e.alertId)) {
        pagesOnCreate++;
      }
    }
    if (nextAt.size !== TIMERS || pagesOnCreate !== TIMERS)
      throw new Error(`expected ${TIMERS} escalations with one page each, found ${nextAt.size} with ${pagesOnCreate} pages`);
    if (timeouts !== TIMERS) throw new Error(`expected ${TIMERS} timeouts, found ${timeouts}`);
    const ids = new Set(events.filter((e) => e.type === 'NotificationRequested').map((e) => e.notificationId));
    const notices = events.filter((e) => e.type === 'NotificationRequested').length;
    if (ids.size !== notices) throw new Error(`${notices - ids.size} notifications requested twice`);
    if (process.env.BENCH_DUMP) await writeFile(process.env.BENCH_DUMP, byDue.map((r) => r.join(' ')).join('\n'));
    lags.sort((a, b) => a - b);
    storeLags.sort((a, b) => a - b);
    // How the lag developed while the timers fired: p50/p99 per 5 s of due times.
    byDue.sort((a, b) => a[0] - b[0]);
    const first = byDue[0]?.[0] ?? 0;
    for (let from = 0; from < byDue.length;) {
      const window = Math.floor((byDue[from]![0] - first) / 5000);
      let to = from;
      while (to < byDue.length && Math.floor((byDue[to]![0] - first) / 5000) === window) to++;
      const slice = byDue
        .slice(from, to)
        .map(([, l]) => l)
        .sort((a, b) => a - b);
      say(
        `  due +${window * 5}s: ${slice.length} timers, lag p50 ${Math.round(percentile(slice, 50))} ms, p99 ${Math.round(percentile(slice, 99))} ms`,
      );
      from = to;
    }

    const result = {
      timers: TIMERS,
      fire_lag_p99_ms: Math.round(percentile(lags, 99)),
      alerts_per_sec: Math.round(alertsPerSec),
      oncall_lookups_per_sec: Math.round(lookups.perSec),
      fire_lag_p50_ms: Math.round(percentile(lags, 50)),
      fire_lag_max_ms: lags[lags.length - 1] ?? 0,
      fire_to_stored_p99_ms: Math.round(percentile(storeLags, 99)),
      fire_spread_s: Number(((created1 - created0) / 1000).toFixed(1)),
      event_loop_delay_p99_ms: Number(loop.delayP99Ms.toFixed(1)),
      event_loop_utilization_fire: Number(loop.utilization.toFixed(2)),
      append_p99_ms_fire_at_most: bucketQuantileMs(appendBefore, appendAfter, 99),
      storm_alerts_per_sec: STORM_RATE > 0 ? STORM_RATE : undefined,
      storm_alerts: STORM_RATE > 0 ? storm : undefined,
      publish_per_sec: Math.round(TIMERS / publishSeconds),
      notifications: notices,
      cpu_ms_per_alert: Number((((createdCpu.escalator + createdCpu.nats) / 100) * (answeredMs / TIMERS)).toFixed(3)),
      cpu_pct_create_escalator: createdCpu.escalator,
      cpu_pct_create_nats: createdCpu.nats,
      cpu_pct_create_publisher: createdCpu.publisher,
      cpu_pct_fire_escalator: firedCpu.escalator,
      cpu_pct_fire_nats: firedCpu.nats,
      cpu_pct_create_other_processes: createdCpu.others,
      cpu_pct_fire_other_processes: firedCpu.others,
      load_average_before: loadBefore,
      rss_mb: Math.round(peakRss),
      rss_mb_started: Math.round(before.rss),
      rss_mb_create_peak: Math.round(rssCreatePeak),
      rss_mb_pending_after_gc: Math.round(live.rss),
      heap_mb_pending_after_gc: Math.round(live.heapUsed),
      rss_mb_wait_peak: Math.round(rssWaitPeak),
      rss_mb_fire_peak: Math.round(rssFirePeak),
      heap_mb_after_create: Math.round(heapAfterCreate),
      partitions: PARTITIONS,
      cores: availableParallelism(),
    };
    process.stdout.write(`${JSON.stringify(result)}\n`);
  } finally {
    clearInterval(sampler);
    await escalator?.stop();
    await publisher?.stop();
    for (const c of conns) await c.close().catch(() => undefined);
    await nats.stop();
    await rm(dir, { recursive: true, force: true });
  }
}

type Memory = { rss: number; heapUsed: number; heapTotal: number; external: number };
type EscalatorRequest =
  | { op: 'memory'; gc: boolean }
  | { op: 'heap-snapshot'; path: string }
  | { op: 'buckets'; name: string }
  | { op: 'profile-start' }
  | { op: 'profile-stop'; path: string }
  | { op: 'loop-start' }
  | { op: 'loop-stop' }
  | { op: 'stop' };

const APPEND_SECONDS = 'oncall_escalator_append_seconds';

/**
 * The escalator in a process of its own, as deployed (escalator/src/main.ts, with the services'
 * Node flags), so its RSS and CPU are its own; it answers the bench's questions (memory, metrics,
 * profiles, event-loop delay) over IPC. `BENCH_ESCALATOR_FLAGS`: more Node flags for it.
 */
class EscalatorProcess {
  private next = 0;
  private readonly waiting = new Map<number, (result: unknown) => void>();

  private constructor(readonly child: ChildProcess) {
    child.on('message', (m) => {
      const { id, result } = m as { id: number; result: unknown };
      this.waiting.get(id)?.(result);
      this.waiting.delete(id);
    });
  }

  static async start(natsUrl: string): Promise<EscalatorProcess> {
    const extra = (process.env.BENCH_ESCALATOR_FLAGS ?? '').split(' ').filter(Boolean);
    const child = spawn(process.execPath, [...NODE_FLAGS, ...extra, '--expose-gc', ...TS_LOADER, fileURLToPath(import.meta.url)], {
      env: { ...process.env, BENCH_ESCALATOR_ROLE: 'escalator', BENCH_NATS_URL: natsUrl, ONCALL_PARTITIONS: String(PARTITIONS) },
      stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
      // Structured clone, not JSON: histogram bounds include Infinity.
      serialization: 'advanced',
    });
    await new Promise<void>((resolve, reject) => {
      child.once('message', () => resolve());
      child.once('exit', (code) => reject(new Error(`the escalator exited with ${code}`)));
    });
    return new EscalatorProcess(child);
  }

  ask<T = unknown>(request: EscalatorRequest): Promise<T> {
    const id = this.next++;
    return new Promise<T>((resolve) => {
      this.waiting.set(id, resolve as (result: unknown) => void);
      this.child.send({ id, request });
    });
  }

  async stop(): Promise<void> {
    if (this.child.exitCode !== null) return;
    const exited = new Promise((r) => this.child.once('exit', r));
    void this.ask({ op: 'stop' });
    await exited;
  }
}

async function escalatorMain(): Promise<void> {
  const nc = await connectNats(process.env.BENCH_NATS_URL!, 'escalator', log);
  const escalator = await startEscalator({ nc, partitions: PARTITIONS, users: fileUserDirectory(USERS), log, owner: 'bench-escalator' });
  const gc = (globalThis as { gc?: () => void }).gc!;
  const mb = (n: number) => n / 2 ** 20;
  const session = new Session();
  const loopDelay = monitorEventLoopDelay({ resolution: 10 });
  let elu = performance.eventLoopUtilization();
  const answer = async (request: EscalatorRequest): Promise<unknown> => {
    switch (request.op) {
      case 'memory': {
        if (request.gc) gc();
        const m = process.memoryUsage();
        return { rss: mb(m.rss), heapUsed: mb(m.heapUsed), heapTotal: mb(m.heapTotal), external: mb(m.external) } satisfies Memory;
      }
      case 'heap-snapshot':
        return writeHeapSnapshot(request.path);
      case 'buckets':
        return bucketsOf(request.name);
      case 'profile-start':
        session.connect();
        await session.post('Profiler.enable');
        await session.post('Profiler.start');
        return null;
      case 'profile-stop': {
        const { profile } = await session.post('Profiler.stop');
        await writeFile(request.path, JSON.stringify(profile));
        session.disconnect();
        return null;
      }
      case 'loop-start':
        loopDelay.enable();
        elu = performance.eventLoopUtilization();
        return null;
      case 'loop-stop':
        loopDelay.disable();
        return { delayP99Ms: loopDelay.percentile(99) / 1e6, utilization: performance.eventLoopUtilization(elu).utilization };
      case 'stop':
        await escalator.stop();
        await nc.close();
        process.exit(0);
    }
  };
  process.on('message', (m) => {
    const { id, request } = m as { id: number; request: EscalatorRequest };
    void answer(request).then((result) => process.send!({ id, result }));
  });
  process.send!('ready');
}

const pick = (m: { subject: string; data: Uint8Array }): [string, Uint8Array] => [m.subject, m.data];

if (process.env.BENCH_ESCALATOR_ROLE === 'publisher') await publisherMain();
else if (process.env.BENCH_ESCALATOR_ROLE === 'escalator') await escalatorMain();
else await main();
