import { resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { z } from 'zod';
import { connectNats, createReadModelPool, ensureTopology, parseEnv, commonEnv, port, userDirectory, type Logger } from '@oncall/shared';
import { startDecider, startIngest } from '@oncall/ingest';
import { startProjector } from '@oncall/projector';
import { startGrpcServer } from '@oncall/query-api';
import { startEscalator } from '@oncall/escalator';
import { loadDispatcherConfig, notifiersFrom, startDispatcher } from '@oncall/dispatcher';
import { startTicketBridge } from '@oncall/ticket-bridge';
import { startNatsServer } from './nats-server.js';
import { ensureDatabase, parsePostgresSettings, startEmbeddedPostgres } from './postgres.js';
import { migrate } from './migrate.js';
import { readConfigFile } from './config-file.js';
import { applyConfig } from './apply.js';
import { startUsersService } from './users-service.js';

const REPO_ROOT = fileURLToPath(new URL('../../', import.meta.url));

const UpConfig = z.object({
  ONCALL_DATA_DIR: z.string().default('.oncall-data'),
  ONCALL_CONFIG_FILE: z.string().default(resolve(REPO_ROOT, 'examples/oncall.yaml')),
  NATS_URL: z.string().optional(),
  DATABASE_URL: z.string().url().optional(),
  USER_SERVICE_URL: z.string().min(1).optional(),
  USERS_FILE: z.string().default(resolve(REPO_ROOT, 'examples/users.yaml')),
  NATS_PORT: port(4222),
  PG_PORT: port(54329),
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
  INGEST_PORT: port(8080),
  INGEST_HOST: z.string().default('0.0.0.0'),
  INGEST_BODY_LIMIT_BYTES: z.coerce
    .number()
    .int()
    .min(1024)
    .default(1024 * 1024),
  INGEST_RATE_LIMIT_PER_SECOND: z.coerce.number().int().min(0).default(1000),
  GRPC_PORT: port(50051),
  GRPC_HOST: z.string().default('0.0.0.0'),
  READ_MODEL_SCHEMA: commonEnv.READ_MODEL_SCHEMA,
  ONCALL_PARTITIONS: commonEnv.ONCALL_PARTITIONS,
  ONCALL_REPLICAS: commonEnv.ONCALL_REPLICAS,
});

type Stop = () => Promise<void>;

/**
 * `oncall up`: the whole pipeline in one process on the embedded default (a local nats-server
 * and PostgreSQL with data under ONCALL_DATA_DIR, a UserService read from USERS_FILE), or against
 * NATS_URL / DATABASE_URL / USER_SERVICE_URL.
 * Returns a function that stops everything in reverse order.
 */
export async function up(log: Logger, env: NodeJS.ProcessEnv = process.env): Promise<{ stop: Stop; ingestUrl: string; grpcPort: number }> {
  const started = Date.now();
  const cfg = parseEnv(UpConfig, env);
  const dataDir = resolve(cfg.ONCALL_DATA_DIR);
  const stops: Stop[] = [];
  const stopAll: Stop = async () => {
    for (const stop of stops.reverse()) await stop().catch((err: unknown) => log.error({ err }, 'stop failed'));
  };
  try {
    const config = await readConfigFile(cfg.ONCALL_CONFIG_FILE);
    let userServiceUrl = cfg.USER_SERVICE_URL;
    if (!userServiceUrl) {
      const users = await startUsersService({ file: resolve(cfg.USERS_FILE), port: 0, log: log.child({ service: 'users' }) });
      stops.push(users.close);
      userServiceUrl = `127.0.0.1:${users.port}`;
    }
    // The services run in this process and read their settings from its environment.
    process.env.USER_SERVICE_URL = userServiceUrl;
    let natsUrl = cfg.NATS_URL;
    let databaseUrl = cfg.DATABASE_URL;
    const [nats, postgres] = await Promise.all([
      natsUrl ? undefined : startNatsServer({ storeDir: resolve(dataDir, 'nats'), port: cfg.NATS_PORT, log }),
      databaseUrl
        ? undefined
        : startEmbeddedPostgres({ dataDir: resolve(dataDir, 'postgres'), port: cfg.PG_PORT, log, settings: cfg.ONCALL_PG_SETTINGS }),
    ]);
    if (postgres) {
      stops.push(postgres.stop);
      await ensureDatabase(postgres.url('postgres'), 'oncall');
      databaseUrl = postgres.url('oncall');
    }
    if (nats) {
      stops.push(nats.stop);
      natsUrl = nats.url;
    }
    if (!natsUrl || !databaseUrl) throw new Error('unreachable: no NATS or database URL');
    log.info({ natsUrl, database: databaseUrl.replace(/:[^:@/]*@/, ':***@'), dataDir }, 'infrastructure ready');

    await migrate(databaseUrl, cfg.READ_MODEL_SCHEMA, log);
    const connect = async (name: string) => {
      const nc = await connectNats(natsUrl, name, log);
      stops.push(() => nc.drain());
      return nc;
    };
    const admin = await connect('oncall-up');
    const { partitions } = await ensureTopology(admin, { partitions: cfg.ONCALL_PARTITIONS, replicas: cfg.ONCALL_REPLICAS }, log);
    const applied = await applyConfig(admin, config, { actor: 'oncall-up' });
    log.info({ file: cfg.ONCALL_CONFIG_FILE, events: applied.length }, 'configuration applied');

    const pool = await createReadModelPool(databaseUrl, cfg.READ_MODEL_SCHEMA);
    stops.push(() => pool.end());
    const directory = userDirectory(userServiceUrl);
    stops.push(async () => directory.close());
    const services: Array<Promise<{ stop: Stop }>> = [
      startProjector({ nc: await connect('projector'), pool, log: log.child({ service: 'projector' }) }),
      startDecider({ nc: await connect('decider'), partitions, log: log.child({ service: 'decider' }) }),
      startEscalator({
        nc: await connect('escalator'),
        partitions,
        users: directory,
        owner: 'oncall-up',
        log: log.child({ service: 'escalator' }),
      }),
      startDispatcher({
        nc: await connect('dispatcher'),
        notifiers: notifiersFrom(loadDispatcherConfig(env)),
        log: log.child({ service: 'dispatcher' }),
      }),
      startTicketBridge({ log: log.child({ service: 'ticket-bridge' }) }),
    ];
    for (const s of await Promise.all(services)) stops.push(s.stop);
    const grpc = await startGrpcServer({
      pool,
      port: cfg.GRPC_PORT,
      host: cfg.GRPC_HOST,
      log: log.child({ service: 'query-api' }),
      nc: await connect('query-api'),
      partitions,
      databaseUrl,
      schema: cfg.READ_MODEL_SCHEMA,
    });
    stops.push(grpc.stop);
    const ingest = await startIngest({
      nc: await connect('ingest'),
      partitions,
      port: cfg.INGEST_PORT,
      host: cfg.INGEST_HOST,
      bodyLimitBytes: cfg.INGEST_BODY_LIMIT_BYTES,
      rateLimitPerSecond: cfg.INGEST_RATE_LIMIT_PER_SECOND,
      log: log.child({ service: 'ingest' }),
    });
    stops.push(ingest.stop);
    log.info({ ms: Date.now() - started }, 'pipeline up');
    return { stop: stopAll, ingestUrl: `http://127.0.0.1:${cfg.INGEST_PORT}`, grpcPort: grpc.port };
  } catch (err) {
    await stopAll();
    throw err;
  }
}
