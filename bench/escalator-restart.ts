/**
 * `node --expose-gc --import tsx bench/escalator-restart.ts`: how long an escalator takes from
 * start to serving, and how much memory an escalation costs. Not one of the project's benchmarks
 * (it starts no load generator and checks no latencies): a measurement for invariant 10.
 *
 * Against a throwaway nats-server: RESTART_ALERTS AlertTriggered events (storm alerts, written
 * straight into ALERTS as the decider would) to a two-step policy with a one-hour delay, so
 * every alert stays pending on a timer. Then:
 *   1. the escalator answers them all (route, step, page: three ESCALATIONS events each); the
 *      heap (after GC) before and after, over the number of alerts, is `bytes_per_escalation`;
 *   2. it stops cleanly and starts again: `restart_ms` is the time from start until a probe
 *      alert published to every partition just before the start is paged (the partitions are
 *      rebuilt and serving); also the heap and RSS once serving;
 *   3. the same with the snapshot bucket emptied first (`full_rebuild_ms`): the whole log.
 * One JSON line on stdout. The machine is shared: numbers vary with what else runs.
 * Environment: RESTART_ALERTS (100000), ONCALL_PARTITIONS (4), RESTART_LIVE=1 (publish while the
 * escalator runs, so it takes its snapshots meanwhile), RESTART_SNAPSHOTS_WHILE_ANSWERING=off,
 * RESTART_RESOLVE=f (then resolve a fraction f of the alerts before stopping: a long log of
 * mostly closed alerts; 140,000 alerts with f=0.9 are ~1,000,000 events), RESTART_CHILD=1 (the
 * restarts run in a process of their own, so the memory measured is the escalator's alone; the
 * time then includes loading the code, ~1 s).
 */
import { spawn } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { fileURLToPath } from 'node:url';
import getPort from 'get-port';
import { DeliverPolicy, jetstream, jetstreamManager, type JetStreamClient } from '@nats-io/jetstream';
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
} from '@oncall/contracts';
import { connectNats, createLogger, ensureTopology, fileUserDirectory } from '@oncall/shared';
import { startNatsServer } from '@oncall/infra';
import { startEscalator } from '@oncall/escalator';
import { say } from './processes.js';
import { stormAlert } from './storm.js';

const ALERTS = Number(process.env.RESTART_ALERTS ?? 100_000);
const PARTITIONS = Number(process.env.ONCALL_PARTITIONS ?? 4);
const SERVICE = 'edge-network';
const log = createLogger('restart', 'warn');
const users = fileUserDirectory(
  ['carol', 'dave'].map((id) => ({
    id,
    name: id,
    email: `${id}@example.net`,
    timezone: 'UTC',
    contacts: [{ channel: 'sms', address: '+15555550100' }],
  })),
);
const runId = Math.random().toString(36).slice(2, 10);

const gc = (): void => {
  const g = (globalThis as { gc?: () => void }).gc;
  if (!g) throw new Error('run with node --expose-gc');
  g();
  g();
};
const heapMb = () => process.memoryUsage().heapUsed / 2 ** 20;
const rssMb = () => process.memoryUsage().rss / 2 ** 20;
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

async function appendConfig<T extends EventType>(js: JetStreamClient, kind: ConfigKind, id: string, type: T, data: EventData<T>) {
  const now = new Date().toISOString();
  await js.publish(
    subjects.config(kind, id),
    encodeEvent(makeEvent(type, data, { id: randomUUID(), occurredAt: now, causationId: null, correlationId: id })),
  );
}

async function seed(js: JetStreamClient): Promise<void> {
  await appendConfig(js, 'service', SERVICE, 'ServiceConfigured', {
    serviceId: SERVICE,
    name: 'Edge network',
    description: '',
    integrationKeys: [],
  });
  await appendConfig(js, 'policy', 'noc', 'EscalationPolicyConfigured', {
    policyId: 'noc',
    name: 'NOC escalation',
    repeat: 0,
    steps: [
      { delaySeconds: 3600, targets: [{ type: 'user', userId: 'carol' }], untilAllAck: false },
      {
        delaySeconds: 3600,
        targets: [
          { type: 'user', userId: 'dave' },
          { type: 'slack', channel: '#noc' },
        ],
        untilAllAck: false,
      },
    ],
  });
  await appendConfig(js, 'routing', SERVICE, 'RoutingConfigured', {
    serviceId: SERVICE,
    escalationPolicyId: 'noc',
    templateId: null,
    ackTimeoutSeconds: 1800,
    rules: [
      {
        name: 'staging',
        when: 'has(labels.env) && labels.env == "staging"',
        policyId: null,
        templateId: null,
        severity: null,
        ticket: null,
        suppress: true,
        continue: false,
      },
      {
        name: 'gold',
        when: 'has(labels.customer_tier) && labels.customer_tier == "gold"',
        policyId: null,
        templateId: null,
        severity: 'critical',
        ticket: null,
        suppress: false,
        continue: true,
      },
    ],
  });
}

