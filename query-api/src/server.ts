import { readFileSync } from 'node:fs';
import { Server, ServerCredentials, type ServiceDefinition, type UntypedServiceImplementation } from '@grpc/grpc-js';
import { loadFileDescriptorSetFromBuffer } from '@grpc/proto-loader';
import { ReflectionService } from '@grpc/reflection';
import { HealthImplementation } from 'grpc-health-check';
import { alertingV1, descriptorSetPath, notificationV1, ticketingV1 } from '@oncall/contracts/grpc';
import { AdHocNotifications } from './adapters/ad-hoc-notifications.js';
import { authInterceptor, DEFAULT_FAILURE_LIMIT } from './auth/interceptor.js';
import type { FailureLimit } from './domain/rate-limit.js';
import { ManualAlerts } from './adapters/manual-alerts.js';
import { alertService } from './alert-service.js';
import { decodingChecked, preEncoded } from './decoding.js';
import { escalationService } from './escalation-service.js';
import { notificationService } from './notification-service.js';
import { scheduleService } from './schedule-service.js';
import { scheduleWrites } from './schedule-writes.js';
import { templateService } from './template-service.js';
import { TicketCommands } from './adapters/ticket-commands.js';
import { openQueryApiDeps, type QueryApiDeps, type QueryApiDepsOptions } from './shared-deps.js';
import { ticketIntegrationService, ticketingService } from './ticket-service.js';

/** What openQueryApiDeps takes (used when no `shared` dependencies are given), and the server's own settings. */
export type GrpcServerOptions = QueryApiDepsOptions & {
  port: number;
  host: string;
  /** Failed authentications per client address before it is refused unchecked (default 20 a minute). */
  authFailureLimit?: FailureLimit;
  /** Serve gRPC reflection (GRPC_REFLECTION=true); off by default. */
  reflection?: boolean;
  /** TLS (PEM); with `clientCa`, clients must present a certificate it signed (mTLS). */
  tls?: Readonly<{ cert: Buffer; key: Buffer; clientCa?: Buffer }>;
};

function serverCredentials(tls: GrpcServerOptions['tls']): ServerCredentials {
  if (!tls) return ServerCredentials.createInsecure();
  return ServerCredentials.createSsl(tls.clientCa ?? null, [{ cert_chain: tls.cert, private_key: tls.key }], tls.clientCa !== undefined);
}

/**
 * The gRPC server. Reads come from the read model, alert commands go through the intake stream;
 * RPCs without an implementation answer UNIMPLEMENTED (docs/query-api.md lists them).
 */
export async function startGrpcServer(
  opts: GrpcServerOptions & { shared?: QueryApiDeps },
): Promise<{ port: number; stop: () => Promise<void> }> {
  const { log } = opts;
  // Without shared dependencies (tests, a gRPC-only server) it builds and closes its own.
  const shared = opts.shared ?? (await openQueryApiDeps(opts));
  const own = opts.shared === undefined;
  const { pool, feed, commands, writeDeps, consistency, writer, listPool, tokens, now } = shared;
  const manual = writeDeps && new ManualAlerts(writeDeps);
  const adHoc = writeDeps && new AdHocNotifications(writeDeps);
  const tickets = writeDeps && new TicketCommands(writeDeps);
  const stopping = new AbortController();
  // main.ts warns once for both servers when it builds the shared dependencies.
  if (own && !shared.users) log.warn('no user directory (USER_SERVICE_URL): configuration writes through the API do not check users');

  const server = new Server({
    interceptors: [authInterceptor({ tokens, log, failureLimit: opts.authFailureLimit ?? DEFAULT_FAILURE_LIMIT })],
  });
  // Methods an implementation leaves out answer UNIMPLEMENTED.
  const services: Array<[name: string, definition: ServiceDefinition, implementation: object]> = [
    [
      'alerting.v1.AlertService',
      preEncoded(alertingV1.AlertServiceService, 'listAlerts'),
      alertService(pool, listPool, log, commands, manual),
    ],
    [
      'alerting.v1.ScheduleService',
      alertingV1.ScheduleServiceService,
      {
        ...scheduleService(pool, log, now, consistency),
        ...scheduleWrites({ nc: opts.nc ?? shared.nc ?? undefined, users: shared.users, consistency, log, now }),
      },
    ],
    ['alerting.v1.EscalationService', alertingV1.EscalationServiceService, escalationService(pool, log, writer, consistency)],
    ['alerting.v1.TicketIntegrationService', alertingV1.TicketIntegrationServiceService, ticketIntegrationService(pool, log, tickets)],
    ['ticketing.v1.TicketingService', ticketingV1.TicketingServiceService, ticketingService(pool, log, tickets)],
    [
      'notification.v1.NotificationService',
      notificationV1.NotificationServiceService,
      notificationService(pool, log, feed, stopping.signal, adHoc),
    ],
    ['notification.v1.TemplateService', notificationV1.TemplateServiceService, templateService(pool, log, writer)],
  ];
  for (const [, definition, implementation] of services)
    server.addService(decodingChecked(definition), implementation as UntypedServiceImplementation);
  const health = new HealthImplementation({ '': 'SERVING', ...Object.fromEntries(services.map(([name]) => [name, 'SERVING' as const])) });
  health.addToServer(server);
  if (opts.reflection) new ReflectionService(loadFileDescriptorSetFromBuffer(readFileSync(descriptorSetPath))).addToServer(server);

  let port: number;
  try {
    port = await new Promise<number>((resolve, reject) =>
      server.bindAsync(`${opts.host}:${opts.port}`, serverCredentials(opts.tls), (err, p) => (err ? reject(err) : resolve(p))),
    );
  } catch (err) {
    if (own) await shared.close();
    throw err;
  }
  log.info(
    {
      port,
      host: opts.host,
      tls: opts.tls ? (opts.tls.clientCa ? 'mtls' : 'tls') : 'off',
      commands: commands !== null,
      streams: feed !== null,
      usersChecked: shared.users !== null,
    },
    'query-api gRPC listening',
  );
  return {
    port,
    stop: async () => {
      health.setStatus('', 'NOT_SERVING');
      // Open delivery-status streams would hold tryShutdown forever: end them first.
      stopping.abort();
      await new Promise<void>((resolve) => server.tryShutdown(() => resolve()));
      if (own) await shared.close();
    },
  };
}
