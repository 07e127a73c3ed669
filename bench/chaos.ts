/**
 * `npm run chaos`: the trust issue's chaos suite. Real processes, real faults, on loopback only.
 *
 * Starts the pipeline as `npm start` does (`oncall up`: every service its own supervised process,
 * nats-server and PostgreSQL beside them, data in a throwaway folder) with a local Slack stand-in
 * (test/fakes/slack.ts, answering the dispatcher's real @slack/web-api client). A policy pages
 * the Slack channel #chaos once per alert (step 0, no repeat). Then a storm of CHAOS_ALERTS
 * (3000) distinct alerts at CHAOS_RATE (100) per second over the generic webhook, each retried as
 * a real client would (429, 5xx, connection errors: back-off until 202, with an Idempotency-Key
 * so a retry of a request that was stored is a true retry). During the storm, one after the
 * other, `kill -9`: ingest, the decider, the projector, the escalator, the dispatcher,
 * nats-server and the PostgreSQL postmaster. Nothing is restarted by this script: `oncall up`
 * must bring every part back by itself.
 *
 * Then it waits for quiet (every accepted alert paged and in the read model, every projection at
 * the end of its stream; at most CHAOS_QUIET_SECONDS, 240), replays every projection from
 * sequence 1 into a fresh schema and compares it with the live read model row for row (except
 * projection_checkpoints.updated_at, wall-clock bookkeeping), and stops `oncall up` with SIGTERM.
 *
 * `npm run chaos:cluster` (CHAOS_CLUSTER=1) runs the same storm on a 3-node JetStream cluster
 * (three nats-server processes on loopback, bench/nats-cluster.ts; ONCALL_REPLICAS=3, so every
 * stream and bucket is R3) and kills the INTAKE stream's leader halfway, starting it again 10 s
 * later as its service manager would; nothing else is killed.
 *
 * Prints one JSON line: mode, accepted, in_read_model, lost (accepted and not in the read model),
 * paged, missing_pages, duplicate_pages, read_model_equals_replay, seconds, plus the kills (part,
 * when, alerts accepted by then), recovery_seconds (last kill → quiet), stopped_cleanly and
 * error_logs. Progress goes to stderr; the services' logs to CHAOS_LOG (a file in the data folder,
 * kept with CHAOS_KEEP=1).
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { createWriteStream } from 'node:fs';
import { chmod, mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import getPort from 'get-port';
import pg from 'pg';
import { pino } from 'pino';
import { Agent, request } from 'undici';
import { jetstreamManager } from '@nats-io/jetstream';
import { STREAMS } from '@oncall/contracts';
import { connectNats, createReadModelPool, type Logger } from '@oncall/shared';
import { PROJECTIONS, replayProjection } from '@oncall/projector';
import * as render from '@oncall/shared/render';
import { migrate } from '../infra/src/migrate.js';
import { startSlackFake } from '../test/fakes/slack.js';
import { startNatsCluster } from './nats-cluster.js';
import { ROOT, say } from './processes.js';

const ALERTS = Number(process.env.CHAOS_ALERTS ?? 3000);
const RATE = Number(process.env.CHAOS_RATE ?? 100);
const QUIET_SECONDS = Number(process.env.CHAOS_QUIET_SECONDS ?? 240);
/** `npm run chaos:cluster`: a 3-node JetStream cluster (R3 streams) whose INTAKE stream leader is killed mid-storm. */
const CLUSTER = process.env.CHAOS_CLUSTER === '1';
const KEY = 'chaos-integration-key-000000001';
const CHANNEL = '#chaos';
const SCHEMA = 'oncall';
const log: Logger = pino({ level: 'warn' }, pino.destination(2));

/** The parts killed, in this order, spread over the storm. */
type Victim = 'ingest' | 'decider' | 'projector' | 'escalator' | 'dispatcher' | 'nats-server' | 'postgres' | 'stream-leader';
const VICTIMS: readonly Victim[] = CLUSTER
  ? ['stream-leader']
  : ['ingest', 'decider', 'projector', 'escalator', 'dispatcher', 'nats-server', 'postgres'];