/** Publishes storm alert n as the decider's AlertTriggered; returns its partition. */
type Published = { partition: number; done: Promise<unknown>; alertId: string; fingerprint: string };

function trigger(js: JetStreamClient, n: number, fingerprint?: string): Published {
  const am = stormAlert(n, runId);
  const alertId = randomUUID();
  const now = new Date().toISOString();
  const fp = fingerprint ?? am.fingerprint;
  const event = buildEvent(
    'AlertTriggered',
    {
      alertId,
      serviceId: SERVICE,
      fingerprint: fp,
      source: 'alertmanager',
      summary: am.annotations.summary ?? '',
      details: am.annotations.description ?? '',
      severity: 'critical',
      labels: am.labels,
      annotations: am.annotations,
      links: [],
      custom: {},
      startsAt: am.startsAt,
      generatorUrl: am.generatorURL,
      seenAt: now,
    },
    { id: randomUUID(), occurredAt: now, causationId: randomUUID(), correlationId: alertId },
  );
  const partition = partitionOf(SERVICE, fp, PARTITIONS);
  return {
    partition,
    alertId,
    fingerprint: fp,
    done: js.publish(subjects.alert(partition, alertId), encodeEvent(event), { timeout: 30_000 }),
  };
}

/** Publishes an AlertResolved for a published alert, as the decider would. */
function resolve(js: JetStreamClient, a: Published): Promise<unknown> {
  const now = new Date().toISOString();
  const event = buildEvent(
    'AlertResolved',
    { alertId: a.alertId, serviceId: SERVICE, fingerprint: a.fingerprint, by: 'source', userId: null, note: '', endsAt: now },
    { id: randomUUID(), occurredAt: now, causationId: randomUUID(), correlationId: a.alertId },
  );
  return js.publish(subjects.alert(a.partition, a.alertId), encodeEvent(event), { timeout: 30_000 });
}

/** Sends `send(i)` for i in [0, count) with at most 1000 in flight. */
async function pipelined(count: number, send: (i: number) => Promise<unknown>): Promise<void> {
  const window = new Set<Promise<unknown>>();
  for (let i = 0; i < count; i++) {
    const p = send(i);
    window.add(p);
    void p.finally(() => window.delete(p));
    if (window.size >= 1000) await Promise.race(window);
  }
  await Promise.all(window);
}

const published: Published[] = [];
async function publishAlerts(js: JetStreamClient, count: number): Promise<void> {
  await pipelined(count, (n) => {
    const a = trigger(js, n);
    published.push(a);
    return a.done;
  });
}

/** Waits until every partition's consumer has acked every alert event published so far. */
async function caughtUp(nc: NatsConnection): Promise<void> {
  const jsm = await jetstreamManager(nc);
  for (;;) {
    const infos = await Promise.all(
      Array.from({ length: PARTITIONS }, (_, p) => jsm.consumers.info(STREAMS.alerts, CONSUMERS.escalator(p)).catch(() => null)),
    );
    if (infos.every((i) => i !== null && i.num_pending === 0 && i.num_ack_pending === 0)) return;
    await sleep(250);
  }
}

/** One probe alert per partition; resolves when each is paged. */
async function probes(nc: NatsConnection): Promise<() => Promise<void>> {
  const js = jetstream(nc);
  const wanted = new Set<string>();
  const covered = new Set<number>();
  for (let i = 0; covered.size < PARTITIONS; i++) {
    const t = trigger(js, i, `probe-${runId}-${i}`);
    if (covered.has(t.partition)) continue;
    covered.add(t.partition);
    wanted.add(t.alertId);
    await t.done;
  }
  const jsm = await jetstreamManager(nc);
  const from = (await jsm.streams.info(STREAMS.escalations)).state.last_seq + 1;
  return async () => {
    const consumer = await js.consumers.get(STREAMS.escalations, { deliver_policy: DeliverPolicy.StartSequence, opt_start_seq: from });
    const messages = await consumer.consume();
    for await (const m of messages) {
      const e = decodeEvent(m.data, { trusted: true });
      if (e.type === 'NotificationRequested' && wanted.delete(e.data.alertId) && wanted.size === 0) break;
    }
    await messages.close();
  };
}

type Restarted = { ms: number; heapMb: number; rssMb: number };

/** Starts an escalator, times it until a probe per partition is paged, measures its memory once serving, and stops it. */
async function restart(nc: NatsConnection, url: string): Promise<Restarted> {
  const paged = await probes(nc);
  const t0 = performance.now();
  const esc = await startEscalator({ nc: await connectNats(url, 'escalator', log), partitions: PARTITIONS, users, log, owner: 'restart' });
  await paged();
  const ms = Math.round(performance.now() - t0);
  await sleep(1000);
  gc();
  const measured = { ms, heapMb: Math.round(heapMb()), rssMb: Math.round(rssMb()) };
  await esc.stop();
  return measured;
}

