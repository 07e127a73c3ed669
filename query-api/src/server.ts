import { readFileSync } from 'node:fs';
import { Server, ServerCredentials, type ServiceDefinition, type UntypedServiceImplementation } from '@grpc/grpc-js';
import { loadFileDescriptorSetFromBuffer } from '@grpc/proto-loader';
import { ReflectionService } from '@grpc/reflection';
import type { NatsConnection } from '@nats-io/transport-node';
import { HealthImplementation } from 'grpc-health-check';
import type { DatabasePool } from 'slonik';
import { alertingV1, descriptorSetPath, notificationV1 } from '@oncall/contracts';
import type { Logger } from '@oncall/shared';
import type { KnownUsers } from '@oncall/shared/config-file';
import { AlertCommands } from './adapters/alert-commands.js';
import { ProjectionFeed } from './adapters/projection-feed.js';
import { alertService } from './alert-service.js';
import { ConfigWriter } from './config-writes.js';
import { escalationService } from './escalation-service.js';
import { notificationService } from './notification-service.js';
import { scheduleService } from './schedule-service.js';
import { templateService } from './template-service.js';

export type GrpcServerOptions = {
  pool: DatabasePool;
  port: number;
  host: string;
  log: Logger;
  /** NATS: alert commands append to INTAKE. Without it (or without `partitions`) they answer UNAVAILABLE. */
  nc?: NatsConnection;
  /** The partition count fixed at stream creation (ensureTopology). */
  partitions?: number;
  /**
   * The read-model database and schema for LISTEN (read-your-writes of commands, delivery-status
   * streams). Without them those RPCs answer UNAVAILABLE.
   */
  databaseUrl?: string;
  schema?: string;
  /** Longest a command or configuration write waits for its outcome to be visible (default 10 s). */
  commandTimeoutMs?: number;
  /** The user directory configuration writes check users against; without it users are not checked. */
  knownUsers?: KnownUsers;
};

/**
 * The gRPC server. Reads come from the read model, alert commands go through the intake stream;
 * RPCs without an implementation answer UNIMPLEMENTED (docs/query-api.md lists them).
 */
export async function startGrpcServer(opts: GrpcServerOptions): Promise<{ port: number; stop: () => Promise<void> }> {
  const { pool, log } = opts;
  const now = (): number => Date.now();
  const feed =
    opts.databaseUrl && opts.schema ? await ProjectionFeed.start({ databaseUrl: opts.databaseUrl, schema: opts.schema, pool, log }) : null;
  const commands =
    opts.nc && opts.partitions && feed
      ? new AlertCommands({ nc: opts.nc, partitions: opts.partitions, pool, feed, log, timeoutMs: opts.commandTimeoutMs ?? 10_000, now })
      : null;
  const writer =
    opts.nc && feed
      ? new ConfigWriter({ nc: opts.nc, feed, knownUsers: opts.knownUsers, timeoutMs: opts.commandTimeoutMs ?? 10_000, now })
      : null;
  const stopping = new AbortController();

  const server = new Server();
  // Methods an implementation leaves out answer UNIMPLEMENTED.
  const services: Array<[name: string, definition: ServiceDefinition, implementation: object]> = [
    ['alerting.v1.AlertService', alertingV1.AlertServiceService, alertService(pool, log, commands)],
    ['alerting.v1.ScheduleService', alertingV1.ScheduleServiceService, scheduleService(pool, log, now)],
    ['alerting.v1.EscalationService', alertingV1.EscalationServiceService, escalationService(pool, log, writer)],
    ['alerting.v1.TicketIntegrationService', alertingV1.TicketIntegrationServiceService, {}],
    [
      'notification.v1.NotificationService',
      notificationV1.NotificationServiceService,
      notificationService(pool, log, feed, stopping.signal),
    ],
    ['notification.v1.TemplateService', notificationV1.TemplateServiceService, templateService(pool, log, writer)],
  ];
  for (const [, definition, implementation] of services) server.addService(definition, implementation as UntypedServiceImplementation);
  const health = new HealthImplementation({ '': 'SERVING', ...Object.fromEntries(services.map(([name]) => [name, 'SERVING' as const])) });
  health.addToServer(server);
  new ReflectionService(loadFileDescriptorSetFromBuffer(readFileSync(descriptorSetPath))).addToServer(server);

  let port: number;
  try {
    port = await new Promise<number>((resolve, reject) =>
      server.bindAsync(`${opts.host}:${opts.port}`, ServerCredentials.createInsecure(), (err, p) => (err ? reject(err) : resolve(p))),
    );
  } catch (err) {
    await feed?.stop();
    throw err;
  }
  log.info({ port, commands: commands !== null, streams: feed !== null }, 'query-api gRPC listening');
  return {
    port,
    stop: async () => {
      health.setStatus('', 'NOT_SERVING');
      // Open delivery-status streams would hold tryShutdown forever: end them first.
      stopping.abort();
      await new Promise<void>((resolve) => server.tryShutdown(() => resolve()));
      await feed?.stop();
    },
  };
}