/** In the cluster, the killed node is started again this long after (as its service manager would). */
const NODE_DOWN_MS = 10_000;
const ENTRY: Partial<Record<Victim, string>> = {
  ingest: 'ingest/src/main.ts',
  decider: 'ingest/src/decider-main.ts',
  projector: 'projector/src/main.ts',
  escalator: 'escalator/src/main.ts',
  dispatcher: 'dispatcher/src/main.ts',
};

const CONFIG = JSON.stringify({
  services: [
    {
      id: 'chaos',
      name: 'Chaos edge network',
      integrationKeys: [{ name: 'generic', key: KEY }],
      routing: { escalationPolicy: 'chaos-noc', template: 'chaos-page' },
    },
  ],
  escalationPolicies: [{ id: 'chaos-noc', name: 'Chaos NOC', steps: [{ delay: '0s', targets: [{ slack: CHANNEL }] }] }],
  templates: [
    {
      id: 'chaos-page',
      name: 'Chaos page',
      variables: {
        required: ['alert.summary', 'service.name'],
        optional: ['annotations.runbook_url', 'labels.namespace', 'labels.severity'],
      },
      channels: { slack: render.EXAMPLE_TEMPLATE.channels.slack ?? '' },
    },
  ],
});

const alertBody = (n: number, runId: string): string =>
  JSON.stringify({
    summary: `Link down on edge-${n % 97} [${runId} #${n}]`,
    severity: 'critical',
    dedup_key: `${runId}-${n}`,
    labels: { alertname: 'LinkDown', site: ['fra1', 'ams2', 'lon3'][n % 3], device: `edge-${n % 97}`, n: String(n) },
  });

type Up = { child: ChildProcess; exited: Promise<number | null>; output: () => string; errorLines: () => number };
/** The running `oncall up`, stopped if this script fails (it runs detached and would outlive it). */
let running: Up | undefined;

/** `oncall up` in its own process group, its output in `logFile`. */
async function startUp(env: NodeJS.ProcessEnv, logFile: string): Promise<Up> {
  const child = spawn(process.execPath, ['--max-semi-space-size=32', 'bin/oncall.js', 'up'], {
    cwd: ROOT,
    env: { ...process.env, ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
    detached: true,
  });
  const file = createWriteStream(logFile);
  let banner = '';
  let errors = 0;
  for (const out of [child.stdout, child.stderr]) {
    out.on('data', (chunk: Buffer) => {
      const text = chunk.toString();
      file.write(text);
      if (banner.length < 10_000) banner += text;
      errors += (text.match(/"level":(50|60)\b/g) ?? []).length;
    });
  }
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  const up: Up = { child, exited, output: () => banner, errorLines: () => errors };
  running = up;
  const deadline = Date.now() + 120_000;
  while (!banner.includes('Pipeline is up.')) {
    if (child.exitCode !== null) throw new Error(`oncall up exited with ${child.exitCode}:\n${banner}`);
    if (Date.now() > deadline) throw new Error(`oncall up did not come up in 120 s:\n${banner}`);
    await sleep(100);
  }
  return up;
}

/** The current pid of a part: a service child of `oncall up` by its entry point, or a server by its pid file. */
async function pidOf(victim: Victim, upPid: number, dataDir: string): Promise<number | undefined> {
  const fromFile = async (file: string) => Number((await readFile(file, 'utf8').catch(() => '')).split('\n')[0]) || undefined;
  if (victim === 'nats-server') return fromFile(join(dataDir, 'nats', 'nats-server.pid'));
  if (victim === 'postgres') return fromFile(join(dataDir, 'postgres', 'pgdata', 'postmaster.pid'));
  for (const entry of await readdir('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    const stat = await readFile(`/proc/${entry}/stat`, 'utf8').catch(() => '');
    if (Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]) !== upPid) continue;
    const cmdline = await readFile(`/proc/${entry}/cmdline`, 'utf8').catch(() => '');
    if (cmdline.split('\0').includes(ENTRY[victim]!)) return Number(entry);
  }
  return undefined;
}