/** restart() in a process of its own (RESTART_CHILD=1), so its memory is the escalator's alone. */
async function restartInChild(url: string): Promise<Restarted> {
  const child = spawn(process.execPath, [...process.execArgv, fileURLToPath(import.meta.url), '--child', url], {
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  let out = '';
  child.stdout.on('data', (chunk: Buffer) => (out += chunk.toString()));
  const code = await new Promise<number | null>((resolve) => child.once('exit', resolve));
  if (code !== 0) throw new Error(`the restart child exited with ${code}`);
  return JSON.parse(out.trim().split('\n').at(-1)!) as Restarted;
}

if (process.argv[2] === '--child') {
  const nc = await connectNats(process.argv[3]!, 'restart-child', log);
  process.stdout.write(`${JSON.stringify(await restart(nc, process.argv[3]!))}\n`);
  await nc.close();
  process.exit(0);
}

const dir = await mkdtemp(join(tmpdir(), 'oncall-restart-'));
const server = await startNatsServer({ storeDir: dir, port: await getPort() });
try {
  const nc = await connectNats(server.url, 'restart-bench', log);
  await ensureTopology(nc, { partitions: PARTITIONS, replicas: 1 }, log);
  const js = jetstream(nc);
  await seed(js);
  // RESTART_LIVE=1: the escalator runs (and takes snapshots) while the alerts are published; else they are published first.
  const live = process.env.RESTART_LIVE === '1';
  if (!live) {
    say(`publishing ${ALERTS} alerts`);
    await publishAlerts(js, ALERTS);
  }
  gc();
  const heapBefore = heapMb();
  say('escalator answering them');
  let t0 = performance.now();
  const esc = await startEscalator({
    nc: await connectNats(server.url, 'escalator', log),
    partitions: PARTITIONS,
    users,
    log,
    owner: 'restart',
    // RESTART_SNAPSHOTS_WHILE_ANSWERING=off: only the snapshot at the stop (to compare what snapshots cost while answering).
    ...(process.env.RESTART_SNAPSHOTS_WHILE_ANSWERING === 'off' ? { snapshots: { everyChanges: Infinity, everyMs: Infinity } } : {}),
  });
  if (live) {
    say(`publishing ${ALERTS} alerts while it runs`);
    await publishAlerts(js, ALERTS);
  }
  await caughtUp(nc);
  const answerMs = Math.round(performance.now() - t0);
  // Long enough for a snapshot begun on catching up to be written (its encoding buffers are not escalations).
  await sleep(5000);
  gc();
  const heapAfter = heapMb();
  const bytesPerEscalation = Math.round(((heapAfter - heapBefore) * 2 ** 20) / ALERTS);
  say(`answered in ${answerMs} ms; ${bytesPerEscalation} bytes per escalation`);
  // RESTART_RESOLVE=f: then a fraction f of the alerts resolves (each everyone paged is told), as a long log mostly holds.
  const resolveFraction = Number(process.env.RESTART_RESOLVE ?? 0);
  const toResolve = published.filter((_, i) => (i % 1000) / 1000 < resolveFraction);
  if (toResolve.length > 0) {
    say(`resolving ${toResolve.length} of them`);
    await pipelined(toResolve.length, (i) => resolve(js, toResolve[i]!));
    await caughtUp(nc);
    await sleep(5000);
  }
  const jsm0 = await jetstreamManager(nc);
  const logEvents =
    (await jsm0.streams.info(STREAMS.alerts)).state.messages + (await jsm0.streams.info(STREAMS.escalations)).state.messages;
  say(`${logEvents} events in ALERTS and ESCALATIONS; stopping`);
  t0 = performance.now();
  await esc.stop();
  const stopMs = Math.round(performance.now() - t0);

  gc();
  say('restart');
  const inChild = process.env.RESTART_CHILD === '1';
  const warm = inChild ? await restartInChild(server.url) : await restart(nc, server.url);

  const jsm = await jetstreamManager(nc);
  await jsm.streams.purge('OBJ_oncall-snapshots').catch(() => undefined);
  gc();
  say('restart without snapshots');
  const cold = inChild ? await restartInChild(server.url) : await restart(nc, server.url);
  process.stdout.write(
    `${JSON.stringify({
      alerts: ALERTS,
      resolved: toResolve.length,
      log_events: logEvents,
      partitions: PARTITIONS,
      answer_ms: answerMs,
      bytes_per_escalation: bytesPerEscalation,
      stop_ms: stopMs,
      restart_ms: warm.ms,
      restarted_in: inChild ? 'a process of its own' : 'this process',
      heap_serving_mb: warm.heapMb,
      rss_serving_mb: warm.rssMb,
      full_rebuild_rss_mb: cold.rssMb,
      full_rebuild_ms: cold.ms,
      peak_rss_mb: Math.round(process.resourceUsage().maxRSS / 1024),
    })}\n`,
  );
  await nc.close();
} finally {
  await server.stop();
  await rm(dir, { recursive: true, force: true });
}
process.exit(0);
