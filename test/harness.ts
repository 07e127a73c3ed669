import { randomUUID } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import getPort from 'get-port';
import pg from 'pg';
import { inject } from 'vitest';
import type { NatsConnection } from '@nats-io/transport-node';
import { jetstreamManager } from '@nats-io/jetstream';
import { apiTokenHash, bearerToken, connectNats, createLogger, ensureTopology, newApiToken, type Logger } from '@oncall/shared';
// From their own modules, not the @oncall/infra barrel: it loads `oncall up` and through it every
// service, half a second of collecting in each test file that needs none of them.
import { migrate } from '../infra/src/migrate.js';
import { startNatsServer, type RunningNats } from '../infra/src/nats-server.js';
import { ensureDatabase } from '../infra/src/postgres.js';

export const testLog: Logger = createLogger('test', process.env.TEST_LOG_LEVEL ?? 'silent');

export type TestNats = {
  url: string;
  readonly process: RunningNats['process'];
  dir: string;
  connect: (name?: string) => Promise<NatsConnection>;
  /** Stops the server process only; clients stay and try to reconnect. */
  down: () => Promise<void>;
  /** Starts the server again on the same port and store folder. */
  up: () => Promise<void>;
  /** Closes the clients, stops the server and removes its folder. */
  stop: () => Promise<void>;
};

/** A real nats-server with JetStream on a free port and a throwaway store folder (removed again if the server does not start). */
export async function startTestNats(): Promise<TestNats> {
  const dir = await mkdtemp(join(tmpdir(), 'oncall-test-nats-'));
  const port = await getPort();
  let server: RunningNats;
  try {
    server = await startNatsServer({ storeDir: dir, port });
  } catch (err) {
    await rm(dir, { recursive: true, force: true });
    throw err;
  }
  const connections: NatsConnection[] = [];
  return {
    url: server.url,
    get process() {
      return server.process;
    },
    dir,
    down: () => server.stop(),
    up: async () => {
      server = await startNatsServer({ storeDir: dir, port });
    },
    connect: async (name = 'test') => {
      const nc = await connectNats(server.url, name, testLog);
      connections.push(nc);
      return nc;
    },
    stop: async () => {
      await Promise.allSettled(connections.map((c) => c.close()));
      await server.stop();
      await rm(dir, { recursive: true, force: true });
    },
  };
}

/** Resolves at the connection's next successful reconnect. */
export async function reconnected(nc: NatsConnection): Promise<void> {
  for await (const s of nc.status()) if (s.type === 'reconnect') return;
}

/** Streams and partition count on a fresh server. */
export async function prepareTopology(nc: NatsConnection, partitions = 4): Promise<number> {
  return (await ensureTopology(nc, { partitions, replicas: 1 }, testLog)).partitions;
}

/**
 * A fresh database on the run's PostgreSQL, migrated into `schema`: for the usual `oncall` a copy of
 * the template global-setup migrated once (the same migrations, applied the same way).
 */
export async function createTestDatabase(schema = 'oncall'): Promise<{ url: string; schema: string }> {
  const admin = inject('pgAdminUrl');
  const name = `t_${randomUUID().replace(/-/g, '').slice(0, 16)}`;
  const url = new URL(admin);
  url.pathname = `/${name}`;
  if (schema === 'oncall') {
    const client = new pg.Client({ connectionString: admin });
    await client.connect();
    try {
      await client.query(`CREATE DATABASE "${name}" TEMPLATE "${inject('pgTemplate')}"`);
    } finally {
      await client.end();
    }
  } else {
    await ensureDatabase(admin, name);
    await migrate(url.toString(), schema);
  }
  return { url: url.toString(), schema };
}

/** Rows of a table in a stable order, for comparisons. */
export async function tableRows(
  databaseUrl: string,
  schema: string,
  table: string,
  orderBy: string,
  exclude: string[] = [],
): Promise<unknown[]> {
  const client = new pg.Client({ connectionString: databaseUrl });
  await client.connect();
  try {
    const res = await client.query(`SELECT * FROM "${schema}"."${table}" ORDER BY ${orderBy}`);
    return res.rows.map((r: Record<string, unknown>) => Object.fromEntries(Object.entries(r).filter(([k]) => !exclude.includes(k))));
  } finally {
    await client.end();
  }
}

export async function streamLastSeq(nc: NatsConnection, stream: string): Promise<number> {
  return (await (await jetstreamManager(nc)).streams.info(stream)).state.last_seq;
}

/**
 * An admin token for a query-api started without NATS (its `tokens` option): the lookup answers
 * only this token, and `clientOptions` sends it.
 */
export function offlineAdminToken() {
  const { tokenId, token } = newApiToken();
  const stored = { tokenId, tokenHash: apiTokenHash(token), scopes: ['admin'] as const, userId: null, expiresAt: null, revoked: false };
  return { token, tokens: (id: string) => (id === tokenId ? stored : undefined), clientOptions: bearerToken(token) };
}