/** Sends every alert until it is answered 202, retrying as a client would; returns the alerts accepted. */
async function storm(url: string, runId: string, onAccepted: (count: number) => Promise<void>): Promise<Set<number>> {
  const agent = new Agent({ connections: 64, keepAliveTimeout: 10_000 });
  const accepted = new Set<number>();
  const started = performance.now();
  let next = 0;
  let retries = 0;
  const lane = async () => {
    for (;;) {
      const n = next++;
      if (n >= ALERTS) return;
      const wait = started + (n * 1000) / RATE - performance.now();
      if (wait > 0) await sleep(wait);
      const headers = { 'content-type': 'application/json', authorization: `Bearer ${KEY}`, 'idempotency-key': `${runId}-${n}` };
      for (let attempt = 0; ; attempt++) {
        try {
          const res = await request(url, { method: 'POST', headers, body: alertBody(n, runId), dispatcher: agent, headersTimeout: 10_000 });
          await res.body.text();
          if (res.statusCode === 202) break;
          if (res.statusCode !== 429 && res.statusCode < 500) throw new Error(`alert ${n}: HTTP ${res.statusCode}`);
        } catch (err) {
          if ((err as Error).message.startsWith(`alert ${n}:`)) throw err;
        }
        retries++;
        await sleep(Math.min(2000, 100 * 2 ** Math.min(attempt, 5)) * (0.5 + Math.random() / 2));
      }
      accepted.add(n);
      await onAccepted(accepted.size);
    }
  };
  await Promise.all(Array.from({ length: 32 }, lane));
  await agent.close();
  say(`storm: ${accepted.size} accepted, ${retries} retries`);
  return accepted;
}

/** Every base table of a schema, and its rows in a stable order (wall-clock bookkeeping left out). */
async function tables(client: pg.Pool, schema: string): Promise<Map<string, string>> {
  const { rows } = await client.query<{ table_name: string; columns: number }>(
    `SELECT t.table_name, count(c.column_name)::int AS columns FROM information_schema.tables t
       JOIN information_schema.columns c ON c.table_schema = t.table_schema AND c.table_name = t.table_name
      WHERE t.table_schema = $1 AND t.table_type = 'BASE TABLE' AND t.table_name <> 'pgmigrations'
      GROUP BY t.table_name ORDER BY t.table_name`,
    [schema],
  );
  const out = new Map<string, string>();
  for (const { table_name: table, columns } of rows) {
    const order = Array.from({ length: columns }, (_, i) => i + 1).join(', ');
    const data = await client.query(`SELECT * FROM "${schema}"."${table}" ORDER BY ${order}`);
    const kept = data.rows.map((r: Record<string, unknown>) => (table === 'projection_checkpoints' ? { ...r, updated_at: null } : r));
    out.set(table, JSON.stringify(kept));
  }
  return out;
}

