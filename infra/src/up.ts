import { resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Server } from 'node:http';
import { z } from 'zod';
import { closeNats, connectNats, ensureTopology, parseEnv, commonEnv, port, serveMetrics, type Logger } from '@oncall/shared';
import { findNatsServer, startNatsServer, type RunningNats } from './nats-server.js';
import {
  assertPostgresCanRun,
  ensureDatabase,
  parsePostgresSettings,
  POSTGRES_NICE,
  startEmbeddedPostgres,
  type RunningPostgres,
} from './postgres.js';
import { migrate } from './migrate.js';
import { readConfigFile, applyConfig } from '@oncall/shared/config-file';
import { localAdminToken } from './local-token.js';
import { startUsersService, type RunningUsersService } from './users-service.js';
import { SupervisedService, type ServiceSpec } from './supervisor.js';
import { KeptRunning } from './keep-running.js';
import { readOrCreateActionSecret } from './action-secret.js';
import { connectionEnv, LOCAL_DATABASE } from './settings.js';

const REPO_ROOT = fileURLToPath(new URL('../../', import.meta.url));

/** Each part's share of the stop (ingest and query-api, then the other services, then NATS and PostgreSQL): 3 × 3 s < 10 s. */
const STOP_GRACE_MS = 3000;

const UpConfig = z.object({
  ONCALL_DATA_DIR: z.string().default('.oncall-data'),
  ONCALL_CONFIG_FILE: z.string().default(resolve(REPO_ROOT, 'examples/oncall.yaml')),
  ...connectionEnv,
  USER_SERVICE_URL: z.string().min(1).optional(),
  USERS_FILE: z.string().default(resolve(REPO_ROOT, 'examples/users.yaml')),
  ONCALL_PG_SETTINGS: z
    .string()
    .default('')
    .transform((text, ctx) => {
      try {
        return parsePostgresSettings(text);
      } catch (err) {
        ctx.addIssue({ code: z.ZodIssueCode.custom, message: (err as Error).message });
        return z.NEVER;
      }
    }),
  /** The embedded PostgreSQL's CPU niceness: decisions first in a storm (docs/performance.md, bench:storm-sense). */
  ONCALL_POSTGRES_NICE: z.coerce.number().int().min(0).max(19).default(POSTGRES_NICE),
  INGEST_PORT: port(8080),
  INGEST_HOST: z.string().default('0.0.0.0'),
  /** Loopback by default: set 0.0.0.0 (or an address) to open the API to the network (with TLS, see docs/query-api.md). */
  GRPC_HOST: z.string().default('127.0.0.1'),
  /** The NOC console (query-api's HTTP server, docs/console.md); loopback by default like gRPC. */
  CONSOLE_PORT: port(8090),
  CONSOLE_HOST: z.string().default('127.0.0.1'),
  DECIDER_METRICS_PORT: port(9101),
  PROJECTOR_METRICS_PORT: port(9102),
  ESCALATOR_METRICS_PORT: port(9103),
  DISPATCHER_METRICS_PORT: port(9104),
  QUERY_API_METRICS_PORT: port(9105),
  UP_METRICS_PORT: port(9106),
  TICKET_BRIDGE_METRICS_PORT: port(9107),
  /** Ticket providers' inbound calls (docs/tickets.md). */
  TICKET_BRIDGE_PORT: port(8093),
  READ_MODEL_SCHEMA: commonEnv.READ_MODEL_SCHEMA,
  ONCALL_PARTITIONS: commonEnv.ONCALL_PARTITIONS,
  ONCALL_REPLICAS: commonEnv.ONCALL_REPLICAS,
});

/** A process of the running pipeline, for the start-up banner. */
export type PartInfo = { name: string; pid: number | undefined; metrics?: string };

