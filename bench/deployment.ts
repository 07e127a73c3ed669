import type { ChildProcess } from 'node:child_process';
import { chmod, mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import getPort from 'get-port';
import pg from 'pg';
import { fetch as httpFetch } from 'undici';
import { connectNats, createApiToken, ensureTopology, type Logger } from '@oncall/shared';
import { applyConfig, parseConfigFile } from '@oncall/shared/config-file';
import { migrate } from '../infra/src/migrate.js';
import { startNatsServer } from '../infra/src/nats-server.js';
import { ensureDatabase, POSTGRES_NICE, startEmbeddedPostgres } from '../infra/src/postgres.js';
import { startUsersService } from '../infra/src/users-service.js';
import { cpuMs, cpuSeconds, peakMemory, postgresPids, ROOT, say, spawnService, stopProcess, until, whenReady } from './processes.js';

/**
 * The system as deployed, for the benchmarks that measure it whole: a nats-server, an embedded
 * PostgreSQL (migrated), the users service on examples/users.yaml, the configuration applied, and
 * projector, query-api, ingest, the decider, the escalator and the dispatcher each as its own
 * process (their `main.ts`), every one ready before this resolves (their start-up is neither in
 * the CPU figures nor competing with the load).
 */
export type Deployment = {
  dir: string;
  natsUrl: string;
  databaseUrl: string;
  admin: Awaited<ReturnType<typeof connectNats>>;
  services: ReadonlyArray<{ name: string; child: ChildProcess }>;
  ingestUrl: string;
  grpcPort: number;
  /** The NOC console (query-api's HTTP server, on a free CONSOLE_PORT). */
  consoleUrl: string;
  /** An admin token for the gRPC API. */
  apiToken: string;
  /** Error lines the services logged. */
  errors: { count: number };
  /** CPU milliseconds used so far by each service, nats-server and PostgreSQL (postmaster, backends, reaped children). */
  cpu: () => Promise<Record<string, number>>;
  /** Samples the peak RSS of the services and nats-server every 250 ms until `stop` returns them (MB). */
  sampleRss: () => { stop: () => Record<string, number> };
  stop: () => Promise<void>;
};

export async function startDeployment(opts: {
  name: string;
  config: string;
  partitions: number;
  log: Logger;
  ingestEnv?: Record<string, string>;
  dispatcherEnv: Record<string, string>;
  /** More services to start after the dispatcher (e.g. two ticket bridges), each with its own environment. */
  extra?: ReadonlyArray<{ name: string; entry: string; env: Record<string, string> }>;
}): Promise<Deployment> {
  const dir = await mkdtemp(join(tmpdir(), `oncall-${opts.name}-`));
  await chmod(dir, 0o755);
  const nats = await startNatsServer({ storeDir: join(dir, 'nats'), port: await getPort() });
  const users = await startUsersService({ file: join(ROOT, 'examples/users.yaml'), port: 0, log: opts.log });
  // BENCH_PG_STATEMENTS=1: PostgreSQL's busiest statements of the run on stderr at the end (pg_stat_statements).
  const statements = process.env.BENCH_PG_STATEMENTS === '1';
  const postgres = await startEmbeddedPostgres({
    dataDir: join(dir, 'pg'),
    port: await getPort(),
    nice: Number(process.env.ONCALL_POSTGRES_NICE ?? POSTGRES_NICE), // as `oncall up` runs it (ONCALL_POSTGRES_NICE)
    ...(statements && { settings: { shared_preload_libraries: 'pg_stat_statements', 'pg_stat_statements.track_planning': 'on' } }),
  });
  const services: Array<{ name: string; child: ChildProcess }> = [];
  let admin: Deployment['admin'] | undefined;
  const stop = async () => {
    await Promise.all(services.map((s) => stopProcess(s.child)));
    await admin?.close();
    await users.close();
    if (statements) await printStatements(postgres.url('oncall')).catch((err: unknown) => say(`pg_stat_statements: ${String(err)}`));
    await postgres.stop();
    await nats.stop();
    await rm(dir, { recursive: true, force: true });
  };
  try {
    const databaseUrl = postgres.url('oncall');
    await ensureDatabase(postgres.url('postgres'), 'oncall');
    await migrate(databaseUrl, 'oncall');
    if (statements) await withClient(databaseUrl, (c) => c.query('CREATE EXTENSION IF NOT EXISTS pg_stat_statements'));
    admin = await connectNats(nats.url, 'bench-admin', opts.log);
    await ensureTopology(admin, { partitions: opts.partitions, replicas: 1 }, opts.log);
    await applyConfig(admin, parseConfigFile(opts.config, `${opts.name}.yaml`));
    const { token: apiToken } = await createApiToken(admin, { name: opts.name, scopes: ['admin'], userId: null, expiresAt: null });

    const ingestPort = await getPort();
    const grpcPort = await getPort();
    const consolePort = await getPort();
    const ingestUrl = `http://127.0.0.1:${ingestPort}`;
    const errors = { count: 0 };
    const common = {
      NATS_URL: nats.url,
      ONCALL_PARTITIONS: String(opts.partitions),
      LOG_LEVEL: process.env.LOG_LEVEL ?? 'warn',
      DATABASE_URL: databaseUrl,
      USER_SERVICE_URL: `127.0.0.1:${users.port}`,
    };
    const ready: Array<Promise<void>> = [];
    const start = async (name: string, entry: string, own: Record<string, string>) => {
      const child = spawnService(entry, { ...common, METRICS_PORT: String(await getPort()), ...own }, errors, undefined, { ipc: true });
      ready.push(whenReady(child, name));
      services.push({ name, child });
    };
    await start('projector', 'projector/src/main.ts', {});
    await start('query-api', 'query-api/src/main.ts', {
      GRPC_PORT: String(grpcPort),
      GRPC_HOST: '127.0.0.1',
      CONSOLE_PORT: String(consolePort),
      CONSOLE_HOST: '127.0.0.1',
    });
    await start('ingest', 'ingest/src/main.ts', {
      INGEST_PORT: String(ingestPort),
      INGEST_HOST: '127.0.0.1',
      INGEST_RATE_LIMIT_PER_SECOND: '0',
      ONCALL_PUBLIC_URL: ingestUrl,
      ...opts.ingestEnv,
    });
    await start('decider', 'ingest/src/decider-main.ts', {});
    await start('escalator', 'escalator/src/main.ts', { ESCALATOR_ID: 'bench' });
    await start('dispatcher', 'dispatcher/src/main.ts', opts.dispatcherEnv);
    for (const x of opts.extra ?? []) await start(x.name, x.entry, x.env);
    await Promise.all(ready);
    const healthy = () =>
      httpFetch(`${ingestUrl}/healthz`).then(
        (r) => r.ok,
        () => false,
      );
    await until(healthy, 60_000, 'ingest');

    const natsPid = nats.process.pid!;
    const cpu = async (): Promise<Record<string, number>> => {
      const own = process.cpuUsage();
      const byService = await Promise.all(services.map(async (s): Promise<[string, number]> => [s.name, await cpuMs(s.child.pid!)]));
      return {
        ...Object.fromEntries(byService),
        'nats-server': await cpuMs(natsPid),
        postgres: (await cpuSeconds(await postgresPids(join(dir, 'pg')))) * 1000,
        // This process: the load generator and the providers' fakes (not the deployment's; outside totals).
        bench: own.user / 1000 + own.system / 1000,
      };
    };
    const sampleRss = () =>
      peakMemory(
        Object.fromEntries(
          [...services.map((s): [string, number] => [s.name, s.child.pid!]), ['nats-server', natsPid] as [string, number]].map(
            ([name, pid]) => [name, async () => [pid]],
          ),
        ),
      );
    const consoleUrl = `http://127.0.0.1:${consolePort}`;
    return {
      dir,
      natsUrl: nats.url,
      databaseUrl,
      admin,
      services,
      ingestUrl,
      grpcPort,
      consoleUrl,
      apiToken,
      errors,
      cpu,
      sampleRss,
      stop,
    };
  } catch (err) {
    await stop();
    throw err;
  }
}

/** CPU milliseconds per alert of each part between two `cpu()` readings. */
export function cpuPerAlert(before: Record<string, number>, after: Record<string, number>, alerts: number): Record<string, number> {
  return Object.fromEntries(Object.keys(after).map((k) => [k, Number(((after[k]! - (before[k] ?? 0)) / alerts).toFixed(2))]));
}

async function withClient<T>(url: string, work: (c: pg.Client) => Promise<T>): Promise<T> {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    return await work(client);
  } finally {
    await client.end();
  }
}

/** The 15 statements that took PostgreSQL the most time, with calls and rows. */
async function printStatements(url: string): Promise<void> {
  const { rows } = await withClient(url, (c) =>
    c.query<{ ms: number; plan_ms: number; calls: number; rows: number; query: string }>(
      `SELECT round(total_exec_time)::int AS ms, round(total_plan_time)::int AS plan_ms, calls::int, rows::int, left(regexp_replace(query, '\\s+', ' ', 'g'), 160) AS query
       FROM pg_stat_statements ORDER BY total_exec_time + total_plan_time DESC LIMIT 15`,
    ),
  );
  for (const r of rows) say(`pg ${r.ms} ms + ${r.plan_ms} ms planning  ${r.calls} calls  ${r.rows} rows  ${r.query}`);
}
