import { readFileSync } from 'node:fs';
import { Server, ServerCredentials, type UntypedServiceImplementation } from '@grpc/grpc-js';
import { loadFileDescriptorSetFromBuffer } from '@grpc/proto-loader';
import { ReflectionService } from '@grpc/reflection';
import { HealthImplementation } from 'grpc-health-check';
import type { DatabasePool } from 'slonik';
import { alertingV1, descriptorSetPath, notificationV1 } from '@oncall/contracts';
import type { Logger } from '@oncall/shared';
import { alertService } from './alert-service.js';

/**
 * The gRPC server: AlertService reads from the read model; the other services of the contracts
 * are registered so reflection lists them, and answer UNIMPLEMENTED until their issues land.
 */
export async function startGrpcServer(opts: { pool: DatabasePool; port: number; host: string; log: Logger }): Promise<{ port: number; stop: () => Promise<void> }> {
  const server = new Server();
  server.addService(alertingV1.AlertServiceService, alertService(opts.pool, opts.log) as UntypedServiceImplementation);
  for (const definition of [
    alertingV1.ScheduleServiceService,
    alertingV1.EscalationServiceService,
    alertingV1.TicketIntegrationServiceService,
    notificationV1.NotificationServiceService,
    notificationV1.TemplateServiceService,
  ]) {
    server.addService(definition, {});
  }
  const health = new HealthImplementation({ '': 'SERVING', 'alerting.v1.AlertService': 'SERVING' });
  health.addToServer(server);
  new ReflectionService(loadFileDescriptorSetFromBuffer(readFileSync(descriptorSetPath))).addToServer(server);

  const port = await new Promise<number>((resolve, reject) =>
    server.bindAsync(`${opts.host}:${opts.port}`, ServerCredentials.createInsecure(), (err, p) => (err ? reject(err) : resolve(p))),
  );
  opts.log.info({ port }, 'query-api gRPC listening');
  return {
    port,
    stop: async () => {
      health.setStatus('', 'NOT_SERVING');
      await new Promise<void>((resolve) => server.tryShutdown(() => resolve()));
    },
  };
}