export type Running = {
  ingestUrl: string;
  /** Where the links in pages point (ONCALL_PUBLIC_URL). */
  publicUrl: string;
  grpcPort: number;
  /** The NOC console (ONCALL_CONSOLE_URL): the "Open" link of every page points at its alert page. */
  consoleUrl: string;
  /** Where ticket providers post their changes (`/api/v1/tickets/<providerId>/events`). */
  ticketBridgeUrl: string;
  parts: PartInfo[];
  /** Stops the services (ingest and query-api first), then NATS and PostgreSQL; within 10 s. */
  stop: () => Promise<void>;
};

/** `oncall up` was asked to stop (SIGINT/SIGTERM) while it was starting; what had started is stopped. */
export class UpInterrupted extends Error {
  override readonly name = 'UpInterrupted';
}

/**
 * `oncall up`: sets up the embedded default in this process (a local nats-server and PostgreSQL
 * with data under ONCALL_DATA_DIR unless NATS_URL / DATABASE_URL are set, migrations, streams, the
 * config file, a UserService read from USERS_FILE unless USER_SERVICE_URL is set), then starts
 * every service as a supervised child process through its production entry point. Resolves once
 * every service is ready. `interrupt` aborts the start; what had started is stopped.
 */
export async function up(log: Logger, env: NodeJS.ProcessEnv, interrupt: AbortSignal): Promise<Running> {
  const started = Date.now();
  const cfg = parseEnv(UpConfig, env);
  const dataDir = resolve(cfg.ONCALL_DATA_DIR);
  const pgDir = resolve(dataDir, 'postgres');
  const checkpoint = () => {
    if (interrupt.aborted) throw new UpInterrupted('stopped while starting');
  };

  // Everything that can be checked before anything starts.
  const config = await readConfigFile(cfg.ONCALL_CONFIG_FILE);
  if (!cfg.NATS_URL) await findNatsServer();
  if (!cfg.DATABASE_URL) {
    await assertPostgresCanRun(pgDir, { dataDirSetting: 'ONCALL_DATA_DIR', orElse: 'set DATABASE_URL to a PostgreSQL of your own' });
  }

  let users: RunningUsersService | undefined;
  let nats: KeptRunning<RunningNats> | undefined;
  let postgres: KeptRunning<RunningPostgres> | undefined;
  let metrics: Server | undefined;
  const services: SupervisedService[] = [];
  const stop = async () => {
    for (const s of services) s.stopRestarting();
    const frontDoor = (s: SupervisedService) => s.spec.name === 'ingest' || s.spec.name === 'query-api';
    await Promise.allSettled(services.filter(frontDoor).map((s) => s.stop(STOP_GRACE_MS)));
    await Promise.allSettled(services.filter((s) => !frontDoor(s)).map((s) => s.stop(STOP_GRACE_MS)));
    await Promise.allSettled([users?.close(), new Promise((done) => (metrics ? metrics.close(done) : done(undefined)))]);
    await Promise.allSettled([nats?.stop(STOP_GRACE_MS), postgres?.stop(STOP_GRACE_MS)]);
  };

  try {
    let userServiceUrl = cfg.USER_SERVICE_URL;
    if (!userServiceUrl) {
      users = await startUsersService({ file: resolve(cfg.USERS_FILE), port: 0, log: log.child({ part: 'users' }) });
      userServiceUrl = `127.0.0.1:${users.port}`;
    }
    // Both at once; if one fails, the other is stopped with the rest. Either is started again if it dies later.
    const onKeepsDying = (line: string) => process.stderr.write(`oncall up: ${line}\n`);
    const natsKept = cfg.NATS_URL
      ? undefined
      : new KeptRunning(
          'nats-server',
          () => startNatsServer({ storeDir: resolve(dataDir, 'nats'), port: cfg.NATS_PORT, log, ownProcessGroup: true }),
          { log, onKeepsDying },
        );
    const postgresKept = cfg.DATABASE_URL
      ? undefined
      : new KeptRunning(
          'PostgreSQL',
          () =>
            startEmbeddedPostgres({
              dataDir: pgDir,
              port: cfg.PG_PORT,
              log,
              settings: cfg.ONCALL_PG_SETTINGS,
              ownProcessGroup: true,
              nice: cfg.ONCALL_POSTGRES_NICE,
            }),
          { log, onKeepsDying },
        );
    const [natsStart, postgresStart] = await Promise.allSettled([natsKept?.start(), postgresKept?.start()]);
    if (natsStart.status === 'fulfilled') nats = natsKept;
    if (postgresStart.status === 'fulfilled') postgres = postgresKept;
    if (natsStart.status === 'rejected') throw natsStart.reason;
    if (postgresStart.status === 'rejected') throw postgresStart.reason;
    checkpoint();
    const natsUrl = nats?.current?.url ?? cfg.NATS_URL!;
    const pgUrl = postgres?.current?.url;
    if (pgUrl) await ensureDatabase(pgUrl('postgres'), LOCAL_DATABASE);
    const databaseUrl = pgUrl?.(LOCAL_DATABASE) ?? cfg.DATABASE_URL!;
    log.info({ natsUrl, database: databaseUrl.replace(/:[^:@/]*@/, ':***@'), dataDir }, 'infrastructure ready');

    await migrate(databaseUrl, cfg.READ_MODEL_SCHEMA, log);
    const admin = await connectNats(natsUrl, 'oncall-up', log);
    let partitions: number;
    let apiToken: string;
    try {
      ({ partitions } = await ensureTopology(admin, { partitions: cfg.ONCALL_PARTITIONS, replicas: cfg.ONCALL_REPLICAS }, log));
      const applied = await applyConfig(admin, config, {
        actor: 'oncall-up',
        keepDrift: (drifts) =>
          log.warn({ drifts }, 'kept configuration changed through the API; the file does not overwrite it (oncall apply --force does)'),
      });
      log.info({ file: cfg.ONCALL_CONFIG_FILE, events: applied.length }, 'configuration applied');
      apiToken = await localAdminToken(admin, resolve(dataDir, 'api-token'));
    } finally {
      await closeNats(admin, log);
    }
    checkpoint();
    metrics = await serveMetrics(cfg.UP_METRICS_PORT);

    // Links in pages point at this ingest unless told otherwise; the secret signing them is made once and kept.
    const links = {
      ONCALL_PUBLIC_URL: env.ONCALL_PUBLIC_URL ?? `http://127.0.0.1:${cfg.INGEST_PORT}`,
      ONCALL_ACTION_SECRET: env.ONCALL_ACTION_SECRET ?? (await readOrCreateActionSecret(resolve(dataDir, 'action-secret'))),
      // The "Open" link of every page goes to the NOC console's alert page.
      ONCALL_CONSOLE_URL: env.ONCALL_CONSOLE_URL ?? `http://127.0.0.1:${cfg.CONSOLE_PORT}`,
      // With no provider configured, pages are printed on the console (this process's stdout).
      ONCALL_CONSOLE_CHANNEL: env.ONCALL_CONSOLE_CHANNEL ?? '1',
    };
    const common = {
      ...env,
      ...links,
      NATS_URL: natsUrl,
      DATABASE_URL: databaseUrl,
      USER_SERVICE_URL: userServiceUrl,
      READ_MODEL_SCHEMA: cfg.READ_MODEL_SCHEMA,
      ONCALL_PARTITIONS: String(partitions),
      ONCALL_REPLICAS: String(cfg.ONCALL_REPLICAS),
    };
    const metricsOn = (p: number) => ({ METRICS_PORT: String(p) });
    const specs: ServiceSpec[] = [
      {
        name: 'ingest',
        entry: 'ingest/src/main.ts',
        env: { ...common, INGEST_PORT: String(cfg.INGEST_PORT), INGEST_HOST: cfg.INGEST_HOST },
      },
      { name: 'decider', entry: 'ingest/src/decider-main.ts', env: { ...common, ...metricsOn(cfg.DECIDER_METRICS_PORT) } },
      { name: 'projector', entry: 'projector/src/main.ts', env: { ...common, ...metricsOn(cfg.PROJECTOR_METRICS_PORT) } },
      { name: 'escalator', entry: 'escalator/src/main.ts', env: { ...common, ...metricsOn(cfg.ESCALATOR_METRICS_PORT) } },
      { name: 'dispatcher', entry: 'dispatcher/src/main.ts', env: { ...common, ...metricsOn(cfg.DISPATCHER_METRICS_PORT) } },
      {
        name: 'query-api',
        entry: 'query-api/src/main.ts',
        env: {
          ...common,
          ...metricsOn(cfg.QUERY_API_METRICS_PORT),
          GRPC_PORT: String(cfg.GRPC_PORT),
          GRPC_HOST: cfg.GRPC_HOST,
          CONSOLE_PORT: String(cfg.CONSOLE_PORT),
          CONSOLE_HOST: cfg.CONSOLE_HOST,
        },
      },
      {
        name: 'ticket-bridge',
        entry: 'ticket-bridge/src/main.ts',
        env: { ...common, ...metricsOn(cfg.TICKET_BRIDGE_METRICS_PORT), TICKET_BRIDGE_PORT: String(cfg.TICKET_BRIDGE_PORT) },
      },
    ];
    for (const spec of specs) services.push(new SupervisedService(spec, { cwd: REPO_ROOT, log, onKeepsDying }));
    const interrupted = new Promise<'interrupted'>((done) =>
      interrupt.addEventListener('abort', () => done('interrupted'), { once: true }),
    );
    const ready = await Promise.race([Promise.allSettled(services.map((s) => s.start())), interrupted]);
    checkpoint();
    const failures = (ready as PromiseSettledResult<void>[]).flatMap((r) => (r.status === 'rejected' ? [(r.reason as Error).message] : []));
    if (failures.length > 0) throw new Error(failures.join('\n'));

    const localUrl = (p: number) => `http://127.0.0.1:${p}/metrics`;
    const metricsPorts: Record<string, number> = {
      ingest: cfg.INGEST_PORT,
      decider: cfg.DECIDER_METRICS_PORT,
      projector: cfg.PROJECTOR_METRICS_PORT,
      escalator: cfg.ESCALATOR_METRICS_PORT,
      dispatcher: cfg.DISPATCHER_METRICS_PORT,
      'query-api': cfg.QUERY_API_METRICS_PORT,
      'ticket-bridge': cfg.TICKET_BRIDGE_METRICS_PORT,
    };
    const parts: PartInfo[] = [
      { name: 'oncall up', pid: process.pid, metrics: localUrl(cfg.UP_METRICS_PORT) },
      ...(nats ? [{ name: 'nats-server', pid: nats.current?.process.pid }] : []),
      ...(postgres ? [{ name: 'postgres', pid: postgres.current?.pid }] : []),
      ...services.map((s) => {
        const p = metricsPorts[s.spec.name];
        return { name: s.spec.name, pid: s.pid, ...(p !== undefined && { metrics: localUrl(p) }) };
      }),
    ];
    log.info({ ms: Date.now() - started }, 'pipeline up');
    // On a line of its own, for `export` and for scripts: the CLI and clients send it (docs/query-api.md#authentication).
    process.stdout.write(`ONCALL_API_TOKEN=${apiToken}\n`);
    return {
      ingestUrl: `http://127.0.0.1:${cfg.INGEST_PORT}`,
      publicUrl: links.ONCALL_PUBLIC_URL,
      grpcPort: cfg.GRPC_PORT,
      consoleUrl: links.ONCALL_CONSOLE_URL,
      ticketBridgeUrl: `http://127.0.0.1:${cfg.TICKET_BRIDGE_PORT}`,
      parts,
      stop,
    };
  } catch (err) {
    await stop();
    throw err;
  }
}
