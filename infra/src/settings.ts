import { z } from 'zod';
import { commonEnv, connectNats, parseEnv, port, type Logger } from '@oncall/shared';
import { localNatsUrl } from './nats-server.js';
import { localPostgresUrl } from './postgres.js';

/** The database `oncall up` creates on the PostgreSQL it starts. */
export const LOCAL_DATABASE = 'oncall';

/** An exported but empty setting (`NATS_URL=`) counts as unset. */
const unsetIfEmpty = <T extends z.ZodTypeAny>(schema: T) => z.preprocess((v) => (v === '' ? undefined : v), schema);

/**
 * Where NATS, PostgreSQL and query-api are, as `oncall up` reads it: NATS_URL / DATABASE_URL if
 * set, else the servers it starts on NATS_PORT / PG_PORT; query-api on GRPC_PORT. The CLI reads
 * the same settings (cliSettings), so one exported set serves both.
 */
export const connectionEnv = {
  NATS_URL: unsetIfEmpty(z.string().optional()),
  DATABASE_URL: unsetIfEmpty(z.string().url().optional()),
  NATS_PORT: port(4222),
  PG_PORT: port(54329),
  GRPC_PORT: port(50051),
};

/** A server the CLI talks to: where, which setting said so, and which settings change it. */
export type Endpoint = Readonly<{ address: string; from: string; change: string }>;

export type CliSettings = Readonly<{
  nats: Endpoint;
  database: Endpoint;
  /** The database URL to connect with (`database.address` hides the password). */
  databaseUrl: string;
  grpc: Endpoint;
  schema: string;
  partitions: number;
  replicas: number;
}>;

const CliEnv = z.object({
  ...connectionEnv,
  GRPC_HOST: z.string().optional(),
  ONCALL_GRPC: unsetIfEmpty(z.string().min(1).optional()),
  READ_MODEL_SCHEMA: commonEnv.READ_MODEL_SCHEMA,
  ONCALL_PARTITIONS: commonEnv.ONCALL_PARTITIONS,
  ONCALL_REPLICAS: commonEnv.ONCALL_REPLICAS,
});

/** Hosts a server listens on that a client cannot dial: the CLI dials loopback instead. */
const WILDCARD_HOSTS = new Set(['', '0.0.0.0', '::', '[::]']);

/** `which` of the settings in `names` is set, as `NAME=value`, else `fallback`. */
function fromOf(env: NodeJS.ProcessEnv, names: readonly string[], fallback: string): string {
  const name = names.find((n) => env[n] !== undefined && env[n] !== '');
  return name ? `${name}=${env[name]}` : fallback;
}

const hidePassword = (url: string): string => url.replace(/:[^:@/]*@/, ':***@');

/**
 * The CLI's servers from the environment, derived as `oncall up` derives them; `grpcFlag` is the
 * `--grpc host:port` of the command line, which wins. Throws ConfigError for a malformed setting.
 */
export function cliSettings(env: NodeJS.ProcessEnv = process.env, grpcFlag?: string): CliSettings {
  const cfg = parseEnv(CliEnv, env);
  const host = cfg.GRPC_HOST !== undefined && !WILDCARD_HOSTS.has(cfg.GRPC_HOST) ? cfg.GRPC_HOST : '127.0.0.1';
  const grpcAddress = grpcFlag ?? cfg.ONCALL_GRPC ?? `${host}:${cfg.GRPC_PORT}`;
  const dbUrl = cfg.DATABASE_URL ?? localPostgresUrl(cfg.PG_PORT, LOCAL_DATABASE);
  return {
    nats: {
      address: cfg.NATS_URL ?? localNatsUrl(cfg.NATS_PORT),
      from: fromOf(env, ['NATS_URL', 'NATS_PORT'], 'the default, NATS_PORT 4222'),
      change: 'set NATS_URL, or NATS_PORT for the nats-server oncall up starts',
    },
    database: {
      address: hidePassword(dbUrl),
      from: fromOf(env, ['DATABASE_URL', 'PG_PORT'], 'the default, PG_PORT 54329'),
      change: 'set DATABASE_URL, or PG_PORT for the PostgreSQL oncall up starts',
    },
    databaseUrl: dbUrl,
    grpc: {
      address: grpcAddress,
      from: grpcFlag !== undefined ? '--grpc' : fromOf(env, ['ONCALL_GRPC', 'GRPC_PORT', 'GRPC_HOST'], 'the default, GRPC_PORT 50051'),
      change: 'use --grpc host:port, or set ONCALL_GRPC, or GRPC_PORT as for oncall up',
    },
    schema: cfg.READ_MODEL_SCHEMA,
    partitions: cfg.ONCALL_PARTITIONS,
    replicas: cfg.ONCALL_REPLICAS,
  };
}

/** A server the CLI could not reach: where it tried, which setting said so and which changes it. */
export class Unreachable extends Error {
  override readonly name = 'Unreachable';
  constructor(what: string, endpoint: Endpoint, reason: string, options?: ErrorOptions) {
    super(`cannot reach ${what} at ${endpoint.address} (${endpoint.from}): ${reason}; ${endpoint.change}`, options);
  }
}

const CONNECTION_CODES = new Set(['ECONNREFUSED', 'ENOTFOUND', 'EHOSTUNREACH', 'ETIMEDOUT', 'ECONNRESET', 'EAI_AGAIN', '3D000', '28P01']);

/** The network or login failure inside `err` (its cause, an AggregateError's errors), if there is one. */
export function connectionFailure(err: unknown): Error | undefined {
  if (!(err instanceof Error)) return undefined;
  if (CONNECTION_CODES.has((err as { code?: string }).code ?? '')) return err;
  const inner = err instanceof AggregateError ? err.errors : [err.cause];
  for (const e of inner) {
    const found = connectionFailure(e);
    if (found) return found;
  }
  return undefined;
}

/** Runs `fn`; a failure to connect to `endpoint` becomes an Unreachable naming it. */
export async function reaching<T>(what: string, endpoint: Endpoint, fn: () => Promise<T>): Promise<T> {
  try {
    return await fn();
  } catch (err) {
    const failure = connectionFailure(err);
    if (failure) throw new Unreachable(what, endpoint, failure.message, { cause: err });
    throw err;
  }
}

/** NATS for a command, a failure to connect naming the address and the setting. */
export async function natsOf(settings: CliSettings, name: string, log: Logger) {
  try {
    return await connectNats(settings.nats.address, name, log);
  } catch (err) {
    const reason = connectionFailure(err)?.message ?? (err instanceof Error ? err.message : String(err));
    throw new Unreachable('NATS', settings.nats, reason, { cause: err });
  }
}