async function main(): Promise<void> {
  const t0 = performance.now();
  const runId = `c${Date.now().toString(36)}`;
  const dataDir = await mkdtemp(join(tmpdir(), 'oncall-chaos-'));
  await chmod(dataDir, 0o755);
  const slack = await startSlackFake();
  const configFile = join(dataDir, 'chaos.yaml');
  await writeFile(configFile, CONFIG);
  const portNames = ['NATS_PORT', 'PG_PORT', 'INGEST_PORT', 'GRPC_PORT', 'DECIDER_METRICS_PORT', 'PROJECTOR_METRICS_PORT'];
  portNames.push('ESCALATOR_METRICS_PORT', 'DISPATCHER_METRICS_PORT', 'QUERY_API_METRICS_PORT', 'UP_METRICS_PORT');
  portNames.push('TICKET_BRIDGE_PORT', 'TICKET_BRIDGE_METRICS_PORT');
  const ports: Record<string, string> = {};
  for (const name of portNames) ports[name] = String(await getPort());
  const logFile = process.env.CHAOS_LOG ?? join(dataDir, 'oncall-up.log');
  const cluster = CLUSTER ? await startNatsCluster(join(dataDir, 'cluster')) : undefined;
  if (cluster) say(`3-node JetStream cluster up: ${cluster.url}`);
  say(`starting oncall up (data ${dataDir}, log ${logFile})`);
  const up = await startUp(
    {
      ...ports,
      ONCALL_DATA_DIR: dataDir,
      ONCALL_CONFIG_FILE: configFile,
      ONCALL_PARTITIONS: '4',
      SLACK_TOKEN: slack.token,
      SLACK_API_URL: slack.apiUrl,
      SLACK_MESSAGES_PER_MINUTE: '120000',
      LOG_LEVEL: 'warn',
      ...(cluster && { NATS_URL: cluster.url, ONCALL_REPLICAS: '3' }),
    },
    logFile,
  );
  const databaseUrl = `postgres://postgres:postgres@127.0.0.1:${ports.PG_PORT}/oncall`;
  const natsUrl = cluster?.url ?? `nats://127.0.0.1:${ports.NATS_PORT}`;

  const kills: Array<{ part: string; at_s: number; accepted: number }> = [];
  const admin = cluster ? await connectNats(natsUrl, 'chaos-admin', log) : undefined;
  const restarts: Array<Promise<void>> = [];
  let lastKillAt = performance.now();
  const marks = VICTIMS.map((_, i) => Math.floor(((i + 1) * ALERTS) / (VICTIMS.length + 1)));
  let killing = Promise.resolve();
  const accepted = await storm(`http://127.0.0.1:${ports.INGEST_PORT}/api/v1/webhook/generic`, runId, async (count) => {
    const i = marks.indexOf(count);
    if (i < 0) return;
    const part = VICTIMS[i]!;
    killing = killing.then(async () => {
      let what: string;
      if (part === 'stream-leader') {
        const leader = (await (await jetstreamManager(admin!)).streams.info(STREAMS.intake)).cluster?.leader;
        if (!leader || !cluster) throw new Error('INTAKE has no leader to kill');
        cluster.kill(leader);
        what = `nats-server ${leader}, leader of INTAKE`;
        restarts.push(
          sleep(NODE_DOWN_MS)
            .then(() => cluster.restart(leader))
            .then(() => say(`${leader} started again`)),
        );
      } else {
        const pid = await pidOf(part, up.child.pid!, dataDir);
        if (pid === undefined) throw new Error(`no ${part} process to kill`);
        process.kill(pid, 'SIGKILL');
        what = `${part} (pid ${pid})`;
      }
      lastKillAt = performance.now();
      kills.push({ part: what, at_s: Number(((lastKillAt - t0) / 1000).toFixed(1)), accepted: count });
      say(`kill -9 ${what} after ${count} accepted`);
    });
    await killing;
  });

  // Quiet: every accepted alert paged and in the read model, every projection at the end of its stream.
  const marker = new RegExp(`\\[${runId} #(\\d+)\\]`);
  const pagesOf = () => {
    const pages = new Map<number, number>();
    for (const call of slack.calls.items) {
      if (call.method !== 'chat.postMessage') continue;
      const text = call.args.text;
      const n = typeof text === 'string' ? marker.exec(text)?.[1] : undefined;
      if (n !== undefined) pages.set(Number(n), (pages.get(Number(n)) ?? 0) + 1);
    }
    return pages;
  };
  // A pool: PostgreSQL was killed and comes back; a pool gets new connections.
  const db = new pg.Pool({ connectionString: databaseUrl, max: 2 });
  const nc = await connectNats(natsUrl, 'chaos', log);
  const readModel = async (): Promise<Set<string>> => {
    const { rows } = await db.query<{ fingerprint: string }>(`SELECT fingerprint FROM ${SCHEMA}.alerts WHERE service_id = 'chaos'`);
    return new Set(rows.map((r) => r.fingerprint));
  };
  const caughtUp = async (): Promise<boolean> => {
    const jsm = await jetstreamManager(nc);
    const { rows } = await db.query<{ projection: string; last_seq: string }>(
      `SELECT projection, last_seq FROM ${SCHEMA}.projection_checkpoints`,
    );
    const at = new Map(rows.map((r) => [r.projection, Number(r.last_seq)]));
    for (const p of PROJECTIONS) {
      const last = (await jsm.streams.info(p.stream)).state.last_seq;
      if (last > 0 && (at.get(p.name) ?? 0) < last) return false;
    }
    return true;
  };
  const deadline = performance.now() + QUIET_SECONDS * 1000;
  let quietAt: number | undefined;
  let pagedAt: number | undefined;
  let projectedAt: number | undefined;
  for (;;) {
    const pages = pagesOf();
    const stored = await readModel().catch(() => new Set<string>());
    const paged = [...accepted].every((n) => pages.has(n));
    const projected = [...accepted].every((n) => stored.has(`${runId}-${n}`));
    if (paged) pagedAt ??= performance.now();
    if (projected) projectedAt ??= performance.now();
    const complete = paged && projected;
    if (complete && (await caughtUp().catch(() => false))) {
      // Still quiet a moment later: nothing in flight behind what was counted.
      await sleep(2000);
      if ((await caughtUp().catch(() => false)) && pagesOf().size === pages.size) {
        quietAt = performance.now();
        break;
      }
    }
    if (performance.now() > deadline) {
      say(`not quiet after ${QUIET_SECONDS} s: ${pages.size} paged, ${stored.size} in the read model of ${accepted.size}`);
      break;
    }
    await sleep(1000);
  }

  await Promise.all(restarts);
  await admin?.close();
  const pages = pagesOf();
  const stored = await readModel();
  const acceptedIds = [...accepted];
  const lost = acceptedIds.filter((n) => !stored.has(`${runId}-${n}`)).length;
  const missing = acceptedIds.filter((n) => !pages.has(n)).length;
  const duplicates = [...pages.values()].reduce((sum, c) => sum + c - 1, 0);
  if (duplicates > 0)
    say(
      `paged more than once: #${[...pages]
        .filter(([, c]) => c > 1)
        .slice(0, 20)
        .map(([n]) => n)
        .join(', #')}`,
    );

  say('replaying every projection into a fresh schema to compare');
  const replaySchema = 'chaos_replay';
  await migrate(databaseUrl, replaySchema);
  const pool = await createReadModelPool(databaseUrl, replaySchema);
  for (const projection of PROJECTIONS) await replayProjection(nc, pool, projection);
  await pool.end();
  const live = await tables(db, SCHEMA);
  const replayed = await tables(db, replaySchema);
  const differing = [...live.keys()].filter((t) => live.get(t) !== replayed.get(t));
  if (differing.length > 0) say(`read model differs from the replay in: ${differing.join(', ')}`);
  await db.end();
  await nc.close();

  say('stopping oncall up (SIGTERM)');
  const stopT0 = performance.now();
  process.kill(up.child.pid!, 'SIGTERM');
  const code = await up.exited;
  const stopSeconds = (performance.now() - stopT0) / 1000;
  await slack.close();
  await cluster?.stop();
  if (process.env.CHAOS_KEEP !== '1') await rm(dataDir, { recursive: true, force: true });

  const result = {
    mode: CLUSTER ? 'cluster-r3' : 'single-r1',
    accepted: accepted.size,
    in_read_model: stored.size,
    lost,
    paged: pages.size,
    missing_pages: missing,
    duplicate_pages: duplicates,
    read_model_equals_replay: differing.length === 0,
    seconds: Number(((performance.now() - t0) / 1000).toFixed(1)),
    kills,
    recovery_seconds: quietAt === undefined ? null : Number(((quietAt - lastKillAt) / 1000).toFixed(1)),
    all_paged_s: pagedAt === undefined ? null : Number(((pagedAt - t0) / 1000).toFixed(1)),
    all_in_read_model_s: projectedAt === undefined ? null : Number(((projectedAt - t0) / 1000).toFixed(1)),
    stopped_cleanly: code === 0 && stopSeconds < 10,
    error_logs: up.errorLines(),
  };
  process.stdout.write(`${JSON.stringify(result)}\n`);
  const ok = lost === 0 && missing === 0 && duplicates === 0 && differing.length === 0 && quietAt !== undefined;
  process.exit(ok ? 0 : 1);
}

main().catch(async (err: unknown) => {
  process.stderr.write(`chaos: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`);
  if (running?.child.exitCode === null) {
    running.child.kill('SIGTERM');
    await Promise.race([running.exited, sleep(15_000)]);
  }
  process.exit(1);
});
